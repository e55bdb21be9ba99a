"""Idempotency keys belong to one caller and one request; a guest never borrows a registered rider.

The reproductions of issue #20 over real HTTP (uvicorn in a thread, real SQLite): an operator's key
replayed by an unauthenticated guest, a guest key reused with another body, ten concurrent retries of
one guest booking, and a guest booking made with a registered rider's phone number.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import httpx
import pytest

from dispatch.service import TOKYO
from tests.dispatch.helpers import Clock
from tests.servers import serve_demo

DAY = date(2026, 11, 24)
LATER = date(2026, 12, 3)
CLOCK = Clock(datetime(2026, 11, 24, 7, 30, tzinfo=TOKYO))
OP = {"X-API-Key": "demo-operator"}
YUDA = "34.1605,131.4546"
STATION = "34.0942,131.3962"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # retries and many guests from one address: the rate limits are tested in tests/noriai/test_guards.py
    lifted = {"rate_guest_booking": "1000/minute", "rate_guest_phone": "1000/minute"}
    with serve_demo(tmp_path_factory.mktemp("idem"), CLOCK, **lifted) as u:
        yield u


def guest_body(name: str, phone: str, day: date = DAY, time_s: int = 11 * 3600) -> dict[str, Any]:
    return {
        "name": name,
        "phone": phone,
        "from": STATION,
        "to": YUDA,
        "date": day.isoformat(),
        "time_s": time_s,
        "from_label": "新山口駅",
        "to_label": "湯田温泉",
    }


def operator_booking(url: str, rider_id: str, key: str) -> dict[str, Any]:
    q = httpx.post(
        url + "/api/v1/quotes",
        json={
            "rider_id": rider_id,
            "destination": {"kind": "place", "place_id": "red-cross-hospital"},
            "service_date": DAY.isoformat(),
            "mode": "arrive_by",
            "time": "10:00",
        },
        headers=OP,
        timeout=30,
    )
    assert q.status_code == 201, q.text
    r = httpx.post(
        f"{url}/api/v1/bookings/{q.json()['booking_id']}/confirm",
        json={"option": 0},
        headers={**OP, "Idempotency-Key": key},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def day_bookings(url: str, day: date) -> list[dict[str, Any]]:
    got = httpx.get(url + "/api/v1/bookings", params={"date": day.isoformat()}, headers=OP, timeout=30)
    assert got.status_code == 200
    return list(got.json())


def test_an_operators_key_replayed_by_a_guest_never_returns_the_operators_booking(url: str) -> None:
    op = operator_booking(url, "R0001", "op-secret-1")
    r = httpx.post(
        url + "/api/v1/plan/taxi-bookings",
        json=guest_body("三浦 正", "090-5555-0101", LATER),
        headers={"Idempotency-Key": "op-secret-1"},
        timeout=30,
    )
    assert r.status_code in (201, 409, 422), r.text
    got = r.json()
    assert got.get("booking_id") != op["booking_id"]
    assert "山本" not in r.text  # the operator's rider is not read back to the guest
    if r.status_code == 201:
        assert "三浦 正" in got["read_back"]["ja"]
    # and the operator's own retry still returns the operator's booking
    again = httpx.post(
        f"{url}/api/v1/bookings/{op['booking_id']}/confirm",
        json={"option": 0},
        headers={**OP, "Idempotency-Key": "op-secret-1"},
        timeout=30,
    )
    assert again.status_code == 200 and again.json()["booking_id"] == op["booking_id"]


def test_the_same_key_with_another_body_is_refused(url: str) -> None:
    key = str(uuid.uuid4())
    first = httpx.post(
        url + "/api/v1/plan/taxi-bookings",
        json=guest_body("観光 一郎", "090-5555-0202"),
        headers={"Idempotency-Key": key},
        timeout=30,
    )
    assert first.status_code == 201, first.text
    before = len(day_bookings(url, LATER))
    other = httpx.post(
        url + "/api/v1/plan/taxi-bookings",
        json=guest_body("観光 二郎", "090-5555-0303", LATER),
        headers={"Idempotency-Key": key},
        timeout=30,
    )
    assert other.status_code == 422, other.text
    body = other.json()
    assert body["error"] == "idempotency_key_mismatch"
    assert first.json()["booking_id"] not in other.text
    assert len(day_bookings(url, LATER)) == before  # nothing quoted or booked for the second body
    # an operator confirming with another option under one key is refused the same way
    op = operator_booking(url, "R0002", "op-key-2")
    wrong = httpx.post(
        f"{url}/api/v1/bookings/{op['booking_id']}/confirm",
        json={"option": 1},
        headers={**OP, "Idempotency-Key": "op-key-2"},
        timeout=30,
    )
    assert wrong.status_code == 422 and wrong.json()["error"] == "idempotency_key_mismatch"


def test_ten_concurrent_retries_of_one_guest_booking_make_one_booking(url: str) -> None:
    key = str(uuid.uuid4())
    body = guest_body("同時 花子", "090-5555-0404", time_s=13 * 3600)
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    start = threading.Barrier(10)

    def retry() -> None:
        start.wait()
        r = httpx.post(
            url + "/api/v1/plan/taxi-bookings", json=body, headers={"Idempotency-Key": key}, timeout=60
        )
        with lock:
            answers.append(r)

    threads = [threading.Thread(target=retry) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in answers] == [201] * 10, [r.text[:200] for r in answers]
    assert len({r.json()["booking_id"] for r in answers}) == 1
    mine = [b for b in day_bookings(url, DAY) if b["rider_id"].startswith("G") and b["time"] == "13:00"]
    assert len(mine) == 1, mine  # no stray quotes, no second booking
    assert mine[0]["status"] == "scheduled"


def test_a_guest_with_a_registered_riders_phone_does_not_become_that_rider(url: str) -> None:
    # R0011 山本 武 is registered with 083-000-3011 and a disability certificate (a discount)
    r = httpx.post(
        url + "/api/v1/plan/taxi-bookings",
        json=guest_body("佐藤 一", "0830003011", time_s=15 * 3600),
        timeout=30,
    )
    assert r.status_code == 201, r.text
    got = r.json()
    assert "佐藤 一" in got["read_back"]["ja"]
    assert "山本" not in r.text
    booking = httpx.get(f"{url}/api/v1/bookings/{got['booking_id']}", headers=OP, timeout=30).json()
    assert booking["rider_id"] != "R0011" and booking["rider_id"].startswith("G")
    assert booking["fare"]["inputs"]["concession"] is None
    registered = httpx.get(url + "/api/v1/bookings", params={"rider_id": "R0011"}, headers=OP, timeout=30)
    assert got["booking_id"] not in registered.text
    # the same undiscounted fare as a stranger's for the same trip
    stranger = httpx.post(
        url + "/api/v1/plan/taxi-bookings",
        json=guest_body("鈴木 次郎", "090-5555-0505", time_s=15 * 3600 + 60),
        timeout=30,
    )
    assert stranger.status_code == 201
    assert got["fare_yen"] == stranger.json()["fare_yen"]
