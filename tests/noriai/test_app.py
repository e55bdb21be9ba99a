"""Web app on the embedded default: SQLite file and the demo data."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app


@pytest.fixture()
def client(tmp_path: Path) -> TestClient:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'noriai.db'}", redis_url=None)
    return TestClient(create_app(settings, reference_data()))


def test_health_reports_sqlite_memory_store_and_demo_rows(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"] == {"backend": "sqlite", "ok": True}
    assert body["live_store"]["backend"] == "memory"
    assert body["reference_rows"] == {"places": 23, "companies": 2, "vehicles": 8, "riders": 50, "zones": 8}


def test_demo_data_is_loaded_once_across_restarts(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'noriai.db'}")
    create_app(settings, reference_data())
    again = TestClient(create_app(settings, reference_data()))
    assert again.get("/health").json()["reference_rows"]["riders"] == 50


def test_home_page_links_to_each_part_in_japanese_and_english(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for href in ("/operator", "/company", "/plan", "/bus", "/docs"):
        assert f'href="{href}"' in r.text
    assert "オペレーター画面" in r.text and "Operator console" in r.text


def test_places_filter_by_kind_and_reject_unknown_kinds(client: TestClient) -> None:
    hospitals = client.get("/api/v1/places", params={"kind": "hospital"}).json()
    assert {h["place_id"] for h in hospitals} >= {"red-cross-hospital"}
    assert all(h["kind"] == "hospital" for h in hospitals)
    assert client.get("/api/v1/places", params={"kind": "castle"}).status_code == 422


def test_zones_are_geojson(client: TestClient) -> None:
    fc = client.get("/api/v1/zones").json()
    assert fc["type"] == "FeatureCollection"
    assert {f["id"] for f in fc["features"]} >= {"central", "nio", "airport-corridor"}
