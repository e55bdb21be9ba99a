"""A second city (Hagi, written by the tests) imported into fresh SQLite and PostgreSQL databases and
served without --demo: its places, zones, quotes, bus journeys and stop pages, none of the demo's."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from noriai.cli import app as cli
from noriai.settings import Settings
from noriai.web import create_app
from tests.city_bundle import write_city
from tests.conftest import PostgresServer
from tests.dispatch.helpers import Clock
from tests.servers import serve

runner = CliRunner()
DAY = "2026-11-24"  # a Tuesday; the test clock says 2026-11-23 08:00
HAGI_PLACES = {
    "higashi-hagi-sta",
    "hagi-sta",
    "hagi-hospital",
    "hagi-castle",
    "kawakami-shop",
    "kawakami-clinic",
}


def city_import(root: Path, url: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["city", "import", str(root)], env={"DATABASE_URL": url})
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def new_key(url: str, *args: str) -> str:
    result = runner.invoke(cli, ["keys", "create", *args], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hagi.db'}"
    pg: PostgresServer = request.getfixturevalue("postgres_server")
    return pg.new_database("hagi")


def _client(url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, reoptimise_interval_s=0), clock=Clock()))


def _quote(c: TestClient, key: str, rider: str, dest: dict[str, Any]) -> httpx.Response:
    body = {
        "rider_id": rider,
        "destination": dest,
        "service_date": DAY,
        "mode": "arrive_by",
        "time": "10:00",
    }
    r: httpx.Response = c.post("/api/v1/quotes", json=body, headers={"X-API-Key": key})
    return r


def test_a_second_city_is_served_from_the_database(tmp_path: Path, database: str) -> None:
    root = write_city(tmp_path / "hagi")
    code, out = city_import(root, database)
    assert code == 0, out
    assert "added 1 companies, 6 places, 2 riders, 3 vehicles, 2 zones" in out
    operator = new_key(database, "--role", "operator")
    company = new_key(database, "--role", "company", "--company", "hagi-kotsu")
    assert operator != company and operator.startswith("nk_")
    with _client(database) as c:
        places = c.get("/api/v1/places").json()
        assert {p["place_id"] for p in places} == HAGI_PLACES  # the demo's places are absent
        zones = c.get("/api/v1/zones").json()
        by_id = {f["id"]: f for f in zones["features"]}
        assert set(by_id) == {"hagi-town", "kawakami"}
        assert by_id["kawakami"]["properties"]["hubs"] == ["hagi-hospital", "higashi-hagi-sta"]
        assert by_id["kawakami"]["geometry"]["type"] == "Polygon"
        assert c.get("/api/v1/service-area").json()["geometry"]["type"] == "MultiPolygon"

        # a quote for a rider of this city, in town: the community taxi is not offered
        q = _quote(c, operator, "H0002", {"kind": "place", "place_id": "hagi-hospital"})
        assert q.status_code == 201, q.text
        options = q.json()["options"]
        assert options and all(o["vehicle_id"] != "kawakami-01" for o in options)
        assert all(o["fare_yen"] > 0 for o in options)
        # a rider in the community zone going to the zone's clinic may get the zone's vehicle
        q = _quote(c, operator, "H0001", {"kind": "place", "place_id": "kawakami-clinic"})
        assert q.status_code == 201, q.text
        zone_options = q.json()["options"]
        assert "kawakami-01" in {o["vehicle_id"] for o in zone_options}
        # ... and that zone's fares (the tariff's coefficient rule for areas = ["kawakami"])
        pick = next(i for i, o in enumerate(zone_options) if o["vehicle_id"] == "kawakami-01")
        b = c.post(
            f"/api/v1/bookings/{q.json()['booking_id']}/confirm",
            json={"option": pick},
            headers={"X-API-Key": operator, "Idempotency-Key": "zone-fare"},
        )
        assert b.status_code == 200, b.text
        fare = b.json()["fare"]
        assert fare["inputs"]["area_id"] == "kawakami" and fare["tariff_id"] == "hagi-test"
        # the company key sees its own vehicles
        vehicles = c.get("/api/v1/vehicles", headers={"X-API-Key": company})
        assert vehicles.status_code in (200, 404)

        # a bus journey from this city's own feed
        plan = c.get(
            "/api/v1/plan",
            params={
                "from": "higashi-hagi-sta",
                "to": "hagi-sta",
                "date": DAY,
                "time": "09:00",
                "modes": "transit",
            },
        )
        assert plan.status_code == 200, plan.text
        rides = [leg for o in plan.json()["options"] for leg in o["legs"] if leg["mode"] == "bus"]
        assert rides and rides[0]["route"]
        # /bus stop pages for its stops
        page = c.get("/bus/stops/HS02")
        assert page.status_code == 200 and "萩市役所" in page.text
        assert c.get("/bus/stops/S001").status_code == 404  # the demo's bus stop is not there


def test_noriai_serve_without_demo_serves_the_imported_city(tmp_path: Path) -> None:
    root = write_city(tmp_path / "hagi")
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    code, out = city_import(root, url)
    assert code == 0, out
    with serve(tmp_path, "--host", "127.0.0.1", DATABASE_URL=url) as (base, _log):
        places = httpx.get(base + "/api/v1/places", timeout=10).json()
        assert {p["place_id"] for p in places} == HAGI_PLACES
        zones = httpx.get(base + "/api/v1/zones", timeout=10).json()
        assert {f["id"] for f in zones["features"]} == {"hagi-town", "kawakami"}
        assert httpx.get(base + "/bus/stops/HS01", timeout=10).status_code == 200


@pytest.fixture()
def hagi(tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    root = write_city(tmp_path / "hagi")
    url = f"sqlite:///{tmp_path / 'hagi.db'}"
    # a spare vehicle that works only on holidays: nothing is booked on it on a Tuesday
    with (root / "companies.toml").open("a", encoding="utf-8") as f:
        f.write(
            '\n[[vehicle]]\ncompany_id = "hagi-kotsu"\nvehicle_id = "hagi-spare"\nkind = "sedan"\n'
            'plate = "山口500は0009"\nseats = 4\nshifts = { holiday = { start = "08:00", end = "18:00" } }\n'
        )
    assert city_import(root, url)[0] == 0
    yield root, url, new_key(url, "--role", "operator")
    shutil.rmtree(root, ignore_errors=True)


def _book(c: TestClient, key: str, rider: str, dest: str) -> dict[str, Any]:
    q = _quote(c, key, rider, {"kind": "place", "place_id": dest})
    assert q.status_code == 201, q.text
    b = c.post(
        f"/api/v1/bookings/{q.json()['booking_id']}/confirm",
        json={"option": 0},
        headers={"X-API-Key": key, "Idempotency-Key": f"{rider}-{dest}"},
    )
    assert b.status_code == 200, b.text
    return dict(b.json())


def test_reimport_of_a_changed_bundle_keeps_every_booking(hagi: tuple[Path, str, str]) -> None:
    root, url, key = hagi
    with _client(url) as c:
        booked = [
            _book(c, key, "H0002", "hagi-hospital"),
            _book(c, key, "H0001", "kawakami-clinic"),
            _book(c, key, "H0002", "higashi-hagi-sta"),
        ]
        assert "hagi-spare" not in {b["vehicle_id"] for b in booked}
        used = sorted({b["vehicle_id"] for b in booked})
    # renamed place, a new vehicle, the unused spare removed
    text = (root / "places.csv").read_text(encoding="utf-8").replace("萩城跡", "萩城跡（指月公園）")
    (root / "places.csv").write_text(text, encoding="utf-8")
    companies = (root / "companies.toml").read_text(encoding="utf-8")
    companies = companies[
        : companies.index('\n[[vehicle]]\ncompany_id = "hagi-kotsu"\nvehicle_id = "hagi-spare"')
    ]
    companies += (
        '\n[[vehicle]]\ncompany_id = "hagi-kotsu"\nvehicle_id = "hagi-03"\nkind = "welfare"\n'
        'plate = "山口800は0003"\nseats = 3\nwheelchair_places = 1\n'
        'shift = { start = "08:00", end = "17:00" }\n'
    )
    (root / "companies.toml").write_text(companies, encoding="utf-8")
    code, out = city_import(root, url)
    assert code == 0, out
    assert "updated 1 places" in out and "added 1 vehicles" in out and "removed 1 vehicles" in out
    with _client(url) as c:
        h = {"X-API-Key": key}
        for b in booked:
            now = c.get(f"/api/v1/bookings/{b['booking_id']}", headers=h).json()
            assert now["status"] == b["status"] == "scheduled"
            assert now["vehicle_id"] == b["vehicle_id"] and now["fare_yen"] == b["fare_yen"]
        audit = c.get(f"/api/v1/days/{DAY}/check", headers=h).json()
        assert audit["problems"] == []
        names = {p["place_id"]: p["name"] for p in c.get("/api/v1/places").json()}
        assert names["hagi-castle"] == "萩城跡（指月公園）"
        vehicles = {v.vehicle_id for co in c.app.state.service.reference.companies for v in co.vehicles}  # type: ignore[attr-defined]
        assert vehicles == {"hagi-01", "hagi-02", "hagi-03", "kawakami-01"}

    # removing a vehicle that bookings ride in is refused, and nothing changes
    victim = used[0]
    start = companies.index(f'vehicle_id = "{victim}"')
    head = companies.rindex("[[vehicle]]", 0, start)
    nxt = companies.find("[[vehicle]]", start)
    (root / "companies.toml").write_text(
        companies[:head] + (companies[nxt:] if nxt > 0 else ""), encoding="utf-8"
    )
    (root / "places.csv").write_text(text.replace("萩城跡（指月公園）", "萩城"), encoding="utf-8")
    code, out = city_import(root, url)
    assert code == 2
    assert f"vehicle {victim} is removed from the bundle but active bookings still ride in it" in out
    assert "nothing was changed" in out
    with _client(url) as c:
        assert {p["place_id"]: p["name"] for p in c.get("/api/v1/places").json()}[
            "hagi-castle"
        ] == "萩城跡（指月公園）"


def test_a_removed_place_still_used_by_a_booking_is_retired_not_deleted(hagi: tuple[Path, str, str]) -> None:
    root, url, key = hagi
    with _client(url) as c:
        b = _book(c, key, "H0002", "hagi-hospital")
    rows = (root / "places.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (root / "places.csv").write_text(
        "".join(r for r in rows if not r.startswith("hagi-hospital,")), encoding="utf-8"
    )
    text = (root / "zones.geojson").read_text(encoding="utf-8").replace('"hagi-hospital", ', "")
    (root / "zones.geojson").write_text(text, encoding="utf-8")
    code, out = city_import(root, url)
    assert code == 0, out
    assert f"retired place: hagi-hospital (still used by bookings {b['booking_id']})" in out
    with _client(url) as c:
        assert "hagi-hospital" not in {p["place_id"] for p in c.get("/api/v1/places").json()}
        again = c.get(f"/api/v1/bookings/{b['booking_id']}", headers={"X-API-Key": key}).json()
        assert again["status"] == "scheduled"
