"""What a database holds: the figures behind `pob db status`."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

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
