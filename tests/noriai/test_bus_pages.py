"""Bus-location API and pages on the demo feed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app


@pytest.fixture()
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(Settings(database_url=f"sqlite:///{tmp_path / 'n.db'}"), reference_data()))


def test_next_departures_api(client: TestClient) -> None:
    r = client.get("/api/v1/stops/S006/departures", params={"at": "2026-11-24T08:00:00+09:00", "limit": 3})
    assert r.status_code == 200
    deps = r.json()["departures"]
    assert len(deps) == 3
    assert all(d["scheduled"] >= "2026-11-24T08:00" for d in deps)
    assert deps == sorted(deps, key=lambda d: d["scheduled"])


def test_combined_timetable_api_and_page(client: TestClient) -> None:
    weekday = client.get("/api/v1/stops/S009/timetable", params={"date": "2026-11-24"}).json()["departures"]
    holiday = client.get("/api/v1/stops/S009/timetable", params={"date": "2026-11-23"}).json()["departures"]
    assert len(weekday) > len(holiday) > 0  # holidays run the weekend timetable
    assert {d["route"] for d in weekday} >= {"1", "2", "4"}
    page = client.get("/bus/stops/S009", params={"date": "2026-11-24"})
    assert page.status_code == 200 and "総合時刻表" in page.text and "Combined timetable" in page.text


def test_unknown_stop_is_a_404_with_a_message(client: TestClient) -> None:
    r = client.get("/api/v1/stops/NOPE/departures")
    body = r.json()
    assert r.status_code == 404 and body["error"] == "unknown_stop" and "unknown stop" in body["message"]
    assert "停留所" in body["message_ja"]
    assert client.get("/api/v1/stops/S001/departures", params={"limit": 0}).status_code == 422


def test_route_timetable_lists_each_trip_in_order(client: TestClient) -> None:
    body = client.get("/api/v1/routes/L4/timetable", params={"date": "2026-11-24"}).json()
    trips = body["trips"]
    assert len(trips) == 2 * 15  # hourly 06:45-20:45 both ways on weekdays
    outbound = [t for t in trips if t["direction_id"] == 0]
    firsts = [t["stops"][0]["departure"] for t in outbound]
    assert firsts == sorted(firsts) and firsts[0].startswith("2026-11-24T06:45")
    assert client.get("/api/v1/routes/L9/timetable").status_code == 404
