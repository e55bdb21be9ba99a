"""A busy demo day, before and after rider-first timing and objective (issue #14).

    .venv/bin/python benchmarks/rider_day.py [--bookings 300] [--reopt-s 20] [--seed 1]

The demo city's 8 vehicles and riders (Yamaguchi, straight-line travel times), ``--bookings`` trips
from riders' homes and demo places to hospitals, stations, shops and offices, half "arrive by" an
appointment on the quarter hour and half "pick me up at", with dispatch's windows (arrive-by: up to
30 min early; pickup-after: up to an hour late; ride limit 1.5 x direct + 10 min). Bookings arrive
in a random order; each is quoted by insertion into the plan so far and promised a pickup window of
-5/+10 min around the quoted pickup (and the appointment, if any), as dispatch does; then the day is
re-optimised for ``--reopt-s`` seconds within those promises. Two modes on the same bookings:

- ``before``: distance-only routing (``Objective.distance_only()``), earliest timing (the old solver);
- ``after``: the default objective (riders' excess ride weighed) and the rider-first timing.

Per mode: riders served, mean and p95 excess ride (minutes: ride - direct), mean wait before the
appointment (arrive-by riders: appointment - arrival), mean pickup delay after the time asked
(pickup-after riders), vehicle-km, share of riders pooled (someone else aboard during their ride).
Writes JSON to benchmarks/results/rider-day-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from geo import LatLon, StraightLineModel
from noriai.demo import reference_data
from solver import (
    Objective,
    Problem,
    Request,
    StopKind,
    TimeWindow,
    Vehicle,
    check,
    insertion_options,
    plan_of,
    reoptimise,
    ride_time_limit,
)
from solver.schedule import PlannedStop, earliest_schedule, route_cost
from solver.timing import rider_schedule

RESULTS = Path(__file__).resolve().parent / "results"
BOARDING_S, ALIGHTING_S = 60, 30
ARRIVE_EARLY_S, SEARCH_AFTER_S = 30 * 60, 60 * 60  # dispatch's policy (dispatch/booking.py)
WINDOW_BEFORE_S, WINDOW_AFTER_S = 5 * 60, 10 * 60
Plan = dict[str, list[PlannedStop]]
Timing = Callable[[Problem, Vehicle, Sequence[PlannedStop]], list[int] | None]


def busy_day(n: int, seed: int) -> tuple[Problem, list[Request]]:
    """The demo fleet and ``n`` bookings (requests in booking order) on one problem's matrices."""
    rng = random.Random(seed)
    ref = reference_data()
    homes = [r.home for r in ref.riders]
    places = {p.place_id: p.point for p in ref.places}
    dest_ids = [
        p.place_id for p in ref.places if p.kind.value in ("hospital", "station", "shopping", "office")
    ]
    hospitals = [p.place_id for p in ref.places if p.kind.value == "hospital"]
    points: list[LatLon] = [c.depot for c in ref.companies]
    vehicles = []
    for ci, c in enumerate(ref.companies):
        for v in c.vehicles:
            vehicles.append(
                Vehicle(
                    v.vehicle_id,
                    ci,
                    ci,
                    TimeWindow(v.shift.start_s, v.shift.end_s),
                    seats=v.seats,
                    wheelchairs=v.wheelchair_places,
                )
            )
    trips: list[tuple[int, int, bool, int, int]] = []
    for _ in range(n):
        if rng.random() < 0.7:
            origin = homes[rng.randrange(len(homes))]
            origin = LatLon(origin.lat + rng.uniform(-0.01, 0.01), origin.lon + rng.uniform(-0.01, 0.01))
        else:
            origin = places[rng.choice(dest_ids)]
        dest = places[rng.choice(hospitals if rng.random() < 0.4 else dest_ids)]
        points += [origin, dest]
        arrive_by = rng.random() < 0.5
        t = 8 * 3600 + 900 * rng.randrange(0, 40)  # 08:00 .. 17:45 on the quarter hour
        trips.append((len(points) - 2, len(points) - 1, arrive_by, t, 1 + (rng.random() < 0.2)))
    m = StraightLineModel().matrix(points)
    requests = []
    for i, (o, d, arrive_by, t, seats) in enumerate(trips):
        direct = int(m.duration_s[o, d])
        limit = ride_time_limit(direct, 1.5, 600)
        if arrive_by:
            pw = TimeWindow(t - ARRIVE_EARLY_S - limit, t - BOARDING_S - direct)
            dw = TimeWindow(t - ARRIVE_EARLY_S, t)
            asked: dict[str, int] = {"appointment_s": t}
        else:
            pw, dw, asked = (
                TimeWindow(t, t + SEARCH_AFTER_S),
                TimeWindow(0, 2 * 86_400),
                {"wanted_pickup_s": t},
            )
        requests.append(
            Request(
                f"b{i:03d}",
                o,
                d,
                seats=seats,
                pickup_window=pw,
                dropoff_window=dw,
                boarding_s=BOARDING_S,
                alighting_s=ALIGHTING_S,
                max_ride_time_s=limit,
                **asked,  # type: ignore[arg-type]
            )
        )
    order = list(range(n))
    rng.shuffle(order)
    problem = Problem(tuple(requests), tuple(vehicles), m.duration_s, m.distance_m, name=f"busy-{n}")
    return problem, [requests[i] for i in order]


def book_day(problem: Problem, bookings: list[Request], *, timed: bool) -> tuple[Problem, Plan]:
    """Quote and confirm each booking in turn, as dispatch does: the first option, a promised pickup
    window of -5/+10 min around its pickup, re-inserted with that promise. Returns the day's problem
    (the promised requests) and plan."""
    plan: Plan = {v.vehicle_id: [] for v in problem.vehicles}
    promised: list[Request] = []
    for r in bookings:
        opts = insertion_options(problem, plan, r, max_options=1, timed=timed)
        if not opts:
            continue
        pickup = opts[0].pickup_s
        kept = replace(
            r,
            pickup_window=TimeWindow(
                max(r.pickup_window.earliest, pickup - WINDOW_BEFORE_S), pickup + WINDOW_AFTER_S
            ),
        )
        again = insertion_options(problem, plan, kept, max_options=1, max_checks_per_vehicle=400, timed=timed)
        if again:
            promised.append(kept)
            plan[again[0].vehicle_id] = list(again[0].stops)
    return replace(problem, requests=tuple(promised)), plan


def run_mode(
    problem: Problem, bookings: list[Request], mode: str, reopt_s: float, seed: int
) -> dict[str, Any]:
    after = mode == "after"
    problem = replace(problem, objective=Objective() if after else Objective.distance_only())
    timing: Timing = rider_schedule if after else earliest_schedule
    t0 = time.monotonic()
    day, plan = book_day(problem, bookings, timed=after)
    quote_s = time.monotonic() - t0
    result = reoptimise(day, plan, time_limit_s=reopt_s, seed=seed)
    assert check(day, result) == [], "a promise was broken"
    final = plan_of(result, day)
    return _metrics(day, final, timing) | {
        "mode": mode,
        "bookings": len(bookings),
        "quote_and_confirm_s": round(quote_s, 2),
        "reoptimise_s": round(result.runtime_s, 2),
    }


def write_results(prefix: str, payload: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    print(f"wrote {out}")


def _metrics(problem: Problem, plan: dict[str, list[PlannedStop]], timing: Timing) -> dict[str, Any]:
    excess: list[float] = []
    early: list[float] = []
    late_pickup: list[float] = []
    pooled = served = 0
    km = 0.0
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    for vid, stops in plan.items():
        if not stops:
            continue
        v = vehicles[vid]
        sched = timing(problem, v, stops)
        assert sched is not None
        km += route_cost(problem, v, stops)[0] / 1000
        at: dict[str, int] = {}
        aboard: set[str] = set()
        shared: set[str] = set()
        for (r, k), t in zip(stops, sched[1:-1], strict=True):
            if k is StopKind.PICKUP:
                at[r.request_id] = t
                if aboard:
                    shared.add(r.request_id)
                    shared.update(aboard)
                aboard.add(r.request_id)
                if r.wanted_pickup_s is not None:
                    late_pickup.append((t - r.wanted_pickup_s) / 60)
                continue
            aboard.discard(r.request_id)
            served += 1
            excess.append((t - at[r.request_id] - r.boarding_s - problem.direct_s(r)) / 60)
            if r.appointment_s is not None:
                early.append((r.appointment_s - t) / 60)
        pooled += len(shared)
    return {
        "served": served,
        "excess_ride_min_mean": round(statistics.mean(excess), 2),
        "excess_ride_min_p95": round(float(np.percentile(excess, 95)), 2),
        "wait_before_appointment_min_mean": round(statistics.mean(early), 2) if early else None,
        "pickup_after_asked_min_mean": round(statistics.mean(late_pickup), 2) if late_pickup else None,
        "vehicle_km": round(km, 1),
        "pooled_share": round(pooled / max(1, served), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bookings", type=int, default=300)
    ap.add_argument("--reopt-s", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    problem, bookings = busy_day(args.bookings, args.seed)
    rows = [run_mode(problem, bookings, mode, args.reopt_s, args.seed) for mode in ("before", "after")]
    cols = [
        ("mode", "{:<7}"),
        ("served", "{:>6}"),
        ("excess_ride_min_mean", "{:>10}"),
        ("excess_ride_min_p95", "{:>9}"),
        ("wait_before_appointment_min_mean", "{:>12}"),
        ("pickup_after_asked_min_mean", "{:>12}"),
        ("vehicle_km", "{:>8}"),
        ("pooled_share", "{:>7}"),
    ]
    print("mode    served excess_avg excess_p95 early_appt_m pickup_late_m veh_km pooled (minutes)")
    for row in rows:
        print(" ".join(fmt.format(str(row[c])) for c, fmt in cols))
    write_results("rider-day", {"args": vars(args), "rows": rows})


if __name__ == "__main__":
    main()
