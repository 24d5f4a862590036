"""Accruals loader: resolve accounts and services, then one bulk upsert per batch (IMP-7, IMP-8)."""
from __future__ import annotations

from collections.abc import Sequence

from domiland.loaders.base import BatchResult, NumberedRecord, account_ids
from domiland.loaders.bulk import BulkConnection

_VALUES = ("Tariff", "Volume", "Unit", "Amount", "Recalculation", "Benefit", "Penalty", "Debt", "Paid",
           "TotalPayable")
_COLUMNS = ("organization_id", "account_id", "service_id", "period", "tariff", "volume", "unit", "amount",
            "recalculation", "benefit", "penalty", "debt", "paid", "total_payable", "updated_at")


class AccrualsLoader:
    """Accruals of one organization; an unknown account is a warning, an unknown service is created."""

    table = "accruals"

    def __init__(self, bulk: BulkConnection, organization_id: int) -> None:
        self.bulk = bulk
        self.organization_id = organization_id
        self._services: dict[str, tuple[int, str | None]] = {}  # code → (id, name); a few dozen

    def load(self, batch: Sequence[NumberedRecord]) -> BatchResult:
        result = BatchResult()
        accounts = account_ids(self.bulk, self.organization_id, batch)
        self._ensure_services(batch)
        now = self.bulk.now()
        org = self.organization_id
        rows = []
        for record_no, line, f in batch:
            account_id = accounts.get(f["AccountNumber"])
            if account_id is None:
                result.skip(record_no, line, f"лицевой счёт {f['AccountNumber']} не найден")
                continue
            rows.append((org, account_id, self._services[f["ServiceCode"]][0], f["Period"],
                         *map(f.get, _VALUES), now))
        result.written = self.bulk.upsert("accruals", ("account_id", "period", "service_id"), _COLUMNS, rows,
                                          touch="updated_at")
        return result

    def finish(self) -> BatchResult:
        return BatchResult()

    def _ensure_services(self, batch: Sequence[NumberedRecord]) -> None:
        # Create unseen codes; a new name replaces the old one, an omitted name keeps it.
        todo: dict[str, str | None] = {}
        for _, _, f in batch:
            code, name = f["ServiceCode"], f.get("ServiceName") or None
            known = self._services.get(code)
            if known is None or (name is not None and name != known[1]):
                todo[code] = name or todo.get(code)
        if not todo:
            return
        p = self.bulk.param
        cur = self.bulk.dbapi.cursor()
        try:
            cur.executemany(
                f"INSERT INTO services (organization_id, code, name) VALUES ({p}, {p}, {p}) "
                "ON CONFLICT (organization_id, code) DO UPDATE SET name = COALESCE(excluded.name, services.name)",
                [(self.organization_id, code, name) for code, name in todo.items()])
        finally:
            cur.close()
        ids = self.bulk.fetch_ids("services", self.organization_id, "code", list(todo))
        for code, name in todo.items():
            self._services[code] = (ids[code], name)
