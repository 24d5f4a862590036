"""Import and export blocks of an organization: one resource per direction, each a DAG in Airflow.

``/organizations/{org_id}/import-blocks`` and ``/export-blocks`` (two resources rather than one
``/blocks`` with a direction: their fields differ, and so do their schemas). Staff and the
organization's own partner key may manage them. Saving enabled makes the DAG appear with the next
parse (within a minute) and unpauses it if Airflow already knows it; disabling or deleting makes
it disappear and pauses it.
"""
from __future__ import annotations

from fastapi import APIRouter, Response, status

from domiland.api import schemas as s
from domiland.api import settings_service as service
from domiland.api.settings_service import EXPORT, IMPORT, BlockId, OrgId, OrgPrincipal

router = APIRouter(prefix="/organizations/{org_id}", tags=["blocks"], route_class=service.SettingsRoute)

_ERRORS = s.responses(404, 422)
_SAVE_ERRORS = s.responses(404, 409, 422)


@router.get("/import-blocks", response_model=s.ListOf[s.ImportBlockPublic], operation_id="listImportBlocks",
            summary="The organization's import blocks", responses=_ERRORS)
def list_import_blocks(org_id: OrgId, principal: OrgPrincipal):
    """Staff, or the organization's own key (another organization: 404)."""
    return service.list_blocks(IMPORT, org_id)


@router.post("/import-blocks", response_model=s.ImportBlockPublic, status_code=status.HTTP_201_CREATED,
             operation_id="createImportBlock", summary="Create an import block (one per data type)",
             responses=_SAVE_ERRORS)
def create_import_block(org_id: OrgId, body: s.ImportBlockCreate, principal: OrgPrincipal):
    """Staff, or the organization's own key (another organization: 404)."""
    return service.create_block(IMPORT, org_id, body)


@router.get("/import-blocks/{block_id}", response_model=s.ImportBlockPublic, operation_id="getImportBlock",
            summary="One import block", responses=_ERRORS)
def get_import_block(org_id: OrgId, block_id: BlockId, principal: OrgPrincipal):
    """Staff, or the organization's own key (another organization: 404)."""
    return service.get_block(IMPORT, org_id, block_id)


@router.patch("/import-blocks/{block_id}", response_model=s.ImportBlockPublic, operation_id="updateImportBlock",
              summary="Change an import block (e.g. enabled, schedule, paths)", responses=_ERRORS)
def update_import_block(org_id: OrgId, block_id: BlockId, body: s.ImportBlockUpdate, principal: OrgPrincipal):
    """Staff, or the organization's own key (another organization: 404)."""
    return service.update_block(IMPORT, org_id, block_id, body)


@router.delete("/import-blocks/{block_id}", status_code=status.HTTP_204_NO_CONTENT,
               operation_id="deleteImportBlock", summary="Delete an import block (its DAG disappears)",
               responses=_ERRORS, response_class=Response)
def delete_import_block(org_id: OrgId, block_id: BlockId, principal: OrgPrincipal) -> Response:
    """Staff, or the organization's own key (another organization: 404)."""
    service.delete_block(IMPORT, org_id, block_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/export-blocks", response_model=s.ListOf[s.ExportBlockPublic], operation_id="listExportBlocks",
            summary="The organization's export blocks", responses=_ERRORS)
def list_export_blocks(org_id: OrgId, principal: OrgPrincipal):
    """Staff, or the organization's own key (another organization: 404)."""
    return service.list_blocks(EXPORT, org_id)


@router.post("/export-blocks", response_model=s.ExportBlockPublic, status_code=status.HTTP_201_CREATED,
             operation_id="createExportBlock", summary="Create an export block (one per data type)",
             responses=_SAVE_ERRORS)
def create_export_block(org_id: OrgId, body: s.ExportBlockCreate, principal: OrgPrincipal):
    """Staff, or the organization's own key (another organization: 404)."""
    return service.create_block(EXPORT, org_id, body)


@router.get("/export-blocks/{block_id}", response_model=s.ExportBlockPublic, operation_id="getExportBlock",
            summary="One export block", responses=_ERRORS)
def get_export_block(org_id: OrgId, block_id: BlockId, principal: OrgPrincipal):
    """Staff, or the organization's own key (another organization: 404)."""
    return service.get_block(EXPORT, org_id, block_id)


@router.patch("/export-blocks/{block_id}", response_model=s.ExportBlockPublic, operation_id="updateExportBlock",
              summary="Change an export block (e.g. enabled, schedule, file name template)", responses=_ERRORS)
def update_export_block(org_id: OrgId, block_id: BlockId, body: s.ExportBlockUpdate, principal: OrgPrincipal):
    """Staff, or the organization's own key (another organization: 404)."""
    return service.update_block(EXPORT, org_id, block_id, body)


@router.delete("/export-blocks/{block_id}", status_code=status.HTTP_204_NO_CONTENT,
               operation_id="deleteExportBlock", summary="Delete an export block (its DAG disappears)",
               responses=_ERRORS, response_class=Response)
def delete_export_block(org_id: OrgId, block_id: BlockId, principal: OrgPrincipal) -> Response:
    """Staff, or the organization's own key (another organization: 404)."""
    service.delete_block(EXPORT, org_id, block_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
