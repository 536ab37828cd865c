"""Mail intake: one parsed message becomes a new incident, a reply on its thread, a score, a
note, or is listed as ignored or held. One message, one transaction, as the system actor.

The decision (`plan`) only reads, so `--dry-run` shows exactly what `ingest` would do.
Threading order (as osTicket, Zammad and RT do it): a Message-ID seen before is a duplicate;
our Message-ID in In-Reply-To/References; then the `[INC-...]` subject tag when the sender is
the caller or already wrote on that incident. Automatic mail (RFC 3834) never opens an
incident except monitoring alerts from configured senders, and is never answered.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from pob_tui.errors import InvalidInput, NotFound
from pob_tui.mail.config import MailConfig
from pob_tui.mail.loopguard import Verdict, classify
from pob_tui.mail.parse import ParsedMail
from pob_tui.mail.thread import (
    clean_subject,
    number_in_message_id,
    subject_tag,
)
from pob_tui.models import (
    Incident,
    MailAttachment,
    MailMessage,
    Person,
    Service,
    TicketEvent,
    pk,
    utcnow,
)
from pob_tui.services.audit import record_ticket_event
from pob_tui.services.identity import Actor
from pob_tui.services.incident_views import IncidentRow

UNKNOWN_SENDER = "pob.unknown-sender"  # the placeholder caller of "Needs caller" incidents
MONITORING = "pob.monitoring"
CLOSED = ("closed", "cancelled")
SCORE = re.compile(r"^\s*([1-6])\s*[.!]?\s*$")
RATE_WINDOW = timedelta(hours=1)


def system_actor() -> Actor:
    """The actor of server-side jobs (username `pob`, no agent id)."""
    from pob_tui.services.identity import SYSTEM_ACTOR

    return SYSTEM_ACTOR


@dataclass(frozen=True)
class IngestResult:
    """What became of one message; the keys of `pob mail ingest --format json`."""

    message_id: str | None
    from_email: str | None
    from_name: str | None
    subject: str
    action: str  # new | reply | duplicate | ignored | held
    ticket: str | None
    reason: str | None
    mail_id: int | None = None


@dataclass
class _Plan:
    action: str
    reason: str | None = None
    incident: Incident | None = None  # threaded onto
    person: Person | None = None  # the sender, when known
    verdict: Verdict | None = None
    what: str = ""  # comment | score | auto_note | new | follow_up | monitoring | unknown
    score: int | None = None


def message_key(mail: ParsedMail) -> str:
    """The Message-ID, or for a message without one a digest of its bytes, so that a
    re-fetch is still recognised."""
    return mail.message_id or "sha256:" + hashlib.sha256(mail.raw).hexdigest()


# --- deciding -------------------------------------------------------------------------------

def _person_by_email(session: Session, address: str | None) -> Person | None:
    if not address:
        return None
    return session.execute(
        select(Person).where(func.lower(col(Person.email)) == address.lower(), col(Person.active))
        .order_by(col(Person.id)).limit(1)
    ).scalars().first()


def _incident_by_number(session: Session, number: str) -> Incident | None:
    return session.execute(
        select(Incident).where(col(Incident.number) == number.upper())).scalars().first()


def _thread(session: Session, mail: ParsedMail, cfg: MailConfig,
            person: Person | None) -> Incident | None:
    ids = mail.thread_ids[:30]
    if ids:
        row = session.execute(
            select(col(MailMessage.incident_id)).where(col(MailMessage.message_id).in_(ids),
                                                  col(MailMessage.incident_id).is_not(None))
            .order_by(col(MailMessage.id).desc()).limit(1)
        ).scalar()
        if row is not None:
            return session.get(Incident, row)
        for mid in ids:
            number = number_in_message_id(mid, cfg.domain)
            if number:
                found = _incident_by_number(session, number)
                if found is not None:
                    return found
    number = subject_tag(mail.subject)
    if number:
        found = _incident_by_number(session, number)
        if found is None:
            return None
        sender = (mail.from_email or "").lower()
        if person is not None and person.id == found.caller_id:
            return found
        wrote_before = session.execute(
            select(col(MailMessage.id)).where(col(MailMessage.incident_id) == found.id,
                                         col(MailMessage.address) == sender).limit(1)
        ).first()
        if wrote_before:
            return found
    return None


def _recent_from(session: Session, address: str, now: datetime) -> int:
    return int(session.execute(
        select(func.count()).select_from(MailMessage).where(
            col(MailMessage.direction) == "in", col(MailMessage.address) == address,
            col(MailMessage.at) >= now - RATE_WINDOW)
    ).scalar_one())


def plan(session: Session, mail: ParsedMail, cfg: MailConfig,
         now: datetime | None = None) -> _Plan:
    """What ingesting `mail` would do. Reads only."""
    now = now or utcnow()
    key = message_key(mail)
    seen = session.execute(
        select(col(MailMessage.incident_id)).where(col(MailMessage.direction) == "in",
                                              col(MailMessage.message_id) == key).limit(1)
    ).first()
    if seen is not None:
        incident = session.get(Incident, seen[0]) if seen[0] else None
        return _Plan("duplicate", "seen before (same Message-ID)", incident)
    verdict = classify(mail, own_addresses=cfg.own_addresses,
                       monitoring_senders=cfg.monitoring_senders)
    sender = (mail.from_email or "").lower()
    if verdict.kind == "own":
        return _Plan("ignored", verdict.reason, verdict=verdict)
    if verdict.kind != "monitoring" and cfg.rate_limit_per_hour and \
            _recent_from(session, sender, now) >= cfg.rate_limit_per_hour:
        return _Plan("ignored", f"rate limit: {cfg.rate_limit_per_hour} messages from "
                                f"{sender} in the last hour", verdict=verdict)
    person = _person_by_email(session, sender)
    incident = _thread(session, mail, cfg, person)
    if verdict.automatic and verdict.kind != "monitoring":
        if incident is not None:
            return _Plan("reply", f"automatic reply noted: {verdict.reason}", incident,
                         person, verdict, what="auto_note")
        return _Plan("ignored", f"automatic message ({verdict.reason}) on no known thread",
                     verdict=verdict)
    if incident is not None:
        match = SCORE.match(mail.reply.splitlines()[0] if mail.reply.strip() else "")
        if match and incident.status in ("resolved", "closed") and \
                person is not None and person.id == incident.caller_id:
            return _Plan("reply", f"satisfaction score {match.group(1)}", incident, person,
                         verdict, what="score", score=int(match.group(1)))
        if incident.status in CLOSED:
            return _Plan("new", f"follow-up of {incident.number}, which is "
                                f"{incident.status}", incident, person, verdict,
                         what="follow_up")
        return _Plan("reply", None, incident, person, verdict, what="comment")
    if verdict.kind == "monitoring":
        return _Plan("new", "monitoring alert", None, person, verdict, what="monitoring")
    if person is None:
        return _Plan("new", "unknown sender: waiting in Needs caller", None, None, verdict,
                     what="unknown")
    return _Plan("new", None, None, person, verdict, what="new")


# --- writing --------------------------------------------------------------------------------

def _placeholder(session: Session, username: str, first: str, last: str) -> Person:
    """The inactive person that stands in as caller until an agent picks the real one."""
    person = session.execute(select(Person).where(col(Person.username) == username)
                             ).scalars().first()
    if person is None:
        person = Person(username=username, first_name=first, last_name=last, active=False,
                        search=f"{first} {last} {username}".lower())
        session.add(person)
        session.flush()
    return person


_WORD = re.compile(r"[\wæøå-]{3,}")
# Keyword sets per database, kept a minute: a batch of mail reads the catalog once. The
# catalog is small (hundreds of services), so it is read whole.
_KEYWORDS: dict[str, tuple[float, list[tuple[int, frozenset[str]]]]] = {}


def _service_keywords(session: Session) -> list[tuple[int, frozenset[str]]]:
    import time

    bind = session.get_bind()
    key = str(bind.engine.url) if hasattr(bind, "engine") else str(cast(Engine, bind).url)
    cached = _KEYWORDS.get(key)
    if cached and time.monotonic() - cached[0] < 60:
        return cached[1]
    rows = [(sid, frozenset({*_WORD.findall((keywords or "").lower()), code.lower()}))
            for sid, keywords, code in session.execute(
                select(col(Service.id), col(Service.keywords), col(Service.code))
                .where(col(Service.lifecycle) == "live", col(Service.keywords).is_not(None)))]
    _KEYWORDS[key] = (time.monotonic(), rows)
    return rows


def guess_service(session: Session, text: str) -> Service | None:
    """The live service whose keywords match the most words of the text (the agent
    confirms)."""
    words = set(_WORD.findall(text.lower()))
    if not words:
        return None
    best: tuple[int, int] | None = None
    for sid, keys in _service_keywords(session):
        hits = len(keys & words)
        if hits and (best is None or hits > best[0]):
            best = (hits, sid)
    return session.get(Service, best[1]) if best else None


def _create(session: Session, mail: ParsedMail, caller: Person, channel: str,
            now: datetime, note: str | None) -> Incident:
    from pob_tui.services import incidents as inc_svc
    from pob_tui.services.numbers import next_number

    summary = clean_subject(mail.subject)[:200] or (mail.reply.strip().splitlines() or
                                                    ["(no subject)"])[0][:200]
    service = guess_service(session, f"{mail.subject}\n{mail.reply}")
    impact = service.default_impact if service else 3
    urgency = service.default_urgency if service else 3
    desk = inc_svc.service_desk_team(session)
    incident = Incident(
        number=next_number(session, "INC"), caller_id=pk(caller),
        service_id=service.id if service else None, location_id=caller.location_id,
        summary=summary, description=mail.reply or mail.text, impact=impact, urgency=urgency,
        priority=inc_svc.priority_for(impact, urgency, vip=caller.vip), status="new",
        channel=channel, team_id=desk.id if desk else None, opened_by_id=None, opened_at=now,
        updated_at=now,
    )
    session.add(incident)
    session.flush()
    record_ticket_event(session, ticket_type="incident", ticket_id=pk(incident),
                        kind="created", actor_id=None, comment=f"{channel}: {summary}", at=now)
    if service is not None:
        record_ticket_event(session, ticket_type="incident", ticket_id=pk(incident),
                            kind="field", actor_id=None, field="service_id", new=service.code,
                            comment=f"service guessed from the text: {service.code}", at=now)
    if note:
        record_ticket_event(session, ticket_type="incident", ticket_id=pk(incident),
                            kind="link", actor_id=None, comment=note, at=now)
    inc_svc._after(session, incident, "created", now)
    return incident


def _store(session: Session, mail: ParsedMail, cfg: MailConfig, p: _Plan,
           incident: Incident | None, now: datetime, body: str | None) -> MailMessage:
    row = MailMessage(
        direction="in", message_id=message_key(mail), at=now,
        address=(mail.from_email or "").lower() or None, name=mail.from_name,
        subject=mail.subject[:400], incident_id=incident.id if incident else None,
        person_id=p.person.id if p.person else None, action=p.action,
        reason=(p.reason or "")[:400] or None, body=body, raw=mail.raw,
        in_reply_to=(mail.in_reply_to[0][:250] if mail.in_reply_to else None),
        references=" ".join(mail.references) or None,
        # Only a caller's reply on an open incident waits to be read (the queue marks it).
        read_at=None if p.what == "comment" else now,
    )
    session.add(row)
    session.flush()
    for att in mail.attachments:
        keep = att.size <= cfg.max_attachment_bytes
        session.add(MailAttachment(mail_id=pk(row), filename=att.filename,
                                   content_type=att.content_type[:120], size=att.size,
                                   data=att.data if keep else None))
    return row


def _attachment_note(mail: ParsedMail, cfg: MailConfig) -> str:
    if not mail.attachments:
        return ""
    parts = []
    for att in mail.attachments:
        kb = max(1, round(att.size / 1024))
        kept = "" if att.size <= cfg.max_attachment_bytes else ", too large: not kept"
        parts.append(f"{att.filename} ({kb} KB{kept})")
    return "\n\nAttachments: " + "; ".join(parts)


def ingest(session: Session, mail: ParsedMail, cfg: MailConfig, *, dry_run: bool = False,
           now: datetime | None = None) -> IngestResult:
    """Apply one message (see the module docstring). The caller commits."""
    from pob_tui.services import incidents as inc_svc

    now = now or utcnow()
    p = plan(session, mail, cfg, now)

    def result(ticket: str | None, mail_id: int | None = None) -> IngestResult:
        return IngestResult(mail.message_id, mail.from_email, mail.from_name, mail.subject,
                            p.action, ticket, p.reason, mail_id)

    if dry_run or p.action == "duplicate":
        return result(p.incident.number if p.incident and p.action != "new" else None)
    if p.action == "ignored":
        row = _store(session, mail, cfg, p, None, now, mail.reply[:4000])
        return result(None, row.id)
    incident = p.incident
    body = mail.reply + _attachment_note(mail, cfg)
    if p.what in ("new", "unknown", "monitoring", "follow_up"):
        if p.what == "monitoring":
            caller = p.person or _placeholder(session, MONITORING, "Overvåking", "(pob)")
        elif p.person is None:
            caller = _placeholder(session, UNKNOWN_SENDER, "Ukjent", "avsender")
        else:
            caller = p.person
        channel = "monitoring" if p.what == "monitoring" else "email"
        note = None
        if p.what == "follow_up" and incident is not None:
            note = f"follow-up of {incident.number}"
            record_ticket_event(session, ticket_type="incident", ticket_id=pk(incident),
                                kind="link", actor_id=None,
                                comment=f"mail from {mail.from_email} after it was "
                                        f"{incident.status}: a follow-up was opened", at=now)
        if p.what == "unknown":
            note = f"from {mail.from_name or ''} <{mail.from_email}>: needs a caller".strip()
        new = _create(session, mail, caller, channel, now, note)
        if p.what == "follow_up" and incident is not None:
            p.reason = f"follow-up of {incident.number}, which is {incident.status}"
        row = _store(session, mail, cfg, p, new, now, body)
        if mail.attachments:
            record_ticket_event(session, ticket_type="incident", ticket_id=pk(new),
                                kind="mail_in", actor_id=None,
                                comment=_attachment_note(mail, cfg).strip(), at=now)
        return result(new.number, row.id)
    assert incident is not None
    inc = inc_svc.get_incident(session, incident.number, for_update=True)
    if p.what == "score":
        assert p.score is not None
        rest = "\n".join(mail.reply.splitlines()[1:]).strip() or None
        _record_score(session, inc, p.score, rest, now)
        row = _store(session, mail, cfg, p, inc, now, body)
        return result(inc.number, row.id)
    if p.what == "auto_note":
        record_ticket_event(session, ticket_type="incident", ticket_id=pk(inc),
                            kind="mail_auto", actor_id=None,
                            comment=f"{p.verdict.reason if p.verdict else 'automatic'}: "
                                    f"{mail.subject}"[:2000], at=now)
        row = _store(session, mail, cfg, p, inc, now, body)
        return result(inc.number, row.id)
    record_ticket_event(session, ticket_type="incident", ticket_id=pk(inc), kind="mail_in",
                        actor_id=None, comment=body, at=now)
    if inc.status == "waiting_caller":  # the caller answered: the clock runs again
        record_ticket_event(session, ticket_type="incident", ticket_id=pk(inc), kind="status",
                            actor_id=None, field="status", old=inc.status, new="in_progress",
                            comment="the caller replied by e-mail", at=now)
        inc.status = "in_progress"
        kind = "in_progress"
    else:
        kind = "work_note"  # no clock changes: skip the SLA recomputation
    inc.version += 1
    inc.updated_at = now
    inc_svc._after(session, inc, kind, now)
    row = _store(session, mail, cfg, p, inc, now, body)
    return result(inc.number, row.id)


def _record_score(session: Session, incident: Incident, score: int, comment: str | None,
                  now: datetime) -> None:
    """The caller's score by mail, through the incident service as the system actor."""
    from pob_tui.services import incidents as inc_svc

    inc_svc.record_satisfaction(session, system_actor(), incident.number, score, comment,
                                now=now)


def ingest_bytes(session: Session, raw: bytes, cfg: MailConfig, *, dry_run: bool = False,
                 now: datetime | None = None) -> IngestResult:
    """Parse and ingest one message; an unparseable one is held with the reason."""
    from pob_tui.mail.parse import MailParseError, parse_message

    try:
        mail = parse_message(raw)
    except MailParseError as exc:
        return hold(session, raw, str(exc), dry_run=dry_run, now=now)
    return ingest(session, mail, cfg, dry_run=dry_run, now=now)


def hold(session: Session, raw: bytes, reason: str, *, dry_run: bool = False,
         now: datetime | None = None) -> IngestResult:
    """Keep an unparseable message aside with the reason; never lost, never retried."""
    now = now or utcnow()
    key = "sha256:" + hashlib.sha256(raw).hexdigest()
    found = re.search(rb"^message-id:\s*<([^<>\s]+)>", raw[:20000],
                      re.IGNORECASE | re.MULTILINE)
    message_id = found.group(1).decode("ascii", "replace")[:250] if found else None
    exists = session.execute(
        select(col(MailMessage.id)).where(col(MailMessage.direction) == "in",
                                     col(MailMessage.message_id) == (message_id or key))
    ).first()
    if exists:
        return IngestResult(message_id, None, None, "", "duplicate", None,
                            "seen before (same Message-ID)")
    if dry_run:
        return IngestResult(message_id, None, None, "", "held", None, reason)
    row = MailMessage(direction="in", message_id=message_id or key, at=now, action="held",
                      reason=reason[:400], raw=raw)
    session.add(row)
    session.flush()
    return IngestResult(message_id, None, None, "", "held", None, reason, row.id)


# --- reading (the TUI's mail view and queue marks) -----------------------------------------

@dataclass(frozen=True)
class MailRow:
    id: int
    at: datetime
    address: str | None
    name: str | None
    subject: str | None
    action: str
    reason: str | None
    ticket: str | None


def list_mail(session: Session, *, view: str = "ignored", limit: int = 100,
              offset: int = 0) -> list[MailRow]:
    """`ignored` and `held` messages, or `needs_caller`: incidents from unknown senders."""
    stmt = (select(col(MailMessage.id), col(MailMessage.at), col(MailMessage.address),
                   col(MailMessage.name),
                   col(MailMessage.subject), col(MailMessage.action), col(MailMessage.reason),
                   col(Incident.number))
            .outerjoin(Incident, col(Incident.id) == MailMessage.incident_id)
            .where(col(MailMessage.direction) == "in"))
    if view in ("ignored", "held"):
        stmt = stmt.where(col(MailMessage.action) == view)
    elif view == "needs_caller":
        stmt = (stmt.join(Person, col(Person.id) == Incident.caller_id)
                .where(col(Person.username) == UNKNOWN_SENDER, col(MailMessage.action) == "new",
                       col(Incident.status).not_in(CLOSED)))
    else:
        raise InvalidInput(f"unknown mail view {view!r}; expected ignored, held or "
                           "needs_caller")
    stmt = stmt.order_by(col(MailMessage.at).desc(),
                         col(MailMessage.id).desc()).limit(limit).offset(offset)
    return [MailRow(*r) for r in session.execute(stmt)]


def unread_replies(session: Session, incident_ids: Collection[int]) -> set[int]:
    """Which of these incidents have caller mail no agent has opened yet (one query)."""
    if not incident_ids:
        return set()
    return set(session.execute(
        select(col(MailMessage.incident_id)).where(
            col(MailMessage.incident_id).in_(list(incident_ids)),
            col(MailMessage.direction) == "in",
            col(MailMessage.read_at).is_(None)).distinct()
    ).scalars())


def mark_read(session: Session, number: str, now: datetime | None = None) -> int:
    """An agent opened the incident: its caller mail is read. Returns how many. Writes only
    when something is unread, in a savepoint, so a read-only login can still open it."""
    from sqlalchemy import update
    from sqlalchemy.exc import DBAPIError

    incident = _incident_by_number(session, number)
    if incident is None:
        raise NotFound(f"unknown incident {number!r}")
    unread = (col(MailMessage.incident_id) == incident.id, col(MailMessage.direction) == "in",
              col(MailMessage.read_at).is_(None))
    if session.execute(select(col(MailMessage.id)).where(*unread).limit(1)).first() is None:
        return 0
    try:
        with session.begin_nested():
            done = session.execute(update(MailMessage).where(*unread)
                                   .values(read_at=now or utcnow()))
    except DBAPIError:  # a login that may only read: the mark stays
        return 0
    return int(getattr(done, "rowcount", 0) or 0)


def set_caller(session: Session, actor: Actor, number: str, caller: str | int, *,
               now: datetime | None = None) -> Incident:
    """An agent picks the real caller of a "Needs caller" incident."""
    from pob_tui.services import incidents as inc_svc
    from pob_tui.services.permissions import require

    agent_id = require(session, actor, "incident.work")
    incident = inc_svc.get_incident(session, number, for_update=True)
    person = inc_svc.find_person(session, caller)
    return _set_caller(session, agent_id, incident, person, now or utcnow())


def _set_caller(session: Session, agent_id: int | None, incident: Incident, person: Person,
                now: datetime) -> Incident:
    old = incident.caller_id
    if old == person.id:
        return incident
    incident.caller_id = pk(person)
    incident.location_id = incident.location_id or person.location_id
    record_ticket_event(session, ticket_type="incident", ticket_id=pk(incident), kind="field",
                        actor_id=agent_id, field="caller_id", old=old, new=person.id,
                        comment=f"caller: {person.username}", at=now)
    incident.version += 1
    incident.updated_at = now
    return incident


USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u",
                       "é": "e", "è": "e", "á": "a", "ó": "o", "ß": "ss"})


def suggest_username(address: str | None) -> str:
    """A username from an e-mail address's local part: `Borre.Asheim@x` -> `borre.asheim`."""
    local = (address or "").partition("@")[0].strip().lower().translate(_FOLD)
    return re.sub(r"[^a-z0-9._-]", "", local).strip("._-")[:64]


def split_name(name: str | None) -> tuple[str, str]:
    """First and last name from a From display name ("Åsheim, Børre" or "Børre Åsheim")."""
    text = " ".join((name or "").replace('"', " ").split())
    if "," in text:
        last, _sep, first = text.partition(",")
        return first.strip(), last.strip()
    first, _sep, last = text.rpartition(" ")
    return (first, last) if first else (last, "")


def create_caller(session: Session, actor: Actor, number: str, *, first_name: str,
                  last_name: str, email: str, username: str | None = None,
                  phone: str | None = None, now: datetime | None = None) -> Person:
    """An agent creates the unknown sender of a "Needs caller" incident as a person and makes
    them its caller, in one transaction. A desk agent may do it (logging calls is their work);
    the new person is audited as an admin event. A username or e-mail that is taken is
    refused and nothing is written."""
    from sqlalchemy.exc import IntegrityError

    from pob_tui.services import incidents as inc_svc
    from pob_tui.services.audit import record_admin_event
    from pob_tui.services.permissions import require

    agent_id = require(session, actor, "incident.work", target=f"caller of {number}")

    def clean(value: str | None, max_len: int, what: str, required: bool = True) -> str | None:
        text = " ".join((value or "").split()) or None
        if text is None and required:
            raise InvalidInput(f"{what} is missing")
        if text is not None and len(text) > max_len:
            raise InvalidInput(f"{what}: at most {max_len} characters")
        return text

    first = clean(first_name, 100, "first name") or ""
    last = clean(last_name, 100, "last name") or ""
    address = clean(email, 200, "e-mail") or ""
    if "@" not in address or " " in address or address.startswith("@") \
            or address.endswith("@"):
        raise InvalidInput(f"e-mail {address!r} is not an e-mail address")
    user = (clean(username, 64, "username", required=False)
            or suggest_username(address)).lower()
    if not USERNAME.match(user):
        raise InvalidInput(f"username {user!r}: use lowercase letters, digits, '.', '-' "
                           "or '_'")
    tel = clean(phone, 32, "phone", required=False)
    taken = session.execute(select(col(Person.username)).where(
        func.lower(col(Person.username)) == user)).scalar()
    if taken is not None:
        raise InvalidInput(f"username {user} is taken; pick that person with p or choose "
                           "another username")
    owner = session.execute(select(col(Person.username)).where(
        func.lower(col(Person.email)) == address.lower())
        .order_by(col(Person.id)).limit(1)).scalar()
    if owner is not None:
        raise InvalidInput(f"e-mail {address} is already {owner}'s; pick them with p")
    incident = inc_svc.get_incident(session, number, for_update=True)
    person = Person(username=user, first_name=first, last_name=last, email=address,
                    phone=tel, search=f"{first} {last} {user} {tel or ''} {address}"
                    .lower()[:400])
    session.add(person)
    try:
        session.flush()
    except IntegrityError as exc:  # created by someone else a moment ago
        raise InvalidInput(f"username {user} is taken; pick that person with p or choose "
                           "another username") from exc
    record_admin_event(session, actor=actor.username, action="person.create", target=user,
                       detail=f"caller of {incident.number}: {first} {last} <{address}>")
    _set_caller(session, agent_id, incident, person, now or utcnow())
    return person


# --- mail out: the outbox ------------------------------------------------------------------
# Mail out is derived from the audit trail: every caller-visible comment, resolution and new
# incident is an event, whichever way it was made (TUI, CLI, serve, mail). A scan after the
# commit turns new events into `pending` rows once per event and recipient (a unique index),
# so a comment can never be mailed twice nor missed because the sender was down.

OUT_KINDS = ("created", "comment", "status", "mail_in")
SETTLE = timedelta(seconds=60)  # events older than this are settled: the cursor passes them
# An event older than this is history, not news: never mailed (a demo load, a restored
# database, a mail server that was down for days).
MAX_AGE = timedelta(hours=6)
_NO_MAIL = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)@", re.IGNORECASE)


@dataclass(frozen=True)
class _Recipient:
    event: str  # acknowledgement | comment | resolved | caller_reply
    person: Person


def _recipients(session: Session, cfg: MailConfig, ev: TicketEvent,
                incident: Incident) -> list[_Recipient]:
    from pob_tui.models import Agent

    caller = session.get(Person, incident.caller_id)
    actor_person = None
    if ev.actor_id is not None:
        agent = session.get(Agent, ev.actor_id)
        actor_person = agent.person_id if agent else None
    out: list[_Recipient] = []
    if caller is not None and caller.id != actor_person:
        if ev.kind == "created" and "acknowledgement" in cfg.notify_caller \
                and incident.channel != "monitoring":
            out.append(_Recipient("acknowledgement", caller))
        elif ev.kind == "comment" and "comment" in cfg.notify_caller:
            out.append(_Recipient("comment", caller))
        elif ev.kind == "status" and ev.new_value == "resolved" \
                and "resolved" in cfg.notify_caller:
            out.append(_Recipient("resolved", caller))
    if ev.kind == "mail_in" and "caller_reply" in cfg.notify_assignee \
            and incident.assignee_id is not None:
        agent = session.get(Agent, incident.assignee_id)
        person = session.get(Person, agent.person_id) if agent else None
        if person is not None and (caller is None or person.id != caller.id):
            out.append(_Recipient("caller_reply", person))
    return out


def _thread_headers(session: Session, incident_id: int,
                    address: str) -> tuple[str | None, str | None]:
    rows = session.execute(
        select(col(MailMessage.message_id), col(MailMessage.direction), col(MailMessage.address))
        .where(col(MailMessage.incident_id) == incident_id,
               col(MailMessage.message_id).is_not(None),
               col(MailMessage.action) != "held")
        .order_by(col(MailMessage.id).desc()).limit(10)
    ).all()
    ids = [r[0] for r in rows if not r[0].startswith("sha256:")]
    theirs = [r[0] for r in rows if r[1] == "in" and r[2] == address
              and not r[0].startswith("sha256:")]
    in_reply_to = theirs[0] if theirs else (ids[0] if ids else None)
    return in_reply_to, " ".join(reversed(ids)) or None


def _context(session: Session, incident: Incident, ev: TicketEvent, rcpt: _Recipient,
             cfg: MailConfig) -> dict[str, object]:
    from pob_tui.models import Agent

    caller = session.get(Person, incident.caller_id)
    agent_name = "Servicedesk"
    if ev.actor_id is not None:
        agent = session.get(Agent, ev.actor_id)
        person = session.get(Person, agent.person_id) if agent else None
        if person is not None:
            agent_name = person.name
    text = ev.comment or ""
    if rcpt.event == "resolved":
        text = incident.resolution_note or ev.comment or ""
    return {
        "number": incident.number, "summary": incident.summary,
        "caller_name": caller.name if caller else "",
        "agent_name": agent_name, "text": text, "status": incident.status,
        "desk_name": "Servicedesk", "desk_address": cfg.from_address,
    }


def queue_outgoing(session: Session, cfg: MailConfig, now: datetime | None = None) -> int:
    """Turn new audit events into pending mail. Returns how many rows were queued."""
    from pob_tui.mail.templates import render
    from pob_tui.mail.thread import make_message_id, tagged
    from pob_tui.models import MailState

    now = now or utcnow()
    state = session.get(MailState, "outbox", with_for_update=True)
    if state is None:  # first run: MAX_AGE keeps the history (a demo, an import) unmailed
        state = MailState(name="outbox", value=0)
        session.add(state)
        session.flush()
    events = session.execute(
        select(TicketEvent).where(col(TicketEvent.id) > state.value,
                                  col(TicketEvent.ticket_type) == "incident",
                                  col(TicketEvent.kind).in_(OUT_KINDS))
        .order_by(col(TicketEvent.id)).limit(500)
    ).scalars().all()
    queued = 0
    for ev in events:
        incident = session.get(Incident, ev.ticket_id)
        if incident is None or ev.at < now - MAX_AGE:
            continue
        for rcpt in _recipients(session, cfg, ev, incident):
            address = (rcpt.person.email or "").strip().lower()
            if not address or (not rcpt.person.active and rcpt.event != "caller_reply"):
                continue
            if address in cfg.own_addresses or _NO_MAIL.match(address):
                continue
            if session.execute(select(col(MailMessage.id)).where(
                    col(MailMessage.event_id) == ev.id,
                    col(MailMessage.address) == address)).first():
                continue
            subject, body = render(rcpt.event, rcpt.person.language,
                                   _context(session, incident, ev, rcpt, cfg),
                                   templates_dir=cfg.templates_dir)
            in_reply_to, references = _thread_headers(session, pk(incident), address)
            status, reason = "pending", None
            if cfg.rate_limit_per_hour and _sent_to(session, address, now) >= \
                    cfg.rate_limit_per_hour:
                status = "suppressed"
                reason = f"rate limit: {cfg.rate_limit_per_hour} mails to {address} an hour"
            session.add(MailMessage(
                direction="out", message_id=make_message_id(incident.number, cfg.domain),
                at=now, address=address, name=rcpt.person.name,
                subject=tagged(subject, incident.number)[:400], incident_id=incident.id,
                person_id=rcpt.person.id, action=rcpt.event, reason=reason, body=body,
                status=status, event_id=ev.id, in_reply_to=in_reply_to,
                references=references))
            session.flush()
            queued += 1
    horizon = session.execute(
        select(func.max(col(TicketEvent.id))).where(col(TicketEvent.id) > state.value,
                                               col(TicketEvent.at) <= now - SETTLE)
    ).scalar()
    if len(events) == 500:
        horizon = min(horizon or 0, events[-1].id)
    if horizon:
        state.value = max(state.value, int(horizon))
    return queued


def _sent_to(session: Session, address: str, now: datetime) -> int:
    return int(session.execute(
        select(func.count()).select_from(MailMessage).where(
            col(MailMessage.direction) == "out", col(MailMessage.address) == address,
            col(MailMessage.status).in_(("pending",
                                         "sent")), col(MailMessage.at) >= now - RATE_WINDOW)
    ).scalar_one())


@dataclass(frozen=True)
class OutgoingMail:
    id: int
    message_id: str
    address: str
    name: str | None
    subject: str
    body: str
    in_reply_to: str | None
    references: str | None
    action: str
    language: str


def pending_mail(session: Session, limit: int = 200) -> list[OutgoingMail]:
    rows = session.execute(
        select(MailMessage, col(Person.language))
        .outerjoin(Person, col(Person.id) == MailMessage.person_id)
        .where(col(MailMessage.direction) == "out", col(MailMessage.status) == "pending")
        .order_by(col(MailMessage.id)).limit(limit)
    ).all()
    return [OutgoingMail(m.id, m.message_id or "", m.address or "", m.name, m.subject or "",
                         m.body or "", m.in_reply_to, m.references, m.action, lang or "nb")
            for m, lang in rows]


MAX_ATTEMPTS = 5


def mark_sent(session: Session, mail_id: int, *, error: str | None = None,
              now: datetime | None = None) -> None:
    """After the SMTP answer: sent (and noted on the incident's timeline) or failed; a
    failure is retried until MAX_ATTEMPTS, then stays failed."""
    now = now or utcnow()
    row = session.get(MailMessage, mail_id, with_for_update=True)
    if row is None:
        return
    row.attempts += 1
    if error is None:
        row.status, row.at, row.reason = "sent", now, None
        if row.incident_id is not None:
            record_ticket_event(session, ticket_type="incident", ticket_id=row.incident_id,
                                kind="mail_out", actor_id=None,
                                comment=f"to {row.address}: {row.subject}", at=now)
    else:
        row.reason = error[:400]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"


def mark_unread(session: Session, rows: Sequence[IncidentRow]) -> None:
    """Set `mail_unread` on queue rows whose caller wrote and no agent has opened it."""
    unread = unread_replies(session, [r["id"] for r in rows])
    for row in rows:
        row["mail_unread"] = row["id"] in unread
