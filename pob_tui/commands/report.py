"""`pob report ...`: read-only reports as tables, CSV, JSON or Markdown."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, time, timedelta

from pob_tui.commands.common import open_database
from pob_tui.config import Settings
from pob_tui.i18n import _


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("report", parents=[common], help=_("reports"))
    rsub = parser.add_subparsers(dest="report", metavar="REPORT", required=True,
                                 parser_class=type(parser))
    sla = rsub.add_parser("sla", parents=[common], help=_("SLA compliance: share met"))
    sla.add_argument("--from", dest="start", type=_day, help=_("first day (default: 30 days ago)"))
    sla.add_argument("--to", dest="end", type=_day, help=_("last day (default: today)"))
    sla.add_argument("--by", choices=("service", "customer", "priority", "team"),
                     default="service")
    sla.add_argument("--format", choices=("table", "csv", "json", "md"), default="table")
    parser.set_defaults(handler=run)


def _period(args: argparse.Namespace, settings: Settings) -> tuple[datetime, datetime]:
    tz = settings.tzinfo
    end_day = args.end or date.today()
    start_day = args.start or end_day - timedelta(days=30)
    start = datetime.combine(start_day, time(), tz).astimezone(UTC)
    end = datetime.combine(end_day + timedelta(days=1), time(), tz).astimezone(UTC)
    return start, end


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pob_tui.commands.output import print_markdown, print_rows
    from pob_tui.models import utcnow
    from pob_tui.reports.sla import sla_compliance
    from pob_tui.services import sla as sla_service

    sla_service.configure(settings)
    database = open_database(settings)
    if args.report == "sla":
        start, end = _period(args, settings)
        with database.session() as session:
            rows = sla_compliance(session, start=start, end=end, by=args.by, now=utcnow())
        columns = (args.by, "target", "met", "missed", "total", "share_met")
        if args.format == "md":
            print_markdown(rows, columns)
        else:
            print_rows(rows, columns, args.format)
    return 0
