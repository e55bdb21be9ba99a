"""Trip planner page and API: thin routes over ``planner.trip.TripPlanner``, and booking the taxi leg.

(No ``from __future__ import annotations``: FastAPI reads the body model's annotations at runtime.)
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from bikeshare import BikeShareSystem
from bus_location import RealtimeWriter
from dispatch.airport_booking import AirportBookings
from dispatch.booking import Booking, BookingStatus, TimeMode, TimeRequest, hhmm, parse_hhmm
from dispatch.context import GUEST
from dispatch.errors import Invalid, NotFound
from dispatch.presentation import booking_number
from dispatch.service import TOKYO, DispatchService, GuestBookingRequest
from geo import LatLon
from gtfs.flex import flex_zip
from gtfs.loader import Feed
from noriai.flex_export import shared_taxi_flex
from noriai.web.guard import client_address, error_responses
from noriai.web.guest_guard import GuestGuard
from noriai.web.inputs import (
    PHONE_PATTERN,
    PLACE_OR_POINT_PATTERN,
    POINT_PATTERN,
    TIME_PATTERN,
    Day,
    Label,
)
from noriai.web.plan_airport import add_airport_routes, airport_offer
from planner.realtime import delays_for, fresh_feeds
from planner.timetable import Delays
from planner.trip import MODES, TripError, TripPlanner, TripRequest

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
MAX_DAYS_AHEAD = 60


class RealtimeDelays:
    """Per-trip delays for a day from the realtime writer's current snapshot, computed once per
    snapshot (the snapshot is replaced, never changed, so its identity is its version). With a clock,
    a feed whose last message is over 30 minutes old is stale and left out (the timetable stands)."""

    def __init__(
        self, feeds: list[Feed], writer: RealtimeWriter, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.feeds, self.writer, self.clock = feeds, writer, clock
        self._cache: tuple[object, date, frozenset[str] | None, Delays] | None = None

    def __call__(self, day: date) -> tuple[object, Delays | None]:
        snap = self.writer.snapshot
        fresh = fresh_feeds(snap, self.clock().timestamp()) if self.clock else None
        c = self._cache
        if c is None or c[0] is not snap or c[1] != day or c[2] != fresh:
            c = (snap, day, fresh, delays_for(self.feeds, snap, day, fresh))
            self._cache = c
        return ((id(c[0]), c[2]), c[3] or None)


class DemoBikeShare:
    """The demo GBFS files as a live feed: the station status is republished every ``ttl`` seconds with
    the current time, as a real system's feed would be (the numbers of bikes stay the demo's)."""

    def __init__(self, system: BikeShareSystem, clock: Callable[[], datetime]) -> None:
        self.system, self.clock = system, clock
        self._stamped: tuple[int, BikeShareSystem] | None = None

    def __call__(self) -> BikeShareSystem:
        now = int(self.clock().timestamp())
        if self._stamped is None or now - self._stamped[0] >= self.system.ttl_s:
            status = {k: replace(v, last_reported_unix=now) for k, v in self.system.status.items()}
            self._stamped = (now, replace(self.system, status=status, last_updated_unix=now))
        return self._stamped[1]


class GuestBookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Label = Field(min_length=1, max_length=60)
    phone: str = Field(min_length=10, max_length=20, pattern=PHONE_PATTERN)
    from_: str = Field(alias="from", description="lat,lon of the pickup", pattern=POINT_PATTERN)
    to: str = Field(description="lat,lon of the drop-off", pattern=POINT_PATTERN)
    date: Day
    time_s: int = Field(ge=0, lt=2 * 86_400)
    arrive_by: bool = False
    seats: int = Field(default=1, ge=1, le=8)
    wheelchair: bool = False
    consent_data_reuse: bool = False
    vehicle_id: Label | None = Field(default=None, max_length=40)
    from_label: Label = Field(default="", max_length=100)
    to_label: Label = Field(default="", max_length=100)
    code: str | None = Field(
        default=None, pattern=r"^[0-9]{6}$", description="the code sent to the phone (when codes are on)"
    )


class PhoneCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(min_length=10, max_length=20, pattern=PHONE_PATTERN)


class GuestCancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=64)


def _pickup_point(note: str) -> dict[str, str] | None:
    """Where a taxi waits at a place, from its note "pickup: 日本語 / English" (stations: exit, rank)."""
    if not note.startswith("pickup:"):
        return None
    ja, _, en = note.removeprefix("pickup:").strip().partition(" / ")
    return {"ja": ja.strip(), "en": (en or ja).strip()}


def reason_sentences(reason: str) -> tuple[str, str]:
    """A rejection reason ("code: English / 日本語") as (English, Japanese) sentences without the code."""
    en, _, ja = reason.partition(" / ")
    en = en.split(": ", 1)[1] if ": " in en else en
    return en, ja or en


def plan_router(
    svc: DispatchService,
    planner: TripPlanner,
    booking_phone: str,
    guard: GuestGuard,
    link_secret: bytes | None = None,
    airport: AirportBookings | None = None,
) -> APIRouter:
    """``link_secret`` signs the guests' cancel links (random per process when not given: links then
    stop working after a restart; set GUEST_LINK_SECRET). With ``airport``, a trip to or from the
    airport place also offers the airport shared taxi with its flights (``plan_airport``)."""
    r = APIRouter()
    link_secret = link_secret or secrets.token_bytes(32)

    def place(text: str, which: str) -> tuple[LatLon, str, str]:
        """A place id from the list, or "lat,lon" (a map click). Returns (point, name ja, name en)."""
        p = svc.places.get(text.strip())
        if p is not None:
            return p.point, p.name, p.name_en
        try:
            pt = LatLon.parse(text)
        except ValueError:
            raise Invalid(
                f"unknown {which} {text!r}: give a place_id from /api/v1/places or lat,lon",
                f"{'出発地' if which == 'origin' else '目的地'}「{text}」が見つかりません",
                code="unknown_place",
            ) from None
        label = f"{pt.lat:.5f},{pt.lon:.5f}"
        return pt, label, label

    @r.get("/api/v1/plan", tags=["planner"], responses=error_responses(422, 429))
    def plan(
        request: Request,
        from_: Annotated[
            str, Query(alias="from", description="place_id or lat,lon", pattern=PLACE_OR_POINT_PATTERN)
        ],
        to: Annotated[str, Query(description="place_id or lat,lon", pattern=PLACE_OR_POINT_PATTERN)],
        date_: Annotated[Day | None, Query(alias="date", description="service day; default today")] = None,
        time_: Annotated[
            str | None,
            Query(alias="time", description="HH:MM (GTFS style); default now", pattern=TIME_PATTERN),
        ] = None,
        arrive_by: bool = False,
        welfare_pass: Annotated[bool, Query(description="the rider has the elderly ¥100 bus pass")] = False,
        modes: Annotated[str, Query(description="comma-separated: transit,walk,bike,taxi")] = ",".join(
            sorted(MODES)
        ),
        seats: Annotated[int, Query(ge=1, le=8)] = 1,
        window_min: Annotated[int, Query(ge=0, le=240, description="depart-at: departures within")] = 60,
        lang: Annotated[str, Query(pattern="^(ja|en)$")] = "ja",
    ) -> dict[str, Any]:
        guard.planner(client_address(request))
        o, o_ja, o_en = place(from_, "origin")
        d, d_ja, d_en = place(to, "destination")
        now = svc.now()
        day = date_ or now.date()
        if time_ is None:
            # no time given: now, or the same time of day on a later day (a past day is refused below)
            t = svc.service_seconds(now.date(), now)
        else:
            try:
                t = parse_hhmm(time_)
            except ValueError:
                raise Invalid(
                    f"time must be HH:MM, got {time_!r}", "時刻は「時:分」で入力してください", code="bad_time"
                ) from None
        when = datetime(day.year, day.month, day.day, tzinfo=TOKYO) + timedelta(seconds=t)
        if when < now - timedelta(minutes=1):
            raise Invalid(
                f"{when:%Y-%m-%d %H:%M} has already passed",
                f"{when:%m月%d日 %H:%M} は過ぎています",
                code="time_passed",
            )
        if day > now.date() + timedelta(days=MAX_DAYS_AHEAD):
            raise Invalid(
                f"plans are made up to {MAX_DAYS_AHEAD} days ahead",
                f"{MAX_DAYS_AHEAD}日先までの経路を検索できます",
                code="too_far_ahead",
            )
        wanted = frozenset(m.strip() for m in modes.split(",") if m.strip())
        if not wanted or not wanted <= MODES:
            raise Invalid(
                f"modes must be some of {','.join(sorted(MODES))}",
                "交通手段の指定が不正です",
                code="bad_modes",
            )
        en = lang == "en"
        try:
            result = planner.plan(
                TripRequest(
                    o,
                    d,
                    when,
                    arrive_by=arrive_by,
                    origin_name=o_en if en else o_ja,
                    destination_name=d_en if en else d_ja,
                    welfare_pass=welfare_pass,
                    seats=seats,
                    modes=wanted,
                    window_s=window_min * 60,
                    lang=lang,
                )
            )
        except TripError as exc:
            raise Invalid(str(exc), str(exc), code="bad_trip") from None
        body = result.to_dict()
        body["query"] = {
            "from": {"name": o_ja, "name_en": o_en, "lat": o.lat, "lon": o.lon},
            "to": {"name": d_ja, "name_en": d_en, "lat": d.lat, "lon": d.lon},
            "when": when.isoformat(),
            "arrive_by": arrive_by,
            "welfare_pass": welfare_pass,
        }
        if airport is not None:
            ends = [x.strip() if x.strip() in svc.places else None for x in (from_, to)]
            body["airport"] = airport_offer(airport, ends[0], ends[1], day, t, seats, now)
        return body

    @r.post(
        "/api/v1/plan/phone-codes",
        tags=["planner"],
        status_code=202,
        responses=error_responses(422, 429),
    )
    def send_phone_code(request: Request, body: PhoneCodeIn) -> dict[str, Any]:
        """Send a 6-digit confirmation code by SMS to the phone; a guest taxi booking then gives it
        (``code``) when the service asks for codes."""
        ttl = guard.send_code(client_address(request), body.phone)
        return {"sent": True, "expires_in_s": ttl}

    @r.post(
        "/api/v1/plan/taxi-bookings",
        tags=["planner"],
        status_code=201,
        responses=error_responses(409, 422, 429),
    )
    def book_taxi(
        request: Request,
        body: GuestBookingIn,
        idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
    ) -> JSONResponse:
        try:
            a, b = LatLon.parse(body.from_), LatLon.parse(body.to)
        except ValueError as exc:
            raise Invalid(str(exc)[:200], "地点の指定が不正です", code="bad_point") from None
        mode = TimeMode.ARRIVE_BY if body.arrive_by else TimeMode.PICKUP_AFTER
        with guard.guest_booking(client_address(request), body.phone, body.code):
            booking = _book_guest(a, b, mode, body, idempotency_key)
        if booking.state is BookingStatus.REJECTED:
            en, ja = reason_sentences(booking.reason or "")
            return JSONResponse(
                {"error": "no_vehicle", "message": en, "message_ja": ja, "booking_id": booking.booking_id},
                status_code=409,
            )
        return JSONResponse(
            {
                "booking_id": booking.booking_id,
                "reference": booking_number(booking.booking_id),
                "cancel_url": f"/plan/bookings/{booking.booking_id}?t={cancel_token(booking.booking_id)}",
                "status": booking.status,
                "fare_yen": booking.fare_yen,
                "pickup_from_s": booking.promised_pickup_from_s,
                "pickup_to_s": booking.promised_pickup_to_s,
                "planned_dropoff_s": booking.planned_dropoff_s,
                "read_back": svc.read_back(booking),
            },
            status_code=201,
        )

    def _book_guest(
        a: LatLon, b: LatLon, mode: TimeMode, body: GuestBookingIn, idempotency_key: str | None
    ) -> Booking:
        return svc.book_guest(
            GuestBookingRequest(
                name=body.name,
                phone=body.phone,
                origin=a,
                destination=b,
                service_date=body.date,
                time=TimeRequest(mode, body.time_s),
                seats=body.seats,
                wheelchair=body.wheelchair,
                consent_data_reuse=body.consent_data_reuse,
                origin_label=body.from_label,
                destination_label=body.to_label,
                vehicle_id=body.vehicle_id,
            ),
            idempotency_key,
        )

    def cancel_token(booking_id: str) -> str:
        """What the rider's cancel link carries: only whoever got the link can cancel the booking."""
        return hmac.new(link_secret, booking_id.encode(), hashlib.sha256).hexdigest()[:24]

    def guest_booking(booking_id: str, token: str) -> Booking:
        try:
            b = svc.booking(GUEST, booking_id)
        except NotFound:
            b = None
        if b is None or not hmac.compare_digest(token, cancel_token(booking_id)):
            raise NotFound(
                "no such booking, or the link is not valid", "予約が見つからないか、リンクが正しくありません"
            )
        return b

    if airport is not None:
        add_airport_routes(r, svc, airport, guard, cancel_token)

    @r.post("/api/v1/plan/taxi-bookings/{booking_id}/cancel", tags=["planner"])
    def cancel_taxi(booking_id: str, body: GuestCancelIn) -> dict[str, Any]:
        """Cancel a booking made from the trip planner, with the token of its cancel link."""
        guest_booking(booking_id, body.token)
        b = svc.cancel(GUEST, booking_id, "cancelled by the rider from the trip planner")
        return {"booking_id": b.booking_id, "status": b.status, "status_ja": b.state.label_ja}

    @r.get("/plan/bookings/{booking_id}", response_class=HTMLResponse, include_in_schema=False)
    def booking_page(request: Request, booking_id: str, t: str = "") -> HTMLResponse:
        b = guest_booking(booking_id, t)
        return TEMPLATES.TemplateResponse(
            request,
            "plan_booking.html",
            {
                "b": b,
                "number": booking_number(b.booking_id),
                "token": t,
                "pickup": (hhmm(b.promised_pickup_from_s), hhmm(b.promised_pickup_to_s))
                if b.promised_pickup_from_s is not None and b.promised_pickup_to_s is not None
                else None,
                "cancellable": b.state in (BookingStatus.CONFIRMED, BookingStatus.SCHEDULED),
                "booking_phone": booking_phone,
            },
        )

    @r.get("/api/v1/gtfs-flex.zip", tags=["planner"], response_class=Response)
    def gtfs_flex(request: Request) -> Response:
        """The shared-taxi service as a GTFS-Flex feed, for other trip planners."""
        service = shared_taxi_flex(
            svc.reference,
            booking_phone=booking_phone,
            base_url=str(request.base_url).rstrip("/"),
            today=svc.now().date(),
            policy=svc.policy,
        )
        return Response(
            flex_zip(service),
            media_type="application/zip",
            headers={"Content-Disposition": 'attachment; filename="noriai-gtfs-flex.zip"'},
        )

    @r.get("/plan", response_class=HTMLResponse, include_in_schema=False)
    def plan_page(request: Request) -> HTMLResponse:
        now = svc.now()
        places = [
            {
                "place_id": p.place_id,
                "name": p.name,
                "name_en": p.name_en,
                "kind": p.kind.value,
                "lat": p.point.lat,
                "lon": p.point.lon,
                "pickup": _pickup_point(p.note),
            }
            for p in sorted(svc.places.values(), key=lambda p: (p.kind.value, p.kana))
            if p.active
        ]
        return TEMPLATES.TemplateResponse(
            request,
            "plan.html",
            {
                "places": places,
                "companies": {c.name: c.name_en for c in svc.companies.values()},
                "today": now.date().isoformat(),
                "now": f"{now:%H:%M}",
                "generated_unix": int(time.time()),
                "phone_check": guard.phone_check,
            },
        )

    return r
