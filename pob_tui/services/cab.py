"""The Change Advisory Board: meetings, agenda, votes, decisions and minutes.

Meetings recur on the configured weekdays and time (`[cab]`, default Tuesday and Thursday
10:00 Europe/Oslo), never on a day the Norwegian office calendar is closed (public holidays,
closing days). A meeting row is created lazily, the first time a change is put on it. A
normal change submitted before a meeting's cut-off (the meeting time, `cutoff_working_days`
working days earlier; default one) goes on that meeting's agenda, else on the next one.
Emergency changes get an emergency meeting called at once.

Only CAB members vote (approve, reject, defer, with conditions); the chair (change manager)
decides, which moves the change on: approved, rejected, or deferred to the next meeting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NotRequired, TypedDict

from sqlalchemy import func, select
from sqlmodel import Session, col

from pob_tui.config import Settings
from pob_tui.db import settings_of
from pob_tui.errors import InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from pob_tui.i18n import _
from pob_tui.models import (
    Agent,
    AgentRole,
    CabAgendaItem,
    CabDecision,
    CabMeeting,
    CabMember,
    ChangeCi,
    ChangeRequest,
    ConfigItem,
    Person,
    Team,
    pk,
    utcnow,
)
from pob_tui.models.change import VOTES
from pob_tui.reports.cab import (
    WORD_LABELS,
    Agenda,
    AgendaItem,
    MeetingInfo,
    Minutes,
    VoteRow,
)
from pob_tui.services.audit import record_ticket_event
from pob_tui.services.changes.conflicts import find_conflicts
from pob_tui.services.changes.lifecycle import move_status, touch
from pob_tui.services.changes.records import ACTIVE_STATUSES, get_change, parse_local
from pob_tui.services.changes.risk import RISK_ORDER
from pob_tui.services.identity import Actor
from pob_tui.services.impact import analyse_impact
from pob_tui.services.permissions import require
from pob_tui.sla.workdays import add_working_days, is_working_day, local_date

RUNNING = timedelta(hours=2)
"""A meeting counts as 'next' until this long after its start (it may be running)."""




# --- the schedule --------------------------------------------------------------------------


def slot_at(d: date, settings: Settings) -> datetime | None:
    """The regular meeting on local date `d`, or None (not a CAB weekday, or closed)."""
    s = settings
    if d.weekday() not in s.cab_weekdays or not is_working_day(d, s):
        return None
    return datetime.combine(d, s.cab_time, tzinfo=s.tzinfo).astimezone(UTC)


def slots(after: datetime, settings: Settings, *, backwards: bool = False
          ) -> Iterator[datetime]:
    """Regular meeting times strictly after (or before) `after`, nearest first."""
    s = settings
    d = local_date(after, s)
    step = timedelta(days=-1 if backwards else 1)
    for _step in range(800):
        at = slot_at(d, s)
        if at is not None and (at < after if backwards else at > after):
            yield at
        d += step


def cutoff(meeting_at: datetime, settings: Settings) -> datetime:
    """Changes submitted before this time go on the meeting at `meeting_at`."""
    s = settings
    local = meeting_at.astimezone(s.tzinfo)
    day = add_working_days(local.date(), -s.cab_cutoff_working_days, s)
    return datetime.combine(day, local.time(), tzinfo=s.tzinfo).astimezone(UTC)


def _meeting_at(session: Session, at: datetime) -> CabMeeting | None:
    return session.execute(select(CabMeeting).where(col(CabMeeting.starts_at) == at)
                           ).scalars().first()


def _create_meeting(session: Session, at: datetime, kind: str = "regular") -> CabMeeting:
    meeting = CabMeeting(starts_at=at, kind=kind, status="planned")
    session.add(meeting)
    session.flush()
    members = session.execute(
        select(col(AgentRole.agent_id)).join(Agent, col(Agent.id) == AgentRole.agent_id)
        .where(col(AgentRole.role) == "cab_member",
               col(Agent.active)).order_by(col(AgentRole.agent_id))
    ).scalars()
    for agent_id in members:
        session.add(CabMember(meeting_id=pk(meeting), agent_id=agent_id))
    chair = session.execute(
        select(col(AgentRole.agent_id)).join(Agent, col(Agent.id) == AgentRole.agent_id)
        .where(col(AgentRole.role) == "change_manager",
               col(Agent.active)).order_by(col(AgentRole.agent_id))
    ).scalars().first()
    meeting.chair_id = chair
    session.flush()
    return meeting


def submission_slot(session: Session, now: datetime, settings: Settings | None = None
                    ) -> datetime:
    """When the first meeting whose cut-off is after `now` starts (nothing is written)."""
    settings = settings or settings_of(session)
    for at in slots(now, settings):
        if cutoff(at, settings) <= now:
            continue
        existing = _meeting_at(session, at)
        if existing is not None and existing.status != "planned":
            continue
        return at
    raise InvalidInput(_("no CAB meeting found in the next two years; check [cab] weekdays"))


def meeting_for_submission(session: Session, now: datetime, settings: Settings | None = None
                           ) -> CabMeeting:
    """The first meeting whose cut-off is after `now` (created when needed)."""
    at = submission_slot(session, now, settings)
    return _meeting_at(session, at) or _create_meeting(session, at)


def emergency_meeting(session: Session, actor: Actor, now: datetime) -> CabMeeting:
    """An emergency CAB, called now (an open one from the last hours is reused)."""
    open_one: CabMeeting | None = session.execute(
        select(CabMeeting).where(col(CabMeeting.kind) == "emergency",
                                 col(CabMeeting.status) == "planned",
                                 col(CabMeeting.starts_at) >= now - timedelta(hours=12),
                                 col(CabMeeting.starts_at) <= now + timedelta(hours=1))
        .order_by(col(CabMeeting.starts_at).desc())).scalars().first()
    if open_one is not None:
        return open_one
    at = now.replace(second=0, microsecond=0)
    while _meeting_at(session, at) is not None:
        at += timedelta(minutes=1)
    return _create_meeting(session, at, "emergency")


def call_emergency_cab(session: Session, actor: Actor, *, now: datetime | None = None
                       ) -> CabMeeting:
    require(session, actor, "change.manage")
    return emergency_meeting(session, actor, now or utcnow())


def add_to_agenda(session: Session, meeting: CabMeeting, change: ChangeRequest) -> CabAgendaItem:
    existing: CabAgendaItem | None = session.execute(select(CabAgendaItem).where(
        col(CabAgendaItem.meeting_id) == meeting.id, col(CabAgendaItem.change_id) == change.id)
    ).scalars().first()
    if existing is not None:
        return existing
    position = session.execute(select(func.coalesce(func.max(col(CabAgendaItem.position)), 0))
                               .where(col(CabAgendaItem.meeting_id) == meeting.id)).scalar_one()
    item = CabAgendaItem(meeting_id=pk(meeting), change_id=pk(change), position=position + 1)
    session.add(item)
    session.flush()
    return item


# --- finding a meeting ---------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRef:
    """A meeting, stored (`id`) or only on the schedule (`id` None: nothing on it yet)."""

    starts_at: datetime
    id: int | None = None
    kind: str = "regular"
    status: str = "planned"


def _ref(m: CabMeeting) -> MeetingRef:
    return MeetingRef(m.starts_at, m.id, m.kind, m.status)


def next_meeting(session: Session, now: datetime, settings: Settings | None = None
                 ) -> MeetingRef:
    settings = settings or settings_of(session)
    since = now - RUNNING
    stored = session.execute(select(CabMeeting).where(
        col(CabMeeting.starts_at) >= since, col(CabMeeting.status) == "planned")
        .order_by(col(CabMeeting.starts_at))).scalars().first()
    slot = next(slots(since, settings))
    if stored is not None and stored.starts_at <= slot:
        return _ref(stored)
    existing = _meeting_at(session, slot)
    return _ref(existing) if existing else MeetingRef(slot)


def find_meeting(session: Session, ref: str | date | datetime | None, *,
                 now: datetime | None = None, settings: Settings | None = None) -> MeetingRef:
    """`None`: the next meeting; a date: that day's meeting; "YYYY-MM-DD HH:MM": exactly."""
    settings = settings or settings_of(session)
    s = settings
    now = now or utcnow()
    if ref is None or ref == "":
        return next_meeting(session, now, s)
    if isinstance(ref, str):
        text = ref.strip()
        try:
            ref = (parse_local(text, s, "meeting") if len(text) > 10
                   else date.fromisoformat(text))
        except ValueError:
            raise InvalidInput(_("meeting {text} is not a date like 2026-12-01").format(
                text=repr(text))) from None
    if isinstance(ref, datetime):
        stored = _meeting_at(session, ref)
        if stored is None:
            raise NotFound(_("no CAB meeting at {when}").format(
                when=f"{ref.astimezone(s.tzinfo):%Y-%m-%d %H:%M}"))
        return _ref(stored)
    assert ref is not None  # parse_local gives None only for empty text, handled above
    lo = datetime.combine(ref, time(0), tzinfo=s.tzinfo).astimezone(UTC)
    hi = lo + timedelta(days=1)
    stored = session.execute(select(CabMeeting).where(
        col(CabMeeting.starts_at) >= lo, col(CabMeeting.starts_at) < hi)
        .order_by(col(CabMeeting.starts_at))).scalars().first()
    if stored is not None:
        return _ref(stored)
    at = slot_at(ref, s)
    if at is None:
        from pob_tui.sla.display import weekday_names

        days = ", ".join(weekday_names()[d] for d in s.cab_weekdays)
        raise NotFound(_("no CAB meeting on {date}; the CAB meets on {days} (not on "
                         "holidays)").format(date=ref, days=days))
    return MeetingRef(at)


def adjacent_meeting(session: Session, current: datetime, step: int,
                     settings: Settings | None = None) -> MeetingRef:
    """The meeting before (step < 0) or after (step > 0) the one at `current`."""
    settings = settings or settings_of(session)
    if step < 0:
        stored = session.execute(select(CabMeeting).where(col(CabMeeting.starts_at) < current)
                                 .order_by(col(CabMeeting.starts_at).desc())).scalars().first()
        slot = next(slots(current, settings, backwards=True))
        best = max(slot, stored.starts_at) if stored else slot
    else:
        stored = session.execute(select(CabMeeting).where(col(CabMeeting.starts_at) > current)
                                 .order_by(col(CabMeeting.starts_at))).scalars().first()
        slot = next(slots(current, settings))
        best = min(slot, stored.starts_at) if stored else slot
    existing = _meeting_at(session, best)
    return _ref(existing) if existing else MeetingRef(best)


# --- the agenda ----------------------------------------------------------------------------


def _names(session: Session, agent_ids: list[int]) -> dict[int, str]:
    if not agent_ids:
        return {}
    return {aid: f"{fn} {ln}" for aid, fn, ln in session.execute(
        select(col(Agent.id), col(Person.first_name), col(Person.last_name))
        .join(Person, col(Person.id) == Agent.person_id).where(col(Agent.id).in_(agent_ids)))}


def _meeting_info(session: Session, ref: MeetingRef, settings: Settings) -> MeetingInfo:
    chair, members = None, []
    if ref.id is not None:
        m = session.get(CabMeeting, ref.id)
        ids = list(session.execute(select(col(CabMember.agent_id))
                                   .where(col(CabMember.meeting_id) == ref.id)).scalars())
        names = _names(session, ids + ([m.chair_id] if m and m.chair_id else []))
        members = sorted(names[i] for i in ids if i in names)
        chair = names.get(m.chair_id) if m and m.chair_id else None
    local = ref.starts_at.astimezone(settings.tzinfo)
    return MeetingInfo(starts_at=ref.starts_at, date=local.date().isoformat(),
                       time=local.strftime("%H:%M"), kind=ref.kind, status=ref.status,
                       cutoff=cutoff(ref.starts_at, settings) if ref.kind == "regular"
                       else None, chair=chair, members=members)


def agenda(session: Session, meeting: str | date | datetime | MeetingRef | None = None, *,
           now: datetime | None = None, settings: Settings | None = None,
           with_impact: bool = True) -> Agenda:
    """The meeting and its items, ordered by risk (high first), then planned start. Each
    item carries risk reasons, impact counts, conflicts, earlier decisions and votes."""
    settings = settings or settings_of(session)
    s = settings
    now = now or utcnow()
    ref = meeting if isinstance(meeting, MeetingRef) else find_meeting(
        session, meeting, now=now, settings=s)
    out = Agenda(meeting=_meeting_info(session, ref, s), items=[])
    if held(ref, now):  # its time passed: held, though nobody marked it
        out["meeting"]["status"] = "held"
    if ref.id is None:
        return out
    rows = session.execute(
        select(CabAgendaItem, ChangeRequest, col(Team.name))
        .join(ChangeRequest, col(ChangeRequest.id) == CabAgendaItem.change_id)
        .outerjoin(Team, col(Team.id) == ChangeRequest.owner_team_id)
        .where(col(CabAgendaItem.meeting_id) == ref.id)).all()
    change_ids = [pk(c) for _i, c, _t in rows]
    cis: dict[int, list[int]] = {}
    ci_names: dict[int, list[str]] = {}
    decisions: dict[int, list[CabDecision]] = {}
    if change_ids:
        for cid, ci_id, name in session.execute(
                select(col(ChangeCi.change_id), col(ChangeCi.ci_id), col(ConfigItem.name))
                .join(ConfigItem, col(ConfigItem.id) == ChangeCi.ci_id)
                .where(col(ChangeCi.change_id).in_(change_ids)).order_by(col(ConfigItem.name))):
            cis.setdefault(cid, []).append(ci_id)
            ci_names.setdefault(cid, []).append(name)
        for d in session.execute(select(CabDecision)
                                 .where(col(CabDecision.change_id).in_(change_ids))
                                 .order_by(col(CabDecision.decided_at),
                                           col(CabDecision.id))).scalars():
            decisions.setdefault(d.change_id, []).append(d)
    meeting_at = {m.id: m.starts_at for m in session.execute(select(CabMeeting).where(
        col(CabMeeting.id).in_({d.meeting_id for ds in decisions.values() for d in ds}))).scalars()}
    voter_names = _names(session, sorted({d.agent_id for ds in decisions.values() for d in ds}
                                         | {c.implementer_id for _i, c, _t in rows
                                            if c.implementer_id}))
    items: list[AgendaItem] = []
    for item, change, team in rows:
        ids = cis.get(pk(change), [])
        here, earlier = [], []
        for d in decisions.get(pk(change), []):
            row = VoteRow(member=voter_names.get(d.agent_id, "?"), vote=d.vote,
                          conditions=d.conditions, final=d.final, at=d.decided_at)
            if d.meeting_id == ref.id:
                here.append(row)
            elif d.final:
                mt = meeting_at.get(d.meeting_id)
                row["meeting"] = mt.astimezone(s.tzinfo).date().isoformat() if mt else None
                earlier.append(row)
        final = [v for v in here if v["final"]]
        entry = AgendaItem(
            number=change.number, title=change.title, type=change.type,
            status=change.status, risk=change.risk,
            risk_reasons=json.loads(change.risk_reasons or "[]"),
            planned_start=change.planned_start, planned_end=change.planned_end,
            team=team, implementer=voter_names.get(change.implementer_id or -1),
            cis=ci_names.get(pk(change), []), position=item.position,
            decision=item.decision, impact=None, conflicts=[],
            votes=[v for v in here if not v["final"]],
            chair_decision=final[-1] if final else None, earlier_decisions=earlier,
        )
        if with_impact:
            impact = analyse_impact(session, ids, local_date(change.planned_start or now, s))
            entry["impact"] = impact.counts()
            entry["impact_services"] = impact.service_names[:10]
            entry["conflicts"] = (find_conflicts(session, change, impact, cis=ids)
                                  if change.status in ACTIVE_STATUSES else [])
        items.append(entry)
    far = datetime.max.replace(tzinfo=UTC)
    items.sort(key=lambda e: (RISK_ORDER.get(e["risk"], 3), e["planned_start"] or far,
                              e["number"]))
    out["items"] = items
    return out


@dataclass(frozen=True)
class MeetingAgenda:
    """A meeting (stored, or only on the schedule) and its agenda: what the CAB screen
    shows, and the meeting its votes and decisions go to."""

    ref: MeetingRef
    agenda: Agenda


def meeting_agenda(session: Session, at: datetime | None = None, step: int = 0, *,
                   now: datetime | None = None, settings: Settings | None = None
                   ) -> MeetingAgenda:
    """The agenda of the next meeting (`at` None), of the meeting at `at`, or of the one
    before (`step` < 0) or after (`step` > 0) it: the CAB screen's one call per load."""
    settings = settings or settings_of(session)
    now = now or utcnow()
    if at is None:
        ref = next_meeting(session, now, settings)
    elif step:
        ref = adjacent_meeting(session, at, step, settings)
    else:
        stored = _meeting_at(session, at)
        ref = _ref(stored) if stored else MeetingRef(at)
    return MeetingAgenda(ref, agenda(session, ref, now=now, settings=settings))


def minutes(session: Session, meeting: str | date | datetime | MeetingRef | None, *,
            now: datetime | None = None, settings: Settings | None = None) -> Minutes:
    """What the meeting decided: items with every vote, conditions and the decision."""
    settings = settings or settings_of(session)
    data = agenda(session, meeting, now=now, settings=settings, with_impact=False)
    counts = {"approve": 0, "reject": 0, "defer": 0, "undecided": 0}
    for item in data["items"]:
        counts[item["decision"] or "undecided"] += 1
        item.pop("impact", None)
        item.pop("conflicts", None)
    return Minutes(meeting=data["meeting"], items=data["items"], summary=counts)


# --- in the meeting ------------------------------------------------------------------------


def _open_item(session: Session, change: ChangeRequest, meeting: MeetingRef | None
               ) -> tuple[CabAgendaItem, CabMeeting]:
    stmt = (select(CabAgendaItem, CabMeeting)
            .join(CabMeeting, col(CabMeeting.id) == CabAgendaItem.meeting_id)
            .where(col(CabAgendaItem.change_id) == change.id,
                   col(CabAgendaItem.decision).is_(None)))
    if meeting is not None:
        if meeting.id is None:
            raise InvalidInput(_("{number} is not on the agenda of that meeting").format(
                number=change.number))
        stmt = stmt.where(col(CabMeeting.id) == meeting.id)
    row = session.execute(stmt.order_by(col(CabMeeting.starts_at).desc())).first()
    if row is None:
        raise TransitionNotAllowed(_("{number} is not waiting on a CAB agenda").format(
            number=change.number))
    return row[0], row[1]


class Decision(TypedDict):
    """What the chair's decision did (`pob cab decide`)."""

    number: str
    decision: str
    status: str
    next_meeting: NotRequired[datetime]  # a deferred change's next meeting


def _check_vote(vote: str) -> None:
    if vote not in VOTES:
        raise InvalidInput(_("unknown vote {vote}; expected one of {choices}").format(
            vote=repr(vote), choices=", ".join(VOTES)))


def vote(session: Session, actor: Actor, number: str, value: str, *,
         conditions: str | None = None, meeting: MeetingRef | None = None,
         now: datetime | None = None) -> CabDecision:
    """A CAB member's vote on a change on the agenda (a new vote replaces their earlier one
    at the same meeting)."""
    agent_id = require(session, actor, "cab.vote", number)
    if not actor.has("cab_member"):
        raise PermissionDenied(_("only CAB members vote; {username} is not a CAB member").format(
            username=actor.username))
    _check_vote(value)
    now = now or utcnow()
    change = get_change(session, number, for_update=True)
    if change.status != "awaiting_cab":
        raise TransitionNotAllowed(_("{number} is {status}; votes are for changes awaiting the "
                                     "CAB").format(number=change.number, status=change.status))
    _item, mt = _open_item(session, change, meeting)
    conditions = (conditions or "").strip() or None
    row = session.execute(select(CabDecision).where(
        col(CabDecision.meeting_id) == mt.id, col(CabDecision.change_id) == change.id,
        col(CabDecision.agent_id) == agent_id, col(CabDecision.final).is_(False))).scalars().first()
    if row is None:
        # agent_id is None only for the system actor, which holds no CAB role
        row = CabDecision(meeting_id=pk(mt), change_id=pk(change),
                          agent_id=agent_id,  # type: ignore[arg-type]
                          vote=value, conditions=conditions, decided_at=now)
        session.add(row)
    else:
        row.vote, row.conditions, row.decided_at = value, conditions, now
    if session.get(CabMember, (mt.id, agent_id)) is None:
        session.add(CabMember(meeting_id=pk(mt),
                              agent_id=agent_id))  # type: ignore[arg-type]  # as above
    record_ticket_event(session, ticket_type="change", ticket_id=pk(change), kind="vote",
                        actor_id=agent_id, field="vote", new=value, comment=conditions, at=now)
    session.flush()
    return row


def decide(session: Session, actor: Actor, number: str, value: str, *,
           conditions: str | None = None, meeting: MeetingRef | None = None,
           now: datetime | None = None, settings: Settings | None = None) -> Decision:
    """The chair's decision: approve -> approved, reject -> rejected, defer -> on the next
    meeting's agenda."""
    settings = settings or settings_of(session)
    agent_id = require(session, actor, "cab.chair", number)
    _check_vote(value)
    now = now or utcnow()
    change = get_change(session, number, for_update=True)
    if change.status != "awaiting_cab":
        raise TransitionNotAllowed(_("{number} is {status}; only changes awaiting the CAB can "
                                     "be decided").format(number=change.number,
                                                          status=change.status))
    item, mt = _open_item(session, change, meeting)
    conditions = (conditions or "").strip() or None
    # agent_id is None only for the system actor, which holds no CAB role
    session.add(CabDecision(meeting_id=pk(mt), change_id=pk(change),
                            agent_id=agent_id,  # type: ignore[arg-type]
                            vote=value, conditions=conditions, final=True, decided_at=now))
    item.decision = value
    # A decision does not close the meeting nor make the decider its chair: a chair may
    # decide an item ahead of Tuesday's meeting, which stays open for changes submitted
    # before its cut-off (`hold_meeting` closes it; so does its time passing).
    result = Decision(number=change.number, decision=value, status=change.status)
    note = f"CAB {mt.starts_at.astimezone(settings.tzinfo):%Y-%m-%d}: {value}" + (
        f" ({conditions})" if conditions else "")
    if value == "approve":
        move_status(session, change, agent_id, "approved", now, comment=note)
    elif value == "reject":
        move_status(session, change, agent_id, "rejected", now, comment=note)
    else:
        nxt = None
        for at in slots(max(mt.starts_at, now), settings):
            existing = _meeting_at(session, at)
            if existing is None or existing.status == "planned":
                nxt = existing or _create_meeting(session, at)
                break
        assert nxt is not None
        add_to_agenda(session, nxt, change)
        record_ticket_event(session, ticket_type="change", ticket_id=pk(change), kind="field",
                            actor_id=agent_id, field="cab_meeting", old=mt.starts_at,
                            new=nxt.starts_at, comment=note, at=now)
        touch(change, now)
        result["next_meeting"] = nxt.starts_at
    result["status"] = change.status
    session.flush()
    return result


def held(meeting: CabMeeting | MeetingRef, now: datetime) -> bool:
    """Held: the coordinator said so, or the meeting's time (and its running time) passed."""
    return meeting.status == "held" or (meeting.status == "planned"
                                        and meeting.starts_at + RUNNING <= now)


def hold_meeting(session: Session, actor: Actor, meeting: str | date | datetime | None = None,
                 *, now: datetime | None = None, settings: Settings | None = None
                 ) -> CabMeeting:
    """The coordinator marks a meeting held (its minutes are final; submissions go to the
    next one). The chair stays who it was; a meeting without one gets the coordinator."""
    settings = settings or settings_of(session)
    agent_id = require(session, actor, "change.manage")
    now = now or utcnow()
    ref = find_meeting(session, meeting, now=now, settings=settings)
    mt = session.get(CabMeeting, ref.id) if ref.id else _create_meeting(session, ref.starts_at)
    assert mt is not None
    if mt.status == "cancelled":
        raise TransitionNotAllowed(_("the meeting on {date} was cancelled").format(
            date=f"{mt.starts_at:%Y-%m-%d}"))
    mt.status = "held"
    if mt.chair_id is None:
        mt.chair_id = agent_id
    session.flush()
    return mt


def move_item(session: Session, actor: Actor, number: str, to: str | date | datetime, *,
              now: datetime | None = None, settings: Settings | None = None) -> CabMeeting:
    """The coordinator moves a change to another (planned) meeting."""
    settings = settings or settings_of(session)
    agent_id = require(session, actor, "change.manage", number)
    now = now or utcnow()
    change = get_change(session, number, for_update=True)
    item, old = _open_item(session, change, None)
    ref = find_meeting(session, to, now=now, settings=settings)
    if ref.starts_at < now - RUNNING:
        raise InvalidInput(_("cannot move an item to a meeting in the past"))
    if ref.id is not None and ref.status != "planned":
        raise InvalidInput(_("the meeting on {date} is {status}").format(
            date=f"{ref.starts_at:%Y-%m-%d}", status=WORD_LABELS.get(ref.status, ref.status)))
    target = session.get(CabMeeting, ref.id) if ref.id else _create_meeting(session, ref.starts_at)
    assert target is not None
    if target.id == old.id:
        return target
    if session.execute(select(CabAgendaItem).where(col(CabAgendaItem.meeting_id) == target.id,
                                                   col(CabAgendaItem.change_id) == change.id)
                       ).first():
        raise InvalidInput(_("{number} is already on that meeting's agenda").format(
            number=change.number))
    session.delete(item)
    session.flush()
    add_to_agenda(session, target, change)
    record_ticket_event(session, ticket_type="change", ticket_id=pk(change), kind="field",
                        actor_id=agent_id, field="cab_meeting", old=old.starts_at,
                        new=target.starts_at, at=now)
    touch(change, now)
    session.flush()
    return target
