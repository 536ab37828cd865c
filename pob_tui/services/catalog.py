"""The service catalog: the list with its economics, one service in detail, and marking a
service as retiring (which drafts the change request when the change module is present).

The list's cost, subscribers and cost per user come from the same allocation as
`pob report costs`, so the screen and the files never disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from pob_tui.errors import InvalidInput, NotFound, PobError
from pob_tui.i18n import _
from pob_tui.models import (
    Agreement,
    AgreementService,
    ConfigItem,
    Incident,
    OrgUnit,
    Person,
    Service,
    ServiceCi,
    ServiceCost,
    Subscription,
    Team,
)
from pob_tui.models.incident import OPEN_STATUSES
from pob_tui.reports.costs import AllocationCache, Period, allocate, cached, money
from pob_tui.reports.retire import month_start, usage_summary
from pob_tui.services.audit import record_admin_event
from pob_tui.services.identity import Actor
from pob_tui.services.permissions import require


@dataclass(frozen=True)
class CatalogRow:
    id: int
    code: str
    name: str
    lifecycle: str
    owner: str | None
    support_team: str | None
    yearly_cost: Decimal | None  # None: the reader may not see costs
    subscribers: int
    active_users: int
    cost_per_user: Decimal | None
    open_incidents: int


def _search_clause(search: str | None):  # type: ignore[no-untyped-def]
    if not search or not search.strip():
        return None
    term = f"%{search.strip().lower()}%"
    return or_(func.lower(col(Service.search)).like(term), func.lower(col(Service.name)).like(term),
               func.lower(col(Service.code)).like(term))


def list_services(session: Session, *, year: int, hourly_rate: Decimal,
                  tz: ZoneInfo | str = "Europe/Oslo", search: str | None = None,
                  as_of: date | None = None, with_costs: bool = True,
                  cache: AllocationCache | None = None) -> list[CatalogRow]:
    """Every service matching `search` with lifecycle, owner, support team and the year's
    economics; most expensive first. The catalog has a few hundred services, so one query
    (no paging) is enough; the allocation runs only for the services shown. Without
    `with_costs` (a reader without the costs.read role) the amounts are left out."""
    owner = aliased(Team)
    support = aliased(Team)
    q = (select(col(Service.id), col(Service.code), col(Service.name), col(Service.lifecycle),
                col(owner.name),
                col(support.name))
         .outerjoin(owner, col(owner.id) == Service.owner_team_id)
         .outerjoin(support, col(support.id) == Service.support_team_id))
    clause = _search_clause(search)
    if clause is not None:
        q = q.where(clause)
    base = session.execute(q).all()
    ids = [r[0] for r in base]
    if not ids:
        return []
    alloc = allocate(session, Period.year(year), hourly_rate=hourly_rate, tz=tz,
                     service_ids=ids if clause is not None else None, cache=cache)
    as_of = as_of or min(date(year, 12, 31), datetime.now(UTC).date())
    active, _latest = cached(session, cache, ("usage", as_of),
                             lambda: usage_summary(session, as_of))
    open_q = (select(col(Incident.service_id), func.count())
              .where(col(Incident.status).in_(OPEN_STATUSES), col(Incident.service_id).is_not(None))
              .group_by(col(Incident.service_id)))
    open_n = {sid: int(n) for sid, n in session.execute(open_q)}
    rows = []
    for sid, code, name, life, own, sup in base:
        a = alloc.services[sid]
        people = a.people
        cost = money(a.total_cents) if with_costs else None
        per_user = money(a.total_cents // people) if with_costs and people else None
        rows.append(CatalogRow(sid, code, name, life, own, sup, cost, people,
                               active.get(sid, 0), per_user, open_n.get(sid, 0)))
    rows.sort(key=lambda r: (-(r.yearly_cost or 0), r.name, r.code))
    return rows


def find_service(session: Session, ref: str | int) -> Service:
    """A service by id, by its exact code, or else by code or name ignoring case when just
    one service answers to it (an ambiguous name finds none rather than a random one).
    The one lookup for every caller: logging a call, the catalog, outages, templates."""
    svc: Service | None
    if isinstance(ref, int):
        svc = session.get(Service, ref)
    else:
        value = ref.strip()
        svc = session.execute(select(Service).where(col(Service.code) == value)
                              ).scalars().first()
        if svc is None:
            found = session.execute(select(Service).where(or_(
                func.lower(col(Service.code)) == value.lower(),
                func.lower(col(Service.name)) == value.lower())).limit(2)).scalars().all()
            svc = found[0] if len(found) == 1 else None
    if svc is None:
        raise NotFound(_("unknown service {ref}: no service with that code or name").format(
            ref=repr(ref)))
    return svc


def service_detail(session: Session, ref: str | int, *, now: datetime,
                   tz: ZoneInfo | str = "Europe/Oslo", months: int = 12,
                   with_costs: bool = True) -> dict[str, Any]:
    """One service: costs by kind and year (only `with_costs`), subscriptions, CIs it rests
    on, agreements, and incidents per month for the last `months` months (oldest first)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    svc = find_service(session, ref)
    teams = {t.id: t.name for t in session.execute(select(Team)).scalars()}
    costs = [{"year": y, "kind": k, "amount": money(round(a * 100))}
             for y, k, a in session.execute(
                 select(col(ServiceCost.year), col(ServiceCost.kind), col(ServiceCost.amount))
                 .where(col(ServiceCost.service_id) == svc.id)
                 .order_by(col(ServiceCost.year).desc(),
                           col(ServiceCost.kind)))] if with_costs else []
    subs = []
    for unit_code, unit_name, username, first, last, frm, to in session.execute(
            select(col(OrgUnit.code), col(OrgUnit.name), col(Person.username),
                   col(Person.first_name),
                   col(Person.last_name), col(Subscription.valid_from), col(Subscription.valid_to))
            .outerjoin(OrgUnit, col(OrgUnit.id) == Subscription.org_unit_id)
            .outerjoin(Person, col(Person.id) == Subscription.person_id)
            .where(col(Subscription.service_id) == svc.id)
            .order_by(col(Subscription.org_unit_id).is_(None), col(OrgUnit.code),
                      col(Person.username))):
        holder = f"{unit_code} {unit_name}" if unit_code else f"{username} ({first} {last})"
        subs.append({"holder": holder, "kind": "org unit" if unit_code else "person",
                     "valid_from": frm, "valid_to": to})
    cis = [{"name": n, "class": c, "status": s} for n, c, s in session.execute(
        select(col(ConfigItem.name), col(ConfigItem.ci_class), col(ConfigItem.status))
        .join(ServiceCi, col(ServiceCi.ci_id) == ConfigItem.id)
        .where(col(ServiceCi.service_id) == svc.id).order_by(col(ConfigItem.name)))]
    agreements = [{"name": n, "customer": c} for n, c in session.execute(
        select(col(Agreement.name), col(OrgUnit.name))
        .join(AgreementService, col(AgreementService.agreement_id) == Agreement.id)
        .outerjoin(OrgUnit, col(OrgUnit.id) == Agreement.customer_id)
        .where(col(AgreementService.service_id) == svc.id).order_by(col(Agreement.name)))]
    local_now = now.astimezone(zone).date()
    first = month_start(local_now, months - 1)
    since = datetime.combine(first, datetime.min.time(), zone).astimezone(UTC)
    per_month: Counter[date] = Counter()
    for (opened,) in session.execute(select(col(Incident.opened_at)).where(
            col(Incident.service_id) == svc.id, col(Incident.opened_at) >= since,
            col(Incident.opened_at) <= now)):
        per_month[opened.astimezone(zone).date().replace(day=1)] += 1
    trend = [(month_start(local_now, back), per_month.get(month_start(local_now, back), 0))
             for back in range(months - 1, -1, -1)]
    open_n = session.execute(select(func.count()).select_from(Incident).where(
        col(Incident.service_id) == svc.id, col(Incident.status).in_(OPEN_STATUSES))).scalar_one()
    return {
        "code": svc.code, "name": svc.name, "description": svc.description,
        "category": svc.category, "lifecycle": svc.lifecycle,
        "owner_team": teams.get(svc.owner_team_id or -1),
        "support_team": teams.get(svc.support_team_id or -1),
        "costs": costs, "subscriptions": subs, "cis": cis, "agreements": agreements,
        "trend": trend, "open_incidents": int(open_n),
    }


def mark_retiring(session: Session, actor: Actor, ref: str | int, *,
                  now: datetime | None = None, draft_change: bool = True) -> dict[str, Any]:
    """Set a live or planned service to `retiring`, audited, and (`draft_change`) draft the
    change request that will retire it (in a savepoint: if the actor may not request
    changes, the service is still marked and `change_note` says why)."""
    require(session, actor, "service.retire", target=str(ref))
    svc = find_service(session, ref)
    if svc.lifecycle in ("retiring", "retired"):
        raise InvalidInput(_("{code} is already {lifecycle}").format(code=svc.code,
                                                                   lifecycle=svc.lifecycle))
    old = svc.lifecycle
    svc.lifecycle = "retiring"
    session.add(svc)
    record_admin_event(session, actor=actor.username, action="service.retire",
                       target=svc.code, detail=f"lifecycle {old} -> retiring")
    session.flush()
    result: dict[str, Any] = {"service": svc.code, "lifecycle": "retiring", "change": None,
                              "change_note": None}
    if not draft_change:
        return result
    from pob_tui.services.changes.lifecycle import NewChange, create_change

    ci_ids = list(session.execute(select(col(ServiceCi.ci_id)).where(
        col(ServiceCi.service_id) == svc.id)).scalars())
    data = NewChange(
        title=f"Retire {svc.code} {svc.name}"[:200], cis=ci_ids,
        description=f"Retire the service {svc.name} ({svc.code}): marked retiring from the "
                    "kill-when-you-can review.",
        reason="Low use relative to cost (pob report retire).",
        owner_team=svc.owner_team_id,
    )
    nested = session.begin_nested()
    try:
        change = create_change(session, actor, data, now=now)
        nested.commit()
        result["change"] = change.number
    except PobError as exc:
        nested.rollback()
        result["change_note"] = str(exc)
    return result
