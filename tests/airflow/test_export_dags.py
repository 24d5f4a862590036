"""Export blocks as generated DAGs: "Run now" and a dated run through dag.test(), logged as "Экспорт платежей N"."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from domiland.db.engine import session_scope
from domiland.airflow.operators import window_kind
from domiland.db.models import ExportRun
from tests.airflow.test_dags import dagbag, log_rows
from tests.exchange.test_exports import T0, add_payments, files, make_export, valid

DAG_ID = "uk-exp.export.payments"


@pytest.fixture
def org(airflow_db, ftps_server, make_org, monkeypatch):
    monkeypatch.setenv("DOMILAND_FTP_CA_FILE", ftps_server.ca_file)
    return make_org("uk-exp", ftp=ftps_server.settings())


def test_export_dag_is_generated_with_its_settings(org):
    make_export(org, directory="/out", template="pay_%Y%m%d.xml")
    dag = dagbag().dags[DAG_ID]
    assert set(dag.tags) == {"org:uk-exp", "export", "payments"}
    assert "`pay_%Y%m%d.xml`" in dag.doc_md and "`/out`" in dag.doc_md


def test_run_now_then_rerun_export_each_record_once(ftps_server, org, monkeypatch):
    monkeypatch.setenv("DOMILAND_EXPORT_SETTLE_SECONDS", "0")
    make_export(org, directory="/out")
    add_payments(org, 5, created=datetime.now(timezone.utc) - timedelta(hours=1))
    run = dagbag().dags[DAG_ID].test(logical_date=None)
    assert run.state == "success"
    (row,) = log_rows()
    assert row.status.value == "Done" and row.task == f"Экспорт платежей {row.id}"
    assert "Выгружено записей: 5" in row.message
    (path,) = files(ftps_server.root)
    assert len(valid(path, "payments.xsd").getroot()) == 5
    for prefix in ("NEW-A", "NEW-B"):  # stamped after the first run read, before the second
        add_payments(org, 1, created=datetime.now(timezone.utc), prefix=prefix)
    assert dagbag().dags[DAG_ID].test(logical_date=None).state == "success"
    second = [p for p in files(ftps_server.root) if p != path]
    assert [len(valid(p, "payments.xsd").getroot()) for p in second] == [2]


@pytest.mark.parametrize("run_type, start, end, expected", [
    ("scheduled", T0, T0 + timedelta(days=1), ("scheduled", (T0, T0 + timedelta(days=1)))),
    ("backfill", T0, T0 + timedelta(days=1), ("backfill", (T0, T0 + timedelta(days=1)))),
    ("manual", T0, T0 + timedelta(days=1), ("manual", None)),
    ("manual", None, None, ("manual", None)),
    ("scheduled", T0, T0, ("manual", None)),  # a degenerate interval exports since the last window
    ("asset_triggered", T0, T0 + timedelta(days=1), ("manual", None)),
])
def test_airflow_run_types_map_to_window_kinds(run_type, start, end, expected):
    assert window_kind(run_type, start, end) == expected


def test_scheduled_intervals_export_exactly_their_records(ftps_server, org):
    """What a schedule or a backfill does, run by run: each record lands in exactly one file."""
    from domiland.exchange.exports import export_block

    block = make_export(org, template="p_%Y%m%d.xml")
    for day in range(3):
        add_payments(org, day + 1, created=T0 + timedelta(days=day, hours=5), prefix=f"D{day}-")
    for day in range(3):
        start = T0 + timedelta(days=day)
        report = export_block(block, kind="scheduled", interval=(start, start + timedelta(days=1)),
                              dag_id=DAG_ID, run_id=f"scheduled__{day}")
        assert report.rows == day + 1
    ids = [p.findtext("PaymentId") for f in files(ftps_server.root) for p in valid(f, "payments.xsd").getroot()]
    assert sorted(ids) == sorted({*ids}) and len(ids) == 6
    # a rerun (clear) of a successful run adds nothing; a backfill re-creates the file on purpose
    again = export_block(block, kind="scheduled", interval=(T0, T0 + timedelta(days=1)), dag_id=DAG_ID,
                         run_id="scheduled__0")
    assert again.file_name is None and "уже выгрузил" in again.skipped
    backfill = export_block(block, kind="backfill", interval=(T0, T0 + timedelta(days=1)), dag_id=DAG_ID,
                            run_id="backfill__0")
    assert backfill.rows == 1 and backfill.file_name == "p_20261103_1.xml"


def test_a_failed_run_exports_its_window_when_rerun(request, ftps_server, org):
    from domiland.exchange.exports import export_block

    block = make_export(org, directory="out", template="p_%Y%m%d.xml")
    add_payments(org, 2, created=T0 + timedelta(hours=5))
    (ftps_server.root / "out").mkdir()
    authorizer = request.getfixturevalue("_tls_ftpd").authorizer
    authorizer.override_perm(ftps_server.user, str(ftps_server.root / "out"), "elr", recursive=True)
    interval = (T0, T0 + timedelta(days=1))
    failed = export_block(block, kind="scheduled", interval=interval, dag_id=DAG_ID, run_id="scheduled__0")
    assert failed.status.value == "Error"
    authorizer.override_perm(ftps_server.user, str(ftps_server.root / "out"), "elradfmwMT", recursive=True)
    rerun = export_block(block, kind="scheduled", interval=interval, dag_id=DAG_ID, run_id="scheduled__0")
    assert rerun.rows == 2 and rerun.error is None
    assert [len(valid(f, "payments.xsd").getroot()) for f in files(ftps_server.root)] == [2]
