"""The integration log (LOG-1..4): rows opened and closed from Airflow's run states, filled by the tasks.

Rows of Airflow runs are keyed by (dag_id, run_id), so the listener (scheduler
process) and the task (worker process) may reach the same row in either order.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domiland.db.engine import session_scope
from domiland.db.models import IntegrationLog, LogStatus, Method, utcnow
from domiland.exchange.report import ImportReport


def ensure_run_entry(dag_id: str, run_id: str, *, organization_id: int | None, task_type: str, title: str,
                     method: Method) -> int:
    """Open (or find) the Running row of one Airflow run; returns its id, the "task number" of LOG-2."""
    with session_scope() as session:
        found = session.scalar(select(IntegrationLog.id).where(IntegrationLog.dag_id == dag_id,
                                                                IntegrationLog.run_id == run_id))
        if found is not None:
            return found
    try:
        with session_scope() as session:
            row = IntegrationLog(organization_id=organization_id, status=LogStatus.RUNNING, task_type=task_type,
                                 task_title=title, method=method, message="", dag_id=dag_id, run_id=run_id)
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:  # the other process opened it first
        with session_scope() as session:
            return session.scalar(select(IntegrationLog.id).where(IntegrationLog.dag_id == dag_id,
                                                                   IntegrationLog.run_id == run_id))


def record_report(entry_id: int, report: ImportReport) -> None:
    """Store the task's report; the status is left to :func:`finish_run` unless the row already ended."""
    with session_scope() as session:
        row = session.get(IntegrationLog, entry_id)
        row.message = report.message()
        row.details = report.to_dict()
        if row.status != LogStatus.RUNNING:  # e.g. a retry after the run was closed
            row.status = report.status
        row.updated_at = utcnow()


def finish_run(dag_id: str, run_id: str, *, succeeded: bool, airflow_note: str = "") -> None:
    """Close a run's row from Airflow's final state (LOG-4): Done/Warning on success, Error otherwise."""
    with session_scope() as session:
        row = session.scalar(select(IntegrationLog).where(IntegrationLog.dag_id == dag_id,
                                                          IntegrationLog.run_id == run_id))
        if row is None:
            return
        reported = (row.details or {}).get("status")
        if succeeded:
            row.status = LogStatus.WARNING if reported == LogStatus.WARNING.value else LogStatus.DONE
            if not row.message:
                row.message = "Выполнено (задача не передала отчёт; запуск отмечен успешным в Airflow)."
        else:
            row.status = LogStatus.ERROR
            if reported != LogStatus.ERROR.value:
                reason = airflow_note or "запуск завершён Airflow с ошибкой (задача прервана или снята)"
                row.message = (f"Ошибка: {reason}.\n{row.message}" if row.message else f"Ошибка: {reason}.")
        row.updated_at = utcnow()
