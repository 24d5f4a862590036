"""FTP settings of an organization (FTP-1) and "Test connection" (FTP-2).

Staff and the organization's own partner key may read, replace and test them. The password is
write-only: answers carry ``password_set`` instead, and 422s never echo submitted values.
"""
from __future__ import annotations

from fastapi import APIRouter

from domiland.api import schemas as s
from domiland.api import settings_service as service
from domiland.api.settings_service import OrgId, OrgPrincipal

router = APIRouter(prefix="/organizations/{org_id}/ftp", tags=["ftp"], route_class=service.SettingsRoute)


@router.get("", response_model=s.FtpSettingsPublic, operation_id="getFtpSettings",
            summary="The organization's FTP settings (without the password)", responses=s.responses(404, 422))
def get_ftp_settings(org_id: OrgId, principal: OrgPrincipal):
    """Staff, or the organization's own key. ``password_set`` tells whether a password is stored."""
    return service.get_ftp(org_id)


@router.put("", response_model=s.FtpSettingsPublic, operation_id="putFtpSettings",
            summary="Save the organization's FTP settings (omit password to keep it)",
            responses=s.responses(404, 422))
def put_ftp_settings(org_id: OrgId, body: s.FtpSettingsUpdate, principal: OrgPrincipal):
    """Staff, or the organization's own key. Creates the server's Airflow pool when it is missing."""
    return service.put_ftp(org_id, body)


@router.post("/test", response_model=s.FtpTestResult, response_model_exclude_none=True,
             operation_id="testFtpConnection", summary="Connect, log in and enter the root directory: OK or why not",
             responses=s.responses(404, 422), openapi_extra={"x-domiland-outbound": True})
async def test_ftp_connection(org_id: OrgId, principal: OrgPrincipal):
    """Staff, or the organization's own key. Answers 200 either way: ``{"status": "OK"}`` or
    ``{"status": "error", "kind": ..., "reason": ...}``; each step is bounded by DOMILAND_FTP_TEST_TIMEOUT (10 s)."""
    return await service.check_ftp_connection_bounded(org_id)
