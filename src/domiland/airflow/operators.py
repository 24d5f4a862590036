"""Airflow operators of the hub: thin shells over the exchange use cases.

Scheduled runs, "Run now" and backfills all go through :class:`BlockImportOperator`.
"""
from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from domiland.exchange import oplog
from domiland.exchange.blocks import get_block_spec
from domiland.exchange.imports import import_block
from domiland.exchange.report import ImportReport


class BlockImportOperator(BaseOperator):
    """Import one block's data now and store the report in the integration log.

    A data or settings error fails the task without retries (the same input
    would fail again); a transport error fails it so that Airflow's retries
    (``DOMILAND_TASK_RETRIES``) try again later.

    :param block_id: id of the import block in the hub database.
    """

    ui_color = "#e8f4fd"

    def __init__(self, *, block_id: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block_id = block_id

    def execute(self, context: Any) -> dict:
        spec = get_block_spec(self.block_id)
        dag_run = context["dag_run"]
        entry_id = oplog.ensure_run_entry(dag_run.dag_id, dag_run.run_id, organization_id=spec.organization_id,
                                          task_type=spec.task_type, title=spec.title_ru, method=spec.method)
        try:
            report = import_block(self.block_id, logical_date=context.get("logical_date"))
        except Exception as exc:  # a bug or a database outage: still leave a readable log row
            report = ImportReport()
            report.fail(f"внутренняя ошибка импорта: {exc.__class__.__name__}: {exc}", "internal")
            oplog.record_report(entry_id, report)
            raise
        oplog.record_report(entry_id, report)
        self.log.info("%s %s: %s", spec.title_ru, entry_id, report.message())
        if report.error:
            if report.error_kind in ("data", "settings"):
                raise AirflowFailException(report.error)
            raise AirflowException(report.error)
        return {"log_entry_id": entry_id, **report.to_dict()}
