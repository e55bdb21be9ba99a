"""The airport shared taxi (スマート空港タクシー) over HTTP: the day's flights, rides to or from a flight
(operators), and an arrival delay that moves the pickups.

(No ``from __future__ import annotations``: FastAPI must see the dependency aliases as objects.)
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from dispatch.airport_booking import AirportBookings
from dispatch.booking import hhmm
from dispatch.domain import Principal
from noriai.web.api.bodies import EndpointIn
from noriai.web.api.views import booking_view
from noriai.web.inputs import Day


class AirportBookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rider_id: str = Field(max_length=20)
    flight: str = Field(max_length=10, description="e.g. NH694; its direction decides to or from the airport")
    service_date: Day
    other_end: EndpointIn = EndpointIn(kind="home")
    companions: int = Field(default=0, ge=0, le=8)


class DelayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service_date: Day
    delay_min: int = Field(ge=-60, le=720, description="minutes after the scheduled arrival")


def airport_router(air: AirportBookings, principal: Callable[..., Principal]) -> APIRouter:
    router = APIRouter(prefix="/api/v1/airport", tags=["airport"])
    Caller = Annotated[Principal, Depends(principal)]

    @router.get("/flights")
    def flights(service_date: Annotated[Day, Query(alias="date")]) -> dict[str, Any]:
        """The day's flights at the airport with their delays, the margins and the fixed fare (public)."""
        return {
            "airport_place_id": air.policy.airport_place_id,
            "fare_per_person_yen": air.policy.fare_per_person_yen,
            "checkin_margin_min": air.policy.checkin_margin_s // 60,
            "baggage_margin_min": air.policy.baggage_margin_s // 60,
            "note": air.timetable.note,
            "flights": [
                {
                    "flight": f.flight,
                    "direction": f.direction.value,
                    "scheduled": hhmm(f.scheduled_s),
                    "expected": hhmm(f.scheduled_s + delay),
                    "delay_min": delay // 60,
                    "other_airport": f.other_airport,
                }
                for f, delay in air.flights(service_date)
            ],
        }

    @router.post("/bookings", status_code=201)
    def book(
        p: Caller,
        body: AirportBookingIn,
        idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
    ) -> dict[str, Any]:
        b = air.book(
            p,
            body.rider_id,
            body.flight,
            body.service_date,
            body.other_end.to_domain(),
            companions=body.companions,
            idempotency_key=idempotency_key,
        )
        return booking_view(air.dispatch, b)

    @router.post("/flights/{flight}/delay")
    def delay(p: Caller, flight: str, body: DelayIn) -> list[dict[str, Any]]:
        """Record an arrival delay; every pickup for that flight not yet made is re-booked and returned
        with the sentence to tell the rider."""
        moved = air.delay(p, flight, body.service_date, body.delay_min * 60)
        return [
            {
                "old_booking_id": m.old_booking_id,
                "booking": booking_view(air.dispatch, m.booking),
                "tell_rider": m.read_back,
            }
            for m in moved
        ]

    return router
