"""Reading people from LDAP with ldap3: TLS, the bind, and a paged subtree search."""

from __future__ import annotations

import contextlib
import shlex
import ssl
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pob_tui.config import Settings
from pob_tui.directory import DirectoryUnavailable
from pob_tui.errors import ConfigError

PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"

RawEntry = tuple[str, Mapping[str, list[bytes]]]
"""(DN, attribute name -> raw values): raw bytes, so objectGUID keeps its 16 bytes."""


@dataclass(frozen=True)
class DirectoryConfig:
    """What a sync needs from `[directory]`, derived from Settings once per run."""

    url: str
    start_tls: bool
    ca_file: str
    bind_dn: str
    password: str
    base_dn: str
    filter: str
    page_size: int
    timeout: int
    max_deactivate_share: float
    org_unit_from: str
    ou_level: int
    attributes: Mapping[str, str]
    org_units: Mapping[str, str]

    @classmethod
    def from_settings(cls, settings: Settings) -> DirectoryConfig:
        if not settings.directory_url.strip():
            raise ConfigError("directory.url is not set: there is no directory to sync from")
        if not settings.directory_base_dn.strip():
            raise ConfigError("directory.base_dn is not set")
        return cls(
            url=settings.directory_url.strip(), start_tls=settings.directory_start_tls,
            ca_file=settings.directory_ca_file, bind_dn=settings.directory_bind_dn,
            password=resolve_password(settings), base_dn=settings.directory_base_dn,
            filter=settings.directory_filter, page_size=settings.directory_page_size,
            timeout=settings.directory_timeout_seconds,
            max_deactivate_share=settings.directory_max_deactivate_share,
            org_unit_from=settings.directory_org_unit_from, ou_level=settings.directory_ou_level,
            attributes=dict(settings.directory_attributes),
            org_units=dict(settings.directory_org_units),
        )

    def wanted_attributes(self) -> list[str]:
        return sorted({a for a in self.attributes.values() if a})


def resolve_password(settings: Settings) -> str:
    """The bind password: `password` (from the file, or POB_DIRECTORY_PASSWORD, which the
    config loader maps onto it), else the first line printed by `password_command`."""
    if settings.directory_password:
        return settings.directory_password
    command = settings.directory_password_command.strip()
    if not command:
        return ""
    try:
        proc = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"directory.password_command failed: {exc}") from None
    if proc.returncode != 0:
        raise ConfigError(f"directory.password_command exited with status {proc.returncode}")
    lines = proc.stdout.splitlines()
    return lines[0] if lines else ""


@dataclass
class ReadStats:
    entries: int = 0
    pages: int = 0


def _connect(cfg: DirectoryConfig) -> Any:  # an ldap3.Connection (ldap3 has no type hints)
    import ldap3
    from ldap3.core import exceptions as lx

    use_ssl = cfg.url.lower().startswith("ldaps://")
    tls = None
    if use_ssl or cfg.start_tls:
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=cfg.ca_file or None,
                        version=ssl.PROTOCOL_TLS_CLIENT)
    try:
        server = ldap3.Server(cfg.url, use_ssl=use_ssl, tls=tls, get_info=ldap3.NONE,
                              connect_timeout=cfg.timeout)
        conn = ldap3.Connection(server, user=cfg.bind_dn or None, password=cfg.password or None,
                                read_only=True, raise_exceptions=True,
                                receive_timeout=cfg.timeout, auto_referrals=False)
        conn.open()
        if cfg.start_tls:
            conn.start_tls()
        conn.bind()
    except lx.LDAPInvalidCredentialsResult:
        raise DirectoryUnavailable(
            f"directory {cfg.url}: the bind as {cfg.bind_dn!r} was refused (wrong password?)"
        ) from None
    except (lx.LDAPException, OSError, ssl.SSLError) as exc:
        raise DirectoryUnavailable(f"directory {cfg.url}: cannot connect: {_one_line(exc)}") \
            from None
    return conn


def _one_line(exc: BaseException) -> str:
    """ldap3 wraps socket errors in tuples of tuples: keep the words, drop the brackets."""
    inner: object = exc
    while isinstance(inner, BaseException | tuple | list) and len(
            args := (inner.args if isinstance(inner, BaseException) else inner)) == 1:
        inner = args[0]
    text = (str(inner).strip() or type(exc).__name__).splitlines()[0]
    if text[:2] in ("('", '("') and text[-3:] in ("',)", '",)'):  # a tuple ldap3 made a str
        text = text[2:-3]
    if "CERTIFICATE_VERIFY_FAILED" in text:
        text += " (is directory.ca_file the CA that signed the server's certificate?)"
    return text[:300]


def read_entries(cfg: DirectoryConfig, stats: ReadStats | None = None) -> Iterator[RawEntry]:
    """Every entry under base_dn matching the filter, a page at a time (paged-results
    control, RFC 2696: Active Directory serves at most 1,000 entries a search otherwise)."""
    import ldap3
    from ldap3.core import exceptions as lx

    stats = stats if stats is not None else ReadStats()
    conn = _connect(cfg)
    try:
        cookie: bytes | None = None
        page_size = cfg.page_size
        while True:
            try:
                conn.search(cfg.base_dn, cfg.filter, search_scope=ldap3.SUBTREE,
                            attributes=cfg.wanted_attributes(), paged_size=page_size,
                            paged_cookie=cookie, paged_criticality=True)
            except lx.LDAPAdminLimitExceededResult:
                # OpenLDAP refuses a page larger than its size.pr limit (AD caps it quietly
                # at MaxPageSize): ask again with smaller pages before anything was read.
                if cookie is None and page_size > 1:
                    page_size = max(1, page_size // 2)
                    continue
                raise DirectoryUnavailable(
                    f"directory {cfg.url}: the server refused page size {page_size}") from None
            except lx.LDAPNoSuchObjectResult:
                raise DirectoryUnavailable(
                    f"directory {cfg.url}: base DN {cfg.base_dn!r} does not exist") from None
            except (lx.LDAPException, OSError) as exc:
                raise DirectoryUnavailable(
                    f"directory {cfg.url}: search failed: {_one_line(exc)}") from None
            stats.pages += 1
            for item in conn.response or ():
                if item.get("type") != "searchResEntry":
                    continue  # referrals: not followed (auto_referrals off, like AD tools)
                stats.entries += 1
                yield item["dn"], item["raw_attributes"]
            control = (conn.result.get("controls") or {}).get(PAGED_RESULTS_OID) or {}
            cookie = (control.get("value") or {}).get("cookie")
            if not cookie:
                break
    finally:
        with contextlib.suppress(Exception):
            conn.unbind()
