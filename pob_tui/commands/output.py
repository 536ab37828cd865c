"""Printing results for people (aligned tables) and scripts (JSON, CSV).

User-typed text can hold terminal escape sequences; they are shown as visible escapes
(`\\x1b` -> `^[`) so a summary can never clear the screen or retitle the window, in tables
and in CSV alike (CSV often lands on a terminal). CSV cells are also guarded against
spreadsheet formulas, and JSON escapes C0 and C1 controls; see `pob_tui.textsafe`.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import IO, Any

from pob_tui.i18n import current_language, format_decimal
from pob_tui.reports.labels import column_label, value_label
from pob_tui.textsafe import (
    cell_width,
    clip_cells,
    csv_row,
    json_dumps,
    markdown_inline,
    pad_cells,
    visible,
)

__all__ = ["print_csv", "print_fields", "print_json", "print_markdown", "print_rows",
           "print_table", "visible"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(data: Any, out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    out.write(json_dumps(data, default=_jsonable))
    out.write("\n")


def print_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
              out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_row(columns))
    for row in rows:
        writer.writerow(csv_row(row.get(c) for c in columns))


def _cell(value: Any, tz: tzinfo | None = None) -> str:
    """A value for people: a moment in the calendar's zone with its offset and without
    microseconds ('fre 11.12.2026 15:45 +01:00', as the TUI shows it); with no zone given,
    ISO 8601 as stored."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if tz is not None and value.tzinfo is not None:
            from pob_tui.sla.display import format_moment

            return format_moment(value, tz)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        return format_decimal(value, -exponent if isinstance(exponent, int) and exponent < 0
                              else 0)
    if isinstance(value, float) and current_language() == "nb":
        return str(value).replace(".", ",")  # decimal comma; JSON and CSV keep the point
    return str(value)


def _labelled(row: Mapping[str, Any], column: str, tz: tzinfo | None) -> str:
    return _cell(value_label(column, row.get(column)), tz)


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
                headers: Sequence[str] | None = None, out: IO[str] | None = None,
                max_width: int = 60, tz: tzinfo | None = None) -> None:
    """A plain aligned table for people: headings and stored values (statuses, flags) in the
    current language, times in `tz`; long cells are cut with an ellipsis."""
    out = out or sys.stdout
    headers = list(headers or [column_label(c) for c in columns])
    cells = [[clip_cells(visible(_labelled(r, c, tz)), max_width) for c in columns]
             for r in rows]
    headers = [visible(h.upper()) for h in headers]
    # widths in terminal cells: an emoji takes two, a combining mark none
    widths = [max([cell_width(h), *(cell_width(row[i]) for row in cells)])
              for i, h in enumerate(headers)]
    out.write("  ".join(pad_cells(h, w) for h, w in zip(headers, widths, strict=True))
              .rstrip() + "\n")
    for row in cells:
        out.write("  ".join(pad_cells(c, w) for c, w in zip(row, widths, strict=True))
                  .rstrip() + "\n")


def print_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str,
               out: IO[str] | None = None, *, tz: tzinfo | None = None,
               table_columns: Sequence[str] | None = None) -> None:
    """JSON and CSV keep the keys and stored values (contracts); the table is for people
    (`table_columns` may show other keys, e.g. the service's name for its code)."""
    if fmt == "json":
        print_json([{c: r.get(c) for c in columns} for r in rows], out)
    elif fmt == "csv":
        print_csv(rows, columns, out)
    else:
        print_table(rows, table_columns or columns, out=out, tz=tz)


def print_fields(pairs: Iterable[tuple[str, Any]], out: IO[str] | None = None,
                 tz: tzinfo | None = None) -> None:
    out = out or sys.stdout
    pairs = list(pairs)
    width = max((cell_width(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        out.write(f"{pad_cells(key, width)}  {visible(_cell(value, tz))}\n")


def print_markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
                   out: IO[str] | None = None, tz: tzinfo | None = None) -> None:
    """A Markdown table for people (headings and values as in `print_table`); `|` in cells
    escaped so user text cannot break the table."""
    out = out or sys.stdout
    out.write("| " + " | ".join(markdown_inline(column_label(c)) for c in columns) + " |\n")
    out.write("|" + "|".join(" --- " for _ in columns) + "|\n")
    for row in rows:
        cells = [markdown_inline(_labelled(row, c, tz)) for c in columns]  # no HTML, no links
        out.write("| " + " | ".join(cells) + " |\n")
