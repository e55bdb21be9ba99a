"""Planner latency on the JR Bus Chugoku feed: 1,000 random reachable queries.

    .venv/bin/python benchmarks/planner.py [--queries 1000] [--walk 400] [--date 2026-11-24]

Prints build time, peak RSS, p50 / p95 / max query latency for transit-only (no walking) and with
footpaths; writes JSON under benchmarks/results/. pyraptor and ferrobus are not compared yet.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from datetime import date
from pathlib import Path

# This file is named planner.py as the issue asks; keep its folder off sys.path so that
# ``import planner`` finds the package, not this script.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402

from gtfs.loader import load_feed  # noqa: E402
from planner.raptor import Raptor  # noqa: E402
from planner.timetable import build_timetable  # noqa: E402

JR = Path(__file__).resolve().parents[2] / "shared/feeds/gtfs/yamaguchi_jrbus_chugoku_gtfs_20260813.zip"
RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--walk", type=float, default=400)
    ap.add_argument("--date", default="2026-11-24")
    args = ap.parse_args()
    day = date.fromisoformat(args.date)
    t0 = time.perf_counter()
    feed = load_feed(JR, "jr")
    load_s = time.perf_counter() - t0
    rows = []
    print(f"{'variant':<14} {'build s':>7} {'queries':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
    for variant, walk in (("transit-only", 0.0), (f"walk {args.walk:.0f} m", args.walk)):
        t1 = time.perf_counter()
        tt = build_timetable([feed], day, max_walk_m=walk)
        raptor = Raptor(tt)
        build_s = time.perf_counter() - t1
        served = sorted({int(s) for p in tt.patterns for s in p.stops[:-1]})
        rng = random.Random(42)
        lat: list[float] = []
        while len(lat) < args.queries:
            s, d = rng.choice(served), rng.choice(served)
            t = rng.randrange(5 * 3600, 20 * 3600)
            q0 = time.perf_counter()
            res = raptor.query({s: t}, {d: 0}, walking=walk > 0, min_transfer_s=60)
            dt = time.perf_counter() - q0
            if res:  # count reachable queries only, as the issue asks
                lat.append(dt * 1000)
        a = np.array(lat)
        row = {
            "variant": variant,
            "feed_load_s": load_s,
            "build_s": build_s,
            "queries": len(lat),
            "p50_ms": float(np.median(a)),
            "p95_ms": float(np.percentile(a, 95)),
            "max_ms": float(a.max()),
        }
        rows.append(row)
        print(
            f"{variant:<14} {build_s:>7.3f} {len(lat):>7} {row['p50_ms']:>7.2f} {row['p95_ms']:>7.2f} "
            f"{row['max_ms']:>7.2f}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"feed load {load_s:.2f} s, peak RSS {rss:.0f} MiB")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"planner-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"rows": rows, "peak_rss_mib": rss}, indent=1), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
