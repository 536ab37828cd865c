"""Printing results for people (aligned tables) and scripts (JSON, CSV).

User-typed text can hold terminal escape sequences; on a terminal they are shown as
visible escapes (`\\x1b` -> `^[`) so a summary can never clear the screen or retitle the
window. JSON and CSV carry the text unchanged (they are data; the reader decides).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

_CONTROL = {i: f"^{chr(i + 64)}" for i in range(32) if chr(i) not in "\t"}
_CONTROL[0x7F] = "^?"
_CONTROL.update({i: f"\\x{i:02x}" for i in range(0x80, 0xA0)})


def visible(value: Any) -> str:
    """Text safe to write to a terminal: control characters made visible."""
    if value is None:
        return ""
    return str(value).translate(_CONTROL)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(data: Any, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    json.dump(data, out, indent=2, ensure_ascii=False, default=_jsonable)
    out.write("\n")


def print_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
              out: TextIO | None = None) -> None:
    out = out or sys.stdout
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
                headers: Sequence[str] | None = None, out: TextIO | None = None,
                max_width: int = 60) -> None:
    """A plain aligned table; long cells are cut with an ellipsis."""
    out = out or sys.stdout
    headers = list(headers or columns)
    cells = [[_clip(visible(_cell(r.get(c))), max_width) for c in columns] for r in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    out.write("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True))
              .rstrip() + "\n")
    for row in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str,
               out: TextIO | None = None) -> None:
    if fmt == "json":
        print_json([{c: r.get(c) for c in columns} for r in rows], out)
    elif fmt == "csv":
        print_csv(rows, columns, out)
    else:
        print_table(rows, columns, out=out)


def print_fields(pairs: Iterable[tuple[str, Any]], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    pairs = list(pairs)
    width = max((len(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        out.write(f"{key:<{width}}  {visible(_cell(value))}\n")


def print_markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
                   out: TextIO | None = None) -> None:
    """A Markdown table; `|` in cells escaped so user text cannot break the table."""
    out = out or sys.stdout
    out.write("| " + " | ".join(columns) + " |\n")
    out.write("|" + "|".join(" --- " for _ in columns) + "|\n")
    for row in rows:
        cells = [visible(_cell(row.get(c))).replace("|", "\\|").replace("\n", " ")
                 for c in columns]
        out.write("| " + " | ".join(cells) + " |\n")
