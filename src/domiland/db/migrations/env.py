"""Alembic environment for the hub's own history (version table apart from Airflow's)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from domiland.db.engine import get_engine
from domiland.db.models import Base

VERSION_TABLE = "domiland_alembic_version"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,  # SQLite can only ALTER through table copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with get_engine(context.config.get_main_option("sqlalchemy.url") or None).connect() as conn:
        _run(conn)
        conn.commit()
