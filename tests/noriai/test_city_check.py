"""`noriai city check`: every problem of a broken bundle named by file and line or feature, no traceback."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dispatch.persistence.db import create_db_engine, migrate
from dispatch.persistence.reference import import_city, load_city
from noriai.city import load_bundle
from noriai.cli import app
from noriai.demo import DATA_DIR
from tests.city_bundle import write_city

runner = CliRunner()


def _check(root: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["city", "check", str(root)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_the_test_city_and_the_demo_city_pass(tmp_path: Path) -> None:
    code, out = _check(write_city(tmp_path / "hagi"))
    assert code == 0, out
    assert "6 places, 2 zones, 1 companies, 3 vehicles, 2 riders, 1 GTFS feed(s)" in out
    code, out = _check(DATA_DIR)
    assert code == 0, out


def _edit(name: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        text = (root / name).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        (root / name).write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def _unclose(root: Path) -> None:
    doc = json.loads((root / "zones.geojson").read_text(encoding="utf-8"))
    doc["features"][1]["geometry"]["coordinates"][0].pop()  # drop the closing position
    (root / "zones.geojson").write_text(json.dumps(doc), encoding="utf-8")


def _airport(
    place: str = "hagi-sta", flights: str = "NH1,arrival,09:00,daily,HND,\n"
) -> Callable[[Path], None]:
    """Give the Hagi bundle an airport shared taxi (the demo tariff has an [airport] fare)."""

    def apply(root: Path) -> None:
        with (root / "city.toml").open("a", encoding="utf-8") as f:
            f.write(f'\n[airport]\nplace_id = "{place}"\nflights = "flights.csv"\nbaggage_margin_min = 25\n')
        (root / "flights.csv").write_text(
            "flight,direction,scheduled,days,other_airport,note\nNH2,departure,10:00,daily,HND,\n" + flights,
            encoding="utf-8",
        )

    return apply


def _huge_zone(root: Path) -> None:
    """Two slipped digits (121 for 131.4, 44 for 34.4) make a zone of 10 x 20 degrees: millions of cells."""
    doc = json.loads((root / "zones.geojson").read_text(encoding="utf-8"))
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    ring[0][:2] = ring[-1][:2] = [121.0, 44.0]
    (root / "zones.geojson").write_text(json.dumps(doc), encoding="utf-8")


def _append(name: str, text: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        with (root / name).open("a", encoding="utf-8") as f:
            f.write(text)

    return apply


def _zero_places(root: Path) -> None:
    (root / "places.csv").unlink()
    (root / "places.csv").symlink_to("/dev/zero")  # read whole, it would never end


BROKEN = [
    pytest.param(
        _airport(place="hagi-airport"),
        r"error: city\.toml:\d+ \[airport\.place_id\]: not a place of the city: 'hagi-airport'",
        id="airport-unknown-place",
    ),
    pytest.param(
        _airport(flights="NH1,arrival,9h00,daily,HND,\n"),
        r"error: flights\.csv:3 \[scheduled\]: must be HH:MM",
        id="airport-bad-flight-line",
    ),
    pytest.param(  # the CSV reader's own refusal: the line, no field (FlightFileError.field is None)
        _airport(flights='NH1,"' + "y" * 200_000 + '"\n'),
        r"error: flights\.csv:3: field larger than field limit",
        id="airport-flight-field-over-limit",
    ),
    pytest.param(
        _edit(
            "places.csv",
            "hagi-sta,萩駅,Hagi Station,はぎえき,station,34.3985,",
            "hagi-sta,萩駅,Hagi Station,はぎえき,station,north,",
        ),
        r"error: places\.csv:3 \[lat\]: .*'north'",
        id="bad-csv-row",
    ),
    pytest.param(
        _edit(
            "places.csv",
            "hagi-castle,萩城跡,Hagi Castle ruins,はぎじょうあと,other,34.4190,131.3900,\n",
            "hagi-castle,萩城跡\n",
        ),
        r"error: places\.csv:5: expected 8 columns",
        id="short-csv-row",
    ),
    pytest.param(
        _unclose, r"error: zones\.geojson: feature 2 \[geometry\]: .*not closed", id="unclosed-polygon"
    ),
    pytest.param(
        _edit(
            "companies.toml",
            'company_id = "hagi-kotsu"\nvehicle_id = "hagi-02"',
            'company_id = "nagato-kotsu"\nvehicle_id = "hagi-02"',
        ),
        r"error: companies\.toml:17 \[company_id\]: unknown company 'nagato-kotsu'",
        id="unknown-company",
    ),
    pytest.param(
        _edit("zones.geojson", '"higashi-hagi-sta"]', '"nowhere"]'),
        r"error: zones\.geojson: feature 2 \[hubs\]: hub 'nowhere' is not a place",
        id="hub-not-a-place",
    ),
    pytest.param(
        _edit("city.toml", 'path = "gtfs"', 'path = "gtfs-2025"'),
        r"error: city\.toml:9 \[path\]: feed path 'gtfs-2025' does not exist",
        id="missing-feed-path",
    ),
    pytest.param(
        _edit("companies.toml", 'zone_id = "kawakami"', 'zone_id = "hagi-town"'),
        r"error: companies\.toml:\d+ \[zone_id\]: zone 'hagi-town' is a district zone",
        id="vehicle-zone-not-community",
    ),
    pytest.param(
        _edit("city.toml", 'name_en = "Hagi City (test)"\n', 'name_en = "Hagi City (test)\n'),
        r"error: city\.toml:2: not valid TOML",
        id="toml-syntax",
    ),
    pytest.param(
        lambda root: (root / "service_area.geojson").write_text(
            '{"type": "Feature",\n  "geometry": [', encoding="utf-8"
        ),
        r"error: service_area\.geojson:2: not valid JSON",
        id="json-syntax",
    ),
    pytest.param(
        _edit("gtfs/stop_times.txt", "T000,06:00:00,06:00:00,HS01,1", "T000,06:00:00,06:00:00,HS99,1"),
        r"error: gtfs/stop_times\.txt:2 \[stop_id\]:",
        id="feed-error",
    ),
    # hostile files (#20): each one line naming the file, never a traceback, a hang or gigabytes
    pytest.param(_huge_zone, r"error: zones\.geojson: feature 1 \[geometry\]: .*spans", id="huge-zone"),
    pytest.param(
        lambda root: (root / "zones.geojson").write_text("[" * 100_000 + "]" * 100_000),
        r"error: zones\.geojson: not valid JSON: nested too deeply",
        id="json-nested-deeply",
    ),
    pytest.param(
        _append("companies.toml", "\nx = " + "1" * 5000 + "\n"),
        r"error: companies\.toml: not valid TOML: .*4300 digits",
        id="toml-huge-integer",
    ),
    pytest.param(
        _append("tariff.toml", "\nx = " + "[" * 100_000 + "]" * 100_000),
        r"error: tariff\.toml: not valid TOML: nested too deeply",
        id="tariff-nested-deeply",
    ),
    pytest.param(
        _append("places.csv", 'x,"' + "y" * 200_000 + '"\n'),
        r"error: places\.csv:\d+: not valid CSV: field larger than field limit",
        id="csv-field-over-limit",
    ),
    pytest.param(_zero_places, r"error: places\.csv: not a regular file", id="device-file"),
]


@pytest.mark.parametrize(("breaks", "expected"), BROKEN)
def test_each_error_names_the_file_and_the_line_or_feature(
    tmp_path: Path, breaks: Callable[[Path], None], expected: str
) -> None:
    root = write_city(tmp_path / "hagi")
    breaks(root)
    code, out = _check(root)
    assert code == 2, out
    assert re.search(expected, out), out


def test_warnings_do_not_fail(tmp_path: Path) -> None:
    root = write_city(tmp_path / "hagi")
    _edit(
        "places.csv",
        "hagi-castle,萩城跡,Hagi Castle ruins,はぎじょうあと,other,34.4190,131.3900",
        "hagi-castle,萩城跡,Hagi Castle ruins,はぎじょうあと,other,34.1726,131.4805",
    )(root)
    _edit(
        "companies.toml",
        'shift = { start = "06:00", end = "22:00" }\n\n[[vehicle]]\ncompany_id = "hagi-kotsu"\n'
        'vehicle_id = "kawakami-01"',
        '\n[[vehicle]]\ncompany_id = "hagi-kotsu"\nvehicle_id = "kawakami-01"',
    )(root)
    code, out = _check(root)
    assert code == 0, out
    assert re.search(r"warning: places\.csv:5 \[lat\]: place hagi-castle lies outside the service area", out)
    assert re.search(r"warning: companies\.toml:\d+ \[shift\]: vehicle hagi-02 has no shift", out)
    assert re.search(
        r"warning: gtfs/stops\.txt: stop hagibus:HS0\d .* more than 5 km from every place|0 error", out
    )


def test_a_missing_folder_or_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    code, out = _check(tmp_path / "nowhere")
    assert code == 2 and "not a folder" in out
    root = write_city(tmp_path / "hagi")
    (root / "companies.toml").unlink()
    shutil.rmtree(root / "gtfs")
    code, out = _check(root)
    assert code == 2
    assert "companies.toml: file not found" in out and "city.toml:9 [path]" in out


def test_an_airport_bundle_is_checked_imported_and_read_back(tmp_path: Path) -> None:
    """[airport] in city.toml: the timetable and margins travel through the database unchanged."""
    root = write_city(tmp_path / "hagi")
    _airport()(root)
    code, out = _check(root)
    assert code == 0, out
    assert "place 'hagi-sta' is not of kind airport" in out  # a warning only
    bundle, _ = load_bundle(root)
    assert bundle is not None and bundle.city.airport is not None
    engine = create_db_engine(f"sqlite:///{tmp_path / 'c.db'}")
    migrate(engine)
    import_city(engine, bundle.reference, bundle_path=str(root), now=datetime.now(UTC))
    city = load_city(engine)
    assert city is not None and city.airport == bundle.city.airport
    assert city.airport.baggage_margin_s == 25 * 60 and city.airport.checkin_margin_s == 40 * 60
    assert "NH1,arrival,09:00" in city.airport.flights_csv
