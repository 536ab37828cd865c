"""Making user text inert wherever pob writes it: CSV cells, JSON, terminals, tables.

One place decides what "safe" means so every writer agrees (issue 12):

* `csv_cell`: a CSV cell a spreadsheet will not run. Text beginning with `=`, `+`, `-`,
  `@`, tab or carriage return gets a leading `'` (OWASP "CSV injection"); values that are
  plain numbers (`-12.50`, `42`) stay numbers. Control characters other than the line break
  are shown visibly, as in the table output, because CSV often lands on a terminal.
* `visible`: text safe for a terminal: C0/C1 controls and DEL shown as `^X`/`\\xNN`, and
  the bidirectional override characters shown as `<U+202E>` so they cannot reorder what
  a reader sees ("Trojan source").
* `json_dumps`: JSON whose strings carry C0 and C1 controls (and the bidi overrides) as
  `\\u` escapes: the same data to a JSON reader, inert on a terminal.
* `cell_width`/`fit_cells`: widths in terminal cells (wide emoji, combining marks), not len().

Nothing here imports Textual or the database.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from wcwidth import wcwidth

MAX_SEARCH_CHARS = 1000
"""Longest search or filter text: the CLI refuses more (exit 2), TUI fields stop taking it."""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""

BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
"""Embedding, override and isolate characters (U+202A-U+202E, U+2066-U+2069)."""

# A plain decimal number, ASCII digits only: spreadsheets read it as a number, not a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")

_CONTROL: dict[int, str] = {i: f"^{chr(i + 64)}" for i in range(32) if i != 9}
_CONTROL[0x7F] = "^?"
_CONTROL.update({i: f"\\x{i:02x}" for i in range(0x80, 0xA0)})
_BIDI_VISIBLE = {ord(c): f"<U+{ord(c):04X}>" for c in BIDI_CONTROLS}
_TERMINAL = {**_CONTROL, **_BIDI_VISIBLE}
_CSV = {k: v for k, v in _TERMINAL.items() if k != 10}  # a line break is data in a CSV cell
_JSON_EXTRA = re.compile("[\x7f-\x9f\u2028\u2029" + "".join(sorted(BIDI_CONTROLS)) + "]")


def visible(value: Any) -> str:
    """Text safe to write to a terminal: control and bidi override characters made
    visible (tab kept)."""
    if value is None:
        return ""
    return str(value).translate(_TERMINAL)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def csv_cell(value: Any) -> str:
    """One CSV cell that a spreadsheet shows as text and a terminal shows inertly."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)  # a real number stays a number, sign and all
    text = _plain(value)
    if not text:
        return text
    text = text.replace("\r\n", "\n")
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.match(text):
        text = "'" + text
    return text.translate(_CSV)


def csv_row(values: Any) -> list[str]:
    return [csv_cell(v) for v in values]


def csv_uncell(text: str) -> str:
    """Undo `csv_cell`'s formula guard when pob reads its own export back: `'=x` -> `=x`."""
    if text.startswith("'") and text[1:2] in FORMULA_TRIGGERS:
        return text[1:]
    return text


def _escape_extra(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_dumps(data: Any, *, indent: int | None = 2, default: Any = None) -> str:
    """`json.dumps` (non-ASCII text kept readable) with C1 controls, DEL, U+2028/9 and
    the bidi overrides escaped too; json already escapes C0. Such characters can only occur
    inside JSON strings, so replacing them in the output is exact."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=default)
    return _JSON_EXTRA.sub(_escape_extra, text)


def _char_cells(ch: str) -> int:
    # wcwidth (the library terminals' own width tables come from) rather than Rich's tables:
    # the CLI must not load Rich. A character it calls non-printable takes no cell (pob has
    # already made controls visible before text is measured).
    return max(wcwidth(ch), 0)


def cell_width(text: str) -> int:
    """Columns `text` takes on a terminal (wide characters 2, combining marks 0)."""
    return sum(_char_cells(ch) for ch in text)


def clip_cells(text: str, width: int) -> str:
    """`text` cut to `width` terminal cells, with an ellipsis when cut."""
    if cell_width(text) <= width:
        return text
    room, used, out = max(width - 1, 0), 0, []
    for ch in text:
        cells = _char_cells(ch)
        if used + cells > room:
            break
        out.append(ch)
        used += cells
    return "".join(out).rstrip(" ") + "…"


def pad_cells(text: str, width: int) -> str:
    """`text` padded with spaces to `width` terminal cells (str.ljust counts code points)."""
    return text + " " * max(width - cell_width(text), 0)


_JS_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?\s*(?:javascript|vbscript|data)\s*:[^)]*\)", re.I)
_MD_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|",
                             "[": "\\[", "]": "\\]"})


def markdown_inline(value: Any) -> str:
    """One line of user text for a Markdown page (agendas, minutes that end up in a wiki):
    controls and bidi overrides become spaces, raw HTML is escaped (`<` -> `&lt;`), and
    links cannot be formed; a `javascript:` link is dropped, keeping its text."""
    if value is None:
        return ""
    text = "".join(ch if ch.isprintable() and ch not in BIDI_CONTROLS else " "
                   for ch in str(value))
    text = _JS_LINK.sub(lambda m: m.group(1), text)
    return text.translate(_MD_ESCAPES)
