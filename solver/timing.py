"""Rider-first timing of a fixed stop order: an exact linear programme per route.

Once a vehicle's stop order is fixed, its start-of-service times may still move: the earliest schedule
(``schedule.earliest_schedule``) collects every rider as early as the windows allow, so a lone rider
with an appointment is picked up at the earliest time that still meets the ride-time limit and then
rides (or waits at the door) for the whole limit. This module chooses the times that serve the riders:

minimise, per person, ``excess_ride_per_s`` x (drop-off - pickup) + ``wait_per_s`` x waiting, where
waiting is a pickup later than the time asked (``Request.wanted_pickup_s``) or an arrival away from
``appointment - arrive_margin_s`` (``Request.appointment_s``), subject to every hard constraint of the
earliest schedule (travel and service times, windows, ride-time limits, shift, route duration) and to
total excess ride no worse than the earliest schedule's. Riders without a time asked and the depot
ends get a tiny weight toward earlier pickups and a shorter route, so ties resolve the old way.

Measured against Cordeau & Laporte's forward-slack delays (``benchmarks/timing.py``): the LP is exact
and handles appointments, which the delay scheme (it only removes waiting with riders aboard) cannot.
GLOP (OR-Tools, ``solver._ortools.solve_lp``) solves a route of 20 stops in about a millisecond (scipy's
``linprog`` with HiGHS took three times as long, mostly checking and converting its inputs). The LP
optimum is made integer by taking the least integer schedule above its floor, which stays within a
second of it and is feasible by construction; if rounding ever made total ride worse than the
earliest schedule, the earliest is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from solver._ortools import solve_lp
from solver.problem import Problem, Vehicle
from solver.result import StopKind
from solver.schedule import PlannedStop, earliest_schedule, service_s, stop_location

EPSILON = 1e-3  # tie-break weight per second


def persons_excess_ride_s(problem: Problem, stops: Sequence[PlannedStop], schedule: Sequence[int]) -> int:
    """Riders' excess ride seconds (per person) of a timed stop order: drop-off start - (pickup start
    + boarding) - direct drive; riders already on board count from their real pickup."""
    pick: dict[str, int] = {}
    total = 0
    for (r, kind), t in zip(stops, schedule[1:-1], strict=True):
        if kind is StopKind.PICKUP:
            pick[r.request_id] = t
            continue
        start = pick.get(r.request_id, r.picked_up_at)
        if start is None:
            continue
        total += r.persons * (t - start - r.boarding_s - problem.direct_s(r))
    return total


def waiting_s(problem: Problem, stops: Sequence[PlannedStop], schedule: Sequence[int]) -> int:
    """Riders' waiting (per person) as the timing counts it: pickup later than asked, and arrival away
    from the appointment less the margin."""
    margin = problem.objective.arrive_margin_s
    total = 0
    for (r, kind), t in zip(stops, schedule[1:-1], strict=True):
        if kind is StopKind.PICKUP and r.wanted_pickup_s is not None:
            total += r.persons * max(0, t - r.wanted_pickup_s)
        elif kind is StopKind.DROPOFF and r.appointment_s is not None:
            total += r.persons * abs(r.appointment_s - margin - t)
    return total


def rider_schedule(problem: Problem, vehicle: Vehicle, stops: Sequence[PlannedStop]) -> list[int] | None:
    """Start-of-service times ``[depot departure, stop 1, ..., stop k, depot arrival]`` chosen for the
    riders (see the module docstring), or None when the stop order cannot be timed at all."""
    base = earliest_schedule(problem, vehicle, stops)
    if base is None or not stops:
        return base
    obj = problem.objective
    k = len(stops)
    n = k + 2  # time variables; deviation variables follow
    locs = [vehicle.start] + [stop_location(s) for s in stops] + [vehicle.end]
    svc = [0] + [service_s(s) for s in stops] + [0]
    lo = np.empty(n)
    hi = np.empty(n)
    lo[0], hi[0] = vehicle.shift.earliest, vehicle.shift.latest
    lo[-1], hi[-1] = vehicle.shift.earliest, vehicle.shift.latest
    c = np.zeros(n)
    terms_ub: list[tuple[int, int, float]] = []
    rhs: list[float] = []

    def le(terms: Sequence[tuple[int, float]], bound: float) -> None:
        """sum(coef * var) <= bound"""
        row = len(rhs)
        terms_ub.extend((row, col, coef) for col, coef in terms)
        rhs.append(bound)

    dm = problem.duration_s
    for i in range(n - 1):  # x[i + 1] >= x[i] + service + travel
        le([(i, 1.0), (i + 1, -1.0)], -float(svc[i] + int(dm[locs[i], locs[i + 1]])))
    if vehicle.max_duration_s is not None:
        le([(n - 1, 1.0), (0, -1.0)], float(vehicle.max_duration_s))
    c[0] -= EPSILON  # a shorter route for the driver
    c[n - 1] += EPSILON
    pick_pos: dict[str, int] = {}
    ride_terms: list[tuple[int, float]] = []  # total person-ride (pickup at the real time if aboard)
    ride_const = 0.0
    extra_lo: list[float] = []
    extra_c: list[float] = []
    margin = obj.arrive_margin_s
    for i, (r, kind) in enumerate(stops, start=1):
        if kind is StopKind.PICKUP:
            lo[i], hi[i] = r.pickup_window.earliest, r.pickup_window.latest
            pick_pos[r.request_id] = i
            if r.wanted_pickup_s is not None and obj.wait_per_s:
                # e >= x - wanted, e >= 0
                e = n + len(extra_lo)
                extra_lo.append(0.0)
                extra_c.append(obj.wait_per_s * r.persons)
                le([(i, 1.0), (e, -1.0)], float(r.wanted_pickup_s))
            elif r.appointment_s is None:
                c[i] += EPSILON * r.persons  # nothing asked: early, as before
            continue
        lo[i], hi[i] = r.dropoff_window.earliest, r.dropoff_window.latest
        if r.picked_up_at is not None:
            hi[i] = min(hi[i], r.picked_up_at + r.boarding_s + r.max_ride_time_s)
        j = pick_pos.get(r.request_id)
        w = float(max(1, obj.excess_ride_per_s) * r.persons)  # (the timing always weighs riding)
        if j is not None:
            le([(i, 1.0), (j, -1.0)], float(r.max_ride_time_s + r.boarding_s))
            c[i] += w
            c[j] -= w
            ride_terms += [(i, float(r.persons)), (j, -float(r.persons))]
        elif r.picked_up_at is not None:
            c[i] += w
            ride_terms.append((i, float(r.persons)))
            ride_const -= r.persons * r.picked_up_at
        if r.appointment_s is not None and obj.wait_per_s:
            target = float(r.appointment_s - margin)
            e = n + len(extra_lo)
            extra_lo.append(0.0)
            extra_c.append(obj.wait_per_s * r.persons)
            le([(i, 1.0), (e, -1.0)], target)  # e >= x - target
            le([(i, -1.0), (e, -1.0)], -target)  # e >= target - x
    if ride_terms:  # never more riding in all than the earliest schedule
        pick_base: dict[str, int] = {}
        base_ride = 0.0
        for (r, kind), t in zip(stops, base[1:-1], strict=True):
            if kind is StopKind.PICKUP:
                pick_base[r.request_id] = t
            elif r.request_id in pick_base or r.picked_up_at is not None:
                base_ride += r.persons * (t - pick_base.get(r.request_id, r.picked_up_at or 0))
        le(ride_terms, base_ride - ride_const)
    x = solve_lp(
        [*c.tolist(), *extra_c],
        terms_ub,
        rhs,
        [*lo.tolist(), *extra_lo],
        [*hi.tolist(), *([np.inf] * len(extra_lo))],
    )
    if x is None:  # numerically unlucky: the earliest schedule is always a valid answer
        return base
    floor = np.floor(np.asarray(x[:n]) + 1e-6).astype(np.int64)
    timed = earliest_schedule(problem, vehicle, stops, lower=[int(t) for t in floor])
    if timed is None or persons_excess_ride_s(problem, stops, timed) > persons_excess_ride_s(
        problem, stops, base
    ):
        return base
    return timed
