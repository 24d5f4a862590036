"""log search indexes

LOG-5 on a large log (``domiland.api.log_query``, measured by ``bench/log_query.py``):

* PostgreSQL only: a trigram GIN index on ``integration_log.message`` (extension pg_trgm, a
  "trusted" extension since PostgreSQL 13, so the database owner may create it) — it serves
  ``message ILIKE '%…%'`` for search texts of three or more characters. Not created on SQLite
  (no trigram indexes there; the development database is small). The extension is left in
  place on downgrade: other objects may use it.
* No composite index: the page order and the keyset cursor ``(created_at, id)`` are served by
  the existing ``created_at`` index (an incremental sort on ``id``), the partner's organization
  by ``(organization_id, created_at)``, and the other filters are either selective enough for
  their single-column indexes or common enough to be met within a few hundred rows of the
  ``created_at`` scan — the benchmark's plans show each case.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TRGM_INDEX = "ix_integration_log_message_trgm"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON integration_log USING gin (message gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")
