"""Bulk upsert of payments and meter readings on SQLite and PostgreSQL (IMP-7, IMP-8, spec §6).

Idempotent, last wins, unknown accounts and meters warned, meters created from a
reading that names its resource and never moved, ``created_at`` set once.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from domiland.db.engine import get_engine, session_scope
from domiland.db.migrate import upgrade
from domiland.db.models import Account, Meter, MeterReading, Payment
from domiland.loaders.bulk import BulkConnection
from domiland.loaders.meter_readings import MeterReadingsLoader
from domiland.loaders.payments import PaymentsLoader, aware_datetime, sqlite_datetime


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, hub_db, monkeypatch):
    url = hub_db if request.param == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    monkeypatch.setenv("DOMILAND_DB_URL", url)
    return url


def load(loader_class, org_id, batch):
    bulk = BulkConnection.open(get_engine())
    try:
        result = loader_class(bulk, org_id).load(batch)
        bulk.commit()
        return result
    finally:
        bulk.close()


def utc(value: datetime) -> datetime:
    """An instant read through the ORM: SQLite gives naive UTC, PostgreSQL an aware value."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def account_ids(org_id) -> dict[str, int]:
    with session_scope() as s:
        return {a.number: a.id for a in s.scalars(select(Account).where(Account.organization_id == org_id))}


# --- payments -------------------------------------------------------------------------------------------------

def pay(no, payment_id="P1", account="1001", when="2026-05-14T10:30:00+03:00", amount="100.50", **extra):
    return (no, no + 2, {"PaymentId": payment_id, "AccountNumber": account, "Date": when, "Amount": amount, **extra})


def payments(org_id) -> dict[str, Payment]:
    with session_scope() as s:
        return {p.payment_id: p for p in s.scalars(select(Payment).where(Payment.organization_id == org_id))}


def test_payments_insert_then_reimport_changes_nothing_then_update(db, make_org):
    org = make_org()
    batch = [pay(1, "P1", "1001", Period="2026-04", ServiceCode="CW", Source="bank", Purpose="Оплата за апрель"),
             pay(2, "P2", "1002", amount="5"), pay(3, "P3", "1003", Source="cash")]
    assert load(PaymentsLoader, org, batch).written == 3
    before = payments(org)
    assert load(PaymentsLoader, org, batch).written == 0  # same data: nothing written, not even updated_at
    again = payments(org)
    assert {k: (p.updated_at, p.created_at) for k, p in again.items()} == {
        k: (p.updated_at, p.created_at) for k, p in before.items()}
    p1 = again["P1"]
    assert (p1.account_id, p1.amount, p1.period, p1.service_code, p1.source, p1.purpose) == (
        account_ids(org)["1001"], Decimal("100.50"), "2026-04", "CW", "bank", "Оплата за апрель")
    assert (again["P2"].period, again["P2"].source, again["P2"].purpose) == (None, None, None)
    assert load(PaymentsLoader, org, [pay(1, "P2", "1002", amount="6")]).written == 1
    assert {k: p.amount for k, p in payments(org).items()} == {
        "P1": Decimal("100.50"), "P2": Decimal("6"), "P3": Decimal("100.50")}


def test_payment_created_at_is_kept_and_updated_at_moves_on_update(db, make_org):
    org = make_org()
    load(PaymentsLoader, org, [pay(1, amount="10")])
    first = payments(org)["P1"]
    time.sleep(0.01)
    assert load(PaymentsLoader, org, [pay(1, amount="11", Source="online")]).written == 1
    second = payments(org)["P1"]
    assert second.amount == Decimal("11") and second.source == "online"
    assert utc(second.created_at) == utc(first.created_at)
    assert utc(second.updated_at) > utc(first.updated_at)


@pytest.mark.parametrize("text, instant", [
    ("2026-05-14T10:30:00+03:00", datetime(2026, 5, 14, 7, 30, tzinfo=timezone.utc)),
    ("2026-05-14T10:30:00Z", datetime(2026, 5, 14, 10, 30, tzinfo=timezone.utc)),
    ("2026-01-01T01:15:00.25-03:30", datetime(2026, 1, 1, 4, 45, 0, 250000, tzinfo=timezone.utc)),
    ("2026-01-01T00:30:00+05:00", datetime(2025, 12, 31, 19, 30, tzinfo=timezone.utc)),  # another day in UTC
    ("2026-03-01T12:00:00.1234567+00:00", datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)),
])
def test_paid_at_is_the_same_instant_read_back_through_the_orm(db, make_org, text, instant):
    org = make_org()
    load(PaymentsLoader, org, [pay(1, when=text)])
    assert utc(payments(org)["P1"].paid_at) == instant
    assert load(PaymentsLoader, org, [pay(1, when=text)]).written == 0  # and it compares equal on re-import


def test_sqlite_datetime_is_the_orm_storage_form():
    assert sqlite_datetime("2026-05-14T10:30:00+03:00") == "2026-05-14 07:30:00.000000"
    assert sqlite_datetime("2026-05-14T10:30:00.5Z") == "2026-05-14 10:30:00.500000"
    assert len(BulkConnection(dbapi=None, dialect="sqlite").now()) == len(sqlite_datetime("2026-05-14T10:30:00Z"))


def test_a_date_time_without_offset_is_refused_not_guessed():
    for convert in (sqlite_datetime, aware_datetime):
        with pytest.raises(ValueError):
            convert("2026-05-14T10:30:00")


def test_payment_for_unknown_account_is_skipped_with_a_warning(db, make_org):
    org = make_org()
    result = load(PaymentsLoader, org, [pay(1, "P1", "1001"), pay(2, "P2", "9999"), pay(3, "P3", "1002")])
    assert (result.written, result.skipped) == (2, 1)
    assert [str(w) for w in result.warnings] == ["строка 4, запись 2: лицевой счёт 9999 не найден"]
    assert sorted(payments(org)) == ["P1", "P3"]


def test_repeated_payment_id_in_one_batch_keeps_the_last(db, make_org):
    org = make_org()
    batch = [pay(1, amount="1.00"), pay(2, amount="2.00", account="1002"), pay(3, amount="3.00")]
    assert load(PaymentsLoader, org, batch).written == 1
    p1 = payments(org)["P1"]
    assert (len(payments(org)), p1.amount, p1.account_id) == (1, Decimal("3.00"), account_ids(org)["1001"])
    assert load(PaymentsLoader, org, batch).written == 0  # not rewritten 1.00 → 2.00 → 3.00 on a re-import


def test_payment_ids_are_per_organization(db, make_org):
    a = make_org("uk-a", accounts=("1001",))
    b = make_org("uk-b", accounts=("2001",))
    load(PaymentsLoader, a, [pay(1, "P1", "1001", amount="1")])
    assert load(PaymentsLoader, b, [pay(1, "P1", "1001")]).skipped == 1  # a's account is unknown to b
    assert load(PaymentsLoader, b, [pay(1, "P1", "2001", amount="2")]).written == 1
    assert payments(a)["P1"].amount == Decimal("1") and payments(b)["P1"].amount == Decimal("2")


# --- meter readings -------------------------------------------------------------------------------------------

def reading(no, meter="M1", account="1001", day="2026-05-20", value1="123.456", **extra):
    return (no, no + 2, {"AccountNumber": account, "MeterNumber": meter, "Date": day, "Value1": value1, **extra})


def meters(org_id) -> dict[str, tuple[int, str]]:
    """number → (account id, resource)"""
    with session_scope() as s:
        return {m.number: (m.account_id, m.resource)
                for m in s.scalars(select(Meter).where(Meter.organization_id == org_id))}


def readings(org_id) -> dict[tuple[str, date], MeterReading]:
    with session_scope() as s:
        q = (select(Meter.number, MeterReading).join(Meter, Meter.id == MeterReading.meter_id)
             .where(MeterReading.organization_id == org_id))
        return {(number, r.reading_date): r for number, r in s.execute(q)}


def test_unknown_meter_with_resource_is_created_for_its_account(db, make_org):
    org = make_org()
    result = load(MeterReadingsLoader, org, [reading(1, "M1", "1002", Resource="HOT_WATER", Source="app")])
    assert (result.written, result.skipped, result.warnings) == (1, 0, [])
    accounts = account_ids(org)
    assert meters(org) == {"M1": (accounts["1002"], "HOT_WATER")}
    r = readings(org)[("M1", date(2026, 5, 20))]
    assert (r.account_id, r.value1, r.value2, r.value3, r.source) == (
        accounts["1002"], Decimal("123.456"), None, None, "app")
    # Later readings of a known meter need no Resource; the same one is accepted.
    result = load(MeterReadingsLoader, org, [reading(1, "M1", "1002", day="2026-06-20"),
                                             reading(2, "M1", "1002", day="2026-07-20", Resource="HOT_WATER")])
    assert (result.written, result.warnings) == (2, [])
    assert len(meters(org)) == 1 and len(readings(org)) == 3


def test_unknown_meter_without_resource_is_skipped_with_a_warning(db, make_org):
    org = make_org()
    result = load(MeterReadingsLoader, org, [reading(1, "M1"), reading(2, "M2", Resource="GAS")])
    assert (result.written, result.skipped) == (1, 1)
    assert [str(w) for w in result.warnings] == [
        "строка 3, запись 1: счётчик M1 не найден, и не указан Resource — запись пропущена"]
    assert set(meters(org)) == {"M2"}


def test_records_are_judged_in_file_order_within_a_batch(db, make_org):
    # M1's first reading names no resource: it is unknown at that point, as it would be in an earlier batch.
    org = make_org()
    result = load(MeterReadingsLoader, org, [
        reading(1, "M1", day="2026-03-20"),
        reading(2, "M1", "9999", day="2026-04-20", Resource="GAS"),  # unknown account: creates nothing
        reading(3, "M1", day="2026-05-20", Resource="GAS"),  # creates M1 for 1001
        reading(4, "M1", day="2026-06-20"),
        reading(5, "M1", "1002", day="2026-07-20"),  # another account: not moved
    ])
    assert [(w.record_no, w.message) for w in result.warnings] == [
        (1, "счётчик M1 не найден, и не указан Resource — запись пропущена"),
        (2, "лицевой счёт 9999 не найден"),
        (5, "счётчик M1 привязан к лицевому счёту 1001, а в записи указан лицевой счёт 1002 — запись пропущена"),
    ]
    assert (result.written, result.skipped) == (2, 3)
    assert sorted(d for _, d in readings(org)) == [date(2026, 5, 20), date(2026, 6, 20)]
    assert meters(org) == {"M1": (account_ids(org)["1001"], "GAS")}


def test_reading_naming_another_account_does_not_move_the_meter(db, make_org):
    org = make_org()
    load(MeterReadingsLoader, org, [reading(1, "M1", "1001", Resource="ELECTRICITY")])
    result = load(MeterReadingsLoader, org, [reading(7, "M1", "1003", day="2026-06-20", Resource="ELECTRICITY")])
    assert (result.written, result.skipped) == (0, 1)
    assert [str(w) for w in result.warnings] == [
        "строка 9, запись 7: счётчик M1 привязан к лицевому счёту 1001, а в записи указан лицевой счёт 1003 — "
        "запись пропущена"]
    assert meters(org) == {"M1": (account_ids(org)["1001"], "ELECTRICITY")}
    assert len(readings(org)) == 1


def test_reading_naming_another_resource_is_skipped(db, make_org):
    org = make_org()
    load(MeterReadingsLoader, org, [reading(1, "M1", Resource="COLD_WATER")])
    result = load(MeterReadingsLoader, org, [reading(1, "M1", day="2026-06-20", Resource="HOT_WATER"),
                                             reading(2, "M1", day="2026-07-20", Resource="COLD_WATER")])
    assert (result.written, result.skipped) == (1, 1)
    assert [w.message for w in result.warnings] == [
        "у счётчика M1 ресурс COLD_WATER, а в записи указан HOT_WATER — запись пропущена"]
    assert meters(org)["M1"][1] == "COLD_WATER"


def test_reading_for_unknown_account_is_skipped_with_a_warning(db, make_org):
    org = make_org()
    result = load(MeterReadingsLoader, org, [reading(1, "M1", "9999", Resource="GAS")])
    assert (result.written, result.skipped) == (0, 1)
    assert [str(w) for w in result.warnings] == ["строка 3, запись 1: лицевой счёт 9999 не найден"]
    assert meters(org) == {}


def test_multi_tariff_values_are_stored(db, make_org):
    org = make_org()
    load(MeterReadingsLoader, org, [reading(1, "E1", Resource="ELECTRICITY", value1="1200.5", Value2="800.25",
                                            Value3="0", Source="operator")])
    r = readings(org)[("E1", date(2026, 5, 20))]
    assert (r.value1, r.value2, r.value3, r.source) == (Decimal("1200.5"), Decimal("800.25"), Decimal("0"), "operator")


def test_readings_reimport_changes_nothing_last_wins_and_created_at_is_kept(db, make_org):
    org = make_org()
    batch = [reading(1, "M1", Resource="COLD_WATER", value1="10"), reading(2, "M2", "1002", Resource="GAS"),
             reading(3, "M1", value1="11")]  # same meter and date: the last wins
    assert load(MeterReadingsLoader, org, batch).written == 2
    first = readings(org)
    assert {k: r.value1 for k, r in first.items()} == {
        ("M1", date(2026, 5, 20)): Decimal("11"), ("M2", date(2026, 5, 20)): Decimal("123.456")}
    assert load(MeterReadingsLoader, org, batch).written == 0
    assert {k: r.updated_at for k, r in readings(org).items()} == {k: r.updated_at for k, r in first.items()}
    time.sleep(0.01)
    assert load(MeterReadingsLoader, org, [reading(1, "M1", value1="12", Value2="3")]).written == 1
    m1 = readings(org)[("M1", date(2026, 5, 20))]
    old = first[("M1", date(2026, 5, 20))]
    assert (m1.value1, m1.value2) == (Decimal("12"), Decimal("3"))
    assert utc(m1.created_at) == utc(old.created_at) and utc(m1.updated_at) > utc(old.updated_at)
    assert len(meters(org)) == 2


def test_meter_numbers_are_per_organization(db, make_org):
    a = make_org("uk-a", accounts=("1001",))
    b = make_org("uk-b", accounts=("2001",))
    load(MeterReadingsLoader, a, [reading(1, "M1", "1001", Resource="GAS")])
    result = load(MeterReadingsLoader, b, [reading(1, "M1", "2001")])
    assert [w.message for w in result.warnings] == ["счётчик M1 не найден, и не указан Resource — запись пропущена"]
    assert load(MeterReadingsLoader, b, [reading(1, "M1", "2001", Resource="HEAT")]).written == 1
    assert meters(a)["M1"][1] == "GAS" and meters(b)["M1"][1] == "HEAT"
