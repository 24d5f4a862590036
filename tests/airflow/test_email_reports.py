"""E-mail reports from real DAG runs (``dag.test()``): the task mails its report, and a mail failure changes nothing."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from domiland.airflow import operators
from domiland.db.engine import session_scope
from domiland.db.models import IntegrationLog
from domiland.exchange.report import ImportReport
from tests.conftest import REPO
from tests.samples import accrual, accruals_xml

DAG_ID = "uk-test.import.accruals"


def run_dag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags")).dags[DAG_ID].test(logical_date=None)


def log_row() -> IntegrationLog:
    with session_scope() as s:
        (row,) = s.scalars(select(IntegrationLog))
        return row


@pytest.fixture
def ftps_block(airflow_db, ftps_server, make_org, make_block, monkeypatch):
    monkeypatch.setenv("DOMILAND_FTP_CA_FILE", ftps_server.ca_file)
    monkeypatch.setenv("DOMILAND_FTP_TIMEOUT", "5")
    org = make_org("uk-test", ftp=ftps_server.settings())
    return lambda **kw: make_block(org, **kw)


def test_done_run_mails_ok_with_a_link_to_the_run(smtp_server, ftps_server, ftps_block):
    (ftps_server.root / "a.xml").write_bytes(accruals_xml(accrual("1001"), accrual("1002")))
    ftps_block(paths="a.xml", email="buh@uk-test.ru, director@uk-test.ru")
    run = run_dag()
    assert run.state == "success"
    row = log_row()
    assert row.status.value == "Done"
    (mail,) = smtp_server.messages  # the task, run in-process, found AIRFLOW_CONN_DOMILAND_SMTP
    assert mail.rcpt_tos == ["buh@uk-test.ru", "director@uk-test.ru"]
    assert mail.subject == f"Домиленд: Импорт начислений {row.id} — Выполнено"
    assert "Организация: УК uk-test\n" in mail.text and "Статус: OK\n" in mail.text
    assert "Прочитано записей: 2 (файлов: 1); создано 2" in mail.text
    assert f"/dags/{DAG_ID}/runs/" in mail.text and "/tasks/import" in mail.text


def test_failed_run_mails_the_error_with_file_and_line(smtp_server, ftps_server, ftps_block):
    (ftps_server.root / "a.xml").write_bytes(accruals_xml(accrual("1001"), accrual("1002", period="май")))
    ftps_block(paths="a.xml", email="buh@uk-test.ru")
    run = run_dag()
    assert run.state == "failed"
    (mail,) = smtp_server.messages
    assert mail.subject == f"Домиленд: Импорт начислений {log_row().id} — Ошибка"
    assert "Ошибка: a.xml: строка 4, запись 2: не соответствует схеме accruals.xsd" in mail.text
    assert "создано 1" in mail.text


def test_warning_run_mails_the_warnings(smtp_server, ftps_server, ftps_block):
    (ftps_server.root / "a.xml").write_bytes(accruals_xml(accrual("1001"), accrual("4040")))
    ftps_block(paths="a.xml", email="buh@uk-test.ru")
    assert run_dag().state == "success"
    (mail,) = smtp_server.messages
    assert mail.subject.endswith("— Предупреждение") and "Статус: Предупреждение" in mail.text
    assert "лицевой счёт 4040 не найден" in mail.text


def test_a_crash_in_the_use_case_is_mailed_and_still_fails_the_task(smtp_server, ftps_block, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("hub database went away")

    monkeypatch.setattr(operators, "import_block", crash)
    ftps_block(paths="a.xml", email="buh@uk-test.ru")
    assert run_dag().state == "failed"
    assert log_row().status.value == "Error"
    (mail,) = smtp_server.messages
    assert "Ошибка: внутренняя ошибка импорта: RuntimeError: hub database went away" in mail.text


def test_block_without_email_sends_nothing(smtp_server, ftps_server, ftps_block):
    (ftps_server.root / "a.xml").write_bytes(accruals_xml(accrual("1001")))
    ftps_block(paths="a.xml")
    assert run_dag().state == "success"
    assert smtp_server.messages == [] and smtp_server.logins == []


def test_smtp_down_leaves_the_run_green_and_done(smtp_down, ftps_server, ftps_block):
    """MAIL-2: the e-mail fails (connection refused), the run does not."""
    (ftps_server.root / "a.xml").write_bytes(accruals_xml(accrual("1001")))
    ftps_block(paths="a.xml", email="buh@uk-test.ru")
    started = time.monotonic()
    run = run_dag()
    assert run.state == "success"
    assert log_row().status.value == "Done"
    assert time.monotonic() - started < 30


def test_smtp_down_does_not_turn_a_failed_run_into_something_else(smtp_down, ftps_server, ftps_block):
    (ftps_server.root / "a.xml").write_bytes(accruals_xml(accrual("1002", period="май")))
    ftps_block(paths="a.xml", email="buh@uk-test.ru")
    assert run_dag().state == "failed"
    row = log_row()
    assert row.status.value == "Error" and "строка 3, запись 1" in row.message


@pytest.mark.parametrize("kind, try_number, mailed", [
    ("transport", 1, False),  # Airflow will retry: the run's e-mail waits for the last try
    ("transport", 2, True),  # the last try
    ("data", 1, True),  # never retried
    (None, 1, True),
])
def test_only_the_last_try_of_a_run_is_mailed(smtp_server, make_org, make_block, monkeypatch, kind, try_number,
                                               mailed):
    def fake_import(*args, **kwargs):
        report = ImportReport()
        if kind:
            report.fail("a.xml: сервер не отвечает", kind)
        return report

    monkeypatch.setattr(operators, "import_block", fake_import)
    block_id = make_block(make_org("uk-test"), email="buh@uk-test.ru")
    op = operators.BlockImportOperator(task_id="import", block_id=block_id, retries=1)
    context = {"dag_run": SimpleNamespace(dag_id=DAG_ID, run_id="manual__1"), "logical_date": None,
               "ti": SimpleNamespace(try_number=try_number, max_tries=1, log_url="http://airflow/x")}
    try:
        op.execute(context)
    except Exception:  # noqa: BLE001 -- the failures are asserted by the dag.test() runs above
        assert kind is not None
    assert len(smtp_server.messages) == (1 if mailed else 0)
