"""Incidents: logging a call, the state rules, assignment, escalation, resolution,
satisfaction. Every change writes the audit trail and bumps `version`.

Optimistic locking: a caller passes the `version` it last saw; when someone else has saved
since, `ConflictError` carries what they changed (field -> (what you saw, what it is now))
and nothing is written. Without a version (scripts), the latest is used.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, UnaryExpression, func, nulls_last, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from pob_tui.errors import ConflictError, InvalidInput, NotFound, TransitionNotAllowed
from pob_tui.i18n import LazyLabels, _
from pob_tui.models import (
    Agent,
    ConfigItem,
    FollowUp,
    Incident,
    OrgUnit,
    Person,
    Problem,
    Service,
    Team,
    TicketEvent,
    utcnow,
)
from pob_tui.models.base import pk
from pob_tui.models.incident import (
    CHANNELS,
    INCIDENT_STATUSES,
    OPEN_STATUSES,
    PRIORITY_MATRIX,
    WAITING_STATUSES,
)
from pob_tui.services.audit import record_ticket_event
from pob_tui.services.catalog import find_service
from pob_tui.services.cmdb import find_ci
from pob_tui.services.identity import Actor
from pob_tui.services.incident_views import (
    LIST_VIEWS,
    RECENT,
    SORT_SPEC,
    SORTS,
    EventRow,
    FollowUpRow,
    IncidentDetail,
    IncidentRow,
)
from pob_tui.services.numbers import next_number
from pob_tui.services.permissions import require

RESOLUTION_CODES = ("solved", "workaround", "known_error", "no_fault", "duplicate",
                    "user_error", "supplier", "change")

# status -> statuses it may move to. Reasons for the refusals users meet most.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("assigned", "in_progress", "waiting_caller", "waiting_supplier", "resolved",
            "cancelled"),
    "assigned": ("assigned", "in_progress", "waiting_caller", "waiting_supplier", "resolved",
                 "cancelled"),
    "in_progress": ("assigned", "in_progress", "waiting_caller", "waiting_supplier",
                    "resolved", "cancelled"),
    "waiting_caller": ("assigned", "in_progress", "waiting_supplier", "resolved", "cancelled"),
    "waiting_supplier": ("assigned", "in_progress", "waiting_caller", "resolved",
                         "cancelled"),
    "resolved": ("closed", "in_progress"),
    "closed": (),
    "cancelled": (),
}
_WHY_NOT = LazyLabels(lambda: {
    "closed": _("it is closed; log a new incident instead"),
    "cancelled": _("it was cancelled; log a new incident instead"),
    "resolved": _("it is resolved; reopen it first"),
})
_STATUS_WORDS = LazyLabels(lambda: {
    "new": _("new"), "assigned": _("assigned"), "in_progress": _("in progress"),
    "waiting_caller": _("waiting caller"), "waiting_supplier": _("waiting supplier"),
    "resolved": _("resolved"), "closed": _("closed"), "cancelled": _("cancelled"),
})


def status_text(status: str) -> str:
    """A stored status as an error sentence reads it: 'in progress', or 'under arbeid'."""
    return _STATUS_WORDS.get(status, status.replace("_", " "))


def priority_for(impact: int, urgency: int, *, vip: bool = False) -> int:
    """ITIL priority; a VIP caller's incident is one step more urgent (never above 1)."""
    if impact not in (1, 2, 3) or urgency not in (1, 2, 3):
        raise InvalidInput(_("impact and urgency must be 1, 2 or 3, got {impact} and {urgency}")
                           .format(impact=impact, urgency=urgency))
    priority = PRIORITY_MATRIX[(impact, urgency)]
    return max(1, priority - 1) if vip else priority


# --- lookups -------------------------------------------------------------------------------

def find_person(session: Session, ref: str | int) -> Person:
    """A caller by id, username, e-mail or phone."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and len(ref) < 7):
        person = session.get(Person, int(ref))
    else:
        value = str(ref).strip()
        person = session.execute(
            select(Person).where(or_(col(Person.username) == value, col(Person.email) == value,
                                     col(Person.phone) == value))
        ).scalars().first()
    if person is None:
        raise NotFound(_("unknown caller {ref}: no person with that username, e-mail or "
                         "phone").format(ref=repr(ref)))
    return person


def find_team(session: Session, ref: str | int) -> Team:
    if isinstance(ref, int):
        team = session.get(Team, ref)
    else:
        value = str(ref).strip()
        team = session.execute(
            select(Team).where(or_(func.lower(col(Team.code)) == value.lower(),
                                   func.lower(col(Team.name)) == value.lower()))
        ).scalars().first()
    if team is None:
        raise NotFound(_("unknown team {ref}").format(ref=repr(ref)))
    return team


def find_agent(session: Session, ref: str | int) -> Agent:
    agent = (session.get(Agent, ref) if isinstance(ref, int) else session.execute(
        select(Agent).where(col(Agent.username) == str(ref).strip())).scalars().first())
    if agent is None or not agent.active:
        raise NotFound(_("unknown agent {ref}").format(ref=repr(ref)))
    return agent


def get_incident(session: Session, number: str, *, for_update: bool = False) -> Incident:
    stmt = select(Incident).where(col(Incident.number) == number.strip().upper())
    if for_update:
        stmt = stmt.with_for_update()
    incident: Incident | None = session.execute(stmt).scalars().first()
    if incident is None:
        raise NotFound(_("unknown incident {number}").format(number=repr(number)))
    return incident


def service_desk_team(session: Session) -> Team | None:
    return session.execute(
        select(Team).where(col(Team.kind) == "service_desk").order_by(col(Team.id))
    ).scalars().first()


# --- logging a call ------------------------------------------------------------------------

@dataclass
class NewIncident:
    caller: str | int
    summary: str
    service: str | int | None = None
    description: str | None = None
    impact: int | None = None
    urgency: int | None = None
    channel: str = "phone"
    ci: str | int | None = None
    resolve_note: str | None = None  # save and resolve at first line
    resolution_code: str = "solved"
    known_error: str | None = None  # PRB number whose workaround solved it


def create_incident(session: Session, actor: Actor, data: NewIncident,
                    now: datetime | None = None) -> Incident:
    """Log a call. Validates everything before writing anything."""
    agent_id = require(session, actor, "incident.work")
    now = now or utcnow()
    summary = (data.summary or "").strip()
    if not summary:
        raise InvalidInput(_("summary is required"))
    if len(summary) > 200:
        raise InvalidInput(_("summary is {n} characters; at most 200").format(n=len(summary)))
    if data.channel not in CHANNELS:
        raise InvalidInput(_("unknown channel {channel}; expected one of {choices}").format(
            channel=repr(data.channel), choices=", ".join(CHANNELS)))
    caller = find_person(session, data.caller)
    service = find_service(session, data.service) if data.service is not None else None
    ci = find_ci(session, data.ci) if data.ci is not None else None
    impact = data.impact or (service.default_impact if service else 3)
    urgency = data.urgency or (service.default_urgency if service else 3)
    priority = priority_for(impact, urgency, vip=caller.vip)
    problem = None
    if data.known_error:
        problem = session.execute(
            select(Problem).where(col(Problem.number) == data.known_error.strip().upper())
        ).scalars().first()
        if problem is None:
            raise NotFound(_("unknown problem {number}").format(number=repr(data.known_error)))
        from pob_tui.services.problems import check_known_error_fits

        check_known_error_fits(session, problem, service.id if service else None)
    if data.resolve_note is not None and data.resolution_code not in RESOLUTION_CODES:
        raise InvalidInput(_("unknown resolution code {code}").format(
            code=repr(data.resolution_code)))

    team_id = actor.team_id
    if team_id is None:
        desk = service_desk_team(session)
        team_id = desk.id if desk else None
    incident = Incident(
        number=next_number(session, "INC"),
        caller_id=pk(caller),
        service_id=service.id if service else None,
        ci_id=ci.id if ci else None,
        location_id=caller.location_id,
        summary=summary,
        description=data.description,
        impact=impact,
        urgency=urgency,
        priority=priority,
        status="new",
        channel=data.channel,
        team_id=team_id,
        opened_by_id=agent_id,
        opened_at=now,
        updated_at=now,
        problem_id=problem.id if problem else None,
    )
    session.add(incident)
    _after(session, incident, "created", now, fresh=True)  # its due times go into the INSERT
    session.flush()
    record_ticket_event(session, ticket_type="incident", ticket_id=pk(incident), kind="created",
                        actor_id=agent_id, comment=f"{data.channel}: {summary}", at=now)
    if data.resolve_note is not None or problem is not None:
        note = data.resolve_note or (problem.workaround if problem else "") or ""
        code = "workaround" if problem and data.resolve_note is None else data.resolution_code
        incident.assignee_id = agent_id
        _set(session, incident, agent_id, "assignee_id", agent_id, now)
        _resolve(session, incident, agent_id, code, note or "solved at first line", now,
                 first_line=True)
    return incident


# --- changing an incident ------------------------------------------------------------------

TRACKED_FIELDS = ("summary", "description", "impact", "urgency", "priority", "status",
                  "service_id", "ci_id", "team_id", "assignee_id", "escalation_level",
                  "resolution_code", "resolution_note", "problem_id", "channel")


def snapshot(incident: Incident) -> dict[str, Any]:
    return {f: getattr(incident, f) for f in TRACKED_FIELDS}


def _load_for_change(session: Session, number: str, expected_version: int | None,
                     seen: Mapping[str, Any] | None = None) -> Incident:
    """The incident, locked for the rest of the transaction; ConflictError if someone saved
    since `expected_version`."""
    incident = get_incident(session, number, for_update=True)
    if expected_version is not None and incident.version != expected_version:
        changes: dict[str, tuple[object, object]] = {}
        if seen:
            now = snapshot(incident)
            changes = {k: (seen[k], now[k]) for k in now if k in seen and seen[k] != now[k]}
        who = _last_actor(session, pk(incident))
        raise ConflictError(
            _("{number} was changed by {who} since you opened it (version {seen} -> "
              "{version}); review their change and try again").format(
                number=incident.number, who=who, seen=expected_version,
                version=incident.version),
            changes,
        )
    return incident


def _last_actor(session: Session, incident_id: int) -> str:
    name = session.execute(
        select(col(Agent.username))
        .join(TicketEvent, col(TicketEvent.actor_id) == col(Agent.id))
        .where(col(TicketEvent.ticket_type) == "incident",
               col(TicketEvent.ticket_id) == incident_id)
        .order_by(col(TicketEvent.at).desc(), col(TicketEvent.id).desc()).limit(1)
    ).scalar()
    return name or "someone else"


def _set(session: Session, incident: Incident, agent_id: int | None, field: str, value: Any,
         now: datetime, comment: str | None = None, kind: str | None = None) -> bool:
    old = getattr(incident, field)
    if old == value:
        return False
    setattr(incident, field, value)
    record_ticket_event(
        session, ticket_type="incident", ticket_id=pk(incident),
        kind=kind or ("status" if field == "status" else
                      "assignment" if field in ("team_id", "assignee_id") else "field"),
        actor_id=agent_id, field=field, old=old, new=value, comment=comment, at=now,
    )
    return True


def _touch(session: Session, incident: Incident, kind: str, now: datetime) -> None:
    incident.version += 1
    incident.updated_at = now
    _after(session, incident, kind, now)


def _after(session: Session, incident: Incident, kind: str, now: datetime, *,
           fresh: bool = False) -> None:
    """Recompute the SLA clocks in the same transaction as the change (`fresh`: for an
    incident not yet flushed, see `sla.recompute`)."""
    from pob_tui.services import sla

    sla.on_incident_change(session, incident, kind, now, fresh=fresh)


def _check_transition(incident: Incident, target: str) -> None:
    if target not in INCIDENT_STATUSES:
        raise InvalidInput(_("unknown status {status}; expected one of {choices}").format(
            status=repr(target), choices=", ".join(INCIDENT_STATUSES)))
    if target not in TRANSITIONS[incident.status]:
        why = _WHY_NOT.get(incident.status) or _("it is {status}").format(
            status=status_text(incident.status))
        raise TransitionNotAllowed(_("{number} cannot become {status}: {why}").format(
            number=incident.number, status=status_text(target), why=why))


def _first_response(incident: Incident, now: datetime) -> None:
    if incident.first_response_at is None:
        incident.first_response_at = now


def _status(session: Session, incident: Incident, agent_id: int | None, status: str,
            now: datetime,
            comment: str | None = None) -> None:
    _check_transition(incident, status)
    _set(session, incident, agent_id, "status", status, now, comment=comment)


def _resolve(session: Session, incident: Incident, agent_id: int | None, code: str, note: str,
             now: datetime, *, first_line: bool | None = None) -> None:
    if code not in RESOLUTION_CODES:
        raise InvalidInput(_("unknown resolution code {code}; expected one of {choices}").format(
            code=repr(code), choices=", ".join(RESOLUTION_CODES)))
    if not note.strip():
        raise InvalidInput(_("a resolution note is required"))
    _status(session, incident, agent_id, "resolved", now, comment=note)
    _set(session, incident, agent_id, "resolution_code", code, now)
    _set(session, incident, agent_id, "resolution_note", note, now)
    incident.resolved_at = now
    _first_response(incident, now)
    if first_line is None:
        first_line = incident.escalation_level == 0
    incident.first_line = first_line
    _touch(session, incident, "resolved", now)


def comment(session: Session, actor: Actor, number: str, text: str, *,
            work_note: bool = False, minutes: int | None = None,
            expected_version: int | None = None, now: datetime | None = None) -> Incident:
    """A comment to the caller (counts as the first response) or an internal work note
    with time spent. Comments never conflict: they add, they do not overwrite."""
    agent_id = require(session, actor, "incident.work")
    now = now or utcnow()
    if not text.strip():
        raise InvalidInput(_("the comment is empty"))
    if minutes is not None and not 0 <= minutes <= 24 * 60:
        raise InvalidInput(_("minutes must be between 0 and 1440, got {minutes}").format(
            minutes=minutes))
    incident = get_incident(session, number, for_update=True)
    record_ticket_event(session, ticket_type="incident", ticket_id=pk(incident),
                        kind="work_note" if work_note else "comment", actor_id=agent_id,
                        comment=text, minutes=minutes, at=now)
    if not work_note:
        _first_response(incident, now)
    _touch(session, incident, "work_note" if work_note else "comment", now)
    return incident


def assign(session: Session, actor: Actor, number: str, *, team: str | int | None = None,
           assignee: str | int | None = None, to_me: bool = False,
           expected_version: int | None = None, seen: Mapping[str, Any] | None = None,
           now: datetime | None = None) -> Incident:
    agent_id = require(session, actor, "incident.work")
    now = now or utcnow()
    incident = _load_for_change(session, number, expected_version, seen)
    if incident.status not in OPEN_STATUSES:
        _check_transition(incident, "assigned")
    new_team = find_team(session, team) if team is not None else None
    person: Agent | None = None
    if to_me:
        person = session.get(Agent, agent_id)
    elif assignee is not None:
        person = find_agent(session, assignee)
    if new_team is None and person is None:
        raise InvalidInput(_("assign to a team, a person or yourself"))
    if new_team is not None:
        _set(session, incident, agent_id, "team_id", new_team.id, now)
        if person is None and incident.assignee_id is not None:
            _set(session, incident, agent_id, "assignee_id", None, now)
    if person is not None:
        if new_team is None and person.team_id and person.team_id != incident.team_id:
            _set(session, incident, agent_id, "team_id", person.team_id, now)
        _set(session, incident, agent_id, "assignee_id", person.id, now)
        _first_response(incident, now)
    if incident.status == "new":
        _status(session, incident, agent_id, "assigned", now)
    _touch(session, incident, "assignment", now)
    return incident


def assign_many(session: Session, actor: Actor, numbers: Sequence[str], *,
                team: str | int | None = None, assignee: str | int | None = None,
                to_me: bool = False, now: datetime | None = None) -> int:
    """Assign several incidents at once (the queue's marked rows, `pob incident assign`):
    each through `assign`, so each is audited and checked like a single one, in the
    caller's transaction: one refusal and none is assigned. Returns how many."""
    require(session, actor, "incident.work")
    wanted = list(dict.fromkeys(n.strip().upper() for n in numbers if n.strip()))
    if not wanted:
        raise InvalidInput(_("name the incidents to assign"))
    now = now or utcnow()
    for number in wanted:
        assign(session, actor, number, team=team, assignee=assignee, to_me=to_me, now=now)
    return len(wanted)


def escalate(session: Session, actor: Actor, number: str, *, team: str | int, reason: str,
             expected_version: int | None = None, seen: Mapping[str, Any] | None = None,
             now: datetime | None = None) -> Incident:
    """Hand over to a second-line team or supplier: escalation level + 1, reason required."""
    agent_id = require(session, actor, "incident.work")
    now = now or utcnow()
    if not reason or not reason.strip():
        raise InvalidInput(_("an escalation needs a reason"))
    incident = _load_for_change(session, number, expected_version, seen)
    target = find_team(session, team)
    if target.kind == "service_desk":
        raise InvalidInput(_("escalate to a second-line team or supplier, not {team}").format(
            team=target.name))
    if target.id == incident.team_id:
        raise InvalidInput(_("{number} is already with {team}").format(number=incident.number,
                                                                      team=target.name))
    if incident.status not in OPEN_STATUSES:
        _check_transition(incident, "assigned")
    _set(session, incident, agent_id, "team_id", target.id, now, comment=reason,
         kind="assignment")
    _set(session, incident, agent_id, "assignee_id", None, now)
    _set(session, incident, agent_id, "escalation_level", incident.escalation_level + 1, now,
         comment=reason)
    if incident.status != "assigned":
        _status(session, incident, agent_id, "assigned", now, comment=reason)
    _first_response(incident, now)
    _touch(session, incident, "escalated", now)
    return incident


def set_status(session: Session, actor: Actor, number: str, status: str, *,
               note: str | None = None, expected_version: int | None = None,
               seen: Mapping[str, Any] | None = None, now: datetime | None = None) -> Incident:
    """Start work, wait for caller or supplier, close, cancel or reopen."""
    agent_id = require(session, actor, "incident.work")
    now = now or utcnow()
    incident = _load_for_change(session, number, expected_version, seen)
    if status == "resolved":
        raise InvalidInput(_("use resolve, which needs a resolution code and note"))
    if status == "cancelled" and not (note and note.strip()):
        raise InvalidInput(_("say why the incident is cancelled"))
    reopening = incident.status == "resolved" and status == "in_progress"
    if reopening and not (note and note.strip()):
        raise InvalidInput(_("say why the incident is reopened"))
    _status(session, incident, agent_id, status, now, comment=note)
    if status == "closed":
        incident.closed_at = now
    if reopening:
        incident.resolved_at = None
        incident.first_line = False
        _set(session, incident, agent_id, "resolution_code", None, now)
    if status in ("in_progress",) and incident.assignee_id is None:
        _set(session, incident, agent_id, "assignee_id", agent_id, now)
    _touch(session, incident, "reopened" if reopening else status, now)
    return incident


def resolve(session: Session, actor: Actor, number: str, *, code: str, note: str,
            expected_version: int | None = None, seen: Mapping[str, Any] | None = None,
            now: datetime | None = None) -> Incident:
    agent_id = require(session, actor, "incident.work")
    now = now or utcnow()
    incident = _load_for_change(session, number, expected_version, seen)
    if incident.assignee_id is None:
        _set(session, incident, agent_id, "assignee_id", agent_id, now)
    _resolve(session, incident, agent_id, code, note, now)
    return incident


def update_fields(session: Session, actor: Actor, number: str, changes: Mapping[str, Any], *,
                  expected_version: int | None = None, seen: Mapping[str, Any] | None = None,
                  now: datetime | None = None) -> Incident:
    """Edit summary, description, impact, urgency, service, CI or channel; priority follows
    impact and urgency."""
    agent_id = require(session, actor, "incident.work")
    now = now or utcnow()
    allowed = {"summary", "description", "impact", "urgency", "service", "ci", "channel"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(_("cannot edit {field}").format(field=", ".join(sorted(unknown))))
    incident = _load_for_change(session, number, expected_version, seen)
    if incident.status not in OPEN_STATUSES:
        raise TransitionNotAllowed(_("{number} is {status}; reopen it to edit").format(
            number=incident.number, status=status_text(incident.status)))
    values: dict[str, Any] = {}
    if "summary" in changes:
        summary = str(changes["summary"] or "").strip()
        if not summary or len(summary) > 200:
            raise InvalidInput(_("summary must be 1 to 200 characters"))
        values["summary"] = summary
    if "description" in changes:
        values["description"] = changes["description"]
    if "service" in changes:
        values["service_id"] = (find_service(session, changes["service"]).id
                                if changes["service"] is not None else None)
    if "ci" in changes:
        values["ci_id"] = find_ci(session, changes["ci"]).id if changes["ci"] is not None else None
    if "channel" in changes:
        if changes["channel"] not in CHANNELS:
            raise InvalidInput(_("unknown channel {channel}").format(
                channel=repr(changes["channel"])))
        values["channel"] = changes["channel"]
    impact = int(changes.get("impact", incident.impact))
    urgency = int(changes.get("urgency", incident.urgency))
    caller = session.get(Person, incident.caller_id)
    values["impact"], values["urgency"] = impact, urgency
    values["priority"] = priority_for(impact, urgency, vip=bool(caller and caller.vip))
    changed = [f for f, v in values.items() if _set(session, incident, agent_id, f, v, now)]
    if changed:
        _touch(session, incident, "priority" if "priority" in changed else "edited", now)
    return incident


def record_satisfaction(session: Session, actor: Actor, number: str, score: int,
                        comment_text: str | None = None, *,
                        now: datetime | None = None) -> FollowUp | None:
    """The caller's score 1-6; under 4 creates a follow-up for the customer manager."""
    agent_id = require(session, actor, "incident.work")
    now = now or utcnow()
    if not 1 <= int(score) <= 6:
        raise InvalidInput(_("satisfaction score must be 1 to 6, got {score}").format(score=score))
    incident = get_incident(session, number, for_update=True)
    if incident.status not in ("resolved", "closed"):
        raise TransitionNotAllowed(_(
            "{number} is {status}; satisfaction is recorded once it is resolved").format(
                number=incident.number, status=status_text(incident.status)))
    old = incident.satisfaction
    incident.satisfaction = int(score)
    incident.satisfaction_comment = comment_text
    incident.satisfaction_at = now
    record_ticket_event(session, ticket_type="incident", ticket_id=pk(incident),
                        kind="satisfaction", actor_id=agent_id, field="satisfaction", old=old,
                        new=score, comment=comment_text, at=now)
    _touch(session, incident, "satisfaction", now)
    if int(score) >= 4:
        return None
    caller = session.get(Person, incident.caller_id)
    unit = session.get(OrgUnit, caller.org_unit_id) if caller and caller.org_unit_id else None
    manager_id = _customer_manager(session, unit)
    follow_up = FollowUp(
        incident_id=pk(incident), org_unit_id=unit.id if unit else None, manager_id=manager_id,
        note=f"Score {score} on {incident.number}: {comment_text or ''}".strip(),
        created_at=now,
    )
    session.add(follow_up)
    session.flush()
    return follow_up


def _customer_manager(session: Session, unit: OrgUnit | None) -> int | None:
    """The unit's customer manager, else the nearest one up the tree."""
    seen: set[int] = set()
    while unit is not None and unit.id not in seen:
        if unit.customer_manager_id:
            return unit.customer_manager_id
        seen.add(pk(unit))
        unit = session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    return None


# --- reading -------------------------------------------------------------------------------

Caller = aliased(Person)
Assignee = aliased(Agent)
_ROW_COLUMNS = tuple(col(getattr(Incident, name)) for name in (
    "id", "number", "priority", "status", "summary", "opened_at", "resolved_at",
    "response_due_at", "resolution_due_at", "version", "escalation_level", "problem_id"))
"""The incident's own columns of an `IncidentRow` (not the whole entity: a page is read,
not tracked)."""


def order_by(sort: str) -> list[UnaryExpression[Any]]:
    """The SQL ORDER BY of a sort (`incident_views.SORT_SPEC`), NULLs last where the
    column may hold them, so SQLite (NULL first by default) and PostgreSQL (NULL last
    ascending, first descending) give the same order, and `compare_rows` agrees."""
    if sort not in SORT_SPEC:
        raise InvalidInput(_("unknown sort {sort}; expected one of {choices}").format(
            sort=repr(sort), choices=", ".join(SORTS)))
    out: list[UnaryExpression[Any]] = []
    for name, descending in SORT_SPEC[sort]:
        column = Incident.__table__.c[name]  # type: ignore[attr-defined]
        term: UnaryExpression[Any] = column.desc() if descending else column.asc()
        out.append(nulls_last(term) if column.nullable else term)
    return out


def _list_query(actor: Actor | None, view: str, now: datetime) -> list[ColumnElement[bool]]:
    if view not in LIST_VIEWS:
        raise InvalidInput(_("unknown view {view}; expected one of {choices}").format(
            view=repr(view), choices=", ".join(LIST_VIEWS)))
    conds: list[ColumnElement[bool]] = []
    if view in ("mine", "team", "open", "unassigned"):
        conds.append(col(Incident.status).in_(OPEN_STATUSES))
    if view == "mine":
        conds.append(col(Incident.assignee_id) == (actor.agent_id if actor else -1))
    elif view == "team":
        conds.append(col(Incident.team_id) == (actor.team_id if actor else -1))
    elif view == "unassigned":
        conds.append(col(Incident.assignee_id).is_(None))
    elif view == "waiting":
        conds.append(col(Incident.status).in_(WAITING_STATUSES))
    elif view == "resolved":
        conds.append(col(Incident.status) == "resolved")
        conds.append(col(Incident.resolved_at) >= now - RECENT)
    elif view == "all":
        # Always true, but it lets both databases walk the partial ix_incident_opened_at in
        # order for a page of all history instead of sorting all of it (0.9 s at ten years).
        conds.append(col(Incident.opened_at).is_not(None))
    return conds


def view_conditions(actor: Actor | None, view: str, search: str | None,
                    now: datetime) -> list[ColumnElement[bool]]:
    """The WHERE of a view and a search; the search needs `Caller` and `Service` joined."""
    conds = _list_query(actor, view, now)
    if search and search.strip():
        for token in search.lower().split():
            like = f"%{_escape_like(token)}%"
            conds.append(or_(
                func.lower(col(Incident.number)).like(like, escape="\\"),
                func.lower(col(Incident.summary)).like(like, escape="\\"),
                col(Caller.search).like(like, escape="\\"),
                func.lower(col(Service.code)).like(like, escape="\\"),
                func.lower(col(Service.name)).like(like, escape="\\"),
            ))
    return conds


def list_incidents(session: Session, *, actor: Actor | None = None, view: str = "open",
                   search: str | None = None, status: str | None = None,
                   team: str | None = None, assignee: str | None = None,
                   sort: str | None = None, limit: int = 100, offset: int = 0,
                   now: datetime | None = None,
                   ids: Collection[int] | None = None) -> list[IncidentRow]:
    """One page of incidents as plain rows, filtered and sorted in SQL; `ids` narrows to
    those incidents (live queues re-fetch only the rows another agent changed)."""
    now = now or utcnow()
    conds = view_conditions(actor, view, search, now)
    if ids is not None:
        conds.append(col(Incident.id).in_(list(ids)))
    if status:
        if status not in INCIDENT_STATUSES:
            raise InvalidInput(_("unknown status {status}; expected one of {choices}").format(
                status=repr(status), choices=", ".join(INCIDENT_STATUSES)))
        conds.append(col(Incident.status) == status)
    if team:
        conds.append(col(Incident.team_id) == find_team(session, team).id)
    if assignee:
        conds.append(col(Incident.assignee_id) == find_agent(session, assignee).id)
    order = order_by(sort or ("resolved" if view == "resolved" else "age"))
    stmt = (
        select(*_ROW_COLUMNS,
               col(Caller.username).label("caller"), col(Caller.first_name).label("first"),
               col(Caller.last_name).label("last"), col(Caller.vip).label("vip"),
               col(Service.code).label("service"), col(Service.name).label("service_name"),
               col(Team.name).label("team"), col(Assignee.username).label("assignee"))
        .join(Caller, col(Caller.id) == col(Incident.caller_id))
        .outerjoin(Service, col(Service.id) == col(Incident.service_id))
        .outerjoin(Team, col(Team.id) == col(Incident.team_id))
        .outerjoin(Assignee, col(Assignee.id) == col(Incident.assignee_id))
        .where(*conds)
        .order_by(*order)
        .limit(limit).offset(offset)
    )
    rows: list[IncidentRow] = []
    for r in session.execute(stmt):
        m = r._mapping
        rows.append(IncidentRow(
            id=m["id"], number=m["number"], priority=m["priority"], status=m["status"],
            summary=m["summary"], opened_at=m["opened_at"], resolved_at=m["resolved_at"],
            response_due_at=m["response_due_at"], resolution_due_at=m["resolution_due_at"],
            version=m["version"], escalation_level=m["escalation_level"],
            problem_id=m["problem_id"], caller=m["caller"],
            caller_name=f"{m['first']} {m['last']}", vip=m["vip"], service=m["service"],
            service_name=m["service_name"], team=m["team"], assignee=m["assignee"],
        ))
    return rows


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def incident_detail(session: Session, number: str, *, events: bool = True
                    ) -> IncidentDetail:
    """Every field with names resolved, the linked problem, and the event timeline (left
    out with `events=False`: the screen draws the fields first, the timeline after)."""
    inc = get_incident(session, number)
    caller = session.get(Person, inc.caller_id)
    service = session.get(Service, inc.service_id) if inc.service_id else None
    team = session.get(Team, inc.team_id) if inc.team_id else None
    assignee = session.get(Agent, inc.assignee_id) if inc.assignee_id else None
    ci = session.get(ConfigItem, inc.ci_id) if inc.ci_id else None
    problem = session.get(Problem, inc.problem_id) if inc.problem_id else None
    unit = session.get(OrgUnit, caller.org_unit_id) if caller and caller.org_unit_id else None
    # the columns by name, in the model's order (the JSON of `pob incident show`);
    # IncidentDetail declares the same names (tests/test_incidents.py checks it)
    data = cast(IncidentDetail, {f: getattr(inc, f) for f in Incident.model_fields})
    data.update({
        "caller": caller.username if caller else None,
        "caller_name": caller.name if caller else None,
        "caller_phone": caller.phone if caller else None,
        "caller_email": caller.email if caller else None,
        "caller_vip": bool(caller and caller.vip),
        "org_unit": unit.name if unit else None,
        "service": service.code if service else None,
        "service_name": service.name if service else None,
        "team": team.name if team else None,
        "assignee": assignee.username if assignee else None,
        "ci": ci.name if ci else None,
        "problem": problem.number if problem else None,
        "problem_title": problem.title if problem else None,
        "workaround": problem.workaround if problem else None,
    })
    if events:
        data["events"] = incident_events(session, pk(inc))
    return data


def incident_events(session: Session, incident_id: int) -> list[EventRow]:
    """The incident's events, oldest first, with who did each."""
    rows = session.execute(
        select(TicketEvent, col(Agent.username).label("who"))
        .outerjoin(Agent, col(Agent.id) == col(TicketEvent.actor_id))
        .where(col(TicketEvent.ticket_type) == "incident",
               col(TicketEvent.ticket_id) == incident_id)
        .order_by(col(TicketEvent.at), col(TicketEvent.id))
    ).all()
    return [EventRow(at=r.TicketEvent.at, actor=r.who, kind=r.TicketEvent.kind,
                     field=r.TicketEvent.field, old=r.TicketEvent.old_value,
                     new=r.TicketEvent.new_value, comment=r.TicketEvent.comment,
                     minutes=r.TicketEvent.minutes) for r in rows]


def list_follow_ups(session: Session, *, status: str = "open", limit: int = 100,
                    offset: int = 0) -> list[FollowUpRow]:
    """Follow-ups by status, newest first."""
    Manager = aliased(Person)
    rows = session.execute(
        select(FollowUp, col(Incident.number).label("number"),
               col(Incident.summary).label("summary"),
               col(Incident.satisfaction).label("score"), col(OrgUnit.name).label("unit"),
               col(Manager.first_name).label("first"), col(Manager.last_name).label("last"))
        .join(Incident, col(Incident.id) == col(FollowUp.incident_id))
        .outerjoin(OrgUnit, col(OrgUnit.id) == col(FollowUp.org_unit_id))
        .outerjoin(Manager, col(Manager.id) == col(FollowUp.manager_id))
        .where(col(FollowUp.status) == status)
        .order_by(col(FollowUp.created_at).desc(), col(FollowUp.id).desc())
        .limit(limit).offset(offset)
    ).all()
    return [FollowUpRow(
        id=pk(r.FollowUp), number=r.number, summary=r.summary, score=r.score,
        org_unit=r.unit, manager=f"{r.first} {r.last}" if r.first else None,
        note=r.FollowUp.note, created_at=r.FollowUp.created_at, status=r.FollowUp.status,
    ) for r in rows]
