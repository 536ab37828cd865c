"""CSV in and out for the catalog's master data.

Import rules, in the order they apply:

* The file is UTF-8, with or without a byte-order mark; the separator is `,` or `;`
  (Norwegian spreadsheets write `;`), sniffed from the header line.
* The header (line 1) must name every required column and nothing unknown; order is free.
* Every row is checked before anything is written: types, choices, lengths, references to
  rows in the database or earlier in the same file, and duplicate keys. Errors name the file,
  the line (header = line 1), the column and the reason; if there is any, nothing is written.
* Rows are matched on natural keys (codes, usernames, (service, year, kind) ...). A row that
  matches and differs updates the record; one that matches and agrees changes nothing, so the
  same file imported twice changes nothing the second time. An empty optional cell clears it.
* All rows land in one transaction.

Export writes the very same columns (`pob export KIND`), so export -> import round-trips.
Rows are written with SQLAlchemy Core in bulk: 140,000 usage rows would take minutes as ORM
objects.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlmodel
from sqlalchemy import Table, bindparam, select, update
from sqlmodel import Session, SQLModel

from pob_tui.errors import InvalidInput
from pob_tui.i18n import _
from pob_tui.models import (
    CallTemplate,
    CiRelation,
    ConfigItem,
    Funding,
    Location,
    OrgUnit,
    Person,
    Service,
    ServiceCost,
    Subscription,
    Team,
    UsageRecord,
)
from pob_tui.models.catalog import COST_KINDS, LIFECYCLES
from pob_tui.models.cmdb import CI_CLASSES, RELATION_KINDS
from pob_tui.services.incidents import RESOLUTION_CODES
from pob_tui.textsafe import csv_row, csv_uncell

MAX_ERRORS = 50


class ImportFailed(InvalidInput):
    """The file has errors; `errors` lists them all, the message says how many and shows
    them one per line."""

    def __init__(self, errors: list[str]) -> None:
        shown = errors[:MAX_ERRORS]
        more = len(errors) - len(shown)
        text = _("{n} error(s), nothing imported:").format(n=len(errors)) + "\n" \
            + "\n".join(shown)
        if more:
            text += "\n" + _("... and {more} more").format(more=more)
        super().__init__(text)
        self.errors = errors


# --------------------------------------------------------------------------- column types


class CellError(ValueError):
    pass


def _text(max_len: int) -> Callable[[str], str]:
    def parse(v: str) -> str:
        if len(v) > max_len:
            raise CellError(_("at most {limit} characters, got {n}").format(limit=max_len,
                                                                            n=len(v)))
        return v
    return parse


_ASCII_INT = re.compile(r"[+-]?[0-9]+\Z")
# int() and Decimal() also take 1_000, 1e3 and digits of other scripts (٣): a spreadsheet
# would not, so neither do we.
_ASCII_AMOUNT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?\Z")


def _int(v: str) -> int:
    if not _ASCII_INT.match(v):
        raise CellError(_("expected a whole number, got {text}").format(text=repr(v)))
    return int(v)


def _year(v: str) -> int:
    y = _int(v)
    if not 1900 <= y <= 2999:
        raise CellError(_("expected a year like 2026, got {text}").format(text=repr(v)))
    return y


def _bool(v: str) -> bool:
    low = v.lower()
    if low in ("true", "yes", "ja", "1", "x"):
        return True
    if low in ("false", "no", "nei", "0"):
        return False
    raise CellError(_("expected true or false, got {text}").format(text=repr(v)))


def _date(v: str) -> date:
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise CellError(_("expected a date YYYY-MM-DD, got {text}").format(text=repr(v))
                        ) from None


def _month(v: str) -> date:
    try:
        d = date.fromisoformat(v if len(v) > 7 else v + "-01")
    except ValueError:
        raise CellError(_("expected a month YYYY-MM, got {text}").format(text=repr(v))
                        ) from None
    return d.replace(day=1)


def _money(v: str) -> Decimal:
    raw = v.replace(" ", "").replace("\u00a0", "")
    if "," in raw and "." not in raw:
        raw = raw.replace(",", ".")  # Norwegian decimal comma
    not_amount = _("expected an amount like 1234.50, got {text}")
    if not _ASCII_AMOUNT.match(raw):
        raise CellError(not_amount.format(text=repr(v)))
    try:
        d = Decimal(raw)
    except InvalidOperation:
        raise CellError(not_amount.format(text=repr(v))) from None
    if not d.is_finite() or d != d.quantize(Decimal("0.01")):
        raise CellError(_("expected an amount with at most two decimals, got {text}").format(
            text=repr(v)))
    if abs(d) >= Decimal("1e12"):
        raise CellError(_("amount too large: {text}").format(text=repr(v)))
    return d.quantize(Decimal("0.01"))


def _choice(values: Sequence[str]) -> Callable[[str], str]:
    def parse(v: str) -> str:
        if v not in values:
            raise CellError(_("expected one of {choices}, got {text}").format(
                choices=", ".join(values), text=repr(v)))
        return v
    return parse


def _range(lo: int, hi: int) -> Callable[[str], int]:
    def parse(v: str) -> int:
        n = _int(v)
        if not lo <= n <= hi:
            raise CellError(_("expected {lo}-{hi}, got {n}").format(lo=lo, hi=hi, n=n))
        return n
    return parse


_TEXT200 = _text(200)


@dataclass(frozen=True)
class Col:
    """One CSV column. `attr` is the model attribute; `ref` (model, key attribute) makes the
    cell a natural key that is looked up to an id; `self_ref` refers to the same file/table
    and is set after the rows exist."""

    name: str
    attr: str
    parse: Callable[[str], Any] = _TEXT200
    required: bool = False
    ref: tuple[type[SQLModel], str] | None = None
    self_ref: bool = False
    default: Any = None
    doc: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[SQLModel]
    columns: tuple[Col, ...]
    key: tuple[str, ...]  # attrs forming the natural key
    doc: str = ""
    order: tuple[str, ...] = field(default=())

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


def _ref(model: type[SQLModel], key: str) -> tuple[type[SQLModel], str]:
    return (model, key)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("org-units", OrgUnit, (
        Col("code", "code", _text(32), True), Col("name", "name", _text(200), True),
        Col("kind", "kind", _choice(("sector", "unit")), default="unit"),
        Col("parent", "parent_id", _text(32), ref=_ref(OrgUnit, "code"), self_ref=True,
            doc="code of the unit above"),
        Col("cost_centre", "cost_centre", _text(32)),
        Col("customer_manager", "customer_manager_id", _text(64),
            ref=_ref(Person, "username"), doc="username"),
        Col("active", "active", _bool, default=True),
    ), ("code",), "sectors and units; import people after, then this file again for managers"),
    Kind("locations", Location, (
        Col("code", "code", _text(32), True), Col("name", "name", _text(200), True),
        Col("kind", "kind", _text(32), default="office"), Col("address", "address"),
        Col("ring", "ring", _range(1, 9)), Col("active", "active", _bool, default=True),
    ), ("code",)),
    Kind("people", Person, (
        Col("username", "username", _text(64), True),
        Col("first_name", "first_name", _text(100), True),
        Col("last_name", "last_name", _text(100), True),
        Col("title", "title", _text(100)), Col("phone", "phone", _text(32)),
        Col("email", "email", _text(200)),
        Col("org_unit", "org_unit_id", _text(32), ref=_ref(OrgUnit, "code")),
        Col("location", "location_id", _text(32), ref=_ref(Location, "code")),
        Col("vip", "vip", _bool, default=False), Col("active", "active", _bool, default=True),
        Col("language", "language", _choice(("nb", "en")), default="nb",
            doc="language of mail to this person: nb or en"),
    ), ("username",)),
    Kind("teams", Team, (
        Col("code", "code", _text(32), True), Col("name", "name", _text(200), True),
        Col("kind", "kind", _choice(("service_desk", "second_line", "supplier")),
            default="second_line"),
        Col("email", "email", _text(200)), Col("active", "active", _bool, default=True),
    ), ("code",)),
    Kind("services", Service, (
        Col("code", "code", _text(32), True), Col("name", "name", _text(200), True),
        Col("description", "description", _text(4000)), Col("keywords", "keywords", _text(400)),
        Col("category", "category", _text(64)),
        Col("owner_team", "owner_team_id", _text(32), ref=_ref(Team, "code")),
        Col("support_team", "support_team_id", _text(32), ref=_ref(Team, "code")),
        Col("owner", "owner_person_id", _text(64), ref=_ref(Person, "username")),
        Col("lifecycle", "lifecycle", _choice(LIFECYCLES), default="live"),
        Col("default_impact", "default_impact", _range(1, 3), default=3),
        Col("default_urgency", "default_urgency", _range(1, 3), default=3),
    ), ("code",)),
    Kind("cis", ConfigItem, (
        Col("name", "name", _text(200), True),
        Col("class", "ci_class", _choice(CI_CLASSES), True),
        Col("status", "status", _choice(("planned", "in_use", "retired")), default="in_use"),
        Col("location", "location_id", _text(32), ref=_ref(Location, "code")),
        Col("owner_team", "owner_team_id", _text(32), ref=_ref(Team, "code")),
        Col("person", "person_id", _text(64), ref=_ref(Person, "username")),
        Col("serial", "serial", _text(64)), Col("description", "description", _text(4000)),
    ), ("name",)),
    Kind("ci-relations", CiRelation, (
        Col("source", "source_id", _text(200), True, ref=_ref(ConfigItem, "name")),
        Col("target", "target_id", _text(200), True, ref=_ref(ConfigItem, "name")),
        Col("kind", "kind", _choice(RELATION_KINDS), True),
    ), ("source_id", "target_id", "kind")),
    Kind("costs", ServiceCost, (
        Col("service", "service_id", _text(32), True, ref=_ref(Service, "code")),
        Col("year", "year", _year, True), Col("kind", "kind", _choice(COST_KINDS), True),
        Col("amount", "amount", _money, True), Col("note", "note", _text(200)),
    ), ("service_id", "year", "kind")),
    Kind("subscriptions", Subscription, (
        Col("service", "service_id", _text(32), True, ref=_ref(Service, "code")),
        Col("org_unit", "org_unit_id", _text(32), ref=_ref(OrgUnit, "code"),
            doc="org unit code, or leave empty and give person"),
        Col("person", "person_id", _text(64), ref=_ref(Person, "username")),
        Col("valid_from", "valid_from", _date, True), Col("valid_to", "valid_to", _date),
    ), ("service_id", "org_unit_id", "person_id", "valid_from")),
    Kind("usage", UsageRecord, (
        Col("service", "service_id", _text(32), True, ref=_ref(Service, "code")),
        Col("person", "person_id", _text(64), True, ref=_ref(Person, "username")),
        Col("month", "month", _month, True), Col("uses", "uses", _range(0, 10**9), default=0),
    ), ("service_id", "person_id", "month")),
    Kind("templates", CallTemplate, (
        Col("name", "name", _text(100), True),
        Col("service", "service_id", _text(32), True, ref=_ref(Service, "code")),
        Col("summary", "summary", _text(200), True),
        Col("impact", "impact", _range(1, 3)), Col("urgency", "urgency", _range(1, 3)),
        Col("code", "resolution_code", _choice(RESOLUTION_CODES),
            doc="resolution code: the call is saved and resolved at first line"),
        Col("resolution", "resolution_note", _text(4000)),
    ), ("name",), "quick-call templates for the call form"),
    Kind("funding", Funding, (
        Col("org_unit", "org_unit_id", _text(32), True, ref=_ref(OrgUnit, "code")),
        Col("year", "year", _year, True), Col("amount", "amount", _money, True),
    ), ("org_unit_id", "year")),
)}

IMPORT_ORDER = ("org-units", "locations", "people", "teams", "services", "cis", "ci-relations",
                "costs", "subscriptions", "usage", "funding", "templates")


def _table(model: type[SQLModel]) -> Table:
    # __table__ is set by SQLModel's metaclass on table=True models; the stubs don't know it
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


# --------------------------------------------------------------------------- reading


def decode(data: bytes, name: str) -> str:
    return decode_with_encoding(data, name)[0]


def decode_with_encoding(data: bytes, name: str) -> tuple[str, str]:
    """The text and the encoding it was read as: a BOM decides (UTF-8, UTF-16); else
    UTF-8 if the bytes are valid UTF-8, else Windows-1252 (what Excel's "CSV
    (semikolondelt)" writes in Norway)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            raise ImportFailed([_("{name}: not valid UTF-16 text (byte {byte})").format(
                name=name, byte=exc.start)]) from None
    encoding = "UTF-8 with BOM" if data.startswith(b"\xef\xbb\xbf") else "UTF-8"
    try:
        return data.decode("utf-8-sig"), encoding
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:  # the five bytes cp1252 leaves undefined
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed([_("{name}:{line}: neither UTF-8 nor Windows-1252 text "
                              "(byte {byte})").format(name=name, line=line, byte=exc.start)]
                           ) from None


def sniff_delimiter(text: str) -> str:
    """`;` when the header line has more semicolons than commas, else `,`."""
    head = text.split("\n", 1)[0]
    return ";" if head.count(";") > head.count(",") else ","


def template(kind: str) -> str:
    """An empty CSV with the kind's header."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(_kind(kind).header)
    return buf.getvalue()


def _kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise InvalidInput(_("unknown import kind {kind}; expected one of {choices}").format(
            kind=repr(kind), choices=", ".join(KINDS)))
    return KINDS[kind]


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    encoding: str = "text"  # how the bytes were read: UTF-8, UTF-16, Windows-1252...

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": self.rows, "created": self.created,
                "updated": self.updated, "unchanged": self.unchanged,
                "encoding": self.encoding}


def import_csv(session: Session, kind: str, data: bytes | str, *, name: str = "<csv>",
               ) -> ImportResult:
    """Check every row of `data`, then upsert them all (see the module docstring). The
    caller checks the permission and owns the transaction."""
    spec = _kind(kind)
    encoding = "text"
    if isinstance(data, bytes):
        text, encoding = decode_with_encoding(data, name)
    else:
        text = data.lstrip("\ufeff")
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))  # lines are limited
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    errors: list[str] = []
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ImportFailed([_("{name}:1: the file is empty; expected the header {header}")
                            .format(name=name, header=",".join(spec.header))]) from None
    by_name = {c.name: c for c in spec.columns}
    for h in header:
        if h not in by_name:
            errors.append(_("{name}:1: column {column}: unknown column; expected {columns}")
                          .format(name=name, column=repr(h), columns=", ".join(spec.header)))
    for c in spec.columns:
        if c.required and c.name not in header:
            errors.append(_("{name}:1: column {column}: required column missing").format(
                name=name, column=repr(c.name)))
    if len(set(header)) != len(header):
        errors.append(_("{name}:1: a column is named twice").format(name=name))
    if errors:
        raise ImportFailed(errors)

    # lookups for references: natural key -> id
    lookups: dict[tuple[type[SQLModel], str], dict[str, int]] = {}
    for c in spec.columns:
        if c.ref and c.ref not in lookups and c.name in header:
            model, attr = c.ref
            t = _table(model)
            lookups[c.ref] = {k: i for k, i in session.execute(select(t.c[attr], t.c.id))}
    file_keys: set[str] = set()  # self references may point at rows of this file
    if any(c.self_ref for c in spec.columns):
        key_col = next(c for c in spec.columns if c.attr == spec.key[0])
        if key_col.name in header:
            pos = header.index(key_col.name)
            file_keys = {r[pos].strip() for r in csv.reader(
                io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
                if len(r) > pos}

    parsed: list[tuple[int, dict[str, Any], dict[str, str]]] = []
    seen: dict[tuple[Any, ...], int] = {}
    line_end = 1
    for raw in reader:
        line = line_end + 1
        line_end = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue
        if len(raw) != len(header):
            errors.append(_("{name}:{line}: expected {expected} cells, got {got}").format(
                name=name, line=line, expected=len(header), got=len(raw)))
            continue
        values: dict[str, Any] = {}
        deferred: dict[str, str] = {}
        for h, cell in zip(header, raw, strict=True):
            col = by_name[h]
            cell = csv_uncell(cell.strip())
            if "\x00" in cell:  # PostgreSQL refuses it in text, SQLite would store it
                errors.append(_("{name}:{line}: column {column}: contains a NUL byte").format(
                    name=name, line=line, column=repr(h)))
                continue
            if not cell:
                if col.required:
                    errors.append(_("{name}:{line}: column {column}: required, but empty").format(
                        name=name, line=line, column=repr(h)))
                values[col.attr] = col.default
                continue
            try:
                value = col.parse(cell)
            except CellError as exc:
                errors.append(_("{name}:{line}: column {column}: {error}").format(
                    name=name, line=line, column=repr(h), error=exc))
                continue
            if col.self_ref:
                if value not in lookups[col.ref] and value not in file_keys:  # type: ignore[index]
                    errors.append(_("{name}:{line}: column {column}: no {field} {value} in "
                                    "the database or this file").format(
                        name=name, line=line, column=repr(h), field=h, value=repr(value)))
                deferred[col.attr] = value
                continue
            if col.ref:
                found = lookups[col.ref].get(value)
                if found is None:
                    errors.append(_("{name}:{line}: column {column}: unknown {field} {value}")
                                  .format(name=name, line=line, column=repr(h), field=h,
                                          value=repr(value)))
                    continue
                value = found
            values[col.attr] = value
        for col in spec.columns:  # columns left out of the file get their defaults
            if col.name not in header and not col.self_ref:
                values.setdefault(col.attr, col.default)
        errors.extend(f"{name}:{line}: {msg}" for msg in _row_rules(spec, values, deferred))
        if all(k in values for k in spec.key):
            key = tuple(values[k] for k in spec.key)
            if key in seen:
                errors.append(_("{name}:{line}: the same {key} as line {other}").format(
                    name=name, line=line, key="/".join(spec.key), other=seen[key]))
            else:
                seen[key] = line
        parsed.append((line, values, deferred))
    if spec.model is OrgUnit and "parent" in header:
        errors.extend(_org_cycles(session, parsed, name))
    if spec.model is Person:
        errors.extend(_username_case(session, parsed, name))
    if errors:
        raise ImportFailed(errors)
    result = _write(session, spec, parsed, header)
    result.encoding = encoding
    return result


def _username_case(session: Session,
                   parsed: list[tuple[int, dict[str, Any], dict[str, str]]],
                   name: str) -> list[str]:
    """Usernames that differ only in case are the same user (a unique index on
    lower(username) backs this up): refuse them in the file and against the database."""
    from sqlalchemy import func

    by_lower: dict[str, tuple[str, int]] = {}
    out: list[str] = []
    for line, values, _deferred in parsed:
        user = values.get("username")
        if not user:
            continue
        first = by_lower.setdefault(user.lower(), (user, line))
        if first[0] != user:
            out.append(_("{name}:{line}: column 'username': {user} differs only in case from "
                         "{first} on line {other}").format(
                name=name, line=line, user=repr(user), first=repr(first[0]), other=first[1]))
    keys = list(by_lower)
    for i in range(0, len(keys), 5000):
        for existing in session.execute(select(sqlmodel.col(Person.username)).where(
                func.lower(sqlmodel.col(Person.username)).in_(keys[i: i + 5000]))).scalars():
            user, line = by_lower[existing.lower()]
            if user != existing:
                out.append(_("{name}:{line}: column 'username': {user} differs only in case "
                             "from the existing {existing}").format(
                    name=name, line=line, user=repr(user), existing=repr(existing)))
    return out


def _org_cycles(session: Session, parsed: list[tuple[int, dict[str, Any], dict[str, str]]],
                name: str) -> list[str]:
    """The file's parents over the database's: a loop (A -> B -> A) is refused naming the
    units, since the units in it would drop out of every rolled-up cost total."""
    from sqlalchemy.orm import aliased

    from pob_tui.orgtree import cycle_text, find_cycle

    up = aliased(OrgUnit)
    parents: dict[str, str | None] = dict(session.execute(
        select(sqlmodel.col(OrgUnit.code), sqlmodel.col(up.code))
        .outerjoin(up, sqlmodel.col(up.id) == OrgUnit.parent_id)).all())
    for _line, values, deferred in parsed:
        parents[values["code"]] = deferred.get("parent_id")
    out: list[str] = []
    reported: set[frozenset[str]] = set()
    for line, values, _deferred in parsed:
        loop = find_cycle(parents, values["code"])
        if loop and len(loop) > 2 and frozenset(loop) not in reported:  # self: _row_rules
            reported.add(frozenset(loop))
            out.append(_("{name}:{line}: column 'parent': the org units would form a cycle "
                         "{cycle}").format(name=name, line=line, cycle=cycle_text(loop)))
    return out


def _row_rules(spec: Kind, values: dict[str, Any], deferred: dict[str, str]) -> list[str]:
    """Checks across columns of one row."""
    out = []
    if spec.name == "subscriptions":
        if (values.get("org_unit_id") is None) == (values.get("person_id") is None):
            out.append(_("column 'org_unit': give either org_unit or person, not both or "
                         "neither"))
        frm, to = values.get("valid_from"), values.get("valid_to")
        if frm and to and to < frm:
            out.append(_("column 'valid_to': {to} is before valid_from {frm}").format(to=to,
                                                                                     frm=frm))
    if spec.name == "ci-relations" and values.get("source_id") is not None \
            and values.get("source_id") == values.get("target_id"):
        out.append(_("column 'target': a CI cannot relate to itself"))
    if spec.name == "org-units" and deferred.get("parent_id") == values.get("code"):
        out.append(_("column 'parent': a unit cannot be its own parent"))
    return out


def _search_text(v: dict[str, Any]) -> str:
    """Person.search as the caller picker expects it: lowercased 'first last username phone
    email'."""
    return (f"{v.get('first_name') or ''} {v.get('last_name') or ''} {v.get('username') or ''} "
            f"{v.get('phone') or ''} {v.get('email') or ''}").lower()[:400]


def _write(session: Session, spec: Kind, parsed: list[tuple[int, dict[str, Any], dict[str, str]]],
           header: list[str]) -> ImportResult:
    table = _table(spec.model)
    result = ImportResult(spec.name, rows=len(parsed))
    present = [c.attr for c in spec.columns if not c.self_ref and c.name in header]
    compare = list(dict.fromkeys([*spec.key, *present]))
    if spec.model is Person:
        compare.append("search")
    if spec.model is Service:
        compare.append("search")
    existing = {tuple(r[1: 1 + len(spec.key)]): (r[0], r[1:]) for r in session.execute(
        select(table.c.id, *(table.c[a] for a in compare)))}
    inserts, updates = [], []
    created: set[tuple[Any, ...]] = set()
    updated_keys: set[tuple[Any, ...]] = set()
    for _line, values, _deferred in parsed:
        if spec.model is Person:
            values["search"] = _search_text(values)
        if spec.model is Service:
            values["search"] = (f"{values['code']} {values['name']} {values.get('keywords') or ''}"
                                f" {values.get('category') or ''}").lower()[:800]
        key = tuple(values[k] for k in spec.key)
        row = {a: values.get(a) for a in compare}
        if key in existing:
            rid, old = existing[key]
            if tuple(_norm(x) for x in old) != tuple(_norm(row[a]) for a in compare):
                updates.append({"_id": rid, **{f"v_{a}": row[a] for a in compare}})
                updated_keys.add(key)
            else:
                result.unchanged += 1
        else:
            full = {c.attr: None if c.self_ref else values.get(c.attr, c.default)
                    for c in spec.columns}
            if "search" in values:
                full["search"] = values["search"]
            inserts.append(full)
            created.add(key)
    if inserts:
        for i in range(0, len(inserts), 5000):
            session.execute(table.insert(), inserts[i: i + 5000])
    if updates:
        stmt = (update(table).where(table.c.id == bindparam("_id"))
                .values({a: bindparam(f"v_{a}") for a in compare}))
        session.connection().execute(stmt, updates)
    result.created, result.updated = len(inserts), len(updates)
    # self references (org unit parents) once every row exists
    self_cols = [c for c in spec.columns if c.self_ref and c.name in header]
    for col in self_cols:
        model, attr = col.ref  # type: ignore[misc]
        t = _table(model)
        ids = {k: i for k, i in session.execute(select(t.c[attr], t.c.id))}
        current = {k: p for k, p in session.execute(select(table.c[spec.key[0]],
                                                           table.c[col.attr]))}
        fixes = []
        for _line, values, deferred in parsed:
            key = values[spec.key[0]]
            want = ids.get(deferred[col.attr]) if col.attr in deferred else None
            if current.get(key) != want:
                fixes.append({"_k": key, "_v": want})
        if fixes:
            session.connection().execute(
                update(table).where(table.c[spec.key[0]] == bindparam("_k"))
                .values({col.attr: bindparam("_v")}), fixes)
            for k in {f["_k"] for f in fixes}:
                if (k,) not in created and (k,) not in updated_keys:
                    result.updated += 1
    session.flush()
    return result


def _norm(v: Any) -> Any:
    if isinstance(v, Decimal):
        return v.quantize(Decimal("0.01"))
    if isinstance(v, float):
        return Decimal(str(v)).quantize(Decimal("0.01"))
    return v


# --------------------------------------------------------------------------- export


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v.quantize(Decimal("0.01")))
    return str(v)


def export_rows(session: Session, kind: str) -> Iterable[list[str]]:
    """The kind's rows in import layout (header first), references as natural keys."""
    spec = _kind(kind)
    table = _table(spec.model)
    yield spec.header
    maps: dict[tuple[type[SQLModel], str], dict[int, str]] = {}
    for c in spec.columns:
        if c.ref and c.ref not in maps:
            model, attr = c.ref
            t = _table(model)
            maps[c.ref] = {i: k for i, k in session.execute(select(t.c.id, t.c[attr]))}
    order = [table.c[a] for a in spec.key if a in table.c]
    for row in session.execute(select(*(table.c[c.attr] for c in spec.columns))
                               .order_by(table.c.id if spec.model is not OrgUnit else order[0])):
        out = []
        for c, v in zip(spec.columns, row, strict=True):
            if c.ref and v is not None:
                v = maps[c.ref].get(v, v)
            if c.parse is _month and isinstance(v, date):
                v = v.strftime("%Y-%m")
            out.append(_cell(v))
        yield out


def export_csv(session: Session, kind: str, out: io.TextIOBase | Any) -> int:
    writer = csv.writer(out, lineterminator="\n")
    n = -1
    for row in export_rows(session, kind):
        writer.writerow(csv_row(row))  # `import` reads the guarded cells back (csv_uncell)
        n += 1
    return n


MiB = 1024 * 1024


def read_file(path: str | Path, *, max_line_bytes: int = MiB, max_file_mb: int = 200,
              ) -> bytes:
    """The file's bytes, read in chunks so `/dev/zero` or a line without end stops at the
    limit (`[import] max_line_bytes`, `max_file_mb`) instead of filling the memory."""
    where = repr(str(path))
    if "\x00" in str(path):
        raise InvalidInput(_("{where}: a file name cannot contain a NUL byte").format(
            where=where))
    max_file = max_file_mb * MiB
    chunks: list[bytes] = []
    size = line_len = 0
    line = 1
    try:
        with open(path, "rb") as f:
            while chunk := f.read(MiB):
                size += len(chunk)
                if size > max_file:
                    raise InvalidInput(
                        _("{where}: larger than {mb} MiB; raise [import] max_file_mb or "
                          "split the file").format(where=where, mb=max_file_mb))
                start = 0
                while True:
                    nl = chunk.find(b"\n", start)
                    line_len += (len(chunk) if nl == -1 else nl) - start
                    if line_len > max_line_bytes:
                        raise InvalidInput(
                            _("{where}:{line}: line longer than {limit} bytes; raise [import] "
                              "max_line_bytes if it is meant to be").format(
                                where=where, line=line, limit=max_line_bytes))
                    if nl == -1:
                        break
                    line_len, start, line = 0, nl + 1, line + 1
                chunks.append(chunk)
    except OSError as exc:
        raise InvalidInput(_("{where}: cannot be read: {error}").format(
            where=where, error=exc.strerror or exc)) from None
    return b"".join(chunks)
