"""Engine and unit-of-work sessions for the hub database (SQLite by default, PostgreSQL in production)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from domiland.config import get_config


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets the scheduler's listener and a running import write at once;
    # NORMAL sync is durable across application crashes, and fast for bulk loads.
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL and process; ``None`` means the configured hub database."""
    return _engine_for(url or get_config().db_url)


@lru_cache(maxsize=16)
def _engine_for(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # A small statement cache: bulk lookups use IN (?, …) lists whose length changes every
        # batch, and 128 cached variants of them grew the import's memory with the file size.
        engine = create_engine(url, connect_args={"timeout": 30, "cached_statements": 8})
        event.listen(engine, "connect", _tune_sqlite)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4,
                               connect_args={"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {})
    return engine


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session for one unit of work: commit on success, roll back on error."""
    session = sessionmaker(get_engine(url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
