"""One Airflow pool per FTP server: tasks use it, the listener and `domiland pools sync` create it."""
from __future__ import annotations

from types import SimpleNamespace

from domiland.airflow import listener
from domiland.airflow.pools import pool_name, sync_ftp_pools
from domiland.cli import main
from tests.airflow.test_dags import dagbag


def get_pool(name):
    from airflow.models.pool import Pool

    return Pool.get_pool(name)


def test_blocks_of_one_server_share_its_pool(airflow_db, ftps_server, make_org, make_block):
    settings = ftps_server.settings()
    make_block(make_org("uk-a", ftp=settings))
    make_block(make_org("uk-b", ftp=settings))
    make_block(make_org("uk-c"))  # no FTP settings yet
    dags = dagbag().dags
    expected = f"ftp:127.0.0.1:{ftps_server.port}"
    assert {dags[f"uk-{x}.import.accruals"].tasks[0].pool for x in "ab"} == {expected}
    assert dags["uk-c.import.accruals"].tasks[0].pool == "default_pool"


def test_listener_never_writes_to_airflows_database(airflow_db, ftps_server, make_org, make_block):
    """The scheduler forbids commits from its listeners: starting a run must not create pools."""
    make_block(make_org("uk-pool", ftp=ftps_server.settings(host="ftp.pool-test.example")))
    listener.on_dag_run_running(SimpleNamespace(dag_id="uk-pool.import.accruals", run_id="r1"), msg="")
    assert get_pool(pool_name(f"ftp.pool-test.example:{ftps_server.port}")) is None


def test_sync_creates_missing_pools_and_keeps_tuned_ones(airflow_db, ftps_server, make_org, capsys):
    from airflow.models.pool import Pool

    make_org("uk-s1", ftp=ftps_server.settings(host="ftp.one.example"))
    make_org("uk-s2", ftp=ftps_server.settings(host="FTP.Two.example", port=990))
    Pool.create_or_update_pool(pool_name(f"ftp.one.example:{ftps_server.port}"), 7, "tuned", False)
    assert sync_ftp_pools() == ["ftp:ftp.two.example:990"]
    assert get_pool(pool_name(f"ftp.one.example:{ftps_server.port}")).slots == 7
    assert main(["pools", "sync"]) == 0
    assert "none (all present)" in capsys.readouterr().out
