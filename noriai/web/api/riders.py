"""Riders as the operator looks them up: search by name, kana or phone, and one rider (a company key
sees only riders on its own runs, without home, address or certificates). Registering and editing
riders is ``noriai.web.riders_api``."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from dispatch.domain import Principal
from dispatch.service import DispatchService
from noriai.web.api.views import rider_view
from noriai.web.auth import Auth
from noriai.web.schemas import RiderOut

__all__ = ["riders_lookup_router"]


def riders_lookup_router(svc: DispatchService, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["dispatch"])
    Any_ = Annotated[Principal, Depends(auth.any_key)]
    Op = Annotated[Principal, Depends(auth.operator)]

    @router.get("/riders", response_model=list[RiderOut], response_model_exclude_unset=True)
    def search_riders(p: Op, q: Annotated[str, Query(min_length=1, max_length=50)]) -> list[dict[str, Any]]:
        return [rider_view(r, full=True) for r in svc.search_riders(q)]

    @router.get("/riders/{rider_id}", response_model=RiderOut, response_model_exclude_unset=True)
    def get_rider(p: Any_, rider_id: str) -> dict[str, Any]:
        return rider_view(svc.rider_for(p, rider_id), full=p.role == "operator")

    return router
