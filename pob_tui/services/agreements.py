"""Agreements (SLAs): the list, one agreement with its targets, and target edits with a
preview of what the change does to this month's compliance.

The preview reuses the SLA clock code (`services.sla`: the calendars, `terms_for`,
`pauses_from`) and the compliance rule of `reports.sla` (a clock counts once it stopped or
is past due; met when it stopped by its due time): for every response and resolution clock
started this month under this agreement at that priority it computes the due time the new
target would have given and counts met and missed both ways. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from pob_tui.config import Settings
from pob_tui.errors import InvalidInput, NotFound
from pob_tui.i18n import _
from pob_tui.models import (
    Agreement,
    AgreementService,
    Calendar,
    Incident,
    OlaTarget,
    OrgUnit,
    Person,
    Service,
    SlaClock,
    SlaTarget,
    Team,
    TicketEvent,
)
from pob_tui.services.audit import record_admin_event
from pob_tui.services.identity import Actor
from pob_tui.services.permissions import require

PRIORITIES = (1, 2, 3, 4, 5)
MAX_MINUTES = 60 * 24 * 365


@dataclass(frozen=True)
class AgreementRow:
    id: int
    name: str
    customer: str | None  # org unit code; None: for everyone
    customer_name: str | None
    services: list[str]  # codes; empty: all services
    calendar: str
    is_default: bool

    def as_dict(self) -> dict[str, Any]:
        """The `pob agreement list` row (the JSON keys are a contract)."""
        return {"name": self.name, "customer": self.customer, "services": self.services,
                "calendar": self.calendar}


@dataclass(frozen=True)
class Target:
    priority: int
    response_minutes: int
    resolution_minutes: int


@dataclass(frozen=True)
class OlaRow:
    team: str  # code
    team_name: str
    priority: int
    response_minutes: int
    resolution_minutes: int


@dataclass(frozen=True)
class AgreementDetail:
    agreement: AgreementRow
    service_names: list[str]
    valid_from: Any
    valid_to: Any
    targets: list[Target]
    ola: list[OlaRow]

    def as_dict(self) -> dict[str, Any]:
        """The `pob agreement show` object (the JSON keys are a contract)."""
        return {
            **self.agreement.as_dict(),
            "targets": [{"priority": t.priority, "response_minutes": t.response_minutes,
                         "resolution_minutes": t.resolution_minutes} for t in self.targets],
            "ola": [{"team": o.team, "priority": o.priority,
                     "resolution_minutes": o.resolution_minutes} for o in self.ola],
        }


@dataclass(frozen=True)
class Outcome:
    """Met and missed clocks of one kind (response or resolution)."""

    met: int
    missed: int

    @property
    def total(self) -> int:
        return self.met + self.missed

    @property
    def share(self) -> float | None:
        return round(self.met / self.total, 4) if self.total else None


@dataclass(frozen=True)
class TargetPreview:
    agreement: str
    priority: int
    month: str  # YYYY-MM
    old: Target | None
    new: Target
    before: dict[str, Outcome]  # kind -> outcome with the current target
    after: dict[str, Outcome]  # kind -> outcome had the new target applied all month
    running: int  # running clocks whose due time would move

    def as_dict(self) -> dict[str, Any]:
        def side(o: dict[str, Outcome]) -> dict[str, Any]:
            return {k: {"met": v.met, "missed": v.missed, "share_met": v.share}
                    for k, v in o.items()}

        return {"agreement": self.agreement, "priority": self.priority, "month": self.month,
                "old": None if self.old is None else {
                    "response_minutes": self.old.response_minutes,
                    "resolution_minutes": self.old.resolution_minutes},
                "new": {"response_minutes": self.new.response_minutes,
                        "resolution_minutes": self.new.resolution_minutes},
                "before": side(self.before), "after": side(self.after),
                "running_clocks": self.running}


@dataclass(frozen=True)
class TargetChange:
    preview: TargetPreview
    changes: list[tuple[str, Any, Any]]


# --------------------------------------------------------------------------- reading

def _rows(session: Session, where: Any = None) -> list[AgreementRow]:
    stmt = (select(col(Agreement.id), col(Agreement.name), col(OrgUnit.code), col(OrgUnit.name),
                   col(Calendar.name),
                   col(Agreement.is_default))
            .outerjoin(OrgUnit, col(OrgUnit.id) == Agreement.customer_id)
            .join(Calendar, col(Calendar.id) == Agreement.calendar_id)
            .order_by(col(Agreement.is_default).desc(), col(Agreement.name)))
    if where is not None:
        stmt = stmt.where(where)
    base = session.execute(stmt).all()
    services: dict[int, list[str]] = {}
    if base:
        for aid, code in session.execute(
                select(col(AgreementService.agreement_id), col(Service.code))
                .join(Service, col(Service.id) == AgreementService.service_id)
                .where(col(AgreementService.agreement_id).in_([r[0] for r in base]))
                .order_by(col(Service.code))):
            services.setdefault(aid, []).append(code)
    return [AgreementRow(id=r[0], name=r[1], customer=r[2], customer_name=r[3],
                         services=services.get(r[0], []), calendar=r[4],
                         is_default=bool(r[5])) for r in base]


def list_agreements(session: Session, *, search: str | None = None) -> list[AgreementRow]:
    """All agreements (a few dozen), the default first; `search` matches name or customer."""
    where = None
    if search and search.strip():
        term = f"%{search.strip().lower()}%"
        where = ((func.lower(col(Agreement.name)).like(term))
                 | (func.lower(col(OrgUnit.name)).like(term)))
    return _rows(session, where)


def find_agreement(session: Session, name: str) -> Agreement:
    """By exact name, else the one whose name matches case-insensitively."""
    name = (name or "").strip()
    found: Agreement | None = session.execute(
        select(Agreement).where(col(Agreement.name) == name)).scalars().first()
    if found is None:
        matches = session.execute(select(Agreement).where(
            func.lower(col(Agreement.name)) == name.lower())).scalars().all()
        found = matches[0] if len(matches) == 1 else None
    if found is None:
        raise NotFound(_("unknown agreement {name}").format(name=repr(name)))
    return found


def agreement_detail(session: Session, name: str) -> AgreementDetail:
    """The agreement with its SLA targets per priority, and the OLA targets of the teams
    that support its services (all teams with OLA targets when it covers every service)."""
    agreement = find_agreement(session, name)
    row = _rows(session, col(Agreement.id) == agreement.id)[0]
    service_names = list(session.execute(
        select(col(Service.name)).join(AgreementService,
                                       col(AgreementService.service_id) == Service.id)
        .where(col(AgreementService.agreement_id) == agreement.id)
        .order_by(col(Service.code))).scalars())
    targets = [Target(p, r, s) for p, r, s in session.execute(
        select(col(SlaTarget.priority), col(SlaTarget.response_minutes),
               col(SlaTarget.resolution_minutes))
        .where(col(SlaTarget.agreement_id) == agreement.id).order_by(col(SlaTarget.priority)))]
    ola_q = (select(col(Team.code), col(Team.name), col(OlaTarget.priority),
                    col(OlaTarget.response_minutes),
                    col(OlaTarget.resolution_minutes))
             .join(Team, col(Team.id) == OlaTarget.team_id)
             .order_by(col(Team.code), col(OlaTarget.priority)))
    if row.services:
        teams = select(col(Service.support_team_id)).join(
            AgreementService, col(AgreementService.service_id) == Service.id).where(
            col(AgreementService.agreement_id) == agreement.id)
        ola_q = ola_q.where(col(OlaTarget.team_id).in_(teams))
    ola = [OlaRow(*r) for r in session.execute(ola_q)]
    return AgreementDetail(row, service_names, agreement.valid_from, agreement.valid_to,
                           targets, ola)


# --------------------------------------------------------------------------- preview

def _month_start(now: datetime, settings: Settings) -> datetime:
    local = now.astimezone(settings.tzinfo)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _new_target(old: Target | None, priority: int, response: int | None,
                resolution: int | None) -> Target:
    if priority not in PRIORITIES:
        raise InvalidInput(_("--priority must be 1 to 5, not {priority}").format(priority=priority))
    if response is None and resolution is None:
        raise InvalidInput(_("give --response or --resolution (minutes)"))
    for flag, value in (("--response", response), ("--resolution", resolution)):
        if value is not None and not 1 <= value <= MAX_MINUTES:
            raise InvalidInput(_("{flag} must be 1 to {max} minutes, not {value}").format(
                flag=flag, max=MAX_MINUTES, value=value))
    if old is None and (response is None or resolution is None):
        raise InvalidInput(_("the agreement has no target for priority {priority} yet; give "
                             "both --response and --resolution").format(priority=priority))
    new = Target(priority,
                 response if response is not None else old.response_minutes,  # type: ignore[union-attr]
                 resolution if resolution is not None else old.resolution_minutes)  # type: ignore[union-attr]
    if new.response_minutes > new.resolution_minutes:
        raise InvalidInput(_("the response time cannot be longer than the resolution time "
                             "({response} > {resolution} minutes)").format(
            response=new.response_minutes, resolution=new.resolution_minutes))
    return new


def _current(session: Session, agreement_id: int, priority: int) -> Target | None:
    row = session.execute(select(col(SlaTarget.response_minutes), col(SlaTarget.resolution_minutes))
                          .where(col(SlaTarget.agreement_id) == agreement_id,
                                 col(SlaTarget.priority) == priority)).first()
    return Target(priority, row[0], row[1]) if row else None


def _decided(stopped_at: datetime | None, due_at: datetime, now: datetime) -> bool | None:
    """reports.sla's rule: met, missed (stopped late or running past due), or None (not
    known yet)."""
    if stopped_at is not None:
        return stopped_at <= due_at
    return False if due_at <= now else None


def preview_target(session: Session, settings: Settings, name: str, priority: int, *,
                   response: int | None = None, resolution: int | None = None,
                   now: datetime) -> TargetPreview:
    """What this month's compliance for the agreement at `priority` would have been with the
    new target, next to what it is. Reads only."""
    from pob_tui.services import sla

    agreement = find_agreement(session, name)
    assert agreement.id is not None
    old = _current(session, agreement.id, priority)
    new = _new_target(old, priority, response, resolution)
    start = _month_start(now, settings)
    clocks = session.execute(
        select(col(SlaClock.incident_id), col(SlaClock.kind), col(SlaClock.calendar_id),
               col(SlaClock.target_minutes), col(SlaClock.started_at),
               col(SlaClock.due_at), col(SlaClock.stopped_at))
        .join(Incident, col(Incident.id) == SlaClock.incident_id)
        .where(col(SlaClock.kind).in_(("response", "resolution")),
               col(SlaClock.started_at) >= start,
               col(SlaClock.started_at) < now, col(Incident.priority) == priority,
               col(Incident.status) != "cancelled",
               # cheap first cut: clocks on this agreement's calendar (terms_for decides)
               col(SlaClock.calendar_id) == agreement.calendar_id)).all()
    incident_ids = sorted({c.incident_id for c in clocks})
    incidents = {i.id: i for i in session.execute(
        select(Incident).where(col(Incident.id).in_(incident_ids))).scalars()} if clocks else {}
    units: dict[int, int | None] = dict(session.execute(
        select(col(Person.id), col(Person.org_unit_id)).where(
            col(Person.id).in_({i.caller_id for i in incidents.values()}))).all()) if clocks else {}
    ours = {iid for iid, inc in incidents.items()
            if (t := sla.terms_for(session, inc, units)) is not None
            and t.agreement_id == agreement.id}
    history: dict[int, list[tuple[datetime, str]]] = {
        iid: [(incidents[iid].opened_at, "new")] for iid in ours}
    if ours:
        for iid, at, status in session.execute(
                select(col(TicketEvent.ticket_id), col(TicketEvent.at), col(TicketEvent.new_value))
                .where(col(TicketEvent.ticket_type) == "incident",
                       col(TicketEvent.field) == "status",
                       col(TicketEvent.ticket_id).in_(sorted(ours)))
                .order_by(col(TicketEvent.ticket_id), col(TicketEvent.at), col(TicketEvent.id))):
            history[iid].append((at, str(status)))
    counts = {side: {k: [0, 0] for k in ("response", "resolution")} for side in ("b", "a")}
    running = 0
    changed = {kind for kind in ("response", "resolution")
               if old is None or getattr(old, f"{kind}_minutes") != getattr(new, f"{kind}_minutes")}
    for c in clocks:
        if c.incident_id not in ours:
            continue
        if old is not None and c.target_minutes != getattr(old, f"{c.kind}_minutes"):
            continue  # a clock from another agreement that shares the calendar
        if c.kind not in changed:  # same target: the outcome stays as stored
            outcome = _decided(c.stopped_at, c.due_at, now)
            if outcome is not None:
                for side in ("b", "a"):
                    counts[side][c.kind][0 if outcome else 1] += 1
            continue
        minutes = new.response_minutes if c.kind == "response" else new.resolution_minutes
        pauses = sla.pauses_from(history[c.incident_id], c.stopped_at or now,
                                 stopped=("resolved",))
        cal = sla.calendar_by_id(session, c.calendar_id)
        new_due = cal.add(c.started_at, timedelta(minutes=minutes), pauses)
        if c.stopped_at is None and new_due != c.due_at:
            running += 1
        for side, due in (("b", c.due_at), ("a", new_due)):
            outcome = _decided(c.stopped_at, due, now)
            if outcome is not None:
                counts[side][c.kind][0 if outcome else 1] += 1
    return TargetPreview(
        agreement=agreement.name, priority=priority, month=start.strftime("%Y-%m"), old=old,
        new=new,
        before={k: Outcome(*v) for k, v in counts["b"].items()},
        after={k: Outcome(*v) for k, v in counts["a"].items()}, running=running)


# --------------------------------------------------------------------------- edits

def set_target(session: Session, actor: Actor, settings: Settings, name: str, priority: int,
               *, response: int | None = None, resolution: int | None = None,
               now: datetime) -> TargetChange:
    """Change (or add) the agreement's target for one priority (administrators); audited.
    Running clocks under it get their new due times in the same transaction."""
    require(session, actor, "agreement.edit", target=f"agreement {name}")
    preview = preview_target(session, settings, name, priority, response=response,
                             resolution=resolution, now=now)
    agreement = find_agreement(session, name)
    target = session.execute(select(SlaTarget).where(
        col(SlaTarget.agreement_id) == agreement.id, col(SlaTarget.priority) == priority)
        .with_for_update()).scalars().first()
    changes: list[tuple[str, Any, Any]] = []
    new = preview.new
    if target is None:
        assert agreement.id is not None
        target = SlaTarget(agreement_id=agreement.id, priority=priority,
                           response_minutes=new.response_minutes,
                           resolution_minutes=new.resolution_minutes)
        changes = [("response_minutes", None, new.response_minutes),
                   ("resolution_minutes", None, new.resolution_minutes)]
    else:
        for attr in ("response_minutes", "resolution_minutes"):
            if getattr(target, attr) != getattr(new, attr):
                changes.append((attr, getattr(target, attr), getattr(new, attr)))
                setattr(target, attr, getattr(new, attr))
    if changes:
        from pob_tui.models.incident import OPEN_STATUSES
        from pob_tui.services import sla

        session.add(target)
        record_admin_event(
            session, actor=actor.username, action="agreement.target",
            target=f"{agreement.name} P{priority}",
            detail="; ".join(f"{f}: {o!r} -> {n!r}" for f, o, n in changes))
        session.flush()
        sla.invalidate()
        try:
            for incident in session.execute(select(Incident).where(
                    col(Incident.priority) == priority, col(Incident.status).in_(OPEN_STATUSES))
                    ).scalars():
                terms = sla.terms_for(session, incident)
                if terms is not None and terms.agreement_id == agreement.id:
                    sla.recompute(session, incident, now)
        finally:
            sla.invalidate()  # the snapshot above saw this uncommitted transaction
    return TargetChange(preview, changes)
