"""Generated DAGs: from settings to Airflow, and real runs through ``dag.test()`` mirrored into the log (LOG-4)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from domiland.airflow import listener
from domiland.db.engine import session_scope
from domiland.db.models import ImportBlock, IntegrationLog
from tests.conftest import REPO
from tests.samples import accrual, accruals_xml

DAG_ID = "uk-test.import.accruals"


def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def log_rows() -> list[IntegrationLog]:
    with session_scope() as s:
        return list(s.scalars(select(IntegrationLog).order_by(IntegrationLog.id)))


def test_one_dag_per_enabled_block_with_provenance(make_org, make_block):
    a = make_org("uk-test")
    b = make_org("dev-two", timezone="Asia/Yekaterinburg")
    block_id = make_block(a, paths="/a.xml, /b.xml", schedule=("19", "22", "*", "*", "*"), email="ops@example.com")
    make_block(b, schedule=("*", "*", "*", "*", "*"))
    make_block(make_org("off-org"), enabled=False)
    bag = dagbag()
    assert bag.import_errors == {}
    assert sorted(bag.dags) == ["dev-two.import.accruals", DAG_ID]
    dag = bag.dags[DAG_ID]
    assert set(dag.tags) == {"org:uk-test", "import", "accruals"}
    assert dag.is_paused_upon_creation is False and dag.max_active_runs == 1 and dag.catchup is False
    assert f"block {block_id}" in dag.doc_md and "`/b.xml`" in dag.doc_md and "ops@example.com" in dag.doc_md
    assert "В 22:19" in dag.doc_md
    assert dag.timetable.summary == "19 22 * * *" and str(dag.timetable._timezone.name) == "Europe/Moscow"
    assert bag.dags["dev-two.import.accruals"].schedule is None  # all "*": manual runs only


def test_disabled_block_drops_its_dag(make_org, make_block):
    block_id = make_block(make_org())
    assert DAG_ID in dagbag().dags
    with session_scope() as s:
        s.execute(update(ImportBlock).where(ImportBlock.id == block_id).values(enabled=False))
    assert DAG_ID not in dagbag().dags


def test_task_start_builds_only_its_own_dag(make_org, make_block, monkeypatch):
    make_block(make_org("uk-test"))
    make_block(make_org("uk-other"))
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "uk-other.import.accruals")
    assert list(dagbag().dags) == ["uk-other.import.accruals"]


def test_unreadable_hub_database_fails_the_parse_loudly(tmp_path, monkeypatch):
    monkeypatch.setenv("DOMILAND_DB_URL", f"sqlite:///{tmp_path / 'never-migrated.db'}")
    bag = dagbag()
    assert bag.dags == {}
    (error,) = bag.import_errors.values()
    assert "Cannot read block settings from the hub database" in error and "domiland db upgrade" in error


def test_a_bad_block_is_skipped_not_the_others_and_strict_mode_raises(make_org, make_block, monkeypatch):
    make_block(make_org("uk-test"))
    make_block(make_org("uk-bad"), schedule=("0", "25", "*", "*", "*"))  # saved before validation existed
    bag = dagbag()
    assert list(bag.dags) == [DAG_ID] and bag.import_errors == {}
    monkeypatch.setenv("DOMILAND_STRICT_PARSE", "1")
    assert "hour: 25 is out of range" in "".join(dagbag().import_errors.values())


@pytest.fixture
def ftps_block(airflow_db, ftps_server, make_org, make_block, monkeypatch):
    monkeypatch.setenv("DOMILAND_FTP_CA_FILE", ftps_server.ca_file)
    monkeypatch.setenv("DOMILAND_FTP_TIMEOUT", "5")
    org = make_org("uk-test", ftp=ftps_server.settings())
    return lambda **kw: make_block(org, **kw)


def run_dag():
    dag = dagbag().dags[DAG_ID]
    return dag.test(logical_date=None)


def test_generated_dag_imports_over_ftps_and_the_log_reads_done(ftps_server, ftps_block):
    (ftps_server.root / "начисления").mkdir()
    (ftps_server.root / "начисления" / "май.xml").write_bytes(accruals_xml(accrual("1001"), accrual("1002")))
    ftps_block(paths="/начисления/май.xml")
    run = run_dag()
    assert run.state == "success"
    (row,) = log_rows()
    assert (row.status.value, row.dag_id, row.run_id, row.method.value) == ("Done", DAG_ID, run.run_id, "XML")
    assert row.task == f"Импорт начислений {row.id}"
    assert row.message.startswith("Прочитано записей: 2 (файлов: 1); создано 2")
    assert row.details["files"][0]["created"] == 2


def test_invalid_record_fails_the_run_and_the_log_names_file_and_line(ftps_server, ftps_block):
    (ftps_server.root / "a.xml").write_bytes(accruals_xml(accrual("1001"), accrual("1002", period="май")))
    ftps_block(paths="a.xml", delete_after_read=True)
    run = run_dag()
    assert run.state == "failed"
    (row,) = log_rows()
    assert row.status.value == "Error"
    assert "Ошибка: a.xml: строка 4, запись 2: не соответствует схеме accruals.xsd" in row.message
    assert "создано 1" in row.message
    assert (ftps_server.root / "a.xml").exists()


def test_unknown_account_ends_the_run_green_with_a_warning_row(ftps_server, ftps_block):
    (ftps_server.root / "a.xml").write_bytes(accruals_xml(accrual("1001"), accrual("4040")))
    ftps_block(paths="a.xml")
    run = run_dag()
    assert run.state == "success"
    (row,) = log_rows()
    assert row.status.value == "Warning" and "лицевой счёт 4040 не найден" in row.message


def test_wrong_password_fails_the_run_with_a_clear_error(airflow_db, ftps_server, make_org, make_block, monkeypatch):
    monkeypatch.setenv("DOMILAND_FTP_CA_FILE", ftps_server.ca_file)
    make_block(make_org("uk-test", ftp=ftps_server.settings(password="not-the-password")), paths="a.xml")
    run = run_dag()
    assert run.state == "failed"
    (row,) = log_rows()
    assert row.status.value == "Error" and "not-the-password" not in row.message
    assert "login" in row.message.lower()


def test_run_failed_by_airflow_before_the_task_reported_still_ends_error(make_org, make_block):
    """A killed task (or a run marked failed in the UI) leaves no report: the listener still closes the row."""
    make_block(make_org("uk-test"))
    run = SimpleNamespace(dag_id=DAG_ID, run_id="scheduled__2026-12-01T23:00:00+00:00")
    listener.on_dag_run_running(run, msg="")
    assert [r.status.value for r in log_rows()] == ["Running"]
    listener.on_dag_run_failed(run, msg="task_failure")
    (row,) = log_rows()
    assert row.status.value == "Error" and "задача завершилась с ошибкой" in row.message
    assert row.updated_at >= row.created_at


def test_listener_ignores_foreign_dags_and_never_raises(hub_db, monkeypatch):
    listener.on_dag_run_running(SimpleNamespace(dag_id="example_bash_operator", run_id="r"), msg="")
    monkeypatch.setenv("DOMILAND_DB_URL", "sqlite:////nonexistent-dir/x.db")
    listener.on_dag_run_failed(SimpleNamespace(dag_id=DAG_ID, run_id="r"), msg="")  # logged, not raised


def test_backfilled_run_imports_the_file_of_its_own_day(ftps_server, ftps_block):
    """A run for a past interval (as `airflow backfill create` makes) reads that day's file."""
    from datetime import datetime, timezone

    for day, account in (("20261101", "1001"), ("20261102", "1002")):
        (ftps_server.root / f"accruals_{day}.xml").write_bytes(accruals_xml(accrual(account)))
    ftps_block(paths="/accruals_{date:%Y%m%d}.xml")
    dag = dagbag().dags[DAG_ID]
    # Daily 02:00 Moscow: the interval of 2 November starts 2026-11-01T23:00Z.
    run = dag.test(logical_date=datetime(2026, 11, 1, 23, 0, tzinfo=timezone.utc))
    assert run.state == "success"
    (row,) = log_rows()
    assert row.details["files"][0]["path"] == "/accruals_20261102.xml"
    assert row.details["files"][0]["created"] == 1


def test_doc_md_masks_credentials_of_feed_urls(make_org):
    from domiland.db.models import DataType, ImportBlock, Method

    org = make_org("uk-feed")
    with session_scope() as s:
        s.add(ImportBlock(organization_id=org, data_type=DataType.NEWS, method=Method.URL,
                          paths="https://reader:S3cret-Feed@feeds.example.ru/news.rss"))
    doc = dagbag().dags["uk-feed.import.news"].doc_md
    assert "S3cret-Feed" not in doc and "feeds.example.ru/news.rss" in doc
