"""The list widget for lists that come from paged SQL queries (queue, people, CMDB, ...).

It holds only the pages loaded so far, asks for the next page with `PagedTable.MoreWanted`
when the cursor reaches the last row, and fits its columns to the width: flexible columns
take the room left over, and optional columns are dropped on narrow terminals (80x24)
rather than squeezing everything. Vim keys (j/k, g/G, ctrl+d/ctrl+u) as in posting, k9s
and lazygit.

Why not Textual's DataTable: a DataTable renders every visible cell through Rich's
Padding and console each time its rows are replaced, which made a filter keystroke on the
people list (12,000 people) cost 40-50 ms of drawing alone, and it keeps a cache object per
line that lengthened the garbage collector's pauses. A list whose rows are one line each
needs much less: this widget uses Textual's line API (as the docs' "ScrollView" examples
do), draws only the rows on screen, one `Strip` per row straight from the cells' `Text`,
and keeps those strips until the row, the width or the look changes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from rich.console import JustifyMethod
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from pob_tui.i18n import _

_EMPTY = Text("")
_NO_STYLE = Style()


@dataclass(frozen=True)
class PagedColumn:
    """One column: preferred `width`, narrowest acceptable `min_width`.

    `flex` columns share what is left after the others got their width. `drop` > 0 makes the
    column optional: when the table is too narrow, the highest `drop` goes first.
    """

    key: str
    label: str
    width: int
    min_width: int | None = None
    flex: bool = False
    drop: int = 0
    justify: JustifyMethod = "left"


@dataclass(frozen=True)
class ShownColumn:
    """A column as laid out for the current width (what `PagedTable.columns` holds)."""

    key: str
    label: Text
    width: int


Row = tuple[Hashable, Mapping[str, Text]]


class PagedTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Rows keyed by a hashable id, each a mapping of column key -> Text; a row cursor."""

    HELP_TITLE = "List"

    COMPONENT_CLASSES = {
        "paged-table--header",
        "paged-table--cursor",
        "paged-table--even-row",
        "paged-table--odd-row",
    }

    DEFAULT_CSS = """
    PagedTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
        border: none;
        &:focus {
            background-tint: $foreground 5%;
            & > .paged-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .paged-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .paged-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .paged-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .paged-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .paged-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .paged-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    """Its own look (a DataTable's), so the table works outside pob's style sheet too."""

    BINDINGS = [
        Binding("enter", "select_cursor", _("Open"), show=False),
        Binding("up", "cursor_up", _("Up"), show=False),
        Binding("down", "cursor_down", _("Down"), show=False),
        Binding("pageup", "page_up", _("Page up"), show=False),
        Binding("pagedown", "page_down", _("Page down"), show=False),
        Binding("home,ctrl+home", "scroll_top", _("First row"), show=False),
        Binding("end,ctrl+end", "scroll_bottom", _("Last row"), show=False),
        Binding("k", "cursor_up", _("Up"), show=False, id="table.up"),
        Binding("j", "cursor_down", _("Down"), show=False, id="table.down"),
        Binding("g", "scroll_top", _("First row"), show=False, id="table.top"),
        Binding("G", "scroll_bottom", _("Last row"), show=False, id="table.bottom"),
        Binding("ctrl+d", "half_page_down", _("Half page down"), show=False,
                id="table.half_page_down"),
        Binding("ctrl+u", "half_page_up", _("Half page up"), show=False,
                id="table.half_page_up"),
    ]

    class MoreWanted(Message):
        """The cursor reached the last loaded row and the query has more: load `offset`."""

        def __init__(self, table: PagedTable, offset: int) -> None:
            super().__init__()
            self.table = table
            self.offset = offset

        @property
        def control(self) -> PagedTable:
            return self.table

    class _RowMessage(Message):
        """About the row with `row_key`, at `cursor_row`."""

        def __init__(self, table: PagedTable, cursor_row: int, row_key: str) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> PagedTable:
            return self.table

    class RowHighlighted(_RowMessage):
        """The cursor moved to a row."""

    class RowSelected(_RowMessage):
        """Enter (with `select_on_enter`) or a click on a row."""

    def __init__(
        self,
        columns: Iterable[PagedColumn],
        *,
        page_size: int = 200,
        select_on_enter: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.specs: tuple[PagedColumn, ...] = tuple(columns)
        self._by_key = {c.key: c for c in self.specs}
        self.page_size = page_size
        self.select_on_enter = select_on_enter
        self.has_more = False
        self.cell_padding = 1
        self.columns: dict[str, ShownColumn] = {}
        """The columns shown at this width, in order (the same objects while it holds)."""
        self._rows: list[Row] = []
        self._index: dict[str, int] = {}
        self._layout: tuple[tuple[str, int], ...] = ()
        self._cursor = 0
        self._more_requested = False
        self._strips: LRUCache[tuple[str, str, Style], tuple[Mapping[str, Text], Strip]] = (
            LRUCache(256))
        self._styles: dict[str, Style] = {}

    # -- data -------------------------------------------------------------------------------

    @property
    def loaded(self) -> int:
        """How many rows are loaded (the offset of the next page)."""
        return len(self._rows)

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        """The highlighted row's index (0 when the list is empty)."""
        return self._cursor

    def set_rows(self, rows: Iterable[Row], *, has_more: bool) -> None:
        """Replace all rows (first page or a refresh), keeping the cursor on the row it was
        on (by key: a new incident above it must not move the agent to another one), else
        at the same height. Only rows on screen are drawn, so a new page is cheap."""
        keep = self._cursor
        key = self.row_key_at_cursor()
        self._rows = list(rows)
        self._reindex()
        self.has_more = has_more
        self._more_requested = False
        if key is not None:
            index = self._index.get(key)
            keep = keep if index is None else index
        self._relayout()
        self._changed(keep)

    def append_rows(self, rows: Iterable[Row], *, has_more: bool) -> None:
        """Add the next page under the loaded ones."""
        start = len(self._rows)
        self._rows.extend(rows)
        for i in range(start, len(self._rows)):
            self._index.setdefault(str(self._rows[i][0]), i)
        self.has_more = has_more
        self._more_requested = False
        self._changed(self._cursor)

    def clear(self) -> None:
        """No rows (the columns stay)."""
        self._rows = []
        self._index = {}
        self.has_more = False
        self._changed(0)

    def index_of(self, key: Hashable) -> int | None:
        """Where the row with `key` is among the loaded rows (None: not loaded)."""
        return self._index.get(str(key))

    def update_row(self, key: Hashable, values: Mapping[str, Text]) -> bool:
        """Replace one row's cells in place (a live change); False if it is not loaded."""
        index = self.index_of(key)
        if index is None:
            return False
        self._rows[index] = (self._rows[index][0], values)
        self._refresh_row(index)
        return True

    def update_cell(self, key: Hashable, column: str, value: Text) -> None:
        """Replace one cell of a loaded row (nothing happens when it is not loaded)."""
        index = self.index_of(key)
        if index is not None:
            row_key, values = self._rows[index]
            self._rows[index] = (row_key, {**values, column: value})
            self._refresh_row(index)

    def remove_key(self, key: Hashable) -> bool:
        """Drop one row (it left the view); the cursor stays on the row it was on."""
        index = self.index_of(key)
        if index is None:
            return False
        current = self._cursor
        del self._rows[index]
        self._reindex()
        self._changed(current - 1 if index < current else current)
        return True

    def insert_row(self, index: int, key: Hashable, values: Mapping[str, Text]) -> None:
        """Put one row at `index` (it entered the view); the cursor keeps its row."""
        current = self.row_key_at_cursor()
        index = max(0, min(index, len(self._rows)))
        self._rows.insert(index, (key, values))
        self._reindex()
        keep = self._cursor
        if current is not None:
            keep = self._index.get(current, keep)
        self._changed(keep)

    def row_key_at_cursor(self) -> str | None:
        """The key of the highlighted row (as given to set_rows, as a string)."""
        if not self._rows:
            return None
        return str(self._rows[self._cursor][0])

    def get_row_at(self, index: int) -> list[Text]:
        """The shown cells of row `index`, in column order."""
        values = self._rows[index][1]
        return [values.get(key, _EMPTY) for key, _w in self._layout]

    def get_row(self, key: Hashable) -> list[Text]:
        index = self.index_of(key)
        if index is None:
            raise KeyError(key)
        return self.get_row_at(index)

    def get_column_index(self, column: str) -> int:
        return [key for key, _w in self._layout].index(column)

    def get_cell(self, key: Hashable, column: str) -> Text:
        index = self.index_of(key)
        if index is None:
            raise KeyError(key)
        return self._rows[index][1].get(column, _EMPTY)

    def _reindex(self) -> None:
        self._index = {}
        for i, (key, _values) in enumerate(self._rows):
            self._index.setdefault(str(key), i)

    def _changed(self, cursor: int) -> None:
        """Rows came or went: new size, the cursor kept in range and in view, redraw."""
        self.virtual_size = Size(self._content_width(), len(self._rows) + 1)
        self.move_cursor(row=cursor, animate=False)
        self.refresh()

    def _refresh_row(self, index: int) -> None:
        self.refresh_line(index + 1)

    # -- cursor -----------------------------------------------------------------------------

    def move_cursor(self, *, row: int | None = None, column: int | None = None,
                    animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on `row` (kept in range) and scroll it into view."""
        del column, animate  # rows only; the list never animates
        old = self._cursor
        last = max(0, len(self._rows) - 1)
        new = min(max(0, old if row is None else row), last)
        self._cursor = new
        if scroll:
            self._scroll_to_cursor()
        if new != old:
            self.refresh_line(old + 1)
            self.refresh_line(new + 1)
        if self._rows and (new != old or row is not None):
            self.post_message(self.RowHighlighted(self, new, str(self._rows[new][0])))
        if (
            new != old
            and self.has_more
            and not self._more_requested
            and new >= len(self._rows) - 1
        ):
            self._more_requested = True
            self.post_message(self.MoreWanted(self, len(self._rows)))

    def _visible_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_offset.y)
        shown = self._visible_rows()
        if self._cursor < top:
            top = self._cursor
        elif self._cursor >= top + shown:
            top = self._cursor - shown + 1
        else:
            return
        self.scroll_to(y=top, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_scroll_top(self) -> None:
        self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    def action_page_down(self) -> None:
        self.move_cursor(row=self._cursor + self._visible_rows())

    def action_page_up(self) -> None:
        self.move_cursor(row=self._cursor - self._visible_rows())

    def action_half_page_down(self) -> None:
        self.move_cursor(row=self._cursor + max(1, self._visible_rows() // 2))

    def action_half_page_up(self) -> None:
        self.move_cursor(row=self._cursor - max(1, self._visible_rows() // 2))

    def action_select_cursor(self) -> None:
        if self._rows:
            self.post_message(self.RowSelected(self, self._cursor,
                                               str(self._rows[self._cursor][0])))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # With select_on_enter=False the screen's own enter binding (with its id and
        # description, e.g. "queue.open") is the one that shows and fires.
        if action == "select_cursor" and not self.select_on_enter:
            return False
        return super().check_action(action, parameters)

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on the row and selects it (as a DataTable does)."""
        row = round(self.scroll_offset.y) + event.y - 1
        if event.y >= 1 and 0 <= row < len(self._rows):
            self.move_cursor(row=row)
            self.post_message(self.RowSelected(self, row, str(self._rows[row][0])))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- layout -----------------------------------------------------------------------------

    def _content_width(self) -> int:
        return self.scrollable_content_region.width or self.size.width or 80

    def _fit(self, width: int) -> tuple[tuple[str, int], ...]:
        """Which columns show and how wide, for `width` cells of room."""
        pad = 2 * self.cell_padding
        shown = list(self.specs)

        def needed(cols: list[PagedColumn]) -> int:
            return sum((c.min_width or c.width) + pad for c in cols)

        while needed(shown) > width and any(c.drop for c in shown):
            worst = max((c for c in shown if c.drop), key=lambda c: c.drop)
            shown.remove(worst)
        widths = {c.key: (c.min_width or c.width) for c in shown}
        spare = width - sum(w + pad for w in widths.values())
        # Room goes first to flexible columns up to their preferred width, then to the fixed
        # ones up to theirs, and what is left to the flexible ones again.
        for group in ([c for c in shown if c.flex], [c for c in shown if not c.flex]):
            for c in group:
                if spare <= 0:
                    break
                if widths[c.key] < c.width:
                    grow = min(c.width - widths[c.key], spare)
                    widths[c.key] += grow
                    spare -= grow
        flex = [c for c in shown if c.flex]
        if flex and spare > 0:
            share, extra = divmod(spare, len(flex))
            for i, c in enumerate(flex):
                widths[c.key] += share + (1 if i < extra else 0)
        return tuple((c.key, max(1, widths[c.key])) for c in shown)

    def _relayout(self) -> bool:
        """Fit the columns to the width; True when the layout changed."""
        layout = self._fit(self._content_width())
        if layout == self._layout and self.columns:
            return False
        self._layout = layout
        self.columns = {
            key: ShownColumn(key, Text(self._by_key[key].label,
                                       justify=self._by_key[key].justify), width)
            for key, width in layout
        }
        self._strips.clear()
        return True

    def on_resize(self) -> None:
        self._relayout()
        self._changed(self._cursor)

    def on_mount(self) -> None:
        self._relayout()
        self.virtual_size = Size(self._content_width(), len(self._rows) + 1)

    # -- drawing ----------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's and its parts' styles blend the ancestors' backgrounds: worked out
        # once per drawing, not once per line (that was most of a frame's cost).
        base = self.rich_style
        styles = {"base": base}
        for part in ("header", "even-row", "odd-row"):
            styles[part] = base + self.get_component_rich_style(f"paged-table--{part}",
                                                                partial=True)
        cursor = self.get_component_rich_style("paged-table--cursor", partial=True)
        styles["cursor-even-row"] = styles["even-row"] + cursor
        styles["cursor-odd-row"] = styles["odd-row"] + cursor
        self._styles = styles
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        styles = self._styles or {}
        if not styles:  # drawn without render_lines (never by Textual itself)
            self.render_lines(Region(0, 0, 0, 0))
            styles = self._styles
        if y == 0:
            return self._draw({key: col.label for key, col in self.columns.items()},
                              styles["header"], width)
        index = round(self.scroll_offset.y) + y - 1
        if not 0 <= index < len(self._rows):
            return Strip.blank(width, styles["base"])
        kind = "odd-row" if index % 2 else "even-row"
        if index == self._cursor:
            kind = "cursor-" + kind
        style = styles[kind]
        row_key, values = self._rows[index]
        cache_key = (str(row_key), kind, style)
        cached = self._strips.get(cache_key)
        if cached is not None and cached[0] is values and cached[1].cell_length == width:
            return cached[1]
        strip = self._draw(values, style, width)
        self._strips[cache_key] = (values, strip)
        return strip

    def _draw(self, values: Mapping[str, Text], style: Style, width: int) -> Strip:
        """One line: each shown cell cut (with an ellipsis) or padded to its width.

        Text in the row's own style is gathered into one segment (most cells are plain):
        Textual's line filters then look at a few segments per row, not three per cell."""
        console = self.app.console
        pad = " " * self.cell_padding
        segments: list[Segment] = []
        run: list[str] = []  # text in the row's style, not yet made a segment

        def styled(text: str, own: Style | None) -> None:
            if own is None or own == _NO_STYLE:
                run.append(text)
                return
            if run:
                segments.append(Segment("".join(run), style))
                run.clear()
            segments.append(Segment(text, style + own))

        used = 0
        for key, w in self._layout:
            cell = values.get(key, _EMPTY)
            if "\n" in cell.plain:  # a cell is one line, whatever it was given
                cell = Text(" ").join(cell.split("\n"))
            if cell.cell_len > w:
                cell = cell.copy()
                cell.truncate(w, overflow="ellipsis")
            gap = w - cell.cell_len
            justify = cell.justify or self._by_key[key].justify
            left = gap if justify == "right" else gap // 2 if justify == "center" else 0
            run.append(pad + " " * left)
            if cell.spans:
                for segment in cell.render(console):
                    styled(segment.text, segment.style)
            elif cell.plain:
                styled(cell.plain, cell.style if isinstance(cell.style, Style) else
                       console.get_style(cell.style, default="") if cell.style else None)
            run.append(" " * (gap - left) + pad)
            used += w + 2 * self.cell_padding
        if used < width:
            run.append(" " * (width - used))
        if run:
            segments.append(Segment("".join(run), style))
        return Strip(segments, max(used, width)).crop(0, width)
