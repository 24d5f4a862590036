"""Showcase offers loader (IMP-10): upsert by organization + ``internal-id``; withdraw what a full feed no longer has.

Each batch is one upsert that writes a row only when something changed (a
withdrawn offer that reappears changes ``status`` back to ``active``), plus an
update of ``last_seen_at`` for every offer of the batch, which is not counted
as a change: re-reading the same feed reports nothing created or updated.

:meth:`OffersLoader.finish` runs only after the whole feed was read without
error (see ``exchange.imports.load_file``); it marks ``withdrawn`` — never
deletes — the organization's active offers whose ``last_seen_at`` is older
than this load, i.e. that were missing from the feed. A feed that fails
mid-way never gets there, so it withdraws nothing. A feed with no offers at
all withdraws nothing either (an empty export is far more often a publisher's
fault than a sold-out developer) and says so in a warning.

Own SQL instead of ``BulkConnection.upsert``: ``images`` is a JSON column, and
PostgreSQL has no equality operator for ``json`` (the generic row comparison
fails), so it is compared as ``jsonb`` here.

Limitation: one block = one feed per organization. With several addresses in
the block, each file's ``finish`` would withdraw the offers of the others
(they are re-activated by their own file, but the last file wins).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from domiland.db.models import OfferStatus
from domiland.loaders.base import BatchResult, NumberedRecord, RecordWarning
from domiland.loaders.bulk import BulkConnection

log = logging.getLogger(__name__)

INTERNAL_ID_MAX = 128
_DATA = ("type", "category", "price", "currency", "area", "rooms", "floor", "address", "images", "deal_status",
         "status")
_COLUMNS = ("organization_id", "internal_id", *_DATA, "last_seen_at", "created_at", "updated_at")
_ACTIVE = OfferStatus.ACTIVE.value
_WITHDRAWN = OfferStatus.WITHDRAWN.value


class FeedWarning(RecordWarning):
    """A warning about the feed as a whole, not one of its records."""

    def __str__(self) -> str:
        return self.message


class OffersLoader:
    """Offers of one organization's Yandex.Realty feed."""

    table = "offers"

    def __init__(self, bulk: BulkConnection, organization_id: int) -> None:
        self.bulk = bulk
        self.organization_id = organization_id
        self.seen_at = bulk.now()
        """``last_seen_at`` of every offer of this feed; older means missing from it."""
        self.loaded = 0
        self._upsert_sql, self._seen_sql = _statements(bulk.dialect, bulk.param)

    def load(self, batch: Sequence[NumberedRecord]) -> BatchResult:
        result = BatchResult()
        now = self.bulk.now()
        rows: dict[str, tuple] = {}  # an internal-id repeated in the feed keeps its last offer
        for record_no, line, f in batch:
            internal_id = f.get("internal_id")
            if not internal_id:
                result.skipped += 1
                result.warnings.append(RecordWarning(record_no, line, "у предложения <offer> нет атрибута "
                                                     "internal-id — предложение пропущено"))
                continue
            if len(internal_id) > INTERNAL_ID_MAX:
                result.skipped += 1
                result.warnings.append(RecordWarning(record_no, line, f"internal-id длиннее {INTERNAL_ID_MAX} "
                                                     "символов — предложение пропущено"))
                continue
            images = json.dumps(f.get("images") or [], ensure_ascii=False, separators=(",", ":"))
            rows[internal_id] = (self.organization_id, internal_id, f.get("type"), f.get("category"), f.get("price"),
                                 f.get("currency"), f.get("area"), f.get("rooms"), f.get("floor"), f.get("address"),
                                 images, f.get("deal_status"), _ACTIVE, self.seen_at, now, now)
        if not rows:
            return result
        cur = self.bulk.dbapi.cursor()
        try:
            cur.executemany(self._upsert_sql, list(rows.values()))
            result.written = max(cur.rowcount, 0)
            cur.executemany(self._seen_sql, [(self.seen_at, self.organization_id, key) for key in rows])
        finally:
            cur.close()
        self.loaded += len(rows)
        return result

    def finish(self) -> BatchResult:
        result = BatchResult()
        if not self.loaded:
            result.warnings.append(FeedWarning(0, 0, "в фиде нет ни одного предложения с internal-id — "
                                                 "предложения витрины не сняты с публикации"))
            return result
        p = self.bulk.param
        cur = self.bulk.dbapi.cursor()
        try:
            cur.execute(f"UPDATE offers SET status = {p}, updated_at = {p} "
                        f"WHERE organization_id = {p} AND status = {p} AND last_seen_at < {p}",
                        (_WITHDRAWN, self.bulk.now(), self.organization_id, _ACTIVE, self.seen_at))
            result.written = max(cur.rowcount, 0)
        finally:
            cur.close()
        if result.written:
            log.info("organization %s: %d offers missing from the feed marked withdrawn", self.organization_id,
                     result.written)
        return result


def _statements(dialect: str, p: str) -> tuple[str, str]:
    cols = ", ".join(_COLUMNS)
    marks = ", ".join([p] * len(_COLUMNS))
    sets = ", ".join(f"{c} = excluded.{c}" for c in (*_DATA, "updated_at"))
    if dialect == "sqlite":
        changed = " OR ".join(f"offers.{c} IS NOT excluded.{c}" for c in _DATA)
    else:
        old = ", ".join(f"offers.{c}::jsonb" if c == "images" else f"offers.{c}" for c in _DATA)
        new = ", ".join(f"excluded.{c}::jsonb" if c == "images" else f"excluded.{c}" for c in _DATA)
        changed = f"ROW({old}) IS DISTINCT FROM ROW({new})"
    upsert = (f"INSERT INTO offers ({cols}) VALUES ({marks}) ON CONFLICT (organization_id, internal_id) "
              f"DO UPDATE SET {sets} WHERE {changed}")
    seen = f"UPDATE offers SET last_seen_at = {p} WHERE organization_id = {p} AND internal_id = {p}"
    return upsert, seen
