"""Changes to a running day: cancellations and driver events, whole-day re-optimisation, vehicle
breakdowns, and the independent audit of a day (``check_day``) and its anonymised reuse."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date
from typing import Any

from dispatch.booking import (
    ACTIVE_STATES,
    Booking,
    BookingEvent,
    BookingStatus,
    TransitionError,
    VehiclePlan,
    hhmm,
    next_status,
    reason_code,
)
from dispatch.context import SYSTEM, DispatchContext
from dispatch.day_model import build_day_model, ins_times, request_for, retime, route_distance, write_plan
from dispatch.domain import Principal, Vehicle
from dispatch.entitlements import return_vouchers
from dispatch.errors import Conflict, Forbidden, Invalid, NotFound
from geo import cell_of
from solver import (
    check,
    insertion_options,
    reoptimise,
)
from solver.api import build_result, plan_objective
from solver.schedule import earliest_schedule

log = logging.getLogger("noriai.dispatch")


def cancel(ctx: DispatchContext, principal: Principal, booking_id: str, reason: str = "") -> Booking:
    """The reason's free text stays on the booking (where erasure and retention remove it); the audit
    trail keeps only its leading code and whether one was given."""
    return transition(ctx, principal, booking_id, BookingEvent.CANCEL, detail={"reason": reason[:200]})


def stop_event(ctx: DispatchContext, principal: Principal, booking_id: str, event: BookingEvent) -> Booking:
    if event not in (
        BookingEvent.ARRIVE,
        BookingEvent.PICK_UP,
        BookingEvent.NO_SHOW,
        BookingEvent.DROP_OFF,
    ):
        raise Invalid(f"{event.value} is not a stop event", "運行報告の種類が不正です")
    return transition(ctx, principal, booking_id, event)


def transition(
    ctx: DispatchContext,
    principal: Principal,
    booking_id: str,
    event: BookingEvent,
    detail: dict[str, Any] | None = None,
) -> Booking:
    with ctx.repo.read() as tx:
        b0 = tx.booking(booking_id)
    if b0 is None or (principal.role == "company" and b0.company_id != principal.company_id):
        raise NotFound(f"no booking {booking_id}", f"予約 {booking_id} が見つかりません")
    with ctx.repo.write() as tx:
        plan = tx.plan(b0.vehicle_id, b0.service_date, lock=True) if b0.vehicle_id else None
        b = tx.booking(booking_id, lock=True)
        assert b is not None
        if b.vehicle_id != b0.vehicle_id:  # moved by a re-optimisation between our read and lock
            raise Conflict(
                "the booking moved to another vehicle just now; try again",
                "予約の車両が変更されました。もう一度操作してください",
                code="retry",
            )
        try:
            new = next_status(b.state, event)
        except TransitionError as exc:
            raise Conflict(
                str(exc), f"「{b.state.label_ja}」の予約にこの操作はできません", code="bad_state"
            ) from None
        t = ctx.service_seconds(b.service_date)
        if (
            event is BookingEvent.NO_SHOW
            and b.promised_pickup_from_s is not None
            and t < b.promised_pickup_from_s
        ):
            raise Conflict(
                f"the pickup window opens at {hhmm(b.promised_pickup_from_s)}; a no-show can only be "
                "reported once it has started",
                f"お迎え時間帯は{hhmm(b.promised_pickup_from_s)}からです。不在（ノーショー）は"
                "お迎え時間帯が始まってから報告してください",
                code="no_show_too_early",
            )
        if event is not BookingEvent.CANCEL and not 0 <= t < 2 * 86_400:
            raise Conflict(
                f"booking {booking_id} is for {b.service_date}; drivers report on the service day",
                f"この予約は{b.service_date.month}月{b.service_date.day}日の運行です",
                code="not_today",
            )
        upd: dict[str, Any] = {"status": new, "updated_at": ctx.now().astimezone(UTC)}
        if event is BookingEvent.ARRIVE:
            upd["arrived_at_s"] = t
        elif event is BookingEvent.PICK_UP:
            upd["picked_up_at_s"] = t
        elif event is BookingEvent.DROP_OFF:
            upd["dropped_off_at_s"] = t
        elif event is BookingEvent.CANCEL:
            upd["reason"] = (detail or {}).get("reason") or None
        changed = replace(b, **upd)
        tx.save_booking(changed)
        if event in (BookingEvent.CANCEL, BookingEvent.NO_SHOW) and b.state is not BookingStatus.PICKED_UP:
            return_vouchers(tx, b, ctx.now())  # the ride was not made: its group-taxi vouchers go back
        audited = dict(detail or {})
        if "reason" in audited:
            text = audited.pop("reason")
            audited.update(reason_code=reason_code(text), reason_given=bool(text))
        tx.audit(ctx.entry(b, principal, event, new, audited))
        new_version = None
        if plan is not None:
            remove = {
                BookingEvent.PICK_UP: "pickup",
                BookingEvent.DROP_OFF: "dropoff",
            }.get(event)
            if event in (BookingEvent.CANCEL, BookingEvent.NO_SHOW):
                stops = plan.without(booking_id)
            elif remove is not None:
                stops = plan.without(booking_id, remove)
            else:
                stops = plan.stops
            if stops != plan.stops or event is BookingEvent.ARRIVE:
                new_version = plan.version + 1
                new_plan = replace(plan, stops=stops, version=new_version)
                if event is not BookingEvent.CANCEL:  # a driver report: the vehicle is at that stop now
                    at = b.destination if event is BookingEvent.DROP_OFF else b.origin
                    new_plan = replace(new_plan, anchor_lat=at.lat, anchor_lon=at.lon, anchor_s=t)
                retime(ctx, tx, new_plan, {booking_id: changed})
        if new_version is not None and b.company_id and b.vehicle_id:
            ctx.run_changed(
                tx, b.company_id, b.vehicle_id, b.service_date, new_version, f"booking_{event.value}"
            )
    log.info("booking %s %s -> %s by %s", booking_id, b.status, new.value, principal.role)
    return changed


def reoptimise_day(
    ctx: DispatchContext,
    d: date,
    *,
    time_limit_s: float = 5.0,
    seed: int = 0,
    iterations: int | None = None,
) -> dict[str, Any]:
    """Improve the whole day from its current plan. Solves outside any transaction; commits only if
    no plan changed meanwhile (else reports ``stale`` and changes nothing). ``iterations``: a fixed
    number of search steps instead of the time limit (reproducible; the simulator uses it)."""
    with ctx.repo.read() as tx:
        model = build_day_model(ctx, tx, d, include_unassigned=True)
    before = sum(route_distance(model.problem, v, s) for v, s in model.plan.items())
    if not model.problem.requests:
        return {"status": "empty", "moved": 0, "distance_before_m": 0, "distance_after_m": 0}
    # the solver weighs riders' excess ride with the distance (``solver.Objective``): the weighted
    # cost never rises, the distance alone may
    cost_before = plan_objective(model.problem, model.plan)
    result = reoptimise(
        model.problem, model.plan, time_limit_s=time_limit_s, seed=seed, iterations=iterations
    )
    after = result.distance_m
    changed_runs: list[tuple[str, str, int]] = []  # (company, vehicle, new plan version)
    moved = 0
    with ctx.repo.write() as tx:
        plans = tx.plans(d, lock=True)
        if any(plans[v].version != ver for v, ver in model.versions.items() if v in plans):
            return {
                "status": "stale",
                "moved": 0,
                "distance_before_m": before,
                "distance_after_m": before,
            }
        routes = {r.vehicle_id: r for r in result.routes}
        fresh = {b.booking_id: b for b in tx.bookings(ids=sorted(model.bookings))}
        for vid in model.versions:
            route = routes.get(vid)
            new_stops = tuple((s.request_id, s.kind.value) for s in route.stops) if route else ()
            old = plans.get(vid, VehiclePlan(vid, d))
            if new_stops == old.stops:
                continue
            times = {(s.request_id, s.kind.value): s.time_s for s in route.stops} if route else {}
            for bid, _k in new_stops:
                b = fresh[bid]
                if b.vehicle_id != vid:
                    moved += 1
                    company = ctx.vehicles[vid].company_id
                    tx.audit(
                        ctx.entry(
                            b,
                            SYSTEM,
                            BookingEvent.ASSIGN,
                            BookingStatus.SCHEDULED,
                            {"vehicle_id": vid, "from": b.vehicle_id, "by": "reoptimise"},
                        )
                    )
                    fresh[bid] = replace(
                        b, vehicle_id=vid, company_id=company, status=BookingStatus.SCHEDULED
                    )
                    tx.save_booking(fresh[bid])
            new_plan = replace(old, stops=new_stops, version=old.version + 1)
            write_plan(tx, new_plan, times, fresh)
            changed_runs.append((ctx.vehicles[vid].company_id, vid, new_plan.version))
        # A booking that changed vehicle left its old plan too, so both companies are in this list.
        for company_id, vid, version in changed_runs:
            ctx.run_changed(tx, company_id, vid, d, version, "reoptimised")
    log.info("reoptimised %s: %d -> %d m, %d moved", d, before, after, moved)
    return {
        "status": "ok",
        "moved": moved,
        "distance_before_m": before,
        "distance_after_m": after,
        "cost_before": cost_before,
        "cost_after": result.cost["objective"],
        "excess_ride_s": result.cost["excess_ride_s"],
        "unassigned": sorted(result.unassigned),
        "runtime_s": round(result.runtime_s, 3),
    }


def vehicle_breakdown(ctx: DispatchContext, principal: Principal, vehicle_id: str, d: date) -> dict[str, Any]:
    """Take a vehicle out of service for the day and move its waiting riders to other vehicles,
    keeping their promised windows. Riders nobody can take go back to ``confirmed`` for an operator."""
    veh = _own_vehicle(ctx, principal, vehicle_id)
    if principal.role == "company" and d != ctx.now().date():
        # A company reports a breakdown on the day; a vehicle off on a later day is the operator's call
        # (it leaves that day's riders waiting for an operator).
        raise Forbidden(
            "a company key can take a vehicle out of service on the service day only; ask the operator",
            "事業者キーで運休にできるのは当日のみです。オペレーターにご連絡ください",
            code="breakdown_not_today",
        )
    ctx.repo.ensure_plans(sorted(ctx.vehicles), d)
    moved: dict[str, str] = {}
    stranded: list[str] = []
    notify: dict[tuple[str, str], int] = {}
    with ctx.repo.write() as tx:
        plans = tx.plans(d, lock=True)
        broken = plans[vehicle_id]
        waiting = [bid for bid, k in broken.stops if k == "pickup"]
        kept = tuple(s for s in broken.stops if s[0] not in set(waiting))  # riders already aboard stay
        tx.save_plan(replace(broken, stops=kept, out_of_service=True, version=broken.version + 1))
        notify[(veh.company_id, vehicle_id)] = broken.version + 1
        bookings = {b.booking_id: b for b in tx.bookings(ids=waiting)}
        trips = {bid: (b.origin, b.destination) for bid, b in bookings.items()}
        model = build_day_model(ctx, tx, d, trips=trips)
        for bid in sorted(waiting, key=lambda x: bookings[x].promised_pickup_from_s or 0):
            b = bookings[bid]
            req = request_for(ctx, replace(b, status=BookingStatus.CONFIRMED), *model.endpoints[bid])
            opts = insertion_options(
                model.problem, model.plan, req, max_options=1, max_checks_per_vehicle=400
            )
            if not opts:
                stranded.append(bid)
                tx.save_booking(
                    replace(
                        b,
                        status=BookingStatus.CONFIRMED,
                        vehicle_id=None,
                        company_id=None,
                        reason="needs_operator: vehicle breakdown / 車両故障・要対応",
                    )
                )
                tx.audit(
                    ctx.entry(
                        b,
                        principal,
                        BookingEvent.UNASSIGN,
                        BookingStatus.CONFIRMED,
                        {"from": vehicle_id, "why": "breakdown"},
                    )
                )
                continue
            o = opts[0]
            new_v = ctx.vehicles[o.vehicle_id]
            model.plan[o.vehicle_id] = list(o.stops)
            moved[bid] = o.vehicle_id
            b2 = replace(b, vehicle_id=o.vehicle_id, company_id=new_v.company_id)
            tx.save_booking(b2)
            tx.audit(
                ctx.entry(
                    b,
                    principal,
                    BookingEvent.ASSIGN,
                    BookingStatus.SCHEDULED,
                    {"vehicle_id": o.vehicle_id, "from": vehicle_id, "why": "breakdown"},
                )
            )
            old = plans[o.vehicle_id]
            new_plan = replace(
                old, stops=tuple((r.request_id, k.value) for r, k in o.stops), version=old.version + 1
            )
            plans[o.vehicle_id] = new_plan
            others = {x.booking_id: x for x in tx.bookings(ids=[s[0] for s in new_plan.stops])}
            write_plan(tx, new_plan, dict(ins_times(o.stops, o.schedule)), {**others, bid: b2})
            notify[(new_v.company_id, o.vehicle_id)] = new_plan.version
        for (company_id, vid), version in notify.items():
            ctx.run_changed(tx, company_id, vid, d, version, "breakdown")
    log.warning(
        "vehicle %s out of service on %s: %d moved, %d need an operator",
        vehicle_id,
        d,
        len(moved),
        len(stranded),
    )
    return {"vehicle_id": vehicle_id, "moved": moved, "needs_operator": stranded}


def _own_vehicle(ctx: DispatchContext, principal: Principal, vehicle_id: str) -> Vehicle:
    veh = ctx.vehicles.get(vehicle_id)
    if veh is None or (principal.role == "company" and veh.company_id != principal.company_id):
        raise NotFound(f"no vehicle {vehicle_id}", f"車両 {vehicle_id} が見つかりません")
    return veh


def restore_vehicle(ctx: DispatchContext, principal: Principal, vehicle_id: str, d: date) -> dict[str, Any]:
    """Put a vehicle taken out of service back in service for day ``d`` (its company on the service day,
    an operator on any day). Riders moved away stay where they are; riders left for an operator can be
    placed again by a re-optimisation, which now sees this vehicle."""
    veh = _own_vehicle(ctx, principal, vehicle_id)
    if principal.role == "company" and d != ctx.now().date():
        raise Forbidden(
            "a company key can restore a vehicle on the service day only",
            "事業者キーで運行再開できるのは当日のみです",
            code="restore_not_today",
        )
    ctx.repo.ensure_plans([vehicle_id], d)
    with ctx.repo.write() as tx:
        plan = tx.plan(vehicle_id, d, lock=True)
        if not plan.out_of_service:
            return {"vehicle_id": vehicle_id, "service_date": d.isoformat(), "out_of_service": False}
        version = plan.version + 1
        tx.save_plan(replace(plan, out_of_service=False, version=version))
        ctx.run_changed(tx, veh.company_id, vehicle_id, d, version, "restored")
    log.warning("vehicle %s back in service on %s (by %s)", vehicle_id, d, principal.role)
    return {"vehicle_id": vehicle_id, "service_date": d.isoformat(), "out_of_service": False}


def check_day(ctx: DispatchContext, d: date) -> list[str]:
    """Independent audit of a day: every plan times out within every promise and capacity (checked
    by ``solver.check``, which shares no code with the insertion), every scheduled or on-board
    booking sits in exactly one plan, and nothing else does. Empty list = all good."""
    out: list[str] = []
    with ctx.repo.read() as tx:
        plans = tx.plans(d)
        active = {b.booking_id: b for b in tx.bookings(service_date=d, statuses=list(ACTIVE_STATES))}
        model = build_day_model(ctx, tx, d)  # read afresh: the audit does not trust the cache
    seen: dict[str, str] = {}
    for vid, plan in plans.items():
        for bid, kind in plan.stops:
            if bid not in active:
                out.append(f"{vid}: {bid} is in the plan but not scheduled or on board")
            if kind == "dropoff":
                if seen.get(bid, vid) != vid:
                    out.append(f"{bid} is in the plans of {seen[bid]} and {vid}")
                seen[bid] = vid
    for bid, b in active.items():
        if bid not in seen:
            out.append(f"{bid} ({b.status}) is in no vehicle's plan")
        elif b.vehicle_id != seen[bid]:
            out.append(f"{bid} says vehicle {b.vehicle_id} but rides in {seen[bid]}")
    untimed = [
        v.vehicle_id
        for v in model.problem.vehicles
        if model.plan.get(v.vehicle_id)
        and earliest_schedule(model.problem, v, model.plan[v.vehicle_id]) is None
    ]
    if untimed:  # the checker needs timed routes: report these, do not raise
        return [*out, *(f"{vid}: its plan cannot be timed within every promise" for vid in untimed)]
    result = build_result(model.problem, model.plan, {}, status="audit", started=0.0)
    out += [str(v) for v in check(model.problem, result)]
    return out


def reusable_trips(ctx: DispatchContext, d: date, resolution: int = 8) -> list[dict[str, Any]]:
    """The day's trips for analysis and simulation, from riders who opted in to data reuse only.

    No names, phones, rider ids or coordinates: origins and destinations become H3 cells
    (resolution 8, about 0.7 km^2), so a trip cannot be traced to a home."""
    with ctx.repo.read() as tx:
        day = tx.bookings(service_date=d)
        consent = {
            rid: bool(r and r.consent.data_reuse)
            for rid in {b.rider_id for b in day}
            for r in [tx.rider(rid)]
        }
    out = []
    for b in day:
        if not consent.get(b.rider_id) or b.state in (BookingStatus.QUOTED, BookingStatus.ON_CALL):
            continue
        out.append(
            {
                "service_date": d.isoformat(),
                "status": b.status,
                "origin_cell": cell_of(b.origin, resolution),
                "destination_cell": cell_of(b.destination, resolution),
                "destination_kind": ctx.places[b.dest_place_id].kind.value
                if b.dest_place_id in ctx.places
                else None,
                "time_mode": b.time_mode,
                "requested_s": b.time_s,
                "planned_pickup_s": b.planned_pickup_s,
                "planned_dropoff_s": b.planned_dropoff_s,
                "seats": b.party[0],  # the party: a replayed private ride is for the people, not the car
                "wheelchairs": b.party[1],
                "fare_yen": b.fare_yen,
                "reason": (b.reason or "").split(":")[0] or None
                if b.state is BookingStatus.REJECTED
                else None,
            }
        )
    return out
