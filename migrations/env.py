"""Alembic environment for pob.

pob passes its engine (or an open connection) through `config.attributes`; run by hand
(`alembic -c alembic.ini ...` from a checkout) it uses pob's configured database URL.
`render_as_batch` lets SQLite ALTER tables by copying them; `compare_type` makes drift in
column types visible to `alembic check` and the drift test.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import pob_tui.models  # noqa: F401 - registers every table on the metadata
from pob_tui.models import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=False,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    from pob_tui.config import load_settings

    context.configure(
        url=load_settings().database_url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = config.attributes.get("engine")
    if engine is None:
        from pob_tui.config import load_settings
        from pob_tui.db import make_engine

        engine = make_engine(load_settings().database_url)
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
