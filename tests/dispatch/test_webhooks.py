"""Company webhooks over real HTTP on loopback: signed, retried from the database outbox while the
receiver is down, in order per vehicle, exactly once, and never another company's events."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from dispatch.persistence import create_db_engine, migrate, store_reference_data
from dispatch.persistence.webhooks import WebhookStore
from dispatch.webhooks.delivery import WebhookDeliverer, WebhookOutbox
from dispatch.webhooks.model import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryStatus,
    WebhookEndpoint,
    signed_headers,
    verify,
)
from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.conftest import free_port
from tests.dispatch.helpers import Clock

OP = {"X-API-Key": "demo-operator"}
CHUO = {"X-API-Key": "demo-chuo-taxi"}
OGORI = {"X-API-Key": "demo-ogori-kotsu"}


class Receiver:
    """A company's webhook receiver: a real HTTP server on loopback that records what it is sent."""

    def __init__(self, port: int, secret: str = "") -> None:
        self.port, self.secret = port, secret
        self.got: list[tuple[Message, bytes]] = []
        self.bad_signatures = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if verify(outer.secret, self.headers, body, time.time()):
                    outer.got.append((self.headers, body))
                    self.send_response(204)
                else:
                    outer.bad_signatures += 1
                    self.send_response(401)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _h, body in self.got]


def _wait(cond: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return bool(cond())


@given(body=st.binary(max_size=2000), secret=st.text(min_size=1, max_size=40), skew=st.integers(-299, 299))
def test_signature_verifies_within_the_replay_window_and_only_for_the_exact_body(
    body: bytes, secret: str, skew: int
) -> None:
    """A signed body verifies inside the window; a changed byte, secret or timestamp does not."""
    now = 1_800_000_000
    h = signed_headers(secret, "evt_1", now, body)
    assert verify(secret, h, body, now + skew)
    assert not verify(secret + "x", h, body, now)
    assert not verify(secret, h, body + b"x", now)
    assert not verify(secret, h, body, now + 301)
    replayed = {**h, TIMESTAMP_HEADER: str(now + 200)}  # a fresh timestamp on an old signature
    assert not verify(secret, replayed, body, now + 200)
    assert h[SIGNATURE_HEADER].startswith("v1=")


@pytest.fixture()
def store(tmp_path: Path) -> WebhookStore:
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    engine = create_db_engine(url)
    migrate(engine)
    store_reference_data(engine, reference_data())
    return WebhookStore(engine, create_db_engine(url, read_only=True))


class _Sink:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, company_id: str, event: Any) -> None:
        self.published.append((company_id, dict(event)))


def test_a_failing_head_holds_back_its_vehicle_but_not_other_vehicles(store: WebhookStore) -> None:
    """Order per vehicle: while one vehicle's oldest event is being retried, its later events wait;
    another vehicle's events still go out. A delivery is failed after the last backoff step."""
    now = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    store.add_endpoint(
        WebhookEndpoint("W1", "chuo-taxi", "https://x.invalid/", "s", ("position",), True, now)
    )
    sink = _Sink()
    outbox = WebhookOutbox(sink, store, clock=lambda: now)
    for i in range(3):
        outbox.publish("chuo-taxi", {"type": "position", "vehicle_id": "chuo-01", "lat": i, "lon": 0})
        outbox.publish("chuo-taxi", {"type": "position", "vehicle_id": "chuo-02", "lat": i, "lon": 0})
    outbox.publish("chuo-taxi", {"type": "run_changed", "vehicle_id": "chuo-01"})  # not subscribed
    outbox.publish("ogori-kotsu", {"type": "position", "vehicle_id": "ogori-01"})  # no endpoint
    assert len(sink.published) == 8  # the server-sent events still get everything
    heads = store.due(now)
    assert [(d.ordering_key, json.loads(d.payload)["data"]["lat"]) for d, _ in heads] == [
        ("chuo-01", 0),
        ("chuo-02", 0),
    ]
    first = heads[0][0]
    assert store.claim(first.delivery_id, now, now + timedelta(seconds=60))
    assert not store.claim(first.delivery_id, now, now + timedelta(seconds=60))  # leased: nobody else
    store.record_attempt(
        first.delivery_id, delivered=False, status_code=503, error="HTTP 503", now=now,
        retry_at=now + timedelta(seconds=10),
    )  # fmt: skip
    second = heads[1][0]
    store.claim(second.delivery_id, now, now + timedelta(seconds=60))
    store.record_attempt(
        second.delivery_id, delivered=True, status_code=204, error="", now=now, retry_at=None
    )
    due = [(d.ordering_key, json.loads(d.payload)["data"]["lat"]) for d, _ in store.due(now)]
    assert due == [("chuo-02", 1)]  # chuo-01 waits for its head's retry; chuo-02 moves on
    later = [
        (d.ordering_key, json.loads(d.payload)["data"]["lat"])
        for d, _ in store.due(now + timedelta(seconds=11))
    ]
    assert later == [("chuo-01", 0), ("chuo-02", 1)]
    store.record_attempt(
        first.delivery_id, delivered=False, status_code=None, error="ConnectError", now=now, retry_at=None
    )
    log = store.deliveries("W1")
    assert {d.delivery_id: d.status for d in log}[first.delivery_id] is DeliveryStatus.FAILED
    assert [d.attempts for d in log if d.delivery_id == first.delivery_id] == [2]


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        reoptimise_interval_s=0,
        webhook_backoff_s=[0.5, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3],
        webhook_poll_s=0.1,
        webhook_timeout_s=2,
        webhook_allow_http_loopback=True,
    )
    with TestClient(create_app(settings, reference_data(), clock=Clock())) as c:
        yield c


def test_registration_is_https_only_and_each_company_sees_only_its_own(client: TestClient) -> None:
    """Plain http (except loopback when allowed), unknown event types and other companies are refused."""
    bad = client.post("/api/v1/webhooks", json={"url": "http://example.com/hook"}, headers=CHUO)
    assert bad.status_code == 422 and bad.json()["error"] == "invalid"
    assert (
        client.post(
            "/api/v1/webhooks", json={"url": "https://a.example/h", "event_types": ["secrets"]}, headers=CHUO
        ).status_code
        == 422
    )
    mine = client.post("/api/v1/webhooks", json={"url": "https://a.example/h"}, headers=CHUO).json()
    assert mine["secret"].startswith("whsec_") and mine["company_id"] == "chuo-taxi"
    for_other = client.post(
        "/api/v1/webhooks", json={"url": "https://a.example/h", "company_id": "ogori-kotsu"}, headers=CHUO
    )
    assert for_other.status_code == 404
    assert client.get("/api/v1/webhooks", headers=OGORI).json() == []
    assert client.get(f"/api/v1/webhooks/{mine['endpoint_id']}/deliveries", headers=OGORI).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{mine['endpoint_id']}", headers=OGORI).status_code == 404
    listed = client.get("/api/v1/webhooks", headers=CHUO).json()
    assert [e["endpoint_id"] for e in listed] == [mine["endpoint_id"]] and "secret" not in listed[0]
    assert client.get("/api/v1/webhooks", headers=OP).json()[0]["endpoint_id"] == mine["endpoint_id"]
    assert client.get("/api/v1/webhooks").status_code == 401


DOWN_S = 30.0


def test_receiver_down_30s_gets_every_event_once_in_order_and_no_other_companys(client: TestClient) -> None:
    """The issue's case: company A's receiver is down for 30 s while its vehicles move and a booking is
    made; after it comes back it has every event exactly once, per vehicle in order, validly signed;
    company B's receiver gets only B's events."""
    a = Receiver(free_port())
    b = Receiver(free_port())
    reg_a = client.post(
        "/api/v1/webhooks", json={"url": a.url, "event_types": ["run_changed", "position"]}, headers=CHUO
    ).json()
    reg_b = client.post(
        "/api/v1/webhooks", json={"url": b.url, "event_types": ["run_changed", "position"]}, headers=OGORI
    ).json()
    a.secret, b.secret = reg_a["secret"], reg_b["secret"]
    b.start()
    try:
        started = time.monotonic()
        for i in range(8):
            for vid in ("chuo-01", "chuo-02"):
                r = client.post(
                    f"/api/v1/vehicles/{vid}/position",
                    json={"lat": 34.1 + i / 1000, "lon": 131.4},
                    headers=CHUO,
                )
                assert r.status_code == 204
            client.post(
                "/api/v1/vehicles/ogori-01/position",
                json={"lat": 34.0 + i / 1000, "lon": 131.3},
                headers=OGORI,
            )
        q = client.post(
            "/api/v1/quotes",
            json={
                "rider_id": "R0001",
                "destination": {"kind": "place", "place_id": "red-cross-hospital"},
                "service_date": "2026-11-24",
                "mode": "arrive_by",
                "time": "10:00",
            },
            headers=OP,
        ).json()
        booked = client.post(
            f"/api/v1/bookings/{q['booking_id']}/confirm",
            json={"option": 0},
            headers={**OP, "Idempotency-Key": "w1"},
        ).json()
        time.sleep(max(0.0, DOWN_S - (time.monotonic() - started)))
        log = client.get(f"/api/v1/webhooks/{reg_a['endpoint_id']}/deliveries", headers=CHUO).json()
        assert log and all(d["status"] == "pending" for d in log)
        assert max(d["attempts"] for d in log) >= 3  # retried with backoff while the receiver was down
        assert all(d["last_error"] == "ConnectError" for d in log if d["attempts"])
        a.start()
        expected = 16 + (1 if booked["company_id"] == "chuo-taxi" else 0)
        assert _wait(lambda: len(a.got) >= expected, 30), f"{len(a.got)} of {expected} arrived"
        time.sleep(1.0)  # nothing more (no duplicates) trickles in afterwards
    finally:
        a.stop()
        b.stop()
    events_a = a.events()
    assert len(events_a) == expected and len({e["id"] for e in events_a}) == expected  # exactly once
    assert a.bad_signatures == 0 and b.bad_signatures == 0
    assert {e["company_id"] for e in events_a} == {"chuo-taxi"}
    for vid in ("chuo-01", "chuo-02"):
        lats = [
            e["data"]["lat"] for e in events_a if e["type"] == "position" and e["data"]["vehicle_id"] == vid
        ]
        assert lats == sorted(lats) and len(lats) == 8  # in order per vehicle
    events_b = b.events()
    assert len(events_b) == 8 + (booked["company_id"] == "ogori-kotsu") and {
        e["company_id"] for e in events_b
    } == {"ogori-kotsu"}
    assert not {e["id"] for e in events_a} & {e["id"] for e in events_b}
    log = client.get(f"/api/v1/webhooks/{reg_a['endpoint_id']}/deliveries", headers=CHUO).json()
    assert {d["status"] for d in log} == {"delivered"} and len(log) == expected


def test_the_deliverer_stops_with_the_app(tmp_path: Path) -> None:
    """Background job lifecycle: started with the app, stopped (thread gone) when it shuts down."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'l.db'}", reoptimise_interval_s=0)
    app = create_app(settings, reference_data(), clock=Clock())
    deliverer: WebhookDeliverer = app.state.webhook_deliverer
    with TestClient(app):
        assert deliverer._thread is not None and deliverer._thread.is_alive()
        thread = deliverer._thread
    assert not thread.is_alive()
