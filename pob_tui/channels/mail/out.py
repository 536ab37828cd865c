"""Mail out over SMTP: the outbox (services.mail) rendered into messages that can start no
loop, sent after the transaction that caused them has committed.

Every message carries `Auto-Submitted` and `X-Auto-Response-Suppress: All` (RFC 3834), a
Message-ID on our domain naming the incident, and In-Reply-To/References of the thread.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import TYPE_CHECKING

from pob_tui.config import Settings
from pob_tui.errors import ConfigError, PobError
from pob_tui.mail.config import (
    MailConfig,
    mail_config,
    parse_url,
    smtp_password,
)
from pob_tui.models import utcnow

if TYPE_CHECKING:
    from pob_tui.db import Database
    from pob_tui.services.mail import OutgoingMail

SMTP_SCHEMES = {"smtp": (587, False), "smtps": (465, True)}


class MailServerError(PobError):
    """The IMAP or SMTP server cannot be used."""

    exit_code = 3


@dataclass(frozen=True)
class DeliveryReport:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0


def build_message(cfg: MailConfig, mail: OutgoingMail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr(("Servicedesk", cfg.from_address)) if cfg.from_address else \
        f"pob@{cfg.domain}"
    msg["To"] = formataddr((mail.name or "", mail.address))
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = f"<{mail.message_id}>"
    if mail.in_reply_to:
        msg["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        msg["References"] = " ".join(f"<{m}>" for m in mail.references.split())
    # An acknowledgement answers the caller's message; the rest is generated (RFC 3834 5).
    msg["Auto-Submitted"] = "auto-replied" if mail.action == "acknowledgement" \
        else "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["Content-Language"] = mail.language
    msg.set_content(mail.body)
    return msg


def _tls_context(cfg: MailConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cfg.ca_file or None)


def connect_smtp(cfg: MailConfig) -> smtplib.SMTP:
    """An SMTP connection: implicit TLS (smtps) or STARTTLS; STARTTLS may only be skipped on
    a loopback address without a password (a relay on the same host)."""
    url = parse_url(cfg.smtp_url, "smtp_url", SMTP_SCHEMES)
    try:
        if url.tls:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(url.host, url.port, timeout=30,
                                                  context=_tls_context(cfg))
        else:
            conn = smtplib.SMTP(url.host, url.port, timeout=30)
            conn.ehlo()
            if conn.has_extn("starttls"):
                conn.starttls(context=_tls_context(cfg))
                conn.ehlo()
            elif not url.loopback or cfg.smtp_user:
                conn.close()
                raise MailServerError(f"SMTP server {url.host}:{url.port} offers no STARTTLS; "
                                      "pob sends mail over TLS only")
        if cfg.smtp_user:
            conn.login(cfg.smtp_user, smtp_password(cfg))
    except MailServerError:
        raise
    except (OSError, smtplib.SMTPException) as exc:
        raise MailServerError(f"SMTP server {url.host}:{url.port} cannot be used: "
                              f"{exc}") from None
    return conn


def deliver(settings: Settings, database: Database, *,
            now: datetime | None = None) -> DeliveryReport:
    """Queue what the audit trail asks for, then send the pending mail."""
    from pob_tui.services import mail as svc

    cfg = mail_config(settings)
    with database.session() as session:
        queued = svc.queue_outgoing(session, cfg, now)
    with database.session() as session:
        pending = svc.pending_mail(session)
    if not cfg.smtp_url:
        return DeliveryReport(queued=queued)
    if not pending:
        return DeliveryReport(queued=queued)
    if not cfg.from_address:
        raise ConfigError("mail.from_address is required to send mail")
    sent = failed = 0
    conn = connect_smtp(cfg)
    try:
        for mail in pending:
            error = None
            try:
                refused = conn.send_message(build_message(cfg, mail),
                                            from_addr=cfg.from_address,
                                            to_addrs=[mail.address])
                if refused:
                    error = f"refused: {refused}"
            except smtplib.SMTPRecipientsRefused as exc:
                error = f"refused: {exc.recipients}"
            except smtplib.SMTPServerDisconnected:
                raise
            except smtplib.SMTPException as exc:
                error = str(exc)
            with database.session() as session:
                svc.mark_sent(session, mail.id, error=error, now=now)
            if error:
                failed += 1
            else:
                sent += 1
    except (OSError, smtplib.SMTPServerDisconnected) as exc:
        raise MailServerError(f"SMTP connection lost: {exc}") from None
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            conn.quit()
    with database.session() as session:
        from sqlalchemy import func, select
        from sqlmodel import col

        from pob_tui.models import MailMessage

        suppressed = int(session.execute(
            select(func.count()).select_from(MailMessage)
            .where(col(MailMessage.status) == "suppressed")).scalar_one())
    return DeliveryReport(queued, sent, failed, suppressed)


def deliver_if_configured(settings: Settings, database: Database) -> DeliveryReport | None:
    """After a command committed a change: send what it caused, when SMTP is set up. A mail
    server that cannot be reached leaves the mail pending for the next run (one line on
    stderr), and the change stays saved."""
    if not settings.mail_smtp_url:
        return None
    try:
        return deliver(settings, database)
    except MailServerError as exc:
        import sys

        print(f"pob: {exc}; the mail stays queued", file=sys.stderr)
        return None
