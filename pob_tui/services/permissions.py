"""What each role may do. Every use case asks `require(session, actor, action)` first.

A refusal names the roles that would allow the action, is written to the audit log in a
transaction of its own (so it survives the rollback of the refused work), and changes
nothing else.
"""

from __future__ import annotations

from sqlmodel import Session

from pob_tui.errors import PermissionDenied
from pob_tui.i18n import _
from pob_tui.services.identity import Actor, require_agent

DESK = frozenset({"first_line", "second_line", "administrator"})

# action -> roles that may do it
RULES: dict[str, frozenset[str]] = {
    "incident.work": DESK,
    "problem.work": DESK,
    "change.request": DESK | {"change_manager", "service_owner", "cab_member"},
    "change.manage": frozenset({"change_manager", "administrator"}),
    "change.implement": DESK | {"change_manager"},
    "cab.vote": frozenset({"cab_member", "change_manager"}),
    "cab.chair": frozenset({"change_manager"}),
    "costs.read": frozenset({"service_owner", "customer_manager", "administrator"}),
    "service.retire": frozenset({"service_owner", "administrator"}),
    "import": frozenset({"administrator"}),
    "agent.admin": frozenset({"administrator"}),
    "audit.read": frozenset({"administrator", "change_manager", "customer_manager"}),
    # Org units, people and agreements (issue 18): as for imports, administrators; customer
    # managers may keep the contact fields of the people in their own units.
    "org.admin": frozenset({"administrator"}),
    "org.contact": frozenset({"administrator", "customer_manager"}),
    "agreement.edit": frozenset({"administrator"}),
    "cmdb.edit": frozenset({"second_line", "change_manager", "administrator"}),
    "outage.declare": frozenset({"second_line", "change_manager", "administrator"}),
    "outage.link": frozenset({"first_line", "second_line", "change_manager", "cab_member",
                              "service_owner", "customer_manager", "administrator"}),
    "call.ring": frozenset({"administrator", "integration"}),
}

ROLE_NAMES = {
    "first_line": "first line", "second_line": "second line",
    "change_manager": "change manager", "cab_member": "CAB member",
    "service_owner": "service owner", "customer_manager": "customer manager",
    "administrator": "administrator", "integration": "integration key",
}


def allowed(actor: Actor, action: str) -> bool:
    return actor.system or (actor.registered and bool(actor.roles & RULES[action]))


def require(session: Session | None, actor: Actor, action: str,
            target: str | None = None) -> int | None:
    """The actor's agent id (None for the system actor) if the action is allowed; else
    PermissionDenied, audited (unregistered users' attempts too)."""
    if actor.system:
        return None
    if (actor.agent_id is not None or actor.integration) and actor.roles & RULES[action]:
        return actor.agent_id
    if session is not None:
        _audit_denial(session, actor, action, target)
    require_agent(actor)  # an unregistered user: the refusal says how to become an agent
    needed = " or ".join(sorted(ROLE_NAMES[r] for r in RULES[action]))
    has = ", ".join(sorted(ROLE_NAMES.get(r, r) for r in actor.roles)) or _("no roles")
    raise PermissionDenied(_("{action} needs the role {needed}; {username} has {has}").format(
        action=action, needed=needed, username=actor.username, has=has))


def _audit_denial(session: Session, actor: Actor, action: str, target: str | None) -> None:
    from pob_tui.db import AFTER_TRANSACTION
    from pob_tui.models import AdminEvent

    def write(own: Session) -> None:
        own.add(AdminEvent(actor=actor.username, action=action, target=target,
                           detail="denied", allowed=False))

    after = session.info.get(AFTER_TRANSACTION)
    if after is not None and session.get_bind().dialect.name == "sqlite":
        after.append(write)  # this session holds SQLite's write lock until it ends
        return
    with Session(session.get_bind().engine if hasattr(session.get_bind(), "engine")
                 else session.get_bind()) as own:
        write(own)
        own.commit()
