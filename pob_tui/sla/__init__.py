"""Pure-Python SLA business-time calendar (no database, no UI)."""

from pob_tui.sla.calendar import (
    OFFICE_HOURS,
    BusinessCalendar,
    Segment,
    norwegian_holidays,
    norwegian_office_calendar,
)

__all__ = [
    "OFFICE_HOURS",
    "BusinessCalendar",
    "Segment",
    "norwegian_holidays",
    "norwegian_office_calendar",
]
