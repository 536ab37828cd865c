"""`pob ci list|show|new|update|relate|unrelate|impact`: the CLI twins of the CMDB area.
One transaction per command: bad input writes nothing."""

from __future__ import annotations

import argparse
from typing import Any

from pob_tui.commands.common import CommandContext, positive_int
from pob_tui.i18n import _

LIST_COLUMNS = ("name", "class", "status", "location", "owner_team", "person", "serial")


def _fields(p: argparse.ArgumentParser, *, new: bool) -> None:
    p.add_argument("--class", dest="ci_class", choices=CI_CLASSES, required=new,
                   metavar="CLASS")
    p.add_argument("--status", choices=CI_STATUSES, metavar="STATUS")
    p.add_argument("--location", help=_("location code or name ('' clears)"))
    p.add_argument("--owner-team", help=_("team code or name ('' clears)"))
    p.add_argument("--person", help=_("username of the person using it ('' clears)"))
    p.add_argument("--serial")
    p.add_argument("--description")


class _ModelChoices:
    """argparse choices read from pob_tui.models.cmdb on first use: importing the models
    loads the ORM, which `pob --help` and argument errors elsewhere never need (issue 17)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _values(self) -> tuple[str, ...]:
        from pob_tui.models import cmdb

        return tuple(getattr(cmdb, self.name))

    def __contains__(self, value: object) -> bool:
        return value in self._values()

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values())


CI_CLASSES = _ModelChoices("CI_CLASSES")
CI_STATUSES = _ModelChoices("CI_STATUSES")
RELATION_KINDS = _ModelChoices("RELATION_KINDS")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:

    parser = sub.add_parser("ci", parents=[common], help=_("configuration items (CMDB)"))
    csub = parser.add_subparsers(dest="ci_command", metavar="ACTION", required=True,
                                 parser_class=type(parser))
    ls = csub.add_parser("list", parents=[common], help=_("list configuration items"))
    ls.add_argument("--class", dest="ci_class", choices=CI_CLASSES, metavar="CLASS")
    ls.add_argument("--status", choices=CI_STATUSES, metavar="STATUS")
    ls.add_argument("--location", help=_("location code or name"))
    ls.add_argument("--search", help=_("words in name, class, serial, location or owner"))
    ls.add_argument("--limit", type=positive_int, default=50)
    ls.add_argument("--offset", type=positive_int, default=0)
    ls.add_argument("--format", choices=("table", "json", "csv"), default="table")

    show = csub.add_parser("show", parents=[common], help=_("one CI with its relations"))
    show.add_argument("name")
    show.add_argument("--format", choices=("text", "json"), default="text")

    new = csub.add_parser("new", parents=[common], help=_("register a CI"))
    new.add_argument("name")
    _fields(new, new=True)
    upd = csub.add_parser("update", parents=[common], help=_("change a CI's fields"))
    upd.add_argument("name")
    upd.add_argument("--rename", metavar="NEW_NAME")
    upd.add_argument("--yes", action="store_true",
                     help=_("retire even when live CIs depend on it"))
    _fields(upd, new=False)
    for cmd, text in (("relate", _("record that SOURCE depends on/runs on/connects to "
                                   "TARGET")),
                      ("unrelate", _("remove a relation"))):
        p = csub.add_parser(cmd, parents=[common], help=text)
        p.add_argument("source")
        p.add_argument("kind", choices=RELATION_KINDS, metavar="KIND")
        p.add_argument("target")
    imp = csub.add_parser("impact", parents=[common],
                          help=_("what trouble on this CI reaches, with the reasons"))
    imp.add_argument("name")
    imp.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pob_tui.commands.output import print_json, print_rows
    from pob_tui.services import cmdb

    out = ctx.stdout
    cmd = args.ci_command
    with ctx.database().session() as session:
        if cmd == "list":
            rows = cmdb.list_cis(session, search=args.search, ci_class=args.ci_class,
                                 status=args.status, location=args.location,
                                 limit=args.limit, offset=args.offset)
            print_rows([r.as_json() for r in rows], LIST_COLUMNS, args.format, out)
            return 0
        if cmd == "show":
            detail = cmdb.ci_detail(session, args.name)
            if args.format == "json":
                print_json(detail.as_json(), out)
            else:
                _print_detail(detail, out)
            return 0
        if cmd == "impact":
            from pob_tui.services.impact import analyse_impact

            ci = cmdb.find_ci(session, args.name)
            assert ci.id is not None
            imp = analyse_impact(session, [ci.id])
            if args.format == "json":
                print_json(imp.as_json(), out)
            else:
                _print_impact(imp, out)
            return 0
        actor = ctx.actor(session)
        if cmd in ("new", "update"):
            fields = cmdb.CiFields(ci_class=args.ci_class, status=args.status,
                                   location=args.location, owner_team=args.owner_team,
                                   person=args.person, serial=args.serial,
                                   description=args.description)
            if cmd == "new":
                row = cmdb.create_ci(session, actor, args.name, fields)
            else:
                row = cmdb.update_ci(session, actor, args.name, fields, rename=args.rename,
                                     confirm_retire=args.yes)
            session.commit()
            out.write(f"{row.name} {row.ci_class} {row.status}\n")
        elif cmd == "relate":
            cmdb.relate(session, actor, args.source, args.kind, args.target)
            session.commit()
            out.write(f"{args.source} {args.kind} {args.target}\n")
        elif cmd == "unrelate":
            cmdb.unrelate(session, actor, args.source, args.kind, args.target)
            session.commit()
    return 0


def _print_detail(d: Any, out: Any) -> None:
    from pob_tui.commands.output import print_fields, visible

    r = d.row
    print_fields([
        (_("Name"), r.name), (_("Class"), r.ci_class), (_("Status"), r.status),
        (_("Location"), d.location_name), (_("Owner team"), d.owner_team_name),
        (_("Person"), r.person), (_("Serial"), r.serial), (_("Description"), d.description),
        (_("Services"), ", ".join(c for c, _n in d.services)),
        (_("Open incidents"), ", ".join(t.number for t in d.open_incidents)),
        (_("Open problems"), ", ".join(t.number for t in d.open_problems)),
        (_("Changes"), ", ".join(t.number for t in d.changes)),
    ], out)
    for n in d.relations:
        arrow = "->" if n.direction == "out" else "<-"
        out.write(f"  {arrow} {n.kind:<12} {visible(n.ci)}\n")


def _print_impact(imp: Any, out: Any) -> None:
    from pob_tui.commands.output import visible
    from pob_tui.services.impact import explain

    out.write(_("{cis} CIs, {services} services, {units} org units, {people} people, "
                "{locations} locations").format(cis=len(imp.cis), services=len(imp.services),
                                                units=len(imp.org_units), people=imp.people,
                                                locations=len(imp.locations)) + "\n")
    for s in imp.services:
        out.write(visible(f"{s.code}  " + explain(s.name, s.path, s.kinds)) + "\n")
    for u in imp.org_units:
        out.write(visible(f"{u.code}  {u.name}: " + _("{n} people").format(n=u.people))
                  + "\n")
    for c in imp.cis:
        out.write(visible(explain(None, c.path, c.kinds)) + "\n")
