"""``GET /api/v1/whoami``: the role and label of the caller's key."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from dispatch.domain import Principal
from noriai.web.auth import Auth
from noriai.web.schemas import WhoAmIOut

__all__ = ["whoami_router"]


def whoami_router(auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["dispatch"])
    Any_ = Annotated[Principal, Depends(auth.any_key)]

    @router.get("/whoami", response_model=WhoAmIOut, response_model_exclude_unset=True)
    def whoami(p: Any_) -> dict[str, Any]:
        return {"role": p.role, "label": p.label, "company_id": p.company_id}

    return router
