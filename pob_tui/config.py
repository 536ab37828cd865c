"""Settings: defaults < config.toml < environment (POB_*) < command-line flags.

The file is found at `--config PATH`, else `$POB_CONFIG`, else
`platformdirs.user_config_path("pob") / "config.toml"` (a missing default file is fine).
Every key is declared once in `SCHEMA` with its type and default; `config.example.toml` is
checked against it by a test, so the two cannot drift apart.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from pob_tui.errors import ConfigError
from pob_tui.i18n import _

APP_NAME = "pob"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_database_url() -> str:
    """SQLite file in the user's data directory: the embedded default."""
    path = platformdirs.user_data_path(APP_NAME) / "pob.sqlite3"
    return f"sqlite:///{path}"


def default_config_path() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def state_path() -> Path:
    """What the TUI remembers between runs (the chosen theme): the user's state folder,
    not the config file, which stays the user's own."""
    return platformdirs.user_state_path(APP_NAME) / "tui.json"


def load_ui_state() -> dict[str, Any]:
    """The remembered TUI state; empty when there is none or it cannot be read."""
    import json

    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_ui_state(**values: Any) -> None:
    """Merge `values` into the remembered state: folder 0700, file 0600, written whole
    (a temporary file renamed over it). A state that cannot be written is not an error."""
    import json

    path = state_path()
    data = {**load_ui_state(), **values}
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError:
        return


def default_export_dir() -> Path:
    """Where the TUI writes exports when `[general] export_dir` is empty."""
    return Path(platformdirs.user_documents_dir())


@dataclass(frozen=True)
class Key:
    """One setting: its TOML type (as a name used in error messages) and default."""

    # "string", "number", "integer", "boolean", "weekdays", "time", "list" (of MM-DD days),
    # "strings" (any strings), "table", "fields" (a sub-table of string values with fixed
    # names, merged over the default) or "mapping" (a free-form sub-table of string ->
    # string, e.g. directory value -> unit code)
    kind: str
    default: Any
    doc: str


# section -> key -> Key. `keymap` and `freeze` are free-form and validated separately.
SCHEMA: dict[str, dict[str, Key]] = {
    "database": {
        "url": Key("string", None, "SQLAlchemy URL; default is a SQLite file in the data dir"),
        "auto_upgrade": Key("boolean", True, "bring the schema up to date on start"),
        "busy_timeout_ms": Key("integer", 5000, "SQLite: how long to wait for a lock"),
    },
    "general": {
        "language": Key("string", "", "'en' or 'nb'; empty: from the locale"),
        "timezone": Key("string", "Europe/Oslo", "zone for showing times and calendars"),
        "theme": Key("string", "textual-dark", "Textual theme, e.g. textual-light"),
        "export_dir": Key("string", "", "folder the TUI writes exports to; empty: the "
                          "user's documents folder"),
    },
    "sla": {
        "warning_threshold": Key("number", 0.75, "share of a clock's time that marks it at risk"),
        "check_interval_minutes": Key("integer", 5, "how often the app checks for breaches"),
    },
    "calendar": {
        "closing_days": Key("list", ["12-24", "12-31"], "local closing days, MM-DD"),
        "short_days": Key("table", {}, "shortened days: rule or MM-DD -> closing HH:MM"),
    },
    "cab": {
        "weekdays": Key("weekdays", ["tue", "thu"], "CAB meeting weekdays"),
        "time": Key("time", "10:00", "CAB meeting time, local"),
        "cutoff_working_days": Key("integer", 1, "working days before a meeting to get on it"),
    },
    "costs": {
        "hourly_rate": Key("number", 950, "NOK per agent hour, for time spent on tickets"),
        "currency": Key("string", "NOK", "currency shown on reports"),
    },
    "mail": {
        "imap_url": Key("string", "", "imaps://host:993 or imap://host:143 (STARTTLS)"),
        "imap_user": Key("string", "", "IMAP login"),
        "imap_password": Key("string", "", "IMAP password (or env POB_MAIL_IMAP_PASSWORD)"),
        "imap_password_command": Key("string", "", "command printing the IMAP password"),
        "imap_oauth2_token_command": Key("string", "", "command printing an XOAUTH2 token"),
        "folder": Key("string", "INBOX", "mailbox to read"),
        "processed_folder": Key("string", "", "move taken messages here; empty: flag them"),
        "held_folder": Key("string", "", "move unparseable messages here; empty: flag them"),
        "smtp_url": Key("string", "", "smtps://host:465 or smtp://host:587 (STARTTLS)"),
        "smtp_user": Key("string", "", "SMTP login; empty: no auth"),
        "smtp_password": Key("string", "", "SMTP password (or env POB_MAIL_SMTP_PASSWORD)"),
        "smtp_password_command": Key("string", "", "command printing the SMTP password"),
        "from_address": Key("string", "", "the desk's address, e.g. servicedesk@kommune.no"),
        "message_id_domain": Key("string", "", "domain of our Message-IDs; empty: from_address"),
        "ca_file": Key("string", "", "CA bundle for IMAP/SMTP TLS; empty: the system's"),
        "max_attachment_mb": Key("number", 10, "attachments above this are listed, not kept"),
        "rate_limit_per_hour": Key("integer", 20, "mails one address may trigger per hour"),
        "monitoring_senders": Key("strings", [], "alert senders that may open incidents"),
        "notify_caller": Key("strings", ["acknowledgement", "comment", "resolved"],
                             "events that mail the caller"),
        "notify_assignee": Key("strings", ["caller_reply"], "events that mail the assignee"),
        "templates_dir": Key("string", "", "directory of templates overriding the built-in"),
    },
    "phone": {
        "region": Key("string", "NO", "country of phone numbers written without +, e.g. NO"),
        "ring_wait_seconds": Key("number", 3, "how long `pob call ringing` waits for a pob"),
    },
    "import": {
        "max_line_bytes": Key("integer", 1048576, "longest line a CSV import reads (bytes)"),
        "max_file_mb": Key("integer", 200, "largest file a CSV import reads (MiB)"),
    },
    "serve": {
        "listen": Key("string", "127.0.0.1:2222", "pob serve: HOST:PORT to listen on"),
        "host_key": Key("string", "", "pob serve: host key file; empty: in the data dir"),
        "idle_timeout_minutes": Key("integer", 60, "pob serve: end idle sessions; 0: never"),
        "max_sessions": Key("integer", 100, "pob serve: open sessions at most"),
        "max_sessions_per_agent": Key("integer", 5, "pob serve: open sessions per agent"),
        "mail_watch": Key("boolean", False, "pob serve: fetch mail every minute"),
        "directory_sync_at": Key("time", None, "pob serve: daily directory sync, HH:MM"),
    },
}
FREEFORM_SECTIONS = {"keymap", "freeze"}

# pob person field -> directory attribute: Active Directory's names (issue 16's contract).
DIRECTORY_ATTRIBUTES: dict[str, str] = {
    "id": "objectGUID",
    "username": "sAMAccountName",
    "first_name": "givenName",
    "last_name": "sn",
    "email": "mail",
    "phone": "telephoneNumber",
    "mobile": "mobile",
    "title": "title",
    "org_unit": "department",
    "location": "physicalDeliveryOfficeName",
    "disabled": "userAccountControl",
    "manager": "manager",
}
SCHEMA["directory"] = {
    "url": Key("string", "", "ldaps://host or ldap://host; empty: no directory sync"),
    "start_tls": Key("boolean", False, "ldap:// upgraded with StartTLS"),
    "ca_file": Key("string", "", "CA bundle for a private CA; empty: the system's"),
    "bind_dn": Key("string", "", "DN of the sync account"),
    "password": Key("string", "", "its password (or password_command, or the environment)"),
    "password_command": Key("string", "", "a command that prints the password"),
    "base_dn": Key("string", "", "where people are searched"),
    "filter": Key("string", "(&(objectClass=user)(objectCategory=person))", "LDAP filter"),
    "page_size": Key("integer", 500, "entries per page (paged-results control)"),
    "timeout_seconds": Key("integer", 30, "connect and per-request timeout"),
    "max_deactivate_share": Key("number", 0.05, "refuse a run deactivating more (unless --force)"),
    "org_unit_from": Key("string", "attribute", "'attribute' or 'ou_level'"),
    "ou_level": Key("integer", 1, "1 = the OU right under base_dn"),
    "attributes": Key("fields", DIRECTORY_ATTRIBUTES, "pob field = directory attribute"),
    "org_units": Key("mapping", {}, "directory value = pob org-unit code"),
}


@dataclass(frozen=True)
class FreezeWindow:
    name: str
    start: date
    end: date


@dataclass(frozen=True)
class Settings:
    """Resolved settings, immutable once loaded."""

    database_url: str = field(default_factory=default_database_url)
    auto_upgrade: bool = True
    busy_timeout_ms: int = 5000
    language: str = ""
    timezone: str = "Europe/Oslo"
    theme: str = "textual-dark"
    export_dir: str = ""
    sla_warning_threshold: float = 0.75
    sla_check_interval_minutes: int = 5
    closing_days: tuple[str, ...] = ("12-24", "12-31")
    short_days: Mapping[str, str] = field(default_factory=dict)
    cab_weekdays: tuple[int, ...] = (1, 3)
    cab_time: time = time(10, 0)
    cab_cutoff_working_days: int = 1
    hourly_rate: Decimal = Decimal("950")
    currency: str = "NOK"
    phone_region: str = "NO"
    ring_wait_seconds: float = 3.0
    import_max_line_bytes: int = 1048576
    import_max_file_mb: int = 200
    serve_listen: str = "127.0.0.1:2222"
    serve_host_key: str = ""
    serve_idle_timeout_minutes: int = 60
    serve_max_sessions: int = 100
    serve_max_sessions_per_agent: int = 5
    serve_mail_watch: bool = False
    serve_directory_sync_at: time | None = None
    keymap: Mapping[str, str] = field(default_factory=dict)
    freeze: tuple[FreezeWindow, ...] = ()
    mail_imap_url: str = ""
    mail_imap_user: str = ""
    mail_imap_password: str = ""
    mail_imap_password_command: str = ""
    mail_imap_oauth2_token_command: str = ""
    mail_folder: str = "INBOX"
    mail_processed_folder: str = ""
    mail_held_folder: str = ""
    mail_smtp_url: str = ""
    mail_smtp_user: str = ""
    mail_smtp_password: str = ""
    mail_smtp_password_command: str = ""
    mail_from_address: str = ""
    mail_message_id_domain: str = ""
    mail_ca_file: str = ""
    mail_max_attachment_mb: float = 10
    mail_rate_limit_per_hour: int = 20
    mail_monitoring_senders: tuple[str, ...] = ()
    mail_notify_caller: tuple[str, ...] = ("acknowledgement", "comment", "resolved")
    mail_notify_assignee: tuple[str, ...] = ("caller_reply",)
    mail_templates_dir: str = ""
    directory_url: str = ""
    directory_start_tls: bool = False
    directory_ca_file: str = ""
    directory_bind_dn: str = ""
    directory_password: str = ""
    directory_password_command: str = ""
    directory_base_dn: str = ""
    directory_filter: str = "(&(objectClass=user)(objectCategory=person))"
    directory_page_size: int = 500
    directory_timeout_seconds: int = 30
    directory_max_deactivate_share: float = 0.05
    directory_org_unit_from: str = "attribute"
    directory_ou_level: int = 1
    directory_attributes: Mapping[str, str] = field(
        default_factory=lambda: dict(DIRECTORY_ATTRIBUTES))
    directory_org_units: Mapping[str, str] = field(default_factory=dict)
    config_path: Path | None = None

    @property
    def export_path(self) -> Path:
        """The folder TUI exports go to: `[general] export_dir` (~ expanded), else the
        user's documents folder."""
        if self.export_dir.strip():
            return Path(self.export_dir).expanduser()
        return default_export_dir()

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def directory_configured(self) -> bool:
        """True when `[directory] url` is set: people's directory-owned fields are read-only."""
        return bool(self.directory_url.strip())


ATTR = {
    ("database", "url"): "database_url",
    ("database", "auto_upgrade"): "auto_upgrade",
    ("database", "busy_timeout_ms"): "busy_timeout_ms",
    ("general", "language"): "language",
    ("general", "timezone"): "timezone",
    ("general", "theme"): "theme",
    ("general", "export_dir"): "export_dir",
    ("sla", "warning_threshold"): "sla_warning_threshold",
    ("sla", "check_interval_minutes"): "sla_check_interval_minutes",
    ("calendar", "closing_days"): "closing_days",
    ("calendar", "short_days"): "short_days",
    ("cab", "weekdays"): "cab_weekdays",
    ("cab", "time"): "cab_time",
    ("cab", "cutoff_working_days"): "cab_cutoff_working_days",
    ("costs", "hourly_rate"): "hourly_rate",
    ("costs", "currency"): "currency",
    **{("mail", name): f"mail_{name}" for name in SCHEMA["mail"]},
    ("phone", "region"): "phone_region",
    ("phone", "ring_wait_seconds"): "ring_wait_seconds",
    **{("directory", name): f"directory_{name}" for name in SCHEMA["directory"]},
    ("import", "max_line_bytes"): "import_max_line_bytes",
    ("import", "max_file_mb"): "import_max_file_mb",
    ("serve", "listen"): "serve_listen",
    ("serve", "host_key"): "serve_host_key",
    ("serve", "idle_timeout_minutes"): "serve_idle_timeout_minutes",
    ("serve", "max_sessions"): "serve_max_sessions",
    ("serve", "max_sessions_per_agent"): "serve_max_sessions_per_agent",
    ("serve", "mail_watch"): "serve_mail_watch",
    ("serve", "directory_sync_at"): "serve_directory_sync_at",
}

_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_MMDD_RE = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


def _shown(path: Path | str) -> str:
    """A file name as errors echo it: repr(), so a control character in it is inert."""
    return repr(str(path))


def _type_name(value: Any) -> str:
    names = {bool: _("boolean"), int: _("integer"), float: _("number"), str: _("string"),
             list: _("list"), dict: _("table")}
    return names.get(type(value), type(value).__name__)


def _convert(where: str, key: Key, value: Any) -> Any:
    """Check one raw value against its declared kind; return the typed value."""

    def bad(expected: str) -> ConfigError:
        return ConfigError(_("{where}: expected {expected}, got {type} {value}").format(
            where=where, expected=expected, type=_type_name(value), value=repr(value)))

    if key.kind == "string":
        if not isinstance(value, str):
            raise bad(_("a string"))
        return value
    if key.kind == "boolean":
        if not isinstance(value, bool):
            raise bad(_("true or false"))
        return value
    if key.kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad(_("a whole number >= 0"))
        return value
    if key.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 \
                or not math.isfinite(value):  # TOML allows nan and inf
            raise bad(_("a number >= 0"))
        return value
    if key.kind == "weekdays":
        if not isinstance(value, list) or not value or not all(
            isinstance(v, str) and v.lower()[:3] in WEEKDAYS for v in value
        ):
            raise bad(_("a list of weekdays like [\"tue\", \"thu\"]"))
        return tuple(sorted({WEEKDAYS.index(v.lower()[:3]) for v in value}))
    if key.kind == "time":
        if not isinstance(value, str) or not _TIME_RE.match(value):
            raise bad(_("a time \"HH:MM\""))
        hh, mm = value.split(":")
        return time(int(hh), int(mm))
    if key.kind == "list":
        if not isinstance(value, list) or not all(
            isinstance(v, str) and _MMDD_RE.match(v) for v in value
        ):
            raise bad(_("a list of days \"MM-DD\""))
        return tuple(value)
    if key.kind == "strings":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad(_("a list of strings"))
        return tuple(value)
    if key.kind == "table":
        if not isinstance(value, dict) or not all(
            isinstance(v, str) and _TIME_RE.match(v) for v in value.values()
        ):
            raise bad(_("a table of day -> \"HH:MM\""))
        return dict(value)
    if key.kind in ("fields", "mapping"):
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise bad(_("a table of names = \"strings\""))
        if key.kind == "mapping":
            return dict(value)
        unknown = sorted(set(value) - set(key.default))
        if unknown:
            raise ConfigError(_("{where}: unknown name {name}; expected one of {choices}")
                              .format(where=where, name=repr(unknown[0]),
                                      choices=", ".join(sorted(key.default))))
        return {**key.default, **value}
    raise AssertionError(key.kind)  # pragma: no cover


def _from_env(env: Mapping[str, str]) -> dict[tuple[str, str], Any]:
    """POB_<SECTION>_<KEY> values, parsed as TOML scalars where they look like one."""
    found: dict[tuple[str, str], Any] = {}
    for (section, name), _attr in ATTR.items():
        var = f"POB_{section}_{name}".upper()
        if var not in env:
            continue
        raw = env[var]
        kind = SCHEMA[section][name].kind
        value: Any = raw
        if kind != "string":
            try:
                value = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError:
                value = raw
        found[(section, name)] = (var, value)
    return found


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    database_url: str | None = None,
    language: str | None = None,
) -> Settings:
    """Resolve settings. Raises ConfigError naming file, key and expectation."""
    env = os.environ if env is None else env
    explicit = config_path is not None or bool(env.get("POB_CONFIG"))
    path = Path(config_path or env.get("POB_CONFIG") or default_config_path())
    values: dict[str, Any] = {}
    keymap: dict[str, str] = {}
    freeze: list[FreezeWindow] = []
    used_path: Path | None = None

    if path.is_file():
        used_path = path
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(_("{path}: not valid TOML: {error}").format(
                path=_shown(path), error=exc)) from None
        except RecursionError:  # tomllib recurses per nesting level
            raise ConfigError(_("{path}: not valid TOML: nested too deeply").format(
                path=_shown(path))) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(_("{where}: cannot be read: {error}").format(
                where=_shown(path), error=exc)) from None
        for section, body in data.items():
            if section not in SCHEMA and section not in FREEFORM_SECTIONS:
                raise ConfigError(
                    _("{path}: unknown section [{section}]; expected one of {choices}").format(
                        path=_shown(path), section=section,
                        choices=", ".join(sorted([*SCHEMA, *FREEFORM_SECTIONS])))
                )
            if section == "keymap":
                keymap = _keymap(path, body)
                continue
            if section == "freeze":
                freeze = _freeze(path, body)
                continue
            if not isinstance(body, dict):
                raise ConfigError(_("{path}: [{section}] must be a table").format(
                    path=_shown(path), section=section))
            for name, raw in body.items():
                if name not in SCHEMA[section]:
                    raise ConfigError(
                        _("{path}: unknown key {key}; expected one of {choices}").format(
                            path=_shown(path), key=f"{section}.{name}",
                            choices=", ".join(sorted(SCHEMA[section])))
                    )
                key = SCHEMA[section][name]
                values[ATTR[(section, name)]] = _convert(
                    f"{_shown(path)}: {section}.{name}", key, raw
                )
    elif explicit:
        raise ConfigError(_("{path}: config file not found").format(path=_shown(path)))

    for (section, name), (var, raw) in _from_env(env).items():
        values[ATTR[(section, name)]] = _convert(
            _("environment {var}").format(var=var), SCHEMA[section][name], raw
        )
    if database_url:
        values["database_url"] = database_url
    if language:
        values["language"] = language
    if values.get("database_url") is None:
        values.pop("database_url", None)
    if "hourly_rate" in values:
        try:
            values["hourly_rate"] = Decimal(str(values["hourly_rate"]))
        except InvalidOperation:  # pragma: no cover - validated as a number above
            raise ConfigError(_("{path}: costs.hourly_rate: expected a number").format(
                path=_shown(path))) from None
    origin = _shown(used_path) if used_path else _("environment")
    for attr, name in (("import_max_line_bytes", "import.max_line_bytes"),
                       ("import_max_file_mb", "import.max_file_mb")):
        if values.get(attr) == 0:
            raise ConfigError(_("{origin}: {key}: expected a whole number > 0, got 0").format(
                origin=origin, key=name))
    if "sla_warning_threshold" in values and not 0 < values["sla_warning_threshold"] < 1:
        raise ConfigError(
            _("{origin}: {key}: expected a number between 0 and 1, got {value}").format(
                origin=origin, key="sla.warning_threshold",
                value=values["sla_warning_threshold"])
        )
    tz = values.get("timezone", "Europe/Oslo")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            _("{origin}: general.timezone: expected an IANA time zone like Europe/Oslo, got "
              "{value}").format(origin=origin, value=repr(tz))
        ) from None
    _check_directory(values, used_path)
    lang = values.get("language", "")
    if lang not in ("", "en", "nb"):
        raise ConfigError(
            _("{origin}: general.language: expected 'en' or 'nb', got {value}").format(
                origin=origin, value=repr(lang))
        )
    return Settings(**values, keymap=keymap, freeze=tuple(freeze), config_path=used_path)


def _check_directory(values: dict[str, Any], where: Path | None) -> None:
    """Cross-key rules of [directory] (each value's type is already checked)."""
    origin = _shown(where) if where else _("environment")
    if values.get("directory_org_unit_from", "attribute") not in ("attribute", "ou_level"):
        raise ConfigError(_("{origin}: directory.org_unit_from: expected 'attribute' or "
                            "'ou_level', got {value}").format(
            origin=origin, value=repr(values["directory_org_unit_from"])))
    share = values.get("directory_max_deactivate_share", 0.05)
    if not 0 <= share <= 1:
        raise ConfigError(
            _("{origin}: {key}: expected a number between 0 and 1, got {value}").format(
                origin=origin, key="directory.max_deactivate_share", value=share))
    if values.get("directory_page_size", 500) < 1:
        raise ConfigError(_("{origin}: {key}: expected a whole number >= 1").format(
            origin=origin, key="directory.page_size"))
    url = values.get("directory_url", "")
    if url and not url.lower().startswith(("ldap://", "ldaps://")):
        raise ConfigError(_("{origin}: directory.url: expected ldap://host or ldaps://host, "
                            "got {value}").format(origin=origin, value=repr(url)))


def _keymap(path: Path, body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        raise ConfigError(_("{path}: [keymap] must be a table of binding id = \"keys\"").format(
            path=_shown(path)))
    for name, keys in body.items():
        if not isinstance(keys, str) or not keys.strip():
            raise ConfigError(
                _("{path}: keymap.{name}: expected keys as a string like \"ctrl+n\", got "
                  "{type}").format(path=_shown(path), name=name, type=_type_name(keys))
            )
        for key in keys.split(","):
            if not valid_key(key.strip()):
                raise ConfigError(
                    _("{path}: keymap.{name}: {key} is not a key; expected keys like \"ctrl+n\", "
                      "\"f2\" or \"x\", separated by commas").format(
                        path=_shown(path), name=name, key=repr(key.strip())))
    return dict(body)


_MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}


def valid_key(key: str) -> bool:
    """A key Textual can bind: modifiers joined by + and a key name or one character."""
    from textual.keys import KEY_NAME_REPLACEMENTS, Keys, key_to_character

    *mods, base = key.split("+") if not key.endswith("++") else [*key[:-2].split("+"), "+"]
    if not base or any(m not in _MODIFIERS for m in mods):
        return False
    if len(base) == 1:
        return base.isprintable() and not base.isspace()
    names = {k.value for k in Keys}
    return (base in names or base in KEY_NAME_REPLACEMENTS
            or base in KEY_NAME_REPLACEMENTS.values() or key_to_character(base) is not None)


def _freeze(path: Path, body: Any) -> list[FreezeWindow]:
    if not isinstance(body, list):
        raise ConfigError(
            _("{path}: freeze: expected [[freeze]] tables with name, start and end dates")
            .format(path=_shown(path))
        )
    windows = []
    for i, item in enumerate(body, start=1):
        where = f"{_shown(path)}: freeze #{i}"
        if not isinstance(item, dict) or set(item) - {"name", "start", "end"}:
            raise ConfigError(_("{where}: expected keys name, start, end").format(where=where))
        name, start, end = item.get("name"), item.get("start"), item.get("end")
        if not isinstance(name, str) or not isinstance(start, date) or not isinstance(end, date):
            raise ConfigError(_("{where}: expected name (string), start and end (dates)").format(
                where=where))
        if end < start:
            raise ConfigError(_("{where}: end {end} is before start {start}").format(
                where=where, end=end, start=start))
        windows.append(FreezeWindow(name, start, end))
    return windows
