"""Searching the integration log (LOG-5), without HTTP: filters, text search, keyset pages, a capped count.

* **Text search** (``q``): a case-insensitive substring of the message; ``%``, ``_`` and ``\\`` in
  the text are matched literally. The text needs three letters or digits in a row (a word or a
  number; at most 200 characters) — the least the index can look up. PostgreSQL runs
  ``message ILIKE '%…%'``, served by the trigram GIN index ``ix_integration_log_message_trgm``
  (pg_trgm, migration 0005); SQLite (development) compares Python-lowercased text, so Cyrillic
  folds there too.
* **Dates** are UTC. ``created_from`` is inclusive; ``created_to`` is inclusive too: a date alone
  (``2026-11-03``) means the whole day, a date-time (``2026-11-03T12:00:00+03:00``) that instant.
  A date-time without an offset is UTC.
* **Order and pages**: newest first, ``(created_at, id)`` descending. Pages are keyset pages: the
  ``next_cursor`` of a page (an opaque string) asks for the rows after its last row, so page 1,000
  costs what page 1 does, and rows written meanwhile neither repeat nor shift the pages.
* **Count**: exact up to :data:`COUNT_CAP` matching rows; past that the answer says "more than
  10,000" (``count_exact`` false) instead of counting a million rows on every page. A first page
  that holds every match is its own count (no second query).
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import quote

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import Session

from domiland.db.models import IntegrationLog, LogStatus, Method, Organization

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
COUNT_CAP = 10_000
MAX_QUERY_CHARS = 200
_TRIGRAM = re.compile(r"[^\W_]{3}")
"""Three letters or digits in a row: the least a trigram index can look up. Without it (``ab``,
``...``, ``№ 42``) every rare text would read the whole table (2.5 s on 1M rows, bench)."""
ESCAPE = "\\"


class LogQueryError(ValueError):
    """A filter value that cannot be used; the message names the parameter and the expected form."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


@dataclass(frozen=True)
class LogFilter:
    """What to look for; every field is optional and they combine with AND (values of one field with OR)."""

    q: str | None = None
    created_from: datetime | None = None
    """Inclusive lower bound, aware UTC."""
    created_before: datetime | None = None
    """Exclusive upper bound, aware UTC (see :func:`parse_bound`)."""
    statuses: tuple[LogStatus, ...] = ()
    task_types: tuple[str, ...] = ()
    methods: tuple[Method, ...] = ()
    organization_id: int | None = None


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the last row's ``(created_at, id)``."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        raw = json.dumps([_utc(self.created_at).isoformat(), self.id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            when, row_id = json.loads(raw)
            return cls(_utc(datetime.fromisoformat(when)), int(row_id))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise LogQueryError("cursor", "not a cursor of this API; start again from the first page "
                                          "(omit cursor)") from exc


@dataclass
class LogPage:
    rows: list[IntegrationLog]
    next_cursor: str | None
    count: int | None
    """Matching rows (all pages), exact up to :data:`COUNT_CAP`; ``None`` when not asked for."""
    count_exact: bool = True
    organization_codes: dict[int, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- parsing parameters

def parse_bound(value: str, *, param: str, upper: bool) -> datetime:
    """An ISO date or date-time → a UTC bound: inclusive lower, or *exclusive* upper.

    ``2026-11-03`` → 2026-11-03T00:00Z as a lower bound, 2026-11-04T00:00Z (exclusive) as an upper
    one, so the whole day is included. A date-time upper bound is inclusive: one microsecond (the
    storage precision) is added.
    """
    text = value.strip()
    try:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            moment = _utc(datetime.fromisoformat(text))
        else:
            start = datetime.combine(day, time(0), tzinfo=timezone.utc)
            return start + timedelta(days=1) if upper else start
    except ValueError as exc:
        raise LogQueryError(param, f"{value!r} is not an ISO date (2026-11-03) or date-time "
                                   "(2026-11-03T12:00:00Z)") from exc
    return moment + timedelta(microseconds=1) if upper else moment


def parse_statuses(values: Iterable[str]) -> tuple[LogStatus, ...]:
    """Status names, repeated or comma-separated (``Done,Warning``); any case."""
    by_name = {s.value.lower(): s for s in LogStatus}
    out: list[LogStatus] = []
    for item in _split(values):
        status = by_name.get(item.lower())
        if status is None:
            raise LogQueryError("status", f"unknown status {item!r}; use {', '.join(s.value for s in LogStatus)}")
        if status not in out:
            out.append(status)
    return tuple(out)


def parse_methods(values: Iterable[str]) -> tuple[Method, ...]:
    by_name = {m.value.lower(): m for m in Method}
    out: list[Method] = []
    for item in _split(values):
        method = by_name.get(item.lower())
        if method is None:
            raise LogQueryError("method", f"unknown method {item!r}; use {', '.join(m.value for m in Method)}")
        if method not in out:
            out.append(method)
    return tuple(out)


def parse_task_types(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_split(values)))


def make_filter(*, q: str | None = None, created_from: str | None = None, created_to: str | None = None,
                status: Iterable[str] = (), task_type: Iterable[str] = (), method: Iterable[str] = (),
                organization_id: int | None = None) -> LogFilter:
    """A :class:`LogFilter` from the API's query parameters (raises :class:`LogQueryError`)."""
    q = (q or "").strip() or None
    if q is not None and (len(q) > MAX_QUERY_CHARS or not _TRIGRAM.search(q)):
        raise LogQueryError("q", f"search for a text with at least 3 letters or digits in a row (a word or a "
                                 f"number), at most {MAX_QUERY_CHARS} characters")
    low = parse_bound(created_from, param="created_from", upper=False) if created_from else None
    high = parse_bound(created_to, param="created_to", upper=True) if created_to else None
    if low is not None and high is not None and low >= high:
        raise LogQueryError("created_to", "is before created_from")
    return LogFilter(q=q, created_from=low, created_before=high, statuses=parse_statuses(status),
                     task_types=parse_task_types(task_type), methods=parse_methods(method),
                     organization_id=organization_id)


def like_pattern(text: str) -> str:
    """``%text%`` with the LIKE wildcards of ``text`` escaped (escape character ``\\``)."""
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"


# --------------------------------------------------------------------------- queries

def conditions(f: LogFilter, dialect: str) -> list[ColumnElement[bool]]:
    log = IntegrationLog
    out: list[ColumnElement[bool]] = []
    if f.organization_id is not None:
        out.append(log.organization_id == f.organization_id)
    if f.statuses:
        out.append(log.status.in_(f.statuses))
    if f.task_types:
        out.append(log.task_type.in_(f.task_types))
    if f.methods:
        out.append(log.method.in_(f.methods))
    if f.created_from is not None:
        out.append(log.created_at >= f.created_from)
    if f.created_before is not None:
        out.append(log.created_at < f.created_before)
    if f.q:
        if dialect == "sqlite":
            # SQLite's lower()/LIKE fold ASCII only: compare Python-lowercased text (see _sqlite_lower).
            out.append(func.domiland_lower(log.message).like(like_pattern(f.q.lower()), escape=ESCAPE))
        else:
            out.append(log.message.ilike(like_pattern(f.q), escape=ESCAPE))
    return out


def page_query(f: LogFilter, dialect: str, *, limit: int, after: Cursor | None = None) -> Select:
    """The rows of one page (``limit + 1`` are fetched to know whether another page follows)."""
    log = IntegrationLog
    where = conditions(f, dialect)
    if after is not None:
        where.append(tuple_(log.created_at, log.id) < tuple_(after.created_at, after.id))
    return select(log).where(*where).order_by(log.created_at.desc(), log.id.desc()).limit(limit + 1)


def count_query(f: LogFilter, dialect: str, *, cap: int | None = None) -> Select:
    """``count(*)`` of at most ``cap + 1`` matching rows: bounded work whatever the filter matches."""
    cap = COUNT_CAP if cap is None else cap
    matching = select(IntegrationLog.id).where(*conditions(f, dialect)).limit(cap + 1).subquery()
    return select(func.count()).select_from(matching)


def search(session: Session, f: LogFilter, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None,
           with_count: bool = True) -> LogPage:
    """One page of the log, newest first, with the codes of the organizations on it."""
    if not 1 <= limit <= MAX_LIMIT:
        raise LogQueryError("limit", f"between 1 and {MAX_LIMIT}")
    after = Cursor.decode(cursor) if cursor else None
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite" and f.q:
        _sqlite_lower(session)
    rows = list(session.scalars(page_query(f, dialect, limit=limit, after=after)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = Cursor(rows[-1].created_at, rows[-1].id).encode()
    count, exact = None, True
    if with_count and after is None and next_cursor is None:
        count = len(rows)  # the first page holds every match: no second pass (rare texts cost the most)
    elif with_count:
        count = session.scalar(count_query(f, dialect, cap=COUNT_CAP))
        if count > COUNT_CAP:
            count, exact = COUNT_CAP, False
    return LogPage(rows, next_cursor, count, exact, organization_codes(session, {r.organization_id for r in rows}))


def get_entry(session: Session, entry_id: int, *, organization_id: int | None = None) -> IntegrationLog | None:
    """One row; ``None`` also when ``organization_id`` is given and the row belongs elsewhere."""
    row = session.get(IntegrationLog, entry_id)
    if row is None or (organization_id is not None and row.organization_id != organization_id):
        return None
    return row


def organization_codes(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return dict(session.execute(select(Organization.id, Organization.code).where(Organization.id.in_(wanted))).all())


def airflow_run_url(base_url: str | None, dag_id: str | None, run_id: str | None) -> str | None:
    """The run's page in the Airflow 3 UI: ``{[api] base_url}/dags/{dag_id}/runs/{run_id}``.

    Without a configured ``base_url`` the path alone (``/dags/…``), which the browser resolves
    against the API server that serves both the UI and this API.
    """
    if not dag_id or not run_id:
        return None
    return f"{(base_url or '').rstrip('/')}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def as_utc(value: datetime) -> datetime:
    """Timestamps as stored: aware on PostgreSQL, naive UTC on SQLite → aware UTC."""
    return _utc(value)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _split(values: Iterable[str] | str | None) -> Sequence[str]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def _sqlite_lower(session: Session) -> None:
    # Registered on the connection this session uses (cheap, idempotent).
    dbapi = session.connection().connection.dbapi_connection
    dbapi.create_function("domiland_lower", 1, _lower, deterministic=True)
