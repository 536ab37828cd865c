"""`pob unit|person|agreement ...`: org units, people and agreements (the screens' twins).

list/show print `--format table|json|csv` (the JSON keys are a contract); update and target
change one thing in one transaction, audited, for the roles the services allow.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from pob_tui.commands.common import positive_int
from pob_tui.i18n import _

if TYPE_CHECKING:
    from pob_tui.commands.common import CommandContext

FORMATS = ("table", "json", "csv")
UNIT_COLUMNS = ("code", "name", "kind", "parent", "cost_centre", "customer_manager", "people",
                "active")
PERSON_COLUMNS = ("username", "name", "org_unit", "location", "phone", "email", "vip",
                  "active")
AGREEMENT_COLUMNS = ("name", "customer", "services", "calendar")


def _yes_no(text: str) -> bool:
    value = text.strip().lower()
    if value in ("yes", "y", "true", "1", "ja", "j"):
        return True
    if value in ("no", "n", "false", "0", "nei"):
        return False
    raise argparse.ArgumentTypeError(_("expected yes or no, got {text}").format(text=repr(text)))


def _fmt(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="table")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    unit = sub.add_parser("unit", parents=[common], help=_("org units: the customers of IT"))
    usub = unit.add_subparsers(dest="unit_command", metavar="ACTION", required=True,
                               parser_class=type(unit))
    _fmt(usub.add_parser("list", parents=[common], help=_("the unit tree with its figures")))
    show = usub.add_parser("show", parents=[common], help=_("one unit with its lists"))
    show.add_argument("code")
    _fmt(show)
    upd = usub.add_parser("update", parents=[common], help=_("change a unit (administrators)"))
    upd.add_argument("code")
    upd.add_argument("--name")
    upd.add_argument("--parent", help=_("code of the unit above; empty for none"))
    upd.add_argument("--cost-centre")
    upd.add_argument("--customer-manager", help=_("username; empty for none"))
    upd.add_argument("--active", type=_yes_no, metavar="yes|no")
    _fmt(upd)
    unit.set_defaults(handler=run_unit)

    person = sub.add_parser("person", parents=[common], help=_("people: callers and users"))
    psub = person.add_subparsers(dest="person_command", metavar="ACTION", required=True,
                                 parser_class=type(person))
    ls = psub.add_parser("list", parents=[common], help=_("people, by name"))
    ls.add_argument("--search", help=_("words in name, username, phone, e-mail or unit"))
    ls.add_argument("--unit", help=_("unit code (the units below it too)"))
    ls.add_argument("--limit", type=positive_int, default=200)
    _fmt(ls)
    pshow = psub.add_parser("show", parents=[common], help=_("a person's card"))
    pshow.add_argument("username")
    _fmt(pshow)
    pupd = psub.add_parser("update", parents=[common],
                           help=_("change a person (administrators; customer managers: "
                                  "contact fields of their units' people)"))
    pupd.add_argument("username")
    pupd.add_argument("--phone")
    pupd.add_argument("--email")
    pupd.add_argument("--location", help=_("location code; empty for none"))
    pupd.add_argument("--vip", type=_yes_no, metavar="yes|no")
    pupd.add_argument("--language")
    pupd.add_argument("--active", type=_yes_no, metavar="yes|no")
    _fmt(pupd)
    person.set_defaults(handler=run_person)

    agr = sub.add_parser("agreement", parents=[common], help=_("SLA agreements and targets"))
    asub = agr.add_subparsers(dest="agreement_command", metavar="ACTION", required=True,
                              parser_class=type(agr))
    _fmt(asub.add_parser("list", parents=[common], help=_("all agreements")))
    ashow = asub.add_parser("show", parents=[common], help=_("one agreement with its targets"))
    ashow.add_argument("name")
    _fmt(ashow)
    tgt = asub.add_parser("target", parents=[common],
                          help=_("change a target (administrators), with this month's "
                                 "compliance before and after"))
    tgt.add_argument("name")
    tgt.add_argument("--priority", type=int, required=True, choices=(1, 2, 3, 4, 5))
    tgt.add_argument("--response", type=positive_int, metavar="MIN")
    tgt.add_argument("--resolution", type=positive_int, metavar="MIN")
    tgt.add_argument("--dry-run", action="store_true", help=_("only show the preview"))
    _fmt(tgt)
    agr.set_defaults(handler=run_agreement)


# --------------------------------------------------------------------------- output

def _show(ctx: CommandContext, fmt: str, data: dict[str, Any],
          lists: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
    """One object: JSON as is; a table/CSV as its fields, then each list as a table."""
    from pob_tui.commands.output import print_csv, print_fields, print_json, print_table

    out = ctx.stdout
    if fmt == "json":
        print_json(data, out)
        return
    names = {key for key, _cols in lists}
    scalars = [(k, v) for k, v in data.items() if k not in names]
    if fmt == "csv":
        print_csv([dict(scalars)], [k for k, _v in scalars], out)
        return
    print_fields([(k, " ".join(v) if isinstance(v, list) else v) for k, v in scalars], out)
    for key, cols in lists:
        rows = data[key]
        out.write(f"\n{key.replace('_', ' ')} ({len(rows)})\n")
        if rows:
            print_table(rows, cols, out=out)


def _rows(ctx: CommandContext, fmt: str, rows: list[dict[str, Any]],
          columns: tuple[str, ...]) -> None:
    from pob_tui.commands.output import print_rows

    if fmt != "json":  # lists in cells: space-separated
        rows = [{k: " ".join(v) if isinstance(v, list) else v for k, v in r.items()}
                for r in rows]
    print_rows(rows, columns, fmt, ctx.stdout)


def _given(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def _changes(ctx: CommandContext, changes: list[tuple[str, Any, Any]], what: str) -> None:
    if not changes:
        ctx.stdout.write(_("{what}: nothing to change.").format(what=what) + "\n")
    for field, old, new in changes:
        ctx.stdout.write(f"{what}: {field}: {old if old is not None else '-'} -> "
                         f"{new if new is not None else '-'}\n")


# --------------------------------------------------------------------------- handlers

def run_unit(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.models import utcnow
    from pob_tui.services import units as org_units

    now = utcnow()
    with ctx.database().session() as session:
        if args.unit_command == "list":
            rows = org_units.list_units(session, now=now)
            _rows(ctx, args.format, [r.as_dict() for r in rows], UNIT_COLUMNS)
        elif args.unit_command == "show":
            detail = org_units.unit_detail(session, args.code, now=now)
            _show(ctx, args.format, detail.as_dict(), (
                ("children", ("code", "name", "active")),
                ("agreements", ("name", "calendar", "services")),
                ("subscriptions", ("service", "name", "valid_from", "valid_to")),
                ("open_incidents", ("number", "priority", "status", "caller", "summary"))))
        else:
            edits = _given(args, ("name", "parent", "cost_centre", "customer_manager",
                                  "active"))
            for key in ("parent", "customer_manager", "cost_centre"):
                if key in edits and edits[key] == "":
                    edits[key] = None
            change = org_units.update_unit(session, ctx.actor(session), args.code, now=now,
                                           **edits)
            if args.format == "json":
                from pob_tui.commands.output import print_json

                print_json({**change.unit.as_dict(), "changes": [
                    {"field": f, "old": o, "new": n} for f, o, n in change.changes]},
                    ctx.stdout)
            else:
                _changes(ctx, change.changes, change.unit.code)
    return 0


def run_person(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.models import utcnow
    from pob_tui.services import people

    now = utcnow()
    with ctx.database().session() as session:
        if args.person_command == "list":
            page = people.list_people(session, search=args.search, unit=args.unit,
                                      limit=args.limit)
            _rows(ctx, args.format, [r.as_dict() for r in page.rows], PERSON_COLUMNS)
        elif args.person_command == "show":
            card = people.person_card(session, ctx.settings, args.username, now=now)
            _show(ctx, args.format, card.as_dict(), (
                ("devices", ("name", "class", "status")),
                ("subscriptions", ("service", "name", "via", "valid_from", "valid_to")),
                ("open_incidents", ("number", "priority", "status", "summary"))))
        else:
            edits = _given(args, ("phone", "email", "location", "vip", "language", "active"))
            change = people.update_person(session, ctx.actor(session), ctx.settings,
                                          args.username, **edits)
            if args.format == "json":
                from pob_tui.commands.output import print_json

                print_json({**change.person.as_dict(), "changes": [
                    {"field": f, "old": o, "new": n} for f, o, n in change.changes]},
                    ctx.stdout)
            else:
                _changes(ctx, change.changes, change.person.username)
    return 0


def run_agreement(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.models import utcnow
    from pob_tui.services import agreements

    now = utcnow()
    with ctx.database().session() as session:
        if args.agreement_command == "list":
            rows = agreements.list_agreements(session)
            _rows(ctx, args.format, [r.as_dict() for r in rows], AGREEMENT_COLUMNS)
        elif args.agreement_command == "show":
            detail = agreements.agreement_detail(session, args.name)
            _show(ctx, args.format, detail.as_dict(), (
                ("targets", ("priority", "response_minutes", "resolution_minutes")),
                ("ola", ("team", "priority", "resolution_minutes"))))
        else:
            if args.dry_run:
                preview = agreements.preview_target(
                    session, ctx.settings, args.name, args.priority, response=args.response,
                    resolution=args.resolution, now=now)
                changes: list[tuple[str, Any, Any]] = []
            else:
                change = agreements.set_target(
                    session, ctx.actor(session), ctx.settings, args.name, args.priority,
                    response=args.response, resolution=args.resolution, now=now)
                preview, changes = change.preview, change.changes
            _print_preview(ctx, args.format, preview, changes, args.dry_run)
    return 0


def _print_preview(ctx: CommandContext, fmt: str, preview: Any,
                   changes: list[tuple[str, Any, Any]], dry_run: bool) -> None:
    from pob_tui.commands.output import print_json, print_rows

    data = preview.as_dict()
    if fmt == "json":
        print_json({**data, "dry_run": dry_run, "changes": [
            {"field": f, "old": o, "new": n} for f, o, n in changes]}, ctx.stdout)
        return
    rows = []
    for kind in ("response", "resolution"):
        b, a = preview.before[kind], preview.after[kind]
        rows.append({"target": kind, "met_before": b.met, "missed_before": b.missed,
                     "share_before": _pct(b.share), "met_after": a.met,
                     "missed_after": a.missed, "share_after": _pct(a.share)})
    if fmt == "table":
        if not dry_run:
            _changes(ctx, changes, f"{preview.agreement} P{preview.priority}")
        ctx.stdout.write(_("This month ({month}) at priority {p}:").format(
            month=preview.month, p=preview.priority) + "\n")
    print_rows(rows, ("target", "met_before", "missed_before", "share_before", "met_after",
                      "missed_after", "share_after"), fmt, ctx.stdout)


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.1f} %"
