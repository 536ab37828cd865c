"""The test harness hands an empty PostgreSQL database to the next test only when it is
as fresh as a copy of the template (tests/conftest.py, `PgReuse`): otherwise tests would
see each other's rows, numbers or grants."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from tests.conftest import (
    PgReuse,
    Templates,
    _libpq_url,
    _shared_admin,
    pg_create_database,
    pg_drop_database,
    require_pg,
)

pytestmark = pytest.mark.pg_only


def exists(name: str) -> bool:
    with _shared_admin().connect() as conn:
        return bool(conn.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"),
                                 {"n": name}).scalar())


@pytest.fixture
def reuse(backend: str, templates: Templates):  # type: ignore[no-untyped-def]
    """A PgReuse of its own for the worker's empty template, and that template's name."""
    require_pg()
    template = templates.pg_template("empty", None)
    reuse = PgReuse(template)
    yield reuse, template
    reuse.cleanup()


def test_rows_numbers_and_sessions_are_gone_under_a_new_name(reuse) -> None:  # type: ignore[no-untyped-def]
    reuse, template = reuse
    name = pg_create_database(template)
    with psycopg.connect(_libpq_url(name)) as conn:
        conn.execute("INSERT INTO team (code, name, kind, active) VALUES ('SD', 'Service desk', "
                     "'service_desk', true), ('NET', 'Net', 'second_line', true)")
        conn.execute("UPDATE ticket_counter SET last_value = 41 WHERE prefix = 'INC'")
        conn.commit()
    left_open = psycopg.connect(_libpq_url(name))  # a session the test left behind
    reuse.give_back(name)
    assert reuse.free and not exists(name)  # old name gone, as after a drop
    with pytest.raises(psycopg.OperationalError):
        left_open.execute("SELECT 1")
    fresh = reuse.take()
    assert fresh is not None
    with psycopg.connect(_libpq_url(fresh)) as conn:
        assert conn.execute("SELECT count(*) FROM team").fetchone() == (0,)
        assert conn.execute("SELECT last_value FROM ticket_counter WHERE prefix = 'INC'"
                            ).fetchone() == (0,)
        new_id = conn.execute("INSERT INTO team (code, name, kind, active) VALUES ('X', 'X', "
                              "'second_line', true) RETURNING id").fetchone()
        assert new_id == (1,)  # sequences start again
    pg_drop_database(fresh)


@pytest.mark.parametrize("change", [
    "ALTER TABLE team ADD COLUMN extra text",
    "CREATE ROLE pob_reuse_probe NOLOGIN; GRANT SELECT ON team TO pob_reuse_probe",
    "ALTER TABLE ticket_event DISABLE TRIGGER ticket_event_append_only",
])
def test_a_database_changed_beyond_its_rows_is_dropped(reuse, change: str) -> None:  # type: ignore[no-untyped-def]
    reuse, template = reuse
    name = pg_create_database(template)
    try:
        with psycopg.connect(_libpq_url(name), autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS pob_reuse_probe")
            conn.execute(change)
        reuse.give_back(name)
        assert not reuse.free and not exists(name)
    finally:
        pg_drop_database(name)
        with _shared_admin().connect() as conn:
            conn.execute(text("DROP ROLE IF EXISTS pob_reuse_probe"))
