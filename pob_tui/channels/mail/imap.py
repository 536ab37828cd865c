"""IMAP intake: `fetch_once` takes what is new, `run_watch` keeps at it (IDLE, else polling).

Each message is ingested and committed before it is moved (or flagged) on the server, so a
crash in between only means the next run sees it again, and it is then a duplicate. imap-tools
does the protocol; we keep the raw bytes (its message class keeps only a parsed copy).
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags
from imap_tools.errors import MailboxLoginError, UnexpectedCommandStatusError
from imap_tools.message import MailMessage as _ToolsMessage

from pob_tui.channels.mail.out import MailServerError, deliver_if_configured
from pob_tui.config import Settings
from pob_tui.errors import ConfigError
from pob_tui.mail.config import (
    MailConfig,
    imap_password,
    imap_token,
    mail_config,
    parse_url,
)

if TYPE_CHECKING:
    from imap_tools.mailbox import BaseMailBox

    from pob_tui.db import Database
    from pob_tui.services.mail import IngestResult

log = logging.getLogger(__name__)
IMAP_SCHEMES = {"imap": (143, False), "imaps": (993, True)}
IDLE_SECONDS = 5 * 60  # re-issue IDLE well inside the 29 minutes of RFC 2177
POLL_SECONDS = 60  # without IDLE
SEND_SECONDS = 10  # how often the outbox is sent while waiting


class _RawMessage(_ToolsMessage):
    """The raw bytes and the UID; no parse (pob parses with policy=default itself)."""

    def __init__(self, fetch_data: list[Any]) -> None:
        raw, uid_data, flag_data = self._get_message_data_parts(fetch_data)
        self.raw: bytes = raw
        self._raw_uid_data = uid_data
        self._raw_flag_data = flag_data


@dataclass(frozen=True)
class Fetched:
    file: str  # imap:<folder>/<uid>, the `file` key in JSON
    result: IngestResult


def connect(cfg: MailConfig) -> BaseMailBox:
    """Logged in, with `cfg.folder` selected. TLS always, except plain IMAP on loopback."""
    if not cfg.imap_url:
        raise ConfigError("mail.imap_url is not set; nothing to fetch from")
    url = parse_url(cfg.imap_url, "imap_url", IMAP_SCHEMES)
    context = ssl.create_default_context(cafile=cfg.ca_file or None)
    try:
        box: BaseMailBox
        if url.tls:
            box = MailBox(url.host, url.port, timeout=30, ssl_context=context)
        elif url.loopback:
            box = MailBoxUnencrypted(url.host, url.port, timeout=30)
            if "STARTTLS" in box.client.capabilities:
                box.client.starttls(context)
        else:
            box = MailBoxStartTls(url.host, url.port, timeout=30, ssl_context=context)
        try:
            if cfg.imap_oauth2_token_command:
                box.xoauth2(cfg.imap_user, imap_token(cfg), initial_folder=cfg.folder)
            else:
                box.login(cfg.imap_user, imap_password(cfg), initial_folder=cfg.folder)
        except imaplib.IMAP4.error as exc:  # XOAUTH2 (AUTHENTICATE) fails this way
            if "authentication" not in str(exc).lower():
                raise
            raise MailServerError(f"IMAP server {url.host}:{url.port} refused the login of "
                                  f"{cfg.imap_user!r}: {exc}") from None
    except MailboxLoginError:
        raise MailServerError(f"IMAP server {url.host}:{url.port} refused the login of "
                              f"{cfg.imap_user!r}") from None
    except (OSError, imaplib.IMAP4.error, UnexpectedCommandStatusError) as exc:
        raise MailServerError(f"IMAP server {url.host}:{url.port} cannot be used: "
                              f"{exc}") from None
    return box


def _ensure_folder(box: BaseMailBox, name: str) -> None:
    if name and not box.folder.exists(name):
        box.folder.create(name)


def fetch_with(box: BaseMailBox, cfg: MailConfig, database: Database) -> list[Fetched]:
    """Take every new message in the selected folder: unseen ones, or all of them when
    taken messages are moved away."""
    from pob_tui.services.mail import ingest_bytes

    _ensure_folder(box, cfg.processed_folder)
    _ensure_folder(box, cfg.held_folder)
    criteria = AND(all=True) if cfg.processed_folder else AND(seen=False)
    out: list[Fetched] = []
    box.email_message_class = _RawMessage
    try:
        for msg in box.fetch(criteria, mark_seen=False, bulk=50):
            with database.session() as session:
                result = ingest_bytes(session, msg.raw, cfg)  # type: ignore[attr-defined]
            uid = msg.uid or ""
            target = cfg.held_folder if result.action == "held" else cfg.processed_folder
            if target:
                box.move(uid, target)
            else:
                flags = [MailMessageFlags.SEEN]
                if result.action == "held":
                    flags.append(MailMessageFlags.FLAGGED)
                box.flag(uid, flags, True)
            out.append(Fetched(f"imap:{cfg.folder}/{uid}", result))
    except (OSError, imaplib.IMAP4.error, UnexpectedCommandStatusError) as exc:
        raise MailServerError(f"IMAP connection failed: {exc}") from None
    return out


def fetch_once(settings: Settings, database: Database) -> list[Fetched]:
    cfg = mail_config(settings)
    box = connect(cfg)
    try:
        return fetch_with(box, cfg, database)
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            box.logout()


def run_watch(settings: Settings, stop_event: threading.Event, *,
              database: Database | None = None,
              on_batch: Callable[[list[Fetched]], object] | None = None) -> None:
    """Take mail until `stop_event` is set: IDLE when the server has it, else poll every
    minute; after each batch, send the mail that is due. A lost connection is retried with
    back-off; the loop never ends on a server error. `pob serve` calls this in a thread."""
    from pob_tui.db import Database
    from pob_tui.services import live

    cfg = mail_config(settings)
    live.install()
    db = database or Database.open(settings)
    delay = 1.0
    while not stop_event.is_set():
        try:
            box = connect(cfg)
        except MailServerError as exc:
            log.warning("%s; retrying in %.0f s", exc, delay)
            stop_event.wait(delay)
            delay = min(delay * 2, 300)
            continue
        delay = 1.0
        try:
            idle = "IDLE" in box.client.capabilities
            while not stop_event.is_set():
                results = fetch_with(box, cfg, db)
                deliver_if_configured(settings, db)
                if on_batch is not None:
                    on_batch(results)
                if idle:
                    _idle_wait(box, stop_event, settings, db)
                else:
                    _poll_wait(stop_event, settings, db)
        except MailServerError as exc:
            log.warning("%s; reconnecting", exc)
        except (OSError, imaplib.IMAP4.error) as exc:
            log.warning("IMAP connection lost: %s; reconnecting", exc)
        finally:
            with contextlib.suppress(Exception):  # the connection may already be gone
                box.logout()


def _idle_wait(box: BaseMailBox, stop_event: threading.Event, settings: Settings,
               db: Database) -> None:
    """Wait in IDLE until the server reports something, the stop event is set, or the IDLE
    period ends. Short IDLE rounds keep the stop event responsive; every SEND_SECONDS the
    outbox is sent (comments made in the TUI go out without waiting for new mail)."""
    deadline = time.monotonic() + IDLE_SECONDS
    next_send = time.monotonic() + SEND_SECONDS
    while not stop_event.is_set() and time.monotonic() < deadline:
        responses = box.idle.wait(timeout=1.0)
        if responses:
            return
        if time.monotonic() >= next_send:
            # imap_tools' IdleManager has no annotations
            box.idle.stop()  # type: ignore[no-untyped-call]
            deliver_if_configured(settings, db)
            box.idle.start()  # type: ignore[no-untyped-call]
            next_send = time.monotonic() + SEND_SECONDS


def _poll_wait(stop_event: threading.Event, settings: Settings, db: Database) -> None:
    deadline = time.monotonic() + POLL_SECONDS
    while not stop_event.wait(SEND_SECONDS) and time.monotonic() < deadline:
        deliver_if_configured(settings, db)
