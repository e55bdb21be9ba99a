"""Eight operators booking at once against a real server (real SQLite, real Redis) for 60 s.

Must hold: no 5xx; every acknowledged booking is in the database in the state we left it; the day's
plans pass the independent audit (capacity, windows, ride times, each booking in exactly one plan).
The duration can be shortened for local runs with NORIAI_CONCURRENCY_S; CI runs the full minute.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from pathlib import Path

import httpx

from noriai.demo import reference_data
from tests.conftest import RedisServer
from tests.servers import serve, tomorrow

OP = {"X-API-Key": "demo-operator"}
OPERATORS = 8


def test_eight_operators_for_a_minute(tmp_path: Path, redis_server: RedisServer) -> None:
    duration_s = float(os.environ.get("NORIAI_CONCURRENCY_S", "60"))
    riders = [r.rider_id for r in reference_data().riders]
    places = [
        p.place_id for p in reference_data().places if p.kind.value in ("hospital", "station", "shopping")
    ]
    day = tomorrow().isoformat()
    acked: dict[str, str] = {}  # booking id -> status we expect to find
    server_errors: list[str] = []
    counts = {"quotes": 0, "bookings": 0, "replays": 0, "cancels": 0, "conflicts": 0, "rejected": 0}
    lock = threading.Lock()

    with serve(tmp_path, REDIS_URL=redis_server.url) as (url, log):
        stop_at = time.monotonic() + duration_s

        def operator(seed: int) -> None:
            rnd = random.Random(seed)
            with httpx.Client(base_url=url, headers=OP, timeout=30) as c:
                while time.monotonic() < stop_at:
                    hour = rnd.randint(8, 16)
                    body = {
                        "rider_id": rnd.choice(riders),
                        "destination": {"kind": "place", "place_id": rnd.choice(places)},
                        "service_date": day,
                        "mode": rnd.choice(["arrive_by", "pickup_after"]),
                        "time": f"{hour}:{rnd.choice(['00', '15', '30', '45'])}",
                        "companions": rnd.choice([0, 0, 0, 1]),
                    }
                    q = c.post("/api/v1/quotes", json=body)
                    if q.status_code >= 500:
                        server_errors.append(f"quote {q.status_code} {q.text[:200]}")
                        continue
                    with lock:
                        counts["quotes"] += 1
                    data = q.json()
                    if q.status_code != 201 or not data["options"]:
                        with lock:
                            counts["rejected"] += 1
                        continue
                    key = str(uuid.uuid4())
                    option = rnd.randrange(len(data["options"]))
                    r = c.post(
                        f"/api/v1/bookings/{data['booking_id']}/confirm",
                        json={"option": option},
                        headers={"Idempotency-Key": key},
                    )
                    if r.status_code >= 500:
                        server_errors.append(f"confirm {r.status_code} {r.text[:200]}")
                        continue
                    if r.status_code == 409:
                        with lock:
                            counts["conflicts"] += 1
                        continue
                    assert r.status_code == 200, r.text
                    bid = r.json()["booking_id"]
                    with lock:
                        acked[bid] = "scheduled"
                        counts["bookings"] += 1
                    if rnd.random() < 0.2:  # a double click / client retry with the same key
                        again = c.post(
                            f"/api/v1/bookings/{data['booking_id']}/confirm",
                            json={"option": option},
                            headers={"Idempotency-Key": key},
                        )
                        assert again.status_code == 200 and again.json()["booking_id"] == bid
                        with lock:
                            counts["replays"] += 1
                    if rnd.random() < 0.1:
                        x = c.post(f"/api/v1/bookings/{bid}/cancel", json={"reason": "test"})
                        if x.status_code >= 500:
                            server_errors.append(f"cancel {x.status_code}")
                        elif x.status_code == 200:
                            with lock:
                                acked[bid] = "cancelled"
                                counts["cancels"] += 1

        threads = [threading.Thread(target=operator, args=(i,)) for i in range(OPERATORS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        assert server_errors == []
        assert counts["bookings"] >= 20, counts
        with httpx.Client(base_url=url, headers=OP, timeout=30) as c:
            day_bookings = {
                b["booking_id"]: b for b in c.get("/api/v1/bookings", params={"date": day}).json()
            }
            for bid, status in acked.items():
                assert bid in day_bookings, f"acknowledged booking {bid} is missing"
                assert day_bookings[bid]["status"] == status
            audit = c.get(f"/api/v1/days/{day}/check").json()
            assert audit == {"ok": True, "problems": []}
            runs = c.get("/api/v1/runs", params={"date": day}).json()
            in_plans = [s["booking_id"] for r in runs for s in r["stops"] if s["kind"] == "pickup"]
            assert len(in_plans) == len(set(in_plans))
            assert set(in_plans) == {b for b, s in acked.items() if s == "scheduled"}
        assert "Traceback" not in log.read_text()
    print(f"\nconcurrency: {duration_s:.0f} s, {OPERATORS} operators: {counts}")
