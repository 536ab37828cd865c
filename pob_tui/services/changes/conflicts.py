"""What a change clashes with: other live changes in its window (same CI, dependent CIs,
a shared service, the same implementer) and freeze windows. The calendar, the detail, the
CAB agenda and the form for a new change all ask here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TypedDict

from sqlalchemy import select
from sqlmodel import Session, col

from pob_tui.config import Settings
from pob_tui.db import settings_of
from pob_tui.errors import InvalidInput, NotFound
from pob_tui.i18n import _
from pob_tui.models import ChangeCi, ChangeRequest, CiRelation, FreezeWindow, ServiceCi, pk
from pob_tui.reports.cab import Conflict  # the read side's shape of a clash
from pob_tui.services.changes.records import (
    ACTIVE_STATUSES,
    check_window,
    parse_local,
)
from pob_tui.services.cmdb import find_ci
from pob_tui.services.identity import Actor
from pob_tui.services.impact import Impact, chunks, reach_by_root
from pob_tui.sla.workdays import local_date


class WindowCheck(TypedDict):
    """What a change being drafted would clash with; `problem` says why nothing was checked."""

    conflicts: list[Conflict]
    freeze: list[str]
    problem: str | None


def freeze_hits(session: Session, start: datetime, end: datetime,
                settings: Settings | None = None) -> list[str]:
    """Names of the freeze windows (config and table) that the window touches."""
    s = settings or settings_of(session)
    names = list(session.execute(
        select(col(FreezeWindow.name)).where(col(FreezeWindow.starts_at) < end,
                                             col(FreezeWindow.ends_at) > start)
        .order_by(col(FreezeWindow.starts_at))).scalars())
    first, last = local_date(start, s), local_date(end, s)
    names += [fw.name for fw in s.freeze if fw.start <= last and fw.end >= first]
    return names


def find_conflicts(session: Session, change: ChangeRequest, impact: Impact | None = None, *,
                   cis: Sequence[int] | None = None) -> list[Conflict]:
    """Other live changes whose window overlaps this one and that share a CI, touch a CI
    this one depends on or impacts, rest on a shared service, or use the same implementer."""
    return conflicts_of(session, [change], {pk(change): impact} if impact is not None else None,
                        {pk(change): list(cis)} if cis is not None else None)[0]


def conflicts_of(session: Session, changes: Sequence[ChangeRequest],
                 impacts: Mapping[int, Impact] | None = None,
                 cis: Mapping[int, Sequence[int]] | None = None) -> list[list[Conflict]]:
    """`find_conflicts` for several changes in a fixed number of queries (the calendar asks
    for a week of changes at once). `impacts` and `cis` (by change id) are used where given;
    otherwise a change's CIs are read and what it reaches is walked for all at once."""
    results: list[list[Conflict]] = [[] for _change in changes]
    timed = [(i, ch) for i, ch in enumerate(changes)
             if ch.planned_start is not None and ch.planned_end is not None]
    if not timed:
        return results
    lo = min(ch.planned_start for _i, ch in timed if ch.planned_start is not None)
    hi = max(ch.planned_end for _i, ch in timed if ch.planned_end is not None)
    others = [(oid, num, impl, start, end) for oid, num, impl, start, end in session.execute(
        select(col(ChangeRequest.id), col(ChangeRequest.number),
               col(ChangeRequest.implementer_id), col(ChangeRequest.planned_start),
               col(ChangeRequest.planned_end))
        .where(col(ChangeRequest.planned_start) < hi, col(ChangeRequest.planned_end) > lo,
               col(ChangeRequest.status).in_(ACTIVE_STATUSES))
        .order_by(col(ChangeRequest.planned_start), col(ChangeRequest.number)))]
    overlapping: dict[int, list[tuple[int, str, int | None]]] = {}
    for i, ch in timed:
        assert ch.planned_start is not None and ch.planned_end is not None
        overlapping[i] = [(oid, num, impl) for oid, num, impl, start, end in others
                          if oid != ch.id and start is not None and end is not None
                          and start < ch.planned_end and end > ch.planned_start]
    busy = [i for i in overlapping if overlapping[i]]
    if not busy:
        return results
    their = _cis_of(session, {o[0] for i in busy for o in overlapping[i]})
    mine: dict[int, set[int]] = {}
    unknown = [pk(changes[i]) for i in busy if cis is None or pk(changes[i]) not in cis]
    read = _cis_of(session, set(unknown)) if unknown else {}
    for i in busy:
        cid = pk(changes[i])
        mine[i] = set(cis[cid]) if cis is not None and cid in cis else read.get(cid, set())
    # what each change reaches: its impact where the caller has one, else one walk for all
    reach: dict[int, set[int]] = {}
    services: dict[int, set[int]] = {}
    walk_for = [i for i in busy if impacts is None or pk(changes[i]) not in impacts]
    by_root = reach_by_root(session, {c for i in walk_for for c in mine[i]})
    for i in busy:
        impact = impacts.get(pk(changes[i])) if impacts is not None else None
        if impact is not None:
            reach[i], services[i] = impact.ci_ids, impact.service_ids
        else:
            reach[i] = set().union(*(by_root.get(c, set()) for c in mine[i]))
    all_theirs: set[int] = set().union(*their.values()) if their else set()
    svc_of = _services_of(session, all_theirs | {c for i in walk_for for c in reach[i]})
    for i in walk_for:
        services[i] = set().union(*(svc_of.get(c, set()) for c in reach[i]))
    # direct relations from my CIs to theirs (I depend on / run on / connect to them)
    relations = _relations(session, {c for i in busy for c in mine[i]}, all_theirs)
    for i in busy:
        change = changes[i]
        depends = {t for s, t in relations if s in mine[i]}
        out = results[i]
        for oid, onum, implementer in overlapping[i]:
            d = their.get(oid, set())
            if mine[i] & d:
                out.append(Conflict(number=onum, kind="same_ci",
                                    detail=_("same CI as {number}").format(number=onum)))
            elif (reach[i] & d) or (depends & d):
                out.append(Conflict(number=onum, kind="dependent_ci",
                                    detail=_("CIs that depend on one another with {number}")
                                    .format(number=onum)))
            elif services[i] & set().union(*(svc_of.get(c, set()) for c in d)):
                out.append(Conflict(number=onum, kind="same_service",
                                    detail=_("same service as {number}").format(number=onum)))
            if implementer is not None and implementer == change.implementer_id:
                out.append(Conflict(number=onum, kind="implementer",
                                    detail=_("implementer also booked on {number}")
                                    .format(number=onum)))
    return results


def _cis_of(session: Session, change_ids: set[int]) -> dict[int, set[int]]:
    """Change id -> the ids of its CIs."""
    out: dict[int, set[int]] = {}
    for chunk in chunks(change_ids):
        for cid, ci in session.execute(select(col(ChangeCi.change_id), col(ChangeCi.ci_id))
                                       .where(col(ChangeCi.change_id).in_(chunk))):
            out.setdefault(cid, set()).add(ci)
    return out


def _services_of(session: Session, ci_ids: set[int]) -> dict[int, set[int]]:
    """CI id -> the services resting on it."""
    out: dict[int, set[int]] = {}
    for chunk in chunks(ci_ids):
        for sid, ci in session.execute(select(col(ServiceCi.service_id), col(ServiceCi.ci_id))
                                       .where(col(ServiceCi.ci_id).in_(chunk))):
            out.setdefault(ci, set()).add(sid)
    return out


def _relations(session: Session, sources: set[int], targets: set[int]
               ) -> set[tuple[int, int]]:
    """(source, target) pairs of the relations from `sources` to `targets`."""
    out: set[tuple[int, int]] = set()
    if not sources or not targets:
        return out
    for chunk in chunks(sources):
        for tchunk in chunks(targets):
            out.update((s, t) for s, t in session.execute(
                select(col(CiRelation.source_id), col(CiRelation.target_id))
                .where(col(CiRelation.source_id).in_(chunk),
                       col(CiRelation.target_id).in_(tchunk))))
    return out


def window_conflicts(session: Session, actor: Actor, planned_start: str | datetime | None,
                     planned_end: str | datetime | None, cis: Sequence[str | int] = (), *,
                     settings: Settings | None = None) -> WindowCheck:
    """What a change being drafted would clash with, before anything is saved: the live
    changes in the calendar that `find_conflicts` reports and the freeze windows the planned
    window touches. The implementer is the actor (a new change's default). Half-typed or
    incomplete windows give no conflicts and say why in "problem"."""
    settings = settings or settings_of(session)
    out = WindowCheck(conflicts=[], freeze=[], problem=None)
    try:
        start = parse_local(planned_start, settings, "planned start")
        end = parse_local(planned_end, settings, "planned end")
        check_window(start, end)
        ci_ids = list(dict.fromkeys(pk(find_ci(session, ref)) for ref in cis))
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
