"""Quotes, previews and confirmations: the instant insertion of one trip into the day, fixed fares per
option, and the single write transaction that turns a quoted option into a promise."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, timedelta

from dispatch.access import resolve
from dispatch.booking import (
    Booking,
    BookingEvent,
    BookingStatus,
    QuoteOption,
    TimeMode,
    TimeRequest,
    new_booking_id,
)
from dispatch.context import DispatchContext, aware, unused_booking_id
from dispatch.day_model import asked_times, build_day_model, ins_times, request_for, write_plan
from dispatch.domain import Principal, Rider, VehicleKind
from dispatch.duplicates import guest_limits, refuse_duplicate
from dispatch.entitlements import consume_vouchers, rider_entitlements
from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.idempotency import run_once
from dispatch.inputs import QuoteRequest
from dispatch.matrix import point_key
from dispatch.offers import held_capacity, with_fare_types
from fares import FareError, FareInputs, VehicleClass, quote_for_rider
from geo import LatLon, zone_for
from solver import (
    OPEN,
    Request,
    StopKind,
    TimeWindow,
    insertion_options,
    precheck,
    ride_time_limit,
)
from solver.schedule import PlannedStop

log = logging.getLogger("noriai.dispatch")


def quote(ctx: DispatchContext, principal: Principal, req: QuoteRequest) -> Booking:
    """Options for a trip, stored as a ``quoted`` booking (or ``rejected`` with the reason)."""
    with ctx.repo.read() as tx:
        rider = tx.rider(req.rider_id)
    if rider is None:
        raise NotFound(f"no rider {req.rider_id}", f"利用者 {req.rider_id} は登録されていません")
    olabel, opoint, oplace = resolve(ctx, req.origin, rider)
    dlabel, dpoint, dplace = resolve(ctx, req.destination, rider)
    if not 0 <= req.companions <= 8:
        raise Invalid("companions must be 0..8", "同乗者は0〜8人で指定してください")
    bad = bad_trip(ctx, opoint, dpoint, req.service_date)
    if bad is not None:
        raise Invalid(bad[1], bad[2], code=bad[0])
    needs = rider.needs
    wheelchairs = 1 if needs.wheelchair else 0
    seats = req.companions + (1 if needs.companion else 0) + (0 if needs.wheelchair else 1)
    now = ctx.now()
    b = Booking(
        booking_id=new_booking_id(),
        rider_id=rider.rider_id,
        service_date=req.service_date,
        status=BookingStatus.QUOTED,
        created_at=now.astimezone(UTC),
        updated_at=now.astimezone(UTC),
        origin_label=olabel,
        origin_lat=opoint.lat,
        origin_lon=opoint.lon,
        origin_place_id=oplace,
        dest_label=dlabel,
        dest_lat=dpoint.lat,
        dest_lon=dpoint.lon,
        dest_place_id=dplace,
        time_mode=req.time.mode.value,
        time_s=req.time.time_s,
        seats=seats,
        wheelchairs=wheelchairs,
        needs=",".join(k for k in ("wheelchair", "walker", "companion") if getattr(needs, k)),
        return_of=req.return_of,
        recurring_rule_id=req.recurring_rule_id,
    )
    b = fill_options(ctx, b, rider)
    with ctx.repo.write() as tx:
        b = unused_booking_id(tx, b)
        tx.save_booking(b)
        tx.audit(
            ctx.entry(
                b,
                principal,
                BookingEvent.REJECT if b.state is BookingStatus.REJECTED else "quote",
                None,
                {"options": len(b.options), "reason": b.reason},
            )
        )
    log.info(
        "quote %s rider=%s status=%s options=%d",
        b.booking_id,
        b.rider_id,
        b.status,
        len(b.options),
    )
    return b


def bad_trip(
    ctx: DispatchContext, origin: LatLon, destination: LatLon, d: date
) -> tuple[str, str, str] | None:
    """Why no vehicle can be asked for this trip at all: (code, English, Japanese), or None."""
    outside = ctx.rules.outside(origin, destination)
    if outside is not None:
        return outside
    if point_key(origin) == point_key(destination):
        return ("same_place", "origin and destination are the same place", "出発地と目的地が同じです")
    today = ctx.now().date()
    if d < today or d > today + timedelta(days=60):
        return (
            "bad_date",
            f"service date {d} is outside today .. 60 days ahead",
            f"{d} は予約できる日（本日〜60日後）ではありません",
        )
    return None


def preview(
    ctx: DispatchContext, origin: LatLon, destination: LatLon, d: date, time: TimeRequest, *, seats: int = 1
) -> tuple[tuple[QuoteOption, ...], str | None]:
    """Options for a trip by nobody in particular (the trip planner's taxi leg): the same insertion
    and fixed fare as ``quote``, nothing stored. Returns (options, None) or ((), reason)."""
    bad = bad_trip(ctx, origin, destination, d)
    if bad is not None:
        return (), f"{bad[0]}: {bad[1]} / {bad[2]}"
    return options_for(ctx, Trip(origin, destination, d, time, max(1, seats), 0), None)


@dataclass(frozen=True, slots=True)
class Trip:
    """What the insertion needs to know of a trip to quote it (a booking, or nobody's preview)."""

    origin: LatLon
    destination: LatLon
    service_date: date
    time: TimeRequest
    seats: int
    wheelchairs: int
    request_id: str = "new"


def fill_options(ctx: DispatchContext, b: Booking, rider: Rider | None) -> Booking:
    """The booking with its options and their expiry, or ``rejected`` with the reason."""
    assert b.time_s is not None
    trip = Trip(
        b.origin,
        b.destination,
        b.service_date,
        TimeRequest(TimeMode(b.time_mode), b.time_s),
        b.seats,
        b.wheelchairs,
        b.booking_id,
    )
    options, reason = options_for(ctx, trip, rider)
    if reason is not None:
        return replace(b, status=BookingStatus.REJECTED, reason=reason)
    expires = ctx.now() + timedelta(seconds=ctx.policy.quote_valid_s)
    return replace(b, options=options, quote_expires_at=expires.astimezone(UTC))


def options_for(
    ctx: DispatchContext, trip: Trip, rider: Rider | None
) -> tuple[tuple[QuoteOption, ...], str | None]:
    """Up to three vehicles' offers for a trip, each with its promise and fixed fare, as
    (options, None), or ((), reason) when no vehicle can take it."""
    p = ctx.policy
    d = trip.service_date
    direct = ctx.travel.leg(trip.origin, trip.destination)
    max_ride = ride_time_limit(direct.duration_s, p.ride_factor, p.ride_extra_s)
    boarding = p.boarding_wheelchair_s if trip.wheelchairs else p.boarding_s
    lead = ctx.service_seconds(d) + 10 * 60  # nothing can be offered sooner than 10 min from now
    t = trip.time.time_s
    arrive_by_mode = trip.time.mode is TimeMode.ARRIVE_BY
    if not arrive_by_mode:
        pw = (max(t, lead), t + p.search_after_s)
        dw = (0, OPEN.latest)
    else:
        dw = (t - p.arrive_early_s, t)
        pw = (max(t - p.arrive_early_s - max_ride, lead), t - boarding - direct.duration_s)
    if pw[0] > pw[1]:
        return (), "too_late: that time has passed or is too close / 時間が過ぎているか、直前すぎます"
    with ctx.repo.read() as tx:  # plan rows may not exist yet: confirm creates them before locking
        model = build_day_model(
            ctx, tx, d, trips={trip.request_id: (trip.origin, trip.destination)}, cached=True
        )
    pickup, dropoff = model.endpoints[trip.request_id]
    req = Request(
        request_id=trip.request_id,
        pickup=pickup,
        dropoff=dropoff,
        seats=trip.seats,
        wheelchairs=trip.wheelchairs,
        pickup_window=TimeWindow(*pw),
        dropoff_window=TimeWindow(*dw),
        boarding_s=boarding,
        alighting_s=p.alighting_s,
        max_ride_time_s=max_ride,
        required_features=ctx.rules.required_features(trip.origin, trip.destination),
        **asked_times(trip.time.mode.value, t),
    )
    opts = insertion_options(model.problem, model.plan, req, max_options=3)
    if not opts:
        reason = precheck(model.problem, req)
        text = (
            f"{reason.name.lower()}: {reason.value}" if reason else "full: every vehicle is busy at that time"
        )
        ja = "その時間帯は空き車両がありません" if reason is None else "条件に合う車両がありません"
        return (), f"{text} / {ja}"
    options = []
    ent = rider_entitlements(ctx, rider, d)  # concession and vouchers: lines of each option's fare
    community = ctx.rules.community_zone(trip.origin, trip.destination)  # its vehicles, its fares
    zone = community.zone if community else zone_for(trip.origin, ctx.zones)
    for o in opts:
        veh = ctx.vehicles[o.vehicle_id]
        company = ctx.companies[veh.company_id]
        try:
            fq = quote_for_rider(
                FareInputs(
                    ctx.tariff.tariff_id,
                    ctx.tariff.version,
                    direct.distance_m,
                    direct.duration_s,
                    ctx.wall_clock(d, o.pickup_s).replace(tzinfo=None),
                    vehicle_class=vehicle_class(veh.kind),
                    area_id=zone.zone_id if zone else None,
                ),
                ctx.tariff,
                ent,
            )
        except FareError as exc:
            raise Invalid(f"cannot price this trip: {exc}", "運賃を計算できません") from None
        options.append(
            QuoteOption(
                vehicle_id=o.vehicle_id,
                company_id=company.company_id,
                company_name=company.name,
                vehicle_kind=veh.kind.value,
                pickup_s=o.pickup_s,
                dropoff_s=o.dropoff_s,
                pickup_from_s=max(pw[0], o.pickup_s - p.pickup_window_before_s),
                pickup_to_s=o.pickup_s + p.pickup_window_after_s,
                arrive_by_s=t if arrive_by_mode else None,
                max_ride_time_s=max_ride,
                direct_distance_m=direct.distance_m,
                shared=len(o.stops) > 2 and overlaps(o.stops, trip.request_id, o.schedule),
                fare=fq,
                plan_version=model.versions.get(o.vehicle_id, 0),
            )
        )
    return with_fare_types(ctx.tariff, options, ent), None


def overlaps(stops: Sequence[PlannedStop], booking_id: str, schedule: Sequence[int]) -> bool:
    """Whether another rider is aboard at some point of this rider's trip."""
    aboard: set[str] = set()
    mine = False
    for (r, kind), _t in zip(stops, schedule[1:-1], strict=True):
        if r.request_id == booking_id:
            if kind is StopKind.PICKUP:
                mine = True
                if aboard:
                    return True
            else:
                return bool(aboard)
        elif kind is StopKind.PICKUP:
            aboard.add(r.request_id)
            if mine:
                return True
        else:
            aboard.discard(r.request_id)
    return False


def confirm(
    ctx: DispatchContext,
    principal: Principal,
    booking_id: str,
    option: int,
    idempotency_key: str | None = None,
    *,
    intended: bool = False,
) -> Booking:
    """Book one of the quoted options. Retries with the same idempotency key (or a second click on
    the same option) return the same booking. The key belongs to the caller and to this request:
    another caller's key is a different key, and the same key with another booking or option is
    refused (``idempotency_key_mismatch``). A duplicate trip is refused unless ``intended``."""
    if not idempotency_key:
        return _confirm(ctx, principal, booking_id, option, None, intended)
    request = {"op": "confirm", "booking_id": booking_id, "option": option, "intended": intended}
    return run_once(
        ctx,
        principal,
        idempotency_key,
        request,
        lambda scope: _confirm(ctx, principal, booking_id, option, scope, intended),
    )


def _confirm(
    ctx: DispatchContext,
    principal: Principal,
    booking_id: str,
    option: int,
    scope: str | None,
    intended: bool,
) -> Booking:
    """Confirm without key handling; ``scope`` (a claimed idempotency key) is finished in the
    booking's own transaction, so the key points at the booking exactly when the booking exists."""
    with ctx.repo.read() as tx:
        b0 = tx.booking(booking_id)
    if b0 is None:
        raise NotFound(f"no booking {booking_id}", f"予約 {booking_id} が見つかりません")
    if b0.state is BookingStatus.QUOTED:
        ctx.repo.ensure_plans(sorted(ctx.vehicles), b0.service_date)
    with ctx.repo.write() as tx:
        b = tx.booking(booking_id, lock=True)
        assert b is not None
        if b.state in (BookingStatus.CONFIRMED, BookingStatus.SCHEDULED) and b.chosen_option == option:
            if scope is not None:
                tx.finish_idempotency(scope, b.booking_id)
            return b  # a double click: already booked with this option
        if b.state is not BookingStatus.QUOTED:
            raise Conflict(
                f"booking {booking_id} is {b.status}, it cannot be confirmed",
                f"この予約は「{b.state.label_ja}」のため確定できません",
                code="bad_state",
            )
        if b.quote_expires_at is not None and aware(b.quote_expires_at) < ctx.now():
            raise Conflict(
                "the quote has expired; quote again",
                "見積の有効期限が切れました。もう一度検索してください",
                code="quote_expired",
            )
        if not 0 <= option < len(b.options):
            raise Invalid(f"option must be 0..{len(b.options) - 1}", "選択肢の番号が不正です")
        opt = b.options[option]
        vid = opt.vehicle_id
        plan = tx.plan(vid, b.service_date, lock=True)
        if plan.out_of_service:
            raise Conflict(
                "that vehicle is out of service; quote again",
                "その車両は運休中です。再検索してください",
                code="option_gone",
            )
        promised = replace(
            held_capacity(b, opt, ctx.vehicles[vid]),
            promised_pickup_from_s=opt.pickup_from_s,
            promised_pickup_to_s=opt.pickup_to_s,
            promised_arrival_by_s=opt.arrive_by_s,
            max_ride_time_s=opt.max_ride_time_s,
        )
        refuse_duplicate(tx, b, opt, guest=guest_limits(ctx, principal), intended=intended)
        model = build_day_model(
            ctx, tx, b.service_date, vehicle_ids=[vid], trips={booking_id: (b.origin, b.destination)}
        )
        req = request_for(ctx, promised, *model.endpoints[booking_id])
        got = insertion_options(model.problem, model.plan, req, max_options=1, max_checks_per_vehicle=400)
        if not got:
            raise Conflict(
                "that option was just taken by another booking; quote again",
                "この便は直前に他の予約で埋まりました。もう一度検索してください",
                code="option_gone",
            )
        ins = got[0]
        now = ctx.now().astimezone(UTC)
        confirmed = replace(
            promised,
            status=BookingStatus.SCHEDULED,
            updated_at=now,
            chosen_option=option,
            vehicle_id=vid,
            company_id=opt.company_id,
            fare_yen=opt.fare_yen,
            fare=opt.fare,
            idempotency_key=scope,
            planned_pickup_s=ins.pickup_s,
            planned_dropoff_s=ins.dropoff_s,
            quote_expires_at=None,
        )
        tx.save_booking(confirmed)
        consume_vouchers(tx, confirmed, opt.fare.inputs.vouchers, now)
        if scope is not None:
            tx.finish_idempotency(scope, booking_id)
        tx.audit(
            ctx.entry(
                b,
                principal,
                BookingEvent.CONFIRM,
                BookingStatus.CONFIRMED,
                {"option": option, "fare_yen": opt.fare_yen},
            )
        )
        tx.audit(
            ctx.entry(
                replace(b, status=BookingStatus.CONFIRMED),
                principal,
                BookingEvent.ASSIGN,
                BookingStatus.SCHEDULED,
                {"vehicle_id": vid},
            )
        )
        new_stops = tuple((r.request_id, k.value) for r, k in ins.stops)
        write_plan(
            tx,
            replace(plan, stops=new_stops, version=plan.version + 1),
            dict(ins_times(ins.stops, ins.schedule)),
            model.bookings,
        )
        ctx.run_changed(tx, opt.company_id, vid, b.service_date, plan.version + 1, "booking_added")
    log.info("booked %s vehicle=%s fare_yen=%s", booking_id, vid, opt.fare_yen)
    return confirmed


def vehicle_class(kind: VehicleKind) -> VehicleClass:  # a jumbo or welfare vehicle has its own class
    return VehicleClass.SMALL if kind is VehicleKind.SEDAN else VehicleClass(kind.value)
