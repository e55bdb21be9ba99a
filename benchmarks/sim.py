"""Simulator speed: wall time for a day of 250 / 500 / 1,000 / 2,000 requests, where the time goes
(quotes + confirms, re-optimisation, driver events, the simulator itself), peak memory; and the
sweep's speed-up on a Dask LocalCluster with 1 vs 2 workers.

    .venv/bin/python -m benchmarks.sim [--sizes 250,500,1000,2000] [--repeats 1] [--sweep-requests 80]

Each day runs in its own process (so peak RSS is that day's), with the fleet scaled to the demand
(8 vehicles per 300 requests, as in the demo scenario) and the demo scenario's noise. Target: 1,000
requests in <= 60 s. Writes benchmarks/results/sim.json. Timings on a shared machine vary: say so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def vehicles_for(requests: int) -> int:
    return max(8, round(requests * 8 / 300))


def one_day(requests: int, seed: int) -> dict[str, Any]:
    """Run in a child process: one simulated day, its timing split and peak RSS."""
    from noriai.sim_cli import demo_city
    from sim import demo_scenario, simulate, summary

    city = demo_city()
    sc = demo_scenario().with_overrides(requests=requests, vehicles=vehicles_for(requests))
    started, cpu_started = time.perf_counter(), time.process_time()
    run = simulate(sc, city, seed=seed)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started  # on a shared machine, what the day itself cost
    s = summary(run)
    t = s["timing"]
    dispatch = t["quote_s"] + t["confirm_s"] + t["cancel_s"]
    return {
        "requests": requests,
        "vehicles": vehicles_for(requests),
        "seed": seed,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "quote_confirm_s": round(dispatch, 2),
        "reoptimise_s": t["reoptimise_s"],
        "driver_events_s": t["driver_events_s"],
        "simulator_s": round(wall - dispatch - t["reoptimise_s"] - t["driver_events_s"], 2),
        "quote_share": round(dispatch / wall, 3),
        "reoptimise_share": round(t["reoptimise_s"] / wall, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "served": s["kpis"]["served"],
        "on_time_pct": s["kpis"]["on_time_pct"],
    }


def run_child(requests: int, seed: int) -> dict[str, Any]:
    done = subprocess.run(
        # as a module from the project root: run as a script, benchmarks/ would come first on the path
        # and ``import sim`` would find this file instead of the simulator
        [sys.executable, "-m", "benchmarks.sim", "--one", str(requests), "--seed", str(seed)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:  # say why the day failed, not only that it did
        raise SystemExit(f"the {requests}-request day (seed {seed}) failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def sweep_speedup(requests: int) -> dict[str, Any]:
    from noriai.sim_cli import demo_city
    from sim import demo_scenario
    from sim.sweep import grid, sweep

    base = demo_scenario().with_overrides(requests=requests)
    points = grid({"vehicles": [6, 8], "speed_noise": [0.0, 0.15]}, seeds=[1])
    out: dict[str, Any] = {"tasks": len(points), "requests_per_day": requests}
    for workers in (1, 2):
        started = time.perf_counter()
        _results, facts = sweep(base, demo_city(), points, workers=workers)
        out[f"wall_s_{workers}_workers"] = round(time.perf_counter() - started, 2)
        out[f"workers_seen_{workers}"] = facts["workers"]
    out["speedup"] = round(out["wall_s_1_workers"] / out["wall_s_2_workers"], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="250,500,1000,2000")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sweep-requests", type=int, default=80)
    ap.add_argument("--no-sweep", action="store_true")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one_day(args.one, args.seed)))
        return
    rows = []
    for n in [int(x) for x in args.sizes.split(",")]:
        runs = [run_child(n, args.seed + r) for r in range(args.repeats)]
        walls = sorted(r["wall_s"] for r in runs)
        p95 = walls[min(len(walls) - 1, round(0.95 * (len(walls) - 1)))]
        row = {**runs[-1], "median_wall_s": statistics.median(walls), "p95_wall_s": p95, "repeats": len(runs)}
        rows.append(row)
        print(
            f"{n:>5} requests {row['vehicles']:>3} vehicles: median {row['median_wall_s']:7.1f} s "
            f"p95 {p95:7.1f} s (CPU {row['cpu_s']:.1f} s) | quotes+confirms {row['quote_share']:.0%} "
            f"re-optimisation "
            f"{row['reoptimise_share']:.0%} | peak {row['peak_rss_mib']} MiB | served {row['served']} "
            f"on time {row['on_time_pct']} %",
            flush=True,
        )
    result: dict[str, Any] = {
        "benchmark": "sim",
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, {platform.python_version()}",
        "note": "shared development machine (other work running); wall times are upper bounds",
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "target": "1000 requests <= 60 s",
        "days": rows,
    }
    if not args.no_sweep:
        result["sweep"] = sweep_speedup(args.sweep_requests)
        s = result["sweep"]
        print(
            f"sweep of {s['tasks']} days x {s['requests_per_day']} requests: "
            f"1 worker {s['wall_s_1_workers']} s, 2 workers {s['wall_s_2_workers']} s, "
            f"speed-up {s['speedup']}x",
            flush=True,
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sim.json").write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
