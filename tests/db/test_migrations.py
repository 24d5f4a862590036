"""The hub's Alembic history runs cleanly on SQLite and on the machine's PostgreSQL, both ways, and matches the models."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from domiland.db.engine import get_engine
from domiland.db.migrate import downgrade, upgrade
from domiland.db.models import Base

TABLES = {"organizations", "ftp_connections", "import_blocks", "export_blocks", "accounts", "services", "accruals",
          "payments", "meters", "meter_readings", "buildings", "premises", "clients", "client_external_ids",
          "client_accounts", "news", "offers", "export_runs", "api_keys", "api_imports",
          "integration_log", "domiland_alembic_version"}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    return request.getfixturevalue("pg_url")


def test_upgrade_downgrade_upgrade_and_models_match(db_url):
    upgrade(db_url)
    upgrade(db_url)  # idempotent
    engine = get_engine(db_url)
    assert TABLES <= set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": _ours})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []
    downgrade(db_url)
    assert set(sa.inspect(engine).get_table_names()) <= {"domiland_alembic_version"}
    upgrade(db_url)
    assert TABLES <= set(sa.inspect(engine).get_table_names())


def _ours(name, type_, _parent) -> bool:
    return not (type_ == "table" and name == "domiland_alembic_version")
