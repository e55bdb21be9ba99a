"""``solve`` and ``reoptimise``: the solver's public entry points."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Literal

from solver import _ortools, lns
from solver.insertion import construct, repair, vehicle_can_take
from solver.problem import Problem, Request
from solver.result import Result, Route, Stop, StopKind, UnassignedReason
from solver.schedule import PlannedStop, earliest_schedule, route_cost, route_objective, stop_location
from solver.timing import persons_excess_ride_s, rider_schedule, waiting_s

Plan = Mapping[str, Sequence[PlannedStop]]


def precheck(problem: Problem, r: Request) -> UnassignedReason | None:
    """Why a request can never be served, whatever the other requests; None if it might be."""
    takers = [v for v in problem.vehicles if vehicle_can_take(v, r)]
    if not takers:
        if not any(r.required_features <= v.features for v in problem.vehicles):
            return UnassignedReason.FEATURES
        return UnassignedReason.CAPACITY
    direct = problem.min_ride_s(r)  # a lower bound on the ride, whatever the route
    if r.on_board:
        return None
    if direct > r.max_ride_time_s:
        return UnassignedReason.RIDE_TIME
    if r.pickup_window.earliest + r.boarding_s + direct > r.dropoff_window.latest:
        return UnassignedReason.WINDOW
    for v in takers:
        if earliest_schedule(problem, v, [(r, StopKind.PICKUP), (r, StopKind.DROPOFF)]) is not None:
            return None
    return UnassignedReason.SHIFT


def plan_objective(problem: Problem, plan: Plan) -> int:
    """The plan's weighted cost (``Problem.objective``); with ``Objective.distance_only()`` its distance."""
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    return sum(route_objective(problem, vehicles[vid], stops) for vid, stops in plan.items() if stops)


def _is_feasible(problem: Problem, plan: Plan) -> bool:
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    return all(earliest_schedule(problem, vehicles[vid], stops) is not None for vid, stops in plan.items())


def build_result(
    problem: Problem,
    plan: Plan,
    unassigned: Mapping[str, UnassignedReason],
    *,
    status: str,
    started: float,
    stats: dict[str, object] | None = None,
) -> Result:
    """Time every route for the riders (``solver.timing.rider_schedule``) and total the costs."""
    routes = []
    total_d = total_t = excess = wait = 0
    for v in problem.vehicles:
        stops = list(plan.get(v.vehicle_id, ()))
        if not stops:
            continue
        sched = rider_schedule(problem, v, stops)
        if sched is None:
            raise AssertionError(f"internal error: infeasible route for {v.vehicle_id}")
        dist, dur = route_cost(problem, v, stops)
        total_d += dist
        total_t += dur
        excess += persons_excess_ride_s(problem, stops, sched)
        wait += waiting_s(problem, stops, sched)
        routes.append(
            Route(
                vehicle_id=v.vehicle_id,
                stops=tuple(
                    Stop(r.request_id, kind, stop_location((r, kind)), t)
                    for (r, kind), t in zip(stops, sched[1:-1], strict=True)
                ),
                start_s=sched[0],
                end_s=sched[-1],
                distance_m=dist,
                duration_s=dur,
            )
        )
    cost = {
        "distance_m": total_d,
        "duration_s": total_t,
        "excess_ride_s": excess,
        "waiting_s": wait,
        "objective": plan_objective(problem, plan),
        "unassigned": len(unassigned),
    }
    return Result(
        tuple(routes), dict(unassigned), cost, status, time.monotonic() - started, dict(stats or {})
    )


IdPlan = dict[str, list[tuple[str, str]]]


def _to_ids(plan: Plan) -> IdPlan:
    return {vid: [(r.request_id, k.value) for r, k in stops] for vid, stops in plan.items()}


def _from_ids(problem: Problem, plan: IdPlan) -> dict[str, list[PlannedStop]]:
    by_id = {r.request_id: r for r in problem.requests}
    return {vid: [(by_id[rid], StopKind(k)) for rid, k in stops] for vid, stops in plan.items()}


Method = Literal["lns", "ortools", "plain"]
METHODS: tuple[Method, ...] = ("lns", "ortools", "plain")
POLISH_SHARE = 0.15  # of the search time, for OR-Tools' local search after the LNS (see ARCHITECTURE.md)


def _routed(plan: Plan) -> set[str]:
    return {r.request_id for stops in plan.values() for r, _ in stops}


def _better(problem: Problem, new: Plan | None, old: Plan | None, mandatory: Collection[str]) -> bool:
    """Is ``new`` a feasible plan that keeps every promised request and beats ``old`` (more requests
    served, then less distance)?"""
    if new is None or not _is_feasible(problem, new):
        return False
    routed_new = _routed(new)
    if not set(mandatory) <= routed_new:
        return False
    if old is None:
        return True
    served_new, served_old = len(routed_new), len(_routed(old))
    if served_new != served_old:
        return served_new > served_old
    return plan_objective(problem, new) < plan_objective(problem, old)


def _search(
    problem: Problem,
    servable: Sequence[Request],
    start: dict[str, list[PlannedStop]] | None,
    *,
    method: Method,
    time_limit_s: float,
    seed: int,
    mandatory: Collection[str],
    iterations: int | None = None,
) -> dict[str, list[PlannedStop]] | None:
    """One search from ``start``: the LNS then OR-Tools (``lns``), or OR-Tools alone. With
    ``iterations`` the LNS runs exactly that many steps and OR-Tools is skipped: the same seed then
    gives the same plan on any machine (the simulator relies on it)."""
    if method == "lns" and start is not None:
        started = time.monotonic()
        lns_s = time_limit_s * (1 - POLISH_SHARE)
        found = lns.improve(
            problem,
            servable,
            start,
            time_limit_s=lns_s,
            seed=seed,
            mandatory=mandatory,
            iterations=iterations,
        )
        left = time_limit_s - (time.monotonic() - started)
        if left <= 0.05 or iterations is not None:
            return found
        # OR-Tools' guided local search from the LNS's best: its node-exchange and chain operators
        # find moves that remove-and-reinsert cannot (measured in ARCHITECTURE.md); kept if better.
        polished = _ortools.improve(
            problem, servable, time_limit_s=left, seed=seed, initial=found, mandatory=mandatory
        )
        return polished if _better(problem, polished, found, mandatory) else found
    return _ortools.improve(
        problem, servable, time_limit_s=time_limit_s, seed=seed, initial=start, mandatory=mandatory
    )


def _portfolio_member(
    problem: Problem,
    servable_ids: list[str],
    time_limit_s: float,
    seed: int,
    initial: IdPlan | None,
    method: Method,
    mandatory: list[str],
) -> IdPlan | None:
    """One worker of the parallel portfolio (runs in its own process)."""
    by_id = {r.request_id: r for r in problem.requests}
    servable = [by_id[i] for i in servable_ids]
    start = _from_ids(problem, initial) if initial is not None else None
    out = _search(
        problem, servable, start, method=method, time_limit_s=time_limit_s, seed=seed, mandatory=mandatory
    )
    return _to_ids(out) if out is not None else None


def solve(
    problem: Problem,
    *,
    time_limit_s: float,
    seed: int = 0,
    initial: Plan | None = None,
    method: Method = "lns",
    workers: int = 1,
    iterations: int | None = None,
) -> Result:
    """Route every request it can within ``time_limit_s``; the rest come back with a reason.

    Steps: reasons for requests that can never be served -> a first solution (``initial`` if given and
    feasible, else ride-time-aware cheapest insertion) -> ``method``:

    - ``lns`` (default): large-neighbourhood search (``solver.lns``) for most of the time, then OR-Tools'
      guided local search from its best;
    - ``ortools``: OR-Tools' guided local search from the first solution;
    - ``plain``: the plain OR-Tools model (its own first solution), kept for benchmarks.

    With ``workers`` > 1 the same search runs on that many cores with different seeds (``fork``ed
    processes) and the best plan wins. The answer routes every request ``initial`` routes and never
    costs more; every route is timed exactly by ``solver.schedule``. ``iterations`` (LNS only, one
    worker) makes the search a fixed number of steps instead of a time budget: reproducible.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
    started = time.monotonic()
    unassigned: dict[str, UnassignedReason] = {}
    servable: list[Request] = []
    given = {r.request_id for stops in (initial or {}).values() for r, _ in stops}
    for r in problem.requests:
        # a request the given plan serves is servable, whatever a lone trip could do (matrices need
        # not obey the triangle inequality: riding along may beat the direct leg)
        reason = None if r.request_id in given else precheck(problem, r)
        if reason is None:
            servable.append(r)
        else:
            unassigned[r.request_id] = reason
    start_plan: dict[str, list[PlannedStop]] | None = None
    stats: dict[str, object] = {"method": method}
    if initial is not None:
        start_plan = {vid: list(s) for vid, s in initial.items()}
        if not _is_feasible(problem, start_plan):
            raise ValueError("initial plan is infeasible for this problem")
    elif method != "plain":
        start_plan, _left = construct(problem, servable)
    if start_plan is not None:
        stats["initial_objective"] = plan_objective(problem, start_plan)
    # A given plan is what riders were told: each request it routes stays routed (a promise is not
    # traded for another rider, even one for one). A plan we construct ourselves promises nothing.
    mandatory = sorted(_routed(start_plan)) if initial is not None and start_plan is not None else []
    if method == "lns":
        lns.warm_up()  # compiled code loaded before the clock matters and before any fork
    remaining = max(0.05, time_limit_s - (time.monotonic() - started))
    candidates: list[dict[str, list[PlannedStop]]] = []
    if workers > 1 and iterations is None:
        ids = [r.request_id for r in servable]
        init = _to_ids(start_plan) if start_plan is not None else None
        ctx = multiprocessing.get_context("fork")
        budget = max(0.05, remaining - 0.3)  # leave time to start processes and collect results
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [
                pool.submit(_portfolio_member, problem, ids, budget, seed + i, init, method, mandatory)
                for i in range(workers)
            ]
            for f in futures:
                got = f.result()
                if got is not None:
                    candidates.append(_from_ids(problem, got))
    else:
        found = _search(
            problem,
            servable,
            start_plan,
            method=method,
            time_limit_s=remaining,
            seed=seed,
            mandatory=mandatory,
            iterations=iterations,
        )
        if found is not None:
            candidates.append(found)
    best = start_plan
    for improved in candidates:
        if _better(problem, improved, best, mandatory):
            best = improved
    if best is None:
        best = {}
    routed = {r.request_id for stops in best.values() for r, _ in stops}
    missing = [r for r in servable if r.request_id not in routed]
    if missing:  # one more chance by ejection chains before calling a request a conflict
        best, _still = repair(
            problem, {v.vehicle_id: list(best.get(v.vehicle_id, [])) for v in problem.vehicles}, missing
        )
        routed = {r.request_id for stops in best.values() for r, _ in stops}
    for r in servable:
        if r.request_id not in routed:
            unassigned[r.request_id] = UnassignedReason.CONFLICT
    return build_result(problem, best, unassigned, status="ok", started=started, stats=stats)


def reoptimise(
    problem: Problem, current: Plan, *, time_limit_s: float, seed: int = 0, iterations: int | None = None
) -> Result:
    """Improve a day's plan warm-started from ``current``. Every promise is a hard constraint: the
    problem's windows must already encode them (dispatch builds them from what riders were told).
    The result never serves fewer requests and never costs more than ``current``."""
    return solve(problem, time_limit_s=time_limit_s, seed=seed, initial=current, iterations=iterations)


def plan_of(result: Result, problem: Problem) -> dict[str, list[PlannedStop]]:
    """Turn a result back into a plan (stop sequences per vehicle) for insertion or re-optimisation."""
    by_id = {r.request_id: r for r in problem.requests}
    return {route.vehicle_id: [(by_id[s.request_id], s.kind) for s in route.stops] for route in result.routes}
