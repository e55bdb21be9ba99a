"""GTFS load time and memory per feed (every feed in ../shared/feeds/gtfs and the demo feed).

    .venv/bin/python benchmarks/gtfs_load.py [--repeat 5]

Each feed is loaded ``--repeat`` times in a fresh child process (so memory is per feed, not cumulative);
prints median / p95 seconds and peak RSS growth in MiB; writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "feeds" / "gtfs"
DEMO = Path(__file__).resolve().parents[1] / "noriai" / "demo" / "data" / "gtfs"
RESULTS = Path(__file__).resolve().parent / "results"

CHILD = """
import resource, sys, time
from gtfs.loader import inspect_feed
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
feed = inspect_feed(sys.argv[1])
secs = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(secs, (after - before) / 1024, len(feed.stops), len(feed.trips), len(feed.st_trip), len(feed.errors()))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    feeds = sorted([p for p in FEEDS.iterdir() if p.suffix == ".zip" or (p.is_dir() and p.name != "flex")])
    feeds += [*sorted((FEEDS / "flex").iterdir()), DEMO]
    rows = []
    print(
        f"{'feed':<44} {'stops':>6} {'trips':>6} {'stop_times':>10} {'median s':>8} {'p95 s':>6} {'MiB':>6}"
    )
    for f in feeds:
        secs, mem = [], []
        info: list[str] = []
        for _ in range(args.repeat):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(f)], capture_output=True, text=True, check=True
            )
            info = out.stdout.split()
            secs.append(float(info[0]))
            mem.append(float(info[1]))
        s = sorted(secs)
        row = {
            "feed": f.name,
            "stops": int(info[2]),
            "trips": int(info[3]),
            "stop_times": int(info[4]),
            "errors": int(info[5]),
            "median_s": statistics.median(secs),
            "p95_s": s[min(len(s) - 1, round(0.95 * (len(s) - 1)))],
            "peak_rss_growth_mib": max(mem),
        }
        rows.append(row)
        print(
            f"{f.name:<44} {row['stops']:>6} {row['trips']:>6} {row['stop_times']:>10} "
            f"{row['median_s']:>8.3f} {row['p95_s']:>6.3f} {row['peak_rss_growth_mib']:>6.1f}"
        )
    RESULTS.mkdir(exist_ok=True)
    out_path = RESULTS / f"gtfs-load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out_path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
