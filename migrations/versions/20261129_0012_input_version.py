"""A version counter for the cost figures' inputs, moved by triggers.

The catalog and the cost reports allocate a year's costs over every person with access
(`reports/costs.py`); recomputing that on every visit cost 0.3-0.8 s at ten years of history.
`input_version.n` for topic `costs` changes in the same transaction as any of its inputs, so a
cached allocation is reused exactly as long as nothing it was computed from has changed.
Triggers rather than application code: an import, a directory sync or a DBA's psql session
moves the counter too.

PostgreSQL: constraint triggers deferred to commit, once per transaction, so the counter's
row lock is held only for the commit itself and a long import never makes agents wait on it.
SQLite has one writer at a time: plain row triggers.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHOLE = ("service", "service_cost", "org_unit", "person", "person_unit_history",
         "subscription", "usage_record")
"""Tables whose every change is a cost input."""
PARTIAL = (
    # (name, table, events, condition): only the changes that move minutes between services
    ("ticket_event_minutes", "ticket_event", "INSERT", "NEW.minutes IS NOT NULL"),
    ("incident_service", "incident", "UPDATE OF service_id",
     "OLD.service_id IS DISTINCT FROM NEW.service_id"),
    ("incident_gone", "incident", "DELETE", None),
    ("problem_service", "problem", "UPDATE OF service_id",
     "OLD.service_id IS DISTINCT FROM NEW.service_id"),
    ("problem_gone", "problem", "DELETE", None),
)


def _triggers() -> list[tuple[str, str, str, str | None]]:
    return [(f"{t}_costs", t, "INSERT OR UPDATE OR DELETE", None) for t in WHOLE] + list(PARTIAL)


def upgrade() -> None:
    op.create_table(
        "input_version",
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("topic", name=op.f("pk_input_version")),
    )
    op.execute("INSERT INTO input_version (topic, n) VALUES ('costs', 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION pob_costs_changed() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF current_setting('pob.costs_changed', true) IS DISTINCT FROM
                        txid_current()::text THEN
                    PERFORM set_config('pob.costs_changed', txid_current()::text, true);
                    UPDATE input_version SET n = n + 1 WHERE topic = 'costs';
                END IF;
                RETURN NULL;
            END $$""")
        for name, table, events, when in _triggers():
            cond = f" WHEN ({when})" if when else ""
            op.execute(f"CREATE CONSTRAINT TRIGGER {name} AFTER {events} ON {table} "
                       f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW{cond} "
                       "EXECUTE FUNCTION pob_costs_changed()")
    else:
        for name, table, events, when in _triggers():
            for verb in events.split(" OR "):
                cond = f" WHEN {when.replace('IS DISTINCT FROM', 'IS NOT')}" if when else ""
                op.execute(
                    f"CREATE TRIGGER {name}_{verb.split()[0].lower()} AFTER {verb} ON {table}"
                    f"{cond} BEGIN UPDATE input_version SET n = n + 1 "
                    "WHERE topic = 'costs'; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _events, _when in _triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS pob_costs_changed()")
    else:
        for name, _table, events, _when in _triggers():
            for verb in events.split(" OR "):
                op.execute(f"DROP TRIGGER IF EXISTS {name}_{verb.split()[0].lower()}")
    op.drop_table("input_version")
