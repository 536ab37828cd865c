"""Quick-call templates: the few calls a desk takes all day (password expired, account
locked, printer queue), filled into the call form with one key.

Rows read as `TemplateRow`, whose keys are the CLI's JSON keys and the CSV kind
`templates`' columns: name, service, summary, impact, urgency, code, resolution.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from pob_tui.errors import InvalidInput, NotFound
from pob_tui.i18n import _
from pob_tui.models import CallTemplate, Service
from pob_tui.services.identity import Actor
from pob_tui.services.permissions import require


@dataclass(frozen=True)
class TemplateRow:
    name: str
    service: str  # service code
    summary: str
    impact: int | None
    urgency: int | None
    code: str | None  # resolution code: saves and resolves at first line
    resolution: str | None
    service_name: str = ""
    service_id: int = 0
    default_impact: int = 3  # the service's, used where the template gives none
    default_urgency: int = 3

    def public(self) -> dict[str, Any]:
        """The JSON row (`pob template list --format json`)."""
        out = asdict(self)
        for key in ("service_name", "service_id", "default_impact", "default_urgency"):
            out.pop(key)
        return out


def _level(value: int | None, what: str) -> int | None:
    if value is None:
        return None
    if value not in (1, 2, 3):
        raise InvalidInput(_("{what} must be 1, 2 or 3, got {value}").format(what=what,
                                                                             value=value))
    return value


def add_template(session: Session, actor: Actor, name: str, *, service: str, summary: str,
                 impact: int | None = None, urgency: int | None = None,
                 code: str | None = None, resolution: str | None = None,
                 replace: bool = True) -> TemplateRow:
    """Create a template, or change the one with this name (`replace`). Administrators."""
    from pob_tui.services.catalog import find_service
    from pob_tui.services.incidents import RESOLUTION_CODES

    require(session, actor, "agent.admin", name)
    name = (name or "").strip()
    summary = (summary or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(_("a template needs a name of 1 to 100 characters"))
    if not summary or len(summary) > 200:
        raise InvalidInput(_("a template needs a summary of 1 to 200 characters"))
    code = (code or "").strip() or None
    if code is not None and code not in RESOLUTION_CODES:
        raise InvalidInput(_("unknown resolution code {code}; expected one of {choices}")
                           .format(code=repr(code), choices=", ".join(RESOLUTION_CODES)))
    if resolution and code is None:
        raise InvalidInput(_("a resolution note needs a resolution code (--code)"))
    svc = find_service(session, service)
    row = session.execute(select(CallTemplate).where(col(CallTemplate.name) == name)
                          ).scalars().first()
    if row is not None and not replace:
        raise InvalidInput(_("a template named {name} exists").format(name=repr(name)))
    if row is None:
        row = CallTemplate(name=name, service_id=svc.id or 0, summary=summary)
        session.add(row)
    row.service_id = svc.id or 0
    row.summary = summary
    row.impact = _level(impact, _("impact"))
    row.urgency = _level(urgency, _("urgency"))
    row.resolution_code = code
    row.resolution_note = (resolution or "").strip() or None
    session.flush()
    return _row(row, svc)


def save_template(session: Session, actor: Actor, old_name: str | None, name: str, *,
                  service: str, summary: str, impact: int | None = None,
                  urgency: int | None = None, code: str | None = None,
                  resolution: str | None = None) -> TemplateRow:
    """Add a template (`old_name` None) or change one, renaming it if the name changed; one
    transaction (the TUI's admin form)."""
    if old_name and old_name.strip().lower() != name.strip().lower():
        require(session, actor, "agent.admin", name)
        existing = session.execute(select(CallTemplate).where(
            col(CallTemplate.name) == name.strip())).scalars().first()
        if existing is not None:
            raise InvalidInput(_("a template named {name} exists").format(name=repr(name)))
        row = session.execute(select(CallTemplate).where(
            col(CallTemplate.name) == old_name.strip())).scalars().first()
        if row is None:
            raise NotFound(_("no template named {name}").format(name=repr(old_name)))
        row.name = name.strip()
        session.flush()
    return add_template(session, actor, name, service=service, summary=summary,
                        impact=impact, urgency=urgency, code=code, resolution=resolution,
                        replace=old_name is not None)


def remove_template(session: Session, actor: Actor, name: str) -> None:
    require(session, actor, "agent.admin", name)
    row = session.execute(select(CallTemplate).where(col(CallTemplate.name) == name.strip())
                          ).scalars().first()
    if row is None:
        raise NotFound(_("no template named {name}").format(name=repr(name)))
    session.delete(row)
    session.flush()


def _row(t: CallTemplate, s: Service) -> TemplateRow:
    return TemplateRow(name=t.name, service=s.code, summary=t.summary, impact=t.impact,
                       urgency=t.urgency, code=t.resolution_code,
                       resolution=t.resolution_note, service_name=s.name,
                       service_id=s.id or 0, default_impact=s.default_impact or 3,
                       default_urgency=s.default_urgency or 3)


def list_templates(session: Session, text: str = "", *, limit: int = 200) -> list[TemplateRow]:
    """Templates whose name, summary or service match every typed word, by name."""
    stmt = (select(CallTemplate, Service).join(Service, col(Service.id) == CallTemplate.service_id)
            .order_by(col(CallTemplate.name)).limit(limit))
    for word in text.lower().split():
        like = "%" + word.replace("%", "").replace("_", "") + "%"
        stmt = stmt.where(or_(func.lower(col(CallTemplate.name)).like(like),
                              func.lower(col(CallTemplate.summary)).like(like),
                              func.lower(col(Service.name)).like(like),
                              func.lower(col(Service.code)).like(like)))
    return [_row(t, s) for t, s in session.execute(stmt).all()]


def get_template(session: Session, name: str) -> TemplateRow:
    row = session.execute(
        select(CallTemplate, Service).join(Service, col(Service.id) == CallTemplate.service_id)
        .where(func.lower(col(CallTemplate.name)) == name.strip().lower())).first()
    if row is None:
        raise NotFound(_("no template named {name}").format(name=repr(name)))
    return _row(row[0], row[1])
