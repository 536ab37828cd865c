"""SLA and OLA clocks on incidents, always recomputed from the history and the calendar.

Which agreement applies (most specific first):
1. an agreement for the caller's customer (their org unit, or the nearest unit above it that
   has one) that lists the incident's service;
2. an agreement for no particular customer that lists the service;
3. an agreement for the caller's customer that lists no services (covers all);
4. the default agreement (`is_default`).
Its calendar counts business time; its targets give response and resolution minutes for the
incident's priority. Each team assignment starts that team's own OLA clock with the team's
target, so a second-line team is measured from when it got the ticket.

Pauses come from the status history: time in "waiting for caller" or "waiting for supplier"
and time spent resolved before a reopen do not count. Nothing is kept as a running counter:
each change recomputes the clocks from the events, and the stored `sla_clock` rows are that
result (kept for sorting the queue and for the compliance report).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from pob_tui.config import Settings
from pob_tui.db import settings_of
from pob_tui.models import (
    Agent,
    Agreement,
    AgreementService,
    Calendar,
    CalendarDay,
    Incident,
    Notification,
    OlaTarget,
    OrgUnit,
    Person,
    SlaClock,
    SlaTarget,
    Team,
    TicketEvent,
    utcnow,
)
from pob_tui.models.base import pk
from pob_tui.models.incident import WAITING_STATUSES
from pob_tui.services.audit import record_ticket_event
from pob_tui.services.incident_views import IncidentRow
from pob_tui.sla import BusinessCalendar
from pob_tui.sla.calendar import Pause

_lock = threading.Lock()


# --- calendars -----------------------------------------------------------------------------

def _short_day_dates(year: int, rules: Mapping[str, str]) -> dict[date, str]:
    from dateutil.easter import easter

    out: dict[date, str] = {}
    for key, closing in rules.items():
        if key == "wednesday_before_maundy_thursday":
            out[easter(year) - timedelta(days=4)] = closing
        elif len(key) == 5 and key[2] == "-":
            out[date(year, int(key[:2]), int(key[3:]))] = closing
    return out


def _clip(spans: Iterable[tuple[str, str]], closing: str) -> list[tuple[str, str]]:
    """Opening hours of a shortened day: the normal intervals cut at `closing`."""
    return [(a, min(b, closing)) for a, b in spans if a < closing]


def build_calendar(row: Calendar, days: Iterable[CalendarDay],
                   settings: Settings) -> BusinessCalendar:
    """A BusinessCalendar from a calendar row, its local days and the configuration."""
    hours = {int(k): [tuple(x) for x in v] for k, v in json.loads(row.hours).items()}
    special: dict[date, list[tuple[str, str]]] = {}
    closed: dict[date, str] = {}
    for d in days:
        if d.hours:
            special[d.day] = [tuple(x) for x in json.loads(d.hours)]
        else:
            closed[d.day] = d.note or "closing day"
    national = row.national_holidays
    # Fixed-date public holidays: a configured short day never reopens one of them.
    fixed_holidays = {(1, 1), (5, 1), (5, 17), (12, 25), (12, 26)}

    if national:
        # Shortened days are cheap to compute and must be known before any date is used
        # (the calendar copies them when built), so take a wide range of years up front.
        this_year = date.today().year
        for year in range(this_year - 12, this_year + 3):
            for day, closing in _short_day_dates(year, settings.short_days).items():
                if (day not in special and day not in closed and day.weekday() in hours
                        and (day.month, day.day) not in fixed_holidays):
                    special[day] = _clip(hours[day.weekday()], closing)

    def year_days(year: int) -> dict[date, str]:
        """Holidays and closing days of one year: looked up the first time the calendar
        touches that year, from the kept copy of the holidays package's answer."""
        from pob_tui.services.holiday_cache import holiday_names

        found: dict[date, str] = {}
        if national:
            found.update(holiday_names(year))
            for mmdd in settings.closing_days:
                found.setdefault(date(year, int(mmdd[:2]), int(mmdd[3:])), "closing day")
        return {d: n for d, n in found.items() if d not in closed and d not in special}

    cal = BusinessCalendar(hours, closed, row.tz, special_days=special,
                           holiday_years=year_days)
    return cal


REFERENCE_TTL = 30.0
"""Seconds the agreement/calendar snapshot is trusted. Reference data changes rarely; a
process that changes it calls `invalidate()`, other processes see it within this time."""


@dataclass(frozen=True)
class Terms:
    agreement_id: int
    agreement: str
    calendar_id: int
    response_minutes: int
    resolution_minutes: int


@dataclass
class _Reference:
    """Agreements, targets, calendars and the org tree of one database, read in one go so
    a change to an incident costs no extra queries for them."""

    loaded: float
    parents: dict[int, int | None]
    agreements: list[tuple[int, str, int | None, int, bool, frozenset[int]]]
    targets: dict[tuple[int, int], tuple[int, int]]
    ola: dict[tuple[int, int], tuple[int, int]]
    team_calendar: dict[int, int | None]
    calendar_rows: dict[int, tuple[Calendar, list[CalendarDay]]]
    calendars: dict[tuple[int, tuple[object, ...]], BusinessCalendar]
    """Built calendars by (calendar id, the configuration they were built with)."""


_reference: dict[str, _Reference] = {}


def invalidate() -> None:
    """Forget cached agreements and calendars (after changing them in this process)."""
    with _lock:
        _reference.clear()


def _load_reference(session: Session) -> _Reference:
    import time

    bind = session.get_bind()
    key = str(bind.engine.url) if hasattr(bind, "engine") else str(cast(Engine, bind).url)
    now = time.monotonic()
    with _lock:
        ref = _reference.get(key)
        if ref is not None and now - ref.loaded < REFERENCE_TTL:
            return ref
    services: dict[int, set[int]] = {}
    for agreement_id, service_id in session.execute(
            select(col(AgreementService.agreement_id), col(AgreementService.service_id))):
        services.setdefault(agreement_id, set()).add(service_id)
    agreements = [(a.id, a.name, a.customer_id, a.calendar_id, a.is_default,
                   frozenset(services.get(a.id, ()))) for a in session.execute(
        select(Agreement).order_by(col(Agreement.id))).scalars()]
    days: dict[int, list[CalendarDay]] = {}
    for d in session.execute(select(CalendarDay).order_by(col(CalendarDay.day))).scalars():
        days.setdefault(d.calendar_id, []).append(d)
    ref = _Reference(
        loaded=now,
        parents=dict(session.execute(select(col(OrgUnit.id), col(OrgUnit.parent_id))).all()),
        agreements=agreements,
        targets={(t.agreement_id, t.priority): (t.response_minutes, t.resolution_minutes)
                 for t in session.execute(select(SlaTarget)).scalars()},
        ola={(t.team_id, t.priority): (t.response_minutes, t.resolution_minutes)
             for t in session.execute(select(OlaTarget)).scalars()},
        team_calendar=dict(session.execute(select(col(Team.id), col(Team.calendar_id))).all()),
        calendar_rows={c.id: (c, days.get(c.id, []))
                       for c in session.execute(select(Calendar)).scalars()},
        calendars={},
    )
    with _lock:
        _reference[key] = ref
    return ref


def _calendar_key(settings: Settings) -> tuple[object, ...]:
    """What of the configuration shapes a calendar (two configs, two calendars)."""
    return (tuple(settings.closing_days), tuple(sorted(settings.short_days.items())))


def calendar_by_id(session: Session, calendar_id: int | None) -> BusinessCalendar:
    """The BusinessCalendar for a calendar row under the session's settings, built once per
    reference snapshot and configuration."""
    if calendar_id is None:  # a clock row without a calendar
        raise LookupError(f"calendar {calendar_id} does not exist")
    settings = settings_of(session)
    ref = _load_reference(session)
    key = (calendar_id, _calendar_key(settings))
    cal = ref.calendars.get(key)
    if cal is None:
        if calendar_id not in ref.calendar_rows:
            raise LookupError(f"calendar {calendar_id} does not exist")
        row, days = ref.calendar_rows[calendar_id]
        cal = ref.calendars[key] = build_calendar(row, days, settings)
    return cal


# --- which agreement -----------------------------------------------------------------------

def _customer_chain(parents: Mapping[int, int | None], org_unit_id: int | None) -> list[int]:
    chain: list[int] = []
    while org_unit_id is not None and org_unit_id not in chain:
        chain.append(org_unit_id)
        org_unit_id = parents.get(org_unit_id)
    return chain


def terms_for(session: Session, incident: Incident,
              caller_units: Mapping[int, int | None] | None = None) -> Terms | None:
    """The most specific agreement (see the module docstring) with a target for the
    incident's priority. `caller_units` (person id -> org unit id) spares the lookup when
    many incidents are asked about at once (the agreement target preview); a caller the
    session has already loaded spares it too."""
    ref = _load_reference(session)
    loaded = session.identity_map.get(session.identity_key(Person, incident.caller_id))
    if caller_units is not None and incident.caller_id in caller_units:
        caller_unit = caller_units[incident.caller_id]
    elif isinstance(loaded, Person):  # the session has the caller (logging a call)
        caller_unit = loaded.org_unit_id
    else:
        caller_unit = session.execute(
            select(col(Person.org_unit_id)).where(col(Person.id) == incident.caller_id)).scalar()
    chain = _customer_chain(ref.parents, caller_unit)

    def rank(a: tuple[int, str, int | None, int, bool, frozenset[int]]) -> tuple[int, int]:
        _id, _name, customer, _cal, is_default, services = a
        depth = chain.index(customer) if customer in chain else 99
        covers = incident.service_id is not None and incident.service_id in services
        if customer in chain and covers:
            return (1, depth)
        if customer is None and covers:
            return (2, 0)
        if customer in chain and not services:
            return (3, depth)
        if is_default:
            return (4, 0)
        return (9, 0)

    for level, agreement in sorted(((rank(a), a) for a in ref.agreements),
                                   key=lambda x: (x[0], x[1][0])):
        if level[0] == 9:
            break
        target = ref.targets.get((agreement[0], incident.priority))
        if target:
            return Terms(agreement[0], agreement[1], agreement[3], target[0], target[1])
    return None


# --- history -> clocks ---------------------------------------------------------------------

def _events(session: Session, incident: Incident) -> list[tuple[datetime, str, str, str]]:
    """Status and team changes of the incident, oldest first, in one query."""
    return [(at, field, str(old), str(new)) for at, field, old, new in session.execute(
        select(col(TicketEvent.at), col(TicketEvent.field), col(TicketEvent.old_value),
               col(TicketEvent.new_value))
        .where(col(TicketEvent.ticket_type) == "incident",
               col(TicketEvent.ticket_id) == incident.id,
               col(TicketEvent.field).in_(("status", "team_id")))
        .order_by(col(TicketEvent.at), col(TicketEvent.id))).all()]


def _status_history(session: Session, incident: Incident,
                    events: list[tuple[datetime, str, str, str]] | None = None,
                    ) -> list[tuple[datetime, str]]:
    events = _events(session, incident) if events is None else events
    return [(incident.opened_at, "new"),
            *[(at, new) for at, field, _old, new in events if field == "status"]]


def pauses_from(history: list[tuple[datetime, str]], now: datetime,
                stopped: Iterable[str] = ()) -> list[tuple[datetime, datetime]]:
    """Intervals spent waiting (or in the `stopped` statuses) from a status history."""
    if not history:
        return []
    paused = set(WAITING_STATUSES) | set(stopped)
    out: list[tuple[datetime, datetime]] = []
    for (at, status), nxt in zip(history, [*history[1:], (now, "")], strict=True):
        if status in paused and nxt[0] > at:
            out.append((at, nxt[0]))
    return out


def _team_spells(incident: Incident, events: list[tuple[datetime, str, str, str]],
                 ) -> list[tuple[int, datetime, datetime | None]]:
    """(team, from, to) for every stretch of time the incident sat with one team."""
    rows = [(at, old, new) for at, field, old, new in events if field == "team_id"]
    spells: list[tuple[int, datetime, datetime | None]] = []
    first_team = int(rows[0][1]) if rows and rows[0][1] not in (None, "None") else None
    current = (first_team if rows else incident.team_id, incident.opened_at)
    for at, _old, new in rows:
        if current[0] is not None:
            spells.append((current[0], current[1], at))
        current = (int(new) if new not in (None, "None") else None, at)
    if current[0] is not None:
        spells.append((current[0], current[1], None))
    return spells


def _caller_unit_and_clocks(session: Session, incident: Incident,
                            ) -> tuple[int | None, dict[tuple[str, int | None, datetime],
                                                         SlaClock]]:
    """The caller's org unit (for `terms_for`) and the incident's clocks by (kind, team,
    start), in one round trip: each row is the caller joined to one clock, or to none."""
    rows = session.execute(
        select(col(Person.org_unit_id), SlaClock).select_from(Person)
        .outerjoin(SlaClock, col(SlaClock.incident_id) == incident.id)
        .where(col(Person.id) == incident.caller_id)).all()
    unit = rows[0][0] if rows else None
    return unit, {(c.kind, c.team_id, c.started_at): c for _unit, c in rows if c is not None}


def recompute(session: Session, incident: Incident, now: datetime | None = None, *,
              fresh: bool = False) -> None:
    """Rebuild the incident's clocks from its history; store due times and outcomes.

    `fresh`: the incident is being created in this transaction and is not flushed yet. It
    has no clocks and no status or team changes, so neither is read, and its due times go
    into its INSERT rather than an UPDATE after it (fewer statements per logged call)."""
    now = now or utcnow()
    existing: dict[tuple[str, int | None, datetime], SlaClock] = {}
    events: list[tuple[datetime, str, str, str]] = []
    if fresh:
        with session.no_autoflush:  # loading the agreements must not INSERT the incident yet
            terms = terms_for(session, incident)
    else:
        session.flush()
        unit, existing = _caller_unit_and_clocks(session, incident)
        terms = terms_for(session, incident, caller_units={incident.caller_id: unit})
        events = _events(session, incident)
    keep: set[tuple[str, int | None, datetime]] = set()
    made: dict[str, SlaClock] = {}
    clocks: list[SlaClock] = []
    history = _status_history(session, incident, events)
    final_stop = incident.resolved_at if incident.status in ("resolved", "closed") else (
        incident.closed_at if incident.status == "cancelled" else None)

    def put(kind: str, team_id: int | None, calendar_id: int, minutes: int,
            start: datetime, stop: datetime | None, pauses: list[Pause]) -> None:
        cal = calendar_by_id(session, calendar_id)
        due = cal.add(start, timedelta(minutes=minutes), pauses)
        key = (kind, team_id, start)
        keep.add(key)
        # A fresh incident has no id yet: its new clocks get it once it is stored (below).
        clock = existing.get(key) or SlaClock(incident_id=cast(int, incident.id), kind=kind,
                                              team_id=team_id, started_at=start,
                                              target_minutes=minutes, due_at=due)
        clock.calendar_id = calendar_id
        clock.target_minutes = minutes
        clock.due_at = due
        clock.stopped_at = stop
        clock.met = None if stop is None else stop <= due
        if incident.status == "cancelled" and stop is not None:
            clock.met = None
        clocks.append(clock)
        made[kind] = clock

    if terms is not None:
        pauses = pauses_from(history, now, stopped=("resolved",))
        response_stop = incident.first_response_at or final_stop
        put("response", None, terms.calendar_id, terms.response_minutes, incident.opened_at,
            response_stop, pauses)
        put("resolution", None, terms.calendar_id, terms.resolution_minutes,
            incident.opened_at, final_stop, pauses)
    for team_id, start, end in _team_spells(incident, events):
        ref = _load_reference(session)
        target = ref.ola.get((team_id, incident.priority))
        if target is None:
            continue
        calendar_id = ref.team_calendar.get(team_id) or (terms.calendar_id if terms else None)
        if calendar_id is None:
            continue
        stop = end if end is not None else final_stop
        spell = [(at, s) for at, s in history if at < (stop or now)]
        put("ola", team_id, calendar_id, target[1], start, stop,
            pauses_from(spell, stop or now, stopped=("resolved",)))
    response, resolution = made.get("response"), made.get("resolution")
    incident.response_due_at = response.due_at if response else None
    incident.resolution_due_at = resolution.due_at if resolution else None
    if fresh and clocks:
        session.flush()  # the incident's INSERT, due times included: its clocks need its id
    for clock in clocks:
        clock.incident_id = pk(incident)
        session.add(clock)
    for key, clock in existing.items():
        if key not in keep:
            session.delete(clock)


# Changes that cannot move a clock unless they are the first response.
_NOTES = ("comment", "work_note", "satisfaction")


def on_incident_change(session: Session, incident: Incident, kind: str, now: datetime, *,
                       fresh: bool = False) -> None:
    """Called by the incident service after every change, in the same transaction. A note
    that is not the first response changes no clock, so it costs no recomputation.
    `fresh`: see `recompute`."""
    if kind in _NOTES and incident.first_response_at != now:
        return
    recompute(session, incident, now, fresh=fresh)


# --- state for the screen ------------------------------------------------------------------

@dataclass(frozen=True)
class ClockState:
    kind: str
    team: str | None
    due_at: datetime
    target_minutes: int
    used: timedelta
    left: timedelta  # business time left; negative when breached
    stopped_at: datetime | None
    met: bool | None
    state: str  # ok | at_risk | breached | met | missed | paused
    calendar_id: int | None
    working_day: timedelta | None = None  # the calendar's day, for `sla.display.format_left`


def clock_states(session: Session, incident: Incident,
                 now: datetime | None = None) -> list[ClockState]:
    now = now or utcnow()
    history = _status_history(session, incident)
    rows = session.execute(
        select(SlaClock, col(Team.name)).outerjoin(Team, col(Team.id) == SlaClock.team_id)
        .where(col(SlaClock.incident_id) == incident.id)
        .order_by(col(SlaClock.started_at), col(SlaClock.id))).all()
    out = []
    waiting = incident.status in WAITING_STATUSES
    for clock, team in rows:
        cal = calendar_by_id(session, clock.calendar_id)
        end = clock.stopped_at or now
        pauses = pauses_from([h for h in history if h[0] < end], end, stopped=("resolved",))
        used = cal.between(clock.started_at, end, pauses)
        target = timedelta(minutes=clock.target_minutes)
        left = target - used
        if clock.stopped_at is not None:
            state = "met" if clock.met else ("missed" if clock.met is False else "stopped")
        elif left <= timedelta(0):
            state = "breached"
        elif waiting:
            state = "paused"
        elif used >= target * settings_of(session).sla_warning_threshold:
            state = "at_risk"
        else:
            state = "ok"
        out.append(ClockState(clock.kind, team, clock.due_at, clock.target_minutes, used, left,
                              clock.stopped_at, clock.met, state, clock.calendar_id,
                              cal.working_day))
    return out


def time_left(session: Session, rows: Sequence[IncidentRow],
              now: datetime | None = None) -> None:
    """Add `sla_left` (business time left on the resolution clock), `sla_day` (its
    calendar's working day, to show the time in working days) and `sla_state` to queue rows,
    in place: one indexed query for the page, calendar math per row."""
    now = now or utcnow()
    ids = [r["id"] for r in rows if r.get("resolution_due_at")]
    if not ids:
        return
    clocks = {c.incident_id: c for c in session.execute(
        select(SlaClock).where(col(SlaClock.incident_id).in_(ids),
                               col(SlaClock.kind) == "resolution",
                               col(SlaClock.stopped_at).is_(None))).scalars()}
    threshold = settings_of(session).sla_warning_threshold
    for row in rows:
        clock = clocks.get(row["id"])
        if clock is None:
            continue
        cal = calendar_by_id(session, clock.calendar_id)
        target = timedelta(minutes=clock.target_minutes)
        row["sla_day"] = cal.working_day
        if row["status"] in WAITING_STATUSES:
            row["sla_left"] = None
            row["sla_state"] = "paused"
            continue
        if now >= clock.due_at:
            left = -cal.between(clock.due_at, now)
        else:
            left = cal.between(now, clock.due_at)
        row["sla_left"] = left
        row["sla_state"] = ("breached" if left <= timedelta(0) else
                            "at_risk" if left <= target * (1 - threshold) else "ok")


def explain(session: Session, incident: Incident, kind: str = "resolution",
            now: datetime | None = None) -> dict[str, Any]:
    """Why a clock is due when it is: segments counted, pauses, holidays, in local time."""
    now = now or utcnow()
    clock = session.execute(select(SlaClock).where(
        col(SlaClock.incident_id) == incident.id, col(SlaClock.kind) == kind)
        .order_by(col(SlaClock.started_at).desc())).scalars().first()
    if clock is None:
        return {"kind": kind, "segments": []}
    return _explain_clock(session, clock, _status_history(session, incident), now)


CLOCK_ORDER = {"response": 0, "resolution": 1, "ola": 2}


def explain_all(session: Session, incident: Incident,
                now: datetime | None = None) -> list[dict[str, Any]]:
    """`explain` for every clock of the incident: response, resolution, then each team's
    OLA clock (a team's latest), so the explain view shows all of them."""
    now = now or utcnow()
    clocks = session.execute(select(SlaClock).where(col(SlaClock.incident_id) == incident.id)
                             .order_by(col(SlaClock.started_at).desc())).scalars().all()
    latest: dict[tuple[str, int | None], SlaClock] = {}
    for clock in clocks:
        latest.setdefault((clock.kind, clock.team_id), clock)
    history = _status_history(session, incident)
    ordered = sorted(latest.values(), key=lambda c: (CLOCK_ORDER.get(c.kind, 9), c.started_at))
    return [_explain_clock(session, clock, history, now) for clock in ordered]


def _explain_clock(session: Session, clock: SlaClock, history: Any,
                   now: datetime) -> dict[str, Any]:
    cal = calendar_by_id(session, clock.calendar_id)
    end = clock.stopped_at or now
    pauses = pauses_from([h for h in history if h[0] < end], end, stopped=("resolved",))
    segments = cal.explain(clock.started_at, max(clock.due_at, end), pauses)
    calendar = session.get(Calendar, clock.calendar_id)
    team_id = clock.team_id
    team = session.get(Team, team_id) if team_id else None
    return {
        "kind": clock.kind, "team": team.name if team else None,
        "calendar": calendar.name if calendar else None, "tz": str(cal.tz),
        "target_minutes": clock.target_minutes, "started_at": clock.started_at,
        "due_at": clock.due_at, "stopped_at": clock.stopped_at, "met": clock.met,
        "working_day": cal.working_day,
        "segments": [{"start": s.start, "end": s.end, "kind": s.kind, "label": s.label}
                     for s in segments],
    }


# --- breaches ------------------------------------------------------------------------------

def check_breaches(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Record breaches of running clocks, raise the escalation level and notify the team
    lead; warn once when a clock turns at risk. Only while the clock's calendar is open:
    a clock that ran out at 23:00 is reported when the office opens, never at night."""
    now = now or utcnow()
    breached = warned = 0
    open_clocks = session.execute(
        select(SlaClock, Incident).join(Incident, col(Incident.id) == SlaClock.incident_id)
        .where(col(SlaClock.stopped_at).is_(None), col(SlaClock.breached_at).is_(None))
        .order_by(col(SlaClock.due_at))).all()
    for clock, incident in open_clocks:
        if incident.status in WAITING_STATUSES:
            continue
        cal = calendar_by_id(session, clock.calendar_id)
        if not cal.is_open(now):
            continue
        if clock.due_at <= now:
            clock.breached_at = now
            incident.escalation_level += 1
            incident.version += 1
            incident.updated_at = now
            record_ticket_event(
                session, ticket_type="incident", ticket_id=incident.id, kind="field",
                actor_id=None, field="escalation_level", old=incident.escalation_level - 1,
                new=incident.escalation_level, at=now,
                comment=f"{clock.kind} deadline passed (due "
                        f"{clock.due_at.astimezone(cal.tz):%Y-%m-%d %H:%M})")
            _notify_lead(session, clock.team_id or incident.team_id, incident,
                         f"{incident.number}: {clock.kind} deadline passed")
            breached += 1
        elif clock.warned_at is None:
            started_used = cal.between(clock.started_at, now)
            if started_used >= timedelta(minutes=clock.target_minutes) * \
                    settings_of(session).sla_warning_threshold:
                clock.warned_at = now
                _notify_lead(session, clock.team_id or incident.team_id, incident,
                             f"{incident.number}: {clock.kind} deadline at risk")
                warned += 1
    return {"breached": breached, "warned": warned}


def _notify_lead(session: Session, team_id: int | None, incident: Incident, text: str) -> None:
    if team_id is None:
        return
    lead = session.execute(select(col(Team.lead_agent_id)).where(col(Team.id) == team_id)).scalar()
    if lead is None:
        lead = session.execute(select(col(Agent.id)).where(col(Agent.team_id) == team_id)
                               .order_by(col(Agent.id)).limit(1)).scalar()
    if lead is not None:
        session.add(Notification(agent_id=lead, text=text[:400], ticket_type="incident",
                                 ticket_id=incident.id))
