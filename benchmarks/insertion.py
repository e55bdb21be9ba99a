"""Instant-insertion latency: one new request into a day plan of 40 vehicles x 25 stops.

    .venv/bin/python benchmarks/insertion.py [--vehicles 40] [--stops 25] [--queries 300] [--seed 1]

Builds a plan on the demo city (straight-line travel times between random points around Yamaguchi),
each vehicle running back-to-back shared trips, then times ``insertion_options`` for random new
requests. Prints median / p95 / max milliseconds and how many found an option; writes JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import numpy as np

from geo import LatLon, StraightLineModel
from solver import Problem, Request, StopKind, TimeWindow, Vehicle, insertion_options, ride_time_limit
from solver.schedule import earliest_schedule

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vehicles", type=int, default=40)
    ap.add_argument("--stops", type=int, default=25)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    per_vehicle = args.stops // 2 + 1
    n_points = 1 + args.vehicles * per_vehicle * 2 + args.queries * 2
    pts = [LatLon(34.17, 131.47)] + [
        LatLon(34.10 + rng.random() * 0.12, 131.40 + rng.random() * 0.14) for _ in range(n_points - 1)
    ]
    t0 = time.monotonic()
    m = StraightLineModel().matrix(pts)
    matrix_s = time.monotonic() - t0
    requests: list[Request] = []
    plan: dict[str, list[tuple[Request, StopKind]]] = {}
    vehicles = []
    loc = 1
    for v in range(args.vehicles):
        vid = f"v{v:02d}"
        vehicles.append(Vehicle(vid, 0, 0, TimeWindow(6 * 3600, 22 * 3600), seats=4))
        t = 7 * 3600 + rng.randrange(0, 3600)
        stops: list[tuple[Request, StopKind]] = []
        prev = 0
        while len(stops) + 2 <= args.stops:
            p, d = loc, loc + 1
            loc += 2
            t += int(m.duration_s[prev, p])
            direct = int(m.duration_s[p, d])
            r = Request(
                f"{vid}-{len(stops)}",
                p,
                d,
                pickup_window=TimeWindow(t - 600, t + 900),
                boarding_s=60,
                alighting_s=60,
                max_ride_time_s=ride_time_limit(direct),
            )
            requests.append(r)
            stops += [(r, StopKind.PICKUP), (r, StopKind.DROPOFF)]
            t += 60 + direct + 60 + 300
            prev = d
        plan[vid] = stops
    problem = Problem(tuple(requests), tuple(vehicles), m.duration_s, m.distance_m, name="insertion-bench")
    assert all(earliest_schedule(problem, v, plan[v.vehicle_id]) is not None for v in vehicles)
    stops_per_vehicle = statistics.mean(len(s) for s in plan.values())
    lat_ms = []
    found = 0
    for q in range(args.queries):
        p, d = loc + 2 * q, loc + 2 * q + 1
        if d >= len(pts):
            break
        t = rng.randrange(8 * 3600, 18 * 3600)
        direct = int(m.duration_s[p, d])
        new = Request(
            f"new{q}",
            p,
            d,
            pickup_window=TimeWindow(t, t + 1800),
            boarding_s=60,
            alighting_s=60,
            max_ride_time_s=ride_time_limit(direct),
        )
        t1 = time.perf_counter()
        opts = insertion_options(problem, plan, new, max_options=3)
        lat_ms.append((time.perf_counter() - t1) * 1000)
        found += bool(opts)
    lat = np.array(lat_ms)
    res = {
        "vehicles": args.vehicles,
        "stops_per_vehicle": stops_per_vehicle,
        "queries": len(lat_ms),
        "found_option": found,
        "median_ms": float(np.median(lat)),
        "p95_ms": float(np.percentile(lat, 95)),
        "max_ms": float(lat.max()),
        "matrix_build_s": matrix_s,
    }
    head = ("vehicles", "stops/veh", "queries", "found", "median ms", "p95 ms", "max ms")
    print("{:>8} {:>9} {:>7} {:>5} {:>9} {:>7} {:>7}".format(*head))
    print(
        f"{args.vehicles:>8} {stops_per_vehicle:>9.1f} {len(lat_ms):>7} {found:>5} {res['median_ms']:>9.2f} "
        f"{res['p95_ms']:>7.2f} {res['max_ms']:>7.2f}"
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"insertion-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(res, indent=1), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
