"""PagedTable on its own: the list every area uses (keys, paging, cursor by key, fitting,
user text shown literally), in a bare Textual app without pob's style sheet."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from pob_tui.tui.widgets.paged_table import PagedColumn, PagedTable
from pob_tui.tui.widgets.text import plain
from tests.tui.test_keystrokes import until

COLUMNS = (
    PagedColumn("number", "Number", 10),
    PagedColumn("summary", "Summary", 40, min_width=12, flex=True),
    PagedColumn("team", "Team", 20, drop=1),
    PagedColumn("age", "Age", 4, justify="right"),
)


def rows(start: int, count: int) -> list[tuple[str, dict[str, Text]]]:
    return [(f"INC-{i:06d}", {"number": plain(f"INC-{i:06d}"),
                              "summary": plain(f"Printer {i} jams"),
                              "team": plain("Service desk"), "age": plain(f"{i}m")})
            for i in range(start, start + count)]


class TableApp(App[None]):
    """One table and a log of what it posted."""

    def __init__(self, **table_args: object) -> None:
        super().__init__()
        self.table_args = table_args
        self.wanted: list[int] = []
        self.selected: list[str] = []
        self.highlighted: list[str] = []

    def compose(self) -> ComposeResult:
        yield PagedTable(COLUMNS, **self.table_args)  # type: ignore[arg-type]

    def on_paged_table_more_wanted(self, message: PagedTable.MoreWanted) -> None:
        self.wanted.append(message.offset)

    def on_paged_table_row_selected(self, message: PagedTable.RowSelected) -> None:
        self.selected.append(message.row_key)

    def on_paged_table_row_highlighted(self, message: PagedTable.RowHighlighted) -> None:
        self.highlighted.append(message.row_key)


def line_text(table: PagedTable, y: int) -> str:
    return table.render_line(y).text


async def test_keys_move_the_cursor_and_the_last_row_asks_for_the_next_page() -> None:
    app = TableApp(page_size=50)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(PagedTable)
        table.set_rows(rows(1, 50), has_more=True)
        table.focus()
        await pilot.pause()
        await pilot.press("j", "j", "down")
        assert table.cursor_row == 3 and table.row_key_at_cursor() == "INC-000004"
        await pilot.press("k")
        assert table.row_key_at_cursor() == "INC-000003"
        await pilot.press("pagedown")  # a page of rows under the header (24 - 1 lines)
        assert table.cursor_row == 2 + 23
        await pilot.press("G")
        assert table.cursor_row == 49
        await pilot.pause()
        assert app.wanted == [50]  # once, for the row after the last loaded one
        await pilot.press("k", "j")
        await pilot.pause()
        assert app.wanted == [50]  # not again while that page is on its way
        table.append_rows(rows(51, 10), has_more=False)
        await pilot.press("G")
        await pilot.pause()
        assert table.row_key_at_cursor() == "INC-000060" and app.wanted == [50]
        await pilot.press("g")
        assert table.cursor_row == 0
        # The cursor row is drawn, whatever was scrolled: the view follows the cursor.
        await pilot.press("ctrl+d")
        assert table.cursor_row == 11
        assert "INC-000012" in line_text(table, 12)


async def test_new_rows_keep_the_cursor_on_its_row_by_key() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(PagedTable)
        table.set_rows(rows(1, 10), has_more=False)
        table.move_cursor(row=4)
        await pilot.pause()
        assert table.row_key_at_cursor() == "INC-000005"
        table.set_rows(rows(0, 1) + rows(1, 10), has_more=False)  # one arrived above
        assert table.row_key_at_cursor() == "INC-000005" and table.cursor_row == 5
        table.set_rows(rows(20, 10), has_more=False)  # its row is gone: same height
        assert table.cursor_row == 5
        table.remove_key("INC-000021")  # above the cursor: the cursor keeps its row
        assert table.row_key_at_cursor() == "INC-000025"
        table.insert_row(0, "INC-000099", rows(99, 1)[0][1])
        assert table.row_key_at_cursor() == "INC-000025"
        assert table.update_row("INC-000025", {**rows(25, 1)[0][1],
                                               "summary": plain("Fixed")})
        assert table.get_cell("INC-000025", "summary").plain == "Fixed"
        assert not table.update_row("INC-404", {})
        table.clear()
        assert table.row_count == 0 and table.row_key_at_cursor() is None


async def test_enter_selects_only_when_asked_and_a_click_selects_the_row() -> None:
    app = TableApp(select_on_enter=False)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(PagedTable)
        table.set_rows(rows(1, 5), has_more=False)
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == []  # the screen's own enter binding answers instead
        await pilot.click(PagedTable, offset=(5, 3))  # the header, then rows 1, 2, 3
        await pilot.pause()
        assert app.selected == ["INC-000003"] and table.cursor_row == 2
        assert app.highlighted[-1] == "INC-000003"
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(PagedTable)
        table.set_rows(rows(1, 5), has_more=False)
        table.focus()
        await pilot.press("j", "enter")
        await pilot.pause()
        assert app.selected == ["INC-000002"]


async def test_columns_fit_the_width_and_stay_the_same_objects_while_they_fit() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 24)) as pilot:
        table = app.query_one(PagedTable)
        table.set_rows(rows(1, 3), has_more=False)
        await pilot.pause()
        wide = dict(table.columns)
        assert list(wide) == ["number", "summary", "team", "age"]
        table.set_rows(rows(4, 3), has_more=False)  # a filter keystroke: same columns
        assert all(table.columns[k] is c for k, c in wide.items())
        header = line_text(table, 0)
        assert header.index("Number") < header.index("Summary") < header.index("Team")
        assert header.rstrip().endswith("Age")  # right-aligned as the column says
        await pilot.resize_terminal(40, 24)
        # the new width reaches the table with a later frame
        await until(pilot, lambda: table.scrollable_content_region.width <= 40, "the resize")
        await pilot.pause()
        assert list(table.columns) == ["number", "summary", "age"]  # the optional one went
        assert all(len(line_text(table, y)) == table.scrollable_content_region.width
                   for y in range(5))


async def test_user_text_is_shown_literally_and_cut_with_an_ellipsis() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 10)) as pilot:
        table = app.query_one(PagedTable)
        nasty = "[bold]x[/] [@click=app.quit]q[/] \x1b[2J two\nlines " + "long " * 20
        table.set_rows([("A", {"number": plain("A"), "summary": plain(nasty),
                               "age": Text("VIP", style="bold")})], has_more=False)
        await pilot.pause()
        line = line_text(table, 1)
        assert "[bold]x[/] [@click=app.quit]q[/] ␛[2J" in line
        assert "\x1b" not in line and "\n" not in line
        assert "…" in line and len(line) == table.scrollable_content_region.width
        assert app.is_running  # nothing was run as an action


async def test_only_the_rows_on_screen_are_drawn() -> None:
    """100,000 loaded rows cost what a screenful costs (the reason this is not a DataTable):
    drawing asks for the rows in view and nothing else."""
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(PagedTable)
        drawn: list[int] = []
        original = table._draw

        def counting(values, style, width):  # type: ignore[no-untyped-def]
            drawn.append(1)
            return original(values, style, width)

        table._draw = counting  # type: ignore[method-assign]
        table.set_rows(rows(1, 100_000), has_more=False)
        await pilot.pause()
        assert 0 < len(drawn) <= 2 * 24
        drawn.clear()
        await pilot.press("G")
        await pilot.pause()
        assert table.row_key_at_cursor() == "INC-100000"
        assert len(drawn) <= 2 * 24
