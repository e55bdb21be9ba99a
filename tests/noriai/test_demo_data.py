"""The built-in Yamaguchi demo data is complete and plausible."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dispatch.domain import VehicleKind
from noriai.demo import GTFS_DIR, DemoDataError, load_places, load_riders, reference_data

# Yamaguchi City and its neighbours (Ube airport, Hofu hospital) lie inside this box.
LAT = (33.85, 34.45)
LON = (131.20, 131.75)


def _inside(lat: float, lon: float) -> bool:
    return LAT[0] <= lat <= LAT[1] and LON[0] <= lon <= LON[1]


def test_places_cover_every_kind_the_product_needs() -> None:
    kinds = {p.kind.value for p in reference_data().places}
    assert kinds >= {"station", "hospital", "school", "shopping", "onsen", "airport", "sight"}
    assert all(_inside(p.point.lat, p.point.lon) for p in reference_data().places)


def test_two_companies_with_sedans_a_jumbo_and_wheelchair_vans() -> None:
    companies = reference_data().companies
    assert len(companies) == 2
    vehicles = [v for c in companies for v in c.vehicles]
    assert any(v.kind is VehicleKind.SEDAN and v.seats == 4 for v in vehicles)
    assert any(v.kind is VehicleKind.JUMBO and v.seats == 9 for v in vehicles)
    assert any(v.kind is VehicleKind.WELFARE and v.wheelchair_places >= 1 for v in vehicles)
    assert len({v.vehicle_id for v in vehicles}) == len(vehicles)


def test_fifty_elderly_riders_spread_over_districts() -> None:
    riders = reference_data().riders
    assert len(riders) == 50
    assert len({r.district for r in riders}) >= 8
    assert all(2026 - r.birth_year >= 65 for r in riders)
    assert sum(r.needs.wheelchair for r in riders) >= 3
    assert sum(r.needs.companion for r in riders) >= 3
    assert 0 < sum(r.consent.data_reuse for r in riders) < 50
    assert all(_inside(r.home.lat, r.home.lon) for r in riders)
    assert len({r.phone for r in riders}) == 50


def test_demo_gtfs_feed_has_the_required_files_and_consistent_ids() -> None:
    for name in ("agency", "stops", "routes", "trips", "stop_times", "calendar", "fare_attributes"):
        assert (GTFS_DIR / f"{name}.txt").is_file()
    with (GTFS_DIR / "stops.txt").open(encoding="utf-8") as f:
        stops = {r["stop_id"] for r in csv.DictReader(f)}
    with (GTFS_DIR / "trips.txt").open(encoding="utf-8") as f:
        trips = {r["trip_id"] for r in csv.DictReader(f)}
    with (GTFS_DIR / "stop_times.txt").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["stop_id"] for r in rows} <= stops
    assert {r["trip_id"] for r in rows} == trips


def test_malformed_rows_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "places.csv"
    bad.write_text(
        "place_id,name,name_en,kana,kind,lat,lon,note\nx,X,X,x,castle,34.1,131.4,\n", encoding="utf-8"
    )
    with pytest.raises(DemoDataError, match=r"places\.csv:2 \[kind\]: .castle. is not a place kind"):
        load_places(bad)
    riders = tmp_path / "riders.csv"
    src = (Path(__file__).parents[2] / "noriai/demo/data/riders.csv").read_text(encoding="utf-8").splitlines()
    riders.write_text("\n".join([src[0], src[1].replace(",false,", ",maybe,", 1)]) + "\n", encoding="utf-8")
    with pytest.raises(DemoDataError, match=r"riders\.csv:2 \[\w+\]: expected true/false, got .maybe."):
        load_riders(riders)
