"""No double bookings (issue #14): a rider's second live booking for the same trip at an overlapping
time is refused with ``duplicate_booking`` and the existing booking's number, unless the operator says
it is intended; the guest booking refuses the same phone twice for the same trip, and a phone number's
open bookings over the cap (#20), counted in the booking's own transaction under a per-phone lock, so
that several server processes cannot overrun it between them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dispatch.booking import Booking, BookingStatus, QuoteOption
from dispatch.context import GUEST, DispatchContext
from dispatch.errors import Conflict
from dispatch.persistence.repository import Tx
from geo import haversine_m

LIVE = (BookingStatus.CONFIRMED.value, BookingStatus.SCHEDULED.value, BookingStatus.PICKED_UP.value)
SAME_PLACE_M = 300  # pickups (and drop-offs) this close count as the same trip
# A booking that holds (or may still take) a seat: the guest cap counts these.
OPEN = (BookingStatus.ON_CALL.value, *LIVE)


@dataclass(frozen=True, slots=True)
class GuestLimits:
    """What a guest booking is checked against: at most ``open_bookings_max`` open bookings per phone
    number from ``today`` on (None: no cap)."""

    open_bookings_max: int | None
    today: date


def guest_limits(ctx: DispatchContext, principal: object) -> GuestLimits | None:
    """The limits when ``principal`` is the guest (the trip planner), else None."""
    return GuestLimits(ctx.guest_open_bookings_max, ctx.now().date()) if principal == GUEST else None


def refuse_over_cap(tx: Tx, rider_ids: Sequence[str], limits: GuestLimits) -> None:
    cap = limits.open_bookings_max
    if cap is None:
        return
    found = [o for rid in rider_ids for o in tx.bookings(rider_id=rid, statuses=OPEN)]
    n = sum(1 for o in found if o.service_date >= limits.today)
    if n >= cap:
        raise Conflict(
            f"this phone number already has {cap} open bookings",
            f"この電話番号のご予約は{cap}件までです。変更はお電話でお問い合わせください",
            code="open_bookings_limit",
        )


def _span(b: Booking, pickup_from_s: int | None, arrive_s: int | None) -> tuple[int, int] | None:
    start = pickup_from_s if pickup_from_s is not None else b.time_s
    end = arrive_s if arrive_s is not None else start
    return (start, max(start, end)) if start is not None and end is not None else None


def live_span(b: Booking) -> tuple[int, int] | None:
    """From the promised pickup window's start to the promised (or planned) arrival."""
    arrive = b.promised_arrival_by_s or b.planned_dropoff_s or b.promised_pickup_to_s
    return _span(b, b.promised_pickup_from_s, arrive)


def find_duplicate(tx: Tx, b: Booking, span: tuple[int, int], rider_ids: Sequence[str]) -> Booking | None:
    """A live booking of one of ``rider_ids`` on the same day, from about the same place to about the
    same place (same direction), whose time overlaps ``span``; None if there is none."""
    for rid in rider_ids:
        for other in tx.bookings(service_date=b.service_date, rider_id=rid, statuses=LIVE):
            if other.booking_id == b.booking_id:
                continue
            if haversine_m(other.origin, b.origin) > SAME_PLACE_M:
                continue
            if haversine_m(other.destination, b.destination) > SAME_PLACE_M:
                continue
            o = live_span(other)
            if o is not None and o[0] <= span[1] and span[0] <= o[1]:
                return other
    return None


def refuse_duplicate(
    tx: Tx, b: Booking, option: QuoteOption, *, guest: GuestLimits | None, intended: bool
) -> None:
    """Raise ``duplicate_booking`` (409) naming the existing booking if confirming ``option`` of ``b``
    would double it, unless the operator says it is ``intended``. A guest is checked against every
    rider with the same phone, cannot override, and is never told another booking's number; a guest
    phone over its cap of open bookings is ``open_bookings_limit`` (409)."""
    span = (option.pickup_from_s, option.arrive_by_s or option.dropoff_s)
    riders = [b.rider_id]
    if guest is not None:
        me = tx.rider(b.rider_id)
        if me is not None:
            tx.lock_phone(me.phone)  # until the booking commits: the count below stays true
            riders = [r.rider_id for r in tx.riders_by_phone(me.phone)]
        refuse_over_cap(tx, riders, guest)
    elif intended:
        return
    other = find_duplicate(tx, b, span, riders)
    if other is None:
        return
    if guest is not None:  # never tell an anonymous caller another rider's booking number
        raise Conflict(
            "a booking for the same trip at an overlapping time already exists for this phone number",
            "この電話番号で同じ区間・重なる時間の予約がすでにあります",
            code="duplicate_booking",
        )
    raise Conflict(
        f"this rider already has booking {other.booking_id} for the same trip at an overlapping time; "
        "confirm again with intended=true if a second booking is really wanted",
        f"この利用者には同じ区間・重なる時間の予約 {other.booking_id} がすでにあります。"
        "二重予約でよろしければ「意図した予約」として確定してください",
        code="duplicate_booking",
    )
