"""`pob change new|edit|submit|schedule|start|outcome|review|close|link|check|show|list`: the
CLI twins of the Changes area. One transaction per command: bad input writes nothing."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pob_tui.commands.common import CommandContext, positive_int, search_text
from pob_tui.config import Settings
from pob_tui.i18n import _

if TYPE_CHECKING:  # the ORM is imported inside the handler, so `pob --help` stays light
    from pob_tui.services.changes.queries import ChangeDetail

LIST_COLUMNS = ("number", "type", "status", "risk", "planned_start", "planned_end", "title",
                "team", "implementer")
"""`pob change list`'s columns (the keys of `queries.ChangeRow`, a contract)."""


EDITABLE = ("title", "description", "reason", "implementation_plan", "test_plan",
            "backout_plan", "emergency_reason")
"""The fields `pob change edit` sets (as `lifecycle.update_change` allows)."""


def _answer(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(_("expected QUESTION=ANSWER, got {text}").format(
            text=repr(text)))
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("change", parents=[common], help=_("request and run changes"))
    csub = parser.add_subparsers(dest="change_command", metavar="ACTION", required=True,
                                 parser_class=type(parser))
    fmt = argparse.ArgumentParser(add_help=False)
    fmt.add_argument("--format", choices=("text", "json"), default="text")

    new = csub.add_parser("new", parents=[common, fmt],
                          help=_("a draft change request; prints the number"))
    new.add_argument("--title", required=True)
    new.add_argument("--type", default="normal", choices=("standard", "normal", "emergency"))
    new.add_argument("--template", help=_("standard-change template name"))
    new.add_argument("--ci", action="append", default=[], help=_("affected CI (repeatable)"))
    new.add_argument("--start", help=_('planned start, local time "2026-12-01 18:00"'))
    new.add_argument("--end", help=_("planned end, local time"))
    new.add_argument("--description")
    new.add_argument("--reason")
    new.add_argument("--requester", help=_("person username (default: you)"))
    new.add_argument("--team", help=_("owner team code or name"))
    new.add_argument("--implementer", help=_("agent username (default: you)"))
    new.add_argument("--implementation-plan")
    new.add_argument("--test-plan")
    new.add_argument("--backout-plan")
    new.add_argument("--emergency-reason")
    new.add_argument("--answer", action="append", type=_answer, default=[],
                     metavar="Q=A", help=_("risk answer: user_impact=none|some|many, "
                                           "complexity=low|medium|high, backout=yes|no, "
                                           "tested=yes|no, done_before=yes|no"))
    new.add_argument("--submit", action="store_true", help=_("submit at once"))

    edit = csub.add_parser("edit", parents=[common, fmt],
                           help=_("edit a draft (a rejected change goes back to draft)"))
    edit.add_argument("number")
    edit.add_argument("--start", help=_('planned start, local time "2026-12-01 18:00"'))
    edit.add_argument("--end", help=_("planned end, local time"))
    edit.add_argument("--ci", action="append", default=None,
                      help=_("affected CI (repeatable; replaces the list)"))
    for name in EDITABLE:
        edit.add_argument("--" + name.replace("_", "-"))
    edit.add_argument("--answer", action="append", type=_answer, default=None, metavar="Q=A",
                      help=_("risk answer, as for new"))

    submit = csub.add_parser("submit", parents=[common, fmt],
                             help=_("submit for assessment and the CAB"))
    submit.add_argument("number")

    sched = csub.add_parser("schedule", parents=[common, fmt],
                            help=_("put an approved change in the calendar"))
    sched.add_argument("number")
    sched.add_argument("--start")
    sched.add_argument("--end")

    start = csub.add_parser("start", parents=[common, fmt], help=_("implementation begins"))
    start.add_argument("number")

    out = csub.add_parser("outcome", parents=[common, fmt], help=_("record the outcome"))
    out.add_argument("number")
    out.add_argument("outcome", choices=("successful", "failed", "backed_out"))
    out.add_argument("--note")

    rev = csub.add_parser("review", parents=[common, fmt],
                          help=_("post-implementation review"))
    rev.add_argument("number")
    rev.add_argument("--note", required=True)

    close = csub.add_parser("close", parents=[common, fmt], help=_("close a change"))
    close.add_argument("number")

    link = csub.add_parser("link", parents=[common, fmt],
                           help=_("record that an incident was caused by a change"))
    link.add_argument("number")
    link.add_argument("incident")

    check = csub.add_parser("check", parents=[common, fmt],
                            help=_("what a planned window would clash with, before saving"))
    check.add_argument("--start", required=True,
                       help=_('planned start, local time "2026-12-01 18:00"'))
    check.add_argument("--end", required=True, help=_("planned end, local time"))
    check.add_argument("--ci", action="append", default=[], help=_("affected CI (repeatable)"))

    show = csub.add_parser("show", parents=[common, fmt],
                           help=_("one change with risk, impact, conflicts and events"))
    show.add_argument("number")

    ls = csub.add_parser("list", parents=[common], help=_("list changes"))
    ls.add_argument("--status", help=_("a status, several with commas, or 'open'"))
    ls.add_argument("--type", choices=("standard", "normal", "emergency"))
    ls.add_argument("--search", type=search_text)
    ls.add_argument("--week", metavar="DATE", help=_("the calendar week holding DATE"))
    ls.add_argument("--limit", type=positive_int, default=50)
    ls.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    settings = ctx.settings
    from pob_tui.commands.output import print_json, print_rows
    from pob_tui.errors import InvalidInput
    from pob_tui.services.changes import lifecycle, queries
    from pob_tui.services.changes.records import get_change

    database = ctx.database()
    cmd = args.change_command
    with database.session() as session:
        actor = ctx.actor(session)
        number: str = getattr(args, "number", None) or ""
        if cmd == "new":
            ch = lifecycle.create_change(session, actor, lifecycle.NewChange(
                title=args.title, type=args.type, cis=args.ci, planned_start=args.start,
                planned_end=args.end, description=args.description, reason=args.reason,
                requester=args.requester, owner_team=args.team, implementer=args.implementer,
                template=args.template, implementation_plan=args.implementation_plan,
                test_plan=args.test_plan, backout_plan=args.backout_plan,
                emergency_reason=args.emergency_reason, answers=dict(args.answer),
            ), settings=settings)
            number = ch.number
            if args.submit:
                lifecycle.submit_change(session, actor, number, settings=settings)
        elif cmd == "edit":
            lifecycle.update_change(
                session, actor, number, planned_start=args.start, planned_end=args.end,
                cis=args.ci, answers=dict(args.answer) if args.answer is not None else None,
                fields={name: getattr(args, name) for name in EDITABLE
                        if getattr(args, name) is not None}, settings=settings)
        elif cmd == "submit":
            lifecycle.submit_change(session, actor, number, settings=settings)
        elif cmd == "schedule":
            lifecycle.schedule_change(session, actor, number, planned_start=args.start,
                                      planned_end=args.end, settings=settings)
        elif cmd == "start":
            lifecycle.start_change(session, actor, number)
        elif cmd == "outcome":
            lifecycle.record_outcome(session, actor, number, args.outcome, note=args.note)
        elif cmd == "review":
            lifecycle.review_change(session, actor, number, args.note)
        elif cmd == "close":
            lifecycle.close_change(session, actor, number)
        elif cmd == "link":
            lifecycle.link_incident(session, actor, number, args.incident)
        elif cmd == "list":
            rows: Sequence[Mapping[str, object]]
            if args.week:
                from datetime import date

                try:
                    week = date.fromisoformat(args.week)
                except ValueError:
                    raise InvalidInput(_("--week {text} is not a date like 2026-12-01").format(
                        text=repr(args.week))) from None
                rows = [{**r, "conflicts": "; ".join(c["detail"] for c in r["conflicts"])}
                        for r in queries.change_calendar(session, week, settings=settings)]
                cols: tuple[str, ...] = (*LIST_COLUMNS, "conflicts")
            else:
                rows = queries.list_changes(session, status=args.status, type=args.type,
                                            search=args.search, limit=args.limit)
                cols = LIST_COLUMNS
            print_rows(rows, cols, args.format, tz=ctx.settings.tzinfo)
            return 0
        if cmd == "check":
            from pob_tui.services.changes.conflicts import window_conflicts

            found = window_conflicts(session, actor, args.start, args.end, args.ci,
                                     settings=settings)
            if found["problem"] is not None:
                raise InvalidInput(found["problem"])
            if args.format == "json":
                print_json(found)
            else:
                for name in found["freeze"]:
                    print(_("Freeze: {names}").format(names=name))
                for c in found["conflicts"]:
                    print(_("Conflict: {detail}").format(detail=c["detail"]))
            return 0
        if cmd == "show":
            data = queries.change_detail(session, number, settings=settings)
            if args.format == "json":
                print_json(data)
            else:
                _print_detail(data, settings)
            return 0
        ch = get_change(session, number)
        if args.format == "json":
            print_json({"number": ch.number, "type": ch.type, "status": ch.status,
                        "risk": ch.risk, "version": ch.version})
        elif cmd == "new" and not args.submit:
            print(ch.number)
        else:
            print(f"{ch.number} {ch.status}" + (f" risk {ch.risk}" if ch.risk else ""))
    return 0


def _print_detail(data: ChangeDetail, settings: Settings) -> None:
    from pob_tui.commands.output import print_fields, visible
    from pob_tui.reports.cab import WORD_LABELS
    from pob_tui.sla.display import format_moment

    tz = settings.tzinfo

    def when(at: datetime | None) -> str | None:
        """As the TUI shows a moment: the calendar's zone, with the offset."""
        return format_moment(at, tz) if at else None

    def word(value: str | None) -> str:
        return WORD_LABELS.get(value, value) if value else "-"

    imp = data.get("impact")
    print_fields([
        (_("Number"), data["number"]),
        (_("Type"), word(data["type"]) + (f" ({data['template']})" if data["template"]
                                          else "")),
        (_("Status"), word(data["status"])),
        (_("Title"), data["title"]),
        (_("Risk"), f"{word(data['risk'])}: " + "; ".join(data["risk_reasons"])),
        (_("Window"), f"{when(data['planned_start'])} - {when(data['planned_end'])}"),
        (_("Team"), data["team"]),
        (_("Implementer"), data["implementer"]),
        (_("CIs"), ", ".join(data["cis"])),
        (_("Impact"), _("{cis} CIs, {services} services, {people} people, {locations} "
                        "locations").format(cis=imp["cis"] if imp else 0,
                                            services=imp["services"] if imp else 0,
                                            people=imp["people"] if imp else 0,
                                            locations=imp["locations"] if imp else 0)),
        (_("Services"), ", ".join(imp["service_names"] if imp else [])),
        (_("Conflicts"), "; ".join(c["detail"] for c in data.get("conflicts", []))),
        (_("Freeze"), ", ".join(data.get("freeze", []))),
        (_("Outcome"), data["outcome"]),
        (_("Review"), data["review_note"]),
        (_("Incidents"), ", ".join(data["incidents"])),
    ])
    print()
    for ev in data["events"]:
        what = ev["comment"] or (f"{ev['field']}: {ev['old']} -> {ev['new']}" if ev["field"]
                                 else "")
        print(f"{when(ev['at'])}  {visible(ev['actor'] or '-'):<12} {ev['kind']:<8} "
              f"{visible(what)}")
