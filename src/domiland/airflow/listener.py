"""Airflow listener that mirrors hub DAG runs into the integration log (LOG-4).

Runs in the scheduler (and the API server for states set by hand). It must be
fast and must never raise: a failure here is logged and swallowed. It touches
only the hub's database, never Airflow's: the scheduler refuses commits on its
own session from inside its loop ("UNEXPECTED COMMIT - THIS WILL BREAK HA LOCKS"),
and a second connection could deadlock with it on SQLite.
"""
from __future__ import annotations

import logging

from airflow.listeners import hookimpl

from domiland.db.models import Method
from domiland.exchange import oplog
from domiland.exchange.blocks import TITLES_RU, parse_dag_id
from domiland.exchange.registry import IMPORT_TYPES

log = logging.getLogger(__name__)


def _entry_kwargs(dag_id: str) -> dict | None:
    parsed = parse_dag_id(dag_id)
    if parsed is None:
        return None
    _org, direction, data_type = parsed
    title = TITLES_RU.get((direction, data_type), f"{direction} {data_type.value}")
    import_type = IMPORT_TYPES.get(data_type)
    method = import_type.method if direction == "import" and import_type else Method.XML
    return {"organization_id": _org_id(_org), "task_type": f"{direction}_{data_type.value}", "title": title,
            "method": method}


def _org_id(code: str) -> int | None:
    from sqlalchemy import select

    from domiland.db.engine import session_scope
    from domiland.db.models import Organization

    with session_scope() as session:
        return session.scalar(select(Organization.id).where(Organization.code == code))


@hookimpl
def on_dag_run_running(dag_run, msg: str) -> None:
    try:
        kwargs = _entry_kwargs(dag_run.dag_id)
        if kwargs is not None:
            oplog.ensure_run_entry(dag_run.dag_id, dag_run.run_id, **kwargs)
    except Exception:
        log.exception("integration log: could not open the row of %s %s", dag_run.dag_id, dag_run.run_id)


@hookimpl
def on_dag_run_success(dag_run, msg: str) -> None:
    _finish(dag_run, succeeded=True, note=msg)


@hookimpl
def on_dag_run_failed(dag_run, msg: str) -> None:
    _finish(dag_run, succeeded=False, note=msg)


def _finish(dag_run, *, succeeded: bool, note: str) -> None:
    try:
        kwargs = _entry_kwargs(dag_run.dag_id)
        if kwargs is None:
            return
        oplog.ensure_run_entry(dag_run.dag_id, dag_run.run_id, **kwargs)  # a run that failed before it ran
        oplog.finish_run(dag_run.dag_id, dag_run.run_id, succeeded=succeeded, airflow_note=_note(note))
    except Exception:
        log.exception("integration log: could not close the row of %s %s", dag_run.dag_id, dag_run.run_id)


def _note(msg: str) -> str:
    # Airflow's messages are short codes such as "task_failure" or "timed_out".
    known = {"task_failure": "задача завершилась с ошибкой", "timed_out": "превышено время выполнения запуска",
             "success": "", "": ""}
    return known.get(msg, f"Airflow: {msg}")
