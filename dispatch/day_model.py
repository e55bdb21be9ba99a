"""The one mapping between dispatch and the solver: the day's plans and bookings as an immutable
``solver.Problem`` (``DayModel``), a booking's promise as a ``solver.Request``, and solver stop orders
and times back into plan rows and planned times."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt

from dispatch.booking import Booking, BookingStatus, TimeMode, VehiclePlan
from dispatch.context import DispatchContext
from dispatch.day_cache import DayParts, VehicleStart
from dispatch.matrix import MatrixView, PointMatrix, point_key
from dispatch.offers import capacity_feature, private_features
from dispatch.persistence.repository import Tx
from geo import LatLon
from solver import OPEN, Objective, Problem, Request, StopKind, TimeWindow
from solver import Vehicle as SolverVehicle
from solver.schedule import PlannedStop
from solver.timing import rider_schedule

__all__ = [
    "DayModel",
    "PointMatrix",
    "asked_times",
    "build_day_model",
    "ins_times",
    "request_for",
    "retime",
    "route_distance",
    "write_plan",
]


Trips = Mapping[str, tuple[LatLon, LatLon]]  # trip id -> (origin, destination), for trips not yet in the day


@dataclass
class DayModel:
    """The day as the solver sees it. ``endpoints`` gives, for each trip asked for beside the day's
    bookings (a quote, a confirmation, riders moved off a broken vehicle), its pickup and drop-off
    indices in the problem's matrices. ``plan`` and ``bookings`` are the caller's to change."""

    problem: Problem
    plan: dict[str, list[PlannedStop]]
    bookings: dict[str, Booking]
    versions: dict[str, int]
    endpoints: dict[str, tuple[int, int]] = field(default_factory=dict)


def request_for(ctx: DispatchContext, b: Booking, pickup: int, dropoff: int) -> Request:
    """A booking as a solver request: its promise (pickup window, latest arrival, maximum ride time)
    as hard windows; ``pickup`` and ``dropoff`` are the indices of its ends in the day's matrices."""
    wheelchair = b.wheelchairs > 0
    arrive_from = 0
    # once aboard, arriving early is no longer a broken promise (the rider chose to get in)
    if b.time_mode == TimeMode.ARRIVE_BY.value and b.time_s is not None and b.picked_up_at_s is None:
        # an appointment: neither late nor needlessly early
        arrive_from = max(0, b.time_s - ctx.policy.arrive_early_s)
    return Request(
        request_id=b.booking_id,
        pickup=pickup,
        dropoff=dropoff,
        seats=b.seats,
        wheelchairs=b.wheelchairs,
        pickup_window=TimeWindow(b.promised_pickup_from_s or 0, b.promised_pickup_to_s or OPEN.latest),
        dropoff_window=TimeWindow(arrive_from, b.promised_arrival_by_s or OPEN.latest),
        boarding_s=ctx.policy.boarding_wheelchair_s if wheelchair else ctx.policy.boarding_s,
        alighting_s=ctx.policy.alighting_s,
        max_ride_time_s=b.max_ride_time_s or OPEN.latest,
        vehicle_id=b.vehicle_id if b.state is BookingStatus.PICKED_UP else None,
        picked_up_at=b.picked_up_at_s if b.state is BookingStatus.PICKED_UP else None,
        required_features=ctx.rules.required_features(b.origin, b.destination) | private_features(b),
        **asked_times(b.time_mode, b.time_s),
    )


class Asked(TypedDict):
    wanted_pickup_s: int | None
    appointment_s: int | None


def asked_times(time_mode: str, time_s: int | None) -> Asked:
    """What the rider asked for, for the solver's timing: a pickup time or an appointment."""
    if time_mode == TimeMode.ARRIVE_BY.value:
        return {"wanted_pickup_s": None, "appointment_s": time_s}
    return {"wanted_pickup_s": time_s, "appointment_s": None}


def objective(ctx: DispatchContext) -> Objective:
    """The solver's weights for this service (riders' time counts; see ``solver.Objective``)."""
    return Objective(arrive_margin_s=ctx.policy.arrive_margin_s)


def build_day_model(
    ctx: DispatchContext,
    tx: Tx,
    d: date,
    *,
    vehicle_ids: Sequence[str] | None = None,
    trips: Trips | None = None,
    include_unassigned: bool = False,
    cached: bool = False,
) -> DayModel:
    """The day's plans and bookings as one solver problem, with ``trips`` added to its matrices.

    With ``cached`` (only from a read transaction, which sees committed rows only), the whole day
    (every vehicle, assigned bookings only: what a quote asks for) comes from ``ctx.day_cache`` while
    no plan version has moved; a restricted or unassigned-inclusive model is always read afresh. The
    vehicles are timed on every call: a standing vehicle cannot leave sooner than now, and now moves."""
    trips = dict(trips or {})
    trip_points = [p for ends in trips.values() for p in ends]
    plans = tx.plans(d, vehicle_ids=vehicle_ids)  # (a restricted model reads only its rows)
    cacheable = cached and vehicle_ids is None and not include_unassigned
    key = (tuple(sorted((v, p.version, p.out_of_service) for v, p in plans.items())), ctx.matrix.generation)
    day = ctx.day_cache.get(d, key) if cacheable else None
    if day is not None:
        view = ctx.matrix.lookup(trip_points)
        if view.generation != key[1]:  # the matrix started afresh: the cached indices are void
            day = None
    if day is None:
        last = ctx.day_cache.last(d) if cacheable else None
        fresh = _refresh_day(ctx, tx, d, plans, last, key[1], trip_points) if last is not None else None
        day, view = fresh or _read_day(ctx, tx, d, plans, vehicle_ids, include_unassigned, trip_points)
        if cacheable:
            ctx.day_cache.put(d, (key[0], view.generation), day)
    vehicles = tuple(_timed(ctx, d, s, view.duration_s) for s in day.starts)
    p = day.problem
    if view.duration_s is not p.duration_s or vehicles != p.vehicles:  # new points, or now moved
        p = Problem(p.requests, vehicles, view.duration_s, view.distance_m, p.name, p.objective)
        if cacheable:
            ctx.day_cache.put(d, (key[0], view.generation), replace(day, problem=p))
    ends = iter(view.indices)
    endpoints = {t: (next(ends), next(ends)) for t in trips}
    return DayModel(
        p,
        {v: list(stops) for v, stops in day.plan.items()},
        dict(day.bookings),
        dict(day.versions),
        endpoints,
    )


def _timed(ctx: DispatchContext, d: date, s: VehicleStart, dur: npt.NDArray[np.int64]) -> SolverVehicle:
    """The solver's vehicle, timed now: standing where it last reported (idle, or at a door waiting
    for the rider), it has not left yet, so it cannot leave sooner than now (at the door: than the
    planned pickup, after which the rider is boarding) ... but a plan that only drives home must
    still fit in the shift."""
    earliest = s.earliest_s
    if s.standing:
        now_s = ctx.service_seconds(d)
        if s.door_pickup_s is not None:
            now_s = min(now_s, s.door_pickup_s)
        earliest = max(earliest, min(now_s, s.latest_s - int(dur[s.start, s.end])))
    return SolverVehicle(
        s.vehicle_id, s.start, s.end, TimeWindow(earliest, s.latest_s), s.seats, s.wheelchairs, s.features
    )


def _read_day(
    ctx: DispatchContext,
    tx: Tx,
    d: date,
    plans: Mapping[str, VehiclePlan],
    vehicle_ids: Sequence[str] | None,
    include_unassigned: bool,
    trip_points: Sequence[LatLon],
) -> tuple[DayParts, MatrixView]:
    vids = _working(ctx, d, plans, vehicle_ids)
    wanted = {bid for v in vids for bid, _ in plans.get(v, VehiclePlan(v, d)).stops}
    statuses = [BookingStatus.SCHEDULED, BookingStatus.PICKED_UP]
    if include_unassigned:
        statuses.append(BookingStatus.CONFIRMED)
    if vehicle_ids is None or include_unassigned:
        found = tx.bookings(service_date=d, statuses=statuses)
    else:
        found = tx.bookings(ids=sorted(wanted)) if wanted else []
    bookings = {
        b.booking_id: b
        for b in sorted(found, key=_booking_order)  # one order for a fresh read and a refresh
        if b.booking_id in wanted or (include_unassigned and b.state is BookingStatus.CONFIRMED)
    }
    points: list[LatLon] = [ctx.companies[ctx.vehicles[v].company_id].depot for v in vids]
    anchors = {v: plans[v] for v in vids if v in plans and plans[v].anchor is not None}
    points += [p.anchor for p in anchors.values() if p.anchor is not None]
    for b in bookings.values():
        points += [b.origin, b.destination]
    view = ctx.matrix.lookup([*points, *trip_points])
    index = {point_key(p): i for p, i in zip(points, view.indices, strict=False)}
    starts = [_start_of(ctx, d, v, plans, bookings, index) for v in vids]
    requests = {
        bid: request_for(ctx, b, index[point_key(b.origin)], index[point_key(b.destination)])
        for bid, b in bookings.items()
    }
    vehicles = tuple(_timed(ctx, d, s, view.duration_s) for s in starts)
    problem = Problem(
        tuple(requests.values()),
        vehicles,
        view.duration_s,
        view.distance_m,
        name=f"day {d}",
        objective=objective(ctx),
    )
    plan: dict[str, tuple[PlannedStop, ...]] = {}
    for v in vids:
        plan[v] = tuple(
            (requests[bid], StopKind(kind))
            for bid, kind in plans.get(v, VehiclePlan(v, d)).stops
            if bid in requests
        )
    versions = {v: plans[v].version if v in plans else 0 for v in vids}
    trip_view = MatrixView(view.indices[len(points) :], view.duration_s, view.distance_m, view.generation)
    return DayParts(problem, plan, bookings, versions, tuple(starts)), trip_view


def _refresh_day(
    ctx: DispatchContext,
    tx: Tx,
    d: date,
    plans: Mapping[str, VehiclePlan],
    last: DayParts,
    generation: int,
    trip_points: Sequence[LatLon],
) -> tuple[DayParts, MatrixView] | None:
    """The whole day from the last cached one, reading only the vehicles whose plan version moved
    (a booking changes one or two plans; the other vehicles' requests and starts are what they were,
    by the cache's own argument). None when a fresh read is as cheap or the matrix started afresh.
    Requests keep a fresh read's order (by booking time), so the model equals one read afresh."""
    vids = _working(ctx, d, plans, None)
    rows = {v: plans.get(v) or VehiclePlan(v, d) for v in vids}
    known = {s.vehicle_id: s for s in last.starts}
    stale = [v for v in vids if v not in known or last.versions.get(v) != rows[v].version]
    if len(stale) * 2 > len(vids):
        return None
    wanted = {bid for v in stale for bid, _ in rows[v].stops}
    active = (BookingStatus.SCHEDULED, BookingStatus.PICKED_UP)
    found = {
        b.booking_id: b
        for b in (tx.bookings(ids=sorted(wanted)) if wanted else [])
        if b.service_date == d and b.state in active
    }
    points: list[LatLon] = [ctx.companies[ctx.vehicles[v].company_id].depot for v in stale]
    points += [a for a in (rows[v].anchor for v in stale) if a is not None]
    for b in found.values():
        points += [b.origin, b.destination]
    view = ctx.matrix.lookup([*points, *trip_points])
    if view.generation != generation:
        return None
    index = {point_key(p): i for p, i in zip(points, view.indices, strict=False)}
    fresh_requests = {
        bid: request_for(ctx, b, index[point_key(b.origin)], index[point_key(b.destination)])
        for bid, b in found.items()
    }
    plan: dict[str, tuple[PlannedStop, ...]] = {}
    bookings: dict[str, Booking] = {}
    requests: dict[str, Request] = {}
    starts = []
    for v in vids:
        if v in known and v not in stale:
            plan[v] = last.plan[v]
            starts.append(known[v])
            for r, _kind in plan[v]:
                requests[r.request_id] = r
                bookings[r.request_id] = last.bookings[r.request_id]
            continue
        plan[v] = tuple((fresh_requests[bid], StopKind(k)) for bid, k in rows[v].stops if bid in found)
        starts.append(_start_of(ctx, d, v, plans, found, index))
        for bid, _k in rows[v].stops:
            if bid in found:
                requests[bid], bookings[bid] = fresh_requests[bid], found[bid]
    order = sorted(bookings, key=lambda bid: _booking_order(bookings[bid]))
    problem = Problem(
        tuple(requests[bid] for bid in order),
        tuple(_timed(ctx, d, s, view.duration_s) for s in starts),
        view.duration_s,
        view.distance_m,
        name=f"day {d}",
        objective=objective(ctx),
    )
    versions = {v: rows[v].version for v in vids}
    trip_view = MatrixView(view.indices[len(points) :], view.duration_s, view.distance_m, view.generation)
    return DayParts(problem, plan, {bid: bookings[bid] for bid in order}, versions, tuple(starts)), trip_view


def _booking_order(b: Booking) -> tuple[datetime, str]:
    return (b.created_at, b.booking_id)


def _working(
    ctx: DispatchContext, d: date, plans: Mapping[str, VehiclePlan], vehicle_ids: Sequence[str] | None
) -> list[str]:
    """The vehicles of the day's model: in service, on shift or with stops planned."""
    return [
        v
        for v in (vehicle_ids if vehicle_ids is not None else sorted(ctx.vehicles))
        if not plans.get(v, VehiclePlan(v, d)).out_of_service
        and (ctx.vehicles[v].shift_on(d) is not None or plans.get(v, VehiclePlan(v, d)).stops)
    ]


def _start_of(
    ctx: DispatchContext,
    d: date,
    v: str,
    plans: Mapping[str, VehiclePlan],
    bookings: Mapping[str, Booking],
    index: Mapping[tuple[float, float], int],
) -> VehicleStart:
    """Where and from when vehicle ``v``'s day goes on (its depot, or where it last reported)."""
    veh = ctx.vehicles[v]
    shift = veh.shift_on(d) or veh.shift  # off duty with stops already planned: the usual shift
    depot = index[point_key(ctx.companies[veh.company_id].depot)]
    start, earliest = depot, shift.start_s
    anchored = plans.get(v)
    if anchored is not None and anchored.anchor is not None and anchored.anchor_s is not None:
        # the vehicle is out on its run: the rest of its day starts where it last reported
        start = index[point_key(anchored.anchor)]
        earliest = min(max(earliest, anchored.anchor_s), shift.end_s)
    else:
        anchored = None
    plan_stops = plans.get(v, VehiclePlan(v, d)).stops
    first = bookings.get(plan_stops[0][0]) if plan_stops else None
    at_door = (
        first is not None
        and plan_stops[0][1] == "pickup"
        and anchored is not None
        and first.arrived_at_s is not None
        and first.arrived_at_s == anchored.anchor_s
    )
    door_pickup_s = None
    if at_door and first is not None:
        door_pickup_s = first.planned_pickup_s or first.promised_pickup_from_s
    return VehicleStart(
        v,
        start,
        depot,
        earliest,
        shift.end_s,
        veh.seats,
        veh.wheelchair_places,
        ctx.rules.vehicle_features(veh) | {capacity_feature(veh.seats, veh.wheelchair_places)},
        standing=not plan_stops or at_door,
        door_pickup_s=door_pickup_s,
    )


def write_plan(
    tx: Tx,
    plan: VehiclePlan,
    times: Mapping[tuple[str, str], int],
    bookings: Mapping[str, Booking],
) -> None:
    """Store a vehicle's new stop order and refresh the planned times of the riders on it."""
    tx.save_plan(plan)
    save_planned_times(tx, plan, times, bookings)


def save_planned_times(
    tx: Tx,
    plan: VehiclePlan,
    times: Mapping[tuple[str, str], int],
    bookings: Mapping[str, Booking],
) -> None:
    """Write the planned pickup and drop-off times of the plan's riders that changed."""
    updates: dict[str, dict[str, Any]] = {}
    for bid, kind in plan.stops:
        b = bookings.get(bid)
        t = times.get((bid, kind))
        field_name = "planned_pickup_s" if kind == "pickup" else "planned_dropoff_s"
        if b is not None and t is not None and getattr(b, field_name) != t:
            updates.setdefault(bid, {})[field_name] = t
    for bid, upd in updates.items():
        tx.save_booking(replace(bookings[bid], **upd))


def retime(ctx: DispatchContext, tx: Tx, plan: VehiclePlan, changed: Mapping[str, Booking]) -> None:
    """Store a plan after stops were removed, with fresh planned times when the route still times."""
    tx.save_plan(plan)
    model = build_day_model(ctx, tx, plan.service_date, vehicle_ids=[plan.vehicle_id])
    bookings = {**model.bookings, **changed}
    by_id = {r.request_id: r for r in model.problem.requests}
    stops = [(by_id[bid], StopKind(k)) for bid, k in plan.stops if bid in by_id]
    veh = model.problem.vehicles[0] if model.problem.vehicles else None
    sched = rider_schedule(model.problem, veh, stops) if veh is not None else None
    times = dict(ins_times(stops, sched)) if sched is not None else {}
    save_planned_times(tx, plan, times, bookings)  # (the plan row itself is saved above)


def ins_times(stops: Sequence[PlannedStop], schedule: Sequence[int]) -> list[tuple[tuple[str, str], int]]:
    return [((r.request_id, k.value), t) for (r, k), t in zip(stops, schedule[1:-1], strict=True)]


def route_distance(problem: Problem, vid: str, stops: Sequence[PlannedStop]) -> int:
    if not stops:
        return 0
    v = problem.vehicles[problem.vehicle_index[vid]]
    locs = [v.start] + [r.pickup if k is StopKind.PICKUP else r.dropoff for r, k in stops] + [v.end]
    return int(sum(problem.distance_m[a, b] for a, b in itertools.pairwise(locs)))
