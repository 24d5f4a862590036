"""The export operator: a thin shell over ``exchange.exports.export_block`` (EXP-4..6)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from domiland.exchange import oplog
from domiland.exchange.blocks import get_export_spec
from domiland.exchange.exports import ExportReport, export_block

def window_kind(run_type: str, start: datetime | None, end: datetime | None) -> tuple[str, tuple | None]:
    """How an Airflow run chooses its export window (see ``exchange.windows``).

    Scheduled and backfill runs export their data interval. Every other run —
    "Run now", a trigger from the UI or API, with or without a logical date (Airflow
    3.3 gives such runs a zero-length interval) — exports since the last window.
    """
    if run_type in ("scheduled", "backfill") and start and end and start < end:
        return run_type, (start, end)
    return "manual", None


class BlockExportOperator(BaseOperator):
    """Export one window of one block's records to its FTP directory and log the report.

    :param block_id: id of the export block in the hub database.
    """

    ui_color = "#eef8e8"

    def __init__(self, *, block_id: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block_id = block_id

    def execute(self, context: Any) -> dict:
        spec = get_export_spec(self.block_id)
        dag_run = context["dag_run"]
        entry_id = oplog.ensure_run_entry(dag_run.dag_id, dag_run.run_id, organization_id=spec.organization_id,
                                          task_type=spec.task_type, title=spec.title_ru, method=spec.method)
        run_type = getattr(dag_run.run_type, "value", dag_run.run_type)
        kind, interval = window_kind(str(run_type), context.get("data_interval_start"),
                                     context.get("data_interval_end"))
        try:
            report = export_block(self.block_id, kind=kind, interval=interval, dag_id=dag_run.dag_id,
                                  run_id=dag_run.run_id)
        except Exception as exc:
            report = ExportReport()
            report.fail(f"внутренняя ошибка экспорта: {exc.__class__.__name__}: {exc}", "internal")
            oplog.record_report(entry_id, report)
            raise
        oplog.record_report(entry_id, report)
        self.log.info("%s %s: %s", spec.title_ru, entry_id, report.message())
        if report.error:
            if report.error_kind == "settings":
                raise AirflowFailException(report.error)
            raise AirflowException(report.error)
        return {"log_entry_id": entry_id, **report.to_dict()}
