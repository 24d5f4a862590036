"""Run now (IMP-4, EXP-6) and the DAG's paused state, through a real Airflow API server and metadata DB."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from domiland.api.keys import create_key
from domiland.db.engine import session_scope
from domiland.db.models import IntegrationLog, LogStatus
from tests.conftest import REPO


def parse_dags_into_airflow() -> None:
    """What the DAG processor does within a minute of a save: parse the DAGs folder into Airflow's DB.

    This test process shares the API server's hub database (``api_hub``) and Airflow's metadata
    database, so the DAGs generated here are the ones the server sees (as ``dag.test()`` syncs them).
    """
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.utils.session import create_session

    manager = DagBundlesManager()
    with create_session() as session:
        manager.sync_bundles_to_db(session=session)
    for bundle in manager.get_all_dag_bundles():
        bundle.initialize()
        bag = BundleDagBag(str(REPO / "dags"), bundle_path=bundle.path, bundle_name=bundle.name)
        assert bag.import_errors == {}, bag.import_errors
        with create_session() as session:
            sync_bag_to_db(bag, bundle.name, bundle_version=bundle.get_current_version(), session=session)


@pytest.fixture
def staff(api_hub):
    with api_hub.staff() as client:
        yield client


def make_org_with_blocks(staff, code: str) -> tuple[int, int, int]:
    created = staff.post("/organizations", json={"code": code, "name": f"УК {code}", "kind": "management"})
    assert created.status_code == 201, created.text
    org = created.json()
    assert staff.put(f"/organizations/{org['id']}/ftp", json={"host": "127.0.0.1", "port": 2121}).status_code == 200
    imp = staff.post(f"/organizations/{org['id']}/import-blocks",
                     json={"data_type": "accruals", "paths": "/accruals.xml", "schedule": {"hour": "3"}})
    exp = staff.post(f"/organizations/{org['id']}/export-blocks",
                     json={"data_type": "payments", "filename_template": "payments_%Y%m%d_%H%M%S.xml"})
    assert imp.status_code == exp.status_code == 201, (imp.text, exp.text)
    return org["id"], imp.json()["id"], exp.json()["id"]


def airflow_runs(api_hub, staff, dag_id: str) -> list[dict]:
    r = staff.get(f"{api_hub.base_url}/api/v2/dags/{dag_id}/dagRuns")
    assert r.status_code == 200, r.text
    return r.json()["dag_runs"]


def test_run_now_queues_a_real_dag_run_and_opens_its_log_row(api_hub, staff):
    org_id, import_id, export_id = make_org_with_blocks(staff, "uk-run")
    url = f"/organizations/{org_id}/import-blocks/{import_id}/run"

    early = staff.post(url)
    assert early.status_code == 409
    assert "the DAG appears within a minute after the block is saved" in early.json()["detail"]

    parse_dags_into_airflow()
    started = staff.post(url)
    assert started.status_code == 202, started.text
    run = started.json()
    assert run["dag_id"] == "uk-run.import.accruals" and run["run_id"].startswith("manual__")
    assert run["state"] == "queued" and run["dag_paused"] is False
    assert run["airflow_url"] == f"{api_hub.base_url}/dags/uk-run.import.accruals/runs/{quote(run['run_id'], safe='')}"

    (airflow_run,) = airflow_runs(api_hub, staff, "uk-run.import.accruals")
    assert airflow_run["dag_run_id"] == run["run_id"] and airflow_run["run_type"] == "manual"
    assert airflow_run["logical_date"] is None and airflow_run["triggered_by"] == "rest_api"
    with session_scope() as session:
        entry = session.get(IntegrationLog, run["log_entry_id"])
        assert (entry.dag_id, entry.run_id, entry.organization_id) == (run["dag_id"], run["run_id"], org_id)
        assert entry.status == LogStatus.RUNNING and entry.task_title == "Импорт начислений"
        assert entry.task_type == "import_accruals" and entry.method.value == "XML"

    # export blocks too, and a partner key of the organization may run its own blocks
    with api_hub.partner(create_key(org_id, "1C").key) as partner:
        exported = partner.post(f"/organizations/{org_id}/export-blocks/{export_id}/run")
    assert exported.status_code == 202, exported.text
    assert exported.json()["dag_id"] == "uk-run.export.payments"
    assert [r["dag_run_id"] for r in airflow_runs(api_hub, staff, "uk-run.export.payments")] == [
        exported.json()["run_id"]]

    assert staff.post(f"/organizations/{org_id}/import-blocks/{export_id + 1000}/run").status_code == 404
    assert staff.post(f"/organizations/{org_id}/export-blocks/{import_id}/run").status_code in (404, 202)


def test_enable_disable_keeps_the_dag_paused_state_in_line(api_hub, staff):
    org_id, import_id, _ = make_org_with_blocks(staff, "uk-pause")
    parse_dags_into_airflow()
    dag_url = f"{api_hub.base_url}/api/v2/dags/uk-pause.import.accruals"
    block_url = f"/organizations/{org_id}/import-blocks/{import_id}"
    assert staff.get(dag_url).json()["is_paused"] is False
    assert staff.get(block_url).json()["airflow"] == {"parsed": True, "paused": False}

    off = staff.patch(block_url, json={"enabled": False})
    assert off.json()["airflow"] == {"parsed": True, "paused": True}
    assert staff.get(dag_url).json()["is_paused"] is True
    refused = staff.post(f"{block_url}/run")
    assert refused.status_code == 409 and "disabled" in refused.json()["detail"]

    # an edit that does not touch "enabled" leaves a pause made in the Airflow UI alone
    staff.patch(dag_url, json={"is_paused": True})
    assert staff.patch(block_url, json={"enabled": True}).json()["airflow"]["paused"] is False
    staff.patch(dag_url, json={"is_paused": True})
    assert staff.patch(block_url, json={"email": "ops@example.ru"}).json()["airflow"]["paused"] is True

    # deleting pauses it; a new block for the same DAG unpauses it again
    assert staff.patch(block_url, json={"enabled": True}).json()["airflow"]["paused"] is False
    assert staff.delete(block_url).status_code == 204
    assert staff.get(dag_url).json()["is_paused"] is True
    again = staff.post(f"/organizations/{org_id}/import-blocks", json={"data_type": "accruals", "paths": "/a.xml"})
    assert again.status_code == 201 and again.json()["airflow"]["paused"] is False
    assert staff.get(dag_url).json()["is_paused"] is False
