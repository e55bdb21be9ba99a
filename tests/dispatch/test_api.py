"""The dispatch HTTP API on real SQLite and a real Redis: auth scoping, validation, idempotency."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.conftest import RedisServer
from tests.dispatch.helpers import Clock

OP = {"X-API-Key": "demo-operator"}
CHUO = {"X-API-Key": "demo-chuo-taxi"}
OGORI = {"X-API-Key": "demo-ogori-kotsu"}
QUOTE = {
    "rider_id": "R0001",
    "destination": {"kind": "place", "place_id": "red-cross-hospital"},
    "service_date": "2026-11-24",
    "mode": "arrive_by",
    "time": "10:00",
}


@pytest.fixture()
def client(tmp_path: Path, redis_server: RedisServer) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}", redis_url=redis_server.url, reoptimise_interval_s=0
    )
    with TestClient(create_app(settings, reference_data(), clock=Clock())) as c:
        yield c


def _book(client: TestClient, body: dict[str, Any] | None = None, key: str = "k1") -> dict[str, Any]:
    q = client.post("/api/v1/quotes", json=body or QUOTE, headers=OP)
    assert q.status_code == 201, q.text
    b = client.post(
        f"/api/v1/bookings/{q.json()['booking_id']}/confirm",
        json={"option": 0},
        headers={**OP, "Idempotency-Key": key},
    )
    assert b.status_code == 200, b.text
    return dict(b.json())


def _count(client: TestClient) -> int:
    return len(client.get("/api/v1/bookings", params={"rider_id": "R0001"}, headers=OP).json())


def test_operator_books_and_reads_back_in_japanese(client: TestClient) -> None:
    found = client.get("/api/v1/riders", params={"q": "0830003001"}, headers=OP).json()
    assert [r["rider_id"] for r in found] == ["R0001"]
    assert client.get("/api/v1/riders", params={"q": "やまもと"}, headers=OP).json()
    b = _book(client)
    assert b["status"] == "scheduled" and b["status_ja"] == "配車済"
    assert "山口赤十字病院には10時までに到着" in b["read_back"]["ja"]
    assert b["pickup_window"] and b["fare_yen"] > 0
    again = client.post(
        f"/api/v1/bookings/{b['booking_id']}/confirm",
        json={"option": 0},
        headers={**OP, "Idempotency-Key": "k1"},
    )
    assert again.status_code == 200 and again.json()["booking_id"] == b["booking_id"]
    audit = client.get(f"/api/v1/bookings/{b['booking_id']}/audit", headers=OP).json()
    assert [a["to"] for a in audit] == ["quoted", "confirmed", "scheduled"]
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=CHUO).status_code == 403
    metrics = client.get("/metrics", headers=OP).text
    assert 'noriai_quotes_total{outcome="options"} 1.0' in metrics
    assert "noriai_http_request_duration_seconds_bucket" in metrics


def test_keys_are_required_and_company_keys_are_scoped(client: TestClient) -> None:
    b = _book(client)
    owner, other = (CHUO, OGORI) if b["company_id"] == "chuo-taxi" else (OGORI, CHUO)
    vid = b["vehicle_id"]
    assert client.get("/api/v1/runs", params={"date": "2026-11-24"}).status_code == 401
    assert (
        client.get("/api/v1/runs", params={"date": "2026-11-24"}, headers={"X-API-Key": "wrong"}).status_code
        == 401
    )
    # the owner sees its run, the rider on it and the vehicle
    assert client.get(f"/api/v1/runs/{vid}", params={"date": "2026-11-24"}, headers=owner).status_code == 200
    assert client.get("/api/v1/riders/R0001", headers=owner).json()["phone"] == "083-000-3001"
    assert "home" not in client.get("/api/v1/riders/R0001", headers=owner).json()
    assert client.get(f"/api/v1/vehicles/{vid}", headers=owner).status_code == 200
    # the other company: 404 for all of it, as if it did not exist
    for path in (
        f"/api/v1/runs/{vid}?date=2026-11-24",
        "/api/v1/riders/R0001",
        f"/api/v1/vehicles/{vid}",
        f"/api/v1/bookings/{b['booking_id']}",
    ):
        r = client.get(path, headers=other)
        assert r.status_code == 404, path
        assert r.json()["error"] == "not_found"
    assert (
        client.post(
            f"/api/v1/bookings/{b['booking_id']}/events", json={"event": "arrive"}, headers=other
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/vehicles/{vid}/position", json={"lat": 34.17, "lon": 131.47}, headers=other
        ).status_code
        == 404
    )
    other_runs = client.get("/api/v1/runs", params={"date": "2026-11-24"}, headers=other).json()
    assert all(s["booking_id"] != b["booking_id"] for r in other_runs for s in r["stops"])
    # operator-only routes: 403 with a company key
    for method, path, body in (
        ("POST", "/api/v1/quotes", QUOTE),
        ("GET", "/api/v1/riders?q=山本", None),
        ("GET", "/api/v1/bookings?rider_id=R0001", None),
        ("POST", f"/api/v1/bookings/{b['booking_id']}/cancel", {}),
        ("POST", "/api/v1/days/2026-11-24/reoptimise", None),
        ("GET", "/api/v1/analytics/trips?date=2026-11-24", None),
    ):
        r = client.request(method, path, json=body, headers=owner)
        assert r.status_code == 403, path
        assert r.json()["message_ja"] == "オペレーター専用の機能です"
    assert client.get(f"/api/v1/bookings/{b['booking_id']}", headers=OP).json()["status"] == "scheduled"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/quotes", {**QUOTE, "company_id": "ogori-kotsu"}),
        ("/api/v1/quotes", {**QUOTE, "consent": {"data_reuse": True}}),
        ("/api/v1/quotes", {**QUOTE, "time": "25:99"}),
        ("/api/v1/quotes", {**QUOTE, "companions": 30}),
        ("/api/v1/quotes", {**QUOTE, "destination": {"kind": "point", "lat": 91, "lon": 131}}),
        ("/api/v1/quotes", {k: v for k, v in QUOTE.items() if k != "destination"}),
    ],
)
def test_unknown_or_bad_fields_are_rejected_and_change_nothing(
    client: TestClient, path: str, body: dict[str, Any]
) -> None:
    before = _count(client)
    r = client.post(path, json=body, headers=OP)
    assert r.status_code == 422
    assert _count(client) == before


def test_unknown_ids_and_wrong_states_are_clear_errors(client: TestClient) -> None:
    assert client.post("/api/v1/quotes", json={**QUOTE, "rider_id": "R9999"}, headers=OP).status_code == 404
    r = client.post(
        "/api/v1/quotes", json={**QUOTE, "destination": {"kind": "place", "place_id": "nowhere"}}, headers=OP
    )
    assert r.status_code == 422 and "nowhere" in r.json()["message"]
    assert client.post("/api/v1/bookings/BNOPE/confirm", json={"option": 0}, headers=OP).status_code == 404
    b = _book(client)
    extra = {"company_id": "ogori-kotsu"}
    assert (
        client.post(
            f"/api/v1/bookings/{b['booking_id']}/confirm", json={"option": 0, **extra}, headers=OP
        ).status_code
        == 422
    )
    bad = client.post(f"/api/v1/bookings/{b['booking_id']}/events", json={"event": "drop_off"}, headers=OP)
    assert bad.status_code == 409 and bad.json()["error"] == "bad_state"
    assert (
        client.post(
            f"/api/v1/bookings/{b['booking_id']}/events", json={"event": "teleport"}, headers=OP
        ).status_code
        == 422
    )


def test_positions_go_through_redis_and_show_on_the_run(client: TestClient) -> None:
    b = _book(client)
    owner = CHUO if b["company_id"] == "chuo-taxi" else OGORI
    r = client.post(
        f"/api/v1/vehicles/{b['vehicle_id']}/position", json={"lat": 34.16, "lon": 131.45}, headers=owner
    )
    assert r.status_code == 204
    run = client.get(f"/api/v1/runs/{b['vehicle_id']}", params={"date": "2026-11-24"}, headers=owner).json()
    assert run["position"]["lat"] == pytest.approx(34.16) and run["live_stale"] is False
    assert client.get("/health").json()["notifications"] == {"backend": "redis"}
