"""DAG factory: one DAG per enabled block of every organization, built from the hub database.

The DAG file only calls :func:`register_dags`. A bad block is logged and
skipped (``DOMILAND_STRICT_PARSE=1`` re-raises, for CI); an unreadable hub
database fails the whole parse, so Airflow never concludes that all DAGs
were deleted.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, get_parsing_context
from airflow.timetables.interval import CronDataIntervalTimetable

from domiland.airflow.operators import BlockExportOperator, BlockImportOperator
from domiland.airflow.pools import pool_name
from domiland.airflow.schedule import Schedule
from domiland.config import get_config
from domiland.exchange.blocks import BlockSpec, list_block_specs

log = logging.getLogger(__name__)

START_DATE = datetime(2024, 1, 1)
"""Backfills may reach back to here; ``catchup`` is off, so nothing runs by itself for the past."""


def register_dags(namespace: dict[str, Any]) -> list[str]:
    """Build the DAGs into ``namespace`` (a DAG file's ``globals()``); return their ids."""
    wanted = get_parsing_context().dag_id  # a task start needs only its own DAG
    built = []
    for spec in list_block_specs():
        if wanted and spec.dag_id != wanted:
            continue
        try:
            namespace[spec.dag_id] = build_dag(spec)
            built.append(spec.dag_id)
        except Exception:
            if get_config().strict_parse:
                raise
            log.exception("Skipped the DAG of %s block %s (organization %s): invalid settings",
                          spec.direction, spec.block_id, spec.org_code)
    return built


def build_dag(spec: BlockSpec) -> DAG:
    schedule = Schedule(*spec.schedule)
    cron = schedule.cron()
    tz = pendulum.timezone(spec.timezone)
    with DAG(
        dag_id=spec.dag_id,
        schedule=CronDataIntervalTimetable(cron, timezone=tz) if cron else None,
        start_date=pendulum.instance(START_DATE, tz=tz),
        catchup=False,
        max_active_runs=1,  # two runs of one block would race on the same files
        is_paused_upon_creation=False,
        tags=[f"org:{spec.org_code}", spec.direction, spec.data_type.value],
        doc_md=_doc(spec, schedule),
        description=f"{spec.title_ru} — {spec.org_name}",
        default_args={"retries": get_config().task_retries, "retry_delay": timedelta(minutes=5),
                      "retry_exponential_backoff": True, "owner": spec.org_code},
    ) as dag:
        operator = BlockImportOperator if spec.direction == "import" else BlockExportOperator
        operator(task_id=spec.task_type, block_id=spec.block_id,
                 pool=pool_name(spec.ftp_address) if spec.ftp_address else "default_pool")
    return dag


def _shown(path: str) -> str:
    """A path as the UI may show it: credentials in a feed URL are masked."""
    if "://" not in path:
        return path
    from domiland.transports.http import mask_url

    return mask_url(path)


def _doc(spec: BlockSpec, schedule: Schedule) -> str:
    if spec.direction == "import":
        paths = "".join(f"\n  * `{_shown(p)}`" for p in spec.path_list()) or " —"
        what = (f"* files:{paths}\n"
                f"* delete after reading: {'yes' if spec.delete_after_read else 'no'}\n")
    else:
        what = (f"* directory: `{spec.directory or '/'}` (FTP root when empty), "
                f"file name template `{spec.filename_template}`\n"
                f"* empty window: {'no file' if spec.skip_empty else 'an empty file'}\n")
    return (
        f"### {spec.title_ru} — {spec.org_name} (`{spec.org_code}`)\n\n"
        f"Generated from hub settings: **{spec.direction} block {spec.block_id}** "
        f"(updated {spec.updated_at:%Y-%m-%d %H:%M} UTC).\n\n"
        f"* data type: `{spec.data_type.value}`, method `{spec.method.value}`\n"
        f"{what}"
        f"* e-mail report: {spec.email or '—'}\n"
        f"* schedule: `{' '.join(spec.schedule)}` → {schedule.describe('ru')} / {schedule.describe('en')} "
        f"({spec.timezone})\n\n"
        "Edit the block in the hub settings, not here: this DAG is rebuilt from them."
    )
