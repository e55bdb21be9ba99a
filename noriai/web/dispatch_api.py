"""HTTP API of the dispatch service: thin routes over ``dispatch.service.DispatchService``.

(No ``from __future__ import annotations`` here: FastAPI must see the dependency aliases defined
inside ``dispatch_router`` as real objects, not strings.)

Auth: ``X-API-Key`` (or ``Authorization: Bearer``). Operator keys may do everything; a company key sees
only its own vehicles, runs, bookings and the riders on them (anything else is a 404, as if it did not
exist), and gets 403 on operator-only routes. Request bodies reject unknown fields (422, nothing changes).
"""

import asyncio
import json
import time
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatch.booking import (
    Booking,
    BookingEvent,
    BookingStatus,
    QuoteOption,
    RecurrenceRule,
    TimeMode,
    TimeRequest,
    hhmm,
)
from dispatch.booking import parse_hhmm as _parse_hhmm
from dispatch.domain import Principal
from dispatch.notify import Notifier
from dispatch.offers import fare_reason
from dispatch.presentation import booking_number
from dispatch.service import (
    DispatchError,
    DispatchService,
    Endpoint,
    EndpointKind,
    Forbidden,
    Invalid,
    QuoteRequest,
    RuleRequest,
)
from geo import LatLon
from noriai.web.auth import Auth
from noriai.web.inputs import TIME_PATTERN, Day, Label, Text
from noriai.web.metrics import Metrics
from noriai.web.schemas import (
    AuditEntryOut,
    BookingOut,
    BreakdownOut,
    CheckOut,
    MaterialisedOut,
    ReoptimiseOut,
    RestoreOut,
    RiderOut,
    RuleOut,
    RunOut,
    TripOut,
    VehicleOut,
    WhoAmIOut,
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _hhmm(v: str) -> str:
    _parse_hhmm(v)
    return v


class EndpointIn(_Body):
    kind: Literal["home", "place", "point"]
    place_id: Label | None = Field(default=None, max_length=80)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    label: Label | None = Field(default=None, max_length=100)

    def to_domain(self) -> Endpoint:
        point = LatLon(self.lat, self.lon) if self.lat is not None and self.lon is not None else None
        if self.kind == "point" and point is None:
            raise Invalid("a point needs lat and lon", "地点には緯度・経度が必要です")
        if self.kind == "place" and not self.place_id:
            raise Invalid("a place needs place_id", "行き先を選んでください")
        return Endpoint(EndpointKind(self.kind), self.place_id, point, self.label or "")


class QuoteIn(_Body):
    rider_id: Label = Field(min_length=1, max_length=40)
    origin: EndpointIn = EndpointIn(kind="home")
    destination: EndpointIn
    service_date: Day
    mode: TimeMode
    time: Annotated[
        str, Field(description="HH:MM, GTFS style (25:10 = 1:10 next morning)", pattern=TIME_PATTERN)
    ]
    companions: int = Field(default=0, ge=0, le=8)

    _t = field_validator("time")(_hhmm)


class ConfirmIn(_Body):
    option: int = Field(ge=0, le=9)
    intended: bool = Field(
        default=False, description="the operator confirms a second booking for the same trip on purpose"
    )


class CancelIn(_Body):
    reason: Text = Field(default="", max_length=200)


class StopEventIn(_Body):
    event: Literal["arrive", "pick_up", "no_show", "drop_off"]


class PositionIn(_Body):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class ReturnIn(_Body):
    mode: Literal["at", "call"]
    time: str | None = Field(default=None, pattern=TIME_PATTERN)

    @field_validator("time")
    @classmethod
    def _time(cls, v: str | None) -> str | None:
        return _hhmm(v) if v is not None else None


class RuleIn(_Body):
    rider_id: Label = Field(min_length=1, max_length=40)
    origin: EndpointIn = EndpointIn(kind="home")
    destination: EndpointIn
    mode: TimeMode
    time: str = Field(pattern=TIME_PATTERN)
    weekdays: list[int] = Field(min_length=1, max_length=7, description="0 = Monday")
    start_date: Day
    end_date: Day | None = None
    skip_holidays: bool = True
    exceptions: list[Day] = Field(default_factory=list, max_length=366)
    return_mode: Literal["none", "at", "call"] = "none"
    return_time: str | None = Field(default=None, pattern=TIME_PATTERN)

    _t = field_validator("time")(_hhmm)


# --- views --------------------------------------------------------------------------------------------


def option_view(o: QuoteOption) -> dict[str, Any]:
    return {
        "vehicle_id": o.vehicle_id,
        "company_id": o.company_id,
        "company_name": o.company_name,
        "vehicle_kind": o.vehicle_kind,
        "pickup_s": o.pickup_s,
        "dropoff_s": o.dropoff_s,
        "pickup_from_s": o.pickup_from_s,
        "pickup_to_s": o.pickup_to_s,
        "arrive_by_s": o.arrive_by_s,
        "max_ride_time_s": o.max_ride_time_s,
        "direct_distance_m": o.direct_distance_m,
        "shared": o.shared,
        "fare_yen": o.fare_yen,
        "fare_type": o.fare_type,  # shared (相乗り) | private (貸切)
        "fare_reason": dict(zip(("ja", "en"), fare_reason(o), strict=True)),
        "plan_version": o.plan_version,
        "pickup_window": f"{hhmm(o.pickup_from_s)}–{hhmm(o.pickup_to_s)}",
        "arrival": hhmm(o.arrive_by_s) if o.arrive_by_s is not None else hhmm(o.dropoff_s),
        "arrival_kind": "by" if o.arrive_by_s is not None else "around",
        "fare_breakdown": [asdict(x) for x in o.fare.lines],  # concession, vouchers
    }


def booking_view(svc: DispatchService, b: Booking, *, with_read_back: bool = True) -> dict[str, Any]:
    options = [option_view(o) for o in b.options] if b.state is BookingStatus.QUOTED else []
    out: dict[str, Any] = {
        "booking_id": b.booking_id,
        "booking_no": booking_number(b.booking_id),  # as read out on the phone: 4829-1735
        "rider_id": b.rider_id,
        "service_date": b.service_date.isoformat(),
        "status": b.status,
        "status_ja": b.state.label_ja,
        "origin": {
            "label": b.origin_label,
            "place_id": b.origin_place_id,
            "lat": b.origin_lat,
            "lon": b.origin_lon,
        },
        "destination": {
            "label": b.dest_label,
            "place_id": b.dest_place_id,
            "lat": b.dest_lat,
            "lon": b.dest_lon,
        },
        "time_mode": b.time_mode,
        "time": hhmm(b.time_s) if b.time_s is not None else None,
        "seats": b.party[0],  # the rider's party; a private ride holds its whole car (seats_held)
        "wheelchairs": b.party[1],
        "seats_held": b.seats,
        "wheelchairs_held": b.wheelchairs,
        "needs": [n for n in b.needs.split(",") if n],
        "options": options,
        "quote_expires_at": b.quote_expires_at.isoformat() if b.quote_expires_at else None,
        "vehicle_id": b.vehicle_id,
        "company_id": b.company_id,
        "pickup_window": (
            [hhmm(b.promised_pickup_from_s), hhmm(b.promised_pickup_to_s)]
            if b.promised_pickup_from_s is not None and b.promised_pickup_to_s is not None
            else None
        ),
        "arrive_by": hhmm(b.promised_arrival_by_s) if b.promised_arrival_by_s is not None else None,
        "planned_pickup": hhmm(b.planned_pickup_s) if b.planned_pickup_s is not None else None,
        "planned_dropoff": hhmm(b.planned_dropoff_s) if b.planned_dropoff_s is not None else None,
        "fare_yen": b.fare_yen,
        "fare": b.fare.to_dict() if b.fare is not None else None,
        "reason": b.reason,
        "return_of": b.return_of,
        "recurring_rule_id": b.recurring_rule_id,
    }
    if with_read_back and b.state in (BookingStatus.CONFIRMED, BookingStatus.SCHEDULED):
        out["read_back"] = svc.read_back(b)
    return out


def rider_view(r: Any, *, full: bool) -> dict[str, Any]:
    out = {
        "rider_id": r.rider_id,
        "name": r.name,
        "kana": r.kana,
        "phone": r.phone,
        "district": r.district,
        "needs": {"wheelchair": r.needs.wheelchair, "walker": r.needs.walker, "companion": r.needs.companion},
    }
    if full:
        out.update(
            {
                "home": {"lat": r.home.lat, "lon": r.home.lon},
                "birth_year": r.birth_year,
                "address": r.address,
                "disability_certificate": r.disability_certificate,
                "welfare_bus_pass": r.welfare_bus_pass,
                "consent": {
                    "data_reuse": r.consent.data_reuse,
                    "given_on": r.consent.given_on.isoformat() if r.consent.given_on else None,
                },
            }
        )
    return out


# --- auth ---------------------------------------------------------------------------------------------


def dispatch_router(
    app: FastAPI, svc: DispatchService, notifier: Notifier, metrics: Metrics, auth: Auth
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["dispatch"])
    _principal = auth.keys.principal
    Any_ = Annotated[Principal, Depends(auth.any_key)]
    Op = Annotated[Principal, Depends(auth.operator)]

    @router.get("/whoami", response_model=WhoAmIOut, response_model_exclude_unset=True)
    def whoami(p: Any_) -> dict[str, Any]:
        return {"role": p.role, "label": p.label, "company_id": p.company_id}

    # --- operators ---------------------------------------------------------------------------------
    @router.get("/riders", response_model=list[RiderOut], response_model_exclude_unset=True)
    def search_riders(p: Op, q: Annotated[str, Query(min_length=1, max_length=50)]) -> list[dict[str, Any]]:
        return [rider_view(r, full=True) for r in svc.search_riders(q)]

    @router.get("/riders/{rider_id}", response_model=RiderOut, response_model_exclude_unset=True)
    def get_rider(p: Any_, rider_id: str) -> dict[str, Any]:
        return rider_view(svc.rider_for(p, rider_id), full=p.role == "operator")

    @router.post("/quotes", status_code=201, response_model=BookingOut, response_model_exclude_unset=True)
    def create_quote(p: Op, body: QuoteIn) -> dict[str, Any]:
        started = time.perf_counter()
        req = QuoteRequest(
            body.rider_id,
            body.origin.to_domain(),
            body.destination.to_domain(),
            body.service_date,
            TimeRequest(body.mode, _parse_hhmm(body.time)),
            body.companions,
        )
        b = svc.quote(p, req)
        metrics.quote_seconds.observe(time.perf_counter() - started)
        metrics.quotes.labels("options" if b.state is BookingStatus.QUOTED else "rejected").inc()
        return booking_view(svc, b)

    @router.post(
        "/bookings/{booking_id}/confirm", response_model=BookingOut, response_model_exclude_unset=True
    )
    def confirm(
        p: Op,
        booking_id: str,
        body: ConfirmIn,
        idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
    ) -> dict[str, Any]:
        b = svc.confirm(p, booking_id, body.option, idempotency_key, intended=body.intended)
        metrics.bookings.labels(b.status).inc()
        return booking_view(svc, b)

    @router.get("/bookings", response_model=list[BookingOut], response_model_exclude_unset=True)
    def list_bookings(
        p: Op,
        service_date: Annotated[Day | None, Query(alias="date")] = None,
        rider_id: str | None = None,
    ) -> list[dict[str, Any]]:
        if service_date is None and rider_id is None:
            raise Invalid("give date or rider_id", "日付か利用者を指定してください")
        return [
            booking_view(svc, b, with_read_back=False)
            for b in svc.bookings(service_date=service_date, rider_id=rider_id)
        ]

    @router.get("/bookings/{booking_id}", response_model=BookingOut, response_model_exclude_unset=True)
    def get_booking(p: Any_, booking_id: str) -> dict[str, Any]:
        return booking_view(svc, svc.booking(p, booking_id), with_read_back=p.role == "operator")

    @router.get(
        "/bookings/{booking_id}/audit", response_model=list[AuditEntryOut], response_model_exclude_unset=True
    )
    def audit(p: Op, booking_id: str) -> list[dict[str, Any]]:
        return [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "event": e.event,
                "from": e.from_status,
                "to": e.to_status,
                "detail": json.loads(e.detail or "{}"),
            }
            for e in svc.audit_trail(booking_id)
        ]

    @router.post(
        "/bookings/{booking_id}/cancel", response_model=BookingOut, response_model_exclude_unset=True
    )
    def cancel(p: Op, booking_id: str, body: CancelIn) -> dict[str, Any]:
        b = svc.cancel(p, booking_id, body.reason)
        metrics.bookings.labels(b.status).inc()
        return booking_view(svc, b)

    @router.post(
        "/bookings/{booking_id}/return",
        status_code=201,
        response_model=BookingOut,
        response_model_exclude_unset=True,
    )
    def add_return(p: Op, booking_id: str, body: ReturnIn) -> dict[str, Any]:
        t = _parse_hhmm(body.time) if body.time else None
        return booking_view(svc, svc.add_return(p, booking_id, body.mode, t))

    @router.post("/bookings/{booking_id}/call", response_model=BookingOut, response_model_exclude_unset=True)
    def call(p: Op, booking_id: str) -> dict[str, Any]:
        return booking_view(svc, svc.call(p, booking_id))

    @router.post("/recurring", status_code=201, response_model=RuleOut, response_model_exclude_unset=True)
    def add_rule(p: Op, body: RuleIn) -> dict[str, Any]:
        try:
            rule = RecurrenceRule(
                frozenset(body.weekdays),
                body.start_date,
                body.end_date,
                body.skip_holidays,
                frozenset(body.exceptions),
            )
        except ValueError as exc:
            raise Invalid(str(exc), "繰り返し予約の指定が不正です") from None
        rr = RuleRequest(
            body.rider_id,
            body.origin.to_domain(),
            body.destination.to_domain(),
            TimeRequest(body.mode, _parse_hhmm(body.time)),
            rule,
            body.return_mode,
            _parse_hhmm(body.return_time) if body.return_time else None,
        )
        r = svc.add_rule(p, rr)
        return {"rule_id": r.rule_id, "rider_id": r.rider_id, "weekdays": body.weekdays}

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

    # --- operators and companies (company-scoped) --------------------------------------------------
    @router.post(
        "/bookings/{booking_id}/events", response_model=BookingOut, response_model_exclude_unset=True
    )
    def stop_event(p: Any_, booking_id: str, body: StopEventIn) -> dict[str, Any]:
        b = svc.stop_event(p, booking_id, BookingEvent(body.event))
        metrics.bookings.labels(b.status).inc()
        return booking_view(svc, b, with_read_back=False)

    @router.get("/runs", response_model=list[RunOut], response_model_exclude_unset=True)
    def runs(p: Any_, service_date: Annotated[Day, Query(alias="date")]) -> list[dict[str, Any]]:
        return svc.runs(p, service_date)

    @router.get("/runs/{vehicle_id}", response_model=RunOut, response_model_exclude_unset=True)
    def run(p: Any_, vehicle_id: str, service_date: Annotated[Day, Query(alias="date")]) -> dict[str, Any]:
        return svc.runs(p, service_date, vehicle_id)[0]

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

    @router.get("/events")
    async def events(
        request: Request,
        key: Annotated[str | None, Query(description="API key (EventSource cannot send headers)")] = None,
        x_api_key: Annotated[str | None, Header()] = None,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        """Server-sent events for a company: ``run_changed`` (refetch that run), ``position``, and
        ``status`` (``{"stale": true}`` while Redis is away)."""
        p = await asyncio.to_thread(_principal, x_api_key or key)
        if p.role != "company" or p.company_id is None:
            raise Forbidden(
                "the event stream is per company: use a company key", "事業者キーで接続してください"
            )
        company_id: str = p.company_id

        async def stream() -> Any:
            last = await asyncio.to_thread(notifier.tail_id, company_id)
            if last_event_id:
                last = last_event_id  # the browser reconnected: resume after what it saw
            yield "retry: 2000\n\n"
            stale: bool | None = None
            while not await request.is_disconnected():
                res = await asyncio.to_thread(notifier.read, company_id, last, 1.0)
                if res.stale != stale:
                    stale = res.stale
                    if stale:
                        metrics.notifications_stale.inc()
                    yield f"event: status\ndata: {json.dumps({'stale': stale})}\n\n"
                for event_id, ev in res.events:
                    yield f"id: {event_id}\nevent: {ev.get('type', 'message')}\ndata: {json.dumps(ev)}\n\n"
                last = res.last_id
                if not res.events:
                    yield ": keep-alive\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    @app.exception_handler(DispatchError)
    async def _dispatch_error(request: Request, exc: DispatchError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.code, "message": exc.message_en, "message_ja": exc.message_ja},
            status_code=exc.status_code,
        )

    return router
