"""Who is calling, and may they touch this organization? Every route depends on :data:`PrincipalDep`.

Airflow does not authenticate plugin apps, so we do it here:

* staff: Airflow's own JWT (``Authorization: Bearer <jwt>`` from ``/auth/token``, or the UI's
  cookie), validated by Airflow's ``get_user`` — the same check ``/api/v2`` uses;
* partner systems: an organization's API key, ``X-API-Key: dml_…`` (or ``Authorization: Bearer dml_…``).

A partner key sees only its own organization; asking for another one answers 404,
so keys cannot probe which organizations exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from domiland.api.keys import PREFIX, verify_key


@dataclass(frozen=True)
class Principal:
    kind: str  # "staff" | "partner"
    name: str
    organization_id: int | None = None
    """Set for partners: the only organization they may see."""

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    def can_access(self, organization_id: int) -> bool:
        return self.is_staff or self.organization_id == organization_id


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


async def get_principal(request: Request) -> Principal:
    key = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer ") and auth[7:].strip().startswith(PREFIX):
        key = auth[7:].strip()
    if key:
        organization_id = verify_key(key)
        if organization_id is None:
            raise _unauthorized("Unknown or revoked API key")
        return Principal("partner", f"api-key:{key[len(PREFIX):].split('_', 1)[0]}", organization_id)
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.security import HTTPAuthorizationCredentials

    credentials = None
    if auth.lower().startswith("bearer "):
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=auth[7:].strip())
    try:
        user = await get_user(request, None, credentials)
    except HTTPException as exc:
        if exc.status_code in (401, 403):
            raise _unauthorized("Sign in to Airflow (a JWT from /auth/token) or send an organization's API key")
        raise
    return Principal("staff", user.get_name())


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_org(principal: Principal, organization_id: int) -> None:
    """404 for an organization the caller may not see (the same answer as for one that does not exist)."""
    if not principal.can_access(organization_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Organization {organization_id} not found")


def require_staff(principal: Principal) -> None:
    if not principal.is_staff:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Only Domiland staff may do this")
