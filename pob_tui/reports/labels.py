"""What people read for the keys and stored values that scripts get: report and list column
headings, KPI metric names, flags and states, in the current language.

JSON and CSV keep the English keys and values (contracts); tables, Markdown and the screens
show these labels. Looked up when shown (`LazyLabels`), so `--lang nb` applies however early
the module was imported. Pure: no database, no Textual.
"""

from __future__ import annotations

from typing import Any

from pob_tui.i18n import LazyLabels, _

COLUMN_LABELS = LazyLabels(lambda: {
    # lists
    "number": _("Number"),
    "priority": _("Priority"),
    "status": _("Status"),
    "caller": _("Caller"),
    "service": _("Service"),
    "service_name": _("Service"),
    "summary": _("Summary"),
    "team": _("Team"),
    "assignee": _("Assignee"),
    "opened_at": _("Opened"),
    # reports
    "code": _("Code"),
    "lifecycle": _("Lifecycle"),
    "people": _("People"),
    "cost_rows": _("Cost rows"),
    "agent_hours": _("Agent hours"),
    "agent_time": _("Agent time"),
    "total": _("Total"),
    "allocated": _("Allocated"),
    "unallocated": _("Unallocated"),
    "per_person": _("Per person"),
    "org_unit": _("Org unit"),
    "name": _("Name"),
    "parent": _("Parent"),
    "depth": _("Depth"),
    "own": _("Own"),
    "username": _("Username"),
    "services": _("Services"),
    "days": _("Days"),
    "customer": _("Customer"),
    "customer_name": _("Customer name"),
    "amount": _("Amount"),
    "funding": _("Funding"),
    "used": _("Used"),
    "difference": _("Difference"),
    "funding_share": _("Funding share"),
    "use_share": _("Use share"),
    "paid": _("Paid"),
    "rank": _("Rank"),
    "yearly_cost": _("Yearly cost"),
    "subscribers": _("Subscribers"),
    "active": _("Active"),
    "active_share": _("Active share"),
    "cost_per_active": _("Cost per active"),
    "months_since_use": _("Months since use"),
    "last_use": _("Last use"),
    "saving": _("Saving"),
    "metric": _("Metric"),
    "value": _("Value"),
    "target": _("Target"),
    "flag": _("Flag"),
    "met": _("met"),
    "missed": _("missed"),
    "share_met": _("Share met"),
})

METRIC_LABELS = LazyLabels(lambda: {
    "calls": _("Calls"),
    "calls_per_working_day": _("Calls per working day"),
    "first_line_share": _("Resolved at first line"),
    "sla_compliance": _("SLA compliance"),
    "backlog": _("Backlog"),
    "backlog_median_age_days": _("Backlog median age (days)"),
    "mttr_hours": _("Mean time to resolve (hours)"),
    "change_success_rate": _("Change success rate"),
})

VALUE_LABELS = LazyLabels(lambda: {
    # KPI flags
    "below target": _("below target"),
    "under 4": _("under 4"),
    # cross-subsidy status
    "pays more": _("pays more"),
    "pays less": _("pays less"),
    "even": _("even"),
    "unallocated": _("unallocated"),
    # incident status (as the queue shows them)
    "new": _("new"),
    "assigned": _("assigned"),
    "in_progress": _("in progress"),
    "waiting_caller": _("wait caller"),
    "waiting_supplier": _("wait supplier"),
    "resolved": _("resolved"),
    "closed": _("closed"),
    "cancelled": _("cancelled"),
    # service lifecycle
    "planned": _("planned"),
    "live": _("live"),
    "retiring": _("retiring"),
    "retired": _("retired"),
})

LABELLED_VALUES = frozenset({"flag", "status", "lifecycle"})
"""Columns whose stored values get a display label in tables (others are names, numbers)."""


def column_label(key: str) -> str:
    """The heading of a column: 'Opened' for `opened_at`; unknown keys read as words."""
    return COLUMN_LABELS.get(key) or key.replace("_", " ")


def metric_label(key: str) -> str:
    """A KPI metric's name; 'satisfaction:OPPV' reads 'Satisfaction OPPV'."""
    head, sep, unit = key.partition(":")
    if sep and head == "satisfaction":
        return _("Satisfaction {unit}").format(unit=unit)
    return METRIC_LABELS.get(key, key.replace("_", " "))


def value_label(column: str, value: Any) -> Any:
    """A stored value as people read it in a table; names and numbers are left alone."""
    if column == "metric" and isinstance(value, str):
        return metric_label(value)
    if column in LABELLED_VALUES and isinstance(value, str):
        return VALUE_LABELS.get(value, value)
    return value
