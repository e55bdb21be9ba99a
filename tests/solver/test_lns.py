"""The large-neighbourhood search: feasible, never worse than its start, and it finds good plans."""

from __future__ import annotations

import csv

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import Problem, UnassignedReason, check, construct
from solver.api import build_result, plan_objective, precheck
from solver.cordeau import parse_instance
from solver.lns import improve
from tests.shared_data import shared
from tests.solver.factories import problems

DARP = shared("benchmarks", "darp")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_requests=10, rich=True), st.integers(0, 3))
def test_every_plan_passes_the_checker_and_never_gets_worse(problem: Problem, seed: int) -> None:
    servable = [r for r in problem.requests if precheck(problem, r) is None]
    start, _left = construct(problem, servable)
    start_served = sum(len(s) for s in start.values())
    found = improve(problem, servable, start, time_limit_s=0, seed=seed, iterations=60)
    routed = {r.request_id for stops in found.values() for r, _ in stops}
    left = {r.request_id: UnassignedReason.CONFLICT for r in problem.requests if r.request_id not in routed}
    result = build_result(problem, found, left, status="ok", started=0.0)
    # every stop of every request it routes, in order, within windows, ride times, capacities, shifts
    assert check(problem, result) == []
    served = sum(len(s) for s in found.values())
    assert served >= start_served
    if served == start_served:
        assert plan_objective(problem, found) <= plan_objective(problem, start)
    for r in problem.requests:
        if r.vehicle_id is not None:  # locked and on-board riders stay in their vehicle
            assert all(
                rr.request_id != r.request_id
                for vid, stops in found.items()
                if vid != r.vehicle_id
                for rr, _ in stops
            )


def test_same_seed_same_plan() -> None:
    problem = parse_instance(DARP / "instances/cordeau2006/a3-24.txt").to_problem()
    start, _ = construct(problem, list(problem.requests))
    a = improve(problem, list(problem.requests), start, time_limit_s=0, seed=7, iterations=200)
    b = improve(problem, list(problem.requests), start, time_limit_s=0, seed=7, iterations=200)
    key = {vid: [(r.request_id, k) for r, k in s] for vid, s in a.items()}
    assert key == {vid: [(r.request_id, k) for r, k in s] for vid, s in b.items()}


def test_reaches_the_best_known_cost_of_a_cordeau_instance() -> None:
    """a4-40 (40 requests, 4 vehicles): cheapest insertion alone is far off; the LNS gets within 0.5 %."""
    inst = parse_instance(DARP / "instances/cordeau2006/a4-40.txt")
    problem = inst.to_problem()
    with (DARP / "bks.csv").open(encoding="utf-8") as f:
        bks = next(float(r["bks"]) for r in csv.DictReader(f) if r["instance"] == "a4-40")
    start, left = construct(problem, list(problem.requests))
    assert left == []
    start_cost = inst.cost(build_result(problem, start, {}, status="ok", started=0.0))
    found = improve(problem, list(problem.requests), start, time_limit_s=0, seed=0, iterations=3000)
    result = build_result(problem, found, {}, status="ok", started=0.0)
    assert check(problem, result) == []
    assert start_cost > 1.03 * bks
    assert inst.cost(result) <= 1.005 * bks
