"""A DataTable for lists that come from paged SQL queries.

It holds only the pages loaded so far (a DataTable with 100,000 rows takes seconds to
build), asks for the next page with `PagedTable.MoreWanted` when the cursor reaches the last
row, and fits its columns to the width: flexible columns take the room left over, and
optional columns are dropped on narrow terminals (80x24) rather than squeezing everything.
Vim keys (j/k, g/G, ctrl+d/ctrl+u) as in posting, k9s and lazygit.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from rich.console import JustifyMethod
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from pob_tui.i18n import _

_SIDEWAYS = {"cursor_left", "cursor_right", "page_left", "page_right", "scroll_home",
             "scroll_end"}


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


class PagedTable(DataTable[Text]):
    """Rows keyed by a hashable id, each a mapping of column key -> Text."""

    HELP_TITLE = "List"

    DEFAULT_CSS = """
    PagedTable {
        height: 1fr;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        border: none;
    }
    """
    """Its own look, so the table works outside pob's style sheet too."""

    BINDINGS = [
        Binding("j", "cursor_down", _("Down"), show=False, id="table.down"),
        Binding("k", "cursor_up", _("Up"), show=False, id="table.up"),
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

    def __init__(
        self,
        columns: Iterable[PagedColumn],
        *,
        page_size: int = 200,
        select_on_enter: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            id=id, classes=classes, cursor_type="row", zebra_stripes=True, cell_padding=1
        )
        self.specs: tuple[PagedColumn, ...] = tuple(columns)
        self.page_size = page_size
        self.select_on_enter = select_on_enter
        self.has_more = False
        self._rows: list[tuple[Hashable, Mapping[str, Text]]] = []
        self._layout: tuple[tuple[str, int], ...] = ()
        self._more_requested = False

    # -- data -------------------------------------------------------------------------------

    @property
    def loaded(self) -> int:
        """How many rows are loaded (the offset of the next page)."""
        return len(self._rows)

    def set_rows(
        self, rows: Iterable[tuple[Hashable, Mapping[str, Text]]], *, has_more: bool
    ) -> None:
        """Replace all rows (first page or a refresh), keeping the cursor on the row it was
        on (by key: a new incident above it must not move the agent to another one), else
        at the same height. The columns stay when the layout did not change (every
        keystroke of a filter): only the rows are swapped, which makes a new page cheap."""
        keep = self.cursor_row
        key = self.row_key_at_cursor() if self.row_count else None
        self._rows = list(rows)
        self.has_more = has_more
        self._more_requested = False
        if key is not None:
            index = self.index_of(key)
            keep = keep if index is None else index
        width = self.scrollable_content_region.width or self.size.width or 80
        if self._layout and self.columns and self._fit(width) == self._layout:
            self._replace_rows(keep)
        else:
            self._rebuild(keep_row=keep)

    def append_rows(
        self, rows: Iterable[tuple[Hashable, Mapping[str, Text]]], *, has_more: bool
    ) -> None:
        """Add the next page under the loaded ones."""
        new = list(rows)
        self._rows.extend(new)
        self.has_more = has_more
        self._more_requested = False
        order = [key for key, _w in self._layout]
        for key, values in new:
            self.add_row(*(values.get(col, Text("")) for col in order), key=str(key))

    def index_of(self, key: Hashable) -> int | None:
        """Where the row with `key` is among the loaded rows (None: not loaded)."""
        for i, (row_key, _values) in enumerate(self._rows):
            if str(row_key) == str(key):
                return i
        return None

    def update_row(self, key: Hashable, values: Mapping[str, Text]) -> bool:
        """Replace one row's cells in place (a live change); False if it is not loaded."""
        index = self.index_of(key)
        if index is None:
            return False
        self._rows[index] = (self._rows[index][0], values)
        for col, _w in self._layout:
            self.update_cell(str(key), col, values.get(col, Text("")))
        return True

    def remove_key(self, key: Hashable) -> bool:
        """Drop one row (it left the view); the cursor stays on the row it was on."""
        index = self.index_of(key)
        if index is None:
            return False
        del self._rows[index]
        self.remove_row(str(key))
        return True

    def insert_row(self, index: int, key: Hashable, values: Mapping[str, Text]) -> None:
        """Put one row at `index` (it entered the view); the cursor keeps its row. The
        widget is rebuilt from the rows in memory; nothing is fetched again."""
        current = self.row_key_at_cursor()
        index = max(0, min(index, len(self._rows)))
        self._rows.insert(index, (key, values))
        if index == len(self._rows) - 1:
            self.add_row(*(values.get(col, Text("")) for col, _w in self._layout),
                         key=str(key))
            return
        keep = self.cursor_row
        if current is not None:
            keep = self.index_of(current) or 0
        self._rebuild(keep_row=keep)

    def row_key_at_cursor(self) -> str | None:
        """The key of the highlighted row (as given to set_rows, as a string)."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    # -- layout -----------------------------------------------------------------------------

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

    def _rebuild(self, keep_row: int = 0) -> None:
        width = self.scrollable_content_region.width or self.size.width or 80
        self._layout = self._fit(width)
        by_key = {c.key: c for c in self.specs}
        self.clear(columns=True)
        for key, w in self._layout:
            spec = by_key[key]
            self.add_column(Text(spec.label, justify=spec.justify), width=w, key=key)
        for row_key, values in self._rows:
            self.add_row(
                *(values.get(col, Text("")) for col, _w in self._layout), key=str(row_key)
            )
        if self.row_count:
            self.move_cursor(row=min(keep_row, self.row_count - 1), animate=False)

    def _replace_rows(self, keep_row: int) -> None:
        """New rows under the same columns (DataTable.clear keeps the columns)."""
        order = [col for col, _w in self._layout]
        self.clear()
        for row_key, values in self._rows:
            self.add_row(*(values.get(col, Text("")) for col in order), key=str(row_key))
        if self.row_count:
            self.move_cursor(row=min(keep_row, self.row_count - 1), animate=False)

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if width and self._fit(width) != self._layout:
            self._rebuild(keep_row=self.cursor_row)

    # -- keys -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # With select_on_enter=False the screen's own enter binding (with its id and
        # description, e.g. "queue.open") is the one that shows and fires.
        if action == "select_cursor" and not self.select_on_enter:
            return False
        if action in _SIDEWAYS:  # columns always fit the width: no sideways movement
            return False
        return super().check_action(action, parameters)

    def action_half_page_down(self) -> None:
        step = max(1, self.scrollable_content_region.height // 2)
        self.move_cursor(row=min(self.row_count - 1, self.cursor_row + step))

    def action_half_page_up(self) -> None:
        step = max(1, self.scrollable_content_region.height // 2)
        self.move_cursor(row=max(0, self.cursor_row - step))

    def watch_cursor_coordinate(self, old, new) -> None:  # type: ignore[override]
        super().watch_cursor_coordinate(old, new)
        if (
            self.has_more
            and not self._more_requested
            and old.row != new.row
            and self.row_count == self.loaded
            and new.row >= self.loaded - 1
        ):
            self._more_requested = True
            self.post_message(self.MoreWanted(self, self.loaded))
