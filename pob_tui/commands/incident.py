"""`pob incident new|list|show|update|assign|link|rate`: the CLI twins of the service desk
screens."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pob_tui.commands.common import CommandContext, positive_int, search_text
from pob_tui.i18n import _
from pob_tui.services.incident_views import LIST_VIEWS, SORTS, default_sort

if TYPE_CHECKING:
    from datetime import tzinfo

    from sqlmodel import Session

    from pob_tui.config import Settings
    from pob_tui.services.identity import Actor
    from pob_tui.services.incident_views import IncidentDetail

LIST_COLUMNS = ("number", "priority", "status", "caller", "service", "summary", "team",
                "assignee", "opened_at")
"""The JSON and CSV contract: `service` is the service's code."""
TABLE_COLUMNS = tuple("service_name" if c == "service" else c for c in LIST_COLUMNS)
"""What people read: the service's name."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("incident", parents=[common], help=_("log and work incidents"))
    isub = parser.add_subparsers(dest="incident_command", metavar="ACTION", required=True,
                                 parser_class=type(parser))

    new = isub.add_parser("new", parents=[common], help=_("log a call; prints the number"))
    new.add_argument("--caller", required=True, help=_("username, e-mail or phone"))
    new.add_argument("--service", help=_("service code or name"))
    new.add_argument("--summary", required=True)
    new.add_argument("--description")
    new.add_argument("--impact", type=int, choices=(1, 2, 3))
    new.add_argument("--urgency", type=int, choices=(1, 2, 3))
    new.add_argument("--channel", default="phone",
                     choices=("phone", "email", "walk_in", "self_service", "monitoring"))
    new.add_argument("--ci", help=_("configuration item name"))
    new.add_argument("--resolve", metavar="NOTE", help=_("resolve at first line with this note"))
    new.add_argument("--known-error", metavar="PRB", help=_("solved by this known error"))

    ls = isub.add_parser("list", parents=[common], help=_("list incidents"))
    ls.add_argument("--view", default="open", choices=LIST_VIEWS)
    ls.add_argument("--status")
    ls.add_argument("--team")
    ls.add_argument("--assignee")
    ls.add_argument("--search", type=search_text)
    ls.add_argument("--sort", choices=SORTS,
                    help=_("order (default: newest first; the resolved view: last resolved "
                           "first)"))
    ls.add_argument("--limit", type=positive_int, default=50)
    ls.add_argument("--format", choices=("table", "json", "csv"), default="table")

    show = isub.add_parser("show", parents=[common], help=_("one incident with its events"))
    show.add_argument("number")
    show.add_argument("--format", choices=("text", "json"), default="text")

    up = isub.add_parser("update", parents=[common], help=_("change an incident"))
    up.add_argument("number")
    up.add_argument("--status", choices=("in_progress", "waiting_caller", "waiting_supplier",
                                         "resolved", "closed", "cancelled"))
    up.add_argument("--assign", metavar="AGENT", help=_("agent username, or 'me'"))
    up.add_argument("--team", help=_("assign to this team"))
    up.add_argument("--escalate", metavar="TEAM", help=_("escalate to a second-line team"))
    up.add_argument("--reason", help=_("why (escalation, cancellation, reopening)"))
    up.add_argument("--comment", help=_("comment to the caller, or the resolution note"))
    up.add_argument("--work-note", metavar="TEXT", help=_("internal note"))
    up.add_argument("--minutes", type=positive_int, help=_("time spent, with a work note"))
    up.add_argument("--code", default="solved", help=_("resolution code"))
    up.add_argument("--impact", type=int, choices=(1, 2, 3))
    up.add_argument("--urgency", type=int, choices=(1, 2, 3))

    assign = isub.add_parser("assign", parents=[common],
                             help=_("assign incidents at once: all of them or none"))
    assign.add_argument("numbers", nargs="+", metavar="INC")
    assign.add_argument("--team", help=_("assign to this team"))
    assign.add_argument("--to", metavar="AGENT", help=_("agent username, or 'me'"))

    link = isub.add_parser("link", parents=[common],
                           help=_("link incidents to a problem, or to a new one"))
    link.add_argument("numbers", nargs="+", metavar="INC")
    target = link.add_mutually_exclusive_group(required=True)
    target.add_argument("--problem", metavar="PRB", help=_("an existing problem"))
    target.add_argument("--new-problem", metavar="TITLE",
                        help=_("open a problem with this title from the first incident"))

    rate = isub.add_parser("rate", parents=[common], help=_("record the caller's score 1-6"))
    rate.add_argument("number")
    rate.add_argument("score", type=int, choices=range(1, 7), metavar="SCORE")
    rate.add_argument("--comment")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.commands.output import print_fields, print_json, print_rows, visible
    from pob_tui.errors import InvalidInput
    from pob_tui.services import incidents as svc

    database = ctx.database()
    cmd = args.incident_command
    with database.session() as session:
        actor = ctx.actor(session)
        if cmd == "new":
            inc = svc.create_incident(session, actor, svc.NewIncident(
                caller=args.caller, service=args.service, summary=args.summary,
                description=args.description, impact=args.impact, urgency=args.urgency,
                channel=args.channel, ci=args.ci, resolve_note=args.resolve,
                known_error=args.known_error,
            ))
            print(inc.number)
        elif cmd == "list":
            rows = svc.list_incidents(session, actor=actor, view=args.view, status=args.status,
                                      team=args.team, assignee=args.assignee,
                                      search=args.search,
                                      sort=args.sort or default_sort(args.view),
                                      limit=args.limit)
            print_rows(rows, LIST_COLUMNS, args.format, tz=ctx.settings.tzinfo,
                       table_columns=TABLE_COLUMNS)
        elif cmd == "show":
            data = svc.incident_detail(session, args.number)
            if args.format == "json":
                print_json(_public(data))
            else:
                _print_detail(data, print_fields, visible, ctx.settings.tzinfo)
                _print_clocks(session, args.number, ctx.settings)
        elif cmd == "update":
            _update(session, actor, args, svc)
            inc = svc.get_incident(session, args.number)
            print(f"{inc.number} {inc.status} v{inc.version}")
        elif cmd == "assign":
            if not (args.team or args.to):
                raise InvalidInput(_("assign to a team (--team), an agent (--to) or yourself "
                                     "(--to me)"))
            n = svc.assign_many(session, actor, args.numbers, team=args.team,
                                assignee=None if args.to in (None, "me") else args.to,
                                to_me=args.to == "me")
            print(_("Assigned {n} incident(s)").format(n=n))
        elif cmd == "link":
            from pob_tui.services import problems

            linked = problems.link_or_create(session, actor, args.numbers,
                                             problem=args.problem, title=args.new_problem)
            print(_("Linked {n} incident(s) to {problem}").format(n=linked.changed,
                                                                  problem=linked.problem))
        elif cmd == "rate":
            follow_up = svc.record_satisfaction(session, actor, args.number, args.score,
                                                args.comment)
            print(_("Score recorded.") + (" " + _("A follow-up was created for the customer "
                                                  "manager.") if follow_up else ""))
    if cmd in ("new", "update", "assign"):  # committed: mail the caller what they may see
        # (issue 15)
        from pob_tui.channels.mail.out import deliver_if_configured

        deliver_if_configured(ctx.settings, database)
    return 0


def _update(session: Session, actor: Actor, args: argparse.Namespace, svc: ModuleType) -> None:
    """Apply every requested change in one transaction: all of them or none."""
    from pob_tui.errors import InvalidInput

    did = False
    if args.impact or args.urgency:
        changes = {k: v for k, v in (("impact", args.impact), ("urgency", args.urgency)) if v}
        svc.update_fields(session, actor, args.number, changes)
        did = True
    if args.escalate:
        svc.escalate(session, actor, args.number, team=args.escalate, reason=args.reason or "")
        did = True
    if args.team or args.assign:
        svc.assign(session, actor, args.number, team=args.team,
                   assignee=None if args.assign in (None, "me") else args.assign,
                   to_me=args.assign == "me")
        did = True
    if args.work_note or args.minutes is not None:
        svc.comment(session, actor, args.number, args.work_note or args.comment or "",
                    work_note=True, minutes=args.minutes)
        did = True
    if args.status == "resolved":
        svc.resolve(session, actor, args.number, code=args.code, note=args.comment or "")
        did = True
    elif args.status:
        svc.set_status(session, actor, args.number, args.status,
                       note=args.reason or args.comment)
        did = True
    elif args.comment and not (args.work_note or args.minutes is not None):
        svc.comment(session, actor, args.number, args.comment)
        did = True
    if not did:
        raise InvalidInput(_("nothing to update; give --status, --assign, --team, --escalate, "
                             "--comment, --work-note, --impact or --urgency"))


def _public(data: Mapping[str, Any]) -> dict[str, Any]:
    hidden = {"id", "caller_id", "service_id", "ci_id", "location_id", "team_id",
              "assignee_id", "opened_by_id", "problem_id", "caused_by_change_id"}
    return {k: v for k, v in data.items() if k not in hidden}


def _print_clocks(session: Session, number: str, settings: Settings) -> None:
    """The SLA clocks as the TUI shows them: due time in the calendar's zone and the time
    left in working time (`sla.display`, one formatter everywhere)."""
    from zoneinfo import ZoneInfo

    from pob_tui.services import incidents, sla
    from pob_tui.sla.display import STATE_LABELS, format_due, format_left

    inc = incidents.get_incident(session, number)
    states = sla.clock_states(session, inc)
    if not states:
        return
    print()
    for c in states:
        tz = sla.calendar_by_id(session, c.calendar_id).tz if c.calendar_id else \
            ZoneInfo(settings.timezone)
        left = "" if c.stopped_at or c.state == "paused" else \
            " " + format_left(c.left, c.working_day)
        name = c.kind + (f" ({c.team})" if c.team else "")
        print(_("SLA {clock}: due {due}, {state}{left}").format(
            clock=name, due=format_due(c.due_at, tz), state=STATE_LABELS.get(c.state, c.state),
            left=left))


def _print_detail(data: IncidentDetail, print_fields: Callable[..., None],
                  visible: Callable[[Any], str], tz: tzinfo) -> None:
    """For people: labels and statuses in the current language, times in the calendar's
    zone with the offset (`--format json` keeps the stored values)."""
    from pob_tui.reports.labels import value_label
    from pob_tui.sla.display import format_moment

    print_fields([
        (_("Number"), data["number"]),
        (_("Status"), value_label("status", data["status"])),
        (_("Priority"), _("P{priority} (impact {impact}, urgency {urgency})").format(
            priority=data["priority"], impact=data["impact"], urgency=data["urgency"])),
        (_("Caller"), f"{data['caller_name']} ({data['caller']})"
                      + (" VIP" if data["caller_vip"] else "")),
        (_("Org unit"), data["org_unit"]),
        (_("Service"), data["service_name"]),
        (_("CI"), data["ci"]),
        (_("Team"), data["team"]),
        (_("Assignee"), data["assignee"]),
        (_("Escalation"), data["escalation_level"]),
        (_("Opened"), data["opened_at"]),
        (_("Resolved"), data["resolved_at"]),
        (_("Problem"), data["problem"]),
        (_("Summary"), data["summary"]),
        (_("Description"), data["description"]),
        (_("Resolution"), f"{data['resolution_code']}: {data['resolution_note']}"
                          if data["resolution_code"] else None),
        (_("Satisfaction"), data["satisfaction"]),
    ], tz=tz)
    print()
    for ev in data["events"]:
        what = ev["comment"] or (f"{ev['field']}: {ev['old']} -> {ev['new']}" if ev["field"]
                                 else "")
        minutes = f" ({ev['minutes']} min)" if ev["minutes"] else ""
        print(f"{format_moment(ev['at'], tz)}  {visible(ev['actor'] or '-'):<12} "
              f"{ev['kind']:<10} {visible(what)}{minutes}")
