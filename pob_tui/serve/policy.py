"""What a command sent over SSH may be, and how its output is shown.

The command line is split as a POSIX shell would (`shlex.split`), but no shell runs it:
`;`, `|` and `$(...)` are just characters in a word. Options that would make the server read
or write a file by name, or use another database, are refused here, before any process
starts; the command itself refuses file names other than `-` when it runs remote
(CommandContext.remote), a second line of defence.
"""

from __future__ import annotations

import codecs
import re
import shlex
from dataclasses import dataclass

# Commands that manage the server, its database or its keys stay on the server.
REFUSED_COMMANDS = frozenset({"serve", "db", "demo"})
# Global options that pick another configuration or database (argparse accepts any
# unambiguous prefix, e.g. `--conf`, so prefixes are refused too).
REFUSED_LONG = ("--config", "--db", "--output")
INTEGRATION_COMMAND = ("call", "ringing")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Refused(Exception):
    """A command pob serve will not run; str() is the one line shown to the client."""


@dataclass(frozen=True)
class Plan:
    """What the session's program is started with (after `python -m pob_tui`)."""

    argv: tuple[str, ...]

    @property
    def tui(self) -> bool:
        return not self.argv


def _positionals(words: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word == "--lang":
            skip = True
            continue
        if word.startswith("-") and word != "-":
            continue
        out.append(word)
    return out


def plan_exec(command: str | None, *, integration: bool, pty: bool) -> Plan:
    """The argv for a session: empty for the TUI (a terminal and no command), else the CLI
    command, checked. Raises Refused with the reason."""
    if command is None or not command.strip():
        if integration:
            raise Refused("this key may run only `call ringing`")
        if not pty:
            raise Refused("give a pob command (e.g. `incident list`), or use ssh -t for the app")
        return Plan(())
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise Refused(f"cannot split the command: {exc}") from None
    if words and words[0] == "pob":
        words = words[1:]
    if not words:
        return plan_exec(None, integration=integration, pty=pty)
    for word in words:
        name = word.split("=", 1)[0]
        if name.startswith("--") and len(name) > 2 and any(
                full.startswith(name) for full in REFUSED_LONG):
            raise Refused(f"{name} is refused over ssh: pob serve uses its own configuration, "
                          "database and standard output")
        if word.startswith("-") and not word.startswith("--") and "o" in word[1:2]:
            raise Refused("-o is refused over ssh: output comes on standard output")
    positionals = _positionals(words)
    if not positionals:
        raise Refused("give a pob command (e.g. `incident list`)")
    head = positionals[0]
    if integration and tuple(positionals[:2]) != INTEGRATION_COMMAND:
        raise Refused("this key may run only `call ringing`")
    if head in REFUSED_COMMANDS or (head == "agent" and positionals[1:2] == ["key"]):
        name = " ".join(positionals[:2]) if head == "agent" else head
        raise Refused(f"`pob {name}` is refused over ssh: run it on the server")
    if head == "import" and len(positionals) >= 3 and positionals[2] != "-":
        raise Refused("over ssh the CSV comes on standard input: "
                      f"`pob import {positionals[1]} - < FILE.csv`")
    return Plan(tuple(words))


class VisibleText:
    """Makes control characters in a byte stream visible, as `cat -v` does (ESC is `^[`),
    so output cannot move the cursor, retitle or reprogram the client's terminal. Newline
    and tab pass. Incremental, because a UTF-8 character may be split between reads."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    @staticmethod
    def _show(ch: str) -> str:
        code = ord(ch)
        if code < 0x20:
            return ch if ch in "\n\t" else "^" + chr(code + 0x40)
        if code == 0x7F:
            return "^?"
        if 0x80 <= code < 0xA0:
            return "M-^" + chr(code - 0x80 + 0x40)
        return ch

    def feed(self, data: bytes, final: bool = False) -> bytes:
        text = _CONTROL.sub(lambda m: self._show(m.group()), self._decoder.decode(data, final))
        return text.encode("utf-8")
