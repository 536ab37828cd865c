"""The change read side: the list, the week's calendar, one change's detail and the
standard-change templates. Typed rows (TypedDicts: the CLI prints them as JSON, keys are a
contract); nothing here writes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import NotRequired, TypedDict

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from pob_tui.config import Settings
from pob_tui.db import settings_of
from pob_tui.errors import InvalidInput
from pob_tui.i18n import _
from pob_tui.models import (
    Agent,
    ChangeRequest,
    ChangeTemplate,
    ConfigItem,
    Incident,
    Person,
    Team,
    TicketEvent,
    pk,
    utcnow,
)
from pob_tui.models.change import CHANGE_STATUSES, CHANGE_TYPES
from pob_tui.reports.cab import Conflict
from pob_tui.services.changes.conflicts import conflicts_of, find_conflicts, freeze_hits
from pob_tui.services.changes.lifecycle import review_required
from pob_tui.services.changes.records import ACTIVE_STATUSES, change_ci_ids, get_change
from pob_tui.services.changes.risk import Answer
from pob_tui.services.impact import ImpactSummary, analyse_impact
from pob_tui.sla.workdays import local_date


class ChangeRow(TypedDict):
    """A change in the list and the calendar."""

    id: int
    number: str
    type: str
    status: str
    risk: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    title: str
    team: str | None
    implementer: str | None


class CalendarRow(ChangeRow):
    """A change in the week's calendar, with what it clashes with (live changes only)."""

    conflicts: list[Conflict]


class TemplateRef(TypedDict):
    id: int
    name: str


class ChangeEventRow(TypedDict):
    """One line of a change's history."""

    at: datetime
    kind: str
    field: str | None
    old: str | None
    new: str | None
    comment: str | None
    actor: str | None


class ChangeDetail(TypedDict):
    """`pob change show --format json` (a contract) and the detail screen. `impact`,
    `conflicts` and `freeze` are there when asked for with the impact (the default)."""

    number: str
    type: str
    status: str
    title: str
    description: str | None
    reason: str | None
    requester: str | None
    team: str | None
    implementer: str | None
    template: str | None
    risk: str | None
    risk_reasons: list[str]
    risk_answers: dict[str, Answer]
    planned_start: datetime | None
    planned_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    implementation_plan: str | None
    test_plan: str | None
    backout_plan: str | None
    emergency_reason: str | None
    outcome: str | None
    review_note: str | None
    review_required: bool
    cis: list[str]
    created_at: datetime
    submitted_at: datetime | None
    updated_at: datetime
    version: int
    impact: NotRequired[ImpactSummary]
    conflicts: NotRequired[list[Conflict]]
    freeze: NotRequired[list[str]]
    incidents: list[str]
    events: list[ChangeEventRow]


def list_templates(session: Session) -> list[TemplateRef]:
    """The approved standard-change templates, by name."""
    return [TemplateRef(id=pk(t), name=t.name) for t in session.execute(
        select(ChangeTemplate).where(col(ChangeTemplate.active))
        .order_by(col(ChangeTemplate.name))).scalars()]


def _list_stmt() -> Select[tuple[ChangeRequest, str | None, str | None]]:
    """Each change with its team's name and its implementer's name: one query for a page."""
    impl_person = select(col(Person.first_name) + " " + col(Person.last_name)).join(
        Agent, col(Agent.person_id) == Person.id).where(
        col(Agent.id) == ChangeRequest.implementer_id).correlate(ChangeRequest).scalar_subquery()
    return (select(ChangeRequest, col(Team.name), impl_person.label("implementer"))
            .outerjoin(Team, col(Team.id) == ChangeRequest.owner_team_id))


def _row(ch: ChangeRequest, team: str | None, implementer: str | None) -> ChangeRow:
    return ChangeRow(id=pk(ch), number=ch.number, type=ch.type, status=ch.status, risk=ch.risk,
                     planned_start=ch.planned_start, planned_end=ch.planned_end,
                     title=ch.title, team=team, implementer=implementer)


def list_changes(session: Session, *, status: str | None = None, type: str | None = None,
                 search: str | None = None, limit: int = 50, offset: int = 0
                 ) -> list[ChangeRow]:
    """Newest first (by number), one page."""
    stmt = _list_stmt()
    if status:
        wanted = [s.strip() for s in status.split(",") if s.strip()]
        bad = [s for s in wanted if s not in CHANGE_STATUSES and s != "open"]
        if bad:
            raise InvalidInput(_("unknown status {status}; expected one of {choices}").format(
                status=repr(bad[0]), choices=", ".join(CHANGE_STATUSES)))
        if "open" in wanted:
            wanted = [*wanted, "draft", *ACTIVE_STATUSES]
        stmt = stmt.where(col(ChangeRequest.status).in_(wanted))
    if type:
        if type not in CHANGE_TYPES:
            raise InvalidInput(_("unknown change type {type}").format(type=repr(type)))
        stmt = stmt.where(col(ChangeRequest.type) == type)
    if search:
        stmt = stmt.where(func.lower(col(ChangeRequest.title)).contains(search.lower().strip()))
    stmt = stmt.order_by(col(ChangeRequest.id).desc()).limit(limit).offset(offset)
    return [_row(ch, team, impl) for ch, team, impl in session.execute(stmt)]


def week_start(d: date) -> date:
    """The Monday of `d`'s week."""
    return d - timedelta(days=d.weekday())


def change_calendar(session: Session, week: date, *, settings: Settings | None = None,
                    with_conflicts: bool = True) -> list[CalendarRow]:
    """Changes (not drafts nor rejected ones) whose window touches the local week starting
    on the Monday of `week`, in start order, each with its conflicts: one query for the
    week's changes and a fixed few for all their conflicts (`conflicts_of`)."""
    s = settings or settings_of(session)
    monday = week_start(week)
    lo = datetime.combine(monday, time(0), tzinfo=s.tzinfo).astimezone(UTC)
    hi = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=s.tzinfo).astimezone(UTC)
    stmt = (_list_stmt().where(col(ChangeRequest.planned_start) < hi,
                               col(ChangeRequest.planned_end) > lo,
                               col(ChangeRequest.status).not_in(("draft", "rejected")))
            .order_by(col(ChangeRequest.planned_start), col(ChangeRequest.number)))
    found = list(session.execute(stmt))
    live = [ch for ch, _t, _i in found if ch.status in ACTIVE_STATUSES]
    clashes = dict(zip((pk(ch) for ch in live), conflicts_of(session, live), strict=True)
                   ) if with_conflicts else {}
    return [CalendarRow(**_row(ch, team, impl), conflicts=clashes.get(pk(ch), []))
            for ch, team, impl in found]


def change_detail(session: Session, number: str, *, settings: Settings | None = None,
                  with_impact: bool = True) -> ChangeDetail:
    """Everything about one change: its fields, CIs, history and the incidents it caused;
    with the impact, what it reaches, clashes with and which freezes it falls in."""
    settings = settings or settings_of(session)
    change = get_change(session, number)
    cis = change_ci_ids(session, change.id)
    ci_names = list(session.execute(select(col(ConfigItem.name))
                                    .where(col(ConfigItem.id).in_(cis))
                                    .order_by(col(ConfigItem.name))).scalars()) if cis else []
    team = session.get(Team, change.owner_team_id) if change.owner_team_id else None
    impl = session.get(Agent, change.implementer_id) if change.implementer_id else None
    requester = session.get(Person, change.requester_id) if change.requester_id else None
    template = session.get(ChangeTemplate, change.template_id) if change.template_id else None
    data = ChangeDetail(
        number=change.number, type=change.type, status=change.status,
        title=change.title, description=change.description, reason=change.reason,
        requester=requester.username if requester else None,
        team=team.name if team else None, implementer=impl.username if impl else None,
        template=template.name if template else None,
        risk=change.risk, risk_reasons=json.loads(change.risk_reasons or "[]"),
        risk_answers=json.loads(change.risk_answers or "{}"),
        planned_start=change.planned_start, planned_end=change.planned_end,
        actual_start=change.actual_start, actual_end=change.actual_end,
        implementation_plan=change.implementation_plan, test_plan=change.test_plan,
        backout_plan=change.backout_plan, emergency_reason=change.emergency_reason,
        outcome=change.outcome, review_note=change.review_note,
        review_required=review_required(change), cis=ci_names,
        created_at=change.created_at, submitted_at=change.submitted_at,
        updated_at=change.updated_at, version=change.version, incidents=[], events=[],
    )
    if with_impact:
        impact = analyse_impact(session, cis, local_date(change.planned_start or utcnow(),
                                                         settings))
        data["impact"] = impact.as_dict()
        # a draft shows what it would clash with before it is submitted
        data["conflicts"] = (find_conflicts(session, change, impact, cis=cis)
                             if change.status in (*ACTIVE_STATUSES, "draft") else [])
        if change.planned_start and change.planned_end:
            data["freeze"] = freeze_hits(session, change.planned_start, change.planned_end,
                                         settings)
    data["incidents"] = list(session.execute(
        select(col(Incident.number)).where(col(Incident.caused_by_change_id) == change.id)
        .order_by(col(Incident.number))).scalars())
    data["events"] = [
        ChangeEventRow(at=e.at, kind=e.kind, field=e.field, old=e.old_value, new=e.new_value,
                       comment=e.comment, actor=name)
        for e, name in session.execute(
            select(TicketEvent, col(Agent.username))
            .outerjoin(Agent, col(Agent.id) == TicketEvent.actor_id)
            .where(col(TicketEvent.ticket_type) == "change",
                   col(TicketEvent.ticket_id) == change.id)
            .order_by(col(TicketEvent.at), col(TicketEvent.id)))]
    return data
