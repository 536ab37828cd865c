"""Directory sync against a real slapd (AD attribute names, AD-like paging limits), on both
databases: first sync, no-change re-sync, dated moves, leavers and their return, the safety
limit, dry runs, and one-line exit 3 for a wrong password or an unreachable server."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from pob_tui.cli import main
from pob_tui.config import Settings
from pob_tui.db import Database
from pob_tui.directory import (
    DIRECTORY_OWNED_FIELDS,
    SafetyLimitExceeded,
    directory_configured,
    run_sync,
)
from pob_tui.directory.map import canonical_id, ou_at_level
from pob_tui.models import (
    AdminEvent,
    DirectoryRun,
    OrgUnit,
    Person,
    PersonUnitHistory,
    Service,
    Subscription,
)
from pob_tui.reports.costs import Period, allocate
from pob_tui.services.identity import SYSTEM_ACTOR
from pob_tui.services.pickers import search_people
from tests.conftest import IN_CI
from tests.ldapserver import (
    SUFFIX,
    SYNC_DN,
    SYNC_PW,
    FakePerson,
    Slapd,
    free_port,
    make_people,
    person_dn,
    slapd_available,
)

BIG = "Ansatte"
BIG_PEOPLE = make_people(300, seed=16)
DAY1, DAY2, DAY3 = date(2026, 3, 2), date(2026, 7, 1), date(2026, 9, 15)
_trees = count(1)


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """One slapd per test worker, loaded with the 300-person AD-like tree."""
    reason = slapd_available()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    server.load([(BIG, BIG_PEOPLE)])
    server.start()
    yield server
    server.stop()


def settings_for(db_url: str, server: Slapd, ou: str = BIG, **kw: object) -> Settings:
    values: dict[str, object] = dict(
        database_url=db_url, directory_url=server.url, directory_bind_dn=SYNC_DN,
        directory_password=SYNC_PW, directory_base_dn=f"ou={ou},{SUFFIX}",
        directory_filter="(objectClass=user)",
        directory_org_units={"NAV Bærum": "NAV"})
    values.update(kw)
    return Settings(**values)  # type: ignore[arg-type]


def count_rows(db: Database, model: type) -> int:
    with db.session() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def add_units(db: Database) -> None:
    with db.session() as s:
        s.add_all([OrgUnit(code="OPP", name="Oppvekst", kind="sector"),
                   OrgUnit(code="NAV", name="NAV-kontoret", kind="unit")])


def test_no_ldap3_import_for_the_org_screens() -> None:
    import subprocess
    import sys

    code = ("import sys, pob_tui.directory as d; "
            "from pob_tui.config import Settings; "
            "assert not d.directory_configured(Settings()); "
            "assert 'ldap3' not in sys.modules, 'ldap3 imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert "org_unit_id" in DIRECTORY_OWNED_FIELDS and "vip" not in DIRECTORY_OWNED_FIELDS
    assert directory_configured(Settings(directory_url="ldaps://dc1.kommune.example"))


def test_guid_and_ou_level() -> None:
    raw = uuid.UUID("01234567-89ab-cdef-0123-456789abcdef").bytes_le
    assert canonical_id("objectGUID", raw) == "01234567-89ab-cdef-0123-456789abcdef"
    assert canonical_id("entryUUID", b"5c1c9a2e-0000-1111-2222-333344445555") == \
        "5c1c9a2e-0000-1111-2222-333344445555"
    dn = "CN=Kari Nordmann,OU=Hosle skole,OU=Oppvekst,OU=Ansatte,DC=kommune,DC=example"
    base = "OU=Ansatte,DC=kommune,DC=example"
    assert ou_at_level(dn, base, 1) == "Oppvekst"
    assert ou_at_level(dn, base, 2) == "Hosle skole"
    assert ou_at_level(dn, base, 3) is None


def test_first_sync_then_nothing_changes(slapd: Slapd, db: Database, db_url: str) -> None:
    add_units(db)
    settings = settings_for(db_url, slapd)
    result = run_sync(settings, create_units=True, database=db, today=DAY1)
    enabled = [p for p in BIG_PEOPLE if not p.disabled]
    assert result.outcome == "done"
    assert result.entries == 300
    assert result.pages >= 3, "slapd serves 100 entries a page to this account"
    assert result.counts["added"] == len(enabled)
    assert result.counts["deactivated"] == result.counts["moved"] == 0
    # "NAV Bærum" is mapped to NAV, "Oppvekst" is a unit name; the rest were created.
    assert "NAV Bærum" not in result.unknown_units and "Oppvekst" not in result.unknown_units
    assert "Økonomi" in result.unknown_units
    with db.session() as s:
        units = dict(s.execute(select(OrgUnit.name, OrgUnit.code)).all())
        assert "Økonomi" in units and "Skole Øvre Åsen" in units
        people = {p.username: p for p in s.execute(select(Person)).scalars()}
        assert len(people) == len(enabled)
        for fake in enabled:
            p = people[fake.sam]
            assert (p.first_name, p.last_name) == (fake.given, fake.sn)
            assert p.directory_id == str(uuid.UUID(bytes_le=fake.guid))
            assert p.phone == (fake.phone or fake.mobile)
            assert p.active
        odd = [p for p in enabled if "'" in p.sn or "ø" in p.sn or len(p.given) > 30]
        assert odd, "the generated tree has odd names"
        for fake in odd:
            assert people[fake.sam].last_name == fake.sn
        nav = next(f for f in enabled if f.department == "NAV Bærum")
        nav_id = s.execute(select(OrgUnit.id).where(OrgUnit.code == "NAV")).scalar_one()
        assert people[nav.sam].org_unit_id == nav_id
        # Callers are findable on their first day, by name with æøå too.
        assert search_people(s, odd[0].sn.split("-")[0])
        rows = s.execute(select(PersonUnitHistory)).scalars().all()
        assert len(rows) == len(enabled)
        assert all(r.valid_from is None and r.valid_to is None for r in rows)
        event = s.execute(select(AdminEvent).where(AdminEvent.action == "directory.sync")
                          ).scalar_one()
        assert event.actor == "pob"
        assert json.loads(event.detail or "{}")["added"] == len(enabled)

    again = run_sync(settings, create_units=True, database=db, today=DAY2)
    assert again.counts == dict.fromkeys(again.counts, 0)
    assert count_rows(db, Person) == len(enabled)
    assert count_rows(db, PersonUnitHistory) == len(enabled)
    assert count_rows(db, AdminEvent) == 2


def test_dry_run_writes_nothing(slapd: Slapd, db: Database, db_url: str,
                                capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    add_units(db)
    config = tmp_path / "pob.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[directory]\nurl = "{slapd.url}"\n'
        f'bind_dn = "{SYNC_DN}"\npassword = "{SYNC_PW}"\nbase_dn = "ou={BIG},{SUFFIX}"\n'
        'filter = "(objectClass=user)"\n[directory.attributes]\nmobile = "mobile"\n'
        '[directory.org_units]\n"NAV Bærum" = "NAV"\n', encoding="utf-8")
    before = [count_rows(db, m) for m in (Person, OrgUnit, PersonUnitHistory, AdminEvent)]
    rc = main(["--config", str(config), "directory", "sync", "--dry-run", "--format", "json",
               "--create-units"], actor=SYSTEM_ACTOR)
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"added", "changed", "moved", "deactivated", "reactivated",
                        "unknown_units", "managers", "counts"}
    assert set(out["counts"]) == {"added", "changed", "moved", "deactivated", "reactivated",
                                  "unknown_units", "managers"}
    assert out["counts"]["added"] == len(out["added"]) > 250
    assert {"username", "name", "org_unit"} <= set(out["added"][0])
    after = [count_rows(db, m) for m in (Person, OrgUnit, PersonUnitHistory, AdminEvent)]
    assert after == before
    rc = main(["--config", str(config), "directory", "status", "--format", "json"],
              actor=SYSTEM_ACTOR)
    runs = json.loads(capsys.readouterr().out)
    assert rc == 0 and runs[0]["dry_run"] is True and runs[0]["outcome"] == "dry_run"
    assert runs[0]["counts"]["added"] == out["counts"]["added"]
    assert main(["--config", str(config), "directory", "status"], actor=SYSTEM_ACTOR) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert re.match(r"\w+ \d\d\.\d\d\.\d{4} \d\d:\d\d \+0[12]:00  dry run", line), line


def small_tree(slapd: Slapd, n: int = 12) -> tuple[str, list[FakePerson]]:
    ou = f"Tree{next(_trees)}-{uuid.uuid4().hex[:6]}"
    people = [p for p in make_people(n, seed=next(_trees) * 101, prefix=ou[:6].lower())
              if not p.disabled]
    slapd.add_tree(ou, people)
    return ou, people


def test_moves_are_dated_and_leavers_come_back(slapd: Slapd, db: Database,
                                               db_url: str) -> None:
    add_units(db)
    ou, people = small_tree(slapd)
    settings = settings_for(db_url, slapd, ou, directory_max_deactivate_share=0.5)
    run_sync(settings, create_units=True, database=db, today=DAY1)
    mover, disabled, gone = people[0], people[1], people[2]
    target = "Kultur og idrett" if mover.department != "Kultur og idrett" else "Økonomi"
    with db.session() as s:
        svc = Service(code="SVC", name="Fagsystem", search="svc")
        s.add(svc)
        s.flush()
        svc_id = svc.id
        pid = s.execute(select(Person.id).where(Person.username == disabled.sam)).scalar_one()
        s.add(Subscription(service_id=svc.id, person_id=pid, valid_from=date(2026, 1, 1)))

    slapd.replace(mover, ou, department=target)
    slapd.replace(disabled, ou, userAccountControl="514")
    slapd.delete(gone, ou)
    result = run_sync(settings, create_units=True, database=db, today=DAY2)
    assert [m["username"] for m in result.moved] == [mover.sam]
    assert result.moved[0]["date"] == "2026-07-01"
    assert sorted((d["username"], d["reason"]) for d in result.deactivated) == sorted(
        [(disabled.sam, "disabled"), (gone.sam, "missing")])
    with db.session() as s:
        p = s.execute(select(Person).where(Person.username == mover.sam)).scalar_one()
        hist = s.execute(select(PersonUnitHistory).where(PersonUnitHistory.person_id == p.id)
                         .order_by(PersonUnitHistory.id)).scalars().all()
        new_unit = s.execute(select(OrgUnit.id).where(OrgUnit.name == target)).scalar_one()
        assert [(h.valid_from, h.valid_to) for h in hist] == [(None, date(2026, 6, 30)),
                                                             (DAY2, None)]
        assert hist[1].org_unit_id == new_unit == p.org_unit_id
        off = s.execute(select(Person).where(Person.username.in_([disabled.sam, gone.sam]))
                        ).scalars().all()
        assert len(off) == 2 and not any(x.active for x in off)  # kept, not deleted
        assert not search_people(s, disabled.sam), "a leaver is no longer offered as caller"
        sub = s.execute(select(Subscription)).scalar_one()
        assert sub.valid_to == DAY2
        closed = s.execute(select(PersonUnitHistory.valid_to)
                           .where(PersonUnitHistory.person_id == off[0].id)).scalar_one()
        assert closed == DAY2
        # Costs follow the dated move: the old unit until June 30, the new one from July 1.
        old_unit = hist[0].org_unit_id
        s.add_all([Subscription(service_id=svc_id, org_unit_id=u, valid_from=date(2026, 1, 1))
                   for u in (old_unit, new_unit)])
        s.flush()
        alloc = allocate(s, Period.year(2026), hourly_rate=Decimal(950))
        mine = {h.unit_id: h.days for h in alloc.services[svc_id].holders
                if h.person_id == p.id}
        assert mine == {old_unit: 181, new_unit: 184}

    # They come back: re-enabled, and re-created with a new objectGUID (same username).
    slapd.replace(disabled, ou, userAccountControl="512")
    reborn = FakePerson(**{**gone.__dict__, "guid": uuid.uuid4().bytes_le})
    slapd.add_person(reborn, ou)
    result = run_sync(settings, create_units=True, database=db, today=DAY3)
    assert sorted(r["username"] for r in result.reactivated) == sorted([disabled.sam, gone.sam])
    assert result.counts["added"] == 0
    assert {(c["username"], c["field"]) for c in result.changed} == {(gone.sam, "directory_id")}
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(Person)
                         .where(Person.username == gone.sam)).scalar_one() == 1
        back = s.execute(select(Person).where(Person.username == gone.sam)).scalar_one()
        assert back.active and back.directory_id == str(uuid.UUID(bytes_le=reborn.guid))
        rows = s.execute(select(PersonUnitHistory.valid_from, PersonUnitHistory.valid_to)
                         .where(PersonUnitHistory.person_id == back.id)
                         .order_by(PersonUnitHistory.id)).all()
        assert [tuple(r) for r in rows] == [(None, DAY2), (DAY3, None)]
        assert search_people(s, disabled.sam)


def test_unit_heads_become_customer_managers_where_it_helps(slapd: Slapd, db: Database,
                                                            db_url: str) -> None:
    """AD's `manager` links name each unit's head; the sync makes them the unit's customer
    manager when the unit has none or its manager left, and keeps one someone chose."""
    add_units(db)
    ou = f"Heads{next(_trees)}"
    people = [p for p in make_people(16, seed=77, prefix="hd") if not p.disabled]
    by_unit: dict[str, list[FakePerson]] = {}
    for p in people:
        assert p.department is not None
        by_unit.setdefault(p.department, []).append(p)
    units = [u for u, ps in by_unit.items() if len(ps) >= 2][:2]
    assert len(units) == 2
    (head_a, *staff_a), (head_b, *staff_b) = by_unit[units[0]], by_unit[units[1]]
    director = next(p for p in people if p.department not in units)
    slapd.add_tree(ou, people)
    # Staff report to their head; each head reports to a director in another unit.
    for head, staff in ((head_a, staff_a), (head_b, staff_b)):
        slapd.replace(head, ou, manager=person_dn(director, ou).upper())  # any spelling
        for p in staff:
            slapd.replace(p, ou, manager=person_dn(head, ou))
    settings = settings_for(db_url, slapd, ou, directory_max_deactivate_share=0.9)
    code_a, code_b = ("NAV" if u == "NAV Bærum" else None for u in units)
    with db.session() as s:  # unit B already has a customer manager someone chose
        chosen = Person(username="valgt", first_name="Valgt", last_name="Leder")
        s.add(chosen)
        s.flush()
        s.add(OrgUnit(code="B-UNIT", name=units[1], kind="unit", customer_manager_id=chosen.id))
        if code_a is None:
            s.add(OrgUnit(code="A-UNIT", name=units[0], kind="unit"))
    code_a = code_a or "A-UNIT"
    result = run_sync(settings, create_units=True, database=db, today=DAY1)
    assert result.managers == [{"unit": code_a, "from": None, "to": head_a.sam}]

    def manager_of(code: str) -> str | None:
        with db.session() as s:
            return s.execute(select(Person.username).join(
                OrgUnit, OrgUnit.customer_manager_id == Person.id)
                .where(OrgUnit.code == code)).scalar_one_or_none()

    assert manager_of(code_a) == head_a.sam
    assert manager_of("B-UNIT") == "valgt", "a manager someone chose is kept"
    assert run_sync(settings, create_units=True, database=db, today=DAY1).managers == []
    with db.session() as s:  # the chosen manager leaves: the directory's head takes over
        s.execute(update(Person).where(Person.username == "valgt").values(active=False))
    result = run_sync(settings, create_units=True, database=db, today=DAY2)
    assert result.managers == [{"unit": "B-UNIT", "from": "valgt", "to": head_b.sam}]
    assert manager_of("B-UNIT") == head_b.sam


def test_safety_limit_refuses_then_force(slapd: Slapd, db: Database, db_url: str) -> None:
    ou, people = small_tree(slapd, 30)
    settings = settings_for(db_url, slapd, ou, directory_max_deactivate_share=0.05)
    run_sync(settings, create_units=True, database=db, today=DAY1)
    broken = settings_for(db_url, slapd, ou, directory_filter="(&(objectClass=user)(cn=Kari*))",
                          directory_max_deactivate_share=0.05)
    with pytest.raises(SafetyLimitExceeded) as err:
        run_sync(broken, create_units=True, database=db, today=DAY2)
    assert err.value.exit_code == 4 and "--force" in str(err.value)
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(Person)
                         .where(Person.active.is_(False))).scalar_one() == 0
        last = s.execute(select(DirectoryRun).order_by(DirectoryRun.id.desc())).scalars().first()
        assert last is not None and last.outcome == "refused"
    forced = run_sync(broken, create_units=True, force=True, database=db, today=DAY2)
    assert forced.counts["deactivated"] > 0.05 * len(people)


@pytest.mark.parametrize("case", ["password", "unreachable"])
def test_wrong_password_or_unreachable_exit_3(
        case: str, slapd: Slapd, db_url: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = slapd.url if case == "password" else f"ldap://127.0.0.1:{free_port()}"
    password = "wrong" if case == "password" else SYNC_PW
    config = tmp_path / "pob.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[directory]\nurl = "{url}"\nbind_dn = "{SYNC_DN}"\n'
        f'password = "{password}"\nbase_dn = "ou={BIG},{SUFFIX}"\ntimeout_seconds = 3\n',
        encoding="utf-8")
    rc = main(["--config", str(config), "directory", "sync"], actor=SYSTEM_ACTOR)
    err = capsys.readouterr().err
    assert rc == 3
    assert len(err.strip().splitlines()) == 1, err
    assert ("wrong password" in err) if case == "password" else ("cannot connect" in err)


@pytest.mark.sqlite_only  # on PostgreSQL the test login holds pob's service credentials
def test_only_administrators_sync(slapd: Slapd, db: Database, db_url: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Someone who is no administrator (here: the OS user, no agent) is refused, audited."""
    config = tmp_path / "pob.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[directory]\nurl = "{slapd.url}"\n'
        f'bind_dn = "{SYNC_DN}"\npassword = "{SYNC_PW}"\nbase_dn = "ou={BIG},{SUFFIX}"\n',
        encoding="utf-8")
    assert main(["--config", str(config), "directory", "sync"]) == 5
    assert "administrator" in capsys.readouterr().err
    assert count_rows(db, Person) == 0


def test_config_tables_and_password_sources(tmp_path: Path) -> None:
    from pob_tui.config import load_settings
    from pob_tui.directory.read import resolve_password
    from pob_tui.errors import ConfigError

    path = tmp_path / "c.toml"
    path.write_text('[directory]\nurl = "ldaps://dc1"\n[directory.attributes]\n'
                    'id = "entryUUID"\nusername = "uid"\n[directory.org_units]\n'
                    '"NAV Bærum" = "HO-001"\n', encoding="utf-8")
    s = load_settings(path, env={"POB_DIRECTORY_PASSWORD": "from-env"})
    assert s.directory_attributes["id"] == "entryUUID"
    assert s.directory_attributes["email"] == "mail"  # the defaults stay
    assert s.directory_org_units == {"NAV Bærum": "HO-001"}
    assert resolve_password(s) == "from-env"
    cmd = Settings(directory_password_command="printf 'from-command\\nsecond'")
    assert resolve_password(cmd) == "from-command"
    for text, needle in (
        ('[directory.attributes]\nfavourite = "x"', "unknown name 'favourite'"),
        ('[directory]\norg_unit_from = "tree"', "directory.org_unit_from"),
        ('[directory]\nmax_deactivate_share = 2', "between 0 and 1"),
        ('[directory]\nurl = "http://dc1"', "directory.url"),
        ('[directory.org_units]\n"NAV" = 3', "directory.org_units"),
    ):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            load_settings(path, env={})
        assert needle in str(err.value)


@pytest.fixture(scope="session")
def tls_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Slapd, Path]]:
    """A second slapd with a self-signed certificate: StartTLS on ldap://, and ldaps://."""
    import shutil
    import subprocess

    reason = slapd_available() or (None if shutil.which("openssl") else "openssl is missing")
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("slapd-tls")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = Slapd(root / "slapd", tls=(cert, key))
    server.load([(BIG, BIG_PEOPLE[:40])])
    server.start()
    yield server, cert
    server.stop()


def test_start_tls_and_ldaps_with_a_private_ca(tls_slapd: tuple[Slapd, Path], db: Database,
                                               db_url: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    server, cert = tls_slapd
    settings = settings_for(db_url, server, directory_start_tls=True,
                            directory_ca_file=str(cert))
    result = run_sync(settings, dry_run=True, create_units=True, database=db, today=DAY1)
    assert result.entries == 40
    ldaps = f"ldaps://127.0.0.1:{server.tls_port}"
    result = run_sync(settings_for(db_url, server, directory_url=ldaps,
                                   directory_ca_file=str(cert)),
                      dry_run=True, create_units=True, database=db, today=DAY1)
    assert result.entries == 40
    # Without the private CA the certificate is refused: one line, exit 3.
    config = tmp_path / "pob.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[directory]\nurl = "{ldaps}"\nbind_dn = "{SYNC_DN}"\n'
        f'password = "{SYNC_PW}"\nbase_dn = "ou={BIG},{SUFFIX}"\n', encoding="utf-8")
    assert main(["--config", str(config), "directory", "sync"], actor=SYSTEM_ACTOR) == 3
    err = capsys.readouterr().err
    assert "certificate verify failed" in err and len(err.strip().splitlines()) == 1


def test_run_sync_opens_its_own_database(slapd: Slapd, db: Database, db_url: str) -> None:
    """`pob serve`'s nightly job calls run_sync(settings, ...) with nothing else."""
    result = run_sync(settings_for(db_url, slapd), dry_run=True, force=False,
                      create_units=False)
    assert result.outcome == "dry_run" and result.entries == 300
    assert "Økonomi" in result.unknown_units and count_rows(db, Person) == 0
