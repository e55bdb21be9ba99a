"""Abuse limits and hostile input on the open endpoints, on real SQLite and a real Redis: rate limits
with 429, the cap on a guest phone's open bookings, the confirmation code, the body size limit, 422s
that do not echo the input, and values (NaN, surrogates, bidi overrides) refused with 422."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.sms import LogSmsSender, MemorySmsSender
from noriai.web import create_app
from tests.conftest import RedisServer
from tests.dispatch.helpers import Clock

OP = {"X-API-Key": "demo-operator"}
PHONE = "090-1111-2222"
GUEST: dict[str, object] = {
    "name": "試験 花子",
    "phone": PHONE,
    "from": "34.094214,131.396201",
    "to": "34.164911,131.457550",
    "date": "2026-11-24",
    "time_s": 10 * 3600,
}


def _app(tmp_path: Path, redis_url: str | None, sms: MemorySmsSender | None = None, **kw: Any) -> TestClient:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'guards.db'}", redis_url=redis_url, reoptimise_interval_s=0, **kw
    )
    return TestClient(create_app(settings, reference_data(), clock=Clock(), sms=sms))


@pytest.fixture()
def client(tmp_path: Path, redis_server: RedisServer) -> Iterator[TestClient]:
    redis.Redis.from_url(redis_server.url).flushdb()  # rate-limit counters of earlier tests
    with _app(tmp_path, redis_server.url) as c:
        yield c


def _open_bookings(client: TestClient, phone: str) -> list[dict[str, Any]]:
    digits = phone.replace("-", "")
    found = client.get("/api/v1/riders", params={"q": digits}, headers=OP).json()
    out: list[dict[str, Any]] = []
    for r in found:
        bs = client.get("/api/v1/bookings", params={"rider_id": r["rider_id"]}, headers=OP).json()
        out += [b for b in bs if b["status"] in ("confirmed", "scheduled", "picked_up", "on_call")]
    return out


def test_fifty_guest_bookings_in_a_minute_from_one_address_are_refused_after_the_limit(
    client: TestClient,
) -> None:
    """One phone: four bookings (the cap), then 409 at the cap and 429 once the phone's hourly limit is
    used up; the address's limit (10 a minute) refuses the rest. No booking beyond the cap exists."""
    statuses = []
    last_429: dict[str, Any] = {}
    for i in range(50):
        # two hours apart, so no booking is refused as a duplicate of the one before (#14)
        body = {**GUEST, "time_s": 9 * 3600 + (i % 5) * 7200}
        r = client.post("/api/v1/plan/taxi-bookings", json=body)
        statuses.append(r.status_code)
        if r.status_code == 429:
            last_429 = r.json()
            assert int(r.headers["Retry-After"]) >= 1
    assert statuses[:4] == [201] * 4, statuses
    assert statuses[4] == 409  # the cap of open bookings
    assert set(statuses[5:]) == {429}, statuses
    assert last_429["error"] == "rate_limited"
    assert "リクエストが多すぎます" in last_429["message_ja"] and "too many requests" in last_429["message"]
    assert len(_open_bookings(client, PHONE)) == 4


def test_many_phones_from_one_address_hit_the_address_limit(client: TestClient) -> None:
    """Ten bookings a minute per address whatever the phone numbers."""
    statuses = [
        client.post(
            "/api/v1/plan/taxi-bookings",
            json={**GUEST, "phone": f"090-3333-{i:04d}", "time_s": 9 * 3600 + i * 300},
        ).status_code
        for i in range(15)
    ]
    assert all(s in (201, 409) for s in statuses[:10]), statuses
    assert statuses[10:] == [429] * 5


def test_the_planner_is_rate_limited_per_address(tmp_path: Path) -> None:
    with _app(tmp_path, None, rate_planner="3/minute") as c:
        q = {"from": "shin-yamaguchi-sta", "to": "yuda-onsen", "date": "2026-11-24", "time": "09:00"}
        got = [c.get("/api/v1/plan", params=q).status_code for _ in range(5)]
    assert got[:3] == [200] * 3 and got[3:] == [429, 429]


def test_a_guest_booking_needs_the_code_sent_to_the_phone_when_codes_are_on(tmp_path: Path) -> None:
    sms = MemorySmsSender()
    with _app(tmp_path, None, sms=sms, guest_phone_check=True) as c:
        r = c.post("/api/v1/plan/taxi-bookings", json=GUEST)
        assert r.status_code == 422 and r.json()["error"] == "code_required"
        assert c.post("/api/v1/plan/phone-codes", json={"phone": GUEST["phone"]}).status_code == 202
        text = sms.last_to(PHONE)
        assert text is not None
        m = re.search(r"\b(\d{6})\b", text)
        assert m is not None
        code = m.group(1)
        wrong = "000000" if code != "000000" else "111111"
        r = c.post("/api/v1/plan/taxi-bookings", json={**GUEST, "code": wrong})
        assert r.status_code == 422 and r.json()["error"] == "bad_code"
        r = c.post("/api/v1/plan/taxi-bookings", json={**GUEST, "code": code})
        assert r.status_code == 201, r.text
        again = c.post("/api/v1/plan/taxi-bookings", json={**GUEST, "code": code, "time_s": 11 * 3600})
        assert again.status_code == 422  # a code is good for one booking
        # codes to one phone are limited too (3 per 10 minutes)
        sent = [
            c.post("/api/v1/plan/phone-codes", json={"phone": GUEST["phone"]}).status_code for _ in range(4)
        ]
        assert sent[-1] == 429


def test_the_log_sender_does_not_log_the_phone(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="noriai.sms"):
        LogSmsSender().send("090-8765-4321", "code: 424242")
    assert "424242" in caplog.text
    assert "8765" not in caplog.text and "4321" not in caplog.text


def test_a_big_body_is_refused_before_it_is_parsed(client: TestClient) -> None:
    huge = json.dumps([GUEST] * 40_000).encode()  # ~7 MB
    r = client.post("/api/v1/plan/taxi-bookings", content=huge, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        yield b"["
        for _ in range(2000):
            yield json.dumps(GUEST).encode() + b","
        yield b"{}]"

    r = client.post(
        "/api/v1/plan/taxi-bookings", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


def test_a_422_does_not_echo_the_input(client: TestClient) -> None:
    r = client.post("/api/v1/plan/taxi-bookings", json={**GUEST, "name": "名" * 20_000})
    assert r.status_code == 422
    assert len(r.content) < 2_000 and "名名名" not in r.text
    assert r.json()["message_ja"]


@pytest.mark.parametrize(
    "change",
    [
        {"name": "花子\ud800"},  # lone surrogate
        {"name": "花子\u202eevil"},  # right-to-left override
        {"name": "花子\x00"},  # NUL
        {"from_label": "駅\x1b[31m"},  # terminal escape
        {"phone": "0٨٣٩٩٩٩١٢٣"},  # Arabic-Indic digits
        {"phone": "０９０１２３４５６７８"},  # full-width digits
        {"from": "NaN,131.4"},
        {"to": "34.1,Infinity"},
        {"from": "1e309,131.4"},
        {"date": "0001-01-01"},
    ],
)
def test_hostile_guest_values_get_422_and_book_nothing(client: TestClient, change: dict[str, str]) -> None:
    body = json.dumps({**GUEST, **change}, ensure_ascii=True)  # \ud800 travels as an escape
    r = client.post("/api/v1/plan/taxi-bookings", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert _open_bookings(client, PHONE) == []


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_non_finite_coordinates_get_422_not_500(client: TestClient, value: str) -> None:
    quote = (
        '{"rider_id": "R0001", "destination": {"kind": "point", "lat": VALUE, "lon": 131.4},'
        ' "service_date": "2026-11-24", "mode": "arrive_by", "time": "10:00"}'
    ).replace("VALUE", value)
    r = client.post("/api/v1/quotes", content=quote, headers={**OP, "content-type": "application/json"})
    assert r.status_code == 422, r.text
    pos = '{"lat": VALUE, "lon": 131.4}'.replace("VALUE", value)
    r = client.post(
        "/api/v1/vehicles/chuo-01/position",
        content=pos,
        headers={**OP, "content-type": "application/json"},
    )
    assert r.status_code == 422, r.text


def test_rider_search_treats_percent_and_underscore_as_themselves(client: TestClient) -> None:
    assert client.get("/api/v1/riders", params={"q": "%"}, headers=OP).json() == []
    assert client.get("/api/v1/riders", params={"q": "_"}, headers=OP).json() == []
    assert client.get("/api/v1/riders", params={"q": "やまもと"}, headers=OP).json()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stops/S001/departures?at=0001-01-01T00:00",
        "/api/v1/stops/S001/departures?at=9999-12-31T23:59",
        "/api/v1/stops/S001/timetable?date=9999-12-31",
        "/api/v1/runs?date=0001-01-01",
        "/api/v1/runs?date=0",
        "/api/v1/days/9999-12-31/check",
        "/api/v1/plan?from=shin-yamaguchi-sta&to=yuda-onsen&date=9999-12-31",
    ],
)
def test_years_1_and_9999_and_numbers_as_dates_get_422(client: TestClient, path: str) -> None:
    assert client.get(path, headers=OP).status_code == 422


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/quotes", '{"rider_id": "R\\ud800", "destination": {"kind": "home"},'
         ' "service_date": "2026-11-24", "mode": "arrive_by", "time": "10:00"}'),
        ("/api/v1/bookings/B1/cancel", '{"reason": "\\udfff"}'),
        ("/api/v1/bookings/B1/cancel", '{"reason": "\\u202e"}'),
    ],
)  # fmt: skip
def test_surrogates_and_bidi_overrides_in_operator_bodies_get_422(
    client: TestClient, path: str, body: str
) -> None:
    r = client.post(path, content=body, headers={**OP, "content-type": "application/json"})
    assert r.status_code == 422, r.text
