"""The `[mail]` settings as one small value, with the secrets resolved on demand."""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from urllib.parse import urlsplit

from pob_tui.config import Settings
from pob_tui.errors import ConfigError


@dataclass(frozen=True)
class MailConfig:
    imap_url: str = ""
    imap_user: str = ""
    imap_password: str = ""
    imap_password_command: str = ""
    imap_oauth2_token_command: str = ""
    folder: str = "INBOX"
    processed_folder: str = ""
    held_folder: str = ""
    smtp_url: str = ""
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_password_command: str = ""
    from_address: str = ""
    message_id_domain: str = ""
    ca_file: str = ""
    max_attachment_mb: float = 10
    rate_limit_per_hour: int = 20
    monitoring_senders: tuple[str, ...] = ()
    notify_caller: tuple[str, ...] = ("acknowledgement", "comment", "resolved")
    notify_assignee: tuple[str, ...] = ("caller_reply",)
    templates_dir: str = ""

    @property
    def domain(self) -> str:
        """Domain of our Message-IDs."""
        if self.message_id_domain:
            return self.message_id_domain.lower()
        if "@" in self.from_address:
            return self.from_address.rsplit("@", 1)[1].strip(" >").lower()
        return "pob.invalid"

    @property
    def max_attachment_bytes(self) -> int:
        return int(self.max_attachment_mb * 1024 * 1024)

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset({self.from_address.lower()} if self.from_address else set())


def mail_config(settings: Settings) -> MailConfig:
    return MailConfig(**{name: getattr(settings, f"mail_{name}")
                         for name in MailConfig.__dataclass_fields__})


def _run(command: str, what: str) -> str:
    """A secret printed by a command (pass, secret-tool, an OAuth2 helper)."""
    try:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"mail.{what}: cannot run {command!r}: {exc}") from None
    if done.returncode != 0:
        raise ConfigError(f"mail.{what}: {command!r} exited with status {done.returncode}")
    return done.stdout.strip()


def imap_password(cfg: MailConfig) -> str:
    if cfg.imap_password:
        return cfg.imap_password
    if os.environ.get("POB_MAIL_IMAP_PASSWORD"):
        return os.environ["POB_MAIL_IMAP_PASSWORD"]
    if cfg.imap_password_command:
        return _run(cfg.imap_password_command, "imap_password_command")
    return ""


def imap_token(cfg: MailConfig) -> str:
    return _run(cfg.imap_oauth2_token_command, "imap_oauth2_token_command")


def smtp_password(cfg: MailConfig) -> str:
    if cfg.smtp_password:
        return cfg.smtp_password
    if os.environ.get("POB_MAIL_SMTP_PASSWORD"):
        return os.environ["POB_MAIL_SMTP_PASSWORD"]
    if cfg.smtp_password_command:
        return _run(cfg.smtp_password_command, "smtp_password_command")
    return ""


@dataclass(frozen=True)
class ServerUrl:
    scheme: str
    host: str
    port: int
    tls: bool  # implicit TLS (imaps/smtps); otherwise STARTTLS

    @property
    def loopback(self) -> bool:
        return self.host in ("127.0.0.1", "::1", "localhost")


def parse_url(url: str, key: str, schemes: dict[str, tuple[int, bool]]) -> ServerUrl:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(f"mail.{key}: expected {' or '.join(f'{s}://host:port' for s in schemes)}"
                          f", got {url!r}")
    default_port, tls = schemes[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise ConfigError(f"mail.{key}: bad port in {url!r}") from None
    return ServerUrl(parts.scheme, parts.hostname, port, tls)
