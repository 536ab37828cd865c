"""Mail: what the intake ignored (and why), what it held, and incidents waiting for a caller.

Reached from the palette ("Mail"). `[`/`]` switch the view (needs caller, ignored, held);
Enter opens the incident; `p` picks the caller of a "Needs caller" incident, `c` creates the
sender as a new person (prefilled from the mail's From) and makes them its caller.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message

from pob_tui.errors import PobError
from pob_tui.i18n import _
from pob_tui.tui.screens.base import PobScreen
from pob_tui.tui.widgets.paged_table import PagedColumn, PagedTable
from pob_tui.tui.widgets.text import format_age, plain

PAGE_SIZE = 100
VIEWS = ("needs_caller", "ignored", "held")
VIEW_LABELS = {"needs_caller": _("Needs caller"), "ignored": _("Ignored mail"),
               "held": _("Held mail")}

COLUMNS = (
    PagedColumn("ticket", _("Incident"), 10, drop=3),
    PagedColumn("sender", _("From"), 28, min_width=14),
    PagedColumn("subject", _("Subject"), 34, min_width=16, flex=True),
    PagedColumn("reason", _("Why"), 30, min_width=14, drop=1),
    PagedColumn("age", _("Age"), 4, justify="right"),
)


class MailLoaded(Message):
    def __init__(self, rows: list[Any], view: str, offset: int) -> None:
        super().__init__()
        self.rows = rows
        self.view = view
        self.offset = offset


class CallerSet(Message):
    def __init__(self, text: str, ok: bool) -> None:
        super().__init__()
        self.text = text
        self.ok = ok


class MailScreen(PobScreen):
    """Mail that needs a person: unknown senders, ignored and held messages."""

    HELP_TITLE = _("Mail")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right_square_bracket", "step(1)", _("Next view"), id="mail.next_view"),
        Binding("left_square_bracket", "step(-1)", _("Previous view"), id="mail.prev_view"),
        Binding("enter", "open", _("Open incident"), id="mail.open"),
        Binding("p", "pick_caller", _("Pick caller"), id="mail.pick_caller"),
        Binding("c", "create_caller", _("Create caller"), id="mail.create_caller"),
        Binding("escape", "close", _("Back"), id="mail.close"),
        Binding("r", "refresh", _("Refresh"), show=False, id="mail.refresh"),
    ]

    def __init__(self, view: str = "needs_caller") -> None:
        super().__init__()
        self.view = view
        self.rows: dict[str, Any] = {}  # row key -> MailRow (for the create-caller form)

    def compose_body(self) -> ComposeResult:
        table = PagedTable(COLUMNS, page_size=PAGE_SIZE, select_on_enter=False,
                           id="mail-table")
        table.loading = True
        yield table

    @property
    def table(self) -> PagedTable:
        return self.query_one(PagedTable)

    def load(self) -> None:
        self.load_page(self.view, 0)

    @work(thread=True, exclusive=True, exit_on_error=False, group="mail")
    def load_page(self, view: str, offset: int) -> None:
        from pob_tui.services import mail

        assert self.database is not None
        with self.database.session() as session:
            rows = mail.list_mail(session, view=view, limit=PAGE_SIZE + 1, offset=offset)
        self.post_message(MailLoaded(rows, view, offset))

    def on_mail_loaded(self, message: MailLoaded) -> None:
        if message.view != self.view:
            return
        now = self.pob.now()
        has_more = len(message.rows) > PAGE_SIZE
        rows = [(r.id, {
            "ticket": plain(r.ticket or ""),
            "sender": plain(f"{r.name} <{r.address}>" if r.name else (r.address or "")),
            "subject": plain(r.subject or ""), "reason": plain(r.reason or ""),
            "age": plain(format_age(r.at, now), justify="right"),
        }) for r in message.rows[:PAGE_SIZE]]
        if message.offset == 0:
            self.rows = {}
        self.rows.update((str(r.id), r) for r in message.rows[:PAGE_SIZE])
        if message.offset == 0:
            self.table.set_rows(rows, has_more=has_more)
            self.table.loading = False
        else:
            self.table.append_rows(rows, has_more=has_more)
        self.set_status(f"{VIEW_LABELS[self.view]}: {self.table.loaded}"
                        + ("+" if has_more else ""))

    def on_paged_table_more_wanted(self, message: PagedTable.MoreWanted) -> None:
        self.load_page(self.view, message.offset)

    def action_step(self, step: int) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + step) % len(VIEWS)]
        self.table.loading = True
        self.load()

    def _ticket(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        number = table.get_row_at(table.cursor_row)[0].plain
        return number or None

    def action_open(self) -> None:
        number = self._ticket()
        if number is None:
            return
        from pob_tui.tui.screens.incident import IncidentScreen

        self.app.push_screen(IncidentScreen(number), lambda _r: self.load())

    def action_pick_caller(self) -> None:
        number = self._ticket()
        if number is None or self.view != "needs_caller":
            return
        from pob_tui.tui.screens.dialogs import Field, FormDialog

        def chosen(values: dict[str, Any] | None) -> None:
            if values:
                self.set_caller(number, str(values["caller"]))

        self.app.push_screen(FormDialog(
            _("Caller of {number}").format(number=number),
            [Field("caller", _("Caller (username, e-mail or phone)"))]), chosen)

    def action_create_caller(self) -> None:
        number = self._ticket()
        row = self.rows.get(self.table.row_key_at_cursor() or "")
        if number is None or row is None or self.view != "needs_caller":
            return
        from pob_tui.services.mail import split_name, suggest_username
        from pob_tui.tui.screens.dialogs import Field, FormDialog

        first, last = split_name(row.name)

        def chosen(values: dict[str, Any] | None) -> None:
            if values:
                self.create_caller(number, {k: str(v or "") for k, v in values.items()})

        self.app.push_screen(FormDialog(
            _("New caller of {number}").format(number=number),
            [Field("first_name", _("First name"), value=first),
             Field("last_name", _("Last name"), value=last),
             Field("email", _("E-mail"), value=row.address or ""),
             Field("username", _("Username"), value=suggest_username(row.address)),
             Field("phone", _("Phone (optional)"), required=False)]), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="mail-save")
    def create_caller(self, number: str, values: dict[str, str]) -> None:
        from pob_tui.services import mail

        assert self.database is not None
        try:
            with self.database.session() as session:
                person = mail.create_caller(session, self.pob.actor_in(session), number,
                                            now=self.pob.now(), **values)
                username = person.username
        except PobError as exc:
            self.post_message(CallerSet(str(exc), False))
            return
        self.post_message(CallerSet(_("{number}: caller {username} created").format(
            number=number, username=username), True))

    @work(thread=True, exclusive=True, exit_on_error=False, group="mail-save")
    def set_caller(self, number: str, caller: str) -> None:
        from pob_tui.services import mail

        assert self.database is not None
        try:
            with self.database.session() as session:
                mail.set_caller(session, self.pob.actor_in(session), number, caller,
                                now=self.pob.now())
        except PobError as exc:
            self.post_message(CallerSet(str(exc), False))
            return
        self.post_message(CallerSet(_("{number}: caller set").format(number=number), True))

    def on_caller_set(self, message: CallerSet) -> None:
        self.notify(message.text, severity="information" if message.ok else "warning",
                    markup=False)
        if message.ok:
            self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_close(self) -> None:
        self.dismiss()
