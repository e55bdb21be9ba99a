"""A bad bike-share or GTFS-RT feed degrades that mode only: /api/v1/plan keeps answering with bus and
taxi options, the poller threads keep running, and /health says which feed is failing."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dispatch.service import TOKYO
from noriai.demo import GBFS_DIR, reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.dispatch.helpers import Clock

NOW = datetime(2026, 11, 24, 7, 30, tzinfo=TOKYO)
PLAN = {"from": "shin-yamaguchi-sta", "to": "yuda-onsen", "date": "2026-11-24", "time": "09:00"}


def _gbfs(tmp_path: Path, *, bad_station: bool = False, nested: bool = False) -> Path:
    """The demo GBFS feed, reported as of NOW, with one station at latitude 95 or a station_information
    nested 100,000 levels deep."""
    d = tmp_path / "gbfs"
    shutil.copytree(GBFS_DIR, d)
    status = json.loads((d / "station_status.json").read_text(encoding="utf-8"))
    status["last_updated"] = int(NOW.timestamp())
    for s in status["data"]["stations"]:
        s["last_reported"] = int(NOW.timestamp())
    (d / "station_status.json").write_text(json.dumps(status), encoding="utf-8")
    info = json.loads((d / "station_information.json").read_text(encoding="utf-8"))
    if bad_station:
        info["data"]["stations"][-1]["lat"] = 95.0
    (d / "station_information.json").write_text(json.dumps(info), encoding="utf-8")
    if nested:
        depth = 100_000
        (d / "station_information.json").write_text(
            '{"data": {"stations": ' + "[" * depth + "]" * depth + "}}", encoding="utf-8"
        )
    return d


def _client(tmp_path: Path, gbfs: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'n.db'}",
        reoptimise_interval_s=0,
        gbfs_url=str(gbfs),
        gtfs_rt_urls="http://127.0.0.1:9/trip-updates.pb",  # nothing listens on port 9
    )
    with TestClient(create_app(settings, reference_data(), clock=Clock(NOW))) as c:
        poller = c.app.state.gbfs_poller  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        while poller.polls == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert poller.polls >= 1
        yield c


@pytest.fixture
def bad_station(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path, _gbfs(tmp_path, bad_station=True))


@pytest.fixture
def nested(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path, _gbfs(tmp_path, nested=True))


def _kinds(body: dict[str, Any]) -> set[str]:
    return {o["kind"] for o in body["options"]}


def test_a_station_at_latitude_95_leaves_every_mode_working(bad_station: TestClient) -> None:
    r = bad_station.get("/api/v1/plan", params=PLAN)
    assert r.status_code == 200, r.text
    assert {"transit", "taxi", "bike"} <= _kinds(r.json())  # only the bad station is gone
    feeds = bad_station.get("/health").json()["feeds"]
    assert feeds["bikeshare"]["state"] == "ok"
    assert feeds["bikeshare"]["problems"]["station_information_bad_coordinates"] == 1


def test_a_deeply_nested_station_information_degrades_bike_share_only(nested: TestClient) -> None:
    r = nested.get("/api/v1/plan", params=PLAN)
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"transit", "taxi"} <= _kinds(body) and "bike" not in _kinds(body)
    assert any("no bike-share data" in n for n in body["notices"])
    health = nested.get("/health")
    assert health.status_code == 200
    h = health.json()
    assert h["status"] == "degraded" and h["database"]["ok"]
    bikes = h["feeds"]["bikeshare"]
    assert bikes["state"] == "failing" and bikes["consecutive_failures"] >= 1
    assert "nested too deeply" in bikes["last_error"] and bikes["next_poll_in_s"] > 0
    assert any(t.name == "gbfs-poller" and t.is_alive() for t in threading.enumerate())


def test_an_unreachable_gtfs_rt_feed_is_reported_and_the_plan_uses_the_timetable(
    bad_station: TestClient,
) -> None:
    poller = bad_station.app.state.realtime_poller  # type: ignore[attr-defined]
    poller.run_once()
    rt = bad_station.get("/health").json()["feeds"]["realtime:1"]
    assert rt["state"] == "failing" and rt["url"].endswith("/trip-updates.pb") and rt["last_error"]
    r = bad_station.get("/api/v1/plan", params=PLAN)
    assert r.status_code == 200 and "transit" in _kinds(r.json())


def test_predictions_of_a_feed_silent_for_over_30_minutes_are_not_applied() -> None:
    from google.transit import gtfs_realtime_pb2 as pb

    from bus_location import RealtimeWriter
    from gtfs.loader import load_feed
    from noriai.demo import GTFS_DIR
    from noriai.web.plan import RealtimeDelays

    feed = load_feed(GTFS_DIR, "demo")
    sent = datetime(2026, 11, 24, 6, 31, tzinfo=TOKYO)
    m = pb.FeedMessage()
    m.header.gtfs_realtime_version = "2.0"
    m.header.timestamp = int(sent.timestamp())
    e = m.entity.add()
    e.id = "1"
    e.trip_update.trip.trip_id = "L1-WD-0-01"
    e.trip_update.trip.start_date = "20261124"
    u = e.trip_update.stop_time_update.add()
    u.stop_sequence = 2
    u.departure.delay = u.arrival.delay = 180
    writer = RealtimeWriter({"demo": feed})
    assert writer.apply_bytes("demo", m.SerializeToString()).ok
    clock = Clock(sent.replace(minute=50))
    delays = RealtimeDelays([feed], writer, clock)
    fresh_version, fresh = delays(sent.date())
    assert fresh and "demo:L1-WD-0-01" in fresh
    clock.now = sent.replace(hour=7, minute=2)  # 31 minutes after the last message: stale
    stale_version, stale = delays(sent.date())
    assert stale is None and stale_version != fresh_version
