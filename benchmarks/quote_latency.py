"""Quote latency over HTTP with a busy day: 40 vehicles and ~800 bookings.

    .venv/bin/python benchmarks/quote_latency.py [--vehicles 40] [--bookings 800] [--quotes 200] [--seed 1]

Starts the real app (uvicorn, SQLite file, straight-line travel times) with the demo places and 400
generated riders around Yamaguchi City, five companies of eight vehicles, books the day through the
HTTP API (quote + confirm) until it holds ``--bookings`` bookings, then times ``--quotes`` more
``POST /api/v1/quotes`` calls. Prints p50 / p95 / max and writes benchmarks/results/quote_latency.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path

import httpx
import numpy as np
import uvicorn

from dispatch.domain import Company, Consent, MobilityNeeds, Rider, Shift, Vehicle, VehicleKind
from dispatch.service import TOKYO
from geo import LatLon
from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app

RESULTS = Path(__file__).resolve().parent / "results"
DAY = date(2026, 11, 24)


def _reference(vehicles: int, rng: random.Random):  # type: ignore[no-untyped-def]
    base = reference_data()
    riders = list(base.riders)
    for i in range(400):
        riders.append(
            Rider(
                f"G{i:04d}",
                f"利用者{i}",
                "りようしゃ",
                f"083-900-{i:04d}",
                LatLon(34.12 + rng.random() * 0.10, 131.42 + rng.random() * 0.12),
                "生成",
                1940,
                MobilityNeeds(),
                False,
                False,
                Consent(False),
            )
        )
    companies = []
    per = 8
    for c in range((vehicles + per - 1) // per):
        cid = f"bench-{c}"
        fleet = []
        for v in range(min(per, vehicles - c * per)):
            kind = VehicleKind.JUMBO if v == 7 else VehicleKind.WELFARE if v == 6 else VehicleKind.SEDAN
            fleet.append(
                Vehicle(
                    f"{cid}-{v}",
                    cid,
                    kind,
                    f"山口{c}{v}",
                    9 if kind is VehicleKind.JUMBO else 4,
                    1 if kind is VehicleKind.WELFARE else 0,
                    Shift(dtime(7), dtime(19)),
                )
            )
        depot = LatLon(34.15 + 0.01 * c, 131.45 + 0.01 * c)
        companies.append(
            Company(cid, f"ベンチ交通{c}", f"Bench {c}", "083-000-0000", "営業所", depot, tuple(fleet))
        )
    return replace(base, riders=tuple(riders), companies=tuple(companies))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vehicles", type=int, default=40)
    ap.add_argument("--bookings", type=int, default=800)
    ap.add_argument("--quotes", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    ref = _reference(args.vehicles, rng)
    tmp = Path(tempfile.mkdtemp(prefix="noriai-bench-"))
    clock_now = datetime(2026, 11, 23, 9, 0, tzinfo=TOKYO)
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp / 'bench.db'}", reoptimise_interval_s=0),
        ref,
        clock=lambda: clock_now,
    )
    port = 18000 + rng.randrange(1000)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    riders = [r.rider_id for r in ref.riders]
    places = [p.place_id for p in ref.places if p.kind.value in ("hospital", "station", "shopping", "office")]

    def body() -> dict[str, object]:
        minute = rng.randrange(7 * 60 + 45, 17 * 60 + 30)
        return {
            "rider_id": rng.choice(riders),
            "destination": {"kind": "place", "place_id": rng.choice(places)},
            "service_date": DAY.isoformat(),
            "mode": rng.choice(["arrive_by", "pickup_after"]),
            "time": f"{minute // 60}:{minute % 60:02d}",
        }

    c = httpx.Client(base_url=url, headers={"X-API-Key": "demo-operator"}, timeout=60)
    booked = attempts = 0
    t0 = time.monotonic()
    while booked < args.bookings and attempts < args.bookings * 4:
        attempts += 1
        q = c.post("/api/v1/quotes", json=body()).json()
        if q["options"]:
            r = c.post(f"/api/v1/bookings/{q['booking_id']}/confirm", json={"option": 0})
            booked += r.status_code == 200
        if attempts % 100 == 0:
            print(
                f"  seeding: {booked} bookings after {attempts} quotes ({time.monotonic() - t0:.0f} s)",
                flush=True,
            )
    seed_s = time.monotonic() - t0
    ms: list[float] = []
    with_options = 0
    for _ in range(args.quotes):
        t = time.perf_counter()
        q = c.post("/api/v1/quotes", json=body())
        ms.append((time.perf_counter() - t) * 1000)
        assert q.status_code == 201, q.text
        with_options += bool(q.json()["options"])
    audit = c.get(f"/api/v1/days/{DAY}/check").json()
    server.should_exit = True
    out = {
        "vehicles": args.vehicles,
        "bookings_in_day": booked,
        "seeding_quotes": attempts,
        "seeding_s": round(seed_s, 1),
        "quotes_timed": args.quotes,
        "quotes_with_options": with_options,
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),  # as benchmarks/insertion.py and planner.py
        "max_ms": round(max(ms), 1),
        "day_audit_ok": audit["ok"],
    }
    cols = [
        "vehicles",
        "bookings_in_day",
        "quotes_timed",
        "quotes_with_options",
        "p50_ms",
        "p95_ms",
        "max_ms",
    ]
    print("\n" + " ".join(f"{c:>19}" for c in cols))
    print(" ".join(f"{out[c]!s:>19}" for c in cols))
    print(f"day audit ok: {audit['ok']}  (seeding took {seed_s:.0f} s for {attempts} quotes)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "quote_latency.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
