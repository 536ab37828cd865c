"""Change enablement: requests, the state rules, risk, impact analysis, conflicts, calendar.

Every change of a change request writes a `TicketEvent(ticket_type="change")` and bumps
`version`. The CAB side (meetings, agenda, votes, decisions) lives in `services/cab.py`.

Risk (documented in the README, tested in tests/test_changes.py) is a points score:

    questionnaire   user_impact  none 0 / some 1 / many 2
                    complexity   low 0 / medium 1 / high 2
                    back-out possible? no +2;  tested? no +1;  done before? no +1
    impact          people >= 5,000 +2, >= 500 +1;  services >= 3 +1
    lead time       (normal changes) < 2 working days +2, < 5 working days +1
    type            emergency +2 (no normal lead time, less testing)

    0-2 low, 3-5 medium, 6 or more high; standard changes from a template are low.

Lead time counts the working days d with submitted < d <= planned start (local dates),
where a working day is one the Norwegian office calendar is open (weekdays, minus public
holidays and the configured closing days).

Impact analysis (what a change on its CIs reaches, with the path that explains each item)
lives in `services/impact.py`, shared with the CMDB and outages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from pob_tui.config import Settings
from pob_tui.db import settings_of
from pob_tui.errors import ConflictError, InvalidInput, NotFound, TransitionNotAllowed
from pob_tui.models import (
    Agent,
    ChangeCi,
    ChangeRequest,
    ChangeTemplate,
    CiRelation,
    ConfigItem,
    FreezeWindow,
    Incident,
    Person,
    ServiceCi,
    Team,
    TicketEvent,
    utcnow,
)
from pob_tui.models.change import CHANGE_STATUSES, CHANGE_TYPES
from pob_tui.services.audit import record_ticket_event
from pob_tui.services.identity import Actor
from pob_tui.services.impact import CHUNK, MAX_DEPTH, Impact, analyse_impact, walk
from pob_tui.services.numbers import next_number
from pob_tui.services.permissions import require
from pob_tui.sla import workdays

# status -> statuses it may move to (DESIGN.md's change states).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("submitted",),
    "submitted": ("assessed",),
    "assessed": ("awaiting_cab", "approved"),
    "awaiting_cab": ("approved", "rejected", "awaiting_cab"),
    "approved": ("scheduled", "in_progress", "implemented", "failed", "backed_out"),
    "rejected": ("draft", "closed"),
    "scheduled": ("scheduled", "in_progress", "implemented", "failed", "backed_out"),
    "in_progress": ("implemented", "failed", "backed_out"),
    "implemented": ("reviewed", "closed"),
    "failed": ("reviewed",),
    "backed_out": ("reviewed",),
    "reviewed": ("closed",),
    "closed": (),
}
_WHY_NOT = {
    "draft": "it is a draft; submit it first",
    "submitted": "it is still being assessed",
    "assessed": "it has not been to the CAB",
    "awaiting_cab": "it is waiting for the CAB's decision",
    "rejected": "the CAB rejected it; revise it as a draft or close it",
    "closed": "it is closed",
    "failed": "it failed; a post-implementation review is required first",
    "backed_out": "it was backed out; a post-implementation review is required first",
}
ACTIVE_STATUSES = ("submitted", "assessed", "awaiting_cab", "approved", "scheduled",
                   "in_progress")
OUTCOMES = ("successful", "failed", "backed_out")
OUTCOME_STATUS = {"successful": "implemented", "failed": "failed", "backed_out": "backed_out"}

# --- risk ----------------------------------------------------------------------------------

QUESTIONS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "user_impact": ("Will users notice the change during the window?", ("none", "some", "many")),
    "complexity": ("How complex is the change?", ("low", "medium", "high")),
    "backout": ("Can the change be backed out?", (True, False)),
    "tested": ("Has it been tested in a test environment?", (True, False)),
    "done_before": ("Has the team done this change before?", (True, False)),
}
DEFAULT_ANSWERS: dict[str, Any] = {"user_impact": "some", "complexity": "medium",
                                   "backout": True, "tested": True, "done_before": True}
LOW_MAX, MEDIUM_MAX = 2, 5


@dataclass(frozen=True)
class Risk:
    level: str
    score: int
    reasons: tuple[str, ...]


def check_answers(answers: dict[str, Any] | None) -> dict[str, Any]:
    """All five answers, defaults filled in; unknown questions or values refused."""
    out = dict(DEFAULT_ANSWERS)
    for key, value in (answers or {}).items():
        if key not in QUESTIONS:
            raise InvalidInput(f"unknown risk question {key!r}; expected one of "
                               + ", ".join(QUESTIONS))
        allowed = QUESTIONS[key][1]
        if isinstance(value, str) and allowed[0] is True:
            low = value.strip().lower()
            value = {"yes": True, "true": True, "y": True, "no": False, "false": False,
                     "n": False}.get(low, value)
        if value not in allowed:
            raise InvalidInput(f"risk answer {key}={value!r}; expected one of "
                               + ", ".join("yes" if a is True else "no" if a is False else a
                                           for a in allowed))
        out[key] = value
    return out


def assess_risk(answers: dict[str, Any] | None, *, people: int = 0, services: int = 0,
                lead_working_days: int | None = None, change_type: str = "normal") -> Risk:
    """The documented formula (module docstring): level, score and the reasons."""
    a = check_answers(answers)
    if change_type == "standard":
        return Risk("low", 0, ("standard change from a pre-approved template",))
    score = 0
    reasons: list[str] = []

    def add(points: int, reason: str) -> None:
        nonlocal score
        score += points
        reasons.append(reason)

    if a["user_impact"] == "many":
        add(2, "many users notice the change")
    elif a["user_impact"] == "some":
        add(1, "some users notice the change")
    if a["complexity"] == "high":
        add(2, "high complexity")
    elif a["complexity"] == "medium":
        add(1, "medium complexity")
    if not a["backout"]:
        add(2, "cannot be backed out")
    if not a["tested"]:
        add(1, "not tested")
    if not a["done_before"]:
        add(1, "not done before")
    if people >= 5000:
        add(2, f"touches services with {people:,} users")
    elif people >= 500:
        add(1, f"touches services with {people:,} users")
    if services >= 3:
        add(1, f"affects {services} services")
    if change_type == "emergency":
        add(2, "emergency change")
    elif lead_working_days is not None:
        if lead_working_days < 2:
            add(2, "less than 2 working days' lead time")
        elif lead_working_days < 5:
            add(1, "less than 5 working days' lead time")
    level = "low" if score <= LOW_MAX else "medium" if score <= MEDIUM_MAX else "high"
    return Risk(level, score, tuple(reasons))


RISK_ORDER = {"high": 0, "medium": 1, "low": 2, None: 3}

# --- working days --------------------------------------------------------------------------


def is_working_day(d: date, settings: Settings) -> bool:
    """Open on the configured office calendar (sla.workdays holds the calendar code)."""
    return workdays.is_working_day(d, tuple(settings.closing_days), settings.timezone)


def working_days_between(start: date, end: date, settings: Settings) -> int:
    return workdays.working_days_between(start, end, tuple(settings.closing_days),
                                         settings.timezone)


def add_working_days(d: date, n: int, settings: Settings) -> date:
    return workdays.add_working_days(d, n, tuple(settings.closing_days), settings.timezone)


def local_date(at: datetime, settings: Settings) -> date:
    return at.astimezone(settings.tzinfo).date()


def parse_local(text: str | datetime | None, settings: Settings,
                what: str = "time") -> datetime | None:
    """"2026-12-01 18:00" (local time) -> aware UTC datetime."""
    if text is None or isinstance(text, datetime):
        if isinstance(text, datetime) and text.tzinfo is None:
            raise InvalidInput(f"{what}: a time zone is needed")
        return text.astimezone(UTC) if text else None
    value = text.strip()
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("T", " "))
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a time like \"2026-12-01 18:00\"") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=settings.tzinfo)
    return dt.astimezone(UTC)


# --- impact analysis -----------------------------------------------------------------------
# One implementation for changes, the CAB and the CMDB: services/impact.py.


def _chunks(ids: Iterable[int], size: int = CHUNK) -> Iterable[list[int]]:
    items = list(ids)
    for i in range(0, len(items), size):
        yield items[i:i + size]


def impacted_cis(session: Session, ci_ids: Iterable[int], depth: int = MAX_DEPTH) -> set[int]:
    """The changed CIs plus every CI their change reaches (services/impact.py)."""
    return set(walk(session, ci_ids, depth))


# --- lookups -------------------------------------------------------------------------------


def get_change(session: Session, number: str, *, for_update: bool = False) -> ChangeRequest:
    stmt = select(ChangeRequest).where(ChangeRequest.number == number.strip().upper())
    if for_update:
        stmt = stmt.with_for_update()
    change = session.execute(stmt).scalars().first()
    if change is None:
        raise NotFound(f"unknown change {number!r}")
    return change


def _check_version(change: ChangeRequest, expected_version: int | None) -> None:
    """ConflictError if someone saved `change` since the version the agent saw."""
    if expected_version is not None and change.version != expected_version:
        raise ConflictError(
            f"{change.number} was changed by someone else since you opened it (version "
            f"{expected_version} -> {change.version}); review their change and try again")


def change_ci_ids(session: Session, change_id: int) -> list[int]:
    return list(session.execute(select(ChangeCi.ci_id).where(ChangeCi.change_id == change_id)
                                .order_by(ChangeCi.ci_id)).scalars())


def _find_ci(session: Session, ref: str | int) -> ConfigItem:
    ci = (session.get(ConfigItem, ref) if isinstance(ref, int) else session.execute(
        select(ConfigItem).where(ConfigItem.name == str(ref).strip())).scalars().first())
    if ci is None:
        raise NotFound(f"unknown configuration item {ref!r}")
    return ci


def _find_team(session: Session, ref: str | int) -> Team:
    from pob_tui.services.incidents import find_team

    return find_team(session, ref)


def _find_agent(session: Session, ref: str | int) -> Agent:
    from pob_tui.services.incidents import find_agent

    return find_agent(session, ref)


def _find_template(session: Session, ref: str | int) -> ChangeTemplate:
    tpl = (session.get(ChangeTemplate, ref) if isinstance(ref, int) else session.execute(
        select(ChangeTemplate).where(func.lower(ChangeTemplate.name)
                                     == str(ref).strip().lower())).scalars().first())
    if tpl is None:
        raise NotFound(f"unknown standard-change template {ref!r}")
    if not tpl.active:
        raise InvalidInput(f"template {tpl.name!r} is no longer approved")
    return tpl


def list_templates(session: Session) -> list[dict[str, Any]]:
    return [{"id": t.id, "name": t.name} for t in session.execute(
        select(ChangeTemplate).where(ChangeTemplate.active).order_by(ChangeTemplate.name))
        .scalars()]


# --- freeze windows ------------------------------------------------------------------------


def freeze_hits(session: Session, start: datetime, end: datetime,
                settings: Settings | None = None) -> list[str]:
    """Names of the freeze windows (config and table) that the window touches."""
    settings = settings or settings_of(session)
    s = settings
    names = list(session.execute(
        select(FreezeWindow.name).where(FreezeWindow.starts_at < end,
                                        FreezeWindow.ends_at > start)
        .order_by(FreezeWindow.starts_at)).scalars())
    first, last = local_date(start, s), local_date(end, s)
    names += [fw.name for fw in s.freeze if fw.start <= last and fw.end >= first]
    return names


# --- creating and moving a change ----------------------------------------------------------


@dataclass
class NewChange:
    title: str
    type: str = "normal"
    cis: Sequence[str | int] = ()
    planned_start: str | datetime | None = None
    planned_end: str | datetime | None = None
    description: str | None = None
    reason: str | None = None
    requester: str | int | None = None  # person username or id; default the actor
    owner_team: str | int | None = None
    implementer: str | int | None = None  # agent username; default the actor
    template: str | int | None = None
    implementation_plan: str | None = None
    test_plan: str | None = None
    backout_plan: str | None = None
    emergency_reason: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)


def _check_window(start: datetime | None, end: datetime | None) -> None:
    if (start is None) != (end is None):
        raise InvalidInput("give both the planned start and the planned end")
    if start is not None and end is not None and end <= start:
        raise InvalidInput("the planned end must be after the planned start")


def create_change(session: Session, actor: Actor, data: NewChange, *,
                  now: datetime | None = None, settings: Settings | None = None
                  ) -> ChangeRequest:
    """A draft change request. Validates everything before writing anything."""
    settings = settings or settings_of(session)
    agent_id = require(session, actor, "change.request")
    now = now or utcnow()
    title = (data.title or "").strip()
    if not title:
        raise InvalidInput("title is required")
    if len(title) > 200:
        raise InvalidInput(f"title is {len(title)} characters; at most 200")
    if data.type not in CHANGE_TYPES:
        raise InvalidInput(f"unknown change type {data.type!r}; expected one of "
                           + ", ".join(CHANGE_TYPES))
    template = None
    if data.type == "standard":
        if data.template is None:
            raise InvalidInput("a standard change needs a pre-approved template (--template)")
        template = _find_template(session, data.template)
    elif data.template is not None:
        raise InvalidInput("only standard changes come from a template")
    start = parse_local(data.planned_start, settings, "planned start")
    end = parse_local(data.planned_end, settings, "planned end")
    _check_window(start, end)
    answers = check_answers(data.answers)
    cis = [_find_ci(session, ref) for ref in data.cis]
    requester_id = None
    if data.requester is not None:
        from pob_tui.services.incidents import find_person

        requester_id = find_person(session, data.requester).id
    else:
        requester_id = session.get(Agent, agent_id).person_id  # type: ignore[union-attr]
    team_id = (_find_team(session, data.owner_team).id if data.owner_team is not None
               else (template.owner_team_id if template else None) or actor.team_id)
    implementer_id = (_find_agent(session, data.implementer).id
                      if data.implementer is not None else agent_id)
    change = ChangeRequest(
        number=next_number(session, "CHG"), type=data.type, title=title,
        description=data.description or (template.description if template else None),
        reason=data.reason, status="draft", requester_id=requester_id, owner_team_id=team_id,
        implementer_id=implementer_id, template_id=template.id if template else None,
        risk_answers=json.dumps(answers), planned_start=start, planned_end=end,
        implementation_plan=data.implementation_plan
        or (template.implementation_plan if template else None),
        test_plan=data.test_plan or (template.test_plan if template else None),
        backout_plan=data.backout_plan or (template.backout_plan if template else None),
        emergency_reason=(data.emergency_reason or "").strip() or None,
        created_at=now, updated_at=now,
    )
    session.add(change)
    session.flush()
    for ci in dict.fromkeys(c.id for c in cis):
        session.add(ChangeCi(change_id=change.id, ci_id=ci))
    record_ticket_event(session, ticket_type="change", ticket_id=change.id, kind="created",
                        actor_id=agent_id, new="draft", comment=f"{data.type}: {title}", at=now)
    session.flush()
    return change


def _set(session: Session, change: ChangeRequest, agent_id: int | None, name: str, value: Any,
         now: datetime, comment: str | None = None) -> None:
    old = getattr(change, name)
    if old == value:
        return
    setattr(change, name, value)
    record_ticket_event(session, ticket_type="change", ticket_id=change.id,
                        kind="status" if name == "status" else "field", actor_id=agent_id,
                        field=name, old=old, new=value, comment=comment, at=now)


def _touch(change: ChangeRequest, now: datetime) -> None:
    change.updated_at = now
    change.version += 1


def check_transition(change: ChangeRequest, target: str) -> None:
    if target not in CHANGE_STATUSES:
        raise InvalidInput(f"unknown change status {target!r}")
    if target not in TRANSITIONS.get(change.status, ()):
        why = _WHY_NOT.get(change.status, f"it is {change.status.replace('_', ' ')}")
        raise TransitionNotAllowed(
            f"{change.number} cannot go from {change.status} to {target}: {why}")


def move_status(session: Session, change: ChangeRequest, agent_id: int | None, target: str,
                now: datetime, comment: str | None = None) -> None:
    check_transition(change, target)
    _set(session, change, agent_id, "status", target, now, comment)
    _touch(change, now)


def refresh_risk(session: Session, change: ChangeRequest, now: datetime,
                 settings: Settings | None = None, impact: Impact | None = None) -> Risk:
    """Assess the change now (answers + impact + lead time) and store the result."""
    settings = settings or settings_of(session)
    if impact is None:
        impact = analyse_impact(session, change_ci_ids(session, change.id),
                                local_date(change.planned_start or now, settings))
    lead = None
    if change.planned_start is not None:
        lead = working_days_between(local_date(change.submitted_at or now, settings),
                                    local_date(change.planned_start, settings), settings)
    answers = json.loads(change.risk_answers) if change.risk_answers else {}
    risk = assess_risk(answers, people=impact.people, services=len(impact.service_ids),
                       lead_working_days=lead, change_type=change.type)
    change.risk = risk.level
    change.risk_reasons = json.dumps(list(risk.reasons), ensure_ascii=False)
    return risk


def submit_change(session: Session, actor: Actor, number: str, *, now: datetime | None = None,
                  settings: Settings | None = None,
                  expected_version: int | None = None) -> ChangeRequest:
    """Submit and assess: standard -> approved; normal -> the next CAB's agenda (cut-off);
    emergency -> an emergency CAB called at once. Freeze windows refuse all but emergencies
    with a recorded reason."""
    settings = settings or settings_of(session)
    from pob_tui.services import cab

    agent_id = require(session, actor, "change.request")
    now = now or utcnow()
    change = get_change(session, number, for_update=True)
    _check_version(change, expected_version)
    check_transition(change, "submitted")
    if change.planned_start is None or change.planned_end is None:
        raise InvalidInput(f"{change.number} needs a planned start and end before submitting")
    if change.planned_start < now and change.type != "emergency":
        raise InvalidInput(f"{change.number}: the planned start is in the past")
    cis = change_ci_ids(session, change.id)
    if not cis and change.type != "standard":
        raise InvalidInput(f"{change.number} needs at least one affected CI before submitting")
    if change.type == "normal" and not (change.implementation_plan and change.backout_plan):
        raise InvalidInput(f"{change.number} needs an implementation plan and a back-out plan")
    if change.type == "emergency" and not change.emergency_reason:
        raise InvalidInput(f"{change.number}: an emergency change needs a recorded reason "
                           "(--emergency-reason)")
    _check_freeze(session, change, change.planned_start, change.planned_end, settings)
    meeting = None
    if change.type == "normal":
        meeting = cab.meeting_for_submission(session, now, settings, plan_only=True)
        if change.planned_start < meeting:
            raise InvalidInput(
                f"{change.number} starts {_local_text(change.planned_start, settings)}, before "
                f"the CAB that can approve it ({_local_text(meeting, settings)}); move the "
                "window or make it an emergency change")
    move_status(session, change, agent_id, "submitted", now)
    _set(session, change, agent_id, "submitted_at", now, now)
    impact = analyse_impact(session, cis, local_date(change.planned_start, settings))
    risk = refresh_risk(session, change, now, settings, impact)
    move_status(session, change, agent_id, "assessed", now,
                comment=f"risk {risk.level}: " + "; ".join(risk.reasons))
    if change.type == "standard":
        move_status(session, change, agent_id, "approved", now,
                    comment="standard change: pre-approved template")
    elif change.type == "emergency":
        mt = cab.emergency_meeting(session, actor, now)
        cab.add_to_agenda(session, mt, change)
        move_status(session, change, agent_id, "awaiting_cab", now,
                    comment=f"emergency CAB {_local_text(mt.starts_at, settings)}")
    else:
        mt = cab.meeting_for_submission(session, now, settings)
        cab.add_to_agenda(session, mt, change)
        move_status(session, change, agent_id, "awaiting_cab", now,
                    comment=f"CAB {_local_text(mt.starts_at, settings)}")
    session.flush()
    return change


def _local_text(at: datetime, settings: Settings) -> str:
    return at.astimezone(settings.tzinfo).strftime("%Y-%m-%d %H:%M")


def _check_freeze(session: Session, change: ChangeRequest, start: datetime, end: datetime,
                  settings: Settings | None) -> None:
    settings = settings or settings_of(session)
    hits = freeze_hits(session, start, end, settings)
    if not hits:
        return
    if change.type == "emergency" and change.emergency_reason:
        return
    raise TransitionNotAllowed(
        f"{change.number}: the window falls in the freeze {hits[0]!r}; only an emergency "
        "change with a recorded reason may be scheduled then")


def update_change(session: Session, actor: Actor, number: str, *,
                  planned_start: str | datetime | None = None,
                  planned_end: str | datetime | None = None,
                  cis: Sequence[str | int] | None = None,
                  answers: dict[str, Any] | None = None,
                  fields: dict[str, Any] | None = None, now: datetime | None = None,
                  settings: Settings | None = None,
                  expected_version: int | None = None) -> ChangeRequest:
    """Edit a draft (or a rejected change being revised: it goes back to draft)."""
    settings = settings or settings_of(session)
    agent_id = require(session, actor, "change.request")
    now = now or utcnow()
    change = get_change(session, number, for_update=True)
    _check_version(change, expected_version)
    if change.status == "rejected":
        move_status(session, change, agent_id, "draft", now, comment="revised")
    if change.status != "draft":
        raise TransitionNotAllowed(f"{change.number} is {change.status}; only drafts can be "
                                   "edited")
    start = parse_local(planned_start, settings, "planned start") or change.planned_start
    end = parse_local(planned_end, settings, "planned end") or change.planned_end
    _check_window(start, end)
    _set(session, change, agent_id, "planned_start", start, now)
    _set(session, change, agent_id, "planned_end", end, now)
    editable = {"title", "description", "reason", "implementation_plan", "test_plan",
                "backout_plan", "emergency_reason"}
    for key, value in (fields or {}).items():
        if key not in editable:
            raise InvalidInput(f"cannot edit {key!r}")
        _set(session, change, agent_id, key, value, now)
    if answers is not None:
        merged = {**(json.loads(change.risk_answers or "{}")), **answers}
        _set(session, change, agent_id, "risk_answers", json.dumps(check_answers(merged)), now)
    if cis is not None:
        new = list(dict.fromkeys(_find_ci(session, r).id for r in cis))
        old = change_ci_ids(session, change.id)
        if set(new) != set(old):
            for row in session.execute(select(ChangeCi).where(ChangeCi.change_id == change.id)
                                       ).scalars():
                session.delete(row)
            session.flush()
            for ci in new:
                session.add(ChangeCi(change_id=change.id, ci_id=ci))
            record_ticket_event(session, ticket_type="change", ticket_id=change.id,
                                kind="field", actor_id=agent_id, field="cis", old=old, new=new,
                                at=now)
    _touch(change, now)
    session.flush()
    return change


def schedule_change(session: Session, actor: Actor, number: str, *,
                    planned_start: str | datetime | None = None,
                    planned_end: str | datetime | None = None, now: datetime | None = None,
                    settings: Settings | None = None,
                    expected_version: int | None = None) -> ChangeRequest:
    """Put an approved change in the calendar (optionally moving its window)."""
    settings = settings or settings_of(session)
    agent_id = require(session, actor, "change.implement")
    now = now or utcnow()
    change = get_change(session, number, for_update=True)
    _check_version(change, expected_version)
    check_transition(change, "scheduled")
    start = parse_local(planned_start, settings, "planned start") or change.planned_start
    end = parse_local(planned_end, settings, "planned end") or change.planned_end
    if planned_start is not None and planned_end is None and change.planned_start and end:
        end = start + (change.planned_end - change.planned_start)  # type: ignore[operator]
    _check_window(start, end)
    if start is None or end is None:
        raise InvalidInput(f"{change.number} needs a planned start and end")
    _check_freeze(session, change, start, end, settings)
    _set(session, change, agent_id, "planned_start", start, now)
    _set(session, change, agent_id, "planned_end", end, now)
    move_status(session, change, agent_id, "scheduled", now)
    session.flush()
    return change


def start_change(session: Session, actor: Actor, number: str, *,
                 now: datetime | None = None) -> ChangeRequest:
    agent_id = require(session, actor, "change.implement")
    now = now or utcnow()
    change = get_change(session, number, for_update=True)
    move_status(session, change, agent_id, "in_progress", now)
    _set(session, change, agent_id, "actual_start", now, now)
    session.flush()
    return change


def record_outcome(session: Session, actor: Actor, number: str, outcome: str, *,
                   note: str | None = None, now: datetime | None = None,
                   expected_version: int | None = None) -> ChangeRequest:
    """successful -> implemented; failed / backed_out -> those states (review required)."""
    agent_id = require(session, actor, "change.implement")
    now = now or utcnow()
    if outcome not in OUTCOMES:
        raise InvalidInput(f"unknown outcome {outcome!r}; expected one of " + ", ".join(OUTCOMES))
    change = get_change(session, number, for_update=True)
    _check_version(change, expected_version)
    move_status(session, change, agent_id, OUTCOME_STATUS[outcome], now, comment=note)
    if change.actual_start is None:
        _set(session, change, agent_id, "actual_start", change.planned_start or now, now)
    _set(session, change, agent_id, "actual_end", now, now)
    _set(session, change, agent_id, "outcome", outcome, now)
    session.flush()
    return change


def review_required(change: ChangeRequest) -> bool:
    """A post-implementation review is required for failed and emergency changes."""
    return change.type == "emergency" or change.outcome in ("failed", "backed_out")


def review_change(session: Session, actor: Actor, number: str, note: str, *,
                  now: datetime | None = None) -> ChangeRequest:
    agent_id = require(session, actor, "change.manage")
    now = now or utcnow()
    if not (note or "").strip():
        raise InvalidInput("the post-implementation review needs a note")
    change = get_change(session, number, for_update=True)
    move_status(session, change, agent_id, "reviewed", now)
    _set(session, change, agent_id, "review_note", note.strip(), now)
    session.flush()
    return change


def close_change(session: Session, actor: Actor, number: str, *,
                 now: datetime | None = None) -> ChangeRequest:
    agent_id = require(session, actor, "change.manage")
    now = now or utcnow()
    change = get_change(session, number, for_update=True)
    if change.status == "implemented" and review_required(change):
        raise TransitionNotAllowed(f"{change.number} is an emergency change; a "
                                   "post-implementation review is required before closing")
    move_status(session, change, agent_id, "closed", now)
    session.flush()
    return change


def link_incident(session: Session, actor: Actor, number: str, incident_number: str, *,
                  now: datetime | None = None) -> Incident:
    """Record that an incident was caused by a change (audited on both tickets)."""
    from pob_tui.services.incidents import get_incident

    agent_id = require(session, actor, "change.implement")
    now = now or utcnow()
    change = get_change(session, number)
    incident = get_incident(session, incident_number, for_update=True)
    if incident.caused_by_change_id == change.id:
        return incident
    old = incident.caused_by_change_id
    incident.caused_by_change_id = change.id
    incident.version += 1
    incident.updated_at = now
    record_ticket_event(session, ticket_type="incident", ticket_id=incident.id, kind="link",
                        actor_id=agent_id, field="caused_by_change_id", old=old, new=change.id,
                        comment=f"caused by {change.number}", at=now)
    record_ticket_event(session, ticket_type="change", ticket_id=change.id, kind="link",
                        actor_id=agent_id, comment=f"caused {incident.number}", at=now)
    session.flush()
    return incident


# --- conflicts -----------------------------------------------------------------------------


def find_conflicts(session: Session, change: ChangeRequest, impact: Impact | None = None, *,
                   cis: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Other live changes whose window overlaps this one and that share a CI, touch a CI
    this one depends on or impacts, rest on a shared service, or use the same implementer."""
    if change.planned_start is None or change.planned_end is None:
        return []
    mine = set(cis if cis is not None else change_ci_ids(session, change.id))
    if impact is None:
        impact = analyse_impact(session, mine, change.planned_start.date())
    others = session.execute(
        select(ChangeRequest.id, ChangeRequest.number, ChangeRequest.implementer_id)
        .where(ChangeRequest.planned_start < change.planned_end,
               ChangeRequest.planned_end > change.planned_start,
               ChangeRequest.id != change.id,
               ChangeRequest.status.in_(ACTIVE_STATUSES))
        .order_by(ChangeRequest.planned_start, ChangeRequest.number)).all()
    if not others:
        return []
    ids = [o[0] for o in others]
    their: dict[int, set[int]] = {}
    for cid, ci in session.execute(select(ChangeCi.change_id, ChangeCi.ci_id)
                                   .where(ChangeCi.change_id.in_(ids))):
        their.setdefault(cid, set()).add(ci)
    all_theirs = set().union(*their.values()) if their else set()
    svc_of: dict[int, set[int]] = {}
    for chunk in _chunks(all_theirs):
        for sid, ci in session.execute(select(ServiceCi.service_id, ServiceCi.ci_id)
                                       .where(ServiceCi.ci_id.in_(chunk))):
            svc_of.setdefault(ci, set()).add(sid)
    # direct relations from my CIs to theirs (I depend on / run on / connect to them)
    depends: set[int] = set()
    if mine and all_theirs:
        depends = set(session.execute(
            select(CiRelation.target_id).where(CiRelation.source_id.in_(mine),
                                               CiRelation.target_id.in_(all_theirs))).scalars())
    out: list[dict[str, Any]] = []
    for oid, onum, implementer in others:
        d = their.get(oid, set())
        same = mine & d
        if same:
            out.append({"number": onum, "kind": "same_ci",
                        "detail": f"same CI as {onum}"})
        elif (impact.ci_ids & d) or (depends & d):
            out.append({"number": onum, "kind": "dependent_ci",
                        "detail": f"CIs that depend on one another with {onum}"})
        elif impact.service_ids & set().union(*(svc_of.get(c, set()) for c in d)):
            out.append({"number": onum, "kind": "same_service",
                        "detail": f"same service as {onum}"})
        if implementer is not None and implementer == change.implementer_id:
            out.append({"number": onum, "kind": "implementer",
                        "detail": f"implementer also booked on {onum}"})
    return out


def window_conflicts(session: Session, actor: Actor, planned_start: str | datetime | None,
                     planned_end: str | datetime | None, cis: Sequence[str | int] = (), *,
                     settings: Settings | None = None) -> dict[str, Any]:
    """What a change being drafted would clash with, before anything is saved: the live
    changes in the calendar that `find_conflicts` reports and the freeze windows the planned
    window touches. The implementer is the actor (a new change's default). Half-typed or
    incomplete windows give no conflicts and say why in "problem"."""
    settings = settings or settings_of(session)
    out: dict[str, Any] = {"conflicts": [], "freeze": [], "problem": None}
    try:
        start = parse_local(planned_start, settings, "planned start")
        end = parse_local(planned_end, settings, "planned end")
        _check_window(start, end)
        ci_ids = list(dict.fromkeys(_find_ci(session, ref).id for ref in cis))
    except (InvalidInput, NotFound) as exc:
        out["problem"] = str(exc)
        return out
    if start is None or end is None:
        return out
    probe = ChangeRequest(number="(new)", type="normal", title="", status="draft",
                          planned_start=start, planned_end=end, implementer_id=actor.agent_id)
    probe.id = 0  # never saved: compares unequal to every stored change
    out["conflicts"] = find_conflicts(session, probe, cis=ci_ids)
    out["freeze"] = freeze_hits(session, start, end, settings)
    return out


# --- reading -------------------------------------------------------------------------------

LIST_COLUMNS = ("number", "type", "status", "risk", "planned_start", "planned_end", "title",
                "team", "implementer")


def _list_stmt():
    impl_person = select(Person.first_name + " " + Person.last_name).join(
        Agent, Agent.person_id == Person.id).where(
        Agent.id == ChangeRequest.implementer_id).correlate(ChangeRequest).scalar_subquery()
    return (select(ChangeRequest.id, ChangeRequest.number, ChangeRequest.type,
                   ChangeRequest.status, ChangeRequest.risk, ChangeRequest.planned_start,
                   ChangeRequest.planned_end, ChangeRequest.title, Team.name,
                   impl_person.label("implementer"))
            .outerjoin(Team, Team.id == ChangeRequest.owner_team_id))


def _row(r: Any) -> dict[str, Any]:
    return {"id": r[0], "number": r[1], "type": r[2], "status": r[3], "risk": r[4],
            "planned_start": r[5], "planned_end": r[6], "title": r[7], "team": r[8],
            "implementer": r[9]}


def list_changes(session: Session, *, status: str | None = None, type: str | None = None,
                 search: str | None = None, limit: int = 50, offset: int = 0
                 ) -> list[dict[str, Any]]:
    """Newest first (by number), one page."""
    stmt = _list_stmt()
    if status:
        wanted = [s.strip() for s in status.split(",") if s.strip()]
        bad = [s for s in wanted if s not in CHANGE_STATUSES and s != "open"]
        if bad:
            raise InvalidInput(f"unknown status {bad[0]!r}; expected one of "
                               + ", ".join(CHANGE_STATUSES))
        if "open" in wanted:
            wanted = [*wanted, "draft", *ACTIVE_STATUSES]
        stmt = stmt.where(ChangeRequest.status.in_(wanted))
    if type:
        if type not in CHANGE_TYPES:
            raise InvalidInput(f"unknown change type {type!r}")
        stmt = stmt.where(ChangeRequest.type == type)
    if search:
        stmt = stmt.where(func.lower(ChangeRequest.title).contains(search.lower().strip()))
    stmt = stmt.order_by(ChangeRequest.id.desc()).limit(limit).offset(offset)
    return [_row(r) for r in session.execute(stmt)]


def count_changes(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(ChangeRequest)).scalar_one())


def week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def change_calendar(session: Session, week: date, *, settings: Settings | None = None,
                    with_conflicts: bool = True) -> list[dict[str, Any]]:
    """Changes (not drafts, rejected or closed) whose window touches the local week starting
    on the Monday of `week`, in start order, each with its conflicts."""
    settings = settings or settings_of(session)
    s = settings
    monday = week_start(week)
    lo = datetime.combine(monday, time(0), tzinfo=s.tzinfo).astimezone(UTC)
    hi = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=s.tzinfo).astimezone(UTC)
    stmt = (_list_stmt().where(ChangeRequest.planned_start < hi, ChangeRequest.planned_end > lo,
                               ChangeRequest.status.not_in(("draft", "rejected")))
            .order_by(ChangeRequest.planned_start, ChangeRequest.number))
    rows = [_row(r) for r in session.execute(stmt)]
    if with_conflicts:
        for row in rows:
            ch = session.get(ChangeRequest, row["id"])
            row["conflicts"] = (find_conflicts(session, ch)
                                if ch and ch.status in ACTIVE_STATUSES else [])
    return rows


def change_detail(session: Session, number: str, *, settings: Settings | None = None,
                  with_impact: bool = True) -> dict[str, Any]:
    settings = settings or settings_of(session)
    change = get_change(session, number)
    cis = change_ci_ids(session, change.id)
    ci_names = list(session.execute(select(ConfigItem.name).where(ConfigItem.id.in_(cis))
                                    .order_by(ConfigItem.name)).scalars()) if cis else []
    team = session.get(Team, change.owner_team_id) if change.owner_team_id else None
    impl = session.get(Agent, change.implementer_id) if change.implementer_id else None
    requester = session.get(Person, change.requester_id) if change.requester_id else None
    template = session.get(ChangeTemplate, change.template_id) if change.template_id else None
    data: dict[str, Any] = {
        "number": change.number, "type": change.type, "status": change.status,
        "title": change.title, "description": change.description, "reason": change.reason,
        "requester": requester.username if requester else None,
        "team": team.name if team else None, "implementer": impl.username if impl else None,
        "template": template.name if template else None,
        "risk": change.risk, "risk_reasons": json.loads(change.risk_reasons or "[]"),
        "risk_answers": json.loads(change.risk_answers or "{}"),
        "planned_start": change.planned_start, "planned_end": change.planned_end,
        "actual_start": change.actual_start, "actual_end": change.actual_end,
        "implementation_plan": change.implementation_plan, "test_plan": change.test_plan,
        "backout_plan": change.backout_plan, "emergency_reason": change.emergency_reason,
        "outcome": change.outcome, "review_note": change.review_note,
        "review_required": review_required(change), "cis": ci_names,
        "created_at": change.created_at, "submitted_at": change.submitted_at,
        "updated_at": change.updated_at, "version": change.version,
    }
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
        select(Incident.number).where(Incident.caused_by_change_id == change.id)
        .order_by(Incident.number)).scalars())
    data["events"] = [
        {"at": e.at, "kind": e.kind, "field": e.field, "old": e.old_value, "new": e.new_value,
         "comment": e.comment, "actor": name}
        for e, name in session.execute(
            select(TicketEvent, Agent.username).outerjoin(Agent, Agent.id == TicketEvent.actor_id)
            .where(TicketEvent.ticket_type == "change", TicketEvent.ticket_id == change.id)
            .order_by(TicketEvent.at, TicketEvent.id))]
    return data
