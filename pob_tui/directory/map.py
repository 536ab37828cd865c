"""One directory entry -> one PersonRecord (pure, apart from ldap3's DN parser)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Column widths of `person` (models/org.py): longer directory values are cut, not refused.
WIDTHS = {"username": 64, "first_name": 100, "last_name": 100, "title": 100, "phone": 32,
          "email": 200}
ACCOUNTDISABLE = 0x2
"""userAccountControl bit 2: the account is disabled."""


@dataclass(frozen=True)
class PersonRecord:
    """A person as the directory says; `unit_value`/`location_value` are raw directory values
    (resolved to pob codes by the diff)."""

    directory_id: str
    username: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    title: str | None
    unit_value: str | None
    location_value: str | None
    disabled: bool
    dn: str = ""
    manager_dn: str | None = None
    """The entry's `manager` (a DN): who the person reports to, for the unit's head."""


def canonical_id(attribute: str, raw: bytes) -> str:
    """objectGUID (16 bytes, little-endian fields as Windows stores it) -> its canonical
    string '{...}' without braces, lowercased; entryUUID and other ids: the text as is."""
    if attribute.lower() == "objectguid" and len(raw) == 16:
        return str(uuid.UUID(bytes_le=raw))
    return raw.decode("utf-8", "replace").strip()


def _first(attrs: Mapping[str, Sequence[bytes]], name: str) -> bytes | None:
    if not name:
        return None
    values = attrs.get(name)
    if values is None:  # ldap3 keys raw attributes as the server spells them
        lowered = name.lower()
        for key, vals in attrs.items():
            if key.lower() == lowered:
                values = vals
                break
    if not values:
        return None
    return values[0]


def _text(attrs: Mapping[str, Sequence[bytes]], name: str, field: str | None = None
          ) -> str | None:
    raw = _first(attrs, name)
    if raw is None:
        return None
    value = raw.decode("utf-8", "replace").strip()
    if not value:
        return None
    width = WIDTHS.get(field or "")
    return value[:width] if width else value


def ou_at_level(dn: str, base_dn: str, level: int) -> str | None:
    """The OU `level` steps below base_dn on the entry's DN path (1 = right under it)."""
    from ldap3.utils.dn import parse_dn

    try:
        rdns = parse_dn(dn, escape=False, strip=True)
        base = parse_dn(base_dn, escape=False, strip=True)
    except Exception:
        return None
    path = rdns[1:len(rdns) - len(base)]  # between the entry's own RDN and the base
    path.reverse()
    if level < 1 or level > len(path):
        return None
    attr, value, _sep = path[level - 1]
    return value if attr.lower() == "ou" else None


def dn_key(dn: str) -> str:
    """A DN in a form two spellings of it share (case, spaces around separators, escapes),
    so a `manager` value finds the entry it names."""
    if not any(ch in dn for ch in '\\"+;#<>'):
        # The common case, no escapes or multi-valued RDNs: split by hand (ldap3's parser
        # costs ~0.1 ms a DN, seconds over a municipality's manager links).
        parts = (part.split("=", 1) for part in dn.split(","))
        return ",".join(f"{kv[0].strip().casefold()}={kv[1].strip().casefold()}"
                        if len(kv) == 2 else kv[0].strip().casefold() for kv in parts)
    from ldap3.utils.dn import parse_dn

    try:
        rdns = parse_dn(dn, escape=False, strip=True)
    except Exception:
        return dn.strip().casefold()
    return ",".join(f"{attr.casefold()}={value.casefold()}" for attr, value, _sep in rdns)


def map_entry(dn: str, attrs: Mapping[str, Sequence[bytes]], *,
              attributes: Mapping[str, str], base_dn: str, org_unit_from: str,
              ou_level: int) -> PersonRecord | None:
    """None when the entry lacks an id or a username (it cannot be matched safely)."""
    id_attr = attributes.get("id", "")
    raw_id = _first(attrs, id_attr)
    username = _text(attrs, attributes.get("username", ""), "username")
    if raw_id is None or not username:
        return None
    first = _text(attrs, attributes.get("first_name", ""), "first_name") or ""
    last = _text(attrs, attributes.get("last_name", ""), "last_name") or ""
    phone = _text(attrs, attributes.get("phone", ""), "phone") or \
        _text(attrs, attributes.get("mobile", ""), "phone")
    disabled = False
    flag = _text(attrs, attributes.get("disabled", ""))
    if flag:
        try:
            disabled = bool(int(flag) & ACCOUNTDISABLE)
        except ValueError:
            disabled = False
    if org_unit_from == "ou_level":
        unit = ou_at_level(dn, base_dn, ou_level)
    else:
        unit = _text(attrs, attributes.get("org_unit", ""))
    return PersonRecord(
        directory_id=canonical_id(id_attr, raw_id),
        username=username,
        first_name=first or username,
        last_name=last,
        email=_text(attrs, attributes.get("email", ""), "email"),
        phone=phone,
        title=_text(attrs, attributes.get("title", ""), "title"),
        unit_value=unit,
        location_value=_text(attrs, attributes.get("location", "")),
        disabled=disabled,
        dn=dn,
        manager_dn=_text(attrs, attributes.get("manager", "")),
    )
