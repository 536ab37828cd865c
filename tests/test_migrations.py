"""Models and migrations agree; every revision goes up and down; upgrades keep data."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from pob_tui.db import alembic_config, current_revision, downgrade, make_engine, upgrade
from pob_tui.models import metadata


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def test_single_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_models_and_migrations_agree(empty_url: str) -> None:
    engine = make_engine(empty_url)
    upgrade(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    engine.dispose()
    assert diff == [], f"models differ from migrations: {diff}"


def test_stairway_up_and_down(empty_url: str) -> None:
    """Each revision upgrades, downgrades to the one before, and upgrades again."""
    engine = make_engine(empty_url)
    previous = "base"
    for rev in revisions():
        upgrade(engine, rev)
        assert current_revision(engine) == rev
        downgrade(engine, previous)
        upgrade(engine, rev)
        previous = rev
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


# Rows written with the schema of a given revision; later revisions must keep them.
SEED_AT = {
    "0001": [
        "INSERT INTO org_unit (id, code, name, kind, active) VALUES (1, 'OPP', 'Oppvekst', "
        "'sector', TRUE)",
        "INSERT INTO person (id, username, first_name, last_name, vip, active, search, "
        "org_unit_id) VALUES (1, 'kari.n', 'Kari', 'Nordmann', FALSE, TRUE, 'kari', 1)",
        "INSERT INTO service (id, code, name, lifecycle, default_impact, default_urgency, "
        "search) VALUES (1, 'M365', 'Microsoft 365', 'live', 3, 3, 'm365')",
        "INSERT INTO incident (id, number, caller_id, service_id, summary, impact, urgency, "
        "priority, status, channel, opened_at, updated_at, escalation_level, first_line, "
        "version) VALUES (1, 'INC-000001', 1, 1, 'Outlook henger', 2, 2, 3, 'new', 'phone', "
        "'2026-01-05 08:00:00', '2026-01-05 08:00:00', 0, FALSE, 1)",
        "INSERT INTO ticket_event (id, ticket_type, ticket_id, at, kind, comment) VALUES "
        "(1, 'incident', 1, '2026-01-05 08:00:00', 'created', 'logged by phone')",
        "UPDATE ticket_counter SET last_value = 1 WHERE prefix = 'INC'",
    ],
}
CHECKS = [
    ("SELECT name FROM org_unit WHERE id = 1", "Oppvekst"),
    ("SELECT username FROM person WHERE id = 1", "kari.n"),
    ("SELECT summary FROM incident WHERE number = 'INC-000001'", "Outlook henger"),
    ("SELECT comment FROM ticket_event WHERE id = 1", "logged by phone"),
    ("SELECT last_value FROM ticket_counter WHERE prefix = 'INC'", 1),
]


@pytest.mark.parametrize("start", sorted(SEED_AT))
def test_upgrade_keeps_data(empty_url: str, start: str) -> None:
    engine = make_engine(empty_url)
    upgrade(engine, start)
    with engine.begin() as conn:
        for stmt in SEED_AT[start]:
            conn.execute(text(stmt))
    upgrade(engine, "head")
    with engine.connect() as conn:
        for query, expected in CHECKS:
            assert conn.execute(text(query)).scalar_one() == expected, query
    engine.dispose()


def test_every_revision_has_seed_data_or_follows_one() -> None:
    """A new revision should extend SEED_AT when it changes tables that hold data."""
    assert revisions()[0] in SEED_AT


def test_schema_head_constant_matches_alembic() -> None:
    from pob_tui.db import SCHEMA_HEAD, head_revision

    assert head_revision() == SCHEMA_HEAD
