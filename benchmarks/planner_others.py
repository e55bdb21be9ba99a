"""Our RAPTOR beside the PyPI planners on the JR Bus Chugoku feed, same day, same random queries.

    .venv/bin/python benchmarks/planner_others.py [--queries 200] [--date 2026-11-24]

pyraptor (pure Python, needs numpy<2) runs in its own venv under benchmarks/.venvs/ (made on first use
with pip from PyPI). Its GTFS importer is written for the Dutch NS feed (calendar_dates only,
parent stations, NS agency filter) and cannot read the JR feed, so the day's trips are handed to it as
DataFrames through its own converter ``gtfs_to_pyraptor_timetable``, one station per stop so that both
planners answer the same stop-to-stop question: changes at the same stop, no change time, no walking
(pyraptor's 2-minute layover applies only between platforms of one station, and there are none here).
ferrobus is not run: it builds its street network from an OSM PBF file and no OpenStreetMap extract of
Yamaguchi is available offline.

Prints p50 / p95 per planner and how often the two earliest arrivals agree; writes JSON under
benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
import venv
from datetime import date
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402

from gtfs.loader import load_feed  # noqa: E402
from planner.raptor import INF, Raptor  # noqa: E402
from planner.timetable import build_timetable  # noqa: E402

HERE = Path(__file__).resolve().parent
JR = HERE.parents[1] / "shared/feeds/gtfs/yamaguchi_jrbus_chugoku_gtfs_20260813.zip"
RESULTS = HERE / "results"
VENV = HERE / ".venvs" / "pyraptor"

RUNNER = r"""
import json, sys, time
import pandas as pd
from pyraptor.gtfs.timetable import GtfsTimetable, gtfs_to_pyraptor_timetable
from pyraptor.model.raptor import RaptorAlgorithm

data = json.load(open(sys.argv[1]))
stop_ids = sorted({s for t in data["trips"] for s in t["stops"]})
g = GtfsTimetable()
g.trips = pd.DataFrame([{"route_id": "r", "service_id": "s", "trip_id": t["trip_id"],
                         "trip_short_name": i, "trip_long_name": ""} for i, t in enumerate(data["trips"])])
g.stop_times = pd.DataFrame([
    {"trip_id": t["trip_id"], "stop_sequence": k, "stop_id": s, "arrival_time": a, "departure_time": d}
    for t in data["trips"] for k, (s, a, d) in enumerate(zip(t["stops"], t["arr"], t["dep"]))
])
g.stops = pd.DataFrame([
    {"stop_id": s, "stop_name": s, "parent_station": s, "platform_code": "1"} for s in stop_ids
])
t0 = time.perf_counter()
tt = gtfs_to_pyraptor_timetable(g)
build_s = time.perf_counter() - t0
algo = RaptorAlgorithm(tt)
out = []
for q in data["queries"]:
    src = tt.stations.get(q["from"]).stops
    dst = tt.stations.get(q["to"]).stops
    t1 = time.perf_counter()
    bag = algo.run(src, q["t"], 6)
    # rounds after an early stop keep their initial labels: take the best over all rounds
    arr = min((bag[k][st].earliest_arrival_time for k in bag for st in dst), default=None)
    ms = (time.perf_counter() - t1) * 1000
    out.append({"ms": ms, "arrival": arr})
json.dump({"build_s": build_s, "results": out}, open(sys.argv[2], "w"))
"""


def ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV} (pyraptor with numpy<2) ...", file=sys.stderr)
        venv.create(VENV, with_pip=True)
        subprocess.run(
            [
                str(py),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "numpy<2",
                "pyraptor==1.3.10",
                "attrs",
                "loguru",
                "pandas<2.3",
            ],
            check=True,
        )
    return py


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--date", default="2026-11-24")
    args = ap.parse_args()
    day = date.fromisoformat(args.date)
    feed = load_feed(JR, "jr")
    tt = build_timetable([feed], day, max_walk_m=0)
    raptor = Raptor(tt)
    served = sorted({int(s) for p in tt.patterns for s in p.stops[:-1]})
    rng = random.Random(42)
    queries: list[dict[str, object]] = []
    ours: list[tuple[float, int | None]] = []
    rides: list[int] = []
    while len(queries) < args.queries:
        s, d = rng.choice(served), rng.choice(served)
        t = rng.randrange(5 * 3600, 20 * 3600)
        q0 = time.perf_counter()
        res = raptor.query({s: t}, {d: 0}, walking=False, min_transfer_s=0)
        ms = (time.perf_counter() - q0) * 1000
        if not res or s == d:
            continue  # reachable queries only, as in benchmarks/planner.py
        queries.append({"from": tt.stop_ids[s], "to": tt.stop_ids[d], "t": t})
        ours.append((ms, min(it.arrival for it in res)))
        rides.append(min(res, key=lambda it: (it.arrival, it.rides)).rides)
    trips: list[dict[str, object]] = []
    for p in tt.patterns:
        stops = [tt.stop_ids[int(x)] for x in p.stops]
        for row, trip_id in enumerate(p.trip_ids):
            trips.append(
                {
                    "trip_id": f"{trip_id}#{len(trips)}",
                    "stops": stops,
                    "arr": p.arr[row].tolist(),
                    "dep": p.dep[row].tolist(),
                }
            )
    py = ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp, script = Path(tmp) / "in.json", Path(tmp) / "out.json", Path(tmp) / "run.py"
        inp.write_text(json.dumps({"trips": trips, "queries": queries}))
        script.write_text(RUNNER)
        subprocess.run([str(py), str(script), str(inp), str(outp)], check=True)
        theirs = json.loads(outp.read_text())
    ours_ms = np.array([m for m, _ in ours])
    their_ms = np.array([r["ms"] for r in theirs["results"]])
    agree = sum(
        1
        for (_, a), r in zip(ours, theirs["results"], strict=True)
        if r["arrival"] is not None and r["arrival"] == a
    )
    later = sum(
        1 for (_, a), r in zip(ours, theirs["results"], strict=True) if r["arrival"] and r["arrival"] > a
    )
    earlier = sum(
        1 for (_, a), r in zip(ours, theirs["results"], strict=True) if r["arrival"] and r["arrival"] < a
    )
    missing = sum(1 for r in theirs["results"] if not r["arrival"] or r["arrival"] >= 10**9)
    rows = [
        {
            "planner": "noriai RAPTOR",
            "p50_ms": float(np.median(ours_ms)),
            "p95_ms": float(np.percentile(ours_ms, 95)),
        },
        {
            "planner": "pyraptor 1.3.10",
            "build_s": theirs["build_s"],
            "p50_ms": float(np.median(their_ms)),
            "p95_ms": float(np.percentile(their_ms, 95)),
        },
    ]
    print(f"JR Bus Chugoku, {day}, {len(queries)} reachable stop-to-stop queries, changes at the same stop")
    print(f"{'planner':<18} {'p50 ms':>8} {'p95 ms':>8}")
    for r in rows:
        print(f"{r['planner']:<18} {r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f}")
    print(
        f"same earliest arrival: {agree}/{len(queries)}; pyraptor later {later}, earlier {earlier}, "
        f"no journey {missing}"
    )
    by_rides: dict[int, list[int]] = {}
    for k, (_, a), r in zip(rides, ours, theirs["results"], strict=True):
        by_rides.setdefault(k, [0, 0])[0 if r["arrival"] == a else 1] += 1
    print(f"agree/disagree by rides in our earliest journey: {dict(sorted(by_rides.items()))}")
    print("ferrobus: not run (needs an OSM PBF street network; none offline)")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"planner-others-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"rows": rows, "agree": agree, "queries": len(queries), "inf": INF}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
