"""One incident: every field, the SLA clocks, the timeline of events, and keys to work it.

The screen loads `desk_views.incident_view` in a worker and keeps the `version` and the
snapshot (`seen`) it showed. Every edit passes both back, so when another agent saved in
between the service raises `ConflictError` with what they changed; the screen shows that in
a modal (field: yours -> theirs) and writes nothing. State rules live in
`services.incidents`: a refused transition shows the service's one-line reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Label, Static
from textual.worker import get_current_worker

from pob_tui.errors import ConflictError, DatabaseError, PobError
from pob_tui.i18n import _
from pob_tui.services.incident_actions import (
    Action,
    Assign,
    Comment,
    Done,
    Escalate,
    LinkProblem,
    Merge,
    Rate,
    Resolve,
    SetStatus,
    WorkNote,
)
from pob_tui.sla.display import STATE_LABELS
from pob_tui.tui.messages import TicketsChanged
from pob_tui.tui.screens.base import PobScreen
from pob_tui.tui.screens.dialogs import (
    FIELD_LABELS,
    RESOLUTION_LABELS,
    ConflictDialog,
    ExplainDialog,
    FormDialog,
    assign_dialog,
    assign_target,
    comment_dialog,
    escalate_dialog,
    link_problem_dialog,
    reason_dialog,
    resolve_dialog,
    satisfaction_dialog,
    wait_dialog,
    work_note_dialog,
)
from pob_tui.tui.screens.queue import STATUS_LABELS
from pob_tui.tui.widgets.sla_badge import format_left, sla_styles
from pob_tui.tui.widgets.text import clean, plain

if TYPE_CHECKING:
    from sqlmodel import Session

    from pob_tui.services.desk_views import IncidentView
    from pob_tui.services.incident_views import EventRow, TeamChoice

KIND_LABELS = {"resolution": _("resolution"), "response": _("response"), "ola": _("OLA")}
EVENT_LABELS = {
    "created": _("logged"), "comment": _("comment"), "work_note": _("work note"),
    "status": _("status"), "assignment": _("assignment"), "field": _("changed"),
    "link": _("problem link"), "satisfaction": _("satisfaction"),
    "mail_in": _("mail in"), "mail_out": _("mail out"), "mail_auto": _("automatic reply"),
}
CHANNEL_LABELS = {"phone": _("phone"), "email": _("e-mail"), "walk_in": _("walk-in"),
                  "self_service": _("self-service"), "monitoring": _("monitoring")}


class IncidentLoaded(Message):
    def __init__(self, data: IncidentView) -> None:
        super().__init__()
        self.data = data


class TimelineLoaded(Message):
    """The events of the incident as of `version`, after its fields (IncidentLoaded)."""

    def __init__(self, version: int, events: list[EventRow]) -> None:
        super().__init__()
        self.version = version
        self.events = events


class ActionDone(Message):
    """A change was saved; `text` is the confirmation to show."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ActionRefused(Message):
    """The service refused (rule, input, permission): its one line."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ConflictMet(Message):
    """Someone saved first; `action` is the agent's action to redo after a merge."""

    def __init__(self, error: ConflictError, action: Action | None = None) -> None:
        super().__init__()
        self.error = error
        self.action = action


class SaveFailed(Message):
    """The database stayed unreachable through every retry: its one line."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class PresenceLoaded(Message):
    """Who else has this incident open (usernames)."""

    def __init__(self, others: list[str]) -> None:
        super().__init__()
        self.others = others


class DialogDataLoaded(Message):
    def __init__(self, purpose: str, teams: list[TeamChoice]) -> None:
        super().__init__()
        self.purpose = purpose
        self.teams = teams


class ExplainLoaded(Message):
    def __init__(self, data: list[dict[str, Any]]) -> None:
        super().__init__()
        self.data = data


class IncidentScreen(PobScreen):
    """The detail of one incident, reached with enter from the queue or by number."""

    HELP_TITLE = _("Incident")
    BINDINGS: ClassVar[list[BindingType]] = [
        # The footer shows these in this order and cuts the rest at 80 columns, so "? more"
        # (all keys, with their ids) comes first and the most used follow.
        Binding("question_mark", "app.help", _("more"), id="incident.more"),
        Binding("r", "resolve", _("Resolve"), id="incident.resolve"),
        Binding("p", "wait", _("Wait"), id="incident.wait"),
        Binding("a", "assign", _("Assign"), id="incident.assign"),
        Binding("m", "assign_me", _("Take"), id="incident.assign_me"),
        Binding("x", "escalate", _("Escalate"), id="incident.escalate"),
        Binding("c", "comment", _("Comment"), id="incident.comment"),
        Binding("w", "work_note", _("Work note"), id="incident.work_note"),
        Binding("e", "explain", _("Explain SLA"), id="incident.explain"),
        Binding("S", "satisfaction", _("Satisfaction"), id="incident.satisfaction"),
        Binding("P", "link_problem", _("Link problem"), id="incident.link_problem"),
        Binding("i", "in_progress", _("In progress"), id="incident.in_progress"),
        Binding("t", "timer", _("Timer"), id="incident.timer"),
        Binding("C", "close_incident", _("Close"), id="incident.close_incident"),
        Binding("o", "reopen", _("Reopen"), id="incident.reopen"),
        Binding("K", "cancel", _("Cancel incident"), id="incident.cancel"),
        Binding("escape", "close", _("Back"), id="incident.close"),
        Binding("u", "caller_card", _("Caller card"), show=False, id="incident.caller_card"),
        Binding("j", "scroll('down')", _("Scroll down"), show=False, id="incident.down"),
        Binding("k", "scroll('up')", _("Scroll up"), show=False, id="incident.up"),
    ]

    ACTION_PERMISSIONS: ClassVar[dict[str, str]] = {
        action: "incident.work" for action in (
            "comment", "work_note", "timer", "assign_me", "assign", "escalate", "in_progress",
            "wait", "resolve", "close_incident", "reopen", "cancel", "satisfaction",
            "link_problem")}

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number.upper()
        self.data: IncidentView | None = None
        self.timer_started: float | None = None
        self.others: list[str] = []
        """Other agents with this incident open (presence), shown in the title line."""
        self._last_form: tuple[FormDialog, dict[str, Any], Callable[..., None]] | None = None
        self._opened_lock: dict[str, Any] | None = None
        self._own_save = False
        self._changed_elsewhere = False
        self._presence_id: tuple[int, int] | None = None
        self._change_note = ""
        self._say_after_timeline = False
        self.timeline_shown = False
        """The timeline on screen is the loaded incident's (the bench waits for it)."""

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="incident-body"):
            yield Static(plain(self.number), id="incident-title")
            with Horizontal(id="incident-top"):
                yield Static(id="incident-fields")
                with Vertical(id="incident-side"):
                    yield Label(_("SLA clocks (e: explain)"), classes="section-title",
                                markup=False)
                    yield Static(id="incident-clocks")
            yield Label(_("Description"), classes="section-title", markup=False)
            yield Static(id="incident-description")
            yield Label(_("Timeline"), classes="section-title", markup=False)
            yield Static(id="incident-timeline")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_status(self.number)
        self.query_one("#incident-body").focus()
        from pob_tui.services.presence import HEARTBEAT_SECONDS

        self.set_interval(HEARTBEAT_SECONDS, self.beat)

    def on_unmount(self) -> None:
        """Leave: remove this agent's presence row, in an app worker (the screen's own
        workers end with it; tests can wait for this one instead of sleeping)."""
        ident, database = self._presence_id, self.database
        if ident is None or database is None:
            return
        from pob_tui.services import presence

        def close() -> None:
            try:
                with database.session() as session:
                    presence.close_ticket(session, "incident", *ident)
            except Exception:  # the row goes stale on its own after two minutes
                return

        self.app.run_worker(close, thread=True, group="presence-close", exit_on_error=False,
                            name="pob-presence-close")

    # -- presence and live changes ----------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="incident-presence")
    def beat(self) -> None:
        """Say this agent has the incident open, and ask who else has."""
        from pob_tui.services import presence

        database, data = self.database, self.data
        if database is None or data is None:
            return
        with database.session() as session:
            actor = self.pob.actor_in(session)
            if actor.agent_id is None:
                return
            presence.heartbeat(session, "incident", data["id"], actor.agent_id,
                               self.pob.now())
            self._presence_id = (data["id"], actor.agent_id)
            others = presence.who_else(session, "incident", data["id"], actor.agent_id,
                                       self.pob.now())
        self.post_message(PresenceLoaded(others))

    def on_presence_loaded(self, message: PresenceLoaded) -> None:
        self.others = message.others
        self._show_title()

    def _show_title(self) -> None:
        d = self.data
        if d is None:
            return
        title = Text.assemble((d["number"], "bold"), "  ", plain(d["summary"]))
        if self.others:
            title.append("  · ")
            title.append_text(plain(_("Also open by: {who}").format(
                who=", ".join(self.others))))
            title.stylize("bold", len(title) - len(", ".join(self.others)))
        self.query_one("#incident-title", Static).update(title)

    def on_tickets_changed(self, message: TicketsChanged) -> None:
        """This incident changed in another session: show the new state, and who did it."""
        if self.data is None or self.database is None:
            return
        if message.kind == "resync" or (message.kind == "incident"
                                        and self.data.get("id") in message.ids):
            self._changed_elsewhere = True
            self.load_incident()

    @property
    def timezone(self) -> str:
        tz = self.data["tz"] if self.data else None
        return str(tz or getattr(self.pob.settings, "timezone", "Europe/Oslo"))

    def _local(self, when: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        from zoneinfo import ZoneInfo

        return when.astimezone(ZoneInfo(self.timezone)).strftime(fmt) if when else "–"

    # -- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        self.load_incident()

    @work(thread=True, exclusive=True, exit_on_error=False, group="incident")
    def load_incident(self) -> None:
        """The fields first (they are on screen at once), then the timeline, which grows
        with the incident's history, in the same read."""
        from pob_tui.services import desk_views

        assert self.database is not None
        with self.database.session() as session:
            data = desk_views.incident_view(session, self.number, self.pob.now(),
                                            events=False)
            self.post_message(IncidentLoaded(data))
            events = desk_views.incident_timeline(session, data["id"])
        if not get_current_worker().is_cancelled:
            self.post_message(TimelineLoaded(data["version"], events))

    def action_caller_card(self) -> None:
        """u: the caller's card (org area, issue 18)."""
        caller = self.data["caller"] if self.data else None
        if caller:
            from pob_tui.tui.screens.org import open_person_card

            open_person_card(self.app, caller)

    def on_incident_loaded(self, message: IncidentLoaded) -> None:
        before = self.data
        self.data = d = message.data
        if before is None:
            self.beat()
        has_events = "events" in d
        if not has_events:  # until the timeline arrives, the one shown stays
            d["events"] = before.get("events", []) if before else []
            self._say_after_timeline = bool(
                before is not None and self._changed_elsewhere
                and d["version"] != before["version"])
        elif before is not None and self._changed_elsewhere \
                and d["version"] != before["version"]:
            self._say_who_changed(d)
        self._changed_elsewhere = False
        self._own_save = False
        self._show_title()
        self.query_one("#incident-fields", Static).update(self._fields(d))
        self.query_one("#incident-clocks", Static).update(self._clocks(d))
        self.query_one("#incident-description", Static).update(
            plain(d.get("description") or "–", multiline=True))
        if has_events:
            self.query_one("#incident-timeline", Static).update(self._timeline(d))
            self.timeline_shown = True
        elif before is None:
            self.query_one("#incident-timeline", Static).update(Text("…", style="dim"))
        self._show_status()
        self.refresh_bindings()

    REOPENABLE = ("resolved", "closed")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer `o` reopen only on a resolved or closed incident (not on a new one)."""
        if action == "reopen" and (self.data is None
                                   or self.data.get("status") not in self.REOPENABLE):
            return False
        return super().check_action(action, parameters)

    def on_timeline_loaded(self, message: TimelineLoaded) -> None:
        d = self.data
        if d is None or d["version"] != message.version:
            return  # a newer load is on its way with its own timeline
        d["events"] = message.events
        if self._say_after_timeline:
            self._say_after_timeline = False
            self._say_who_changed(d)
            self._show_status()
        self.query_one("#incident-timeline", Static).update(self._timeline(d))
        self.timeline_shown = True

    def _say_who_changed(self, d: IncidentView) -> None:
        events = d.get("events") or []
        who = events[-1].get("actor") if events else None
        if who and who == self.pob.agent_username:
            return  # our own save coming back through the listener
        text = _("{number} was changed by {who}").format(
            number=d["number"], who=who or _("someone else"))
        self.notify(text, markup=False)
        self._change_note = _("changed by {who}").format(who=who or _("someone else"))

    def _show_status(self) -> None:
        if self.data is None:
            return
        text = f"{self.number} · v{self.data['version']}"
        if self._change_note:
            text = f"{self._change_note} · {text}"
        if self.timer_started is not None:
            minutes = int((time.monotonic() - self.timer_started) // 60)
            text = _("timer {n}m · ").format(n=minutes) + text
        self.set_status(text)

    def _fields(self, d: IncidentView) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")

        def row(name: str, value: object) -> None:
            grid.add_row(name, value if isinstance(value, Text) else plain(
                "–" if value in (None, "") else value, multiline=True))

        status = STATUS_LABELS.get(d["status"], d["status"])
        row(_("Status"), status)
        row(_("Priority"), _("P{p} (impact {i}, urgency {u})").format(
            p=d["priority"], i=d["impact"], u=d["urgency"]))
        caller = Text.assemble(plain(d.get("caller_name") or ""), " ",
                               (clean(f"({d.get('caller') or ''})"), "dim"))
        if d.get("caller_vip"):
            caller.append(" VIP", style="bold")
        row(_("Caller"), caller)
        contact = " · ".join(clean(v) for v in (d.get("caller_phone"), d.get("caller_email"))
                             if v)
        row(_("Contact"), contact)
        row(_("Org unit"), d.get("org_unit"))
        service = d.get("service_name")
        row(_("Service"), f"{service} ({d['service']})" if service else None)
        row(_("CI"), d.get("ci"))
        row(_("Channel"), CHANNEL_LABELS.get(d["channel"], d["channel"]))
        row(_("Team"), d.get("team"))
        row(_("Assignee"), d.get("assignee"))
        row(_("Escalation"), str(d.get("escalation_level") or 0))
        row(_("Opened"), self._local(d.get("opened_at")))
        row(_("Responded"), self._local(d.get("first_response_at")))
        if d.get("resolved_at"):
            row(_("Resolved"), self._local(d["resolved_at"]) + (
                _(" · at first line") if d.get("first_line") else ""))
            code = d["resolution_code"] or ""
            row(_("Resolution"), Text.assemble(
                (RESOLUTION_LABELS.get(code, code), "bold"), ": ",
                plain(d.get("resolution_note") or "", multiline=True)))
        if d.get("closed_at"):
            row(_("Closed"), self._local(d["closed_at"]))
        if d.get("problem"):
            row(_("Problem"), Text.assemble((clean(d["problem"]), "bold"), " ",
                                            plain(d.get("problem_title") or "")))
            if d.get("workaround"):
                row(_("Workaround"), plain(d["workaround"], multiline=True))
        if d.get("satisfaction") is not None:
            row(_("Satisfaction"), Text.assemble(
                (f"{d['satisfaction']}/6", "bold"), " ",
                plain(d.get("satisfaction_comment") or "", multiline=True)))
        return grid

    def _clocks(self, d: IncidentView) -> Text:
        clocks = d.get("clocks") or []
        if not clocks:
            return Text(_("no SLA clock"), style="dim")
        styles = sla_styles(self.app.get_css_variables())
        out = Text()
        for i, c in enumerate(clocks):
            if i:
                out.append("\n")
            name = KIND_LABELS.get(c.kind, c.kind)
            if c.team:
                name += f" · {c.team}"
            out.append_text(plain(name))
            out.append("\n  ")
            out.append(_("due {when}").format(when=self._due(c.due_at)))
            out.append("  ")
            state = STATE_LABELS.get(c.state, c.state)
            left = ("" if c.stopped_at or c.state == "paused"
                    else f" {format_left(c.left, c.working_day)}")
            out.append(f"{state}{left}", style=styles.get(c.state))
        return out

    def _due(self, when: datetime | None) -> str:
        from zoneinfo import ZoneInfo

        from pob_tui.sla.display import format_due

        return format_due(when, ZoneInfo(self.timezone))

    def _timeline(self, d: IncidentView) -> Text:
        out = Text()
        for i, ev in enumerate(d.get("events") or []):
            if i:
                out.append("\n")
            out.append(self._local(ev["at"], "%d.%m %H:%M"), style="dim")
            out.append(" ")
            out.append_text(plain(ev.get("actor") or _("system")))
            out.append(" ")
            kind = EVENT_LABELS.get(ev["kind"], ev["kind"])
            out.append(kind, style="bold")
            name = ev["field"]
            if name and ev["kind"] not in ("satisfaction", "link"):
                field = FIELD_LABELS.get(name, name)
                old, new = ev["old"], ev["new"]
                if name == "status":
                    old = STATUS_LABELS.get(str(old), old)
                    new = STATUS_LABELS.get(str(new), new)
                out.append(" ")
                out.append_text(plain(f"{field}: {old if old is not None else '–'} -> "
                                      f"{new if new is not None else '–'}"))
            if ev.get("minutes"):
                out.append(_(" ({n} min)").format(n=ev["minutes"]), style="bold")
            if ev.get("comment"):
                out.append("\n    ")
                out.append_text(plain(ev["comment"], multiline=True))
        return out

    # -- acting -----------------------------------------------------------------------------

    def _guarded(self) -> bool:
        if self.data is None:
            self.app.bell()
            return False
        return True

    def _lock(self) -> dict[str, Any]:
        """The version and fields this screen shows now: what a save is based on."""
        assert self.data is not None
        return {"expected_version": self.data["version"], "seen": dict(self.data["seen"])}

    def act(self, action: Action, merge: Merge | None = None,
            request_id: str | None = None) -> None:
        """Save `action` based on what the agent saw: the version a dialog was opened on (a
        live refresh while it was open must not turn a stale choice into an overwrite),
        else what the screen shows now."""
        if self.data is None:
            self.app.bell()
            return
        lock = self._opened_lock or self._lock()
        self._act(action, lock, merge, request_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="incident-action")
    def _act(self, action: Action, lock: dict[str, Any], merge: Merge | None = None,
             request_id: str | None = None) -> None:
        """One service call (`incident_actions.act`) with the version and snapshot `lock`,
        through `retry.run_with_retry`: a dropped connection is retried with the same
        request id (never applied twice). `merge`: after a conflict, the fields the agent
        chose to keep are restored first, in the same transaction."""
        from pob_tui.services import incident_actions, retry

        assert self.database is not None
        number = self.number
        retried = False

        def save(session: Session) -> incident_actions.Done:
            return incident_actions.act(
                session, self.pob.actor_in(session), number, action,
                expected_version=lock["expected_version"], seen=lock["seen"], merge=merge,
                now=self.pob.now())

        def on_retry(_attempt: int, _delay: float, _error: BaseException) -> None:
            nonlocal retried
            retried = True
            self.pob.connection_lost()

        try:
            outcome = retry.run_with_retry(self.database, save,
                                           request_id or retry.new_request_id(),
                                           on_retry=on_retry)
        except ConflictError as exc:
            self.post_message(ConflictMet(exc, action))
            return
        except DatabaseError as exc:
            self.post_message(SaveFailed(str(exc)))
            return
        except PobError as exc:
            self.post_message(ActionRefused(str(exc)))
            return
        finally:
            if retried:
                self.pob.connection_back()
        self.post_message(ActionDone(_confirmation(number, action, outcome.value)))

    def on_action_done(self, message: ActionDone) -> None:
        self.notify(message.text, markup=False)
        self._last_form = None
        self._own_save = True
        self._change_note = ""
        self.load_incident()

    def on_action_refused(self, message: ActionRefused) -> None:
        self.notify(message.text, severity="warning", markup=False)

    def on_save_failed(self, message: SaveFailed) -> None:
        """The connection did not come back in time: say so, and open the dialog again
        with what the agent typed, so nothing typed is lost."""
        self.notify(message.text, severity="error", markup=False)
        if self._last_form is None:
            return
        dialog, values, then = self._last_form
        fields = [replace(f, value=values.get(f.key, f.value)) for f in dialog.fields]
        again = FormDialog(dialog.title_text, fields, note=dialog.note)
        self._ask(again, then)

    def on_conflict_met(self, message: ConflictMet) -> None:
        """Someone saved first: show their change; the agent merges field by field (and
        their own action is applied on top), reloads, or closes. Nothing is written
        without a choice."""
        def closed(result: dict[str, Any] | bool | None) -> None:
            if isinstance(result, dict) and message.action is not None:
                self.act(message.action,
                         merge=Merge(message.error.changes, tuple(result["keep"])))
            elif result:
                self.load_incident()

        self.app.push_screen(ConflictDialog(str(message.error), message.error.changes,
                                            can_merge=message.action is not None), closed)

    def _ask(self, dialog: FormDialog, then: Callable[[dict[str, Any]], None]) -> None:
        if not self._guarded():
            return

        opened = self._lock()  # the version this dialog was opened on

        def done(values: dict[str, Any] | None) -> None:
            if values is not None:
                self._last_form = (dialog, values, then)
                self._opened_lock = opened
                try:
                    then(values)
                finally:
                    self._opened_lock = None

        self.app.push_screen(dialog, done)

    def action_comment(self) -> None:
        self._ask(comment_dialog(), lambda v: self.act(Comment(v["text"])))

    def action_work_note(self, minutes: int | None = None) -> None:
        self._ask(work_note_dialog(minutes),
                  lambda v: self.act(WorkNote(v["text"], v.get("minutes"))))

    def action_timer(self) -> None:
        """Start a timer; the second press stops it and opens a work note with the minutes."""
        if self.timer_started is None:
            self.timer_started = time.monotonic()
            self.notify(_("Timer started; t again to stop it and write the work note"),
                        markup=False)
            self._show_status()
            return
        minutes = max(1, math.ceil((time.monotonic() - self.timer_started) / 60))
        self.timer_started = None
        self._show_status()
        self.action_work_note(minutes)

    def action_assign_me(self) -> None:
        if self._guarded():
            self.act(Assign(to_me=True))

    def action_assign(self) -> None:
        if self._guarded():
            self.load_teams("assign")

    def action_escalate(self) -> None:
        if self._guarded():
            self.load_teams("escalate")

    @work(thread=True, exclusive=True, exit_on_error=False, group="incident-teams")
    def load_teams(self, purpose: str) -> None:
        from pob_tui.services import desk_views

        assert self.database is not None
        with self.database.session() as session:
            teams = desk_views.list_teams(session, second_line_only=purpose == "escalate")
        self.post_message(DialogDataLoaded(purpose, teams))

    def on_dialog_data_loaded(self, message: DialogDataLoaded) -> None:
        if message.purpose == "escalate":
            self._ask(escalate_dialog(message.teams),
                      lambda v: self.act(Escalate(v["team"], v["reason"])))
            return

        self._ask(assign_dialog(message.teams),
                  lambda v: self.act(Assign(**assign_target(v))))

    def action_in_progress(self) -> None:
        if self._guarded():
            self.act(SetStatus("in_progress"))

    def action_wait(self) -> None:
        self._ask(wait_dialog(), lambda v: self.act(SetStatus(v["status"], v.get("note"))))

    def action_resolve(self) -> None:
        self._ask(resolve_dialog(), lambda v: self.act(Resolve(v["code"], v["note"])))

    def action_close_incident(self) -> None:
        if self._guarded():
            self.act(SetStatus("closed"))

    def action_reopen(self) -> None:
        self._ask(reason_dialog(_("Reopen")),
                  lambda v: self.act(SetStatus("in_progress", v["reason"])))

    def action_cancel(self) -> None:
        self._ask(reason_dialog(_("Cancel the incident")),
                  lambda v: self.act(SetStatus("cancelled", v["reason"])))

    def action_satisfaction(self) -> None:
        self._ask(satisfaction_dialog(), lambda v: self.act(Rate(v["score"], v.get("comment"))))

    def action_link_problem(self) -> None:
        def link(values: dict[str, Any]) -> None:
            if not values.get("number") and not values.get("title"):
                self.notify(_("Give a problem number or a title for a new problem"),
                            severity="warning", markup=False)
                return
            self.act(LinkProblem(values.get("number") or None, values.get("title") or None))

        self._ask(link_problem_dialog(), link)

    def action_explain(self) -> None:
        if self._guarded():
            self.load_explain()

    @work(thread=True, exclusive=True, exit_on_error=False, group="incident-explain")
    def load_explain(self) -> None:
        from pob_tui.services import desk_views

        assert self.database is not None
        with self.database.session() as session:
            data = desk_views.explain_clocks(session, self.number, now=self.pob.now())
        self.post_message(ExplainLoaded(data))

    def on_explain_loaded(self, message: ExplainLoaded) -> None:
        self.app.push_screen(ExplainDialog(message.data, self.timezone))

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#incident-body", VerticalScroll)
        if direction == "down":
            body.scroll_down()
        else:
            body.scroll_up()

    def action_close(self) -> None:
        self.dismiss()


def _confirmation(number: str, action: Action, done: Done | None) -> str:
    """The line shown after a save (`done` is None when a retry found it already saved)."""
    if done is None:
        return _("{number} saved").format(number=number)
    match action:
        case Escalate():
            return _("{number} escalated").format(number=number)
        case Resolve():
            return _("{number} resolved").format(number=number)
        case Rate(score=score):
            text = _("Score {score} recorded").format(score=score)
            if done.follow_up:
                text += "; " + _("a follow-up was created for {who}").format(
                    who=done.follow_up_for or _("the customer manager"))
            return text
        case LinkProblem():
            return _("{number} linked to {problem}").format(number=number,
                                                            problem=done.problem)
    return _("{number} saved").format(number=number)
