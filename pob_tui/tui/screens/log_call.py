"""Log a call: one screen, keyboard only, built for an agent on the phone.

Caller, service, summary, ctrl+s is the common path (enter picks the first match and moves
on). The side panel shows who calls (unit, site, VIP, open and recent incidents: ctrl+o adds
a note to one of their open incidents instead of logging a duplicate) and the known errors
for the chosen service whose symptoms match the summary (ctrl+k applies the highlighted one
and resolves the call at first line). Impact and urgency show the ITIL priority live,
including the VIP bump; the service's defaults are filled in when it is picked.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from pob_tui.errors import PobError
from pob_tui.i18n import LazyLabels, _
from pob_tui.tui.screens.base import PobScreen
from pob_tui.tui.screens.dialogs import Field, FormDialog, text_dialog
from pob_tui.tui.screens.queue import STATUS_LABELS
from pob_tui.tui.widgets.limited_input import LimitedInput
from pob_tui.tui.widgets.outage_banner import OutageBanner
from pob_tui.tui.widgets.pickers import CallerPicker, CiPicker, Picker, ServicePicker, debounce
from pob_tui.tui.widgets.text import clean, plain

if TYPE_CHECKING:
    from pob_tui.services.problems import KnownErrorHit

SUMMARY_MAX = 200
# Terminal escape sequences a pasted log or chat text may carry: CSI (colours, cursor
# moves), OSC (titles, links, ended by BEL or ST) and the other two-character ESC codes.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                      r"|\x9b[0-?]*[ -/]*[@-~]|\x1b[@-_]?")


def pasted_text(text: str) -> str:
    """A paste made inert in its own order: escape sequences dropped, line ends as \\n,
    the other control characters shown as their pictures (tab as spaces)."""
    text = _ESCAPES.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return clean(text, multiline=True)


class SummaryOverflow(Message):
    """A paste did not fit the summary: `rest` goes into the description."""

    def __init__(self, rest: str) -> None:
        super().__init__()
        self.rest = rest


class SummaryInput(LimitedInput):
    """The call's summary (200 characters). A paste keeps its order with its controls
    neutralised; its first line fills the summary (cut at a word when too long) and what
    does not fit goes on into the description (`SummaryOverflow`)."""

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        text = pasted_text(event.text)
        if not text:
            return
        first, _sep, more = text.partition("\n")
        first = first.strip()
        lo, hi = sorted(self.selection) if not self.selection.is_empty else (
            self.cursor_position, self.cursor_position)
        room = max(0, (self.max_length or SUMMARY_MAX) - (len(self.value) - (hi - lo)))
        overflow = ""
        if len(first) > room:
            cut = first.rfind(" ", 0, room + 1)
            cut = cut if cut > room // 2 else room
            first, overflow = first[:cut].rstrip(), first[cut:].strip()
        rest = "\n".join(p for p in (overflow, more.strip("\n")) if p.strip())
        if first:
            Input.replace(self, first, lo, hi)
        if rest:
            self.post_message(SummaryOverflow(rest))


class LevelInput(Input):
    """Impact or urgency: one digit in a field one cell wide. Its view never scrolls: the
    cursor after the digit (on focus, which selects it, or after typing) scrolled the digit
    out of the field, which then read blank."""

    def validate_scroll_x(self, value: float) -> float:
        return 0.0


CHANNELS = ("phone", "email", "walk_in", "self_service", "monitoring")
CHANNEL_LABELS = LazyLabels(lambda: {
    "phone": _("phone"), "email": _("e-mail"), "walk_in": _("walk-in"),
    "self_service": _("self-service"), "monitoring": _("monitoring"),
})
"""The channel as the agent reads and types it ("telefon" in nb); stored as the code."""


def channel_code(text: str) -> str:
    """The stored channel for what the field holds: a label in the current language or a
    code; anything else goes to the service as typed (which names the valid ones)."""
    value = text.strip()
    if not value:
        return "phone"
    for code in CHANNELS:
        if value.casefold() in (code.casefold(), CHANNEL_LABELS[code].casefold()):
            return code
    return value
KNOWN_DEBOUNCE = 0.15


class CallerContextLoaded(Message):
    def __init__(self, context: dict[str, Any]) -> None:
        super().__init__()
        self.context = context


class KnownErrorsLoaded(Message):
    def __init__(self, rows: list[KnownErrorHit]) -> None:
        super().__init__()
        self.rows = rows


class CallSaved(Message):
    """The call was logged (or a note added to an existing incident): `text` says so."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class CallRefused(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class LogCallScreen(PobScreen):
    """The call form; dismisses back to the queue after saving."""

    HELP_TITLE = _("Log a call")
    BINDINGS: ClassVar[list[BindingType]] = [
        # Footer order: "F1 more" first so it always fits at 80 columns (`?` types a
        # question mark here), then the most used keys.
        Binding("f1", "app.help", _("more"), id="call.more", priority=True, key_display="F1"),
        Binding("ctrl+s", "save", _("Save"), id="call.save", priority=True),
        Binding("ctrl+r", "save_resolve", _("Save+resolve"), id="call.save_resolve",
                priority=True),
        Binding("ctrl+g", "quick_call", _("Quick call"), id="call.quick_call", priority=True),
        Binding("ctrl+k", "apply_known_error", _("Known error"), id="call.known_error",
                priority=True),
        Binding("ctrl+n", "next_known_error", _("Next known"), id="call.next_known_error",
                priority=True),
        Binding("ctrl+o", "note_existing", _("Note on open"), id="call.note_existing",
                priority=True),
        Binding("ctrl+l", "link_outage", _("Link to outage"), id="call.link_outage",
                priority=True),
        Binding("escape", "cancel", _("Cancel"), id="call.cancel"),
        Binding("f2", "caller_card", _("Caller card"), show=False, id="call.caller_card"),
    ]

    def action_caller_card(self) -> None:
        """f2: the picked caller's card (org area, issue 18)."""
        caller = self.query_one("#call-caller", CallerPicker).selected
        if caller:
            from pob_tui.tui.screens.org import open_person_card

            open_person_card(self.app, caller["username"])

    def __init__(self, ring: Any = None) -> None:
        super().__init__()
        self.ring = ring
        """A phone ring this pob took (`services.ring.RingCall`): the caller comes filled."""
        self.template: Any = None
        """The quick-call template applied (`services.templates.TemplateRow`), if any."""
        self.context: dict[str, Any] | None = None
        self.known: list[KnownErrorHit] = []
        self._saving = False
        self._kept_levels: tuple[str | None, str | None] | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="call-body"):
            with VerticalScroll(id="call-form"):
                yield CallerPicker(id="call-caller")
                yield ServicePicker(id="call-service")
                with Horizontal(classes="form-row"):
                    yield Label(_("Summary"), classes="picker-label", markup=False)
                    yield SummaryInput(placeholder=_("what is wrong, in a few words"),
                                       max_length=SUMMARY_MAX, id="call-summary")
                with Horizontal(classes="form-row -tall"):
                    yield Label(_("Details"), classes="picker-label", markup=False)
                    yield TextArea(id="call-description", soft_wrap=True,
                                   show_line_numbers=False, tab_behavior="focus")
                yield CiPicker(id="call-ci")
                with Horizontal(classes="form-row", id="call-levels"):
                    yield Label(_("Impact"), classes="picker-label", markup=False)
                    yield LevelInput("3", restrict="[1-3]", max_length=1, id="call-impact",
                                     classes="level-input")
                    yield Label(_("Urgency"), classes="level-label", markup=False)
                    yield LevelInput("3", restrict="[1-3]", max_length=1, id="call-urgency",
                                     classes="level-input")
                    yield Label(id="call-priority", markup=False)
                with Horizontal(classes="form-row"):
                    yield Label(_("Channel"), classes="picker-label", markup=False)
                    yield Input(CHANNEL_LABELS["phone"],
                                suggester=SuggestFromList(list(CHANNEL_LABELS.values())),
                                id="call-channel")
            with Vertical(id="call-side"):
                yield OutageBanner(for_caller=True, id="call-outage")
                yield Static(Text(_("Pick a caller to see their incidents."), style="dim"),
                             id="call-caller-info")
                yield Label(_("Known errors · ctrl+k applies"), classes="section-title",
                            markup=False)
                known = OptionList(id="call-known")
                known.can_focus = False
                yield known
                yield Static(id="call-workaround")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_status(_("Log a call"))
        self._show_priority()
        self.query_one("#call-caller", CallerPicker).input.focus()
        if self.ring is not None:
            self._show_ring(self.ring)
            return
        draft = getattr(self.app, "call_draft", None)
        if draft:
            self.app.call_draft = None  # type: ignore[attr-defined]
            self.restore(draft)
            self.notify(_("The call you left is back (esc, d discards it)"), markup=False)

    def _show_ring(self, ring: Any) -> None:
        """The phone rang: the caller found by number is picked (their incidents show at
        the side); an unknown number stays in the caller field to search on."""
        caller = self.query_one("#call-caller", CallerPicker)
        if ring.caller:
            caller.set_row(ring.caller)
            self.post_message(Picker.Picked(caller, ring.caller))
            self.query_one("#call-service", ServicePicker).input.focus()
            self.notify(_("Call from {number}").format(number=clean(ring.number)),
                        markup=False)
        else:
            caller.input.value = ring.number
            self.notify(_("No caller has the number {number}").format(
                number=clean(ring.number)), severity="warning", markup=False)

    # -- quick calls ------------------------------------------------------------------------

    def action_quick_call(self) -> None:
        from pob_tui.tui.screens.templates import TemplatePicker

        def chosen(row: Any) -> None:
            if row is not None:
                self.apply_template(row)

        self.app.push_screen(TemplatePicker(), chosen)

    def apply_template(self, row: Any) -> None:
        """Fill service, summary, impact and urgency from a template; with a resolution
        code, ctrl+r then saves and resolves at first line without asking."""
        self.template = row
        service = self.query_one("#call-service", ServicePicker)
        picked = {"id": row.service_id, "code": row.service, "name": row.service_name,
                  "impact": row.impact or row.default_impact,
                  "urgency": row.urgency or row.default_urgency, "subscribed": False}
        service.set_row(picked)
        self.post_message(Picker.Picked(service, picked))
        self.query_one("#call-summary", Input).value = row.summary
        caller = self.query_one("#call-caller", CallerPicker)
        if caller.selected is None:
            caller.input.focus()
        else:
            self.query_one("#call-summary", Input).focus()
        if row.code:
            self.notify(_("ctrl+r saves and resolves: {note}").format(
                note=clean(row.resolution or row.summary)), markup=False)

    # -- drafts: a half-logged call is never lost -------------------------------------------

    def form_state(self) -> dict[str, Any]:
        """Everything typed or picked, to keep when the agent leaves the form."""
        caller = self.query_one("#call-caller", CallerPicker)
        service = self.query_one("#call-service", ServicePicker)
        ci = self.query_one("#call-ci", CiPicker)
        return {
            "caller": caller.selected, "caller_text": caller.input.value,
            "service": service.selected, "service_text": service.input.value,
            "ci": ci.selected, "ci_text": ci.input.value,
            "summary": self.query_one("#call-summary", Input).value,
            "description": self.query_one("#call-description", TextArea).text,
            "impact": self.query_one("#call-impact", Input).value,
            "urgency": self.query_one("#call-urgency", Input).value,
            "channel": self.query_one("#call-channel", Input).value,
        }

    def has_data(self) -> bool:
        state = self.form_state()
        return any(state[key] for key in ("caller", "caller_text", "service", "service_text",
                                         "ci", "ci_text", "summary", "description"))

    def restore(self, state: dict[str, Any]) -> None:
        """Put a kept draft back: picked rows stay picked, typed text stays typed."""
        for picker_id, key in (("#call-caller", "caller"), ("#call-service", "service"),
                               ("#call-ci", "ci")):
            picker = self.query_one(picker_id, Picker)
            if state.get(key):
                picker.set_row(state[key])
                self.post_message(Picker.Picked(picker, state[key]))
            elif state.get(f"{key}_text"):
                picker.input.value = state[f"{key}_text"]
        self.query_one("#call-summary", Input).value = state.get("summary") or ""
        self.query_one("#call-description", TextArea).text = state.get("description") or ""
        for widget_id in ("impact", "urgency", "channel"):
            if state.get(widget_id):
                self.query_one(f"#call-{widget_id}", Input).value = state[widget_id]
        if state.get("service"):  # the service's defaults must not undo the kept levels
            self._kept_levels = (state.get("impact"), state.get("urgency"))
        focus = ("#call-summary" if state.get("caller") and state.get("service")
                 else "#call-service" if state.get("caller") else None)
        if focus == "#call-summary":
            self.query_one("#call-summary", Input).focus()
        elif focus:
            self.query_one("#call-service", ServicePicker).input.focus()

    # -- pickers ----------------------------------------------------------------------------

    @on(Picker.Picked)
    def _picked(self, event: Picker.Picked) -> None:
        row = event.row
        if event.picker.id == "call-caller":
            service = self.query_one("#call-service", ServicePicker)
            ci = self.query_one("#call-ci", CiPicker)
            service.caller_id = ci.caller_id = row["id"] if row else None
            self.context = None
            self.query_one(OutageBanner).show_for(row["id"] if row else None)
            if row:
                ring = self.ring
                if ring is not None and ring.context and ring.caller \
                        and ring.caller["id"] == row["id"]:
                    # The ring's claim read the context in its own transaction: show it
                    # now instead of a second round trip (the phone is ringing).
                    self.post_message(CallerContextLoaded(ring.context))
                else:
                    self.load_context(row["id"])
                service.refresh_results()
            else:
                self.query_one("#call-caller-info", Static).update("")
            self._show_priority()
        elif event.picker.id == "call-service":
            kept, self._kept_levels = self._kept_levels, None
            if row:
                impact, urgency = kept or (row.get("impact"), row.get("urgency"))
                self.query_one("#call-impact", Input).value = str(impact or 3)
                self.query_one("#call-urgency", Input).value = str(urgency or 3)
            self.search_known()

    @work(thread=True, exclusive=True, exit_on_error=False, group="call-context")
    def load_context(self, person_id: int) -> None:
        from pob_tui.services import pickers

        assert self.database is not None
        with self.database.session() as session:
            context = pickers.caller_context(session, person_id)
        if not get_current_worker().is_cancelled:
            self.post_message(CallerContextLoaded(context))

    def on_caller_context_loaded(self, message: CallerContextLoaded) -> None:
        self.context = c = message.context
        out = Text()
        out.append_text(plain(c.get("name") or ""))
        out.stylize("bold")
        if c.get("vip"):
            out.append("  VIP", style="bold reverse")
        for value in (c.get("title"), c.get("org_unit"), c.get("location"), c.get("phone")):
            if value:
                out.append("\n")
                out.append_text(plain(value))
        for title, rows in ((_("Open incidents (ctrl+o: add a note)"), c.get("open") or []),
                            (_("Recent"), c.get("recent") or [])):
            if not rows:
                continue
            out.append("\n")
            out.append(title, style="bold")
            for r in rows:
                out.append("\n")
                out.append(clean(r["number"]), style="bold" if title != _("Recent") else "dim")
                out.append(f" {STATUS_LABELS.get(r['status'], r['status'])} ", style="dim")
                out.append_text(plain(r["summary"]))
        if not (c.get("open") or c.get("recent")):
            out.append("\n")
            out.append(_("No earlier incidents."), style="dim")
        self.query_one("#call-caller-info", Static).update(out)
        self._show_priority()

    # -- known errors -----------------------------------------------------------------------

    def on_summary_overflow(self, message: SummaryOverflow) -> None:
        details = self.query_one("#call-description", TextArea)
        before = details.text.rstrip("\n")
        details.text = f"{before}\n{message.rest}" if before else message.rest
        self.notify(_("The summary takes one line of up to {n} characters; the rest of the "
                      "paste is in Details.").format(n=SUMMARY_MAX),
                    severity="warning", markup=False)

    @on(Input.Changed, "#call-summary")
    def _summary_typed(self, event: Input.Changed) -> None:
        self.search_known(wait=KNOWN_DEBOUNCE)

    def search_known(self, wait: float = 0.0) -> None:
        service = self.query_one("#call-service", ServicePicker).selected
        summary = self.query_one("#call-summary", Input).value
        self.load_known(summary, service["id"] if service else None, wait)

    @work(thread=True, exclusive=True, exit_on_error=False, group="call-known")
    def load_known(self, text: str, service_id: int | None, wait: float) -> None:
        from pob_tui.services import problems

        if wait and not debounce(wait):
            return
        assert self.database is not None
        with self.database.session() as session:
            rows = problems.search_known_errors(session, text, service_id=service_id, limit=5)
        if not get_current_worker().is_cancelled:
            self.post_message(KnownErrorsLoaded(rows))

    def on_known_errors_loaded(self, message: KnownErrorsLoaded) -> None:
        self.known = message.rows
        known = self.query_one("#call-known", OptionList)
        known.clear_options()
        known.add_options([Option(self._known_line(r)) for r in message.rows])
        if message.rows:
            known.highlighted = 0
        self._show_workaround()

    @staticmethod
    def _known_line(row: KnownErrorHit) -> Text:
        """A known error; one of another service says whose (via a service the chosen one
        rests on, or any service while none is chosen)."""
        line = Text.assemble((clean(row["number"]), "bold"), " ", plain(row["title"]))
        other = row.get("via") or (row.get("service") if row.get("other_service") else None)
        if other:
            label = _("via {service}") if row.get("via") else _("service {service}")
            line.append(" · ")
            line.append(label.format(service=clean(other)), style="italic dim")
        return line

    def _highlighted_known(self) -> KnownErrorHit | None:
        index = self.query_one("#call-known", OptionList).highlighted
        if index is None or not 0 <= index < len(self.known):
            return None
        return self.known[index]

    def _show_workaround(self) -> None:
        row = self._highlighted_known()
        static = self.query_one("#call-workaround", Static)
        if row is None:
            static.update(Text(_("None for this service and summary."), style="dim"))
            return
        static.update(Text.assemble((_("Workaround: "), "bold"),
                                    plain(row.get("workaround") or "–", multiline=True)))

    def action_next_known_error(self) -> None:
        known = self.query_one("#call-known", OptionList)
        if known.option_count:
            known.highlighted = ((known.highlighted or 0) + 1) % known.option_count
            self._show_workaround()

    # -- priority ---------------------------------------------------------------------------

    @on(Input.Changed, "#call-impact, #call-urgency")
    def _levels_typed(self, _event: Input.Changed) -> None:
        self._show_priority()

    def _levels(self) -> tuple[int | None, int | None]:
        def level(widget_id: str) -> int | None:
            value = self.query_one(widget_id, Input).value
            return int(value) if value in ("1", "2", "3") else None

        return level("#call-impact"), level("#call-urgency")

    def _vip(self) -> bool:
        caller = self.query_one("#call-caller", CallerPicker).selected
        return bool((caller and caller.get("vip")) or (self.context and self.context.get("vip")))

    def _show_priority(self) -> None:
        impact, urgency = self._levels()
        label = self.query_one("#call-priority", Label)
        if impact is None or urgency is None:
            label.update(_("priority –"))
            return
        from pob_tui.services.incidents import priority_for

        vip = self._vip()
        text = _("→ P{p}").format(p=priority_for(impact, urgency, vip=vip))
        if vip:
            text += _(" (VIP)")
        label.update(text)

    # -- saving -----------------------------------------------------------------------------

    def _draft(self) -> dict[str, Any] | None:
        caller = self.query_one("#call-caller", CallerPicker).selected
        summary = self.query_one("#call-summary", Input).value.strip()
        if caller is None:
            self.notify(_("Pick a caller first"), severity="warning", markup=False)
            self.query_one("#call-caller", CallerPicker).input.focus()
            return None
        if not summary:
            self.notify(_("Write a summary"), severity="warning", markup=False)
            self.query_one("#call-summary", Input).focus()
            return None
        service = self.query_one("#call-service", ServicePicker).selected
        ci = self.query_one("#call-ci", CiPicker).selected
        impact, urgency = self._levels()
        description = self.query_one("#call-description", TextArea).text.strip()
        return {
            "caller": caller["id"], "summary": summary,
            "service": service["id"] if service else None,
            "ci": ci["id"] if ci else None, "impact": impact, "urgency": urgency,
            "description": description or None,
            "channel": channel_code(self.query_one("#call-channel", Input).value),
        }

    def action_save(self) -> None:
        draft = self._draft()
        if draft is not None:
            self.save(draft)

    def action_save_resolve(self) -> None:
        draft = self._draft()
        if draft is None:
            return
        t = self.template
        if t is not None and t.code and draft["service"] == t.service_id:
            self.save({**draft, "resolve_note": t.resolution or t.summary,
                       "resolution_code": t.code})
            return

        def resolved(values: dict[str, Any] | None) -> None:
            if values:
                self.save({**draft, "resolve_note": values["text"]})

        self.app.push_screen(
            text_dialog(_("Save and resolve at first line"), _("Resolution note"),
                        draft["summary"]), resolved)

    def action_apply_known_error(self) -> None:
        row = self._highlighted_known()
        if row is None:
            self.notify(_("No known error to apply"), severity="warning", markup=False)
            return
        draft = self._draft()
        if draft is not None:
            self.save({**draft, "known_error": row["number"]})

    def action_note_existing(self) -> None:
        open_ = (self.context or {}).get("open") or []
        if not open_:
            self.notify(_("The caller has no open incident"), severity="warning",
                        markup=False)
            return
        summary = self.query_one("#call-summary", Input).value.strip()
        dialog = FormDialog(_("Add a note to an open incident"), [
            Field("number", _("Incident"), kind="choice",
                  choices=[(r["number"], f"{r['number']} {clean(r['summary'])}")
                           for r in open_]),
            Field("text", _("Note"), value=summary or None),
        ])

        def chosen(values: dict[str, Any] | None) -> None:
            if values:
                self.add_note(values["number"], values["text"])

        self.app.push_screen(dialog, chosen)

    def action_link_outage(self) -> None:
        """Log the call as a child of the outage shown in the banner (issue 14)."""
        outage = self.query_one(OutageBanner).outage
        if outage is None:
            self.notify(_("No outage reaches this caller"), severity="warning", markup=False)
            return
        draft = self._draft()
        if draft is not None:
            self.save({**draft, "_outage": outage})

    @work(thread=True, exclusive=True, exit_on_error=False, group="call-save")
    def save(self, draft: dict[str, Any]) -> None:
        from pob_tui.services import incidents, retry

        assert self.database is not None
        # One id for this save across its retries: a call whose COMMIT went through but
        # whose answer was lost is found by its audit event, not logged twice. The form
        # stays open (with everything typed) until the save is confirmed.
        request_id = draft.pop("_request_id", None) or retry.new_request_id()
        outage = draft.pop("_outage", None)
        retried = False

        def create(session: Any) -> tuple[str, str]:
            actor = self.pob.actor_in(session)
            if outage:  # the caller's own incident, linked to the outage
                from pob_tui.services import outages

                incident = outages.log_child(session, actor, outage,
                                             incidents.NewIncident(**draft), now=self.pob.now())
                return incident.number, f"outage:{outage}"
            incident = incidents.create_incident(
                session, actor, incidents.NewIncident(**draft), now=self.pob.now())
            return incident.number, incident.status

        def on_retry(_attempt: int, _delay: float, _error: BaseException) -> None:
            nonlocal retried
            retried = True
            self.pob.connection_lost()

        try:
            outcome = retry.run_with_retry(self.database, create, request_id,
                                           on_retry=on_retry)
        except PobError as exc:
            self.post_message(CallRefused(str(exc)))
            return
        finally:
            if retried:
                self.pob.connection_back()
        if outcome.value is None:  # an earlier attempt had committed
            self.post_message(CallSaved(_("The call was already logged")))
            return
        number, status = outcome.value
        if status.startswith("outage:"):
            text = _("Logged {number}, linked to outage {outage}").format(
                number=number, outage=status.partition(":")[2])
        elif status == "resolved":
            text = _("Logged {number}, resolved at first line").format(number=number)
        else:
            text = _("Logged {number}").format(number=number)
        self.post_message(CallSaved(text))

    @work(thread=True, exclusive=True, exit_on_error=False, group="call-save")
    def add_note(self, number: str, text: str) -> None:
        from pob_tui.services import incidents

        assert self.database is not None
        try:
            with self.database.session() as session:
                actor = self.pob.actor_in(session)
                incidents.comment(session, actor, number, _("Caller called again: {text}")
                                  .format(text=text), work_note=True, now=self.pob.now())
        except PobError as exc:
            self.post_message(CallRefused(str(exc)))
            return
        self.post_message(CallSaved(_("Note added to {number}").format(number=number)))

    def on_call_saved(self, message: CallSaved) -> None:
        self.notify(message.text, markup=False)
        self.dismiss()

    def on_call_refused(self, message: CallRefused) -> None:
        self.notify(message.text, severity="warning", markup=False)

    def action_cancel(self) -> None:
        """escape: closes an open suggestion list first (the picker's own binding); a form
        with data asks whether to keep it as a draft (`n` offers it back) or discard it."""
        if not self.has_data():
            self.dismiss()
            return
        from pob_tui.tui.screens.dialogs import ChoiceDialog

        def answered(key: str | None) -> None:
            if key == "k":
                self.app.call_draft = self.form_state()  # type: ignore[attr-defined]
                self.notify(_("Call kept as a draft: n brings it back"), markup=False)
                self.dismiss()
            elif key == "d":
                self.dismiss()

        self.app.push_screen(ChoiceDialog(_("Leave this call?"), [
            ("k", _("keep it as a draft (n brings it back)")),
            ("d", _("discard it")),
        ]), answered)
