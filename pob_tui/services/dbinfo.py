"""What a database holds: the figures behind `pob db status`, whether it is empty (the app
then offers the demo) and the short name the header shows for it."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from sqlalchemy import func, select
from sqlmodel import Session, col

from pob_tui import models as m

# Entity name in reports -> table. Names are plural, as users count them.
ENTITIES: dict[str, type] = {
    "org_units": m.OrgUnit,
    "locations": m.Location,
    "people": m.Person,
    "teams": m.Team,
    "agents": m.Agent,
    "services": m.Service,
    "service_costs": m.ServiceCost,
    "subscriptions": m.Subscription,
    "usage_records": m.UsageRecord,
    "funding": m.Funding,
    "config_items": m.ConfigItem,
    "ci_relations": m.CiRelation,
    "calendars": m.Calendar,
    "agreements": m.Agreement,
    "sla_targets": m.SlaTarget,
    "incidents": m.Incident,
    "problems": m.Problem,
    "changes": m.ChangeRequest,
    "cab_meetings": m.CabMeeting,
    "ticket_events": m.TicketEvent,
}


def entity_counts(session: Session) -> dict[str, int]:
    """Row counts per entity, in one round trip."""
    columns = [
        select(func.count()).select_from(model).scalar_subquery().label(name)
        for name, model in ENTITIES.items()
    ]
    row = session.execute(select(*columns)).one()
    return {name: int(row[i]) for i, name in enumerate(ENTITIES)}


def is_empty(session: Session) -> bool:
    """True on a fresh database (no people and no incidents): offer the demo data."""
    has_person = session.execute(select(col(m.Person.id)).limit(1)).first() is not None
    has_incident = session.execute(select(col(m.Incident.id)).limit(1)).first() is not None
    return not (has_person or has_incident)


def database_label(url: str) -> str:
    """Short, password-free name of a database for the header: 'sqlite pob.sqlite3',
    'postgresql db.example.no/pob'. Parsed without SQLAlchemy: it runs on the UI's path."""
    scheme, _, rest = url.partition("://")
    dialect = scheme.split("+")[0] or "database"
    if dialect == "sqlite":
        path = rest.lstrip("/").split("?")[0]
        name = path.replace("\\", "/").rsplit("/", 1)[-1] if path else ":memory:"
        return f"sqlite {name or ':memory:'}"
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        dbname = unquote(parts.path.lstrip("/")) or "?"
    except ValueError:
        return dialect
    return f"{dialect} {host}/{dbname}"
