"""Problems and known errors: the causes behind incidents and the workarounds agents use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from pob_tui.errors import InvalidInput, NotFound, TransitionNotAllowed
from pob_tui.i18n import LazyLabels, _
from pob_tui.models import Agent, Incident, Problem, Service, Team, TicketEvent, utcnow
from pob_tui.models.incident import OPEN_STATUSES
from pob_tui.models.problem import PROBLEM_STATUSES
from pob_tui.services.audit import record_ticket_event
from pob_tui.services.catalog import find_service
from pob_tui.services.identity import Actor
from pob_tui.services.incidents import find_team, get_incident
from pob_tui.services.numbers import next_number
from pob_tui.services.permissions import require

PROBLEM_TRANSITIONS = {
    "new": ("investigating", "known_error", "resolved", "closed"),
    "investigating": ("known_error", "resolved", "closed"),
    "known_error": ("investigating", "resolved", "closed"),
    "resolved": ("closed", "investigating"),
    "closed": (),
}


class ProblemRow(TypedDict):
    """One row of the problem list."""

    number: str
    title: str
    status: str
    priority: int
    known_error: bool
    service: str | None
    team: str | None
    opened_at: datetime
    incidents: int
    """How many incidents are linked."""


class KnownErrorHit(TypedDict):
    """A known error offered while logging a call or from the palette."""

    number: str
    title: str
    symptoms: str | None
    workaround: str | None
    service: str | None
    via: str | None
    """The service the call's service rests on that the known error belongs to."""
    other_service: bool
    """Searched without a service: the row names its own."""


class LinkedIncident(TypedDict):
    number: str
    status: str
    summary: str


class ProblemEvent(TypedDict):
    at: datetime
    actor: str | None
    kind: str
    field: str | None
    old: str | None
    new: str | None
    comment: str | None


class ProblemDetail(TypedDict):
    """Every column of one problem (same names), with service and team by name, its
    incidents (newest first, at most 200) and its history."""

    id: int
    number: str
    title: str
    description: str | None
    status: str
    priority: int
    service_id: int | None
    ci_id: int | None
    team_id: int | None
    assignee_id: int | None
    root_cause: str | None
    workaround: str | None
    known_error: bool
    symptoms: str | None
    opened_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    version: int
    service: str | None
    team: str | None
    incidents: list[LinkedIncident]
    events: list[ProblemEvent]


_STATUS_WORDS = LazyLabels(lambda: {
    "new": _("new"), "investigating": _("investigating"), "known_error": _("known error"),
    "resolved": _("resolved"), "closed": _("closed"),
})
"""A problem's stored status as an error sentence reads it: 'known error', 'kjent feil'."""


def get_problem(session: Session, number: str, *, for_update: bool = False) -> Problem:
    stmt = select(Problem).where(col(Problem.number) == number.strip().upper())
    if for_update:
        stmt = stmt.with_for_update()
    problem: Problem | None = session.execute(stmt).scalars().first()
    if problem is None:
        raise NotFound(_("unknown problem {number}").format(number=repr(number)))
    return problem


def _event(session: Session, problem: Problem, agent_id: int | None, kind: str, now: datetime,
           *, field: str | None = None, old: Any = None, new: Any = None,
           comment: str | None = None) -> None:
    assert problem.id is not None  # events are written for flushed problems
    record_ticket_event(session, ticket_type="problem", ticket_id=problem.id, kind=kind,
                        actor_id=agent_id, field=field, old=old, new=new, comment=comment,
                        at=now)


def create_problem(session: Session, actor: Actor, *, title: str,
                   description: str | None = None, service: str | int | None = None,
                   team: str | int | None = None, from_incident: str | None = None,
                   priority: int = 3, now: datetime | None = None) -> Problem:
    agent_id = require(session, actor, "problem.work")
    now = now or utcnow()
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise InvalidInput(_("a problem needs a title of 1 to 200 characters"))
    if priority not in range(1, 6):
        raise InvalidInput(_("priority must be 1 to 5, got {priority}").format(priority=priority))
    incident = get_incident(session, from_incident) if from_incident else None
    service_id = find_service(session, service).id if service is not None else (
        incident.service_id if incident else None)
    team_id = find_team(session, team).id if team is not None else (
        incident.team_id if incident else actor.team_id)
    problem = Problem(number=next_number(session, "PRB"), title=title, description=description,
                      service_id=service_id, team_id=team_id, priority=priority,
                      ci_id=incident.ci_id if incident else None, opened_at=now,
                      updated_at=now)
    session.add(problem)
    session.flush()
    _event(session, problem, agent_id, "created", now, comment=title)
    if incident:
        link_incidents(session, actor, problem.number, [incident.number], now=now)
    return problem


def link_incidents(session: Session, actor: Actor, number: str, incidents: Sequence[str], *,
                   unlink: bool = False, now: datetime | None = None) -> int:
    """Link (or unlink) incidents; returns how many changed. All or nothing."""
    agent_id = require(session, actor, "problem.work")
    now = now or utcnow()
    problem = get_problem(session, number)
    loaded = [get_incident(session, n, for_update=True) for n in incidents]
    changed = 0
    for inc in loaded:
        target = None if unlink else problem.id
        if unlink and inc.problem_id != problem.id:
            continue
        if inc.problem_id == target:
            continue
        old = inc.problem_id
        inc.problem_id = target
        inc.version += 1
        inc.updated_at = now
        assert inc.id is not None  # loaded from the database
        record_ticket_event(session, ticket_type="incident", ticket_id=inc.id, kind="link",
                            actor_id=agent_id, field="problem_id", old=old, new=target,
                            comment=("unlinked from " if unlink else "linked to ")
                            + problem.number, at=now)
        _event(session, problem, agent_id, "link", now, field="incident",
               new=None if unlink else inc.number, old=inc.number if unlink else None)
        changed += 1
    return changed


@dataclass(frozen=True)
class Linked:
    """What `link_or_create` did: the problem, whether it was created, how many incidents
    it gained."""

    problem: str
    created: bool
    changed: int


def link_or_create(session: Session, actor: Actor, incidents: Sequence[str], *,
                   problem: str | None = None, title: str | None = None,
                   now: datetime | None = None) -> Linked:
    """Link incidents to problem `problem`, or to a new problem titled `title` opened from
    the first of them (its service, team and CI): the queue's bulk link, the incident
    screen's link and `pob incident link`. All or nothing, in the caller's transaction."""
    require(session, actor, "problem.work")
    wanted = list(dict.fromkeys(n.strip().upper() for n in incidents if n.strip()))
    if not wanted:
        raise InvalidInput(_("name the incidents to link"))
    number = (problem or "").strip()  # a number given wins over a title
    now = now or utcnow()
    if number:
        changed = link_incidents(session, actor, number, wanted, now=now)
        return Linked(get_problem(session, number).number, False, changed)
    if not (title or "").strip():
        raise InvalidInput(_("give a problem number or a title for a new problem"))
    created = create_problem(session, actor, title=title or "", from_incident=wanted[0],
                             now=now)
    changed = 1 + link_incidents(session, actor, created.number, wanted[1:], now=now)
    return Linked(created.number, True, changed)


def update_problem(session: Session, actor: Actor, number: str, *,
                   root_cause: str | None = None, workaround: str | None = None,
                   symptoms: str | None = None, known_error: bool | None = None,
                   status: str | None = None, note: str | None = None,
                   expected_version: int | None = None,
                   now: datetime | None = None) -> Problem:
    """Record cause and workaround, mark a known error, move the status. Resolving adds a
    note to every open incident linked to the problem."""
    agent_id = require(session, actor, "problem.work")
    now = now or utcnow()
    problem = get_problem(session, number, for_update=True)
    if expected_version is not None and problem.version != expected_version:
        from pob_tui.errors import ConflictError

        raise ConflictError(_("{number} was changed by someone else since you opened it; "
                              "review and try again").format(number=problem.number))
    fields = {"root_cause": root_cause, "workaround": workaround, "symptoms": symptoms}
    for field, value in fields.items():
        if value is not None and value != getattr(problem, field):
            _event(session, problem, agent_id, "field", now, field=field,
                   old=getattr(problem, field), new=value)
            setattr(problem, field, value)
    if known_error:
        if not (problem.workaround or "").strip() or not (problem.symptoms or "").strip():
            raise InvalidInput(_("a known error needs symptoms and a workaround"))
        if not problem.known_error:
            _event(session, problem, agent_id, "field", now, field="known_error", old=False,
                   new=True)
            problem.known_error = True
        if status is None and problem.status in ("new", "investigating"):
            status = "known_error"
    elif known_error is False and problem.known_error:
        _event(session, problem, agent_id, "field", now, field="known_error", old=True,
               new=False)
        problem.known_error = False
    if status is not None and status != problem.status:
        if status not in PROBLEM_STATUSES:
            raise InvalidInput(_("unknown problem status {status}; expected one of {choices}")
                               .format(status=repr(status), choices=", ".join(PROBLEM_STATUSES)))
        if status not in PROBLEM_TRANSITIONS[problem.status]:
            raise TransitionNotAllowed(_("{number} cannot become {status}: it is {current}")
                                       .format(number=problem.number,
                                               status=_STATUS_WORDS.get(status, status),
                                               current=_STATUS_WORDS.get(problem.status,
                                                                         problem.status)))
        if status == "resolved" and not (problem.root_cause or "").strip():
            raise InvalidInput(_("record the root cause before resolving the problem"))
        _event(session, problem, agent_id, "status", now, field="status", old=problem.status,
               new=status, comment=note)
        problem.status = status
        if status == "resolved":
            problem.resolved_at = now
            _note_open_incidents(session, problem, agent_id, note, now)
        if status == "closed":
            problem.closed_at = now
    problem.version += 1
    problem.updated_at = now
    return problem


def _note_open_incidents(session: Session, problem: Problem, agent_id: int | None,
                         note: str | None, now: datetime) -> None:
    incidents = session.execute(
        select(Incident).where(col(Incident.problem_id) == problem.id,
                               col(Incident.status).in_(OPEN_STATUSES))
    ).scalars().all()
    text = f"{problem.number} is resolved: {note or problem.root_cause or ''}".strip()
    for inc in incidents:
        record_ticket_event(session, ticket_type="incident", ticket_id=inc.id,
                            kind="work_note", actor_id=agent_id, comment=text, at=now)
        inc.version += 1
        inc.updated_at = now


SERVICE_DEPTH = 4
"""How many CI hops (depends on / runs on) a service's known errors reach."""


def supporting_services(session: Session, service_id: int,
                        depth: int = SERVICE_DEPTH) -> set[int]:
    """The services `service_id` rests on: its CIs, what they depend on or run on (a few
    hops), and the services built on those CIs. E-post rests on Exchange Online and the
    network; it does not rest on Skoleportal. One query a hop."""
    from pob_tui.models import CiRelation, ServiceCi

    cis = set(session.execute(select(col(ServiceCi.ci_id))
                              .where(col(ServiceCi.service_id) == service_id)).scalars())
    frontier = set(cis)
    for _step in range(depth):
        if not frontier:
            break
        nxt = set(session.execute(
            select(col(CiRelation.target_id)).where(col(CiRelation.source_id).in_(frontier),
                                               col(CiRelation.kind).in_(("depends_on", "runs_on")))
        ).scalars()) - cis
        cis |= nxt
        frontier = nxt
    if not cis:
        return set()
    return set(session.execute(
        select(col(ServiceCi.service_id)).where(col(ServiceCi.ci_id).in_(cis),
                                           col(ServiceCi.service_id) != service_id)
    ).scalars())


def search_known_errors(session: Session, text: str = "", *, service_id: int | None = None,
                        limit: int = 10) -> list[KnownErrorHit]:
    """Known errors whose title or symptoms share words with `text`.

    With a service: only that service's known errors and those of the services it rests on
    (`supporting_services`; such rows carry `via` = that service's name), the service's own
    first, so a workaround about printing is never offered for e-mail. Without a service:
    any service's, each row naming its service. Ranked by how many words match; with no
    words, the service's known errors."""
    words = [w for w in (text or "").lower().split() if len(w) >= 3][:8]
    conds = [col(Problem.known_error).is_(True), col(Problem.status) != "closed"]
    hay = func.lower(func.coalesce(col(Problem.title),
                                   "") + " " + func.coalesce(col(Problem.symptoms), ""))
    if words:
        conds.append(or_(*[hay.like(f"%{w}%") for w in words]))
    elif service_id is None:
        return []
    if service_id is not None:
        allowed = {service_id} | supporting_services(session, service_id)
        conds.append(col(Problem.service_id).in_(allowed))
    rows = session.execute(
        select(col(Problem.number).label("number"), col(Problem.title).label("title"),
               col(Problem.symptoms).label("symptoms"),
               col(Problem.workaround).label("workaround"),
               col(Problem.service_id).label("service_id"), col(Service.name).label("service"))
        .outerjoin(Service, col(Service.id) == Problem.service_id)
        .where(*conds).limit(200)
    ).all()

    def score(r: Any) -> tuple[int, int, str]:
        blob = f"{r.title} {r.symptoms or ''}".lower()
        hits = sum(1 for w in words if w in blob)
        own = service_id is not None and r.service_id == service_id
        return (-(1 if own else 0), -hits, str(r.number))

    ranked = sorted(rows, key=score)[:limit]
    return [KnownErrorHit(
        number=r.number, title=r.title, symptoms=r.symptoms, workaround=r.workaround,
        service=r.service,
        via=r.service if service_id is not None and r.service_id != service_id else None,
        other_service=service_id is None) for r in ranked]


def check_known_error_fits(session: Session, problem: Problem, service_id: int | None) -> None:
    """Refuse resolving a call on `service_id` with another service's known error (one the
    service does not rest on): its workaround is about something else."""
    if service_id is None or problem.service_id is None or problem.service_id == service_id:
        return
    if problem.service_id in supporting_services(session, service_id):
        return
    theirs = session.get(Service, problem.service_id)
    ours = session.get(Service, service_id)
    raise InvalidInput(_("{number} is a known error of {theirs}, which {ours} does not depend "
                         "on").format(number=problem.number, theirs=theirs.name if theirs else "?",
                                      ours=ours.name if ours else _("the service")))


def list_problems(session: Session, *, status: str | None = None, known_error: bool | None = None,
                  search: str | None = None, limit: int = 100,
                  offset: int = 0) -> list[ProblemRow]:
    """Open problems (or those of `status`), highest priority first, newest first within."""
    linked = (select(func.count()).where(col(Incident.problem_id) == Problem.id)
              .correlate(Problem).scalar_subquery())
    stmt = (select(col(Problem.number).label("number"), col(Problem.title).label("title"),
                   col(Problem.status).label("status"), col(Problem.priority).label("priority"),
                   col(Problem.known_error).label("known_error"),
                   col(Service.name).label("service"), col(Team.name).label("team"),
                   col(Problem.opened_at).label("opened_at"), linked.label("incidents"))
            .outerjoin(Service, col(Service.id) == Problem.service_id)
            .outerjoin(Team, col(Team.id) == Problem.team_id))
    if status:
        stmt = stmt.where(col(Problem.status) == status)
    else:
        stmt = stmt.where(col(Problem.status) != "closed")
    if known_error is not None:
        stmt = stmt.where(col(Problem.known_error).is_(known_error))
    if search:
        like = f"%{search.lower()}%"
        stmt = stmt.where(or_(func.lower(col(Problem.title)).like(like),
                              func.lower(col(Problem.number)).like(like)))
    stmt = stmt.order_by(col(Problem.priority),
                         col(Problem.opened_at).desc()).limit(limit).offset(offset)
    return [ProblemRow(number=r.number, title=r.title, status=r.status, priority=r.priority,
                       known_error=r.known_error, service=r.service, team=r.team,
                       opened_at=r.opened_at, incidents=r.incidents)
            for r in session.execute(stmt)]


def problem_detail(session: Session, number: str) -> ProblemDetail:
    """One problem with its incidents and history (`pob problem show`, the detail screen)."""
    p = get_problem(session, number)
    service = session.get(Service, p.service_id) if p.service_id else None
    team = session.get(Team, p.team_id) if p.team_id else None
    incidents = session.execute(
        select(col(Incident.number).label("number"), col(Incident.status).label("status"),
               col(Incident.summary).label("summary"))
        .where(col(Incident.problem_id) == p.id).order_by(col(Incident.opened_at).desc())
        .limit(200)
    ).all()
    events = session.execute(
        select(TicketEvent, col(Agent.username).label("who"))
        .outerjoin(Agent, col(Agent.id) == TicketEvent.actor_id)
        .where(col(TicketEvent.ticket_type) == "problem", col(TicketEvent.ticket_id) == p.id)
        .order_by(col(TicketEvent.at), col(TicketEvent.id))
    ).all()
    # the columns by name, in the model's order (the JSON of `pob problem show`)
    data = cast(ProblemDetail, {f: getattr(p, f) for f in Problem.model_fields})
    data.update({
        "service": service.name if service else None,
        "team": team.name if team else None,
        "incidents": [LinkedIncident(number=r.number, status=r.status, summary=r.summary)
                      for r in incidents],
        "events": [ProblemEvent(at=r.TicketEvent.at, actor=r.who, kind=r.TicketEvent.kind,
                                field=r.TicketEvent.field, old=r.TicketEvent.old_value,
                                new=r.TicketEvent.new_value, comment=r.TicketEvent.comment)
                   for r in events],
    })
    return data
