"""A vehicle's run for a day (ordered stops, riders, windows, live ETAs): operator and company keys,
a company its own vehicles only."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from dispatch.domain import Principal
from dispatch.service import DispatchService
from noriai.web.auth import Auth
from noriai.web.inputs import Day
from noriai.web.schemas import RunOut

__all__ = ["runs_router"]


def runs_router(svc: DispatchService, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["dispatch"])
    Any_ = Annotated[Principal, Depends(auth.any_key)]

    @router.get("/runs", response_model=list[RunOut], response_model_exclude_unset=True)
    def runs(p: Any_, service_date: Annotated[Day, Query(alias="date")]) -> list[dict[str, Any]]:
        return svc.runs(p, service_date)

    @router.get("/runs/{vehicle_id}", response_model=RunOut, response_model_exclude_unset=True)
    def run(p: Any_, vehicle_id: str, service_date: Annotated[Day, Query(alias="date")]) -> dict[str, Any]:
        return svc.runs(p, service_date, vehicle_id)[0]

    return router
