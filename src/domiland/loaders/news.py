"""News loader (IMP-10): one bulk upsert per batch, keyed by organization + guid (IMP-8).

An item with neither guid nor link cannot be recognised next time, so it is
skipped with a warning (IMP-7), as is a key too long for the ``guid`` column.
Unchanged items are not written at all (``updated_at`` stays).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from domiland.loaders.base import BatchResult, NumberedRecord, RecordWarning
from domiland.loaders.bulk import BulkConnection

GUID_MAX = 1024
_COLUMNS = ("organization_id", "guid", "title", "link", "summary", "published_at", "created_at", "updated_at")
_KEY = ("organization_id", "guid")


def db_datetime(dialect: str, value: datetime | None) -> Any:
    """An aware datetime as this database stores ``DateTime(timezone=True)`` (SQLite: naive UTC text)."""
    if value is None:
        return None
    if dialect == "sqlite":
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


class NewsLoader:
    """News items of one organization's feed."""

    table = "news"

    def __init__(self, bulk: BulkConnection, organization_id: int) -> None:
        self.bulk = bulk
        self.organization_id = organization_id

    def load(self, batch: Sequence[NumberedRecord]) -> BatchResult:
        result = BatchResult()
        now = self.bulk.now()
        dialect = self.bulk.dialect
        rows: dict[str, tuple] = {}  # a guid repeated in the feed keeps its last item, written once
        for record_no, line, f in batch:
            guid = f.get("guid")
            if not guid:
                result.skipped += 1
                result.warnings.append(RecordWarning(record_no, line, _label(f) + "нет ни guid, ни ссылки — "
                                                     "новость пропущена"))
                continue
            if len(guid) > GUID_MAX:
                result.skipped += 1
                result.warnings.append(RecordWarning(record_no, line, _label(f) + f"guid длиннее {GUID_MAX} "
                                                     "символов — новость пропущена"))
                continue
            rows[guid] = (self.organization_id, guid, f.get("title") or "", f.get("link"), f.get("summary"),
                          db_datetime(dialect, f.get("published_at")), now, now)
        result.written = self.bulk.upsert("news", _KEY, _COLUMNS, list(rows.values()), touch="updated_at",
                                          insert_only=("created_at",))
        return result

    def finish(self) -> BatchResult:
        return BatchResult()


def _label(fields: dict) -> str:
    title = (fields.get("title") or "").strip()
    return f"«{title[:60]}»: " if title else ""
