"""Reports as a use case: who may read which report, then the report itself.

The read side (`pob_tui.reports`) computes figures and knows nothing of actors or roles;
the costs.read rule is checked here, once, for the CLI and the reports screen alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from pob_tui.config import Settings
from pob_tui.reports import build
from pob_tui.reports.costs import AllocationCache
from pob_tui.services.identity import Actor
from pob_tui.services.permissions import require


def build_report(session: Session, actor: Actor, settings: Settings, kind: str, *,
                 period: Any, by: str = "service", customer: str | None = None,
                 person: str | None = None, include_all: bool = False,
                 now: datetime | None = None, cache: AllocationCache | None = None,
                 ) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """Rows and columns of one report (`reports.build.build_report`); a cost report
    (costs, chargeback, subsidy, retire) needs costs.read, audited when refused."""
    if kind in build.COST_REPORTS:
        require(session, actor, "costs.read", target=f"report {kind}")
    return build.build_report(session, settings, kind, period=period, by=by,
                              customer=customer, person=person, include_all=include_all,
                              now=now, cache=cache)
