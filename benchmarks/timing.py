"""Timing a fixed stop order for the riders: earliest schedule vs Cordeau & Laporte's delays vs the LP.

    .venv/bin/python -m benchmarks.timing [--bookings 300] [--reopt-s 10] [--seed 1]

Takes the routes of a busy demo day (``benchmarks/rider_day.py``, "after" mode) and times each route
three ways: ``earliest`` (``solver.schedule.earliest_schedule``), ``cordeau-laporte`` (the eight-step
scheme of Cordeau & Laporte 2003: delay the depot departure and then each pickup by the forward time
slack, bounded by the waiting that follows; riders' appointments are not part of it), and ``lp``
(``solver.timing.rider_schedule``). Prints per method: total riders' excess ride (person-minutes),
total waiting as the timing counts it (pickup after the time asked, arrival away from appointment -
margin), routes it could time feasibly, and median / p95 milliseconds per route. JSON to
benchmarks/results/timing-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.rider_day import book_day, busy_day, write_results
from solver import Objective, Problem, Vehicle, plan_of, reoptimise
from solver.result import StopKind
from solver.schedule import PlannedStop, earliest_schedule, service_s, stop_location, stop_window
from solver.timing import persons_excess_ride_s, rider_schedule, waiting_s

RESULTS = Path(__file__).resolve().parent / "results"


def cordeau_laporte(problem: Problem, vehicle: Vehicle, stops: Sequence[PlannedStop]) -> list[int] | None:
    """Cordeau & Laporte (2003), section 3.2's eight steps; None if the result breaks a constraint."""
    n = len(stops)
    locs = [vehicle.start] + [stop_location(s) for s in stops] + [vehicle.end]
    svc = [0] + [service_s(s) for s in stops] + [0]
    e = [vehicle.shift.earliest] + [stop_window(s)[0] for s in stops] + [vehicle.shift.earliest]
    ll = [vehicle.shift.latest] + [stop_window(s)[1] for s in stops] + [vehicle.shift.latest]
    t = [int(problem.duration_s[locs[i], locs[i + 1]]) for i in range(n + 1)]
    pick_of: dict[int, int] = {}  # drop-off position -> pickup position
    pos: dict[str, int] = {}
    for i, (r, k) in enumerate(stops, start=1):
        if k is StopKind.PICKUP:
            pos[r.request_id] = i
        elif r.request_id in pos:
            pick_of[i] = pos[r.request_id]
    limit = {i: stops[i - 1][0].max_ride_time_s for i in pick_of}
    b = [0] * (n + 2)
    w = [0] * (n + 2)

    def forward(start: int, depart: int) -> None:
        d = depart
        for i in range(start + 1, n + 2):
            a = d + t[i - 1]
            b[i] = max(a, e[i])
            w[i] = b[i] - a
            d = b[i] + svc[i]

    def ride(j: int) -> int:
        p = pick_of[j]
        return b[j] - (b[p] + svc[p])

    def slack(i: int) -> int:
        best = 10**12
        acc = 0
        for j in range(i, n + 2):
            if j > i:
                acc += w[j]
            room = ll[j] - b[j]
            if j in pick_of and pick_of[j] < i:
                room = min(room, limit[j] - ride(j))
            best = min(best, acc + max(0, room))
        return best

    b[0] = e[0]
    forward(0, b[0] + svc[0])
    f0 = slack(0)
    b[0] = e[0] + min(f0, sum(w[1 : n + 1]))
    forward(0, b[0])
    for j in range(1, n + 1):
        if stops[j - 1][1] is not StopKind.PICKUP:
            continue
        fj = slack(j)
        delay = min(fj, sum(w[j + 1 : n + 1]))
        w[j] += delay
        b[j] += delay
        forward(j, b[j] + svc[j])
    if any(b[i] > ll[i] for i in range(n + 2)) or any(ride(j) > limit[j] for j in pick_of):
        return None
    if vehicle.max_duration_s is not None and b[-1] - b[0] > vehicle.max_duration_s:
        return None
    return b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bookings", type=int, default=300)
    ap.add_argument("--reopt-s", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    problem, bookings = busy_day(args.bookings, args.seed)
    problem = replace(problem, objective=Objective())
    day, plan = book_day(problem, bookings, timed=True)
    routes = plan_of(reoptimise(day, plan, time_limit_s=args.reopt_s, seed=args.seed), day)
    vehicles = {v.vehicle_id: v for v in day.vehicles}
    rows = []
    for name, fn in (
        ("earliest", earliest_schedule),
        ("cordeau-laporte", cordeau_laporte),
        ("lp", rider_schedule),
    ):
        ride = wait = ok = 0
        ms: list[float] = []
        for vid, stops in routes.items():
            if not stops:
                continue
            v = vehicles[vid]
            t0 = time.perf_counter()
            sched = fn(day, v, stops)
            ms.append((time.perf_counter() - t0) * 1000)
            if sched is None:
                sched = earliest_schedule(day, v, stops)
                assert sched is not None
            else:
                ok += 1
            ride += persons_excess_ride_s(day, stops, sched)
            wait += waiting_s(day, stops, sched)
        rows.append(
            {
                "method": name,
                "routes": len(ms),
                "timed_feasibly": ok,
                "excess_ride_person_min": round(ride / 60, 1),
                "waiting_person_min": round(wait / 60, 1),
                "ms_median": round(statistics.median(ms), 2),
                "ms_p95": round(float(np.percentile(ms, 95)), 2),
            }
        )
    print("method           routes feasible excess_ride_pmin waiting_pmin ms_median ms_p95")
    for row in rows:
        print(
            f"{row['method']!s:<16} {row['routes']!s:>6} {row['timed_feasibly']!s:>8} "
            f"{row['excess_ride_person_min']!s:>16} {row['waiting_person_min']!s:>12} "
            f"{row['ms_median']!s:>9} {row['ms_p95']!s:>6}"
        )
    write_results("timing", {"args": vars(args), "rows": rows})


if __name__ == "__main__":
    main()
