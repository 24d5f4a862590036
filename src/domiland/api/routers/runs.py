"""Run now (IMP-4, EXP-6): a manual run of a block's DAG through Airflow, with its operations-log row.

Scheduled runs, this and backfills all run the same operator. Staff and the organization's own
partner key may start runs. The run is queued in Airflow; its progress is in the operations log
(``log_entry_id``) and in the Airflow UI (``airflow_url``).
"""
from __future__ import annotations

from fastapi import APIRouter, status

from domiland.api import schemas as s
from domiland.api import settings_service as service
from domiland.api.settings_service import EXPORT, IMPORT, BlockId, OrgId, OrgPrincipal

router = APIRouter(prefix="/organizations/{org_id}", tags=["runs"], route_class=service.SettingsRoute)

_ERRORS = s.responses(404, 409, 422)


@router.post("/import-blocks/{block_id}/run", response_model=s.RunStarted, status_code=status.HTTP_202_ACCEPTED,
             operation_id="runImportBlock", summary="Run an import block now", responses=_ERRORS)
def run_import_block(org_id: OrgId, block_id: BlockId, principal: OrgPrincipal):
    """Staff, or the organization's own key. 409 when the block is disabled or its DAG is not in Airflow yet
    (it appears within a minute after a save)."""
    return service.run_block(IMPORT, org_id, block_id, principal.name)


@router.post("/export-blocks/{block_id}/run", response_model=s.RunStarted, status_code=status.HTTP_202_ACCEPTED,
             operation_id="runExportBlock", summary="Run an export block now", responses=_ERRORS)
def run_export_block(org_id: OrgId, block_id: BlockId, principal: OrgPrincipal):
    """Staff, or the organization's own key. 409 when the block is disabled or its DAG is not in Airflow yet
    (it appears within a minute after a save)."""
    return service.run_block(EXPORT, org_id, block_id, principal.name)
