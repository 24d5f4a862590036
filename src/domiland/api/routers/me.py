"""Who am I: lets a partner check its key and staff their session."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from domiland.api.deps import PrincipalDep

router = APIRouter(tags=["auth"])


class Me(BaseModel):
    kind: str
    name: str
    organization_id: int | None


@router.get("/me", response_model=Me, summary="The authenticated caller")
def me(principal: PrincipalDep) -> Me:
    return Me(kind=principal.kind, name=principal.name, organization_id=principal.organization_id)
