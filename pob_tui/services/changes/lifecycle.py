"""A change request's life: create, edit, submit (assess the risk, put it before the CAB),
schedule, implement, review and close, each a use case that writes a `TicketEvent
(ticket_type="change")` and bumps `version`. `TRANSITIONS` is the state machine (DESIGN.md's
change states); the CAB's decisions move changes through `move_status` here too."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from pob_tui.config import Settings
from pob_tui.db import settings_of
from pob_tui.errors import InvalidInput, TransitionNotAllowed
from pob_tui.i18n import LazyLabels, _
from pob_tui.models import Agent, ChangeCi, ChangeRequest, Incident, pk, utcnow
from pob_tui.models.change import CHANGE_STATUSES, CHANGE_TYPES
from pob_tui.reports.cab import WORD_LABELS
from pob_tui.services.audit import record_ticket_event
from pob_tui.services.changes.conflicts import freeze_hits
from pob_tui.services.changes.records import (
    change_ci_ids,
    check_version,
    check_window,
    find_template,
    get_change,
    local_text,
    parse_local,
)
from pob_tui.services.changes.risk import Answer, Risk, assess_risk, check_answers
from pob_tui.services.cmdb import find_ci
from pob_tui.services.identity import Actor
from pob_tui.services.impact import Impact, analyse_impact
from pob_tui.services.numbers import next_number
from pob_tui.services.permissions import require
from pob_tui.sla.workdays import local_date, working_days_between

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
_WHY_NOT = LazyLabels(lambda: {
    "draft": _("it is a draft; submit it first"),
    "submitted": _("it is still being assessed"),
    "assessed": _("it has not been to the CAB"),
    "awaiting_cab": _("it is waiting for the CAB's decision"),
    "rejected": _("the CAB rejected it; revise it as a draft or close it"),
    "closed": _("it is closed"),
    "failed": _("it failed; a post-implementation review is required first"),
    "backed_out": _("it was backed out; a post-implementation review is required first"),
})
EDITABLE = frozenset({"title", "description", "reason", "implementation_plan", "test_plan",
                      "backout_plan", "emergency_reason"})
"""The text fields of a draft `update_change` sets (`pob change edit` offers each)."""
OUTCOMES = ("successful", "failed", "backed_out")
OUTCOME_STATUS = {"successful": "implemented", "failed": "failed", "backed_out": "backed_out"}


# --- creating and moving a change ----------------------------------------------------------


@dataclass
class NewChange:
    """What an agent fills in for a new change (the form and `pob change new` alike)."""

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
    answers: dict[str, Answer] = field(default_factory=dict)


def create_change(session: Session, actor: Actor, data: NewChange, *,
                  now: datetime | None = None, settings: Settings | None = None
                  ) -> ChangeRequest:
    """A draft change request. Validates everything before writing anything."""
    settings = settings or settings_of(session)
    agent_id = require(session, actor, "change.request")
    now = now or utcnow()
    title = (data.title or "").strip()
    if not title:
        raise InvalidInput(_("title is required"))
    if len(title) > 200:
        raise InvalidInput(_("title is {n} characters; at most 200").format(n=len(title)))
    if data.type not in CHANGE_TYPES:
        raise InvalidInput(_("unknown change type {type}; expected one of {choices}").format(
            type=repr(data.type), choices=", ".join(CHANGE_TYPES)))
    template = None
    if data.type == "standard":
        if data.template is None:
            raise InvalidInput(_("a standard change needs a pre-approved template (--template)"))
        template = find_template(session, data.template)
    elif data.template is not None:
        raise InvalidInput(_("only standard changes come from a template"))
    start = parse_local(data.planned_start, settings, "planned start")
    end = parse_local(data.planned_end, settings, "planned end")
    check_window(start, end)
    answers = check_answers(data.answers)
    cis = [find_ci(session, ref) for ref in data.cis]
    from pob_tui.services.incidents import find_agent, find_person, find_team

    requester_id: int | None = None
    if data.requester is not None:
        requester_id = find_person(session, data.requester).id
    else:
        agent = session.get(Agent, agent_id) if agent_id is not None else None
        requester_id = agent.person_id if agent is not None else None
    team_id = (find_team(session, data.owner_team).id if data.owner_team is not None
               else (template.owner_team_id if template else None) or actor.team_id)
    implementer_id = (find_agent(session, data.implementer).id
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
    for ci in dict.fromkeys(pk(c) for c in cis):
        session.add(ChangeCi(change_id=pk(change), ci_id=ci))
    record_ticket_event(session, ticket_type="change", ticket_id=pk(change), kind="created",
                        actor_id=agent_id, new="draft", comment=f"{data.type}: {title}", at=now)
    session.flush()
    return change


def _set(session: Session, change: ChangeRequest, agent_id: int | None, name: str,
         value: object, now: datetime, comment: str | None = None) -> None:
    """Set one field and audit it (nothing when the value is the same)."""
    old = getattr(change, name)
    if old == value:
        return
    setattr(change, name, value)
    record_ticket_event(session, ticket_type="change", ticket_id=pk(change),
                        kind="status" if name == "status" else "field", actor_id=agent_id,
                        field=name, old=old, new=value, comment=comment, at=now)


def touch(change: ChangeRequest, now: datetime) -> None:
    change.updated_at = now
    change.version += 1


def check_transition(change: ChangeRequest, target: str) -> None:
    if target not in CHANGE_STATUSES:
        raise InvalidInput(_("unknown change status {status}").format(status=repr(target)))
    if target not in TRANSITIONS.get(change.status, ()):
        why = _WHY_NOT.get(change.status) or _("it is {status}").format(
            status=WORD_LABELS.get(change.status, change.status.replace("_", " ")))
        raise TransitionNotAllowed(_("{number} cannot go from {status} to {target}: {why}")
                                   .format(number=change.number, status=change.status,
                                           target=target, why=why))


def move_status(session: Session, change: ChangeRequest, agent_id: int | None, target: str,
                now: datetime, comment: str | None = None) -> None:
    check_transition(change, target)
    _set(session, change, agent_id, "status", target, now, comment)
    touch(change, now)


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
    check_version(change, expected_version)
    check_transition(change, "submitted")
    if change.planned_start is None or change.planned_end is None:
        raise InvalidInput(_("{number} needs a planned start and end before submitting").format(
            number=change.number))
    if change.planned_start < now and change.type != "emergency":
        raise InvalidInput(_("{number}: the planned start is in the past").format(
            number=change.number))
    cis = change_ci_ids(session, change.id)
    if not cis and change.type != "standard":
        raise InvalidInput(_("{number} needs at least one affected CI before submitting").format(
            number=change.number))
    if change.type == "normal" and not (change.implementation_plan and change.backout_plan):
        raise InvalidInput(_("{number} needs an implementation plan and a back-out plan").format(
            number=change.number))
    if change.type == "emergency" and not change.emergency_reason:
        raise InvalidInput(_("{number}: an emergency change needs a recorded reason "
                             "(--emergency-reason)").format(number=change.number))
    _check_freeze(session, change, change.planned_start, change.planned_end, settings)
    meeting = None
    if change.type == "normal":
        meeting = cab.submission_slot(session, now, settings)
        if change.planned_start < meeting:
            raise InvalidInput(_(
                "{number} starts {start}, before the CAB that can approve it ({meeting}); "
                "move the window or make it an emergency change").format(
                    number=change.number, start=local_text(change.planned_start, settings),
                    meeting=local_text(meeting, settings)))
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
                    comment=f"emergency CAB {local_text(mt.starts_at, settings)}")
    else:
        mt = cab.meeting_for_submission(session, now, settings)
        cab.add_to_agenda(session, mt, change)
        move_status(session, change, agent_id, "awaiting_cab", now,
                    comment=f"CAB {local_text(mt.starts_at, settings)}")
    session.flush()
    return change


def _check_freeze(session: Session, change: ChangeRequest, start: datetime, end: datetime,
                  settings: Settings | None) -> None:
    settings = settings or settings_of(session)
    hits = freeze_hits(session, start, end, settings)
    if not hits:
        return
    if change.type == "emergency" and change.emergency_reason:
        return
    raise TransitionNotAllowed(_(
        "{number}: the window falls in the freeze {freeze}; only an emergency change with a "
        "recorded reason may be scheduled then").format(number=change.number,
                                                        freeze=repr(hits[0])))


def update_change(session: Session, actor: Actor, number: str, *,
                  planned_start: str | datetime | None = None,
                  planned_end: str | datetime | None = None,
                  cis: Sequence[str | int] | None = None,
                  answers: Mapping[str, object] | None = None,
                  fields: Mapping[str, str | None] | None = None, now: datetime | None = None,
                  settings: Settings | None = None,
                  expected_version: int | None = None) -> ChangeRequest:
    """Edit a draft (or a rejected change being revised: it goes back to draft)."""
    settings = settings or settings_of(session)
    agent_id = require(session, actor, "change.request")
    now = now or utcnow()
    change = get_change(session, number, for_update=True)
    check_version(change, expected_version)
    if change.status == "rejected":
        move_status(session, change, agent_id, "draft", now, comment="revised")
    if change.status != "draft":
        raise TransitionNotAllowed(_("{number} is {status}; only drafts can be edited").format(
            number=change.number, status=change.status))
    start = parse_local(planned_start, settings, "planned start") or change.planned_start
    end = parse_local(planned_end, settings, "planned end") or change.planned_end
    check_window(start, end)
    _set(session, change, agent_id, "planned_start", start, now)
    _set(session, change, agent_id, "planned_end", end, now)
    for key, value in (fields or {}).items():
        if key not in EDITABLE:
            raise InvalidInput(_("cannot edit {field}").format(field=repr(key)))
        _set(session, change, agent_id, key, value, now)
    if answers is not None:
        merged = {**(json.loads(change.risk_answers or "{}")), **answers}
        _set(session, change, agent_id, "risk_answers", json.dumps(check_answers(merged)), now)
    if cis is not None:
        new = list(dict.fromkeys(pk(find_ci(session, r)) for r in cis))
        old = change_ci_ids(session, change.id)
        if set(new) != set(old):
            for row in session.execute(select(ChangeCi).where(
                    col(ChangeCi.change_id) == change.id)).scalars():
                session.delete(row)
            session.flush()
            for ci in new:
                session.add(ChangeCi(change_id=pk(change), ci_id=ci))
            record_ticket_event(session, ticket_type="change", ticket_id=pk(change),
                                kind="field", actor_id=agent_id, field="cis", old=old, new=new,
                                at=now)
    touch(change, now)
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
    check_version(change, expected_version)
    check_transition(change, "scheduled")
    start = parse_local(planned_start, settings, "planned start") or change.planned_start
    end = parse_local(planned_end, settings, "planned end") or change.planned_end
    if (planned_start is not None and planned_end is None and start is not None
            and change.planned_start is not None and change.planned_end is not None):
        end = start + (change.planned_end - change.planned_start)  # keep the length
    check_window(start, end)
    if start is None or end is None:
        raise InvalidInput(_("{number} needs a planned start and end").format(number=change.number))
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
        raise InvalidInput(_("unknown outcome {outcome}; expected one of {choices}").format(
            outcome=repr(outcome), choices=", ".join(OUTCOMES)))
    change = get_change(session, number, for_update=True)
    check_version(change, expected_version)
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
        raise InvalidInput(_("the post-implementation review needs a note"))
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
        raise TransitionNotAllowed(_("{number} is an emergency change; a post-implementation "
                                     "review is required before closing").format(
                                         number=change.number))
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
    record_ticket_event(session, ticket_type="incident", ticket_id=pk(incident), kind="link",
                        actor_id=agent_id, field="caused_by_change_id", old=old, new=change.id,
                        comment=f"caused by {change.number}", at=now)
    record_ticket_event(session, ticket_type="change", ticket_id=pk(change), kind="link",
                        actor_id=agent_id, comment=f"caused {incident.number}", at=now)
    session.flush()
    return incident


