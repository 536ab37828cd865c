"""Merging after an edit conflict, field by field.

`ConflictError.changes` says, for each field another agent changed since you looked,
what you saw and what it is now. For every such field the agent picks "keep mine" (put
back the value they saw) or "take theirs" (leave it). `prepare` then, in the caller's
transaction, checks nobody changed the incident yet again, writes the "keep mine" values
through `incidents.update_fields` (audited like any edit) and returns the version and
snapshot to run the agent's own action against. Nothing is overwritten that the agent did
not choose; workflow fields (status, team, assignee, escalation, resolution, problem link)
have their own rules and can only be taken, the agent's action then applies on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from pob_tui.errors import ConflictError
from pob_tui.i18n import _
from pob_tui.services import incidents
from pob_tui.services.identity import Actor

MERGEABLE: dict[str, str] = {
    "summary": "summary", "description": "description", "impact": "impact",
    "urgency": "urgency", "service_id": "service", "ci_id": "ci", "channel": "channel",
}
"""Snapshot field -> `update_fields` key, for the fields "keep mine" can restore."""
DERIVED = frozenset({"priority"})
"""Follows other fields (impact, urgency): never chosen on its own."""


def mergeable(field: str) -> bool:
    return field in MERGEABLE


def prepare(session: Session, actor: Actor, number: str,
            changes: Mapping[str, tuple[object, object]], keep_mine: Iterable[str], *,
            now: datetime | None = None) -> dict[str, Any]:
    """Apply the "keep mine" choices; returns {"expected_version", "seen"} for the action.
    ConflictError again when the incident moved on since the conflict was shown."""
    incident = incidents.get_incident(session, number, for_update=True)
    current = incidents.snapshot(incident)
    moved = {f: (theirs, current[f]) for f, (_mine, theirs) in changes.items()
             if f in current and current[f] != theirs}
    if moved:
        raise ConflictError(
            _("{number} was changed again while you were merging; review the new change")
            .format(number=incident.number), moved)
    restore = {MERGEABLE[f]: changes[f][0] for f in keep_mine
               if f in MERGEABLE and f in changes}
    if restore:
        incidents.update_fields(session, actor, number, restore,
                                expected_version=incident.version, seen=current, now=now)
    return {"expected_version": incident.version, "seen": incidents.snapshot(incident)}
