"""LOG-5: searching the integration log — the query logic on SQLite and PostgreSQL, and the API on Airflow's server."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from domiland.api import log_query
from domiland.api.keys import create_key
from domiland.db.models import IntegrationLog, LogStatus, Method

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=timezone.utc)


def add_rows(*rows: dict) -> list[int]:
    """Insert log rows into the configured hub database; returns their ids in the given order."""
    from domiland.db.engine import session_scope

    ids = []
    with session_scope() as session:
        for n, spec in enumerate(rows):
            created = spec.get("created_at", T0 + timedelta(minutes=n))
            row = IntegrationLog(
                organization_id=spec.get("org"), status=spec.get("status", LogStatus.DONE),
                task_type=spec.get("task_type", "import_accruals"), task_title=spec.get("title", "Импорт начислений"),
                method=spec.get("method", Method.XML), message=spec.get("message", "Прочитано записей: 1."),
                details=spec.get("details"), dag_id=spec.get("dag_id", f"uk.import.accruals.{n}"),
                run_id=spec.get("run_id", f"scheduled__{created.isoformat()}"), created_at=created,
                updated_at=created + timedelta(seconds=5))
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def standard_rows(org_a: int, org_b: int) -> list[int]:
    """Ten rows over three days and two organizations (plus one without one), newest last."""
    day = timedelta(days=1)
    return add_rows(
        {"org": org_a, "message": "Прочитано записей: 10; создано 10.", "created_at": T0 - 2 * day},
        {"org": org_a, "status": LogStatus.ERROR, "message": "Ошибка: a.xml: строка 4, запись 2: не соответствует схеме",
         "created_at": T0 - day},
        {"org": org_b, "status": LogStatus.WARNING, "message": "Предупреждения (1):\nлицевой счёт 7777 не найден",
         "created_at": T0 - day + timedelta(hours=14, minutes=59, seconds=59)},  # 2026-11-02 23:59:59
        {"org": org_a, "task_type": "import_news", "title": "Импорт новостей", "method": Method.URL,
         "message": "Прочитано записей: 3 (лента RSS)", "created_at": T0},
        {"org": org_b, "status": LogStatus.ERROR, "message": "ОШИБКА: файл payments_100%.xml не найден",
         "task_type": "import_payments", "title": "Импорт платежей", "created_at": T0 + timedelta(hours=1)},
        {"org": org_a, "message": "Скидка 1000 руб. учтена", "created_at": T0 + timedelta(hours=2)},
        {"org": org_a, "message": "Файл a_b.xml прочитан", "created_at": T0 + timedelta(hours=3)},
        {"org": org_a, "message": "Файл axb.xml прочитан", "created_at": T0 + timedelta(hours=4)},
        {"org": None, "status": LogStatus.RUNNING, "message": "", "created_at": T0 + timedelta(hours=5)},
        {"org": org_b, "status": LogStatus.DUPLICATE, "method": Method.URL, "message": "Дубликат запроса",
         "created_at": T0 + timedelta(days=1)},
    )


# --------------------------------------------------------------------------- the query logic, on both dialects

@pytest.fixture(params=["sqlite", "postgresql"])
def log_db(request, monkeypatch, tmp_path):
    """A migrated hub database (SQLite file or scratch PostgreSQL) with two organizations; yields (url, a, b)."""
    from domiland.db.engine import session_scope
    from domiland.db.migrate import upgrade
    from domiland.db.models import Organization, OrganizationKind

    url = f"sqlite:///{tmp_path / 'log.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    monkeypatch.setenv("DOMILAND_DB_URL", url)
    upgrade(url)
    with session_scope() as session:
        orgs = [Organization(code=c, name=f"УК {c}", kind=OrganizationKind.MANAGEMENT) for c in ("uk-a", "uk-b")]
        session.add_all(orgs)
        session.flush()
        return url, orgs[0].id, orgs[1].id


def _search(**kwargs) -> list[int]:
    from domiland.db.engine import session_scope

    limit = kwargs.pop("limit", 200)
    with session_scope() as session:
        return [r.id for r in log_query.search(session, log_query.make_filter(**kwargs), limit=limit).rows]


def test_filters_and_search_on_both_dialects(log_db):
    _, a, b = log_db
    ids = standard_rows(a, b)
    newest_first = ids[::-1]
    assert _search() == newest_first
    # text search: case-insensitive (Cyrillic too), a substring, LIKE wildcards taken literally
    assert _search(q="ошибка") == [ids[4], ids[1]]
    assert _search(q="НЕ НАЙДЕН") == [ids[4], ids[2]]
    assert _search(q="100%") == [ids[4]]
    assert _search(q="a_b.xml") == [ids[6]]
    assert _search(q="xml прочитан") == [ids[7], ids[6]]
    assert _search(q="нет такого") == []
    # status (several), task type, method, organization
    assert _search(status=["Error,Warning"]) == [ids[4], ids[2], ids[1]]
    assert _search(status=["error", "Duplicate"]) == [ids[9], ids[4], ids[1]]
    assert _search(task_type=["import_news"]) == [ids[3]]
    assert _search(method=["URL"]) == [ids[9], ids[3]]
    assert _search(organization_id=b) == [ids[9], ids[4], ids[2]]
    assert _search(organization_id=a, status=["Error"], q="схеме") == [ids[1]]
    # dates: a date alone is the whole day (UTC), a date-time an instant, inclusive both ends
    assert _search(created_from="2026-11-02", created_to="2026-11-02") == [ids[2], ids[1]]
    assert _search(created_from="2026-11-03T09:00:00Z", created_to="2026-11-03T12:00:00") == [ids[6], ids[5], ids[4],
                                                                                                ids[3]]
    assert _search(created_to="2026-11-03T11:00:00+02:00") == [ids[3], ids[2], ids[1], ids[0]]
    assert _search(created_from="2026-11-04") == [ids[9]]


def test_keyset_pages_and_capped_count(log_db, monkeypatch):
    from domiland.db.engine import session_scope

    _, a, _ = log_db
    same = T0 + timedelta(hours=1)
    ids = add_rows(*({"org": a, "created_at": same if n % 3 else T0 + timedelta(minutes=n)} for n in range(11)))
    expected = [i for _, i in sorted(((row_time, i) for i, row_time in zip(
        ids, [same if n % 3 else T0 + timedelta(minutes=n) for n in range(11)])), reverse=True)]
    seen, cursor, pages = [], None, 0
    with session_scope() as session:
        while True:
            page = log_query.search(session, log_query.make_filter(), limit=4, cursor=cursor)
            assert page.count == 11 and page.count_exact
            seen += [r.id for r in page.rows]
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        assert pages == 3 and seen == expected  # ties on created_at ordered by id, nothing repeated or lost
        monkeypatch.setattr(log_query, "COUNT_CAP", 5)
        page = log_query.search(session, log_query.make_filter(), limit=4)
        assert (page.count, page.count_exact) == (5, False)
        page = log_query.search(session, log_query.make_filter(q="записей"), limit=20, with_count=False)
        assert page.count is None and len(page.rows) == 11


@pytest.mark.parametrize("kwargs, param", [
    ({"q": "ab"}, "q"), ({"q": "..."}, "q"), ({"q": "№ 42"}, "q"), ({"q": "x" * 201}, "q"),
    ({"status": ["Finished"]}, "status"), ({"method": ["FTP"]}, "method"),
    ({"created_from": "03.11.2026"}, "created_from"), ({"created_to": "yesterday"}, "created_to"),
    ({"created_from": "2026-11-04", "created_to": "2026-11-03"}, "created_to"),
])
def test_unusable_filters_name_the_parameter(kwargs, param):
    with pytest.raises(log_query.LogQueryError) as err:
        log_query.make_filter(**kwargs)
    assert err.value.param == param and str(err.value).startswith(f"{param}: ")


def test_small_pieces():
    assert log_query.like_pattern("100%_a\\b") == "%100\\%\\_a\\\\b%"
    assert log_query.parse_bound("2026-11-03", param="x", upper=True) == datetime(2026, 11, 4, tzinfo=timezone.utc)
    assert log_query.parse_bound("20261103", param="x", upper=True) == datetime(2026, 11, 4, tzinfo=timezone.utc)
    assert log_query.parse_bound("2026-11-03T12:00:00+03:00", param="x", upper=False) == datetime(
        2026, 11, 3, 9, tzinfo=timezone.utc)
    cursor = log_query.Cursor(datetime(2026, 11, 3, 9, 0, 0, 123, tzinfo=timezone.utc), 42)
    assert log_query.Cursor.decode(cursor.encode()) == cursor
    with pytest.raises(log_query.LogQueryError):
        log_query.Cursor.decode("not-a-cursor")
    assert log_query.airflow_run_url("https://airflow.example/", "uk.import.accruals",
                                     "scheduled__2026-11-03T00:00:00+00:00") == (
        "https://airflow.example/dags/uk.import.accruals/runs/scheduled__2026-11-03T00%3A00%3A00%2B00%3A00")
    assert log_query.airflow_run_url("", "d", "r") == "/dags/d/runs/r"
    assert log_query.airflow_run_url("https://x", None, "r") is None


# --------------------------------------------------------------------------- the API on Airflow's API server

def test_log_needs_credentials(api_hub):
    for path in ("/log", "/log/1", "/log/task-types"):
        assert api_hub.anonymous().get(path).status_code == 401
        assert api_hub.anonymous().get(path, headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401
        assert api_hub.partner("dml_nope_nope").get(path).status_code == 401


def test_staff_search_filters_and_pages(api_hub, make_org_in_api):
    a, b = make_org_in_api("uk-a"), make_org_in_api("uk-b")
    ids = standard_rows(a, b)
    staff = api_hub.staff()

    body = staff.get("/log").json()
    assert [e["id"] for e in body["data"]] == ids[::-1]
    assert (body["count"], body["count_exact"], body["next_cursor"]) == (10, True, None)
    first = body["data"][0]
    assert first["task"] == f"Импорт начислений {ids[9]}" and first["status"] == "Duplicate"
    assert first["organization_code"] == "uk-b" and first["created_at"].startswith("2026-11-04T09:00:00")
    assert "details" not in first

    def found(**params) -> list[int]:
        r = staff.get("/log", params=params)
        assert r.status_code == 200, r.text
        return [e["id"] for e in r.json()["data"]]

    assert found(q="ошибка") == [ids[4], ids[1]]
    assert found(q="100%") == [ids[4]]
    assert found(q="a_b.xml") == [ids[6]]
    assert found(status=["Error", "Warning"]) == found(status="Error,Warning") == [ids[4], ids[2], ids[1]]
    assert found(task_type="import_payments", method="XML") == [ids[4]]
    assert found(method="URL") == [ids[9], ids[3]]
    assert found(created_from="2026-11-02", created_to="2026-11-02") == [ids[2], ids[1]]
    assert found(created_from="2026-11-03T10:00:00Z", created_to="2026-11-03T13:00:00+00:00") == [ids[7], ids[6],
                                                                                                    ids[5], ids[4]]
    assert found(organization_id=a, q="прочитан") == [ids[7], ids[6], ids[3], ids[0]]  # "Прочитано" too
    assert found(organization_id=999_999) == []  # staff may ask for any organization

    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = staff.get("/log", params=params).json()
        assert page["count"] == 10
        seen += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids[::-1]

    for params, what in [({"q": "ab"}, "q:"), ({"status": "Finished"}, "status:"), ({"limit": 201}, "limit"),
                         ({"limit": 0}, "limit"), ({"cursor": "garbage"}, "cursor:"),
                         ({"created_from": "3 Nov"}, "created_from:")]:
        r = staff.get("/log", params=params)
        assert r.status_code == 422 and what in r.text, (params, r.text)

    types = staff.get("/log/task-types").json()
    assert {"task_type": "import_accruals", "title": "Импорт начислений"} in types


def test_detail_links_the_airflow_run(api_hub, make_org_in_api):
    a = make_org_in_api("uk-a")
    run_id = "manual__2026-11-03T09:00:00.123456+00:00"
    details = {"status": "Error", "error": "a.xml: строка 4", "files": [{"path": "a.xml", "read": 3}]}
    (entry,) = add_rows({"org": a, "status": LogStatus.ERROR, "message": "Ошибка: a.xml: строка 4",
                         "dag_id": "uk-a.import.accruals", "run_id": run_id, "details": details})
    r = api_hub.staff().get(f"/log/{entry}")
    assert r.status_code == 200
    body = r.json()
    assert body["dag_id"] == "uk-a.import.accruals" and body["run_id"] == run_id and body["details"] == details
    assert body["task"] == f"Импорт начислений {entry}" and body["organization_code"] == "uk-a"
    # [api] base_url of the server + the Airflow 3 UI's route of a run
    assert body["airflow_url"] == f"{api_hub.base_url}/dags/uk-a.import.accruals/runs/{quote(run_id, safe='')}"
    assert api_hub.staff().get(f"/log/{entry + 1000}").status_code == 404
    assert api_hub.staff().get("/log/abc").status_code == 422


def test_partner_key_sees_only_its_organization(api_hub, make_org_in_api):
    a, b = make_org_in_api("uk-a"), make_org_in_api("uk-b")
    ids = standard_rows(a, b)
    own = {ids[i] for i in (0, 1, 3, 5, 6, 7)}
    partner = api_hub.partner(create_key(a, "1C").key)

    body = partner.get("/log").json()
    assert [e["id"] for e in body["data"]] == sorted(own, reverse=True) and body["count"] == len(own)
    assert {e["organization_id"] for e in body["data"]} == {a}
    assert [e["id"] for e in partner.get("/log", params={"q": "ошибка"}).json()["data"]] == [ids[1]]
    assert [e["id"] for e in partner.get("/log", params={"organization_id": a, "status": "Error"}).json()["data"]] == [
        ids[1]]
    r = partner.get("/log", params={"organization_id": b})
    assert r.status_code == 404 and str(b) in r.json()["detail"]

    assert partner.get(f"/log/{ids[1]}").status_code == 200
    for other in (ids[2], ids[4], ids[8]):  # another organization's rows, and one of no organization
        r = partner.get(f"/log/{other}")
        assert r.status_code == 404 and r.json() == {"detail": f"Log entry {other} not found"}
    assert partner.get("/log/999999").json() == {"detail": "Log entry 999999 not found"}  # the same answer
