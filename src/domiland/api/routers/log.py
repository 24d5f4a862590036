"""The integration log (LOG-5): search and detail, for staff and for partner keys (their organization only).

Also mounts the log page of the Airflow UI (:mod:`domiland.api.ui`), which calls these routes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, Field

from domiland.api import log_query
from domiland.api.deps import PrincipalDep, require_org
from domiland.api.ui import router as ui_router
from domiland.db.engine import session_scope
from domiland.db.models import IntegrationLog, LogStatus, Method
from domiland.exchange.blocks import TITLES_RU

api = APIRouter(prefix="/log", tags=["log"])


class LogEntryPublic(BaseModel):
    id: int
    task: str = Field(description='Type name and number, e.g. "Импорт начислений 42" (LOG-2).')
    task_type: str = Field(description="Machine name, e.g. import_accruals.")
    task_title: str
    status: LogStatus
    method: Method
    message: str
    organization_id: int | None
    organization_code: str | None
    dag_id: str | None
    run_id: str | None
    airflow_url: str | None = Field(description="The run in the Airflow UI: {[api] base_url}/dags/{dag_id}/runs/{run_id}.")
    created_at: datetime
    updated_at: datetime


class LogEntryDetail(LogEntryPublic):
    details: dict[str, Any] | None = Field(description="The task's report: counts, warnings, the first error.")


class LogList(BaseModel):
    data: list[LogEntryPublic]
    count: int | None = Field(description="Rows matching the filters on all pages; null when with_count=false.")
    count_exact: bool = Field(description=f"False when more than {log_query.COUNT_CAP:,} rows match: "
                                          "count is then that cap, a lower bound.")
    next_cursor: str | None = Field(description="Pass as cursor for the next (older) page; null on the last page.")


class TaskType(BaseModel):
    task_type: str
    title: str


def _airflow_base_url() -> str:
    try:
        from airflow.configuration import conf

        return conf.get("api", "base_url", fallback="") or ""
    except Exception:  # noqa: BLE001 - outside Airflow: relative links
        return ""


def _public(row: IntegrationLog, codes: dict[int, str], base_url: str) -> dict[str, Any]:
    return {
        "id": row.id, "task": row.task, "task_type": row.task_type, "task_title": row.task_title,
        "status": row.status, "method": row.method, "message": row.message,
        "organization_id": row.organization_id, "organization_code": codes.get(row.organization_id),
        "dag_id": row.dag_id, "run_id": row.run_id,
        "airflow_url": log_query.airflow_run_url(base_url, row.dag_id, row.run_id),
        "created_at": log_query.as_utc(row.created_at), "updated_at": log_query.as_utc(row.updated_at),
    }


def _bad_request(exc: log_query.LogQueryError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc))


@api.get("", response_model=LogList, summary="Search the integration log (newest first)")
def search_log(
    principal: PrincipalDep,
    q: Annotated[str | None, Query(description="Case-insensitive substring of the message: at most 200 characters, "
                                               "with 3 letters or digits in a row; % and _ match themselves.")] = None,
    created_from: Annotated[str | None, Query(description="UTC. ISO date (2026-11-01: from its start) or "
                                                          "date-time (2026-11-01T08:00:00Z), inclusive.")] = None,
    created_to: Annotated[str | None, Query(description="UTC. ISO date (2026-11-03: to its end) or date-time, "
                                                        "inclusive.")] = None,
    status_: Annotated[list[str], Query(alias="status", description="Running, Done, Error, Warning, Duplicate; "
                                                                    "repeat or separate by commas.")] = [],  # noqa: B006
    task_type: Annotated[list[str], Query(description="e.g. import_accruals; repeat or separate by commas.")] = [],  # noqa: B006
    method: Annotated[list[str], Query(description="XML or URL.")] = [],  # noqa: B006
    organization_id: Annotated[int | None, Query(description="Staff: one organization. Partner keys always "
                                                             "see only their own.")] = None,
    limit: Annotated[int, Query(ge=1, le=log_query.MAX_LIMIT)] = log_query.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    with_count: Annotated[bool, Query(description="Also count the matching rows (capped).")] = True,
) -> LogList:
    if organization_id is not None:
        require_org(principal, organization_id)
    if not principal.is_staff:
        organization_id = principal.organization_id
    try:
        f = log_query.make_filter(q=q, created_from=created_from, created_to=created_to, status=status_,
                                  task_type=task_type, method=method, organization_id=organization_id)
        with session_scope() as session:
            page = log_query.search(session, f, limit=limit, cursor=cursor, with_count=with_count)
            base_url = _airflow_base_url()
            data = [_public(row, page.organization_codes, base_url) for row in page.rows]
    except log_query.LogQueryError as exc:
        raise _bad_request(exc) from exc
    return LogList(data=data, count=page.count, count_exact=page.count_exact, next_cursor=page.next_cursor)


@api.get("/task-types", response_model=list[TaskType], summary="The task types the hub writes to the log")
def task_types(principal: PrincipalDep) -> list[TaskType]:
    from domiland.exchange.api_import import task_types as api_task_types

    return [TaskType(task_type=f"{direction}_{data_type.value}", title=title)
            for (direction, data_type), title in TITLES_RU.items()] + [
        TaskType(task_type=task_type, title=title) for task_type, title in api_task_types()]


@api.get("/{entry_id}", response_model=LogEntryDetail, summary="One log row with its report and Airflow run",
            responses={404: {"description": "No such row, or it belongs to another organization"}})
def get_log_entry(principal: PrincipalDep, entry_id: Annotated[int, Path(ge=1)]) -> LogEntryDetail:
    with session_scope() as session:
        row = log_query.get_entry(session, entry_id,
                                  organization_id=None if principal.is_staff else principal.organization_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Log entry {entry_id} not found")
        codes = log_query.organization_codes(session, [row.organization_id])
        return LogEntryDetail(**_public(row, codes, _airflow_base_url()), details=row.details)


router = APIRouter()
router.include_router(api)
router.include_router(ui_router)
