"""Redis stopped mid-test: bookings go on and live data says it is stale; Redis back: live updates resume.

Also checks, on the same real server, that its logs carry no rider's name or phone number.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from noriai.demo import reference_data
from tests.conftest import RedisServer, free_port
from tests.servers import serve, tomorrow

OP = {"X-API-Key": "demo-operator"}


class EventStream:
    """Reads a company's server-sent events on a thread."""

    def __init__(self, url: str, key: str) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._client = httpx.Client(timeout=httpx.Timeout(5, read=None))
        self._url = f"{url}/api/v1/events?key={key}"
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        event = "message"
        try:
            with self._client.stream("GET", self._url) as r:
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        self.events.append((event, json.loads(line[6:])))
                        event = "message"
        except httpx.HTTPError:
            pass

    def wait_for(self, pred: Any, timeout_s: float = 10) -> tuple[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        seen = 0
        while time.monotonic() < deadline:
            for ev in self.events[seen:]:
                if pred(ev):
                    return ev
            time.sleep(0.05)
        raise AssertionError(f"no matching event in {timeout_s} s; got {self.events[-10:]}")

    def close(self) -> None:
        self._client.close()


def _book(c: httpx.Client, rider: str, hour: int) -> dict[str, Any]:
    t0 = time.monotonic()
    q = c.post(
        "/api/v1/quotes",
        json={
            "rider_id": rider,
            "destination": {"kind": "place", "place_id": "red-cross-hospital"},
            "service_date": tomorrow().isoformat(),
            "mode": "pickup_after",
            "time": f"{hour}:00",
        },
    )
    assert q.status_code == 201, q.text
    b = c.post(
        f"/api/v1/bookings/{q.json()['booking_id']}/confirm",
        json={"option": 0},
        headers={"Idempotency-Key": q.json()["booking_id"]},
    )
    assert b.status_code == 200, b.text
    assert time.monotonic() - t0 < 3, "booking must not wait on Redis"
    return dict(b.json())


def test_bookings_survive_a_redis_outage_and_live_updates_resume(tmp_path: Path) -> None:
    workdir = tmp_path / "redis"
    workdir.mkdir()
    redis_server = RedisServer(free_port(), workdir / "redis.pid", workdir)
    redis_server.start()
    riders = reference_data().riders
    try:
        with (
            serve(tmp_path, REDIS_URL=redis_server.url) as (url, log),
            httpx.Client(base_url=url, headers=OP, timeout=10) as c,
        ):
            streams = {cid: EventStream(url, f"demo-{cid}") for cid in ("chuo-taxi", "ogori-kotsu")}
            for s in streams.values():
                s.wait_for(lambda e: e[0] == "status" and e[1] == {"stale": False})
            first = _book(c, riders[0].rider_id, 9)
            streams[first["company_id"]].wait_for(
                lambda e: e[0] == "run_changed" and e[1]["vehicle_id"] == first["vehicle_id"]
            )

            redis_server.stop()
            during = [_book(c, r.rider_id, 10 + i) for i, r in enumerate(riders[1:4])]
            assert all(b["status"] == "scheduled" for b in during)
            owner = {"X-API-Key": f"demo-{first['company_id']}"}
            pos = c.post(
                f"/api/v1/vehicles/{first['vehicle_id']}/position",
                json={"lat": 34.17, "lon": 131.47},
                headers=owner,
            )
            assert pos.status_code == 204
            run = c.get(
                f"/api/v1/runs/{first['vehicle_id']}", params={"date": tomorrow().isoformat()}, headers=owner
            ).json()
            assert run["live_stale"] is True
            health = c.get("/health").json()
            assert health["status"] == "ok" and health["live_store"]["ok"] is False
            for s in streams.values():
                s.wait_for(lambda e: e[0] == "status" and e[1] == {"stale": True})

            redis_server.start()
            after = _book(c, riders[4].rider_id, 14)
            stream = streams[after["company_id"]]
            stream.wait_for(lambda e: e[0] == "status" and e[1] == {"stale": False})
            stream.wait_for(lambda e: e[0] == "run_changed" and e[1]["vehicle_id"] == after["vehicle_id"])
            # what was published while Redis was away arrives too (outbox flushed)
            for b in during:
                streams[b["company_id"]].wait_for(
                    lambda e, b=b: e[0] == "run_changed" and e[1]["vehicle_id"] == b["vehicle_id"]
                )
            owner = {"X-API-Key": f"demo-{after['company_id']}"}
            c.post(
                f"/api/v1/vehicles/{after['vehicle_id']}/position",
                json={"lat": 34.18, "lon": 131.48},
                headers=owner,
            )
            run = c.get(
                f"/api/v1/runs/{after['vehicle_id']}", params={"date": tomorrow().isoformat()}, headers=owner
            ).json()
            assert run["live_stale"] is False and run["position"]["lat"] == 34.18
            stream.wait_for(lambda e: e[0] == "position" and e[1]["vehicle_id"] == after["vehicle_id"])
            # a name search and a phone search put personal data in URLs: the log must not keep it
            assert c.get("/api/v1/riders", params={"q": riders[0].name}).status_code == 200
            assert c.get("/api/v1/riders", params={"q": riders[1].phone}).status_code == 200
            for s in streams.values():
                s.close()
            for b in [first, *during, after]:
                assert c.get(f"/api/v1/bookings/{b['booking_id']}").json()["status"] == "scheduled"
        text = log.read_text()
        lines = [json.loads(x) for x in text.splitlines() if x.startswith("{")]
        assert any(x["logger"] == "uvicorn.access" for x in lines)
        for r in riders[:5]:
            assert r.name not in text and r.phone not in text and r.kana not in text
        assert "Traceback" not in text
    finally:
        redis_server.stop()
