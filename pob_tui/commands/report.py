"""`pob report ...`: read-only reports as tables, CSV, JSON or Markdown.

`sla` (compliance), and the catalog's economics: `costs`, `chargeback`, `subsidy`, `retire`
and `kpi`. Cost reports need the costs.read permission (service owner, customer manager,
administrator). In JSON, amounts are decimal strings, never floats.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pob_tui.commands.common import CommandContext
from pob_tui.i18n import _

if TYPE_CHECKING:
    from pob_tui.reports.costs import Period

FORMATS = ("table", "csv", "json", "md")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("expected a date YYYY-MM-DD, got {text}").format(text=repr(text))) from None


def _year(text: str) -> int:
    if not text.isdigit() or not 1900 < int(text) < 3000:
        raise argparse.ArgumentTypeError(
            _("expected a year like 2026, got {text}").format(text=repr(text)))
    return int(text)


def _period_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--year", type=_year, help=_("calendar year (default: this year)"))
    p.add_argument("--from", dest="start", type=_day, help=_("first day YYYY-MM-DD"))
    p.add_argument("--to", dest="end", type=_day, help=_("last day YYYY-MM-DD"))
    p.add_argument("--format", choices=FORMATS, default="table")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("report", parents=[common], help=_("reports"))
    rsub = parser.add_subparsers(dest="report", metavar="REPORT", required=True,
                                 parser_class=type(parser))
    sla = rsub.add_parser("sla", parents=[common], help=_("SLA compliance: share met"))
    sla.add_argument("--from", dest="start", type=_day, help=_("first day (default: 30 days ago)"))
    sla.add_argument("--to", dest="end", type=_day, help=_("last day (default: today)"))
    sla.add_argument("--by", choices=("service", "customer", "priority", "team"),
                     default="service")
    sla.add_argument("--format", choices=FORMATS, default="table")
    costs = rsub.add_parser("costs", parents=[common],
                            help=_("what services cost, allocated to people and org units"))
    _period_args(costs)
    costs.add_argument("--by", choices=("service", "org-unit", "person"), default="service")
    costs.add_argument("--person", metavar="USERNAME",
                       help=_("one person's services and shares"))
    charge = rsub.add_parser("chargeback", parents=[common],
                             help=_("statement per customer: services, people, amounts"))
    _period_args(charge)
    charge.add_argument("--customer", metavar="ORG_UNIT",
                        help=_("one org unit (code) with everything below it"))
    charge.add_argument("--by", choices=("service", "person"), default="service")
    subsidy = rsub.add_parser("subsidy", parents=[common],
                              help=_("funding against use: who pays more or less than it uses"))
    _period_args(subsidy)
    subsidy.add_argument("--by", choices=("org-unit", "service"), default="org-unit")
    retire = rsub.add_parser("retire", parents=[common],
                             help=_("kill when you can: services ranked by cost per active user"))
    _period_args(retire)
    retire.add_argument("--all", action="store_true", help=_("include retired and planned"))
    kpi = rsub.add_parser("kpi", parents=[common], help=_("key figures for the service desk"))
    _period_args(kpi)
    parser.set_defaults(handler=run)


def cost_period(args: argparse.Namespace, today: date | None = None) -> Period:
    """--year, or --from/--to (either may be left out: start of that year / today)."""
    from pob_tui.errors import InvalidInput
    from pob_tui.reports.costs import Period

    today = today or date.today()
    if args.year and (args.start or args.end):
        raise InvalidInput(_("give either --year or --from/--to, not both"))
    if args.start or args.end:
        end = args.end or today
        return Period(args.start or date(end.year, 1, 1), end)
    return Period.year(args.year or today.year)


def _print(rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: str,
           tz: Any = None) -> None:
    """CSV and JSON keep the English keys and values; table and Markdown are for people
    (headings, metrics and flags in the current language)."""
    from pob_tui.commands.output import print_markdown, print_rows

    if fmt == "md":
        print_markdown(rows, columns, tz=tz)
    else:
        print_rows(rows, columns, fmt, tz=tz)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    settings = ctx.settings
    from pob_tui.models import utcnow
    from pob_tui.services.reporting import build_report

    database = ctx.database()
    if args.report == "sla":
        from pob_tui.reports.costs import Period

        end_day = args.end or date.today()
        period = Period(args.start or end_day - timedelta(days=30), end_day)
    else:
        period = cost_period(args)
    with database.session() as session:
        if args.report == "kpi" and args.format == "json":
            from pob_tui.commands.output import print_json
            from pob_tui.reports.kpi import kpis

            print_json(kpis(session, period, now=utcnow(), tz=settings.tzinfo).as_json())
            return 0
        rows, columns = build_report(
            session, ctx.actor(session), settings, args.report, period=period,
            by=getattr(args, "by", "service"), customer=getattr(args, "customer", None),
            person=getattr(args, "person", None), include_all=getattr(args, "all", False))
    _print(rows, columns, args.format, settings.tzinfo)
    return 0
