"""The integration-log page: served to Airflow staff only, listed in the Airflow UI's nav, and working in a real browser.

The browser test drives Debian's Chromium (``apt-get install -y chromium``) with Python
playwright (no ``playwright install``: the system browser is used). Without Chromium it is
skipped locally and fails under CI. Screenshots go to ``test-artifacts/`` (git-ignored).
"""
from __future__ import annotations

import os
import re
import shutil
from urllib.parse import quote

import pytest

from domiland.api.keys import create_key
from domiland.db.models import LogStatus, Method
from tests.api.test_log import add_rows
from tests.conftest import REPO, unavailable

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> — сообщение партнёра'


def test_page_is_for_signed_in_staff(api_hub, make_org_in_api):
    page_url = "/ui/log"
    r = api_hub.anonymous().get(page_url)
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
    assert "Sign in to Airflow" in r.text and "Войдите в Airflow" in r.text
    assert 'href="/auth/login?next=' in r.text  # the auth manager's login page, back here afterwards
    assert api_hub.anonymous().get("/ui/log.js").status_code == 401

    partner = api_hub.partner(create_key(make_org_in_api("uk-a"), "1C").key).get(page_url)
    assert partner.status_code == 403 and "Domiland staff" in partner.text

    staff = api_hub.staff()
    r = staff.get(page_url)
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert '<script src="log.js" defer></script>' in r.text
    for asset, kind in (("log.js", "text/javascript"), ("log.css", "text/css")):
        r = staff.get(f"/ui/{asset}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind)
    assert ".innerHTML" not in staff.get("/ui/log.js").text  # values go in as text only


def test_plugin_adds_the_page_to_the_airflow_nav(api_hub):
    import httpx

    r = httpx.get(f"{api_hub.base_url}/api/v2/plugins", headers={"Authorization": f"Bearer {api_hub.token()}"},
                  timeout=30)
    assert r.status_code == 200
    (plugin,) = [p for p in r.json()["plugins"] if p["name"] == "domiland"]
    (view,) = plugin["external_views"]
    assert view["name"] == "Integration log / Журнал интеграции"
    assert (view["href"], view["url_route"], view["category"], view["destination"]) == (
        "/integrations/ui/log", "integration-log", "browse", "nav")


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(executable):
        unavailable("Chromium is not installed: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed: pip install playwright")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_log_page_in_chromium(api_hub, make_org_in_api, browser):
    org = make_org_in_api("uk-demo")
    dag_id, run_id = "uk-demo.import.accruals", "scheduled__2026-11-03T00:00:00+00:00"
    ids = add_rows(
        {"org": org, "message": "Прочитано записей: 120 (файлов: 1); создано 100, обновлено 20."},
        {"org": org, "status": LogStatus.WARNING, "message": "Предупреждения (1):\nлицевой счёт 7777 не найден",
         "details": {"status": "Warning", "warnings": ["лицевой счёт 7777 не найден"]}},
        {"org": org, "status": LogStatus.ERROR, "message": XSS, "task_type": "import_payments",
         "title": "Импорт платежей"},
        {"org": org, "status": LogStatus.ERROR, "method": Method.XML, "dag_id": dag_id, "run_id": run_id,
         "message": "Ошибка: accruals.xml: строка 4, запись 2: не соответствует схеме accruals.xsd"},
    )
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="ru-RU")
    context.add_cookies([{"name": "_token", "value": api_hub.token(), "url": api_hub.base_url}])
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    try:
        page.goto(f"{api_hub.api}/ui/log")
        page.wait_for_selector("body[data-state=ready]", timeout=20_000)
        rows = page.locator("#rows > tr")
        assert rows.count() == 4
        assert rows.first.locator("button.task").inner_text() == f"Импорт начислений {ids[3]}"
        assert page.locator("h1").inner_text() == "Журнал интеграции"
        assert page.locator("#summary").inner_text() == "Найдено записей: 4"
        # the message with markup is shown as text, and nothing in it ran
        xss_row = page.locator(f"#rows > tr[data-id='{ids[2]}']")
        assert xss_row.locator(".message").inner_text() == XSS
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert page.locator("#rows img").count() == 0 and page.locator("#rows script").count() == 0
        # the run link: Airflow 3 UI route of the run, on this origin
        link = page.locator(f"#rows > tr[data-id='{ids[3]}'] a.run")
        assert link.get_attribute("href") == f"{api_hub.base_url}/dags/{dag_id}/runs/{quote(run_id, safe='')}"
        # details of a row: its report
        page.locator(f"#rows > tr[data-id='{ids[1]}'] button.task").click()
        page.wait_for_selector("tr.details pre")
        assert "лицевой счёт 7777 не найден" in page.locator("tr.details pre").inner_text()
        page.screenshot(path=str(ARTIFACTS / "log-page.png"), full_page=True)

        # search (lower case finds "Ошибка"), then a status filter on top of it
        page.fill("#q", "ошибка")
        page.click("#find")
        page.wait_for_url(re.compile(r"[?&]q=%D0%BE"))
        page.wait_for_selector("body[data-state=ready]")
        assert [int(x) for x in page.locator("#rows > tr").evaluate_all("rs => rs.map(r => r.dataset.id)")] == [
            ids[3]]
        assert page.locator("#q").input_value() == "ошибка"
        page.fill("#q", "")
        page.check("input[name=status][value=Error]")
        page.click("#find")
        page.wait_for_url(re.compile(r"status=Error"))
        page.wait_for_selector("body[data-state=ready]")
        assert page.locator("#rows > tr").count() == 2
        page.screenshot(path=str(ARTIFACTS / "log-page-filtered.png"), full_page=True)

        # English labels, kept when the page is opened again
        page.click("button[data-lang=en]")
        assert page.locator("h1").inner_text() == "Integration log"
        assert page.locator("#summary").inner_text() == "Entries found: 2"
        assert page.locator(f"#rows > tr[data-id='{ids[3]}'] button.task").inner_text() == f"Accruals import {ids[3]}"
        assert page.locator(f"#rows > tr[data-id='{ids[3]}'] .badge").inner_text() == "Error"
        page.goto(f"{api_hub.api}/ui/log")
        page.wait_for_selector("body[data-state=ready]")
        assert page.locator("h1").inner_text() == "Integration log" and page.locator("#rows > tr").count() == 4
        page.screenshot(path=str(ARTIFACTS / "log-page-en.png"), full_page=True)

        # pages: older rows behind a link (keyset cursor), and back to the newest
        page.goto(f"{api_hub.api}/ui/log?limit=3")
        page.wait_for_selector("body[data-state=ready]")
        shown = "rs => rs.map(r => Number(r.dataset.id))"
        assert page.locator("#rows > tr").evaluate_all(shown) == [ids[3], ids[2], ids[1]]
        assert page.locator("#first").is_hidden()
        page.click("#older")
        page.wait_for_url(re.compile(r"cursor="))
        page.wait_for_selector("body[data-state=ready]")
        assert page.locator("#rows > tr").evaluate_all(shown) == [ids[0]]
        assert page.locator("#older").is_hidden() and page.locator("#summary").inner_text() == "Entries found: 4"
        page.click("#first")
        page.wait_for_url(re.compile(r"\?limit=3$"))
        page.wait_for_selector("body[data-state=ready]")
        assert page.locator("#rows > tr").count() == 3
        assert problems == []
    finally:
        context.close()


def test_log_page_inside_the_airflow_ui(api_hub, make_org_in_api, browser):
    """Browse → "Integration log" shows the page in the Airflow UI; a run link opens the run in the UI."""
    org = make_org_in_api("uk-demo")
    dag_id, run_id = "uk-demo.import.accruals", "manual__2026-11-03T09:00:00+00:00"
    (entry,) = add_rows({"org": org, "status": LogStatus.DONE, "dag_id": dag_id, "run_id": run_id,
                         "message": "Прочитано записей: 7 (файлов: 1)."})
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    context.add_cookies([{"name": "_token", "value": api_hub.token(), "url": api_hub.base_url}])
    page = context.new_page()
    try:
        page.goto(f"{api_hub.base_url}/")
        page.get_by_role("button", name=re.compile("Browse")).click()
        page.get_by_role("menuitem", name="Integration log / Журнал интеграции").click()
        page.wait_for_url(re.compile(r"/plugin/integration-log"))
        frame = page.frame_locator("iframe[title='Integration log / Журнал интеграции']")
        frame.locator("body[data-state=ready]").wait_for(timeout=20_000)
        assert frame.locator("#rows > tr").count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "log-page-in-airflow.png"))
        frame.locator(f"#rows > tr[data-id='{entry}'] a.run").click()
        page.wait_for_url(re.compile(r"/dags/[^/]+/runs/[^/]+$"), timeout=20_000)
        assert page.url.endswith(f"/dags/{dag_id}/runs/{quote(run_id, safe='')}")
        page.locator("iframe").wait_for(state="detached")  # the UI itself shows the run now, not the frame
        page.get_by_text(run_id, exact=True).first.wait_for()  # its breadcrumb: the run id, decoded
    finally:
        context.close()

