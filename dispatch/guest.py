"""The trip planner's guest booking: find or register the guest rider, quote and confirm in one step."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict

from dispatch.booking import Booking, BookingStatus
from dispatch.context import GUEST, GUEST_RIDER_PREFIX, DispatchContext, new_id
from dispatch.domain import Consent, MobilityNeeds, Rider
from dispatch.errors import Invalid
from dispatch.idempotency import run_once
from dispatch.inputs import Endpoint, EndpointKind, GuestBookingRequest, QuoteRequest
from dispatch.quotes import _confirm, quote
from dispatch.riders import guest_phone
from geo import LatLon

log = logging.getLogger("noriai.dispatch")


def book_guest(
    ctx: DispatchContext,
    g: GuestBookingRequest,
    idempotency_key: str | None = None,
    *,
    op: str = "guest_booking",
    before_confirm: Callable[[Booking], None] | None = None,
) -> Booking:
    """A booking made by the rider themself from the trip planner, quoted and confirmed in one step.

    A guest is never matched to a rider an operator registered, even with the same phone number:
    the booking is made for a guest rider with the name typed here, so the answer never reveals a
    registered rider's name and never applies their discounts. A guest rider with the same phone and
    name is reused. A retry with the same idempotency key and body returns the same booking.
    ``before_confirm`` may rewrite the stored quote's options (the airport's fixed fare) before the
    first option is confirmed; ``op`` names the kind of booking in the idempotency record."""
    name = g.name.strip()
    if not 1 <= len(name) <= 60:
        raise Invalid("name must be 1..60 characters", "お名前を入力してください（60文字以内）")
    digits = guest_phone(g.phone)  # E.164 from abroad: "+447700900123"
    if not idempotency_key:
        return _book_guest(ctx, g, name, digits, None, before_confirm)
    request = {"op": op, **asdict(g)}
    return run_once(
        ctx,
        GUEST,
        idempotency_key,
        request,
        lambda scope: _book_guest(ctx, g, name, digits, scope, before_confirm),
    )


def _guest_end(point: LatLon, place_id: str | None, label: str) -> Endpoint:
    if place_id is not None:
        return Endpoint(EndpointKind.PLACE, place_id=place_id, label=label)
    return Endpoint(EndpointKind.POINT, point=point, label=label)


def _book_guest(
    ctx: DispatchContext,
    g: GuestBookingRequest,
    name: str,
    digits: str,
    scope: str | None,
    before_confirm: Callable[[Booking], None] | None = None,
) -> Booking:
    with ctx.repo.write() as tx:
        rider = next(
            (
                r
                for r in tx.riders_by_phone(digits)
                if r.rider_id.startswith(GUEST_RIDER_PREFIX) and r.name == name
            ),
            None,
        )
        if rider is None:
            phone = digits if digits.startswith("+") else f"{digits[:3]}-{digits[3:-4]}-{digits[-4:]}"
            rider = Rider(
                rider_id=new_id(GUEST_RIDER_PREFIX),
                name=name,
                kana="",
                phone=phone,
                home=g.origin,
                district="",
                birth_year=0,
                needs=MobilityNeeds(wheelchair=g.wheelchair),
                disability_certificate=False,
                welfare_bus_pass=False,
                consent=Consent(data_reuse=g.consent_data_reuse),
            )
            tx.add_rider(rider)
            log.info("guest rider %s registered from the trip planner", rider.rider_id)
    b = quote(
        ctx,
        GUEST,
        QuoteRequest(
            rider.rider_id,
            _guest_end(g.origin, g.origin_place_id, g.origin_label),
            _guest_end(g.destination, g.destination_place_id, g.destination_label),
            g.service_date,
            g.time,
            companions=max(0, g.seats - 1),
        ),
    )
    if b.state is BookingStatus.REJECTED:
        if scope is not None:  # a retry gets the same refusal, not a second quote
            with ctx.repo.write() as tx:
                tx.finish_idempotency(scope, b.booking_id)
        return b
    if before_confirm is not None:
        before_confirm(b)
        with ctx.repo.read() as tx:
            b = tx.booking(b.booking_id) or b
    pick = 0
    if g.vehicle_id is not None:  # keep the option the rider saw, when it is still there
        pick = next((i for i, o in enumerate(b.options) if o.vehicle_id == g.vehicle_id), 0)
    return _confirm(ctx, GUEST, b.booking_id, pick, scope, False)
