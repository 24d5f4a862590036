"""Settings API on a real Airflow API server: organizations, FTP settings and test, blocks, and tenant isolation."""
from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import inspect, select

from domiland import secrets
from domiland.api.app import create_app
from domiland.api.keys import create_key
from domiland.api.settings_service import check_ftp_connection_bounded
from domiland.db.engine import get_engine, session_scope
from domiland.db.models import FtpConnection, ImportBlock, Organization

HOSTILE = """Robert'); DROP TABLE organizations;-- <script>alert("x")</script> ' OR '1'='1"""


def errors(response) -> dict[tuple, str]:
    """A 422's fields (loc without "body") → message."""
    assert response.status_code == 422, response.text
    return {tuple(e["loc"][1:]): e["msg"] for e in response.json()["detail"]}


@pytest.fixture
def staff(api_hub):
    with api_hub.staff() as client:
        yield client


@pytest.fixture
def org(staff) -> dict:
    r = staff.post("/organizations", json={"code": "uk-settings", "name": "УК Настройки", "kind": "management"})
    assert r.status_code == 201, r.text
    return r.json()


def put_ftp(client, org_id: int, **fields):
    body = {"host": "127.0.0.1", "port": 2121, "username": "u", "password": "p", **fields}
    return client.put(f"/organizations/{org_id}/ftp", json=body)


# --- organizations -----------------------------------------------------------------------------


def test_organizations_staff_manage_partners_see_their_own(api_hub, staff, org):
    assert org["code"] == "uk-settings" and org["timezone"] == "Europe/Moscow" and org["ftp_configured"] is False
    other = staff.post("/organizations", json={"code": "dev-1", "name": "Застройщик", "kind": "developer",
                                               "timezone": "Asia/Yekaterinburg"}).json()
    listed = staff.get("/organizations").json()
    assert listed["count"] == 2 and [o["code"] for o in listed["data"]] == ["dev-1", "uk-settings"]
    assert staff.get("/organizations", params={"limit": 1, "offset": 1}).json()["data"][0]["code"] == "uk-settings"

    dup = staff.post("/organizations", json={"code": "dev-1", "name": "x", "kind": "developer"})
    assert dup.status_code == 409 and "already exists" in dup.json()["detail"]
    assert "code" in errors(staff.post("/organizations", json={"code": "UK Bad!", "name": "x", "kind": "management"}))[("code",)]
    bad_tz = errors(staff.post("/organizations", json={"code": "x1", "name": "x", "kind": "management",
                                                       "timezone": "../../etc/passwd"}))
    assert "not a known IANA time zone" in bad_tz[("timezone",)]
    assert ("kind",) in errors(staff.post("/organizations", json={"code": "x2", "name": "x", "kind": "bank"}))

    changed = staff.patch(f"/organizations/{other['id']}", json={"timezone": "Europe/Kaliningrad"})
    assert changed.status_code == 200 and changed.json()["timezone"] == "Europe/Kaliningrad"
    assert changed.json()["name"] == "Застройщик"
    assert ("code",) in errors(staff.patch(f"/organizations/{other['id']}", json={"code": "renamed"}))
    assert staff.get("/organizations/999999").status_code == 404

    with api_hub.partner(create_key(org["id"], "1C").key) as partner:
        mine = partner.get("/organizations").json()
        assert mine["count"] == 1 and mine["data"][0]["id"] == org["id"]
        assert partner.get(f"/organizations/{org['id']}").status_code == 200
        assert partner.get(f"/organizations/{other['id']}").status_code == 404
        assert partner.patch(f"/organizations/{org['id']}", json={"name": "x"}).status_code == 403
        assert partner.post("/organizations", json={"code": "p1", "name": "x", "kind": "management"}).status_code == 403


def test_sql_and_script_strings_are_stored_verbatim_and_returned_as_json(api_hub, staff, org):
    r = staff.patch(f"/organizations/{org['id']}", json={"name": HOSTILE})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["name"] == HOSTILE
    assert r'<script>alert(\"x\")</script>' in r.text  # a JSON string, quotes escaped, never raw markup
    put_ftp(staff, org["id"], username=HOSTILE, root_dir="/in'; DROP TABLE ftp_connections;--")
    block = staff.post(f"/organizations/{org['id']}/export-blocks", json={
        "data_type": "payments", "directory": "/out/<script>", "filename_template": "p_%Y%m%d_'--.xml"})
    assert block.status_code == 201, block.text
    assert block.json()["directory"] == "/out/<script>" and block.json()["filename_template"] == "p_%Y%m%d_'--.xml"
    assert staff.get(f"/organizations/{org['id']}/ftp").json()["username"] == HOSTILE
    with session_scope() as session:
        assert session.get(Organization, org["id"]).name == HOSTILE
    tables = inspect(get_engine()).get_table_names()
    assert {"organizations", "ftp_connections", "export_blocks"} <= set(tables)


# --- FTP settings ------------------------------------------------------------------------------


def test_ftp_password_is_write_only(api_hub, staff, org):
    secret = "s3cr3t-Пароль"
    assert staff.get(f"/organizations/{org['id']}/ftp").status_code == 404
    saved = put_ftp(staff, org["id"], password=secret, use_tls=True, root_dir="/exchange")
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["password_set"] is True and "password" not in body and secret not in saved.text
    assert body["pool"] == "ftp:127.0.0.1:2121" and body["use_tls"] is True and body["root_dir"] == "/exchange"
    with session_scope() as session:
        row = session.scalar(select(FtpConnection).where(FtpConnection.organization_id == org["id"]))
        assert secret not in row.password_encrypted and secrets.decrypt(row.password_encrypted) == secret

    # omitted = keep; the other fields are replaced
    kept = staff.put(f"/organizations/{org['id']}/ftp", json={"host": "ftp.example.ru"})
    assert kept.json()["password_set"] is True and kept.json()["port"] == 21 and kept.json()["use_tls"] is False
    with session_scope() as session:
        row = session.scalar(select(FtpConnection).where(FtpConnection.organization_id == org["id"]))
        assert secrets.decrypt(row.password_encrypted) == secret
    got = staff.get(f"/organizations/{org['id']}/ftp")
    assert got.json()["password_set"] is True and secret not in got.text
    assert staff.get(f"/organizations/{org['id']}").json()["ftp_configured"] is True
    # "" clears it
    assert put_ftp(staff, org["id"], password="").json()["password_set"] is False

    # invalid input never echoes the password back
    for bad in ({"password": secret}, {"host": "ftp://x", "password": secret}, {"host": "h", "password": secret,
                                                                                "port": 70000}):
        r = staff.put(f"/organizations/{org['id']}/ftp", json=bad)
        assert r.status_code == 422 and secret not in r.text, r.text
    assert ("host",) in errors(staff.put(f"/organizations/{org['id']}/ftp", json={"host": "ftp://x"}))
    assert ("root_dir",) in errors(put_ftp(staff, org["id"], root_dir="/a/../../etc"))
    assert ("password",) in errors(put_ftp(staff, org["id"], password="x\r\nDELE /important.xml"))
    assert secret not in api_hub.log_path.read_text()


def test_saving_ftp_settings_creates_the_servers_pool(api_hub, staff, org):
    put_ftp(staff, org["id"], host="files.uk-pool.example", port=2021)
    r = staff.get(f"{api_hub.base_url}/api/v2/pools/ftp:files.uk-pool.example:2021")
    assert r.status_code == 200, r.text
    assert r.json()["slots"] == 2


def test_partner_manages_its_own_ftp_settings(api_hub, staff, org):
    with api_hub.partner(create_key(org["id"], "1C").key) as partner:
        assert put_ftp(partner, org["id"]).status_code == 200
        assert partner.get(f"/organizations/{org['id']}/ftp").json()["host"] == "127.0.0.1"


# --- FTP test (FTP-2) ----------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_ftp_test_answers_ok_or_the_reason(api_hub, staff, org, ftp_server, ftps_server):
    url = f"/organizations/{org['id']}/ftp/test"
    no_settings = staff.post(url).json()
    assert no_settings["status"] == "error" and no_settings["kind"] == "settings"

    def test_with(**fields) -> dict:
        body = {"host": ftp_server.host, "port": ftp_server.port, "username": ftp_server.user,
                "password": ftp_server.password, "root_dir": "/", **fields}
        assert staff.put(f"/organizations/{org['id']}/ftp", json=body).status_code == 200
        r = staff.post(url)
        assert r.status_code == 200 and ftp_server.password not in r.text
        return r.json()

    assert test_with() == {"status": "OK"}
    (ftp_server.root / "in").mkdir()
    assert test_with(root_dir="/in") == {"status": "OK"}
    cases = {
        "login": dict(password="wrong-password"),
        "directory": dict(root_dir="/missing"),
        "refused": dict(port=_closed_port()),
        "dns": dict(host="no-such-host.invalid"),
        # the API server does not trust the test CA: the certificate check fails, as it should
        "tls": dict(host=ftps_server.host, port=ftps_server.port, use_tls=True),
    }
    for kind, fields in cases.items():
        result = test_with(**fields)
        assert result["status"] == "error" and result["kind"] == kind, (kind, result)
        assert result["reason"]
    assert "rejected login" in test_with(password="wrong-password")["reason"]


def test_ftp_test_is_bounded_by_its_timeout(hub_db, make_org, monkeypatch):
    """A server that accepts but never greets: the test gives up after DOMILAND_FTP_TEST_TIMEOUT."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()

    org_id = make_org("uk-slow", ftp=SimpleNamespace(host="127.0.0.1", port=listener.getsockname()[1], use_tls=False,
                                                      username="u", password="p", root_dir="/", force_utf8=True))
    monkeypatch.setenv("DOMILAND_FTP_TEST_TIMEOUT", "1")
    started = time.monotonic()
    result = asyncio.run(check_ftp_connection_bounded(org_id))
    assert time.monotonic() - started < 3.5
    assert result.status == "error" and result.kind == "timeout", result
    listener.close()


# --- blocks ------------------------------------------------------------------------------------


@pytest.fixture
def org_with_ftp(staff, org) -> dict:
    assert put_ftp(staff, org["id"]).status_code == 200
    return org


def test_import_block_crud_with_dag_id_and_readable_schedule(api_hub, staff, org_with_ftp):
    base = f"/organizations/{org_with_ftp['id']}/import-blocks"
    created = staff.post(base, json={"data_type": "accruals", "paths": "/a_{date:%Y%m%d}.xml, /b.xml",
                                     "email": "ops@example.ru; 1c@почта.рф",
                                     "schedule": {"minute": 30, "hour": "2"}})
    assert created.status_code == 201, created.text
    block = created.json()
    assert block["dag_id"] == "uk-settings.import.accruals" and block["method"] == "XML"
    assert block["title"] == "Импорт начислений" and block["direction"] == "import"
    assert block["email"] == "ops@example.ru, 1c@xn--80a1acny.xn--p1ai"
    assert block["schedule"]["cron"] == "30 2 * * *" and block["schedule"]["minute"] == "30"
    assert block["schedule"]["description"]["en"] == "At 02:30"
    assert "02:30" in block["schedule"]["description"]["ru"]
    assert block["airflow"] == {"parsed": False, "paused": None}

    assert staff.get(base).json()["count"] == 1
    one = f"{base}/{block['id']}"
    patched = staff.patch(one, json={"enabled": False, "schedule": {"minute": "0"}, "email": None})
    assert patched.status_code == 200, patched.text
    assert patched.json()["enabled"] is False and patched.json()["email"] is None
    assert patched.json()["schedule"]["cron"] == "0 * * * *" and patched.json()["paths"] == block["paths"]
    with session_scope() as session:
        assert session.get(ImportBlock, block["id"]).enabled is False

    assert staff.post(base, json={"data_type": "accruals", "paths": "/x.xml"}).status_code == 409
    feed = staff.post(base, json={"data_type": "news", "paths": "https://reader:pw@feeds.example.ru/news.rss"})
    assert feed.status_code == 201 and feed.json()["method"] == "URL"
    assert feed.json()["paths"] == "https://***:***@feeds.example.ru/news.rss" and "pw" not in feed.text
    # sent back as shown, the stored credentials stay
    staff.patch(f"{base}/{feed.json()['id']}", json={"paths": feed.json()["paths"]})
    with session_scope() as session:
        assert session.get(ImportBlock, feed.json()["id"]).paths == "https://reader:pw@feeds.example.ru/news.rss"

    assert staff.delete(one).status_code == 204
    assert staff.get(one).status_code == 404
    assert staff.get(f"/organizations/{org_with_ftp['id']}/export-blocks/{block['id']}").status_code == 404


def test_export_block_crud(api_hub, staff, org_with_ftp):
    base = f"/organizations/{org_with_ftp['id']}/export-blocks"
    created = staff.post(base, json={"data_type": "meter_readings", "directory": "/export",
                                     "filename_template": "readings_%Y%m%d_%H%M%S.xml", "skip_empty": True,
                                     "schedule": {"minute": "0,30", "weekday": "1,7"}})
    assert created.status_code == 201, created.text
    block = created.json()
    assert block["dag_id"] == "uk-settings.export.meter_readings" and block["direction"] == "export"
    assert block["schedule"]["cron"] == "0,30 0 * * 0,1" and block["skip_empty"] is True
    assert block["title"] == "Экспорт показаний ИПУ"
    patched = staff.patch(f"{base}/{block['id']}", json={"filename_template": "r_%Y%m%d.xml", "directory": ""})
    assert patched.json()["filename_template"] == "r_%Y%m%d.xml" and patched.json()["directory"] == ""
    assert staff.get(base).json()["count"] == 1
    assert staff.delete(f"{base}/{block['id']}").status_code == 204


IMPORT_BAD = [
    ({"schedule": {"hour": "25"}}, ("schedule", "hour"), "out of range 0–23"),
    ({"schedule": {"minute": "*/15"}}, ("schedule", "minute"), "steps like */15"),
    ({"schedule": {"day": "31", "month": "2"}}, ("schedule", "day"), "never run"),
    ({"method": "URL"}, ("method",), "method XML"),
    ({"paths": "../../etc/passwd"}, ("paths",), "'..'"),
    ({"paths": "/ok.xml, /in/../../etc/passwd"}, ("paths",), "'..'"),
    ({"paths": "/a_{date:%Q}.xml"}, ("paths",), "%Q is not a supported"),
    ({"paths": "/a_{when}.xml"}, ("paths",), "{date}"),
    ({"paths": "https://example.ru/a.xml"}, ("paths",), "is a URL"),
    ({"paths": " , "}, ("paths",), "at least one"),
    ({"email": "not-an-email, ops@example.ru"}, ("email",), "not an e-mail address: not-an-email"),
    ({"data_type": "invoices"}, ("data_type",), ""),
    ({"enable": False}, ("enable",), ""),
    ({"paths": "/a.xml\r\nDELE /b.xml"}, ("paths",), "control character"),
]
FEED_BAD = [
    ({"paths": "file:///etc/passwd"}, ("paths",), "only http:// and https://"),
    ({"paths": "ftp://example.ru/news.rss"}, ("paths",), "only http:// and https://"),
    ({"paths": "https://example.ru/../../etc/passwd"}, ("paths",), "'..'"),
    ({"paths": "https://example.ru/a/%2e%2e/%2e%2e/etc/passwd"}, ("paths",), "'..'"),
    ({"delete_after_read": True}, ("delete_after_read",), "only files on the FTP server"),
    ({"method": "XML"}, ("method",), "method URL"),
]
EXPORT_BAD = [
    ({"filename_template": "payments.xml"}, ("filename_template",), "add the date"),
    ({"filename_template": "../p_%Y.xml"}, ("filename_template",), "a file name only"),
    ({"directory": "../../etc"}, ("directory",), "'..'"),
    ({"data_type": "accruals"}, ("data_type",), ""),
    ({"method": "URL"}, ("method",), ""),
    ({"schedule": {"weekday": "8"}}, ("schedule", "weekday"), "out of range 0–7"),
]


@pytest.mark.parametrize(("direction", "defaults", "cases"), [
    ("import-blocks", {"data_type": "accruals", "paths": "/a.xml"}, IMPORT_BAD),
    ("import-blocks", {"data_type": "news", "paths": "https://example.ru/news.rss"}, FEED_BAD),
    ("export-blocks", {"data_type": "payments", "filename_template": "p_%Y%m%d.xml"}, EXPORT_BAD),
])
def test_block_validation_names_the_field(api_hub, staff, org_with_ftp, direction, defaults, cases):
    base = f"/organizations/{org_with_ftp['id']}/{direction}"
    for change, field, message in cases:
        found = errors(staff.post(base, json={**defaults, **change}))
        assert field in found and message in found[field], (change, found)
    ok = staff.post(base, json=defaults)
    assert ok.status_code == 201, ok.text
    for change, field, message in cases:
        if field[0] == "data_type":
            continue  # fixed after creation
        found = errors(staff.patch(f"{base}/{ok.json()['id']}", json=change))
        assert field in found and message in found[field], (change, found)


def test_enabled_xml_block_needs_ftp_settings(api_hub, staff, org):
    base = f"/organizations/{org['id']}/import-blocks"
    refused = errors(staff.post(base, json={"data_type": "payments", "paths": "/p.xml"}))
    assert "has no FTP settings" in refused[("enabled",)]
    assert "has no FTP settings" in errors(staff.post(f"/organizations/{org['id']}/export-blocks", json={
        "data_type": "payments", "filename_template": "p_%Y%m%d.xml"}))[("enabled",)]
    off = staff.post(base, json={"data_type": "payments", "paths": "/p.xml", "enabled": False})
    assert off.status_code == 201
    assert ("enabled",) in errors(staff.patch(f"{base}/{off.json()['id']}", json={"enabled": True}))
    feed = staff.post(base, json={"data_type": "offers", "paths": "https://example.ru/feed.xml"})
    assert feed.status_code == 201, feed.text  # a URL feed needs no FTP
    put_ftp(staff, org["id"])
    assert staff.patch(f"{base}/{off.json()['id']}", json={"enabled": True}).json()["enabled"] is True


@pytest.mark.parametrize(("body", "content_type"), [
    (b'{"data_type": "accruals", "paths": ', "application/json"),
    (b"data_type=accruals&paths=/a.xml", "application/x-www-form-urlencoded"),
    (b'{"data_type": "accruals", "paths": "/a.xml"}', "text/plain"),
    (b"[1, 2]", "application/json"),
    (b'"' + b"x" * 200_000 + b'"', "application/json"),
])
def test_malformed_bodies_are_422(api_hub, staff, org_with_ftp, body, content_type):
    r = staff.post(f"/organizations/{org_with_ftp['id']}/import-blocks", content=body,
                   headers={"content-type": content_type})
    assert r.status_code == 422, r.text
    assert "input" not in r.text


def test_a_huge_body_is_413_before_it_is_read(api_hub, staff, org_with_ftp):
    r = staff.post(f"/organizations/{org_with_ftp['id']}/import-blocks",
                   json={"data_type": "accruals", "paths": "/a.xml," * 300_000})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]


def test_ids_out_of_range_are_422_not_a_database_error(api_hub, staff):
    assert staff.get(f"/organizations/{2**70}").status_code == 422
    assert staff.get("/organizations/0/import-blocks").status_code == 422
    assert staff.get("/organizations/1/import-blocks/-1").status_code == 422


# --- every route: authenticated and tenant-isolated ---------------------------------------------

_ORG_PARAMS = {"org_id", "organization_id"}
_STATUS_FOR_PARTNER_WITHOUT_ORG = {
    ("GET", "/me"): {200},
    ("GET", "/organizations"): {200},
    ("POST", "/organizations"): {403},
}


def _routes() -> list[tuple[str, str]]:
    found = []
    for route in create_app().routes:
        if route.path in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"):
            continue
        found.extend((method, route.path) for method in sorted(route.methods - {"HEAD", "OPTIONS"}))
    return found


@pytest.fixture
def two_orgs(api_hub, staff):
    """Org A (the caller's key) and org B with FTP settings and one block of each direction."""
    a = staff.post("/organizations", json={"code": "zz-a", "name": "A", "kind": "management"}).json()
    b = staff.post("/organizations", json={"code": "zz-b-marker", "name": "B", "kind": "management"}).json()
    put_ftp(staff, b["id"])
    imp = staff.post(f"/organizations/{b['id']}/import-blocks", json={"data_type": "accruals", "paths": "/a.xml"})
    exp = staff.post(f"/organizations/{b['id']}/export-blocks", json={"data_type": "payments",
                                                                      "filename_template": "p_%Y%m%d.xml"})
    return a, b, {"import": imp.json()["id"], "export": exp.json()["id"]}


@pytest.mark.parametrize(("method", "path"), _routes(), ids=lambda v: v)
def test_every_route_needs_credentials_and_hides_other_organizations(api_hub, two_orgs, method, path):
    a, b, blocks = two_orgs
    block_id = blocks["export" if "export" in path else "import"]

    def fill(name: str) -> str:
        return str(b["id"]) if name in _ORG_PARAMS else str(block_id) if name == "block_id" else "1"

    url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: fill(m.group(1)), path)
    kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    with api_hub.anonymous() as anonymous:
        assert anonymous.request(method, url, **kwargs).status_code == 401
        bogus = anonymous.request(method, url, headers={"X-API-Key": "dml_nope_nope"}, **kwargs)
        assert bogus.status_code == 401
    with api_hub.partner(create_key(a["id"], "A's key").key) as partner:
        r = partner.request(method, url, **kwargs)
    params = set(re.findall(r"\{(\w+)", path))
    if params & _ORG_PARAMS:
        assert r.status_code in (403, 404), r.text
    else:
        expected = _STATUS_FOR_PARTNER_WITHOUT_ORG.get((method, path))
        assert r.status_code < 500 and (expected is None or r.status_code in expected), r.text
    assert "zz-b-marker" not in r.text
