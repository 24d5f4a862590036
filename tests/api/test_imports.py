"""API import (IMP-11) through the real Airflow API server: status codes, the size cap, auth, duplicates, Excel.

The use case itself (every format and error) is tested directly in
``tests/exchange/test_api_import.py``; here each HTTP path is exercised once.
"""
from __future__ import annotations

import io
import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from openpyxl import Workbook
from sqlalchemy import select, update

from domiland.api.keys import create_key
from domiland.db.engine import session_scope
from domiland.db.models import Accrual, ApiImport, Building, IntegrationLog, LogStatus, Method, Service

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CAP = 10 * 1024 * 1024  # the default DOMILAND_API_MAX_BODY_BYTES of the server


def rec(account: str = "1001", service: str = "CW", amount: str = "100.50", **extra) -> dict:
    return {"AccountNumber": account, "Period": "2026-05", "ServiceCode": service, "Amount": amount, **extra}


def records(*items: dict) -> dict:
    return {"records": list(items)}


def xlsx(*rows) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def move_back(import_id: int, delta: timedelta) -> None:
    with session_scope() as s:
        s.execute(update(ApiImport).where(ApiImport.id == import_id)
                  .values(created_at=datetime.now(timezone.utc) - delta))


@pytest.fixture
def org(make_org_in_api):
    return make_org_in_api("uk-import", accounts=("1001", "1002", "1003"))


@pytest.fixture
def partner(api_hub, org):
    with api_hub.partner(create_key(org, "billing").key) as client:
        yield client


def url(org: int, tail: str = "accruals") -> str:
    return f"/organizations/{org}/imports/{tail}"


# -- JSON and XML --------------------------------------------------------------------------------------------------


def test_json_import_is_applied_logged_and_readable_by_id(api_hub, org, partner):
    r = partner.post(url(org), json=records(rec("1001"), rec("1002", "HW", amount=200)))
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["status"], result["outcome"], result["format"]) == ("Done", "applied", "json")
    assert result["counts"] == {"read": 2, "created": 2, "updated": 0, "unchanged": 0, "skipped": 0}
    assert r.headers["content-type"] == "application/json" and r.headers["x-content-type-options"] == "nosniff"
    with session_scope() as s:
        entry = s.get(IntegrationLog, result["log_entry_id"])
        assert (entry.status, entry.task_type, entry.task_title, entry.method, entry.dag_id, entry.run_id) == (
            LogStatus.DONE, "api_import_accruals", "Импорт начислений (API)", Method.URL, None, None)
        assert entry.organization_id == org and entry.message.startswith("Прочитано записей: 2; создано 2")
        assert s.scalar(select(Accrual.amount).where(Accrual.amount == 200)) is not None
    assert result["task"] == f"Импорт начислений (API) {entry.id}"
    got = partner.get(url(org, str(result["import_id"])))
    assert got.status_code == 200 and got.json() == result
    assert partner.get(url(org, str(result["import_id"] + 1000))).status_code == 404
    staff = api_hub.staff().get(url(org, str(result["import_id"])))
    assert staff.status_code == 200 and staff.json()["import_id"] == result["import_id"]


@pytest.mark.parametrize("content_type", ["application/xml", "text/xml; charset=windows-1251"])
def test_xml_document_is_accepted(api_hub, org, partner, content_type):
    xml = ('<?xml version="1.0" encoding="windows-1251"?>\n<Accruals version="1">\n'
           "<Accrual><AccountNumber>1001</AccountNumber><Period>2026-05</Period><ServiceCode>CW</ServiceCode>"
           "<ServiceName>Холодная вода</ServiceName><Amount>12.30</Amount></Accrual>\n</Accruals>\n")
    r = partner.post(url(org), content=xml.encode("windows-1251"), headers={"Content-Type": content_type})
    assert r.status_code == 200 and r.json()["format"] == "xml", r.text
    with session_scope() as s:
        assert s.scalar(select(Service.name)) == "Холодная вода"


def test_buildings_as_nested_json(api_hub, org, partner):
    body = records({"ExtId": "B-1", "Address": "г. Пермь, ул. Ленина, д. 5",
                    "Premise": [{"ExtId": "B-1/1", "Number": "1", "Type": "APARTMENT", "Area": 40.1,
                                 "Account": [{"Number": "1001"}]}]})
    r = partner.post(url(org, "buildings"), json=body)
    assert r.status_code == 200, r.text
    with session_scope() as s:
        assert s.scalar(select(Building.ext_id)) == "B-1"


def test_duplicates_answer_409_for_three_days(api_hub, org, partner):
    first = partner.post(url(org), json=records(rec()))
    assert first.status_code == 200
    original = first.json()
    # the same JSON value with other key order and white space
    same = json.dumps({"records": [dict(reversed(list(rec().items())))]}, indent=2)
    dup = partner.post(url(org), content=same, headers={"Content-Type": "application/json"})
    assert dup.status_code == 409, dup.text
    body = dup.json()
    assert (body["status"], body["outcome"], body["duplicate_of"]) == ("Duplicate", "duplicate", original["import_id"])
    assert body["original"]["log_entry_id"] == original["log_entry_id"] and body["original"]["status"] == "Done"
    assert body["counts"]["read"] == 0
    with session_scope() as s:
        entry = s.get(IntegrationLog, body["log_entry_id"])
        assert entry.status == LogStatus.DUPLICATE and entry.method == Method.URL
        assert "идентичный запрос на импорт по API уже выполнялся" in entry.message
    got = partner.get(url(org, str(body["import_id"])))
    assert got.json()["duplicate_of"] == original["import_id"]

    move_back(original["import_id"], timedelta(days=2, hours=23))
    assert partner.post(url(org), json=records(rec())).status_code == 409
    move_back(original["import_id"], timedelta(days=3, minutes=1))
    again = partner.post(url(org), json=records(rec()))
    assert again.status_code == 200 and again.json()["status"] == "Done", again.text
    assert again.json()["counts"]["unchanged"] == 1


def test_invalid_records_answer_422_with_counts_and_the_list(api_hub, org, partner):
    body = records(rec("1001", "A"), rec("1002", "B"), rec("1003", "C", amount="abc"), rec("1001", "D"),
                   rec("1002", "E", Tariff="x"))
    r = partner.post(url(org), json=body)
    assert r.status_code == 422, r.text
    result = r.json()
    assert (result["status"], result["outcome"], result["error_kind"]) == ("Error", "invalid", "data")
    assert result["counts"]["read"] == 2 and result["counts"]["created"] == 2
    assert (result["stopped_at_record"], result["records_total"], result["records_not_applied"]) == (3, 5, 3)
    assert [e["record"] for e in result["invalid_records"]] == [3, 5]
    assert "Element 'Amount': 'abc' is not a valid value of the atomic type 'Money'" in result["error"]
    assert "записи 1–2 применены, запись 3 и следующие не применены" in result["message"]
    with session_scope() as s:
        assert sorted(s.scalars(select(Service.code))) == ["A", "B"]
        assert s.get(IntegrationLog, result["log_entry_id"]).status == LogStatus.ERROR


# -- bad input -----------------------------------------------------------------------------------------------------


def test_malformed_json_is_400_with_its_position(api_hub, org, partner):
    r = partner.post(url(org), content=b'{"records": [\n  {"AccountNumber": "1001",}\n]}',
                     headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    result = r.json()
    assert result["outcome"] == "malformed" and result["error_position"]["line"] == 2
    assert result["error"].startswith("JSON: строка 2, столбец 28: некорректный JSON:"), result["error"]
    with session_scope() as s:
        assert s.get(IntegrationLog, result["log_entry_id"]).status == LogStatus.ERROR


def test_wrong_content_type_is_415(api_hub, org, partner):
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}, {}):
        r = partner.post(url(org), content=b'{"records": []}', headers=headers)
        assert r.status_code == 415, (headers, r.text)
        assert "application/json, application/xml, text/xml" in r.json()["detail"]
    r = partner.post(url(org), content=xlsx(("Сумма",)), headers={"Content-Type": XLSX})
    assert r.status_code == 415 and "/imports/accruals/xlsx" in r.json()["detail"]
    r = partner.post(url(org, "accruals/xlsx"), json=records())
    assert r.status_code == 415
    r = partner.post(url(org), content=b"\x1f\x8b...", headers={"Content-Type": "application/json",
                                                             "Content-Encoding": "gzip"})
    assert r.status_code == 415 and "Content-Encoding gzip" in r.json()["detail"]
    with session_scope() as s:
        assert s.scalars(select(IntegrationLog)).all() == []  # not an import attempt: nothing logged


def test_unknown_data_type_is_404(api_hub, org, partner):
    for data_type in ("news", "offers", "nothing", "123"):
        r = partner.post(url(org, data_type), json=records())
        assert r.status_code == 404, r.text
        assert r.json()["detail"] == (f"Unknown data type '{data_type}': use one of accruals, payments, "
                                      "meter_readings, buildings, clients")
    assert partner.get(url(org, "accruals")).status_code == 405


def _raw_request(server_url: str, path: str, headers: dict[str, str], body_chunks=(), *, chunked: bool = False,
                 finish: bool = True) -> tuple[int, dict]:
    """Send a request byte by byte (a client that keeps streaming) and return the answer read meanwhile."""
    parts = urlsplit(server_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = [f"POST /integrations{path} HTTP/1.1", f"Host: {parts.netloc}", *(f"{k}: {v}" for k, v in headers.items())]
    if chunked:
        head.append("Transfer-Encoding: chunked")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())

    def send():
        try:
            for chunk in body_chunks:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked and finish:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head_bytes, rest = data.split(b"\r\n\r\n", 1)
        lines = head_bytes.decode().split("\r\n")
        fields = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        length = int(fields["content-length"])
        while len(rest) < length:
            rest += sock.recv(65536)
        return int(lines[0].split()[1]), json.loads(rest[:length])
    finally:
        sock.close()


def test_body_over_the_cap_is_413_while_it_streams(api_hub, org):
    key = create_key(org, "big").key
    # declared too large: refused before a byte of the body is read (the client sends none)
    status, result = _raw_request(api_hub.base_url, url(org), {"X-API-Key": key, "Content-Type": "application/json",
                                                               "Content-Length": str(CAP + 1)})
    assert status == 413 and result["outcome"] == "too_large", result
    assert f"тело запроса больше допустимых {CAP} байт (объявлено {CAP + 1} байт)" in result["error"]
    # no length given: the answer comes after the cap, while the client is still sending (never ends the body)
    chunks = (b"x" * 1024 * 1024 for _ in range(64))
    status, result = _raw_request(api_hub.base_url, url(org), {"X-API-Key": key, "Content-Type": "application/json"},
                                  chunks, chunked=True, finish=False)
    assert status == 413 and "получено более" in result["error"], result
    with session_scope() as s:
        entries = s.scalars(select(IntegrationLog).order_by(IntegrationLog.id)).all()
    assert [e.status for e in entries] == [LogStatus.ERROR, LogStatus.ERROR]
    # the same through an ordinary client, and for an Excel upload
    with api_hub.partner(key) as client:
        r = client.post(url(org), content=b" " * (CAP + 1), headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        r = client.post(url(org, "accruals/xlsx"), files={"file": ("big.xlsx", b"\0" * (CAP + 1), XLSX)})
        assert r.status_code == 413 and r.json()["format"] == "xlsx"
        # just under the cap is read (and refused for what it is, not for its size)
        r = client.post(url(org), content=b" " * (CAP - 100) + b"[]", headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and "получено: массив" in r.json()["error"]


@pytest.mark.parametrize("xml", [
    b'<?xml version="1.0"?>\n<!DOCTYPE Accruals [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    b"<Accruals version=\"1\"><Accrual><AccountNumber>1001</AccountNumber><Period>2026-05</Period>"
    b"<ServiceCode>CW</ServiceCode><ServiceName>&x;</ServiceName><Amount>1</Amount></Accrual></Accruals>",
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
    b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>'
    b'<Accruals version="1"><Accrual><ServiceName>&f;</ServiceName></Accrual></Accruals>',
])
def test_xml_with_doctype_or_entities_is_refused(api_hub, org, partner, xml):
    r = partner.post(url(org), content=xml, headers={"Content-Type": "application/xml"})
    assert r.status_code == 400, r.text
    assert "DOCTYPE и сущности (ENTITY) запрещены" in r.json()["error"] and "root:" not in r.text
    with session_scope() as s:
        assert s.scalars(select(Service)).all() == []


def test_sql_and_script_text_is_stored_verbatim_and_returned_json_escaped(api_hub, org, partner):
    nasty = "x'); DROP TABLE accruals; -- <script>alert(\"1\")</script>\\"
    account = '<img src=x onerror="alert(1)">'
    r = partner.post(url(org), json=records(rec(service="S1", ServiceName=nasty), rec(account)))
    assert r.status_code == 200 and r.json()["status"] == "Warning", r.text
    assert r.json()["warnings"] == [f"JSON: строка 1, запись 2: лицевой счёт {account} не найден"]
    assert json.dumps(account)[1:-1] in r.text  # inside a JSON string, quotes escaped
    assert r.headers["content-type"] == "application/json" and r.headers["x-content-type-options"] == "nosniff"
    with session_scope() as s:
        assert s.scalar(select(Service.name).where(Service.code == "S1")) == nasty
        assert s.scalar(select(Accrual.id)) is not None


def test_auth_401_and_another_organizations_key_404(api_hub, org, make_org_in_api):
    other = make_org_in_api("uk-other")
    with api_hub.anonymous() as anonymous:
        assert anonymous.post(url(org), json=records(rec())).status_code == 401
        assert anonymous.post(url(org, "accruals/xlsx"), files={"file": ("a.xlsx", b"x", XLSX)}).status_code == 401
        assert anonymous.get(url(org, "1")).status_code == 401
    with api_hub.partner(create_key(org, "own").key) as own:
        mine = own.post(url(org), json=records(rec())).json()["import_id"]
    with api_hub.partner(create_key(other, "theirs").key) as stranger:
        r = stranger.post(url(org), json=records(rec()))
        assert r.status_code == 404 and r.json()["detail"] == f"Organization {org} not found"
        assert stranger.post(url(org, "accruals/xlsx"), files={"file": ("a.xlsx", b"x", XLSX)}).status_code == 404
        assert stranger.get(url(org, str(mine))).status_code == 404
        assert stranger.get(url(other, str(mine))).status_code == 404  # its own organization, not its import
    with api_hub.staff() as staff:
        assert staff.post(url(org + 1000), json=records(rec())).status_code == 404
    with session_scope() as s:
        assert len(s.scalars(select(ApiImport)).all()) == 1


# -- Excel ---------------------------------------------------------------------------------------------------------


RU = ("Лицевой счёт", "Период", "Код услуги", "Услуга", "Тариф", "Объём", "Ед. изм.", "Сумма")


def test_xlsx_upload_as_multipart_with_russian_headers(api_hub, org, partner):
    data = xlsx(RU, ("1001", datetime(2026, 5, 1), "CW", "Холодная вода", 45.5, 2, "м3", 91),
                (1002, "2026-05", "HW", "Горячая вода", "210,15", 1.5, "м3", "315,23"))
    r = partner.post(url(org, "accruals/xlsx"), files={"file": ("начисления.xlsx", data, XLSX)})
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["format"], result["source"], result["counts"]["created"]) == ("xlsx", "начисления.xlsx", 2)
    with session_scope() as s:
        entry = s.get(IntegrationLog, result["log_entry_id"])
        assert (entry.task_type, entry.task_title, entry.method) == ("xlsx_import_accruals",
                                                                     "Импорт начислений (Excel)", Method.URL)
        assert sorted(float(a) for a in s.scalars(select(Accrual.amount))) == [91, 315.23]
    assert partner.post(url(org, "accruals/xlsx"), files={"file": ("again.xlsx", data, XLSX)}).status_code == 409


def test_xlsx_upload_as_raw_body_with_english_headers(api_hub, org, partner):
    data = xlsx(("AccountNumber", "Period", "ServiceCode", "Amount"), ("1003", "2026-05", "CW", 10))
    r = partner.post(url(org, "accruals/xlsx"), content=data, headers={"Content-Type": XLSX})
    assert r.status_code == 200 and r.json()["source"] == "XLSX", r.text


def test_xlsx_bad_row_is_422_with_its_row(api_hub, org, partner):
    data = xlsx(RU, ("1001", "2026-05", "A", None, None, None, None, 1), ("1002", "2026-05", "B", None, "дорого", None, None, 5))
    r = partner.post(url(org, "accruals/xlsx"), files={"file": ("a.xlsx", data, XLSX)})
    assert r.status_code == 422, r.text
    result = r.json()
    assert result["error"].startswith("a.xlsx: строка 3, запись 2: не соответствует схеме accruals.xsd: "
                                      "Element 'Tariff': 'дорого'")
    assert result["counts"]["created"] == 1 and result["stopped_at_record"] == 2


def test_xlsx_empty_sheet_is_422(api_hub, org, partner):
    r = partner.post(url(org, "accruals/xlsx"), files={"file": ("empty.xlsx", xlsx(), XLSX)})
    assert r.status_code == 422 and "лист пуст" in r.json()["error"], r.text


def test_non_xlsx_upload_is_400(api_hub, org, partner):
    r = partner.post(url(org, "accruals/xlsx"), files={"file": ("a.xls", b"\xd0\xcf\x11\xe0 old excel", XLSX)})
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith("a.xls: файл не является книгой Excel .xlsx")
    r = partner.post(url(org, "accruals/xlsx"), files={"other": ("a.xlsx", b"x", XLSX)})
    assert r.status_code == 400 and "'file'" in r.json()["detail"]
    r = partner.post(url(org, "accruals/xlsx"), content=b"--x\r\nbroken", headers={
        "Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code in (400, 422), r.text
