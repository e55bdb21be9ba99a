"""A service day as a whole (operator keys): book its recurring rides, re-optimise its plans, audit
them independently, and its trips for reuse without personal data."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from dispatch.domain import Principal
from dispatch.service import DispatchService
from noriai.web.auth import Auth
from noriai.web.inputs import Day
from noriai.web.schemas import CheckOut, MaterialisedOut, ReoptimiseOut, TripOut

__all__ = ["days_router"]


def days_router(svc: DispatchService, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["dispatch"])
    Op = Annotated[Principal, Depends(auth.operator)]

    @router.post(
        "/days/{service_date}/materialise",
        response_model=list[MaterialisedOut],
        response_model_exclude_unset=True,
    )
    def materialise(p: Op, service_date: Day) -> list[dict[str, Any]]:
        return svc.materialise(service_date)

    @router.post(
        "/days/{service_date}/reoptimise", response_model=ReoptimiseOut, response_model_exclude_unset=True
    )
    def reoptimise_day(
        p: Op, service_date: Day, time_limit_s: Annotated[float, Query(gt=0, le=60)] = 5.0
    ) -> dict[str, Any]:
        return svc.reoptimise_day(service_date, time_limit_s=time_limit_s)

    @router.get("/days/{service_date}/check", response_model=CheckOut, response_model_exclude_unset=True)
    def check_day(p: Op, service_date: Day) -> dict[str, Any]:
        """Independent audit of the day's plans (capacity, windows, ride times, one plan per booking)."""
        problems = svc.check_day(service_date)
        return {"ok": not problems, "problems": problems}

    @router.get("/analytics/trips", response_model=list[TripOut], response_model_exclude_unset=True)
    def reusable_trips(p: Op, service_date: Annotated[Day, Query(alias="date")]) -> list[dict[str, Any]]:
        """The day's trips of riders who opted in to data reuse, without personal data (H3 cells)."""
        return svc.reusable_trips(service_date)

    return router
