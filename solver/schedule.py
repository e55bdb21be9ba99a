"""Exact timing of one vehicle's stop sequence.

A route's timing is a simple temporal problem: every constraint bounds a difference of two start-of-
service times (travel between consecutive stops, time windows, maximum ride time, route duration). Its
least solution is the longest-path fixpoint of the lower-bound form ``x[v] >= x[u] + w``; the sequence
is feasible exactly when that fixpoint exists (no positive cycle) and meets every upper bound. This
beats a plain forward pass, which waits at the pickup and then breaks the ride-time limit.

The earliest schedule decides feasibility (insertion, LNS, checks); what riders are told comes from
``solver.timing.rider_schedule``, which moves the times within the same constraints to cut riders'
excess ride and waiting.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from solver.problem import Problem, Request, Vehicle
from solver.result import StopKind

PlannedStop = tuple[Request, StopKind]


def stop_location(stop: PlannedStop) -> int:
    r, kind = stop
    return r.pickup if kind is StopKind.PICKUP else r.dropoff


def service_s(stop: PlannedStop) -> int:
    r, kind = stop
    return r.boarding_s if kind is StopKind.PICKUP else r.alighting_s


def stop_window(stop: PlannedStop) -> tuple[int, int]:
    r, kind = stop
    if kind is StopKind.PICKUP:
        return r.pickup_window.earliest, r.pickup_window.latest
    lo, hi = r.dropoff_window.earliest, r.dropoff_window.latest
    if r.picked_up_at is not None:  # ride-time limit of a rider already on board
        hi = min(hi, r.picked_up_at + r.boarding_s + r.max_ride_time_s)
    return lo, hi


def earliest_schedule(
    problem: Problem, vehicle: Vehicle, stops: Sequence[PlannedStop], *, lower: Sequence[int] | None = None
) -> list[int] | None:
    """Start-of-service times ``[depot departure, stop 1, ..., stop k, depot arrival]``, or None.

    ``lower`` raises the earliest time of each of those k + 2 nodes (``solver.timing`` uses it to make
    its optimum integer). Does not check capacity or pairing (see ``solver.checker``); only timing.
    """
    k = len(stops)
    locs = [vehicle.start]
    svc = [0]
    lo = [vehicle.shift.earliest]
    hi = [vehicle.shift.latest]
    # Backward edges: x[pickup] >= x[dropoff] - (L + boarding); x[start] >= x[end] - max_duration.
    back: list[tuple[int, int, int]] = []  # (target, source, weight): x[target] >= x[source] + weight
    pick_pos: dict[str, int] = {}
    for i, (r, kind) in enumerate(stops, start=1):
        if kind is StopKind.PICKUP:
            locs.append(r.pickup)
            svc.append(r.boarding_s)
            lo.append(r.pickup_window.earliest)
            hi.append(r.pickup_window.latest)
            pick_pos[r.request_id] = i
        else:
            locs.append(r.dropoff)
            svc.append(r.alighting_s)
            lo.append(r.dropoff_window.earliest)
            latest = r.dropoff_window.latest
            if r.picked_up_at is not None:  # ride-time limit of a rider already on board
                latest = min(latest, r.picked_up_at + r.boarding_s + r.max_ride_time_s)
            hi.append(latest)
            j = pick_pos.get(r.request_id)
            if j is not None:
                back.append((j, i, -(r.max_ride_time_s + r.boarding_s)))
    locs.append(vehicle.end)
    svc.append(0)
    lo.append(vehicle.shift.earliest)
    hi.append(vehicle.shift.latest)
    dm = problem.duration_s
    travel = (dm[locs[:-1], locs[1:]] + svc[:-1]).tolist()
    if vehicle.max_duration_s is not None:
        back.append((0, k + 1, -vehicle.max_duration_s))
    x = lo[:] if lower is None else [max(a, b) for a, b in zip(lo, lower, strict=True)]
    for _ in range(k + 3):
        for i in range(k + 1):
            t = x[i] + travel[i]
            if t > x[i + 1]:
                x[i + 1] = t
        changed = False
        for target, source, w in back:
            t = x[source] + w
            if t > x[target]:
                x[target] = t
                changed = True
        if any(x[i] > hi[i] for i in range(k + 2)):
            return None
        if not changed:
            return x
    return None  # no fixpoint: the constraints contradict each other


def route_cost(problem: Problem, vehicle: Vehicle, stops: Sequence[PlannedStop]) -> tuple[int, int]:
    """(distance_m, driving duration_s) from start depot through the stops to the end depot."""
    locs = [vehicle.start] + [stop_location(s) for s in stops] + [vehicle.end]
    dist = sum(int(problem.distance_m[a, b]) for a, b in itertools.pairwise(locs))
    dur = sum(int(problem.duration_s[a, b]) for a, b in itertools.pairwise(locs))
    return dist, dur


def tightened_windows(problem: Problem, r: Request) -> tuple[tuple[int, int], tuple[int, int]]:
    """Windows implied by the ride-time limit and the shortest trip (standard DARP preprocessing; the
    shortest, not the direct, drive: the matrices need not obey the triangle inequality)."""
    t = problem.min_ride_s(r)
    ep, lp = r.pickup_window.earliest, r.pickup_window.latest
    ed, ld = r.dropoff_window.earliest, r.dropoff_window.latest
    if r.picked_up_at is not None:
        return (r.picked_up_at, r.picked_up_at), (
            ed,
            min(ld, r.picked_up_at + r.boarding_s + r.max_ride_time_s),
        )
    ep = max(ep, ed - r.boarding_s - r.max_ride_time_s)
    lp = min(lp, ld - r.boarding_s - t)
    ed = max(ed, ep + r.boarding_s + t)
    ld = min(ld, lp + r.boarding_s + r.max_ride_time_s)
    return (ep, lp), (ed, ld)


def path_excess_ride_s(problem: Problem, vehicle: Vehicle, stops: Sequence[PlannedStop]) -> int:
    """Riders' excess ride (per person) along the stop order, as if the vehicle never waited with
    anyone aboard: service and driving from each pickup to its drop-off, less the direct drive. Riders
    already on board count from the route's start. It depends on the order only, so the routing can
    weigh it; the timing (``solver.timing``) then reaches it wherever the windows allow waiting to
    happen before pickups."""
    dm = problem.duration_s
    locs = [vehicle.start] + [stop_location(s) for s in stops]
    svc = [0] + [service_s(s) for s in stops]
    cum = [0] * len(locs)
    for i in range(1, len(locs)):
        cum[i] = cum[i - 1] + svc[i - 1] + int(dm[locs[i - 1], locs[i]])
    pick: dict[str, int] = {}
    total = 0
    for i, (r, kind) in enumerate(stops, start=1):
        if kind is StopKind.PICKUP:
            pick[r.request_id] = i
            continue
        j = pick.get(r.request_id)
        if j is not None:
            total += r.persons * (cum[i] - cum[j] - r.boarding_s - int(dm[r.pickup, r.dropoff]))
        else:
            total += r.persons * (cum[i] - int(dm[vehicle.start, r.dropoff]))
    return total


def route_objective(problem: Problem, vehicle: Vehicle, stops: Sequence[PlannedStop]) -> int:
    """The weighted cost of one route (``Problem.objective``): distance, riders' path excess ride and
    the vehicle's fixed cost when it is used. The LNS kernel computes the same number."""
    if not stops:
        return 0
    o = problem.objective
    dist, _ = route_cost(problem, vehicle, stops)
    ride = path_excess_ride_s(problem, vehicle, stops) if o.excess_ride_per_s else 0
    return o.distance_per_m * dist + o.excess_ride_per_s * ride + o.vehicle_fixed
