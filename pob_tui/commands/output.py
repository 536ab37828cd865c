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
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
                headers: Sequence[str] | None = None, out: IO[str] | None = None,
                max_width: int = 60) -> None:
    """A plain aligned table; long cells are cut with an ellipsis."""
    out = out or sys.stdout
    headers = list(headers or columns)
    cells = [[clip_cells(visible(_cell(r.get(c))), max_width) for c in columns] for r in rows]
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
               out: IO[str] | None = None) -> None:
    if fmt == "json":
        print_json([{c: r.get(c) for c in columns} for r in rows], out)
    elif fmt == "csv":
        print_csv(rows, columns, out)
    else:
        print_table(rows, columns, out=out)


def print_fields(pairs: Iterable[tuple[str, Any]], out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    pairs = list(pairs)
    width = max((len(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        out.write(f"{key:<{width}}  {visible(_cell(value))}\n")


def print_markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
                   out: IO[str] | None = None) -> None:
    """A Markdown table; `|` in cells escaped so user text cannot break the table."""
    out = out or sys.stdout
    out.write("| " + " | ".join(columns) + " |\n")
    out.write("|" + "|".join(" --- " for _ in columns) + "|\n")
    for row in rows:
        cells = [markdown_inline(_cell(row.get(c))) for c in columns]  # no HTML, no links
        out.write("| " + " | ".join(cells) + " |\n")
