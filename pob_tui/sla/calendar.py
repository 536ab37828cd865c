"""Business-time calendar: opening hours, holidays and DST-correct elapsed open time.

Design (why it is fast and exact):

* Each local date's opening hours are converted once (``functools.lru_cache`` keyed on the
  date) into half-open UTC intervals in integer epoch *microseconds*.  Integers keep
  ``between(s, add(s, d)) == d`` exact, which floats would not.
* Whole calendar years of intervals are concatenated into sorted arrays with a running sum
  of open time (a prefix sum).  Open time up to an instant is then one ``bisect`` plus a
  subtraction, so ``add``/``between`` are O(log n) no matter whether the duration is one
  minute or thirty days; this subsumes "skip whole weeks" tricks and stays correct across
  holidays, special days and DST without special-casing them.  Years are built lazily
  (forwards and backwards) as instants outside the built range are seen.

Wall-clock semantics: opening hours are wall times in ``tz``.  An instant is open when its
local wall time lies inside an interval of its local date, and open time is real elapsed
time, so a 00:00-24:00 day lasts 23 h / 25 h on DST change days.  Consequences:

* A boundary inside the spring gap (e.g. 02:30 on the last Sunday of March in Oslo) maps to
  the first instant after the gap (03:00 CEST).
* During the autumn fold a wall time occurs twice; an instant counts if *its* wall time is
  inside the interval, so ``("02:00", "02:30")`` on that day is open twice (1 h in total).
* ``"24:00"`` is the next local midnight.

Intervals are half open: open at the opening minute, closed at the closing minute.

Results are aware datetimes in ``tz``.  Python caveat (PEP 495): a result inside the autumn
fold hour never compares ``==`` to a datetime of another zone, and two datetimes sharing the
same tzinfo compare/subtract as wall times.  Callers comparing instants near DST changes
should do so in UTC (``dt.astimezone(UTC)``); ``<``/``>`` across different zones are fine.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "OFFICE_HOURS",
    "BusinessCalendar",
    "Segment",
    "norwegian_holidays",
    "norwegian_office_calendar",
]

_US = timedelta(microseconds=1)
_SEC = 1_000_000
_DAY = 86_400 * _SEC
_HOUR = 3_600 * _SEC
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# How far (in years) to look ahead for any open time before declaring the calendar closed.
_MAX_EMPTY_YEARS = 50

Interval = tuple[str, str]
Pause = tuple[datetime, datetime]
SegmentKind = Literal["open", "pause", "holiday", "closed"]

OFFICE_HOURS: dict[int, list[Interval]] = {wd: [("08:00", "15:45")] for wd in range(5)}


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of the timeline between two instants, with why it (does not) count."""

    start: datetime
    end: datetime
    kind: SegmentKind
    label: str = ""

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def _to_us(dt: datetime, what: str = "datetime") -> int:
    """Aware datetime -> integer epoch microseconds (naive is ambiguous, so rejected)."""
    if not isinstance(dt, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(
            f"{what} must be timezone-aware (got naive {dt.isoformat()}); "
            "attach a zone, e.g. dt.replace(tzinfo=ZoneInfo('Europe/Oslo'))"
        )
    return (dt - _EPOCH) // _US


def _parse_hhmm(text: str) -> int:
    """'HH:MM' -> microseconds after local midnight; '24:00' allowed as end of day."""
    try:
        hh, mm = text.split(":")
        h, m = int(hh), int(mm)
    except (AttributeError, ValueError):
        raise ValueError(f"invalid time {text!r}, expected 'HH:MM'") from None
    if not (0 <= m < 60 and (0 <= h < 24 or (h == 24 and m == 0))):
        raise ValueError(f"invalid time {text!r}, expected 00:00..24:00")
    return (h * 60 + m) * 60 * _SEC


def _parse_intervals(raw: Iterable[Interval], where: str) -> tuple[tuple[int, int], ...]:
    """Parse, validate, sort and merge wall-clock intervals (overlaps/touching merged)."""
    spans = []
    for item in raw:
        try:
            a_txt, b_txt = item
        except (TypeError, ValueError):
            raise ValueError(f"{where}: interval {item!r} must be ('HH:MM', 'HH:MM')") from None
        a, b = _parse_hhmm(a_txt), _parse_hhmm(b_txt)
        if a >= b:
            raise ValueError(f"{where}: interval {item!r} must start before it ends")
        spans.append((a, b))
    spans.sort()
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return tuple((a, b) for a, b in merged)


def _merge_us(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort and merge overlapping or touching [a, b) spans, dropping empty ones."""
    out: list[list[int]] = []
    for a, b in sorted(s for s in spans if s[0] < s[1]):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


class BusinessCalendar:
    """Opening hours + holidays in one time zone; counts real elapsed open time.

    ``hours`` maps weekday (0 = Monday) to wall-clock intervals; missing weekdays are closed.
    ``holidays`` are whole closed local dates (a ``Mapping[date, str]`` also supplies labels
    for :meth:`explain`).  ``holiday_years`` is an optional callback ``year -> dates`` used to
    extend holidays lazily for years first touched at run time.  ``special_days`` replace a
    date's hours entirely (shortened days; empty list = closed) and win over holidays.
    """

    def __init__(
        self,
        hours: Mapping[int, Sequence[Interval]],
        holidays: Iterable[date] = (),
        tz: str | tzinfo = "Europe/Oslo",
        *,
        special_days: Mapping[date, Sequence[Interval]] | None = None,
        holiday_years: Callable[[int], Iterable[date]] | None = None,
        cache_size: int = 16_384,
    ) -> None:
        self.tz: tzinfo = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._week: dict[int, tuple[tuple[int, int], ...]] = {}
        for wd, spans in hours.items():
            if wd not in range(7):
                raise ValueError(f"weekday must be 0..6 (0 = Monday), got {wd!r}")
            self._week[wd] = _parse_intervals(spans, f"hours[{wd}]")
        self._labels: dict[date, str] = {}
        if isinstance(holidays, Mapping):
            self._labels.update({d: str(n) for d, n in holidays.items()})
        self._holidays: set[date] = set(holidays)
        self._holiday_years = holiday_years
        self._holiday_years_done: set[int] = set()
        self._special: dict[date, tuple[tuple[int, int], ...]] = {
            d: _parse_intervals(spans, f"special_days[{d}]")
            for d, spans in (special_days or {}).items()
        }
        # Per-date UTC intervals, cached per instance (a method-level cache would pin self).
        self._day_cache = functools.lru_cache(maxsize=cache_size)(self._compute_day)
        self._midnights = functools.lru_cache(maxsize=cache_size)(self._compute_bounds)
        # Year-block prefix-sum arrays (see module docstring).
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._cum: list[int] = []  # open time from coverage start to the end of interval i
        self._lo_year = 0
        self._hi_year = 0  # exclusive; lo == hi means nothing built yet
        self._cov_lo = 0
        self._cov_hi = 0

    @property
    def working_day(self) -> timedelta:
        """The longest opening day of the week: what "1 working day" means when time left is
        shown to agents (see `sla.display.format_left`)."""
        longest = max((sum(b - a for a, b in spans) for spans in self._week.values()),
                      default=0)
        return timedelta(microseconds=longest)

    # ------------------------------------------------------------------ day level
    def _is_holiday(self, d: date) -> bool:
        if self._holiday_years is not None and d.year not in self._holiday_years_done:
            self._holiday_years_done.add(d.year)
            found = self._holiday_years(d.year)
            if isinstance(found, Mapping):  # names label the days in explain()
                self._labels.update({day: str(name) for day, name in found.items()})
            self._holidays.update(found)
        return d in self._holidays

    def _wall_spans(self, d: date) -> tuple[tuple[int, int], ...]:
        if d in self._special:
            return self._special[d]
        if self._is_holiday(d):
            return ()
        return self._week.get(d.weekday(), ())

    def _offset_us(self, u: int) -> int:
        dt = datetime.fromtimestamp(u // _SEC, self.tz)
        off = dt.utcoffset()
        return 0 if off is None else off // _US

    def _offset_pieces(self, d: date) -> list[tuple[int, int, int]]:
        """UTC pieces ``(from, to, offset)`` of constant offset around local date ``d``.

        The window is wide enough (+-15 h around the day) for every zone.  Transitions are
        found by probing every 3 h and bisecting to the second; zones never change offset
        twice within 3 h, so none are missed.
        """
        w0 = (d.toordinal() - _EPOCH_ORDINAL) * _DAY
        lo, hi = w0 - 15 * _HOUR, w0 + _DAY + 15 * _HOUR
        pieces: list[tuple[int, int, int]] = []
        cur_start, cur_off = lo, self._offset_us(lo)
        probe = lo
        while probe < hi:
            nxt = min(probe + 3 * _HOUR, hi)
            off = self._offset_us(nxt)
            if off != cur_off:
                a, b = probe // _SEC, nxt // _SEC  # offset(a) == cur_off != offset(b)
                while b - a > 1:
                    m = (a + b) // 2
                    if self._offset_us(m * _SEC) == cur_off:
                        a = m
                    else:
                        b = m
                pieces.append((cur_start, b * _SEC, cur_off))
                cur_start, cur_off = b * _SEC, off
            probe = nxt
        pieces.append((cur_start, hi, cur_off))
        return pieces

    def _compute_day(self, d: date) -> tuple[tuple[int, int], ...]:
        """Open intervals of local date ``d`` as merged UTC epoch-microsecond spans.

        Each wall interval is intersected with every constant-offset piece: this is exact
        for gaps (boundaries snap to the first instant after the gap) and folds (both
        occurrences of a wall time count).
        """
        return self._convert(d, self._wall_spans(d))

    def _convert(self, d: date, spans: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
        if not spans:
            return ()
        w0 = (d.toordinal() - _EPOCH_ORDINAL) * _DAY
        out = []
        for p0, p1, off in self._offset_pieces(d):
            for a, b in spans:
                s, e = max(w0 + a - off, p0), min(w0 + b - off, p1)
                if s < e:
                    out.append((s, e))
        return tuple(_merge_us(out))

    def _compute_bounds(self, d: date) -> tuple[int, int]:
        """UTC span of the whole local date ``d`` (midnight to next midnight)."""
        (span,) = self._convert(d, ((0, _DAY),))
        return span

    # ------------------------------------------------------------------ year blocks
    def _local_date(self, u: int) -> date:
        return datetime.fromtimestamp(u // _SEC, self.tz).date()

    def _year_intervals(self, year: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        d, one = date(year, 1, 1), timedelta(days=1)
        while d.year == year:
            out.extend(self._day_cache(d))
            d += one
        return out

    def _rebuild_cum(self) -> None:
        total, cum = 0, []
        for s, e in zip(self._starts, self._ends, strict=True):
            total += e - s
            cum.append(total)
        self._cum = cum

    def _append_year(self) -> bool:
        """Build the next year after the covered range; return whether it has open time."""
        iv = self._year_intervals(self._hi_year)
        total = self._cum[-1] if self._cum else 0
        for s, e in iv:
            self._starts.append(s)
            self._ends.append(e)
            total += e - s
            self._cum.append(total)
        self._hi_year += 1
        self._cov_hi = self._midnights(date(self._hi_year, 1, 1))[0]
        return bool(iv)

    def _prepend_year(self) -> None:
        iv = self._year_intervals(self._lo_year - 1)
        self._starts[:0] = [s for s, _ in iv]
        self._ends[:0] = [e for _, e in iv]
        self._rebuild_cum()
        self._lo_year -= 1
        self._cov_lo = self._midnights(date(self._lo_year, 1, 1))[0]

    def _ensure(self, u: int) -> None:
        """Make sure instant ``u`` lies inside the built year range."""
        if self._cov_lo <= u < self._cov_hi:
            return
        if self._lo_year == self._hi_year:
            y = self._local_date(u).year
            self._lo_year = self._hi_year = y
            self._cov_lo = self._cov_hi = self._midnights(date(y, 1, 1))[0]
            self._append_year()
        while u < self._cov_lo:
            self._prepend_year()
        while u >= self._cov_hi:
            self._append_year()

    def _extend_for_open_time(self) -> None:
        """Append years until one has open time; raise if the calendar never opens again."""
        for _ in range(_MAX_EMPTY_YEARS):
            if self._append_year():
                return
        raise ValueError(f"calendar has no open time within {_MAX_EMPTY_YEARS} years")

    def _F(self, u: int) -> int:
        """Open microseconds from the coverage start up to instant ``u`` (u must be covered)."""
        i = bisect_right(self._starts, u) - 1
        if i < 0:
            return 0
        end = self._ends[i]
        return self._cum[i] - (end - u if u < end else 0)

    def _add_plain(self, u: int, r: int) -> int:
        """Earliest instant t with open time in [u, t) == r > 0 (no pauses)."""
        target = self._F(u) + r
        while not self._cum or target > self._cum[-1]:
            self._extend_for_open_time()
        j = bisect_left(self._cum, target)
        return self._ends[j] - (self._cum[j] - target)

    # ------------------------------------------------------------------ helpers
    def _pauses_us(self, pauses: Iterable[Pause]) -> list[tuple[int, int]]:
        spans = []
        for p in pauses:
            try:
                a, b = p
            except (TypeError, ValueError):
                raise ValueError(f"pause {p!r} must be a (from, to) pair") from None
            spans.append((_to_us(a, "pause start"), _to_us(b, "pause end")))
        return _merge_us(spans)

    def _dt(self, u: int) -> datetime:
        return (_EPOCH + timedelta(microseconds=u)).astimezone(self.tz)

    # ------------------------------------------------------------------ public API
    def add(self, start: datetime, duration: timedelta, pauses: Iterable[Pause] = ()) -> datetime:
        """Earliest t >= start whose open time in [start, t) minus ``pauses`` is ``duration``.

        Runs out exactly at closing -> that closing time; zero duration -> ``start``.
        """
        u = _to_us(start, "start")
        if not isinstance(duration, timedelta):
            raise TypeError(f"duration must be a timedelta, got {type(duration).__name__}")
        r = duration // _US
        if r < 0:
            raise ValueError(f"duration must not be negative, got {duration}")
        if r == 0:
            return start.astimezone(self.tz)
        self._ensure(u)
        cur = u
        for ps, pe in self._pauses_us(pauses):
            if pe <= cur:
                continue
            cand = self._add_plain(cur, r)
            if cand <= ps:
                return self._dt(cand)
            if ps > cur:  # open time before this pause is used up first
                r -= self._F(ps) - self._F(cur)
            self._ensure(pe)
            cur = pe
        return self._dt(self._add_plain(cur, r))

    def between(self, start: datetime, end: datetime, pauses: Iterable[Pause] = ()) -> timedelta:
        """Open time in [start, end) minus ``pauses``; zero when end <= start."""
        s, e = _to_us(start, "start"), _to_us(end, "end")
        if e <= s:
            return timedelta(0)
        self._ensure(s)
        self._ensure(e)
        total = self._F(e) - self._F(s)
        for ps, pe in self._pauses_us(pauses):
            a, b = max(ps, s), min(pe, e)
            if a < b:
                total -= self._F(b) - self._F(a)
        return timedelta(microseconds=total)

    def is_open(self, at: datetime) -> bool:
        """Whether the instant ``at`` is inside opening hours (open at opening, closed at close)."""
        u = _to_us(at, "at")
        self._ensure(u)
        i = bisect_right(self._starts, u) - 1
        return i >= 0 and u < self._ends[i]

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself if open, otherwise the next opening instant (in the calendar's tz)."""
        u = _to_us(at, "at")
        self._ensure(u)
        i = bisect_right(self._starts, u) - 1
        if i >= 0 and u < self._ends[i]:
            return at.astimezone(self.tz)
        while i + 1 >= len(self._starts):
            self._extend_for_open_time()
        return self._dt(self._starts[i + 1])

    def explain(
        self, start: datetime, end: datetime, pauses: Iterable[Pause] = ()
    ) -> list[Segment]:
        """Split [start, end) into ordered, gap-free segments explaining what counted.

        ``open`` segments sum to :meth:`between`; ``pause`` is open time removed by a
        pause; ``holiday`` is a holiday's local day; everything else is ``closed``.
        """
        s, e = _to_us(start, "start"), _to_us(end, "end")
        if e <= s:
            return []
        pz = self._pauses_us(pauses)
        raw: list[tuple[int, int, SegmentKind, str]] = []

        def emit(a: int, b: int, kind: SegmentKind, label: str = "") -> None:
            a, b = max(a, s), min(b, e)
            if a < b:
                raw.append((a, b, kind, label))

        d, last = self._local_date(s), self._local_date(e - 1)
        one = timedelta(days=1)
        while d <= last:
            day_lo, day_hi = self._midnights(d)
            if d not in self._special and self._is_holiday(d):
                emit(day_lo, day_hi, "holiday", self._labels.get(d, "holiday"))
            else:
                cur = day_lo
                for a, b in self._day_cache(d):
                    emit(cur, a, "closed")
                    pos = a
                    for ps, pe in pz:  # merged and sorted, so pieces come out in order
                        if pe <= pos or ps >= b:
                            continue
                        p0, p1 = max(ps, pos), min(pe, b)
                        emit(pos, p0, "open")
                        emit(p0, p1, "pause")
                        pos = p1
                    emit(pos, b, "open")
                    cur = b
                emit(cur, day_hi, "closed")
            d += one
        merged: list[tuple[int, int, SegmentKind, str]] = []
        for seg in raw:
            if merged and merged[-1][2:] == seg[2:] and merged[-1][1] == seg[0]:
                merged[-1] = (merged[-1][0], seg[1], seg[2], seg[3])
            else:
                merged.append(seg)
        return [Segment(self._dt(a), self._dt(b), kind, label) for a, b, kind, label in merged]

    @staticmethod
    def norwegian_holidays(years: int | Iterable[int]) -> set[date]:
        """Alias of the module-level :func:`norwegian_holidays`."""
        return norwegian_holidays(years)

    def __repr__(self) -> str:
        return f"BusinessCalendar(tz={self.tz!s}, weekdays={sorted(self._week)})"


_SUNDAY_NAMES = {"søndag", "sunday"}


def norwegian_holidays(years: int | Iterable[int]) -> set[date]:
    """Norwegian public holidays (helligdager) via the ``holidays`` package.

    Some ``holidays`` versions list every Sunday ("Søndag"); those are dropped so only real
    public holidays remain (Easter Sunday, Whit Sunday, 17 May on a Sunday etc. stay).
    """
    return set(_norwegian_holiday_names(years))


def _norwegian_holiday_names(years: int | Iterable[int]) -> dict[date, str]:
    import holidays as hol

    yrs = [years] if isinstance(years, int) else list(years)
    try:
        cal = hol.country_holidays("NO", years=yrs, include_sundays=False)
    except TypeError:  # very old versions have no include_sundays switch
        cal = hol.country_holidays("NO", years=yrs)
    out = {}
    for d, name in cal.items():
        names = [n.strip() for n in str(name).split(";")]
        real = [n for n in names if n.lower() not in _SUNDAY_NAMES]
        if real:
            out[d] = "; ".join(real)
    return out


def norwegian_office_calendar(
    years: Iterable[int] | None = None,
    closing_days: Iterable[date | tuple[int, int]] = (),
    short_days: Mapping[date, Sequence[Interval]] | None = None,
    tz: str | tzinfo = "Europe/Oslo",
) -> BusinessCalendar:
    """Standard municipal office calendar: Mon-Fri 08:00-15:45 minus Norwegian holidays.

    ``closing_days`` are local closures: a ``date`` closes that date, a ``(month, day)``
    pair closes it every year (e.g. ``(12, 24)`` Christmas Eve, ``(12, 31)`` New Year's
    Eve).  ``short_days`` maps dates to replacement hours.  Holidays for ``years`` are
    built eagerly; any other year is added lazily on first use, so the calendar never
    silently treats a holiday in an unforeseen year as a working day.
    """
    fixed: dict[date, str] = {}
    recurring: list[tuple[int, int]] = []
    for item in closing_days:
        if isinstance(item, date):
            fixed[item] = "closing day"
        else:
            month, day = item
            recurring.append((month, day))

    def year_days(year: int) -> dict[date, str]:
        days = _norwegian_holiday_names(year)
        for month, day in recurring:
            days.setdefault(date(year, month, day), "closing day")
        return days

    labels: dict[date, str] = dict(fixed)
    eager = set(years or ())
    for y in eager:
        labels.update(year_days(y))
    cal = BusinessCalendar(OFFICE_HOURS, labels, tz, special_days=short_days)

    def lazy(year: int) -> set[date]:
        if year in eager:
            return set()
        days = year_days(year)
        cal._labels.update(days)
        return set(days)

    cal._holiday_years = lazy
    return cal
