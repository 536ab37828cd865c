"""One report as rows and columns: what `pob report` prints and the reports screen shows.

Kept apart from the CLI so the TUI and the command line call the same function. Who may
read a cost report is a role rule: `services.reporting.build_report` checks it and calls this.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pob_tui.config import Settings

if TYPE_CHECKING:
    from pob_tui.reports.costs import AllocationCache

COST_REPORTS = ("costs", "chargeback", "subsidy", "retire")


COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {
    ("costs", "service"): ("code", "service", "lifecycle", "people", "cost_rows", "agent_hours",
                           "agent_time", "total", "allocated", "unallocated", "per_person"),
    ("costs", "org-unit"): ("org_unit", "name", "parent", "depth", "own", "total"),
    ("costs", "person"): ("username", "name", "org_unit", "services", "total"),
    ("costs", "detail"): ("code", "service", "days", "total"),
    ("chargeback", "service"): ("customer", "customer_name", "code", "service", "people",
                                "amount"),
    ("chargeback", "person"): ("customer", "customer_name", "username", "name", "org_unit",
                               "services", "total"),
    ("subsidy", "org-unit"): ("org_unit", "name", "funding", "used", "difference",
                              "funding_share", "use_share", "status"),
    ("subsidy", "service"): ("org_unit", "name", "code", "service", "paid", "used",
                             "difference"),
    ("retire", "service"): ("rank", "code", "service", "lifecycle", "yearly_cost", "subscribers",
                            "active", "active_share", "cost_per_active", "months_since_use",
                            "last_use", "saving"),
    ("kpi", "metric"): ("metric", "value", "target", "flag"),
}


def build_report(session: Any, settings: Settings, kind: str, *, period: Any,
                 by: str = "service", customer: str | None = None,
                 person: str | None = None, include_all: bool = False,
                 now: datetime | None = None, cache: AllocationCache | None = None,
                 ) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """Rows and columns of one report, unchecked: callers go through
    `services.reporting.build_report`, which asks for costs.read first."""
    from pob_tui.models import utcnow
    from pob_tui.reports import costs as rc

    if kind == "sla":
        from pob_tui.reports.sla import sla_compliance

        tz = settings.tzinfo
        start = datetime.combine(period.start, time(), tz).astimezone(UTC)
        end = datetime.combine(period.end + timedelta(days=1), time(), tz).astimezone(UTC)
        rows = sla_compliance(session, start=start, end=end, by=by, now=now or utcnow())
        return rows, (by, "target", "met", "missed", "total", "share_met")
    if kind == "kpi":
        from pob_tui.reports.kpi import kpis

        k = kpis(session, period, now=now or utcnow(), tz=settings.tzinfo)
        return k.as_rows(), COLUMNS[("kpi", "metric")]
    alloc = rc.allocate(session, period, hourly_rate=settings.hourly_rate, tz=settings.tzinfo,
                        cache=cache)
    if kind == "costs":
        if person:
            return rc.person_detail(session, alloc, person), COLUMNS[("costs", "detail")]
        if by == "org-unit":
            return rc.costs_by_org_unit(alloc), COLUMNS[("costs", "org-unit")]
        if by == "person":
            return rc.costs_by_person(session, alloc), COLUMNS[("costs", "person")]
        return rc.costs_by_service(alloc), COLUMNS[("costs", "service")]
    if kind == "chargeback":
        return rc.chargeback(session, alloc, customer, by), COLUMNS[("chargeback", by)]
    if kind == "subsidy":
        return rc.subsidy(session, alloc, by), COLUMNS[("subsidy", by)]
    from pob_tui.reports.retire import retirement_candidates

    return (retirement_candidates(session, alloc, include_all=include_all),
            COLUMNS[("retire", "service")])


