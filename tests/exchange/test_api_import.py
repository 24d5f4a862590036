"""The API import use case (IMP-11) called directly: JSON, XML and Excel bodies into the CRM, duplicates, errors.

The HTTP side (status codes, size cap, auth) is tested through the real Airflow API
server in ``tests/api/test_imports.py``.
"""
from __future__ import annotations

import io
import json
import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, update

from domiland.db.engine import session_scope
from domiland.db.models import (
    Accrual, ApiImport, Building, Client, ClientExternalId, IntegrationLog, LogStatus, Method, Premise, Service,
)
from domiland.exchange import api_import
from domiland.exchange.api_import import BodyFormat, get_api_import, run_api_import
from tests.samples import accrual, accruals_xml

# -- builders ------------------------------------------------------------------------------------------------------


def rec(account: str = "1001", service: str = "CW", amount: str = "100.50", period: str = "2026-05", **extra):
    return {"AccountNumber": account, "Period": period, "ServiceCode": service, "Amount": amount, **extra}


def body(*records, indent: int | None = None, **envelope) -> bytes:
    return json.dumps({"records": list(records), **envelope}, ensure_ascii=False, indent=indent).encode()


def run(org: int, data: bytes, data_type: str = "accruals", fmt: BodyFormat = BodyFormat.JSON, **kw):
    return run_api_import(org, data_type, fmt, data, **kw)


def count(model) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(model))


def log_row(entry_id: int) -> IntegrationLog:
    with session_scope() as s:
        return s.get(IntegrationLog, entry_id)


def move_back(import_id: int, delta: timedelta) -> None:
    """Pretend an import was received ``delta`` ago."""
    with session_scope() as s:
        s.execute(update(ApiImport).where(ApiImport.id == import_id)
                  .values(created_at=datetime.now(timezone.utc) - delta))


def xlsx(*rows, title: str | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.title = title
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


RU_HEADER = ("Лицевой счёт", "Период", "Код услуги", "Услуга", "Тариф", "Объём", "Ед. изм.", "Сумма", "Перерасчёт",
             "Льгота", "Пени", "Долг", "Оплачено", "Итого к оплате")


@pytest.fixture
def org(make_org):
    return make_org()  # accounts 1001, 1002, 1003


# -- JSON ----------------------------------------------------------------------------------------------------------


def test_json_accruals_are_applied_logged_and_readable_by_id(org):
    result = run(org, body(rec("1001"), rec("1002", "HW", amount=200, Tariff=45.5, Unit="м3")))
    assert (result.status, result.outcome, result.error) == ("Done", "applied", None), result.message
    assert result.counts == {"read": 2, "created": 2, "updated": 0, "unchanged": 0, "skipped": 0}
    assert result.records_total == 2 and result.stopped_at_record is None
    with session_scope() as s:
        amounts = dict(s.execute(select(Service.code, Accrual.amount).join(Service)).all())
        tariff = s.scalar(select(Accrual.tariff).where(Accrual.amount == 200))
    assert float(amounts["CW"]) == 100.5 and float(amounts["HW"]) == 200 and float(tariff) == 45.5
    entry = log_row(result.log_entry_id)
    assert (entry.status, entry.task_type, entry.task_title, entry.method) == (
        LogStatus.DONE, "api_import_accruals", "Импорт начислений (API)", Method.URL)
    assert entry.dag_id is None and entry.run_id is None and entry.organization_id == org
    assert entry.message.startswith("Прочитано записей: 2; создано 2, обновлено 0"), entry.message
    assert entry.details["api_import_id"] == result.import_id and entry.details["status"] == "Done"
    assert result.task == f"Импорт начислений (API) {entry.id}"
    assert get_api_import(org, result.import_id) == result
    assert get_api_import(org + 1, result.import_id) is None  # another organization's id is not found
    assert get_api_import(org, result.import_id + 1000) is None


def test_a_repeated_import_changes_nothing_but_is_a_duplicate_first(org):
    first = run(org, body(rec()))
    assert first.counts["created"] == 1
    move_back(first.import_id, timedelta(days=3, minutes=1))
    second = run(org, body(rec()))
    assert second.status == "Done" and second.counts == {"read": 1, "created": 0, "updated": 0, "unchanged": 1,
                                                         "skipped": 0}


def test_identical_request_within_three_days_is_a_duplicate_and_not_applied(org):
    original = run(org, body(rec(amount="10")))
    with session_scope() as s:  # the CRM changes the record meanwhile: a duplicate must not overwrite it
        s.execute(update(Accrual).values(amount=99))
    # the same JSON value, written differently (key order, white space): the same canonical body
    same = json.dumps({"records": [{"Amount": "10", "ServiceCode": "CW", "Period": "2026-05",
                                    "AccountNumber": "1001"}]}, indent=4).encode()
    dup = run(org, same)
    assert (dup.status, dup.outcome, dup.duplicate_of) == ("Duplicate", "duplicate", original.import_id)
    assert dup.original == {"import_id": original.import_id, "log_entry_id": original.log_entry_id,
                            "task": original.task, "status": "Done", "received_at": original.received_at}
    assert dup.import_id != original.import_id and dup.log_entry_id != original.log_entry_id
    with session_scope() as s:
        assert float(s.scalar(select(Accrual.amount))) == 99
    entry = log_row(dup.log_entry_id)
    assert entry.status == LogStatus.DUPLICATE and entry.method == Method.URL
    assert entry.message.startswith("Дубликат: идентичный запрос на импорт по API уже выполнялся"), entry.message
    assert f"импорт {original.import_id}" in entry.message and "Данные не применены" in entry.message
    assert get_api_import(org, dup.import_id).duplicate_of == original.import_id
    # another data type, another organization or another body is not a duplicate
    assert run(org, body(rec(amount="10.0"))).status == "Done"  # numbers are compared as written
    assert run(org, body(rec(amount="10")), "payments").outcome == "invalid"


def test_duplicate_window_is_three_days(org, make_org):
    original = run(org, body(rec()))
    move_back(original.import_id, timedelta(days=2, hours=23))
    late_dup = run(org, body(rec()))
    assert late_dup.status == "Duplicate" and late_dup.duplicate_of == original.import_id
    move_back(original.import_id, timedelta(days=3, minutes=1))
    move_back(late_dup.import_id, timedelta(days=1))  # a refused duplicate does not restart the window
    again = run(org, body(rec()))
    assert again.status == "Done" and again.duplicate_of is None
    assert run(org, body(rec())).duplicate_of == again.import_id  # the new original counts from now
    other = make_org("uk-other")
    assert run(other, body(rec())).status == "Done"  # the same body for another organization


def race(org: int, data: bytes, senders: int) -> list:
    """Send the same body from several threads at the same moment."""
    results, barrier = [], threading.Barrier(senders)

    def send():
        barrier.wait()
        results.append(run(org, data))

    threads = [threading.Thread(target=send) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_identical_requests_at_the_same_moment_apply_once(org):
    """Requests racing with the same body (a client retrying on its timeout): one is applied, the rest duplicates."""
    results = race(org, body(*[rec(service=f"S{i}") for i in range(300)]), 3)
    assert sorted(r.status for r in results) == ["Done", "Duplicate", "Duplicate"], [r.message for r in results]
    done = next(r for r in results if r.status == "Done")
    assert {r.duplicate_of for r in results if r.status == "Duplicate"} == {done.import_id}
    assert done.counts["created"] == 300


@pytest.fixture
def pg_org(make_org, request, monkeypatch):
    from domiland.db.migrate import upgrade

    url = request.getfixturevalue("pg_url")
    upgrade(url)
    monkeypatch.setenv("DOMILAND_DB_URL", url)
    return make_org()


def test_on_postgresql_races_the_window_and_a_stop(pg_org):
    data = body(*[rec(service=f"S{i}") for i in range(200)])
    results = race(pg_org, data, 3)  # decided one at a time under a transaction-scoped advisory lock
    assert sorted(r.status for r in results) == ["Done", "Duplicate", "Duplicate"], [r.message for r in results]
    done = next(r for r in results if r.status == "Done")
    assert done.counts["created"] == 200 and get_api_import(pg_org, done.import_id) == done
    move_back(done.import_id, timedelta(days=3, minutes=1))
    assert run(pg_org, data).counts["unchanged"] == 200
    stopped = run(pg_org, body(rec("1002", "X"), rec(amount="x")))
    assert (stopped.outcome, stopped.counts["created"], stopped.stopped_at_record) == ("invalid", 1, 2)
    assert log_row(stopped.log_entry_id).status == LogStatus.ERROR


def test_large_bodies_read_in_a_second_process_give_the_same_results(org, monkeypatch):
    monkeypatch.setenv("DOMILAND_PARALLEL_PARSE_MIN_BYTES", "0")  # every body goes through formats.parallel
    result = run(org, body(rec("1001", "A"), rec("7777"), rec("1002", amount="x"), indent=1))
    assert (result.outcome, result.counts["read"], result.counts["skipped"]) == ("invalid", 2, 1)
    assert result.error.startswith("JSON: строка 15, запись 3: не соответствует схеме accruals.xsd")
    assert result.warnings == ["JSON: строка 9, запись 2: лицевой счёт 7777 не найден"]
    sheet = run(org, xlsx(RU_HEADER[:3] + ("Сумма",), ("1003", "2026-05", "B", 5)), fmt=BodyFormat.XLSX)
    assert sheet.status == "Done" and sheet.counts["created"] == 1


def test_a_request_that_failed_inside_the_hub_may_be_retried(org, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    with monkeypatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(api_import, "load_file", broken)
        run(org, body(rec()))
    with session_scope() as s:
        failed = s.scalars(select(IntegrationLog)).one()
    assert failed.status == LogStatus.ERROR and "внутренняя ошибка импорта (RuntimeError)" in failed.message
    assert "database went away" not in failed.message
    assert run(org, body(rec())).status == "Done"


def test_a_request_still_running_blocks_a_retry_until_it_is_stale(org):
    with session_scope() as s:
        running = ApiImport(organization_id=org, data_type="accruals",
                            body_hash=json_hash(body(rec())), result={"status": "Running"})
        s.add(running)
        s.flush()
        running_id = running.id
    dup = run(org, body(rec()))
    assert dup.status == "Duplicate" and dup.original["status"] == "Running"
    move_back(running_id, timedelta(minutes=31))
    assert run(org, body(rec())).status == "Done"


def json_hash(data: bytes) -> str:
    from domiland.formats.json_records import summarize

    return summarize(data).canonical_sha256


def test_invalid_record_stops_the_import_earlier_records_stay_and_every_invalid_one_is_listed(org):
    data = body(rec("1001", "A"), rec("1002", "B"), rec("1003", "C", amount="abc"), rec("1001", "D"),
                rec("1002", "E", Period="2026-13"), indent=2)
    result = run(org, data)
    assert (result.status, result.outcome, result.error_kind) == ("Error", "invalid", "data")
    assert result.counts["read"] == 2 and result.counts["created"] == 2
    assert (result.stopped_at_record, result.records_total, result.records_not_applied) == (3, 5, 3)
    with session_scope() as s:
        assert sorted(s.scalars(select(Service.code))) == ["A", "B"]
    assert [(e["record"], e["line"]) for e in result.invalid_records] == [(3, 15), (5, 27)]
    assert result.error == ("JSON: строка 15, запись 3: не соответствует схеме accruals.xsd: Element 'Amount': "
                            "'abc' is not a valid value of the atomic type 'Money'.")
    assert "Импорт остановлен на записи 3: записи 1–2 применены, запись 3 и следующие не применены " \
           "(не применено записей: 3)." in result.message
    entry = log_row(result.log_entry_id)
    assert entry.status == LogStatus.ERROR and entry.message == result.message
    assert entry.details["invalid_records"] == result.invalid_records


def test_json_errors_read_like_xml_errors(org, make_org):
    """The same invalid record as JSON and as XML: the same XSD message."""
    cases = [({"Tariff": "x"}, "<Tariff>x</Tariff>"), ({"Extra": "1"}, "<Extra>1</Extra>"),
             ({"Unit": ""}, "<Unit></Unit>")]
    for json_extra, xml_extra in cases:
        from_json = run(org, body(rec(**json_extra)))
        xml = accruals_xml(accrual("1001", name=None, amount="100.50").replace("</Accrual>", xml_extra + "</Accrual>"))
        from_xml = run(org, xml, fmt=BodyFormat.XML)
        assert from_json.invalid_records[0]["message"] == from_xml.invalid_records[0]["message"]
        assert from_json.error.split("запись 1: ")[1] == from_xml.error.split("запись 1: ")[1]
    missing = run(org, body({"AccountNumber": "1001", "Period": "2026-05", "ServiceCode": "CW"}))
    assert "Missing child element(s)" in missing.error and "Amount" in missing.error


def test_record_shapes_that_json_cannot_smuggle_in(org):
    result = run(org, body(rec(Amount=True), "1001", rec(**{"Bad Name": "1"}), rec(Unit=["a", "b"]),
                           rec(Amount={"x": "1"}), rec(Unit="\u0001")))
    messages = [e["message"] for e in result.invalid_records]
    assert messages[0] == "поле «Amount»: ожидалась строка или число, получено true/false"
    assert messages[1] == "запись должна быть объектом {…}, получено: строка"
    assert messages[2].startswith("недопустимое имя поля 'Bad Name'")
    assert "Element 'Unit': This element is not expected" in messages[3]  # a repeated element, as in XML
    assert "Element 'Amount'" in messages[4]
    assert "недопустимый в XML" in messages[5]
    assert result.counts["read"] == 0 and count(Accrual) == 0
    repeated = run(org, b'{"records": [{"AccountNumber": "1001", "Period": "2026-05", "ServiceCode": "CW", '
                        b'"Amount": "1", "Amount": "2"}]}')
    assert repeated.invalid_records[0]["message"] == ("поле «Amount» повторяется в объекте; повторяющийся элемент "
                                                      "передают массивом")


@pytest.mark.parametrize("data, where", [
    (b'{"records": [{"AccountNumber": "1001",}]}', (1, 39)),
    (b'{"records": [\n  {"AccountNumber": "1001"}\n  {"AccountNumber": "1002"}\n]}', (3, 3)),
    (b'{"records": [NaN]}', (1, 14)),
    (b"", (1, 1)),
    (b'{"records": []} trailing', (1, 17)),
    ('{"records": [{"Unit": "м3"}]}'.encode("utf-16"), (1, 1)),
])
def test_malformed_json_is_refused_whole_with_its_position_and_never_a_duplicate(org, data, where):
    result = run(org, data)
    assert (result.status, result.outcome, result.error_kind) == ("Error", "malformed", "request")
    assert (result.error_position["line"], result.error_position["column"]) == where, result.error
    assert result.error.startswith(f"JSON: строка {where[0]}, столбец {where[1]}: некорректный JSON")
    assert log_row(result.log_entry_id).message.endswith("Запрос не применён: ни одна запись не импортирована.")
    assert run(org, data).outcome == "malformed"  # refused again, not a "duplicate"


@pytest.mark.parametrize("data, message", [
    (b'[{"AccountNumber": "1001"}]', 'тело должно быть объектом {"records": [ … ]}, получено: массив'),
    (b'{"record": []}', "неизвестное поле «record»"),
    (b'{}', "нет поля «records»"),
    (b'{"records": {"AccountNumber": "1001"}}', "«records» должно быть массивом записей, получено: объект"),
    (b'{"records": [], "version": 2}', "«version» должно быть 1"),
])
def test_a_body_of_the_wrong_shape_is_invalid_and_nothing_is_applied(org, data, message):
    result = run(org, data)
    assert (result.status, result.outcome) == ("Error", "invalid") and message in result.error, result.error
    assert result.counts["read"] == 0 and result.stopped_at_record == 1


def test_unknown_member_after_the_records_is_noticed_before_any_record_is_applied(org):
    result = run(org, b'{"records": [' + json.dumps(rec()).encode() + b'], "comment": "x"}')
    assert result.outcome == "invalid" and "неизвестное поле «comment»" in result.error
    assert count(Accrual) == 0


def test_warnings_skip_records_and_the_import_ends_with_warning(org):
    result = run(org, body(rec("1001"), rec("7777"), rec("1002")))
    assert (result.status, result.outcome) == ("Warning", "applied")
    assert result.counts == {"read": 3, "created": 2, "updated": 0, "unchanged": 0, "skipped": 1}
    assert result.warnings == ["JSON: строка 1, запись 2: лицевой счёт 7777 не найден"]
    assert log_row(result.log_entry_id).status == LogStatus.WARNING


def test_text_that_looks_like_sql_or_script_is_stored_verbatim(org):
    nasty = "Robert'); DROP TABLE accruals;-- <script>alert(\"x\")</script> &amp; \\ ё"
    result = run(org, body(rec(service="X1", ServiceName=nasty), rec("<b>7777</b>'--")))
    assert result.status == "Warning"
    with session_scope() as s:
        assert s.scalar(select(Service.name).where(Service.code == "X1")) == nasty
    assert result.warnings == ["JSON: строка 1, запись 2: лицевой счёт <b>7777</b>'-- не найден"]
    assert count(Accrual) == 1


def test_empty_records_is_a_done_import_of_nothing(org):
    result = run(org, b'{"records": [], "version": 1}')
    assert (result.status, result.counts["read"], result.records_total) == ("Done", 0, 0)


def test_buildings_and_clients_as_nested_json(org):
    buildings = body({
        "ExtId": "B-1", "Address": "г. Пермь, ул. Ленина, д. 5",
        "Premise": [
            # keys in any order: JSON objects are unordered, the XSD sequence is restored
            {"Account": [{"Number": "1001", "GisNumber": "ГИС-1"}, {"Number": "5001"}], "Floor": 3,
             "Area": 54.30, "Type": "APARTMENT", "Number": "12", "ExtId": "B-1/12"},
            {"ExtId": "B-1/П1", "Number": "П1", "Account": {"Number": "1002"}},  # one item without brackets
        ]})
    result = run(org, buildings, "buildings")
    assert result.status == "Done", result.message
    assert (count(Building), count(Premise)) == (1, 2)
    with session_scope() as s:
        assert s.scalar(select(Premise.area).where(Premise.ext_id == "B-1/12")) is not None
    bad = run(org, body({"ExtId": "B-2", "Address": "x", "Premise": []}), "buildings")
    assert bad.outcome == "invalid" and "Missing child element(s)" in bad.error
    clients = body({"ExtId": "C-1", "LastName": "Иванова", "Phone": "8 912 345-67-89", "AccountNumber": ["1001", "1002"],
                    "FirstName": "Анна", "Email": None})
    result = run(org, clients, "clients")
    assert result.status == "Done", result.message
    with session_scope() as s:
        client = s.scalars(select(Client)).one()
        assert (client.phone, client.email) == ("+79123456789", None)
        assert s.scalar(select(ClientExternalId.ext_id)) == "C-1"


# -- XML -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "windows-1251"])
def test_xml_body_goes_through_the_file_import(org, encoding):
    result = run(org, accruals_xml(accrual("1001"), accrual("1002", name="Горячая вода"), encoding=encoding),
                 fmt=BodyFormat.XML)
    assert (result.status, result.counts["created"], result.source) == ("Done", 2, "XML"), result.message
    with session_scope() as s:
        assert "Горячая вода" in s.scalars(select(Service.name)).all()
    assert run(org, accruals_xml(accrual("1001"), accrual("1002", name="Горячая вода"), encoding=encoding),
               fmt=BodyFormat.XML).status == "Duplicate"


def test_xml_invalid_records_stop_and_are_listed_with_their_lines(org):
    data = accruals_xml(accrual("1001", service="A"), accrual("1002", service="B", amount="x"), accrual("1003"),
                        accrual("1001", service="C", period="26-05"))
    result = run(org, data, fmt=BodyFormat.XML)
    assert result.outcome == "invalid" and result.error.startswith("XML: строка 4, запись 2: не соответствует схеме")
    assert [(e["record"], e["line"]) for e in result.invalid_records] == [(2, 4), (4, 6)]
    assert (result.counts["read"], result.stopped_at_record, result.records_total) == (1, 2, 4)
    assert count(Accrual) == 1


@pytest.mark.parametrize("data, reason", [
    (b'<?xml version="1.0"?>\n<!DOCTYPE Accruals [<!ENTITY x "1001">]>\n<Accruals version="1"><Accrual>'
     b"<AccountNumber>&x;</AccountNumber></Accrual></Accruals>", "DOCTYPE и сущности (ENTITY) запрещены"),
    (b'<?xml version="1.0"?><!DOCTYPE a SYSTEM "file:///etc/passwd"><Accruals version="1"/>', "DOCTYPE"),
    (b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
     b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
     b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
     b'<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>'
     b'<Accruals version="1"><Accrual><ServiceName>&h;</ServiceName></Accrual></Accruals>', "DOCTYPE"),
    (b'<Accruals version="1">\n<Accrual><AccountNumber>&undefined;</AccountNumber></Accrual></Accruals>',
     "Entity 'undefined' not defined"),
    (b'<Accruals version="1">\n<Accrual>\n</Accruals>', "документ не является корректным XML"),
    (b"not xml at all", "документ не является корректным XML"),
])
def test_hostile_or_malformed_xml_is_refused_before_anything_is_applied(org, data, reason):
    started = time.monotonic()
    result = run(org, data, fmt=BodyFormat.XML)
    assert time.monotonic() - started < 5  # no entity was expanded
    assert (result.outcome, result.error_kind) == ("malformed", "request") and reason in result.error, result.error
    assert result.error_position["line"] is not None
    assert count(Accrual) == 0 and "passwd" not in result.message.replace("file:///etc/passwd", "")


def test_xml_of_another_format_is_invalid_with_the_readers_message(org):
    result = run(org, b'<?xml version="1.0"?>\n<Payments version="1"></Payments>', fmt=BodyFormat.XML)
    assert result.outcome == "invalid" and "корневой элемент <Payments>, ожидался <Accruals>" in result.error


# -- Excel ---------------------------------------------------------------------------------------------------------


def test_xlsx_with_russian_headers_and_excel_dates_and_numbers(org):
    data = xlsx(RU_HEADER,
                (1001, date(2026, 5, 1), "CW", "Холодная вода", 45.5, 3.2, "м3", 145.6, 0, None, "1 234,50", 10,
                 0.1, 1791.1),
                (),  # empty rows are skipped
                ("1002", "06.2026", "HW", "Горячая вода", None, None, None, 200))
    result = run(org, data, fmt=BodyFormat.XLSX, source_name="C:\\fakepath\\начисления май.xlsx")
    assert (result.status, result.counts["created"], result.source) == ("Done", 2, "начисления май.xlsx"), \
        result.message
    with session_scope() as s:
        row = s.execute(select(Accrual.period, Accrual.tariff, Accrual.penalty, Accrual.paid)
                        .where(Accrual.amount == 145.6)).one()
        assert row.period == "2026-05" and float(row.tariff) == 45.5 and float(row.penalty) == 1234.5
        assert float(row.paid) == 0.1
        assert s.scalar(select(Accrual.period).where(Accrual.amount == 200)) == "2026-06"
    entry = log_row(result.log_entry_id)
    assert (entry.task_type, entry.task_title, entry.method) == (
        "xlsx_import_accruals", "Импорт начислений (Excel)", Method.URL)
    assert run(org, data, fmt=BodyFormat.XLSX).status == "Duplicate"


def test_xlsx_with_english_headers(org):
    data = xlsx(("AccountNumber", "period", "Service Code", "Amount"), ("1001", "2026-05", "CW", 10))
    assert run(org, data, fmt=BodyFormat.XLSX).status == "Done"


def test_xlsx_bad_row_stops_with_its_excel_row_and_lists_the_others(org):
    data = xlsx(RU_HEADER[:3] + ("Сумма",), ("1001", "2026-05", "A", 1), ("1002", "2026-05", "B", "много"),
                ("1003", "2026-05", "C", 3), ("1001", "май", "D", 4))
    result = run(org, data, fmt=BodyFormat.XLSX)
    assert result.outcome == "invalid" and result.error.startswith(
        "XLSX: строка 3, запись 2: не соответствует схеме accruals.xsd: Element 'Amount': 'много'")
    assert [(e["record"], e["line"]) for e in result.invalid_records] == [(2, 3), (4, 5)]
    assert (result.counts["read"], result.records_total, result.records_not_applied) == (1, 4, 3)
    assert count(Accrual) == 1


@pytest.mark.parametrize("rows, message", [
    ((), "лист пуст: нет строки заголовков"),
    (((None, None),), "лист пуст"),
    ((("Лицевой счёт", "Период", "Код услуги", "Сумма", "Адрес"),), "неизвестный столбец «Адрес» (ячейка E1)"),
    ((("Лицевой счёт", "Период", "Сумма"),), "нет обязательных столбцов: «Код услуги» (ServiceCode)"),
    ((("Лицевой счёт", "Лицевой счет", "Период", "Код услуги", "Сумма"),), "повторяет столбец"),
    ((("Лицевой счёт", "Период", "Код услуги", "Сумма"), ("1001", "2026-05", "CW", 1, "лишнее")),
     "значение в столбце без заголовка (ячейка E2)"),
])
def test_xlsx_structure_errors(org, rows, message):
    result = run(org, xlsx(*rows), fmt=BodyFormat.XLSX)
    assert result.outcome == "invalid" and message in result.error, result.error
    assert count(Accrual) == 0


def test_header_only_sheet_imports_nothing(org):
    result = run(org, xlsx(RU_HEADER), fmt=BodyFormat.XLSX)
    assert (result.status, result.counts["read"]) == ("Done", 0)


@pytest.mark.parametrize("data, message", [
    (b"AccountNumber;Period\n1001;2026-05\n", "файл не является книгой Excel .xlsx"),
    (b"PK\x03\x04broken", "файл не является книгой Excel .xlsx"),
])
def test_non_xlsx_upload_is_refused(org, data, message):
    result = run(org, data, fmt=BodyFormat.XLSX, source_name="начисления.csv")
    assert (result.outcome, result.error_kind) == ("malformed", "request") and message in result.error
    assert result.error.startswith("начисления.csv: ")


def test_xlsx_with_a_doctype_in_a_part_is_refused(org, tmp_path):
    import zipfile

    good = xlsx(RU_HEADER, ("1001", "2026-05", "CW", "x", 1, 1, "м3", 1))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + data
            dst.writestr(item, data)
    result = run(org, out.getvalue(), fmt=BodyFormat.XLSX)
    assert result.outcome == "malformed" and "xl/worksheets/sheet1.xml: DOCTYPE" in result.error, result.error


def test_xlsx_with_a_damaged_sheet_stops_where_it_breaks(org):
    import zipfile

    good = xlsx(RU_HEADER[:3] + ("Сумма",), *[("1001", "2026-05", f"S{i}", i) for i in range(50)])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[:len(data) // 2] if item.filename == "xl/worksheets/sheet1.xml" else data)
    result = run(org, out.getvalue(), fmt=BodyFormat.XLSX)
    assert result.outcome == "invalid" and "книга Excel повреждена" in result.error, result.error
    assert 0 < result.counts["read"] < 50 and count(Accrual) == result.counts["read"]


def test_xlsx_that_would_unpack_too_large_is_refused(org, monkeypatch):
    monkeypatch.setenv("DOMILAND_API_MAX_BODY_BYTES", "1000")  # → at most 20 000 bytes unpacked
    data = xlsx(RU_HEADER[:4] + ("Сумма",), *[("1001", "2026-05", f"S{i}", "x" * 200, 1) for i in range(200)])
    result = run(org, data, fmt=BodyFormat.XLSX)
    assert result.outcome == "malformed" and "распаковывается в" in result.error


# -- targets -------------------------------------------------------------------------------------------------------


def test_unknown_data_type_or_organization(org):
    with pytest.raises(api_import.UnknownDataType, match="use one of accruals, payments, meter_readings"):
        run(org, body(), "news")
    with pytest.raises(api_import.UnknownDataType, match="use one of accruals$"):
        run(org, b"", "payments", fmt=BodyFormat.XLSX)
    with pytest.raises(api_import.OrganizationNotFound):
        run(org + 100, body())
    assert count(IntegrationLog) == 0


def test_too_large_is_logged_and_never_an_original(org):
    result = api_import.refuse_too_large(org, "accruals", BodyFormat.JSON, received=0, declared=50_000_000)
    assert (result.outcome, result.status, result.error_kind) == ("too_large", "Error", "request")
    assert "объявлено 50000000 байт" in result.error
    assert log_row(result.log_entry_id).status == LogStatus.ERROR


def test_task_types_for_the_log_filter():
    assert ("api_import_clients", "Импорт клиентов (API)") in api_import.task_types()
    assert ("xlsx_import_accruals", "Импорт начислений (Excel)") in api_import.task_types()
