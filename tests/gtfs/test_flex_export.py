"""The shared-taxi service exported as GTFS-Flex, checked against the structure of the real Flex samples
in ../shared/feeds/gtfs/flex: the same checker runs on the samples and on our export."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

from gtfs.flex import FlexExportError, flex_files, flex_zip
from gtfs.loader import inspect_feed
from gtfs.model import Severity
from gtfs.times import parse_time
from noriai.demo import reference_data
from noriai.flex_export import shared_taxi_flex

SAMPLES = ("aspen-flex-on-demand", "cobblinc-scheduled-deviated-flex")
TODAY = date(2026, 11, 24)


def export() -> dict[str, str]:
    return flex_files(
        shared_taxi_flex(
            reference_data(), booking_phone="083-000-1000", base_url="https://noriai.example", today=TODAY
        )
    )


def read_folder(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8-sig") for p in folder.iterdir() if p.is_file()}


def table(files: dict[str, str], name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files[name])))


def header(files: dict[str, str], name: str) -> list[str]:
    return next(csv.reader(io.StringIO(files[name])))


def check_flex(files: dict[str, str]) -> None:
    """The GTFS-Flex v2 rules of ../shared/feeds/STANDARDS.md section 3, as assertions."""
    geo = json.loads(files["locations.geojson"])
    assert geo["type"] == "FeatureCollection" and geo["features"]
    loc_ids = [f["id"] for f in geo["features"]]
    assert len(set(loc_ids)) == len(loc_ids)
    stop_ids = {r["stop_id"] for r in table(files, "stops.txt")} if "stops.txt" in files else set()
    group_ids = (
        {r["location_group_id"] for r in table(files, "location_groups.txt")}
        if "location_groups.txt" in files
        else set()
    )
    assert not (set(loc_ids) & stop_ids) and not (set(loc_ids) & group_ids)  # ids unique across all three
    for f in geo["features"]:
        assert f["type"] == "Feature" and isinstance(f.get("properties"), dict)
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert shape(f["geometry"]).is_valid, f["id"]  # OGC simple features validity
    rules = {r["booking_rule_id"]: r for r in table(files, "booking_rules.txt")}
    for r in rules.values():
        assert r["booking_type"] in ("0", "1", "2")
        if r["booking_type"] == "1":
            assert r.get("prior_notice_duration_min"), "booking_type 1 needs prior_notice_duration_min"
        if r["booking_type"] in ("0", "2"):
            assert not r.get("prior_notice_duration_max")
    windowed = 0
    for r in table(files, "stop_times.txt"):
        # the official spec names the zone in location_id; the samples (written before Flex was adopted
        # in March 2024) name it in stop_id: both are accepted, never both on one row
        loc = r.get("location_id") or r.get("location_group_id")
        if loc:
            assert not r.get("stop_id"), "stop_id is exclusive with location_id/location_group_id"
        elif r.get("stop_id") in loc_ids:
            loc = r["stop_id"]
        if not r.get("start_pickup_drop_off_window"):
            assert not loc or loc in group_ids, "a zone stop time needs a pickup/drop-off window"
            continue
        windowed += 1
        assert r.get("location_id", "") in ("", *loc_ids)
        start, end = r["start_pickup_drop_off_window"], r["end_pickup_drop_off_window"]
        assert parse_time(start) < parse_time(end)
        assert not r.get("arrival_time") and not r.get("departure_time"), "forbidden with windows"
        assert r.get("pickup_type", "") not in ("0", "3")
        assert r.get("drop_off_type", "") != "0"
        for k in ("pickup_booking_rule_id", "drop_off_booking_rule_id", "dropoff_booking_rule_id"):
            assert not r.get(k) or r[k] in rules
        assert r.get("continuous_pickup", "") in ("", "1") and r.get("continuous_drop_off", "") in ("", "1")
    assert windowed > 0


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_checker_accepts_the_real_samples(shared_dir: Path, sample: str) -> None:
    check_flex(read_folder(shared_dir / "feeds/gtfs/flex" / sample))


def test_our_export_passes_the_same_checks_and_uses_only_columns_the_samples_use(shared_dir: Path) -> None:
    ours = export()
    check_flex(ours)
    samples = [read_folder(shared_dir / "feeds/gtfs/flex" / s) for s in SAMPLES]
    for name in ours:
        if not name.endswith(".txt") or name == "translations.txt":  # translations: plain GTFS, not Flex
            continue
        known = {c for s in samples if name in s for c in header(s, name)}
        if name == "stop_times.txt":
            known |= {"location_id"}  # the spec's column for what the samples write in stop_id
        assert known, f"{name} is in neither sample"
        assert set(header(ours, name)) <= known, (name, set(header(ours, name)) - known)
    # travel within the zone: two rows on the same location, pickup window = the vehicles' shifts
    rows = table(ours, "stop_times.txt")
    assert len(rows) == 2 and rows[0]["location_id"] == rows[1]["location_id"]
    shifts = [v.shift for c in reference_data().companies for v in c.vehicles]
    assert parse_time(rows[0]["start_pickup_drop_off_window"]) == min(x.start_s for x in shifts)
    assert parse_time(rows[0]["end_pickup_drop_off_window"]) == max(x.end_s for x in shifts)
    assert rows[0]["safe_duration_factor"] == "1.50" and rows[0]["safe_duration_offset"] == "10.00"
    rule = table(ours, "booking_rules.txt")[0]
    assert rule["phone_number"] == "083-000-1000" and rule["booking_type"] == "1"
    assert rule["booking_url"] == "https://noriai.example/plan"


def test_the_service_area_covers_the_demo_trips() -> None:
    area = shape(json.loads(export()["locations.geojson"])["features"][0]["geometry"])
    places = {p.place_id: p.point for p in reference_data().places}
    for pid in ("shin-yamaguchi-sta", "yuda-onsen", "red-cross-hospital", "yamaguchi-sta"):
        assert area.contains(Point(places[pid].lon, places[pid].lat)), pid


def test_our_validator_loads_the_export_without_errors(tmp_path: Path) -> None:
    z = tmp_path / "flex.zip"
    z.write_bytes(
        flex_zip(shared_taxi_flex(reference_data(), booking_phone="083-000-1000", base_url="x", today=TODAY))
    )
    with zipfile.ZipFile(z) as f:
        assert "locations.geojson" in f.namelist() and "stops.txt" not in f.namelist()
    feed = inspect_feed(z, "flex")
    assert [i for i in feed.issues if i.severity is Severity.ERROR] == []
    assert len(feed.trips) == 1


def test_an_export_without_zones_is_refused() -> None:
    s = shared_taxi_flex(reference_data(), booking_phone="1", base_url="x", today=TODAY)
    from dataclasses import replace

    with pytest.raises(FlexExportError, match="at least one zone"):
        flex_files(replace(s, zones=[]))
