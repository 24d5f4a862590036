"""Organizations: staff list, create and edit them; a partner key sees only its own."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from domiland.api import schemas as s
from domiland.api import settings_service as service
from domiland.api.deps import PrincipalDep
from domiland.api.settings_service import OrgId, OrgPrincipal, StaffOrgPrincipal, StaffPrincipal

router = APIRouter(prefix="/organizations", tags=["organizations"], route_class=service.SettingsRoute)


@router.get("", response_model=s.ListOf[s.OrganizationPublic], operation_id="listOrganizations",
            summary="List organizations (a partner key: only its own)", responses=s.responses(422))
def list_organizations(principal: PrincipalDep,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                       offset: Annotated[int, Query(ge=0, le=s.MAX_ID)] = 0):
    """Staff: all, by code. A partner key: its own organization only."""
    return service.list_organizations(None if principal.is_staff else principal.organization_id, limit, offset)


@router.post("", response_model=s.OrganizationPublic, status_code=status.HTTP_201_CREATED,
             operation_id="createOrganization", summary="Create an organization (staff)",
             responses=s.responses(403, 409, 422))
def create_organization(body: s.OrganizationCreate, principal: StaffPrincipal):
    """Staff only (a partner key: 403). The code must be unique (409) and cannot be changed later."""
    return service.create_organization(body)


@router.get("/{org_id}", response_model=s.OrganizationPublic, operation_id="getOrganization",
            summary="One organization", responses=s.responses(404, 422))
def get_organization(org_id: OrgId, principal: OrgPrincipal):
    """Staff: any. A partner key: its own (another organization: 404)."""
    return service.get_organization(org_id)


@router.patch("/{org_id}", response_model=s.OrganizationPublic, operation_id="updateOrganization",
              summary="Change an organization's name, kind or time zone (staff)",
              responses=s.responses(403, 404, 422))
def update_organization(org_id: OrgId, body: s.OrganizationUpdate, principal: StaffOrgPrincipal):
    """Staff only (a partner key: 403 for its own, 404 for another). Only the fields sent change."""
    return service.update_organization(org_id, body)
