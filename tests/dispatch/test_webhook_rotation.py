"""Webhook secret rotation over real HTTP on loopback: after a rotation with an overlap, every delivery
carries the new and the old secret's signatures, so a receiver holding either accepts it; after an
overlap of 0 only the new secret signs. Only the endpoint's company (or an operator) may rotate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dispatch.webhooks.model import SIGNATURE_HEADER, signature, signed_headers, verify
from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.conftest import free_port
from tests.dispatch.helpers import Clock
from tests.dispatch.test_webhooks import CHUO, OGORI, OP, Receiver, _wait


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'rot.db'}",
        reoptimise_interval_s=0,
        webhook_backoff_s=[0.5] * 20,
        webhook_poll_s=0.1,
        webhook_timeout_s=2,
        webhook_allow_http_loopback=True,
    )
    with TestClient(create_app(settings, reference_data(), clock=Clock())) as c:
        yield c


def test_the_signature_header_lists_both_secrets_during_an_overlap_and_each_verifies() -> None:
    h = signed_headers("new", "evt_1", 1_800_000_000, b"{}", "old")
    assert (
        h[SIGNATURE_HEADER]
        == f"{signature('new', 1_800_000_000, b'{}')} {signature('old', 1_800_000_000, b'{}')}"
    )
    assert verify("new", h, b"{}", 1_800_000_000) and verify("old", h, b"{}", 1_800_000_000)
    assert not verify("other", h, b"{}", 1_800_000_000)


def test_a_rotated_secret_signs_beside_the_old_one_for_the_overlap_then_alone(client: TestClient) -> None:
    rx = Receiver(free_port())
    reg = client.post(
        "/api/v1/webhooks", json={"url": rx.url, "event_types": ["position"]}, headers=CHUO
    ).json()
    old, ep = reg["secret"], reg["endpoint_id"]
    rx.secret = old
    rx.start()

    def move(lat: float) -> None:
        r = client.post("/api/v1/vehicles/chuo-01/position", json={"lat": lat, "lon": 131.4}, headers=CHUO)
        assert r.status_code == 204

    try:
        move(34.10)
        assert _wait(lambda: len(rx.got) == 1, 20)
        # other companies, no key, and an overlap out of range are refused; nothing changes
        assert client.post(f"/api/v1/webhooks/{ep}/rotate-secret", json={}, headers=OGORI).status_code == 404
        assert client.post(f"/api/v1/webhooks/{ep}/rotate-secret", json={}).status_code == 401
        too_long = client.post(
            f"/api/v1/webhooks/{ep}/rotate-secret", json={"overlap_s": 30 * 86400}, headers=CHUO
        )
        assert too_long.status_code == 422 and too_long.json()["message_ja"]
        # rotate with an hour's overlap: the receiver still holding the old secret keeps accepting
        before = datetime.now().astimezone()
        rot = client.post(f"/api/v1/webhooks/{ep}/rotate-secret", json={"overlap_s": 3600}, headers=CHUO)
        assert rot.status_code == 200, rot.text
        new = rot.json()["secret"]
        assert new.startswith("whsec_") and new != old
        until = datetime.fromisoformat(rot.json()["previous_secret_expires_at"])
        assert before + timedelta(minutes=59) < until < before + timedelta(minutes=61)
        assert "secret" not in client.get(f"/api/v1/webhooks/{ep}", headers=CHUO).json()
        move(34.11)
        assert _wait(lambda: len(rx.got) == 2, 20)
        headers, body = rx.got[1]
        assert len(headers[SIGNATURE_HEADER].split()) == 2
        assert verify(old, headers, body, time.time()) and verify(new, headers, body, time.time())
        # the receiver switches to the new secret; an operator rotates again at once (no overlap)
        rx.secret = new
        again = client.post(f"/api/v1/webhooks/{ep}/rotate-secret", json={"overlap_s": 0}, headers=OP)
        assert again.status_code == 200 and again.json()["previous_secret_expires_at"] is None
        newest = again.json()["secret"]
        rx.secret = newest
        move(34.12)
        assert _wait(lambda: len(rx.got) == 3, 20)
        headers, body = rx.got[2]
        assert len(headers[SIGNATURE_HEADER].split()) == 1
        assert verify(newest, headers, body, time.time())
        assert not verify(new, headers, body, time.time()) and not verify(old, headers, body, time.time())
    finally:
        rx.stop()
    assert rx.bad_signatures == 0  # no delivery was ever refused by the receiver during the switch
    log = client.get(f"/api/v1/webhooks/{ep}/deliveries", headers=CHUO).json()
    assert [d["status"] for d in log] == ["delivered"] * 3
