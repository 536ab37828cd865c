"""What pob serve lets a command be, and how output is shown (pure, no server)."""

from __future__ import annotations

import pytest

from pob_tui.serve.policy import Refused, VisibleText, plan_exec


@pytest.mark.parametrize(("command", "argv"), [
    ("incident list --format json", ("incident", "list", "--format", "json")),
    ("pob incident list", ("incident", "list")),
    ("incident show 'INC-1; rm -rf /' $(id)", ("incident", "show", "INC-1; rm -rf /", "$(id)")),
    ("import people - --format json", ("import", "people", "-", "--format", "json")),
    ("--lang nb incident list", ("--lang", "nb", "incident", "list")),
    ("agent list --format json", ("agent", "list", "--format", "json")),
])
def test_allowed(command: str, argv: tuple[str, ...]) -> None:
    assert plan_exec(command, integration=False, pty=False).argv == argv


@pytest.mark.parametrize(("command", "needle"), [
    ("--db sqlite:////x incident list", "--db"),
    ("incident list --d=x", "--d"),
    ("--config=/etc/passwd incident list", "--config"),
    ("--co /x incident list", "--co"),
    ("export people -o /tmp/x", "-o"),
    ("export people -o/tmp/x", "-o"),
    ("export people --out /tmp/x", "--out"),
    ("import people /etc/passwd", "standard input"),
    ("serve", "pob serve"),
    ("--lang nb db upgrade", "pob db"),
    ("agent key add anne -", "pob agent key"),
    ("demo", "pob demo"),
    ("incident 'unbalanced", "cannot split"),
])
def test_refused(command: str, needle: str) -> None:
    with pytest.raises(Refused, match=None) as info:
        plan_exec(command, integration=False, pty=False)
    assert needle in str(info.value)


def test_terminal_and_integration() -> None:
    assert plan_exec(None, integration=False, pty=True).tui
    with pytest.raises(Refused, match="ssh -t"):
        plan_exec(None, integration=False, pty=False)
    assert plan_exec("call ringing --number 4791234567", integration=True, pty=False).argv[:2] \
        == ("call", "ringing")
    for command in (None, "incident list", "--lang nb call list", "call"):
        with pytest.raises(Refused, match="only `call ringing`"):
            plan_exec(command, integration=True, pty=True)


def test_control_characters_made_visible() -> None:
    shown = VisibleText()
    out = shown.feed(b"a\x1b[2Jb\x07\tc\n\x7f") + shown.feed("ø\u009b".encode()[:1])
    out += shown.feed("ø\u009b".encode()[1:], final=True)
    assert out.decode() == "a^[[2Jb^G\tc\n^?øM-^["
