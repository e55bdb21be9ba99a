"""DARP benchmark: Cordeau (2006) a/b and Cordeau-Laporte (2003) pr instances against best-known costs.

    .venv/bin/python benchmarks/darp.py [--set ab|pr|all] [--limits 5,10,30] [--only a2-16,b8-96]
                                       [--variants lns,ortools,plain] [--workers 2]

Prints instance, variant, limit, cost, best known, gap %, seconds, feasible (by the independent
checker), unserved; then median / p95 / mean gap per variant and limit; writes the table as JSON to
benchmarks/results/darp-<timestamp>.json. Variants (``VARIANTS`` below): ``lns`` (ours), ``lns-1core``,
``lns-only`` (no OR-Tools polish), ``ortools`` (the first release's solver), ``plain`` (plain OR-Tools).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from pathlib import Path
from typing import cast

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


def p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="ab", choices=["ab", "pr", "all"])
    ap.add_argument("--limits", default="10")
    ap.add_argument("--only", default="")
    ap.add_argument("--variants", default="lns,plain", help=", ".join(VARIANTS))
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    bks = best_known()
    limits = [float(x) for x in args.limits.split(",")]
    variants = args.variants.split(",")
    rows = []
    head = ("instance", "variant", "limit", "cost", "bks", "gap%", "sec")
    print("{:<12} {:<9} {:>5} {:>9} {:>9} {:>7} {:>6} feasible unserved".format(*head))
    for path in instances(args.set, [x for x in args.only.split(",") if x]):
        inst = parse_instance(path)
        name = inst.name.removesuffix(".jinete-modified")
        problem = inst.to_problem()
        for limit in limits:
            for variant in variants:
                t0 = time.monotonic()
                result = run_variant(problem, variant, limit, args.workers)
                secs = time.monotonic() - t0
                cost = inst.cost(result)
                best = bks.get(name)
                gap = 100 * (cost / best - 1) if best else None
                feasible = not check(problem, result)
                row = {
                    "instance": name,
                    "variant": variant,
                    "limit_s": limit,
                    "cost": round(cost, 3),
                    "bks": best,
                    "gap_pct": round(gap, 3) if gap is not None else None,
                    "seconds": round(secs, 2),
                    "feasible": feasible,
                    "unserved": len(result.unassigned),
                }
                rows.append(row)
                gap_s = f"{gap:7.2f}" if gap is not None else "      -"
                print(
                    f"{name:<12} {variant:<9} {limit:>5g} {cost:>9.2f} {best or 0:>9.2f} {gap_s} "
                    f"{secs:>6.1f} {'yes' if feasible else 'NO':>8} {len(result.unassigned):>8}",
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
