"""DARP benchmark: Cordeau (2006) a/b and Cordeau-Laporte (2003) pr instances against best-known costs.

    .venv/bin/python benchmarks/darp.py [--set ab|pr|all] [--limits 5,10,30] [--only a2-16,b8-96]
                                       [--variants lns,ortools,plain] [--workers 2] [--jobs 1]

Prints instance, variant, limit, cost, best known, gap %, seconds, feasible (by the independent
checker), unserved; then median / p95 / mean gap per variant and limit; writes the table as JSON to
benchmarks/results/darp-<timestamp>.json. Variants (``VARIANTS`` below): ``lns`` (ours), ``lns-1core``,
``lns-only`` (no OR-Tools polish), ``ortools`` (the first release's solver), ``plain`` (plain OR-Tools).
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, cast

from solver import Problem, Result, UnassignedReason, check, construct, lns, solve
from solver.api import Method, build_result
from solver.cordeau import parse_instance

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "darp"
RESULTS = Path(__file__).resolve().parent / "results"


def instances(which: str, only: list[str]) -> list[Path]:
    out: list[Path] = []
    if which in ("ab", "all"):
        out += sorted((SHARED / "instances/cordeau2006").glob("*.txt"))
    if which in ("pr", "all"):
        out += sorted((SHARED / "instances/cordeau-laporte2003").glob("*.txt"))
    if only:
        out = [p for p in out if p.stem.removesuffix(".jinete-modified") in only or p.stem in only]
    return out


def best_known() -> dict[str, float]:
    with (SHARED / "bks.csv").open(encoding="utf-8") as f:
        return {r["instance"]: float(r["bks"]) for r in csv.DictReader(f)}


VARIANTS = {
    "lns": "construction, LNS, OR-Tools polish; one search per core (--workers), best wins",
    "lns-1core": "the same on one core",
    "lns-only": "construction and LNS for the whole time, no OR-Tools, one core",
    "ortools": "construction + OR-Tools guided local search; one search per core (--workers)",
    "plain": "the plain OR-Tools model (its own first solution, guided local search), one core",
}


def run_variant(problem: Problem, variant: str, limit: float, workers: int) -> Result:
    if variant == "lns-only":
        t0 = time.monotonic()
        lns.warm_up()
        plan, _left = construct(problem, list(problem.requests))
        found = lns.improve(
            problem, list(problem.requests), plan, time_limit_s=limit - (time.monotonic() - t0)
        )
        routed = {r.request_id for stops in found.values() for r, _ in stops}
        left = {
            r.request_id: UnassignedReason.CONFLICT for r in problem.requests if r.request_id not in routed
        }
        return build_result(problem, found, left, status="ok", started=t0)
    if variant == "lns-1core":
        return solve(problem, time_limit_s=limit, method="lns", workers=1)
    if variant not in VARIANTS:
        raise SystemExit(f"unknown variant {variant!r}; one of {', '.join(VARIANTS)}")
    method = cast(Method, variant)
    return solve(problem, time_limit_s=limit, method=method, workers=1 if method == "plain" else workers)


def run_task(task: tuple[str, float, str, int]) -> dict[str, Any]:
    """One (instance, limit, variant) solve, in a pool process; returns its table row."""
    path, limit, variant, workers = task
    inst = parse_instance(path)
    name = inst.name.removesuffix(".jinete-modified")
    problem = inst.to_problem()
    t0 = time.monotonic()
    result = run_variant(problem, variant, limit, workers)
    secs = time.monotonic() - t0
    cost = inst.cost(result)
    best = best_known().get(name)
    gap = 100 * (cost / best - 1) if best else None
    return {
        "instance": name,
        "variant": variant,
        "limit_s": limit,
        "cost": round(cost, 3),
        "bks": best,
        "gap_pct": round(gap, 3) if gap is not None else None,
        "seconds": round(secs, 2),
        "feasible": not check(problem, result),
        "unserved": len(result.unassigned),
    }


def p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="ab", choices=["ab", "pr", "all"])
    ap.add_argument("--limits", default="10")
    ap.add_argument("--only", default="")
    ap.add_argument("--variants", default="lns,plain", help=", ".join(VARIANTS))
    ap.add_argument("--workers", type=int, default=2, help="cores per lns/ortools solve")
    ap.add_argument("--jobs", type=int, default=1, help="one-core solves run side by side (one per core)")
    args = ap.parse_args()
    limits = [float(x) for x in args.limits.split(",")]
    variants = args.variants.split(",")
    rows = []
    head = ("instance", "variant", "limit", "cost", "bks", "gap%", "sec")
    print("{:<12} {:<9} {:>5} {:>9} {:>9} {:>7} {:>6} feasible unserved".format(*head))
    tasks = [
        (str(path), limit, variant, args.workers)
        for path in instances(args.set, [x for x in args.only.split(",") if x])
        for limit in limits
        for variant in variants
    ]
    if args.jobs > 1 and any(v in ("lns", "ortools") and args.workers > 1 for _, _, v, _ in tasks):
        raise SystemExit("--jobs > 1 runs one-core variants side by side: use lns-1core, lns-only, plain")
    ctx = multiprocessing.get_context("fork")
    # with --jobs 1 every solve runs here, so a multi-core variant can fork its own workers
    with ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=ctx) as pool:
        for row in pool.map(run_task, tasks) if args.jobs > 1 else map(run_task, tasks):
            rows.append(row)
            gap = row["gap_pct"]
            gap_s = f"{gap:7.2f}" if gap is not None else "      -"
            print(
                f"{row['instance']:<12} {row['variant']:<9} {row['limit_s']:>5g} {row['cost']:>9.2f} "
                f"{row['bks'] or 0:>9.2f} {gap_s} {row['seconds']:>6.1f} "
                f"{'yes' if row['feasible'] else 'NO':>8} {row['unserved']:>8}",
                flush=True,
            )
    print()
    head2 = ("variant", "limit", "n", "mean gap%", "median", "p95", "max")
    print("{:<9} {:>5} {:>3} {:>9} {:>7} {:>7} {:>7} all feasible+served".format(*head2))
    summary = []
    for variant in variants:
        for limit in limits:
            sel = [
                r
                for r in rows
                if r["variant"] == variant and r["limit_s"] == limit and r["gap_pct"] is not None
            ]
            if not sel:
                continue
            gaps = [float(r["gap_pct"]) for r in sel]
            ok = all(r["feasible"] and r["unserved"] == 0 for r in sel)
            s = {
                "variant": variant,
                "limit_s": limit,
                "n": len(sel),
                "mean_gap_pct": statistics.mean(gaps),
                "median_gap_pct": statistics.median(gaps),
                "p95_gap_pct": p95(gaps),
                "max_gap_pct": max(gaps),
                "all_feasible_and_served": ok,
            }
            summary.append(s)
            print(
                f"{variant:<9} {limit:>5g} {len(sel):>3} {s['mean_gap_pct']:>9.2f} "
                f"{s['median_gap_pct']:>7.2f} {s['p95_gap_pct']:>7.2f} {s['max_gap_pct']:>7.2f} "
                f"{'yes' if ok else 'NO'}"
            )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"darp-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"rows": rows, "summary": summary}, indent=1), encoding="utf-8")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
