"""The airport shared taxi (スマート空港タクシー) in the trip planner: a trip between the city and the
airport place offers the day's flights in the right direction with the fixed fare per person, and the
rider books a ride to or from one flight themself (``dispatch.airport_booking.AirportBookings``).

(No ``from __future__ import annotations``: FastAPI reads the body model's annotations at runtime.)
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from dispatch.airport import FlightDirection
from dispatch.airport_booking import AirportBookings, GuestAirportRequest
from dispatch.booking import BookingStatus, hhmm
from dispatch.errors import Invalid
from dispatch.presentation import booking_number
from dispatch.service import DispatchService
from geo import LatLon
from noriai.web.guard import client_address, error_responses
from noriai.web.guest_guard import GuestGuard
from noriai.web.inputs import PHONE_PATTERN, PLACE_OR_POINT_PATTERN, Day, Label


class AirportGuestBookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label = Field(min_length=1, max_length=60)
    phone: str = Field(min_length=10, max_length=20, pattern=PHONE_PATTERN)
    flight: str = Field(
        pattern=r"^[A-Za-z0-9 ]{3,10}$", description="e.g. NH694, from the plan's airport offer"
    )
    date: Day
    other: str = Field(
        description="the city end: place_id or lat,lon (where to be picked up / dropped off)",
        pattern=PLACE_OR_POINT_PATTERN,
    )
    other_label: Label = Field(default="", max_length=100)
    airport_label: Label = Field(default="", max_length=100)
    seats: int = Field(default=1, ge=1, le=8)
    wheelchair: bool = False
    consent_data_reuse: bool = False
    code: str | None = Field(
        default=None, pattern=r"^[0-9]{6}$", description="the code sent to the phone (when codes are on)"
    )


def airport_offer(
    air: AirportBookings,
    origin_place: str | None,
    destination_place: str | None,
    day: date,
    time_s: int,
    seats: int,
    now: datetime,
) -> dict[str, Any] | None:
    """The airport shared taxi for a planner trip whose one end is the airport place, else None: the
    day's departures (to the airport) or arrivals (from it), each with the time the ride is timed to
    (at the airport by / picked up from), whether it can still be booked, and the fixed fare."""
    airport = air.policy.airport_place_id
    if (origin_place == airport) == (destination_place == airport):
        return None
    direction = FlightDirection.DEPARTURE if destination_place == airport else FlightDirection.ARRIVAL
    svc = air.dispatch
    place = svc.places[airport]
    flights: list[dict[str, Any]] = []
    for f, delay_s in air.flights(day):
        if f.direction is not direction:
            continue
        ride_s = air.ride_time_s(f, day)
        flights.append(
            {
                "flight": f.flight,
                "scheduled": hhmm(f.scheduled_s),
                "expected": hhmm(f.scheduled_s + delay_s),
                "delay_min": delay_s // 60,
                "other_airport": f.other_airport,
                "ride_time": hhmm(ride_s),
                "ride_time_s": ride_s,
                "bookable": svc.wall_clock(day, ride_s) > now,
            }
        )
    open_ = [f for f in flights if f["bookable"]]
    suggested = next((f for f in open_ if f["ride_time_s"] >= time_s), open_[-1] if open_ else None)
    each = air.policy.fare_per_person_yen
    return {
        "place_id": airport,
        "name": place.name,
        "name_en": place.name_en,
        "direction": direction.value,  # departure: to the airport; arrival: from it
        "date": day.isoformat(),
        "fare_per_person_yen": each,
        "seats": seats,
        "fare_yen": each * seats,
        "checkin_margin_min": air.policy.checkin_margin_s // 60,
        "baggage_margin_min": air.policy.baggage_margin_s // 60,
        "note": air.timetable.note,
        "flights": flights,
        "suggested": suggested["flight"] if suggested else None,
    }


def add_airport_routes(
    r: APIRouter,
    svc: DispatchService,
    air: AirportBookings,
    guard: GuestGuard,
    cancel_token: Callable[[str], str],
) -> None:
    @r.post(
        "/api/v1/plan/airport-bookings",
        tags=["planner"],
        status_code=201,
        responses=error_responses(404, 409, 422, 429),
    )
    def book_airport(
        request: Request,
        body: AirportGuestBookingIn,
        idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
    ) -> JSONResponse:
        """Book the airport shared taxi to or from one flight, from the trip planner (a guest booking:
        the same limits and phone code as the taxi booking), at the tariff's fixed fare per person."""
        other = body.other.strip()
        place = other if other in svc.places else None
        point = None
        if place is None:
            try:
                point = LatLon.parse(other)
            except ValueError:
                raise Invalid(
                    f"unknown place {other!r}: give a place_id or lat,lon",
                    f"場所「{other}」が見つかりません",
                    code="unknown_place",
                ) from None
        g = GuestAirportRequest(
            name=body.name,
            phone=body.phone,
            flight=body.flight,
            service_date=body.date,
            other_place_id=place,
            other_point=point,
            other_label=body.other_label,
            airport_label=body.airport_label,
            seats=body.seats,
            wheelchair=body.wheelchair,
            consent_data_reuse=body.consent_data_reuse,
        )
        with guard.guest_booking(client_address(request), body.phone, body.code):
            b = air.book_guest(g, idempotency_key)
        if b.state is BookingStatus.REJECTED:
            en, _, ja = (b.reason or "").partition(" / ")
            en = en.split(": ", 1)[1] if ": " in en else en
            return JSONResponse(
                {"error": "no_vehicle", "message": en, "message_ja": ja or en, "booking_id": b.booking_id},
                status_code=409,
            )
        f = air.flight(body.flight, body.date)
        return JSONResponse(
            {
                "booking_id": b.booking_id,
                "reference": booking_number(b.booking_id),
                "cancel_url": f"/plan/bookings/{b.booking_id}?t={cancel_token(b.booking_id)}",
                "status": b.status,
                "flight": f.flight,
                "direction": f.direction.value,
                "fare_yen": b.fare_yen,
                "pickup_from_s": b.promised_pickup_from_s,
                "pickup_to_s": b.promised_pickup_to_s,
                "planned_dropoff_s": b.planned_dropoff_s,
                "read_back": svc.read_back(b),
            },
            status_code=201,
        )
