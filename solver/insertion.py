"""Instant insertion of one request into an existing plan, for live quotes and construction.

Phases, cheapest first (as OpenTripPlanner's shared-ride module does): vehicle filter (capacity,
features, fixed assignment) -> vectorised extra-cost and arrival-time filters over every
(pickup gap, drop-off gap) pair -> candidates in order of extra cost (``Problem.objective``: distance,
riders' excess ride along the stop order, a vehicle's fixed cost) -> exact timing
(``solver.schedule``) and capacity checks until enough options are found. The options returned are
timed for the riders (``solver.timing``). The day is not re-solved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from solver.problem import Problem, Request, Vehicle
from solver.result import StopKind
from solver.schedule import PlannedStop, earliest_schedule, service_s, stop_location, stop_window
from solver.timing import rider_schedule

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
    extra_cost: int = 0  # in ``Problem.objective`` units


def vehicle_can_take(v: Vehicle, r: Request) -> bool:
    if r.vehicle_id is not None and r.vehicle_id != v.vehicle_id:
        return False
    return r.required_features <= v.features and r.seats <= v.seats and r.wheelchairs <= v.wheelchairs


def _loads(problem: Problem, v: Vehicle, stops: Sequence[PlannedStop]) -> np.ndarray:
    """Load (seats, wheelchairs) on the arc leaving each node of [depot, stops...]."""
    deltas = [problem.onboard_load[v.vehicle_id]]
    deltas += [r.load if kind is StopKind.PICKUP else (-r.seats, -r.wheelchairs) for r, kind in stops]
    return np.cumsum(np.array(deltas, dtype=np.int64).reshape(-1, 2), axis=0)


@dataclass(frozen=True, slots=True)
class _Candidates:
    vehicle: Vehicle
    stops: Sequence[PlannedStop]
    extra_c: np.ndarray  # weighted extra cost, sorted ascending
    extra_m: np.ndarray
    extra_s: np.ndarray
    gp: np.ndarray
    gd: np.ndarray


def _candidates(problem: Problem, v: Vehicle, stops: Sequence[PlannedStop], r: Request) -> _Candidates | None:
    """Every (pickup gap, drop-off gap) that passes the cheap filters, cheapest extra cost first.

    Gap g sits between node g and node g + 1 of [depot, stops..., depot]. Vectorised over all pairs.
    The extra excess ride is exact for ``schedule.path_excess_ride_s``: the persons aboard on a gap are
    delayed by the detour through it, and the newcomer rides the stops between its two gaps.
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
    loads = _loads(problem, v, stops)
    fits = ((loads + np.array(r.load)) <= np.array(v.capacity)).all(axis=1)
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
    obj = problem.objective
    # an unused vehicle costs nothing: its first rider pays for the whole route and the vehicle
    first = obj.vehicle_fixed + obj.distance_per_m * int(base_arc[0]) if k == 0 else 0
    extra_c = obj.distance_per_m * extra_m + first
    if obj.excess_ride_per_s:
        aboard = loads.sum(axis=1)  # persons on the arc leaving each node
        cum = np.zeros(k + 2, dtype=np.int64)  # path time from the start to each node's service
        cum[1:] = np.cumsum(svc[:-1] + dur[prev, nxt])
        # the newcomer's own excess: from its pickup in gap gp to its drop-off in gap gd
        own = (dur[p, nxt] - cum[1:])[:, None] + (cum[:-1] + svc[:-1] + dur[prev, d])[None, :] - dur[p, d]
        ride = (
            (aboard * (pick_t + r.boarding_s))[:, None]
            + (aboard * (drop_t + r.alighting_s))[None, :]
            + r.persons * own
        )
        ride[g, g] = aboard * (adj_s + r.boarding_s + r.alighting_s)
        extra_c = extra_c + obj.excess_ride_per_s * ride
    flat = np.flatnonzero(later)
    if len(flat) == 0:
        return _Candidates(v, stops, *(np.zeros(0, dtype=np.int64),) * 5)
    ec = extra_c.ravel()[flat]
    order = np.argsort(ec, kind="stable")
    flat = flat[order]
    return _Candidates(
        v, stops, ec[order], extra_m.ravel()[flat], extra_s.ravel()[flat], flat // (k + 1), flat % (k + 1)
    )


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
                int(c.extra_c[i]),
            )
    return None


def _timed(problem: Problem, opt: InsertionOption, r: Request) -> InsertionOption:
    """The option with its stops timed for the riders (``solver.timing``), not at the earliest."""
    vehicle = problem.vehicles[problem.vehicle_index[opt.vehicle_id]]
    sched = rider_schedule(problem, vehicle, opt.stops)
    if sched is None:  # cannot happen (the earliest schedule exists); keep that one
        return opt
    times = {(s.request_id, k): t for (s, k), t in zip(opt.stops, sched[1:-1], strict=True)}
    return replace(
        opt,
        schedule=tuple(sched),
        pickup_s=times[(r.request_id, StopKind.PICKUP)],
        dropoff_s=times[(r.request_id, StopKind.DROPOFF)],
    )


def insertion_options(
    problem: Problem,
    plan: Plan,
    request: Request,
    *,
    max_options: int = 3,
    max_checks_per_vehicle: int = 60,
    timed: bool = True,
) -> list[InsertionOption]:
    """The best feasible insertions of ``request`` (one per vehicle), cheapest extra cost first.

    With ``timed`` (the default) each option's schedule is the riders' one (``solver.timing``);
    construction passes False and keeps the earliest schedule, which is all feasibility needs.

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
    cands.sort(key=lambda c: int(c.extra_c[0]))
    options: list[InsertionOption] = []
    for c in cands:
        if len(options) >= max_options and int(c.extra_c[0]) > options[-1].extra_cost:
            break
        opt = _first_feasible(problem, c, request, max_checks_per_vehicle)
        if opt is not None:
            options.append(opt)
            options.sort(key=lambda o: (o.extra_cost, o.extra_distance_m, o.pickup_s))
            options = options[:max_options]
    return [_timed(problem, o, request) for o in options] if timed else options


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
        opts = insertion_options(problem, plan, r, max_options=1, max_checks_per_vehicle=200, timed=False)
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
            back = insertion_options(
                problem, trial, victim, max_options=1, max_checks_per_vehicle=400, timed=False
            )
            if back:
                trial[back[0].vehicle_id] = list(back[0].stops)
                plan = trial
                placed = True
                break
        if not placed:
            still.append(r)
    return plan, still
