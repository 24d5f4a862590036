"""Payments loader: resolve accounts, then one bulk upsert per batch (IMP-7, IMP-8).

``created_at`` is written by the insert only: export windows select by it
(EXP-4), so a payment corrected by a later file is not exported a second time.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from domiland.loaders.base import BatchResult, NumberedRecord, account_ids
from domiland.loaders.bulk import BulkConnection

_COLUMNS = ("organization_id", "payment_id", "account_id", "paid_at", "amount", "period", "service_code", "source",
            "purpose", "created_at", "updated_at")
_KEY = ("organization_id", "payment_id")

_UTC = timezone.utc
_fromisoformat = datetime.fromisoformat


def sqlite_datetime(text: str) -> str:
    """An ISO 8601 date-time with offset as SQLite stores ``DateTime(timezone=True)``: UTC, no offset.

    That is the form the ORM reads back (naive, meaning UTC) and the form of
    :meth:`BulkConnection.now`, so values compare and sort as text.
    """
    # isoformat() always writes a 4-digit year and, here, "+00:00" last; slicing beats replace(tzinfo=None) 2x.
    return aware_datetime(text).astimezone(_UTC).isoformat(" ", "microseconds")[:26]


def aware_datetime(text: str) -> datetime:
    """An ISO 8601 date-time with offset as an aware :class:`datetime` (for PostgreSQL's ``timestamptz``).

    A value without an offset is refused (the XSD already does): it names no instant.
    """
    value = _fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"date-time without a UTC offset: {text!r}")
    return value


def datetime_converter(dialect: str) -> Callable[[str], Any]:
    """How a partner's date-time (the XSD requires its offset) is passed to this database."""
    return sqlite_datetime if dialect == "sqlite" else aware_datetime


class PaymentsLoader:
    """Payments of one organization; a payment for an unknown account is a warning."""

    table = "payments"

    def __init__(self, bulk: BulkConnection, organization_id: int) -> None:
        self.bulk = bulk
        self.organization_id = organization_id
        self._to_db = datetime_converter(bulk.dialect)

    def load(self, batch: Sequence[NumberedRecord]) -> BatchResult:
        result = BatchResult()
        accounts = account_ids(self.bulk, self.organization_id, batch)
        now = self.bulk.now()
        org = self.organization_id
        to_db = self._to_db
        rows: dict[str, tuple] = {}  # by key: a repeated PaymentId keeps its last record, and is written once
        for record_no, line, f in batch:
            account_id = accounts.get(f["AccountNumber"])
            if account_id is None:
                result.skip(record_no, line, f"лицевой счёт {f['AccountNumber']} не найден")
                continue
            get = f.get
            payment_id = f["PaymentId"]
            rows[payment_id] = (org, payment_id, account_id, to_db(f["Date"]), f["Amount"], get("Period"),
                                get("ServiceCode"), get("Source"), get("Purpose") or None, now, now)
        result.written = self.bulk.upsert("payments", _KEY, _COLUMNS, list(rows.values()), touch="updated_at",
                                          insert_only=("created_at",))
        return result

    def finish(self) -> BatchResult:
        return BatchResult()
