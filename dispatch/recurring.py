"""Return trips (at a time, or on call), recurring rules, and the day's bookings made from those rules."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, date
from typing import Any

from dispatch.access import booking_for, resolve, rider_by_id
from dispatch.booking import (
    Booking,
    BookingEvent,
    BookingStatus,
    RecurrenceRule,
    RecurringRule,
    TimeMode,
    TimeRequest,
    new_booking_id,
)
from dispatch.context import SYSTEM, DispatchContext, new_id, unused_booking_id
from dispatch.domain import Principal
from dispatch.errors import Conflict, Invalid
from dispatch.inputs import Endpoint, EndpointKind, QuoteRequest, RuleRequest
from dispatch.quotes import confirm, fill_options, quote
from geo import LatLon

log = logging.getLogger("noriai.dispatch")


def add_return(
    ctx: DispatchContext, principal: Principal, booking_id: str, mode: str, time_s: int | None
) -> Booking:
    """The trip back: at a time (a new quote) or 'call when ready' (an on_call booking)."""
    b = booking_for(ctx, principal, booking_id)
    rider = rider_by_id(ctx, b.rider_id)
    back_from = Endpoint(EndpointKind.POINT, point=b.destination, label=b.dest_label)
    back_to = Endpoint(EndpointKind.POINT, point=b.origin, label=b.origin_label)
    if b.dest_place_id:
        back_from = Endpoint(EndpointKind.PLACE, place_id=b.dest_place_id)
    if mode == "at":
        if time_s is None:
            raise Invalid("a return 'at' a time needs the time", "帰りの時刻を指定してください")
        return quote(
            ctx,
            principal,
            QuoteRequest(
                rider.rider_id,
                back_from,
                back_to,
                b.service_date,
                TimeRequest(TimeMode.PICKUP_AFTER, time_s),
                return_of=b.booking_id,
            ),
        )
    if mode != "call":
        raise Invalid("return mode must be 'at' or 'call'", "帰りの指定が不正です")
    olabel, opoint, oplace = resolve(ctx, back_from, rider)
    now = ctx.now().astimezone(UTC)
    on_call = Booking(
        booking_id=new_booking_id(),
        rider_id=rider.rider_id,
        service_date=b.service_date,
        status=BookingStatus.ON_CALL,
        created_at=now,
        updated_at=now,
        origin_label=olabel,
        origin_lat=opoint.lat,
        origin_lon=opoint.lon,
        origin_place_id=oplace,
        dest_label=b.origin_label,
        dest_lat=b.origin_lat,
        dest_lon=b.origin_lon,
        dest_place_id=b.origin_place_id,
        time_mode="on_call",
        seats=b.party[0],  # the party, not a private ride's whole car: the return is quoted afresh
        wheelchairs=b.party[1],
        needs=b.needs,
        return_of=b.booking_id,
    )
    with ctx.repo.write() as tx:
        on_call = unused_booking_id(tx, on_call)
        tx.save_booking(on_call)
        tx.audit(ctx.entry(on_call, principal, "create_on_call", None, {"return_of": b.booking_id}))
    return on_call


def call(ctx: DispatchContext, principal: Principal, booking_id: str) -> Booking:
    """The rider phoned: quote the waiting return trip for pickup from now on."""
    b = booking_for(ctx, principal, booking_id)
    if b.state is not BookingStatus.ON_CALL:
        raise Conflict(
            f"booking {booking_id} is {b.status}, not on_call",
            f"この予約は「{b.state.label_ja}」です",
            code="bad_state",
        )
    rider = rider_by_id(ctx, b.rider_id)
    now_s = ctx.service_seconds(b.service_date)
    quoted = fill_options(
        ctx,
        replace(
            b,
            status=BookingStatus.QUOTED,
            time_mode=TimeMode.PICKUP_AFTER.value,
            time_s=max(0, now_s),
        ),
        rider,
    )
    with ctx.repo.write() as tx:
        cur = tx.booking(booking_id, lock=True)
        if cur is None or cur.state is not BookingStatus.ON_CALL:
            raise Conflict("booking changed meanwhile", "予約が変更されました", code="bad_state")
        tx.save_booking(quoted)
        tx.audit(ctx.entry(b, principal, BookingEvent.CALL, quoted.state, {}))
    return quoted


def add_rule(ctx: DispatchContext, principal: Principal, rr: RuleRequest) -> RecurringRule:
    rider = rider_by_id(ctx, rr.rider_id)
    resolve(ctx, rr.origin, rider)
    resolve(ctx, rr.destination, rider)
    if rr.return_mode not in ("none", "at", "call"):
        raise Invalid("return_mode must be none, at or call", "帰りの指定が不正です")
    if rr.return_mode == "at" and rr.return_time_s is None:
        raise Invalid("return_mode 'at' needs return_time", "帰りの時刻を指定してください")
    rule = RecurringRule(
        rule_id=new_id("RR"),
        rider_id=rr.rider_id,
        origin_json=endpoint_json(rr.origin),
        dest_json=endpoint_json(rr.destination),
        time_mode=rr.time.mode.value,
        time_s=rr.time.time_s,
        weekdays=",".join(str(w) for w in sorted(rr.rule.weekdays)),
        start_date=rr.rule.start,
        end_date=rr.rule.end,
        skip_holidays=rr.rule.skip_holidays,
        exceptions=",".join(sorted(x.isoformat() for x in rr.rule.exceptions)),
        return_mode=rr.return_mode,
        return_time_s=rr.return_time_s,
        active=True,
        created_at=ctx.now().astimezone(UTC),
    )
    with ctx.repo.write() as tx:
        tx.add_rule(rule)
    log.info("recurring rule %s for rider %s", rule.rule_id, rule.rider_id)
    return rule


def materialise(ctx: DispatchContext, d: date) -> list[dict[str, Any]]:
    """Create the day's bookings from the recurring rules (once per rule and day; reruns skip)."""
    with ctx.repo.read() as tx:
        rules = tx.rules()
        existing = {b.recurring_rule_id for b in tx.bookings(service_date=d) if b.recurring_rule_id}
    out = []
    for rule in rules:
        rec = RecurrenceRule(
            weekdays=frozenset(int(x) for x in rule.weekdays.split(",")),
            start=rule.start_date,
            end=rule.end_date,
            skip_holidays=rule.skip_holidays,
            exceptions=frozenset(date.fromisoformat(x) for x in rule.exceptions.split(",") if x),
        )
        if not rec.occurs_on(d) or rule.rule_id in existing:
            continue
        q = quote(
            ctx,
            SYSTEM,
            QuoteRequest(
                rule.rider_id,
                endpoint_from_json(rule.origin_json),
                endpoint_from_json(rule.dest_json),
                d,
                TimeRequest(TimeMode(rule.time_mode), rule.time_s),
                recurring_rule_id=rule.rule_id,
            ),
        )
        status = q.status
        if q.state is BookingStatus.QUOTED:
            try:
                q = confirm(
                    ctx, SYSTEM, q.booking_id, 0, idempotency_key=f"rule:{rule.rule_id}:{d.isoformat()}"
                )
            except Invalid as exc:
                if exc.code != "idempotency_key_mismatch":
                    raise
                # another run (the scheduled job and an operator's button at once) confirmed this
                # rule's day with its own quote first: the day is made; ours is left to expire
                continue
            status = q.status
            if rule.return_mode == "at" and rule.return_time_s is not None:
                back = add_return(ctx, SYSTEM, q.booking_id, "at", rule.return_time_s)
                if back.state is BookingStatus.QUOTED:
                    confirm(ctx, SYSTEM, back.booking_id, 0)
            elif rule.return_mode == "call":
                add_return(ctx, SYSTEM, q.booking_id, "call", None)
        out.append(
            {"rule_id": rule.rule_id, "booking_id": q.booking_id, "status": status, "reason": q.reason}
        )
    return out


def endpoint_json(e: Endpoint) -> str:
    return json.dumps(
        {
            "kind": e.kind,
            "place_id": e.place_id,
            "label": e.label,
            "lat": e.point.lat if e.point else None,
            "lon": e.point.lon if e.point else None,
        }
    )


def endpoint_from_json(text: str) -> Endpoint:
    d = json.loads(text)
    point = LatLon(d["lat"], d["lon"]) if d.get("lat") is not None else None
    return Endpoint(EndpointKind(d["kind"]), d.get("place_id"), point, d.get("label") or "")
