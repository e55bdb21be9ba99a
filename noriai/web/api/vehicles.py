"""Vehicles: one vehicle, its position reports, a breakdown (its riders moved to other vehicles) and
its return to service. Operator and company keys, a company its own vehicles only."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from dispatch.booking import hhmm
from dispatch.domain import Principal
from dispatch.service import DispatchService
from geo import LatLon
from noriai.web.api.bodies import PositionIn
from noriai.web.auth import Auth
from noriai.web.inputs import Day
from noriai.web.schemas import BreakdownOut, RestoreOut, VehicleOut

__all__ = ["vehicles_router"]


def vehicles_router(svc: DispatchService, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["dispatch"])
    Any_ = Annotated[Principal, Depends(auth.any_key)]

    @router.get("/vehicles/{vehicle_id}", response_model=VehicleOut, response_model_exclude_unset=True)
    def vehicle(p: Any_, vehicle_id: str) -> dict[str, Any]:
        v = svc.vehicle(p, vehicle_id)
        return {
            "vehicle_id": v.vehicle_id,
            "company_id": v.company_id,
            "kind": v.kind.value,
            "plate": v.plate,
            "seats": v.seats,
            "wheelchair_places": v.wheelchair_places,
            "shift": [hhmm(v.shift.start_s), hhmm(v.shift.end_s)],
        }

    @router.post("/vehicles/{vehicle_id}/position", status_code=204)
    def position(p: Any_, vehicle_id: str, body: PositionIn) -> None:
        svc.report_position(p, vehicle_id, LatLon(body.lat, body.lon))

    @router.post(
        "/vehicles/{vehicle_id}/breakdown", response_model=BreakdownOut, response_model_exclude_unset=True
    )
    def breakdown(
        p: Any_, vehicle_id: str, service_date: Annotated[Day, Query(alias="date")]
    ) -> dict[str, Any]:
        return svc.vehicle_breakdown(p, vehicle_id, service_date)

    @router.post(
        "/vehicles/{vehicle_id}/restore", response_model=RestoreOut, response_model_exclude_unset=True
    )
    def restore(
        p: Any_, vehicle_id: str, service_date: Annotated[Day, Query(alias="date")]
    ) -> dict[str, Any]:
        """Back in service after a breakdown (a company on the service day, an operator on any day)."""
        return svc.restore_vehicle(p, vehicle_id, service_date)

    return router
