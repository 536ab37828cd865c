"""Working one incident from its detail screen: one use case per action, each a typed
request, carried out by `act` in the caller's transaction.

The screen's save worker calls `act` once (through `retry.run_with_retry`); `act` applies
the agent's "keep mine" choices after an edit conflict first (`merge.prepare`), then the
action against the version the agent saw, so a stale choice never overwrites another
agent's save. The rules, role checks and audit are the services' (`incidents`, `problems`).
The requests are plain dataclasses and the ORM is imported inside `act`, so a screen can
name them at import time without loading SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlmodel import Session

    from pob_tui.services.identity import Actor


@dataclass(frozen=True)
class Comment:
    """A comment to the caller (the first response if none was given yet)."""

    text: str


@dataclass(frozen=True)
class WorkNote:
    """An internal note, with the minutes spent."""

    text: str
    minutes: int | None = None


@dataclass(frozen=True)
class Assign:
    """To a team, a person, or the acting agent (`to_me`)."""

    team: str | int | None = None
    assignee: str | int | None = None
    to_me: bool = False


@dataclass(frozen=True)
class Escalate:
    team: str | int
    reason: str


@dataclass(frozen=True)
class SetStatus:
    """Start work, wait, close, cancel or reopen (`note`: why, where the rule asks)."""

    status: str
    note: str | None = None


@dataclass(frozen=True)
class Resolve:
    code: str
    note: str


@dataclass(frozen=True)
class Rate:
    """The caller's satisfaction score 1-6."""

    score: int
    comment: str | None = None


@dataclass(frozen=True)
class LinkProblem:
    """To problem `problem`, or to a new one titled `title`."""

    problem: str | None = None
    title: str | None = None


Action = Comment | WorkNote | Assign | Escalate | SetStatus | Resolve | Rate | LinkProblem


@dataclass(frozen=True)
class Merge:
    """After a conflict: what the other agent changed (field -> (mine, theirs)) and the
    fields the agent keeps as they had them."""

    changes: Mapping[str, tuple[object, object]]
    keep: Sequence[str]


@dataclass(frozen=True)
class Done:
    """What an action came to, for the confirmation line."""

    number: str
    problem: str | None = None
    """LinkProblem: the problem linked to (new or existing)."""
    follow_up: bool = False
    """Rate: a low score created a follow-up for `follow_up_for` (None: no manager known)."""
    follow_up_for: str | None = None


def act(session: Session, actor: Actor, number: str, action: Action, *,
        expected_version: int | None = None, seen: Mapping[str, Any] | None = None,
        merge: Merge | None = None, now: datetime | None = None) -> Done:
    """Carry out `action` on incident `number` as the agent saw it (`expected_version`,
    `seen`; comments, notes, scores and links add rather than overwrite and ignore them).
    ConflictError when someone saved in between; nothing is written then."""
    from pob_tui.models import utcnow
    from pob_tui.services import incidents, problems
    from pob_tui.services import merge as merging

    now = now or utcnow()
    if merge is not None:
        lock = merging.prepare(session, actor, number, merge.changes, merge.keep, now=now)
        expected_version, seen = lock["expected_version"], lock["seen"]
    locked: dict[str, Any] = {"expected_version": expected_version, "seen": seen}
    match action:
        case Comment(text=text):
            inc = incidents.comment(session, actor, number, text, now=now)
        case WorkNote(text=text, minutes=minutes):
            inc = incidents.comment(session, actor, number, text, work_note=True,
                                    minutes=minutes, now=now)
        case Assign(team=team, assignee=assignee, to_me=to_me):
            inc = incidents.assign(session, actor, number, team=team, assignee=assignee,
                                   to_me=to_me, now=now, **locked)
        case Escalate(team=team, reason=reason):
            inc = incidents.escalate(session, actor, number, team=team, reason=reason,
                                     now=now, **locked)
        case SetStatus(status=status, note=note):
            inc = incidents.set_status(session, actor, number, status, note=note, now=now,
                                       **locked)
        case Resolve(code=code, note=note):
            inc = incidents.resolve(session, actor, number, code=code, note=note, now=now,
                                    **locked)
        case Rate(score=score, comment=text):
            follow_up = incidents.record_satisfaction(session, actor, number, score, text,
                                                      now=now)
            manager = _person_name(session, follow_up.manager_id) if follow_up else None
            return Done(number.upper(), follow_up=follow_up is not None,
                        follow_up_for=manager)
        case LinkProblem(problem=problem, title=title):
            linked = problems.link_or_create(session, actor, [number], problem=problem,
                                             title=title, now=now)
            return Done(number.upper(), problem=linked.problem)
    return Done(inc.number)


def _person_name(session: Session, person_id: int | None) -> str | None:
    from sqlalchemy import select
    from sqlmodel import col

    from pob_tui.models import Person

    if person_id is None:
        return None
    row = session.execute(select(col(Person.first_name).label("first"),
                                 col(Person.last_name).label("last"))
                          .where(col(Person.id) == person_id)).first()
    return f"{row.first} {row.last}" if row else None
