"""Locust user for benchmarks/load.py: a call-centre operator booking rides for callers.

Each simulated operator takes a call (think time), quotes a trip for a rider of one area to a point
in the same area, and confirms the first option with an Idempotency-Key (as the console does). The
area plan comes from the JSON file named by NORIAI_LOAD_PLAN (written by load.py).
"""

from __future__ import annotations

import json
import os
import random
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

PLAN: dict[str, Any] = json.loads(Path(os.environ["NORIAI_LOAD_PLAN"]).read_text(encoding="utf-8"))
AREAS: list[dict[str, Any]] = PLAN["areas"]
DAY: str = PLAN["day"]
FIRST_MIN: int = PLAN["first_minute"]


class Operator(HttpUser):
    wait_time = between(PLAN["think_min_s"], PLAN["think_max_s"])

    def on_start(self) -> None:
        self.client.headers["X-API-Key"] = PLAN["api_key"]
        self.rng = random.Random()

    @task
    def book_a_ride(self) -> None:
        area = self.rng.choice(AREAS)
        lat0, lon0 = area["centre"]
        minute = self.rng.randrange(FIRST_MIN, 17 * 60 + 30)
        body = {
            "rider_id": self.rng.choice(area["riders"]),
            "destination": {
                "kind": "point",
                "lat": lat0 + self.rng.uniform(-0.025, 0.025),
                "lon": lon0 + self.rng.uniform(-0.03, 0.03),
                "label": "目的地",
            },
            "service_date": DAY,
            "mode": self.rng.choice(["arrive_by", "pickup_after"]),
            "time": f"{minute // 60}:{minute % 60:02d}",
        }
        with self.client.post("/api/v1/quotes", json=body, name="quote", catch_response=True) as q:
            if q.status_code != 201:
                q.failure(f"quote {q.status_code}: {q.text[:120]}")
                return
            data = q.json()
        if not data["options"]:
            return
        with self.client.post(
            f"/api/v1/bookings/{data['booking_id']}/confirm",
            json={"option": 0},
            headers={"Idempotency-Key": str(uuid.uuid4())},
            name="confirm",
            catch_response=True,
        ) as c:
            if c.status_code == 409:  # someone took the room first: an answer, not an error
                c.success()
            elif c.status_code != 200:
                c.failure(f"confirm {c.status_code}: {c.text[:120]}")
