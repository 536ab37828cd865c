"""Reading the audit trail: ticket events and administrative actions in one list.

Both tables are append-only; this module only reads. One UNION ALL query, newest first,
filtered in SQL by person (agent username), ticket number and date range, and paged with
limit/offset (`ix_ticket_event_at`, `ix_ticket_event_actor_id_at`,
`ix_ticket_event_ticket_type_ticket_id_at` and `ix_admin_event_at` carry the filters).
Reading the trail is itself a permission (`audit.read`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, and_, cast, false, literal, null, select, true, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from pob_tui.errors import InvalidInput
from pob_tui.i18n import _
from pob_tui.models import AdminEvent, Agent, ChangeRequest, Incident, Problem, TicketEvent
from pob_tui.services.identity import Actor
from pob_tui.services.permissions import require
from pob_tui.textsafe import csv_row, json_dumps

COLUMNS = ("at", "source", "actor", "ticket", "action", "field", "old", "new", "detail",
           "allowed")
_PREFIX: dict[str, tuple[str, type[Incident] | type[Problem] | type[ChangeRequest]]] = {
    "INC": ("incident", Incident), "PRB": ("problem", Problem),
    "CHG": ("change", ChangeRequest)}


@dataclass(frozen=True)
class AuditFilter:
    """What to list. Dates are whole days in `tz`, both ends included."""

    actor: str | None = None
    ticket: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    tz: str = "Europe/Oslo"


def _bounds(f: AuditFilter) -> tuple[datetime | None, datetime | None]:
    zone = ZoneInfo(f.tz)
    start = datetime.combine(f.date_from, time(0), zone) if f.date_from else None
    end = (datetime.combine(f.date_to + timedelta(days=1), time(0), zone)
           if f.date_to else None)
    if start and end and end <= start:
        raise InvalidInput(_("--from must not be after --to"))
    return start, end


def _ticket_ref(session: Session, number: str) -> tuple[str, int | None, str]:
    from pob_tui.services.numbers import normalize_ticket_number

    norm = normalize_ticket_number(number.strip())
    if norm is None:
        raise InvalidInput(_("{number} is not a ticket number (INC-, PRB- or CHG-)").format(
            number=repr(number)))
    kind, model = _PREFIX[norm[:3]]
    ident = session.execute(select(col(model.id)).where(col(model.number) == norm)).scalar()
    return kind, ident, norm


def list_events(session: Session, actor: Actor, f: AuditFilter, *, limit: int = 100,
                offset: int = 0) -> list[dict[str, Any]]:
    """One page of the trail, newest first, as plain rows (see COLUMNS)."""
    require(session, actor, "audit.read")
    if limit < 1 or limit > 10_000:
        raise InvalidInput(_("limit must be between 1 and 10000"))
    start, end = _bounds(f)
    who = aliased(Agent)
    inc, prb, chg = aliased(Incident), aliased(Problem), aliased(ChangeRequest)
    ticket_no = (select(col(inc.number)).where(col(TicketEvent.ticket_type) == "incident",
                                               col(inc.id) == TicketEvent.ticket_id)
                 .scalar_subquery())
    problem_no = (select(col(prb.number)).where(col(TicketEvent.ticket_type) == "problem",
                                                col(prb.id) == TicketEvent.ticket_id)
                  .scalar_subquery())
    change_no = (select(col(chg.number)).where(col(TicketEvent.ticket_type) == "change",
                                               col(chg.id) == TicketEvent.ticket_id)
                 .scalar_subquery())
    from sqlalchemy import func

    tconds: list[Any] = []
    aconds: list[Any] = []
    if f.actor:
        tconds.append(col(who.username) == f.actor)
        aconds.append(col(AdminEvent.actor) == f.actor)
    if f.ticket:
        kind, ident, norm = _ticket_ref(session, f.ticket)
        tconds += [col(TicketEvent.ticket_type) == kind,
                   col(TicketEvent.ticket_id) == (ident or -1)]
        aconds.append(col(AdminEvent.target) == norm)
    if start:
        tconds.append(col(TicketEvent.at) >= start)
        aconds.append(col(AdminEvent.at) >= start)
    if end:
        tconds.append(col(TicketEvent.at) < end)
        aconds.append(col(AdminEvent.at) < end)
    tickets: Select[*tuple[Any, ...]] = (
        select(col(TicketEvent.at).label("at"), literal("ticket").label("source"),
               col(who.username).label("actor"),
               func.coalesce(ticket_no, problem_no, change_no).label("ticket"),
               col(TicketEvent.kind).label("action"), col(TicketEvent.field).label("field"),
               col(TicketEvent.old_value).label("old"), col(TicketEvent.new_value).label("new"),
               col(TicketEvent.comment).label("detail"), literal(True).label("allowed"),
               col(TicketEvent.id).label("id"))
        .select_from(TicketEvent).outerjoin(who, col(who.id) == TicketEvent.actor_id)
        .where(and_(*tconds) if tconds else true())
    )
    admins = (
        select(col(AdminEvent.at), literal("admin"), col(AdminEvent.actor),
               cast(col(AdminEvent.target), String), col(AdminEvent.action),
               cast(null(), String), cast(null(), String), cast(null(), String),
               col(AdminEvent.detail), col(AdminEvent.allowed), col(AdminEvent.id))
        .where(and_(*aconds) if aconds else true())
    )
    if f.ticket and not aconds:  # pragma: no cover - ticket always adds a condition
        admins = admins.where(false())
    both = union_all(tickets, admins).subquery()
    stmt = (select(*[both.c[c] for c in COLUMNS])
            .order_by(both.c.at.desc(), both.c.source, both.c.id.desc())
            .limit(limit).offset(offset))
    rows = []
    for r in session.execute(stmt):
        row = dict(zip(COLUMNS, r, strict=True))
        at = row["at"]
        if isinstance(at, datetime) and at.tzinfo is None:  # SQLite through a UNION
            from datetime import UTC

            row["at"] = at.replace(tzinfo=UTC)
        elif isinstance(at, str):
            from datetime import UTC

            row["at"] = datetime.fromisoformat(at).replace(tzinfo=UTC)
        row["allowed"] = bool(row["allowed"])
        rows.append(row)
    return rows


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as CSV text with a header line; times in ISO 8601 UTC."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(csv_row(row.get(c) for c in COLUMNS))  # formula-safe, controls visible
    return out.getvalue()


def to_json(rows: Sequence[dict[str, Any]]) -> str:
    return json_dumps([{c: (row[c].isoformat() if isinstance(row.get(c), datetime)
                            else row.get(c)) for c in COLUMNS} for row in rows])


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("expected a date as YYYY-MM-DD, got {text}").format(
            text=repr(text))) from None
