"""Airflow operators of the hub: thin shells over the exchange use cases.

Scheduled runs, "Run now" and backfills all go through these operators; each
translates Airflow's context into arguments, calls one use case, stores the
report in the integration log, e-mails it (MAIL-1) and fails the task when the
report has an error.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from domiland.exchange import oplog
from domiland.exchange.blocks import BlockSpec, get_block_spec, get_export_spec
from domiland.exchange.exports import export_block
from domiland.exchange.imports import import_block
from domiland.exchange.notify import send_report
from domiland.exchange.report import ExportReport, ImportReport, Report

NOT_RETRIED = ("data", "settings")
"""Error kinds that fail the task without retries: the same input or settings would fail again."""


class _BlockOperator(BaseOperator):
    """The steps every block run shares; subclasses say how to load the spec and run the use case.

    :param block_id: id of the block in the hub database.
    """

    def __init__(self, *, block_id: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block_id = block_id

    noun_genitive = "операции"
    """For the crash message, e.g. "внутренняя ошибка импорта"."""

    def load_spec(self) -> BlockSpec:
        raise NotImplementedError

    def run(self, spec: BlockSpec, context: Any) -> Report:
        raise NotImplementedError

    def empty_report(self) -> Report:
        raise NotImplementedError

    def execute(self, context: Any) -> dict:
        spec = self.load_spec()
        dag_run = context["dag_run"]
        entry_id = oplog.ensure_run_entry(dag_run.dag_id, dag_run.run_id, organization_id=spec.organization_id,
                                          task_type=spec.task_type, title=spec.title_ru, method=spec.method)
        crash: Exception | None = None
        try:
            report = self.run(spec, context)
        except Exception as exc:  # a bug or a database outage: still leave a readable log row
            crash, report = exc, self.empty_report()
            report.fail(f"внутренняя ошибка {self.noun_genitive}: {exc.__class__.__name__}: {exc}", "internal")
        oplog.record_report(entry_id, report)
        self.log.info("%s %s: %s", spec.title_ru, entry_id, report.message())
        ti = context.get("ti")
        will_retry = (report.error_kind not in (None, *NOT_RETRIED)  # Airflow retries the other failures
                      and ti is not None and ti.try_number <= ti.max_tries)
        if not will_retry:  # MAIL-1: one e-mail per run, after its last try; never raises (MAIL-2)
            send_report(spec, report, log_entry_id=entry_id, airflow_url=getattr(ti, "log_url", None))
        if crash is not None:
            raise crash
        if report.error:
            if report.error_kind in NOT_RETRIED:
                raise AirflowFailException(report.error)
            raise AirflowException(report.error)
        return {"log_entry_id": entry_id, **report.to_dict()}


class BlockImportOperator(_BlockOperator):
    """Import one block's files or feed now (paths dated by the run's logical date)."""

    ui_color = "#e8f4fd"
    noun_genitive = "импорта"

    def load_spec(self) -> BlockSpec:
        return get_block_spec(self.block_id)

    def run(self, spec: BlockSpec, context: Any) -> ImportReport:
        return import_block(self.block_id, logical_date=context.get("logical_date"))

    def empty_report(self) -> ImportReport:
        return ImportReport()


def window_kind(run_type: str, start: datetime | None, end: datetime | None) -> tuple[str, tuple | None]:
    """How an Airflow run chooses its export window (see ``exchange.windows``).

    Scheduled and backfill runs export their data interval. Every other run —
    "Run now", a trigger from the UI or API, with or without a logical date (Airflow
    3.3 gives such runs a zero-length interval) — exports since the last window.
    """
    if run_type in ("scheduled", "backfill") and start and end and start < end:
        return run_type, (start, end)
    return "manual", None


class BlockExportOperator(_BlockOperator):
    """Export one window of one block's records to its FTP directory (EXP-4..6)."""

    ui_color = "#eef8e8"
    noun_genitive = "экспорта"

    def load_spec(self) -> BlockSpec:
        return get_export_spec(self.block_id)

    def run(self, spec: BlockSpec, context: Any) -> ExportReport:
        dag_run = context["dag_run"]
        run_type = getattr(dag_run.run_type, "value", dag_run.run_type)
        kind, interval = window_kind(str(run_type), context.get("data_interval_start"),
                                     context.get("data_interval_end"))
        return export_block(self.block_id, kind=kind, interval=interval, dag_id=dag_run.dag_id,
                            run_id=dag_run.run_id)

    def empty_report(self) -> ExportReport:
        return ExportReport()
