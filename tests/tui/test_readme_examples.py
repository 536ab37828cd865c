"""Issue 13 item 11: the README's key sequences for a common call and a quick call work on
`pob demo --scale small` (seed 1, as `pob demo` makes it). SQLite only: the keys are the
same on both databases and the demo takes a while to build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.tui.conftest import settle
from tests.tui.desk_helpers import recorded

README = Path(__file__).resolve().parents[2] / "README.md"
KEYS = {"n", "enter", "ctrl+s", "ctrl+g", "ctrl+r", "escape", "tab"}


def readme_sequence(section: str) -> list[str]:
    """The first code line starting with `n  ` under `### {section}`."""
    text = README.read_text(encoding="utf-8")
    body = text.split(f"### {section}\n", 1)[1].split("\n### ", 1)[0]
    line = next(x for x in re.findall(r"```\n(.*?)\n```", body, re.S) if x.startswith("n  "))
    return [part.strip() for part in line.split("  ") if part.strip()]


@pytest.fixture(scope="module")
def readme_demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    from pob_tui.demo import generate

    path = tmp_path_factory.mktemp("readme") / "demo.sqlite3"
    url = f"sqlite:///{path}"
    generate(url, scale="small", seed=1, progress=None)
    return url


def first_line_agent(url: str) -> str:
    from sqlalchemy import select

    from pob_tui.db import Database, make_engine
    from pob_tui.models import Agent, AgentRole

    db = Database(make_engine(url))
    with db.session() as s:
        name = s.execute(select(Agent.username).join(AgentRole, AgentRole.agent_id == Agent.id)
                         .where(AgentRole.role == "first_line").order_by(Agent.id)
                         ).scalars().first()
    db.dispose()
    assert name
    return str(name)


async def play(pilot, parts: list[str]) -> int:  # type: ignore[no-untyped-def]
    """Press the README's keys; returns how many keys beyond the typed text."""
    extra = 0
    for part in parts:
        if part in KEYS:
            extra += 1
            await pilot.press(part)
            await settle(pilot)
        else:
            await pilot.press(*["space" if c == " " else c for c in part])
            await settle(pilot)
    return extra


@pytest.mark.parametrize(("section", "keys", "said"), [
    ("Logging a call", 4, "Logged INC-"),
    ("Quick calls", 5, "resolved at first line"),
])
async def test_readme_key_sequence_works_on_the_small_demo(readme_demo, make_app, section,
                                                           keys, said) -> None:
    from pob_tui.services.identity import Actor
    from pob_tui.tui.screens.queue import QueueScreen

    parts = readme_sequence(section)
    app = make_app(readme_demo, actor=Actor(first_line_agent(readme_demo)))
    shown = recorded(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        extra = await play(pilot, parts)
        assert isinstance(app.screen, QueueScreen), shown
        assert any(said in m for m in shown), shown
    assert extra == keys  # the README counts `n` too
