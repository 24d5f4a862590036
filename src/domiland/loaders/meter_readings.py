"""Meter readings loader: resolve accounts and meters, create new meters, then one bulk upsert per batch.

Records are judged in file order, as if loaded one by one: a meter unknown to
the CRM is created by its first reading that names a ``Resource`` (for a
known account), and readings of it before that one are skipped as readings
of an unknown meter. A reading never moves a meter to another account or
changes its resource: such a record is skipped with a warning (IMP-7).
``created_at`` of a reading is written by the insert only (export windows
select by it, EXP-4).
"""
from __future__ import annotations

from collections.abc import Sequence

from domiland.loaders.base import BatchResult, NumberedRecord, RecordWarning, account_ids
from domiland.loaders.bulk import BulkConnection

_COLUMNS = ("organization_id", "meter_id", "account_id", "reading_date", "value1", "value2", "value3", "source",
            "created_at", "updated_at")
_KEY = ("meter_id", "reading_date")

MeterInfo = tuple[int, int, str, str, int]
"""(meter id, account id, account number, resource, number of the record that created it in this batch or 0)."""


class MeterReadingsLoader:
    """Meter readings of one organization."""

    table = "meter_readings"

    def __init__(self, bulk: BulkConnection, organization_id: int) -> None:
        self.bulk = bulk
        self.organization_id = organization_id

    def load(self, batch: Sequence[NumberedRecord]) -> BatchResult:
        result = BatchResult()
        accounts = account_ids(self.bulk, self.organization_id, batch)
        meters = self._fetch_meters(list({fields["MeterNumber"] for _, _, fields in batch}))
        now = self.bulk.now()
        self._create_meters(batch, accounts, meters, now)
        org = self.organization_id
        rows: dict[tuple[int, str], tuple] = {}  # by key: a repeated meter + date keeps its last record, written once
        warn = result.warnings.append
        for record_no, line, f in batch:
            account_number = f["AccountNumber"]
            account_id = accounts.get(account_number)
            if account_id is None:
                warn(RecordWarning(record_no, line, f"лицевой счёт {account_number} не найден"))
                continue
            number = f["MeterNumber"]
            meter = meters.get(number)
            if meter is None or record_no < meter[4]:
                warn(RecordWarning(record_no, line, f"счётчик {number} не найден, и не указан Resource — "
                                                    "запись пропущена"))
                continue
            meter_id, meter_account_id, meter_account, resource, _ = meter
            if meter_account_id != account_id:
                warn(RecordWarning(record_no, line, f"счётчик {number} привязан к лицевому счёту {meter_account}, "
                                                    f"а в записи указан лицевой счёт {account_number} — "
                                                    "запись пропущена"))
                continue
            get = f.get
            given = get("Resource")
            if given is not None and given != resource:
                warn(RecordWarning(record_no, line, f"у счётчика {number} ресурс {resource}, а в записи указан "
                                                    f"{given} — запись пропущена"))
                continue
            day = f["Date"]
            rows[meter_id, day] = (org, meter_id, account_id, day, f["Value1"], get("Value2"), get("Value3"),
                                   get("Source"), now, now)
        result.skipped = len(result.warnings)
        result.written = self.bulk.upsert("meter_readings", _KEY, _COLUMNS, list(rows.values()), touch="updated_at",
                                          insert_only=("created_at",))
        return result

    def finish(self) -> BatchResult:
        return BatchResult()

    def _fetch_meters(self, numbers: Sequence[str]) -> dict[str, MeterInfo]:
        """The meters of this organization among ``numbers``, with their account's number (one query per 30k)."""
        if not numbers:
            return {}
        bulk = self.bulk
        sql = ("SELECT m.number, m.id, m.account_id, a.number, m.resource FROM meters m "
               "JOIN accounts a ON a.id = m.account_id WHERE m.organization_id = {p} AND m.number {cond}")
        found: dict[str, MeterInfo] = {}
        cur = bulk.dbapi.cursor()
        try:
            if bulk.dialect == "sqlite":
                for start in range(0, len(numbers), 30000):  # SQLite's host-parameter limit is 32766
                    chunk = numbers[start:start + 30000]
                    cur.execute(sql.format(p="?", cond=f"IN ({','.join('?' * len(chunk))})"),
                                (self.organization_id, *chunk))
                    found.update((n, (i, a, an, r, 0)) for n, i, a, an, r in cur.fetchall())
            else:
                cur.execute(sql.format(p="%s", cond="= ANY(%s)"), (self.organization_id, list(numbers)))
                found.update((n, (i, a, an, r, 0)) for n, i, a, an, r in cur.fetchall())
        finally:
            cur.close()
        return found

    def _create_meters(self, batch: Sequence[NumberedRecord], accounts: dict[str, int], meters: dict[str, MeterInfo],
                       now: object) -> None:
        """Create the unknown meters that a reading of this batch names with its resource; add them to ``meters``."""
        new: dict[str, tuple[int, str, int]] = {}  # number → (account id, resource, record no)
        for record_no, _, f in batch:
            number = f["MeterNumber"]
            if number in meters or number in new:
                continue
            resource = f.get("Resource")
            account_id = accounts.get(f["AccountNumber"])
            if resource is not None and account_id is not None:
                new[number] = (account_id, resource, record_no)
        if not new:
            return
        p = self.bulk.param
        cur = self.bulk.dbapi.cursor()
        try:
            cur.executemany(
                f"INSERT INTO meters (organization_id, number, account_id, resource, created_at) "
                f"VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (organization_id, number) DO NOTHING",
                [(self.organization_id, number, account_id, resource, now)
                 for number, (account_id, resource, _) in new.items()])
        finally:
            cur.close()
        # Read them back rather than assume: what is stored is what later readings are checked against.
        for number, (meter_id, account_id, account_number, resource, _) in self._fetch_meters(list(new)).items():
            meters[number] = (meter_id, account_id, account_number, resource, new[number][2])
