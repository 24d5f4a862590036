"""Bulk upsert of accruals on SQLite and PostgreSQL: idempotent, last wins, unknown accounts warned (IMP-7, IMP-8)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from domiland.db.engine import get_engine, session_scope
from domiland.db.migrate import upgrade
from domiland.db.models import Accrual, Service
from domiland.loaders.accruals import AccrualsLoader
from domiland.loaders.bulk import BulkConnection


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, hub_db, monkeypatch):
    url = hub_db if request.param == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    monkeypatch.setenv("DOMILAND_DB_URL", url)
    return url


def rec(no, account="1001", period="2026-05", service="CW", amount="10.00", **extra):
    return (no, no + 2, {"AccountNumber": account, "Period": period, "ServiceCode": service, "Amount": amount, **extra})


def load(org_id, batch):
    bulk = BulkConnection.open(get_engine())
    try:
        result = AccrualsLoader(bulk, org_id).load(batch)
        bulk.commit()
        return result
    finally:
        bulk.close()


def rows(org_id):
    with session_scope() as s:
        return {(a.account_id, a.period, a.service_id): a.amount
                for a in s.scalars(select(Accrual).where(Accrual.organization_id == org_id))}


def test_insert_then_reimport_changes_nothing_then_update(db, make_org):
    org = make_org()
    batch = [rec(1, "1001", ServiceName="Вода", Tariff="48.3300"), rec(2, "1002"), rec(3, "1003", service="EL")]
    assert load(org, batch).written == 3
    with session_scope() as s:
        stamps = sorted(a.updated_at for a in s.scalars(select(Accrual)))
    assert load(org, batch).written == 0  # same data: nothing written, not even updated_at
    with session_scope() as s:
        assert sorted(a.updated_at for a in s.scalars(select(Accrual))) == stamps
    changed = load(org, [rec(1, "1001", amount="11.00", ServiceName="Вода", Tariff="48.3300")])
    assert changed.written == 1
    assert sorted(rows(org).values()) == [Decimal("10.00"), Decimal("10.00"), Decimal("11.00")]


def test_unknown_account_is_skipped_with_a_warning(db, make_org):
    org = make_org()
    result = load(org, [rec(1, "1001"), rec(2, "9999"), rec(3, "1002")])
    assert (result.written, result.skipped) == (2, 1)
    assert [str(w) for w in result.warnings] == ["строка 4, запись 2: лицевой счёт 9999 не найден"]


def test_repeated_key_in_one_batch_keeps_the_last(db, make_org):
    org = make_org()
    load(org, [rec(1, amount="1.00"), rec(2, amount="2.00"), rec(3, amount="3.00")])
    assert list(rows(org).values()) == [Decimal("3.00")]


def test_services_are_created_and_renamed_but_a_missing_name_keeps_the_old(db, make_org):
    org = make_org()
    load(org, [rec(1, service="CW", ServiceName="Холодная вода")])
    load(org, [rec(1, service="CW")])
    with session_scope() as s:
        assert s.scalars(select(Service.name)).all() == ["Холодная вода"]
    load(org, [rec(1, service="CW", ServiceName="ХВС")])
    with session_scope() as s:
        assert s.scalars(select(Service.name)).all() == ["ХВС"]


def test_organizations_do_not_see_each_others_accounts(db, make_org):
    a = make_org("uk-a", accounts=("1001",))
    b = make_org("uk-b", accounts=("2001",))
    result = load(b, [rec(1, "1001")])
    assert result.skipped == 1 and rows(a) == {} and rows(b) == {}


def test_reimport_of_a_file_repeating_a_key_writes_nothing(db, make_org):
    org = make_org()
    batch = [rec(1, amount="1.00"), rec(2, amount="2.00"), rec(3, amount="3.00")]
    load(org, batch)
    with session_scope() as s:
        stamp = s.scalar(select(Accrual.updated_at))
    assert load(org, batch).written == 0
    with session_scope() as s:
        assert s.scalar(select(Accrual.updated_at)) == stamp


def test_bulk_connection_gives_back_foreign_keys_on_even_after_a_failure(hub_db):
    bulk = BulkConnection.open(get_engine())
    bulk.dbapi.execute("INSERT INTO services (organization_id, code, name) VALUES (999, 'X', NULL)")  # no such org
    bulk.close()  # without commit, as after a loader error
    with get_engine().connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
