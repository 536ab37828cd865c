"""The incident lists' views and sorts by name, and the rows they hold: one definition for
the service's SQL (`incidents.list_incidents`), the queue screen's tabs and the CLI's
choices.

No ORM here, so `pob --help` (which lists the choices) stays light. `SORT_SPEC` is each
order as row fields; `incidents.order_by` turns it into SQL and `compare_rows` applies it to
rows already loaded, so the two cannot disagree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NotRequired, TypedDict

LIST_VIEWS = ("mine", "team", "open", "unassigned", "waiting", "resolved", "all")
"""What `list_incidents` (and `pob incident list --view`) filters by."""
QUEUE_VIEWS = ("mine", "team", "open", "unassigned", "waiting", "resolved", "at_risk")
"""The queue screen's tabs, in order: the list views an agent works from, and "at risk"
(open incidents whose resolution clock is at risk or breached), which needs the clocks."""
COUNTED_VIEWS = ("mine", "team", "open", "unassigned", "waiting")
"""Views bounded by an index: cheap enough to count for the status line."""
SORT_SPEC: dict[str, tuple[tuple[str, bool], ...]] = {
    "age": (("opened_at", False), ("id", False)),
    "newest": (("opened_at", True), ("id", True)),
    "priority": (("priority", False), ("opened_at", False), ("id", False)),
    "due": (("resolution_due_at", False), ("priority", False), ("id", False)),
    "number": (("number", True),),
    "status": (("status", False), ("opened_at", False), ("id", False)),
    "resolved": (("resolved_at", True), ("id", True)),
}
"""Each sort as (row field, descending) pairs, the last a tie-break so pages never overlap.
An empty value (no due time) sorts last either way, on both backends."""
SORTS = tuple(SORT_SPEC)
"""Every order `list_incidents` offers (`pob incident list --sort`)."""
QUEUE_SORTS = ("newest", "age", "priority", "due")
"""The orders the queue screen cycles through with `s`, in that order."""
RECENT = timedelta(days=7)
"""How far back the "resolved" view reaches."""


def queue_order(view: str, sort: str) -> str:
    """The order a queue view's rows are in: "at risk" is always soonest due first (it
    scans the due-time order), every other view the sort chosen."""
    return "due" if view == "at_risk" else sort


def default_sort(view: str) -> str:
    """Newest first; the resolved view: last resolved first."""
    return "resolved" if view == "resolved" else "newest"


class IncidentRow(TypedDict):
    """One row of an incident list. The queue adds the SLA and mail keys per page."""

    id: int
    number: str
    priority: int
    status: str
    summary: str
    opened_at: datetime
    resolved_at: datetime | None
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    version: int
    escalation_level: int
    problem_id: int | None
    caller: str
    caller_name: str
    vip: bool
    service: str | None
    """The service's code (the CLI's JSON and CSV contract)."""
    service_name: str | None
    team: str | None
    assignee: str | None
    sla_left: NotRequired[timedelta | None]
    """Business time left on the resolution clock (`sla.time_left`); None when paused."""
    sla_state: NotRequired[str]
    sla_day: NotRequired[timedelta]
    """The clock calendar's working day (to show the time left in working days)."""
    mail_unread: NotRequired[bool]
    """The caller wrote and no agent has opened it yet (`mail.mark_unread`)."""


def compare_rows(sort: str, a: IncidentRow, b: IncidentRow) -> int:
    """-1, 0 or 1 as `a` comes before, with or after `b` in the SQL order of `sort`: a live
    queue places a row another agent changed among the loaded ones without a query."""
    for name, descending in SORT_SPEC[sort]:
        x: Any = a.get(name)
        y: Any = b.get(name)
        if x == y:
            continue
        if x is None or y is None:  # empty last, as the SQL says
            return 1 if x is None else -1
        before = x > y if descending else x < y
        return -1 if before else 1
    return 0


class EventRow(TypedDict):
    """One event of an incident's timeline, oldest first. `old` and `new` are the stored
    text; the detail screen's timeline names the ids (`desk_views.incident_timeline`)."""

    at: datetime
    actor: str | None
    kind: str
    field: str | None
    old: str | None
    new: str | None
    comment: str | None
    minutes: int | None


class IncidentDetail(TypedDict):
    """Every field of one incident (the `Incident` columns, same names) with the names an
    agent reads, the linked problem, and (unless left out) its events."""

    id: int
    number: str
    caller_id: int
    service_id: int | None
    ci_id: int | None
    location_id: int | None
    summary: str
    description: str | None
    impact: int
    urgency: int
    priority: int
    status: str
    channel: str
    team_id: int | None
    assignee_id: int | None
    opened_by_id: int | None
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    escalation_level: int
    resolution_code: str | None
    resolution_note: str | None
    first_line: bool
    problem_id: int | None
    caused_by_change_id: int | None
    satisfaction: int | None
    satisfaction_comment: str | None
    satisfaction_at: datetime | None
    major: bool
    parent_id: int | None
    version: int
    caller: str | None
    caller_name: str | None
    caller_phone: str | None
    caller_email: str | None
    caller_vip: bool
    org_unit: str | None
    service: str | None
    service_name: str | None
    team: str | None
    assignee: str | None
    ci: str | None
    problem: str | None
    problem_title: str | None
    workaround: str | None
    events: NotRequired[list[EventRow]]


class FollowUpRow(TypedDict):
    """A follow-up for a customer manager after a low satisfaction score."""

    id: int
    number: str
    summary: str
    score: int | None
    org_unit: str | None
    manager: str | None
    note: str | None
    created_at: datetime
    status: str


class TeamChoice(TypedDict):
    """A team offered by the assign and escalate dialogs."""

    id: int
    code: str
    name: str
    kind: str
