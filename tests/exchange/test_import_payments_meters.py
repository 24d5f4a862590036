"""Payments and meter readings imported end to end from a real FTPS server (IMP-5..8, spec §6)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from domiland.db.engine import session_scope
from domiland.db.models import DataType, Meter, MeterReading, Payment
from domiland.exchange.imports import import_block
from domiland.formats import meter_readings, payments
from domiland.formats.xml_stream import XmlFormatError


def _element(name: str, fields: dict[str, str | None]) -> str:
    return f"<{name}>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items() if v is not None) + f"</{name}>"


def payment(payment_id: str = "P1", account: str = "1001", when: str = "2026-05-14T10:30:00+03:00",
            amount: str = "100.50", **extra: str) -> str:
    return _element("Payment", {"PaymentId": payment_id, "AccountNumber": account, "Date": when, "Amount": amount,
                                **extra})


def reading(meter: str = "M1", account: str = "1001", day: str = "2026-05-20", value1: str = "123.456",
            **extra: str) -> str:
    return _element("Reading", {"AccountNumber": account, "MeterNumber": meter, "Date": day, "Value1": value1,
                                **extra})


def document(root: str, *records: str, encoding: str = "utf-8") -> bytes:
    """A whole file, one record per line (so record N is on line N + 2)."""
    body = (f'<?xml version="1.0" encoding="{encoding}"?>\n<{root} version="1">\n' + "\n".join(records)
            + f"\n</{root}>\n")
    return body.encode(encoding)


def payments_xml(*records: str, encoding: str = "utf-8") -> bytes:
    return document("Payments", *records, encoding=encoding)


def readings_xml(*records: str, encoding: str = "utf-8") -> bytes:
    return document("MeterReadings", *records, encoding=encoding)


def put(server, path: str, data: bytes) -> None:
    target = server.root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def count(model) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.fixture
def block(ftps_server, make_org, make_block, monkeypatch):
    """A block of an organization whose FTPS server is the fixture's; returns a factory."""
    monkeypatch.setenv("DOMILAND_FTP_CA_FILE", ftps_server.ca_file)
    monkeypatch.setenv("DOMILAND_FTP_TIMEOUT", "5")
    org = make_org(ftp=ftps_server.settings())

    def make(data_type: DataType, paths: str, **kwargs) -> int:
        return make_block(org, paths=paths, data_type=data_type, **kwargs)

    return make


def test_payments_in_both_encodings(ftps_server, block):
    put(ftps_server, "/платежи/май.xml", payments_xml(
        payment("P1", "1001", Purpose="Оплата ЖКУ за апрель, кв. 12", Source="bank", Period="2026-04"),
        payment("P2", "1002", when="2026-05-14T07:30:00Z", amount="7.25")))
    put(ftps_server, "cp1251.xml", payments_xml(
        payment("P3", "1003", Purpose="Пени «за март»", ServiceCode="ЭЛ", Source="cash"), encoding="windows-1251"))
    report = import_block(block(DataType.PAYMENTS, "/платежи/май.xml, cp1251.xml"))
    assert report.error is None, report.error
    assert report.status.value == "Done"
    assert [(f.path, f.read, f.created) for f in report.files] == [("/платежи/май.xml", 2, 2), ("cp1251.xml", 1, 1)]
    with session_scope() as s:
        got = {p.payment_id: p for p in s.scalars(select(Payment))}
    assert got["P1"].purpose == "Оплата ЖКУ за апрель, кв. 12" and got["P1"].period == "2026-04"
    assert (got["P3"].purpose, got["P3"].service_code, got["P3"].source) == ("Пени «за март»", "ЭЛ", "cash")
    assert got["P2"].amount == Decimal("7.25")
    for p in got.values():  # the same instant, +03:00 or Z
        paid = p.paid_at if p.paid_at.tzinfo else p.paid_at.replace(tzinfo=timezone.utc)
        assert paid == datetime(2026, 5, 14, 7, 30, tzinfo=timezone.utc)


def test_meter_readings_in_both_encodings_create_meters_and_keep_all_tariffs(ftps_server, block):
    put(ftps_server, "readings.xml", readings_xml(
        reading("ХВ-1", "1001", Resource="COLD_WATER", Source="app"),
        reading("ЭЛ-7", "1002", value1="1200.5", Value2="800.25", Value3="10", Resource="ELECTRICITY")))
    put(ftps_server, "readings-1251.xml", readings_xml(
        reading("ХВ-1", "1001", day="2026-06-20", value1="130"), encoding="windows-1251"))
    report = import_block(block(DataType.METER_READINGS, "readings.xml, readings-1251.xml"))
    assert report.error is None, report.error
    assert report.status.value == "Done"
    assert [(f.read, f.created) for f in report.files] == [(2, 2), (1, 1)]
    with session_scope() as s:
        meter_resources = dict(s.execute(select(Meter.number, Meter.resource)).all())
        values = {(n, r.reading_date): (r.value1, r.value2, r.value3, r.source) for n, r in s.execute(
            select(Meter.number, MeterReading).join(Meter, Meter.id == MeterReading.meter_id))}
    assert meter_resources == {"ХВ-1": "COLD_WATER", "ЭЛ-7": "ELECTRICITY"}
    assert values == {
        ("ХВ-1", date(2026, 5, 20)): (Decimal("123.456"), None, None, "app"),
        ("ХВ-1", date(2026, 6, 20)): (Decimal("130"), None, None, None),
        ("ЭЛ-7", date(2026, 5, 20)): (Decimal("1200.5"), Decimal("800.25"), Decimal("10"), None),
    }


@pytest.mark.parametrize("data_type, data, model", [
    (DataType.PAYMENTS,
     payments_xml(payment("P1"), payment("P2", "1002"), payment("P1", amount="99.99", Source="online")), Payment),
    (DataType.METER_READINGS,
     readings_xml(reading("M1", Resource="GAS"), reading("M2", "1002", Resource="HEAT"), reading("M1", value1="5")),
     MeterReading),
])
def test_reimporting_the_same_file_changes_nothing_and_the_last_duplicate_wins(ftps_server, block, data_type, data,
                                                                                 model):
    put(ftps_server, "a.xml", data)
    block_id = block(data_type, "a.xml")
    first = import_block(block_id)
    assert first.error is None, first.error
    assert (first.total("read"), first.total("created")) == (3, 2)
    with session_scope() as s:
        before = [(r.id, r.created_at, r.updated_at) for r in s.scalars(select(model).order_by(model.id))]
    second = import_block(block_id)
    assert (second.total("created"), second.total("updated")) == (0, 0)
    assert second.status.value == "Done"
    with session_scope() as s:
        assert [(r.id, r.created_at, r.updated_at) for r in s.scalars(select(model).order_by(model.id))] == before
        last = s.scalars(select(model).order_by(model.id)).first()
    assert (last.amount if model is Payment else last.value1) == (Decimal("99.99") if model is Payment else 5)


@pytest.mark.parametrize("data_type, good, bad, needle", [
    (DataType.PAYMENTS, payment("P1"), payment("P2", amount="0"), "'Amount'"),
    (DataType.PAYMENTS, payment("P1"), payment("P2", amount="-10.00"), "'Amount'"),
    (DataType.PAYMENTS, payment("P1"), payment("P2", when="2026-05-14T10:30:00"), "'Date'"),
    (DataType.PAYMENTS, payment("P1"), payment("P2", Source="card"), "'Source'"),
    (DataType.PAYMENTS, payment("P1"), payment("P2", Extra="x"), "'Extra'"),
    (DataType.METER_READINGS, reading("M1", Resource="GAS"), reading("M1", day="2026-06-20", value1="-1"),
     "'Value1'"),
    (DataType.METER_READINGS, reading("M1", Resource="GAS"), reading("M2", Resource="WATER"), "'Resource'"),
    (DataType.METER_READINGS, reading("M1", Resource="GAS"), reading("M1", day="2026-06-20T00:00:00"), "'Date'"),
    (DataType.METER_READINGS, reading("M1", Resource="GAS"), reading("M1", day="2026-06-20", Source="sms"),
     "'Source'"),
])
def test_an_invalid_record_stops_the_run_where_it_is_and_earlier_records_stay(ftps_server, block, data_type, good,
                                                                               bad, needle):
    fmt = "payments" if data_type is DataType.PAYMENTS else "meter_readings"
    make = payments_xml if data_type is DataType.PAYMENTS else readings_xml
    later = payment("P3", "1003") if data_type is DataType.PAYMENTS else reading("M3", "1003", Resource="HEAT")
    put(ftps_server, "a.xml", make(good, bad, later))
    report = import_block(block(data_type, "a.xml"))
    assert report.status.value == "Error" and report.error_kind == "data"
    assert report.error.startswith(f"a.xml: строка 4, запись 2: не соответствует схеме {fmt}.xsd"), report.error
    assert needle in report.error
    assert count(Payment if data_type is DataType.PAYMENTS else MeterReading) == 1  # record 1 stays, 3 never read


@pytest.mark.parametrize("fmt, data", [
    (payments.PAYMENTS, payments_xml(payment("P1"), payment("P2"), payment("P3", amount="0.00"))),
    (payments.PAYMENTS, payments_xml(payment("P1"), payment("P2"), payment("P3", when="2026-05-14 10:30:00+03:00"))),
    (meter_readings.METER_READINGS,
     readings_xml(reading(), reading(day="2026-06-20"), reading(day="2026-07-20", Value2="-0.5"))),
])
def test_the_readers_say_line_and_record_number(tmp_path, fmt, data):
    path = tmp_path / "in.xml"
    path.write_bytes(data)
    reader = payments.read if fmt is payments.PAYMENTS else meter_readings.read
    seen = []
    with pytest.raises(XmlFormatError) as err:
        for line, _fields in reader(path):
            seen.append(line)
    assert seen == [3, 4]
    assert (err.value.line, err.value.record_no) == (5, 3)


def test_payment_for_unknown_account_is_a_warning(ftps_server, block):
    put(ftps_server, "a.xml", payments_xml(payment("P1", "1001"), payment("P2", "7777")))
    report = import_block(block(DataType.PAYMENTS, "a.xml", delete_after_read=True))
    assert report.status.value == "Warning"
    assert report.warnings == ["a.xml: строка 4, запись 2: лицевой счёт 7777 не найден"]
    assert (report.total("created"), report.total("skipped")) == (1, 1)
    assert report.files[0].deleted


def test_meter_reading_warnings_skip_records_and_the_rest_is_loaded(ftps_server, block):
    put(ftps_server, "a.xml", readings_xml(
        reading("M1", "1001", Resource="COLD_WATER"),
        reading("M9", "1001"),  # unknown meter, no resource
        reading("M1", "1002", day="2026-06-20"),  # M1 belongs to 1001
        reading("M1", "1001", day="2026-07-20", Resource="HOT_WATER"),  # M1 is cold water
        reading("M2", "7777", Resource="GAS"),  # unknown account
        reading("M1", "1001", day="2026-08-20"),
    ))
    report = import_block(block(DataType.METER_READINGS, "a.xml"))
    assert report.status.value == "Warning", report.error
    assert report.warnings == [
        "a.xml: строка 4, запись 2: счётчик M9 не найден, и не указан Resource — запись пропущена",
        "a.xml: строка 5, запись 3: счётчик M1 привязан к лицевому счёту 1001, а в записи указан лицевой счёт 1002 — "
        "запись пропущена",
        "a.xml: строка 6, запись 4: у счётчика M1 ресурс COLD_WATER, а в записи указан HOT_WATER — запись пропущена",
        "a.xml: строка 7, запись 5: лицевой счёт 7777 не найден",
    ]
    assert (report.total("read"), report.total("created"), report.total("skipped")) == (6, 2, 4)
    assert count(Meter) == 1 and count(MeterReading) == 2
