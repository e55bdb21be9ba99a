"""Instant insertion of one request into an existing plan, for live quotes and construction.

Phases, cheapest first (as OpenTripPlanner's shared-ride module does): vehicle filter (capacity,
features, fixed assignment) -> vectorised extra-distance and arrival-time filters over every
(pickup gap, drop-off gap) pair -> candidates in order of extra distance -> exact timing
(``solver.schedule``) and capacity checks until enough options are found. The day is not re-solved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from solver.problem import Problem, Request, Vehicle
from solver.result import StopKind
from solver.schedule import PlannedStop, earliest_schedule, service_s, stop_location, stop_window

Plan = Mapping[str, Sequence[PlannedStop]]


@dataclass(frozen=True, slots=True)
class InsertionOption:
    vehicle_id: str
    stops: tuple[PlannedStop, ...]  # the vehicle's new stop sequence
    schedule: tuple[int, ...]  # [depot departure, stop times..., depot arrival]
    pickup_s: int
    dropoff_s: int
    extra_distance_m: int
    extra_duration_s: int


def vehicle_can_take(v: Vehicle, r: Request) -> bool:
    if r.vehicle_id is not None and r.vehicle_id != v.vehicle_id:
        return False
    return r.required_features <= v.features and r.seats <= v.seats and r.wheelchairs <= v.wheelchairs


def _loads(problem: Problem, v: Vehicle, stops: Sequence[PlannedStop]) -> np.ndarray:
    """Load (seats, wheelchairs) on the arc leaving each node of [depot, stops...]."""
    loads = np.zeros((len(stops) + 1, 2), dtype=np.int64)
    loads[0] = problem.onboard_load[v.vehicle_id]
    for i, (r, kind) in enumerate(stops, start=1):
        sign = 1 if kind is StopKind.PICKUP else -1
        loads[i] = loads[i - 1] + sign * np.array(r.load)
    return loads


@dataclass(frozen=True, slots=True)
class _Candidates:
    vehicle: Vehicle
    stops: Sequence[PlannedStop]
    extra_m: np.ndarray  # sorted ascending
    extra_s: np.ndarray
    gp: np.ndarray
    gd: np.ndarray


def _candidates(problem: Problem, v: Vehicle, stops: Sequence[PlannedStop], r: Request) -> _Candidates | None:
    """Every (pickup gap, drop-off gap) that passes the cheap filters, cheapest extra distance first.

    Gap g sits between node g and node g + 1 of [depot, stops..., depot]. Vectorised over all pairs.
    """
    base = earliest_schedule(problem, v, stops)
    if base is None:
        return None  # the current route is already infeasible; never build on it
    k = len(stops)
    locs = np.array([v.start] + [stop_location(s) for s in stops] + [v.end], dtype=np.int64)
    svc = np.array([0] + [service_s(s) for s in stops] + [0], dtype=np.int64)
    hi = np.array([v.shift.latest] + [stop_window(s)[1] for s in stops] + [v.shift.latest], dtype=np.int64)
    x = np.array(base, dtype=np.int64)
    dist, dur = problem.distance_m, problem.duration_s
    p, d = r.pickup, r.dropoff
    prev, nxt = locs[:-1], locs[1:]
    base_arc = dist[prev, nxt]
    base_arc_t = dur[prev, nxt]
    pick_m = dist[prev, p] + dist[p, nxt] - base_arc
    drop_m = dist[prev, d] + dist[d, nxt] - base_arc
    pick_t = dur[prev, p] + dur[p, nxt] - base_arc_t
    drop_t = dur[prev, d] + dur[d, nxt] - base_arc_t
    # Insertions only delay the existing schedule, so these are necessary conditions:
    arrive_p = x[:-1] + svc[:-1] + dur[prev, p]  # reaching the pickup through gap g
    start_p = np.maximum(arrive_p, r.pickup_window.earliest)
    arrive_d = x[:-1] + svc[:-1] + dur[prev, d]  # reaching the drop-off through gap g (later gap)
    fits = ((_loads(problem, v, stops) + np.array(r.load)) <= np.array(v.capacity)).all(axis=1)
    # Forward time slack (Savelsbergh): the most a delay arriving at node i can be before some window
    # from i on is missed, counting the waiting that absorbs it. F[i] = min(hi[i] - x[i], wait[i+1] + F[i+1]).
    wait = np.zeros(k + 2, dtype=np.int64)
    wait[1:] = x[1:] - (x[:-1] + svc[:-1] + dur[prev, nxt])
    slack = hi - x
    for i in range(k, -1, -1):
        slack[i] = min(slack[i], wait[i + 1] + slack[i + 1])
    ok_p = (arrive_p <= r.pickup_window.latest) & fits
    ok_later = ok_p & (start_p + r.boarding_s + dur[p, nxt] - x[1:] <= slack[1:])
    start_d = np.maximum(arrive_d, r.dropoff_window.earliest)
    ok_d = (arrive_d <= r.dropoff_window.latest) & (
        start_d + r.alighting_s + dur[d, nxt] - x[1:] <= slack[1:]
    )
    # The rider stays aboard over arcs gp..gd: all must have room. next_unfit[g] = first unfit arc >= g.
    idx = np.where(fits, k + 1, np.arange(k + 1))
    next_unfit = np.minimum.accumulate(idx[::-1])[::-1]
    g = np.arange(k + 1)
    gp_m, gd_m = np.meshgrid(g, g, indexing="ij")
    later = (gd_m > gp_m) & ok_later[:, None] & ok_d[None, :] & (gd_m < next_unfit[:, None])
    extra_m = pick_m[:, None] + drop_m[None, :]
    extra_s = pick_t[:, None] + drop_t[None, :]
    # adjacent pickup and drop-off in the same gap
    adj_m = dist[prev, p] + dist[p, d] + dist[d, nxt] - base_arc
    adj_s = dur[prev, p] + dur[p, d] + dur[d, nxt] - base_arc_t
    adj_d = np.maximum(start_p + r.boarding_s + dur[p, d], r.dropoff_window.earliest)
    adj_ok = (
        ok_p & (adj_d <= r.dropoff_window.latest) & (adj_d + r.alighting_s + dur[d, nxt] - x[1:] <= slack[1:])
    )
    extra_m[g, g] = adj_m
    extra_s[g, g] = adj_s
    later[g, g] = adj_ok
    flat = np.flatnonzero(later)
    if len(flat) == 0:
        return _Candidates(v, stops, *(np.zeros(0, dtype=np.int64),) * 4)
    em = extra_m.ravel()[flat]
    order = np.argsort(em, kind="stable")
    flat = flat[order]
    return _Candidates(v, stops, em[order], extra_s.ravel()[flat], flat // (k + 1), flat % (k + 1))


def _first_feasible(problem: Problem, c: _Candidates, r: Request, max_checks: int) -> InsertionOption | None:
    for i in range(min(max_checks, len(c.gp))):
        gp, gd = int(c.gp[i]), int(c.gd[i])
        stops = c.stops
        new = [*stops[:gp], (r, StopKind.PICKUP), *stops[gp:gd], (r, StopKind.DROPOFF), *stops[gd:]]
        sched = earliest_schedule(problem, c.vehicle, new)
        if sched is not None:
            return InsertionOption(
                c.vehicle.vehicle_id,
                tuple(new),
                tuple(sched),
                sched[gp + 1],
                sched[gd + 2],
                int(c.extra_m[i]),
                int(c.extra_s[i]),
            )
    return None


def insertion_options(
    problem: Problem, plan: Plan, request: Request, *, max_options: int = 3, max_checks_per_vehicle: int = 60
) -> list[InsertionOption]:
    """The best feasible insertions of ``request`` (one per vehicle), cheapest extra distance first.

    ``plan`` maps vehicle ids to their current stop sequences (riders on board appear only with their
    drop-off). ``request`` must use the problem's locations but need not be one of its requests.
    Vehicles are examined in order of their cheapest filtered candidate, and the search stops once
    ``max_options`` options are found and no remaining vehicle can beat the worst of them.
    """
    cands = []
    for v in problem.vehicles:
        if not vehicle_can_take(v, request):
            continue
        c = _candidates(problem, v, plan.get(v.vehicle_id, ()), request)
        if c is not None and len(c.gp):
            cands.append(c)
    cands.sort(key=lambda c: int(c.extra_m[0]))
    options: list[InsertionOption] = []
    for c in cands:
        if len(options) >= max_options and int(c.extra_m[0]) > options[-1].extra_distance_m:
            break
        opt = _first_feasible(problem, c, request, max_checks_per_vehicle)
        if opt is not None:
            options.append(opt)
            options.sort(key=lambda o: (o.extra_distance_m, o.pickup_s))
            options = options[:max_options]
    return options


def construct(
    problem: Problem, requests: Sequence[Request]
) -> tuple[dict[str, list[PlannedStop]], list[Request]]:
    """A first solution by cheapest feasible insertion, most constrained (earliest deadline) first.

    Riders already on board are placed first, in order of their drop-off deadline.
    """
    plan: dict[str, list[PlannedStop]] = {v.vehicle_id: [] for v in problem.vehicles}
    left: list[Request] = []
    onboard = sorted((r for r in requests if r.on_board), key=lambda r: r.dropoff_window.latest)
    for r in onboard:
        assert r.vehicle_id is not None
        plan[r.vehicle_id].append((r, StopKind.DROPOFF))
    for v in problem.vehicles:
        plan[v.vehicle_id].sort(key=lambda s: s[0].dropoff_window.latest)

    def deadline(r: Request) -> int:
        return min(r.pickup_window.latest, r.dropoff_window.latest - r.boarding_s - problem.direct_s(r))

    for r in sorted((r for r in requests if not r.on_board), key=deadline):
        opts = insertion_options(problem, plan, r, max_options=1, max_checks_per_vehicle=200)
        if opts:
            plan[opts[0].vehicle_id] = list(opts[0].stops)
        else:
            left.append(r)
    if left:
        plan, left = repair(problem, plan, left)
    return plan, left


def repair(
    problem: Problem, plan: dict[str, list[PlannedStop]], left: Sequence[Request]
) -> tuple[dict[str, list[PlannedStop]], list[Request]]:
    """Place requests that found no free position by ejecting one routed request (an ejection chain
    of depth one): remove a request whose pickup is near in time, insert the newcomer in its vehicle,
    then re-insert the ejected request anywhere. Tried in order of time distance; first success wins."""
    still: list[Request] = []
    for r in left:
        placed = False
        r_time = r.pickup_window.earliest if r.pickup_window.latest < 10**6 else r.dropoff_window.earliest
        victims: list[tuple[int, str, Request]] = []
        for vid, stops in plan.items():
            for s, kind in stops:
                if kind is StopKind.PICKUP and s.vehicle_id is None:
                    t = (
                        s.pickup_window.earliest
                        if s.pickup_window.latest < 10**6
                        else s.dropoff_window.earliest
                    )
                    victims.append((abs(t - r_time), vid, s))
        victims.sort(key=lambda x: x[0])
        vehicles = {v.vehicle_id: v for v in problem.vehicles}
        for _, vid, victim in victims[:40]:
            v = vehicles[vid]
            if not vehicle_can_take(v, r):
                continue
            reduced = {k: [x for x in s if x[0] is not victim] if k == vid else s for k, s in plan.items()}
            c = _candidates(problem, v, reduced[vid], r)
            opt = _first_feasible(problem, c, r, 400) if c is not None else None
            if opt is None:
                continue
            trial = {**reduced, vid: list(opt.stops)}
            back = insertion_options(problem, trial, victim, max_options=1, max_checks_per_vehicle=400)
            if back:
                trial[back[0].vehicle_id] = list(back[0].stops)
                plan = trial
                placed = True
                break
        if not placed:
            still.append(r)
    return plan, still
