"""Riders' data rights over HTTP with a real Redis: only operator keys export or erase, and after the
erasure of a guest who booked from the trip planner no Redis key or value holds their name or phone."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.conftest import RedisServer
from tests.dispatch.helpers import Clock

OP = {"X-API-Key": "demo-operator"}
CHUO = {"X-API-Key": "demo-chuo-taxi"}
NAME, PHONE, LABEL = "鳥籠ゲスト", "090-7777-3131", "カナリア旅館"


@pytest.fixture()
def client(tmp_path: Path, redis_server: RedisServer) -> Iterator[TestClient]:
    redis.Redis.from_url(redis_server.url).flushdb()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'rights.db'}",
        redis_url=redis_server.url,
        reoptimise_interval_s=0,
    )
    with TestClient(create_app(settings, reference_data(), clock=Clock())) as c:
        yield c


def _redis_text(url: str) -> str:
    r = redis.Redis.from_url(url)
    out = []
    for key in r.scan_iter("*"):
        out.append(key.decode("utf-8", "replace"))
        kind = r.type(key).decode()  # type: ignore[no-untyped-call]
        if kind == "string":
            out.append(str(r.get(key)))
        elif kind == "stream":
            out.append(str(r.xrange(key)))
        elif kind == "zset":
            out.append(str(r.zrange(key, 0, -1)))
        elif kind == "hash":
            out.append(str(r.hgetall(key)))
        elif kind == "list":
            out.append(str(r.lrange(key, 0, -1)))
    return "\n".join(out)


def test_erasure_over_http_leaves_nothing_in_redis_or_the_database(
    client: TestClient, redis_server: RedisServer, tmp_path: Path
) -> None:
    body = {
        "name": NAME,
        "phone": PHONE,
        "from": "34.094214,131.396201",
        "to": "34.164911,131.457550",
        "date": "2026-11-24",
        "time_s": 10 * 3600,
        "to_label": LABEL,
    }
    booked = client.post("/api/v1/plan/taxi-bookings", json=body)
    assert booked.status_code == 201, booked.text
    bid = booked.json()["booking_id"]
    rid = client.get(f"/api/v1/bookings/{bid}", headers=OP).json()["rider_id"]
    moved = client.post("/api/v1/vehicles/chuo-01/position", json={"lat": 34.1, "lon": 131.4}, headers=CHUO)
    assert moved.status_code in (204, 404)

    for who, status in ((CHUO, 403), ({}, 401)):
        assert client.get(f"/api/v1/riders/{rid}/export", headers=who).status_code == status
        assert client.post(f"/api/v1/riders/{rid}/erase", headers=who).status_code == status
    live = client.post(f"/api/v1/riders/{rid}/erase", headers=OP)
    assert live.status_code == 409 and live.json()["error"] == "live_bookings"

    cancelled = client.post(
        f"/api/v1/bookings/{bid}/cancel", json={"reason": f"{NAME} 本人 {PHONE}"}, headers=OP
    )
    assert cancelled.status_code == 200, cancelled.text
    consent = client.post(
        f"/api/v1/riders/{rid}/consents",
        json={"purpose": "data_reuse", "granted": True, "given_on": "2026-11-20"},
        headers=OP,
    )
    assert consent.status_code == 200, consent.text
    exported = client.get(f"/api/v1/riders/{rid}/export", headers=OP).json()
    assert [b["booking_id"] for b in exported["bookings"]] == [bid]
    assert exported["rider"]["name"] == NAME and len(exported["consents"]) == 1

    erased = client.post(f"/api/v1/riders/{rid}/erase", headers=OP)
    assert erased.status_code == 200 and erased.json()["bookings_anonymised"] == 1
    digits = PHONE.replace("-", "")
    in_redis = _redis_text(redis_server.url)
    assert all(c not in in_redis for c in (NAME, PHONE, digits, LABEL))
    dump = "\n".join(sqlite3.connect(tmp_path / "rights.db").iterdump())
    assert all(c not in dump for c in (NAME, PHONE, digits, LABEL))
    assert (
        client.get(f"/api/v1/riders/{rid}/export", headers=OP).json()["bookings"][0]["status"] == "cancelled"
    )
