"""SLA times the way agents read them, one formatter for the queue, the detail, the CLI and
the reports: time left in *working* time ("10 wd", "2 wd 3 h", "45 min") or the due time in
the calendar's zone ("fre 11.12 15:45").

A working day is the calendar's longest opening day (7 h 45 min for 08:00-15:45), so 77.5
business hours read "10 wd", not the "3d5h" that 24-hour days gave. Pure functions: no
database, no Textual.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from pob_tui.i18n import LazyLabels, _

STATE_LABELS = LazyLabels(lambda: {
    "ok": _("ok"),
    "at_risk": _("at risk"),
    "breached": _("breached"),
    "paused": _("paused"),
    "met": _("met"),
    "missed": _("missed"),
    "stopped": _("stopped"),
})

DEFAULT_DAY = timedelta(hours=7, minutes=45)
"""A working day when the calendar is not known (the municipality's office hours)."""


def weekday_names() -> tuple[str, ...]:
    """Short weekday names, Monday first, in the current language."""
    return (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))


def format_left(left: timedelta | None, day: timedelta | None = None,
                width: int | None = None) -> str:
    """Business time left: '45 min', '3 h 05', '1 wd 2 h', '10 wd'; overdue gets a minus
    ('-45 min'). `day` is the calendar's working day (`BusinessCalendar.working_day`).
    With `width` (a table column), the smaller unit goes rather than being cut:
    '-14 wd' instead of '-14 wd 1…'."""
    if left is None:
        return ""
    day = day if day and day > timedelta(0) else DEFAULT_DAY
    sign = "-" if left < timedelta(0) else ""
    minutes = int(abs(left) // timedelta(minutes=1))
    day_minutes = int(day // timedelta(minutes=1))
    if minutes < 60:
        return sign + _("{m} min").format(m=minutes)
    if minutes < day_minutes:
        hours, mins = divmod(minutes, 60)
        if not mins:
            return sign + _("{h} h").format(h=hours)
        return sign + _("{h} h {m:02d}").format(h=hours, m=mins)
    days, rest = divmod(minutes, day_minutes)
    hours = rest // 60
    whole = sign + _("{d} wd").format(d=days)
    if not hours:
        return whole
    text = sign + _("{d} wd {h} h").format(d=days, h=hours)
    return whole if width is not None and len(text) > width else text


def format_due(when: datetime | None, tz: tzinfo, now: datetime | None = None) -> str:
    """The due time in the calendar's zone: 'fre 11.12 15:45' ('15:45' alone today)."""
    if when is None:
        return ""
    local = when.astimezone(tz)
    if now is not None and now.astimezone(tz).date() == local.date():
        return local.strftime("%H:%M")
    return f"{weekday_names()[local.weekday()]} {local:%d.%m %H:%M}"


def format_stamp(when: datetime | None, tz: tzinfo) -> str:
    """An audit moment to the second, in the calendar's zone with its offset:
    '2026-11-29 20:45:12 +01:00' (the audit trail: order within a minute matters)."""
    if when is None:
        return ""
    local = when.astimezone(tz).replace(microsecond=0)
    offset = local.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else ""
    return f"{local:%Y-%m-%d %H:%M:%S} {offset}".rstrip()


def format_moment(when: datetime | None, tz: tzinfo) -> str:
    """A moment in the calendar's zone with its weekday and offset, without microseconds:
    'fre 11.12.2026 15:45 +01:00' (the explain view, the CLI)."""
    if when is None:
        return ""
    local = when.astimezone(tz).replace(microsecond=0)
    offset = local.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else ""
    return f"{weekday_names()[local.weekday()]} {local:%d.%m.%Y %H:%M} {offset}".rstrip()
