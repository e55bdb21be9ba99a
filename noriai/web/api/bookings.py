"""Quotes and bookings: a quote (a ``quoted`` booking with its options), confirm, cancel, the return
trip and the on-call "ready now", the driver's stop events, reading bookings and their audit trail."""

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query

from dispatch.booking import BookingEvent, BookingStatus, TimeRequest
from dispatch.booking import parse_hhmm as _parse_hhmm
from dispatch.domain import Principal
from dispatch.errors import Invalid
from dispatch.inputs import QuoteRequest
from dispatch.service import DispatchService
from noriai.web.api.bodies import CancelIn, ConfirmIn, QuoteIn, ReturnIn, StopEventIn
from noriai.web.api.views import booking_view
from noriai.web.auth import Auth
from noriai.web.inputs import Day
from noriai.web.metrics import Metrics
from noriai.web.schemas import AuditEntryOut, BookingOut

__all__ = ["bookings_router", "stop_events_router"]


def bookings_router(svc: DispatchService, auth: Auth, metrics: Metrics) -> APIRouter:
    """The operator's side of a booking (operator keys only, but reading one booking)."""
    router = APIRouter(prefix="/api/v1", tags=["dispatch"])
    Any_ = Annotated[Principal, Depends(auth.any_key)]
    Op = Annotated[Principal, Depends(auth.operator)]

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

    return router


def stop_events_router(svc: DispatchService, auth: Auth, metrics: Metrics) -> APIRouter:
    """What drivers report at a stop (``arrive``, ``pick_up``, ``no_show``, ``drop_off``): operator
    and company keys, a company on its own vehicles' bookings only."""
    router = APIRouter(prefix="/api/v1", tags=["dispatch"])
    Any_ = Annotated[Principal, Depends(auth.any_key)]

    @router.post(
        "/bookings/{booking_id}/events", response_model=BookingOut, response_model_exclude_unset=True
    )
    def stop_event(p: Any_, booking_id: str, body: StopEventIn) -> dict[str, Any]:
        b = svc.stop_event(p, booking_id, BookingEvent(body.event))
        metrics.bookings.labels(b.status).inc()
        return booking_view(svc, b, with_read_back=False)

    return router
