"""GTFS / GTFS-JP loading on every real feed in ../shared, and on corrupted copies made here."""

from __future__ import annotations

import contextlib
import os
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gtfs.loader import inspect_feed, load_feed
from gtfs.tables import FeedError
from gtfs.times import parse_time
from noriai.cli import app
from noriai.demo import GTFS_DIR
from tests.shared_data import shared

FEEDS = shared("feeds", "gtfs")
ALL_FEEDS = (
    sorted(
        [p for p in FEEDS.iterdir() if p.suffix == ".zip" or (p.is_dir() and p.name != "flex")]
        + list((FEEDS / "flex").iterdir())
    )
    if FEEDS.is_dir()
    else []
)
JR = FEEDS / "yamaguchi_jrbus_chugoku_gtfs_20260813.zip"


@pytest.mark.parametrize("feed_path", ALL_FEEDS, ids=lambda p: p.name)
def test_every_shared_feed_loads_with_warnings_only(feed_path: Path) -> None:
    feed = inspect_feed(feed_path)
    assert feed.errors() == [], [str(e) for e in feed.errors()]
    assert feed.stops


def test_jr_bus_feed_quirks_are_handled() -> None:
    feed = load_feed(JR, "jrbus")
    assert len(feed.stops) == 891 and len(feed.trips) == 1113
    assert "jrbus:40001 1" in feed.stops  # stop_id with a space survives, scoped by feed
    yamaguchi = next(s for s in feed.stops.values() if s.name == "山口駅")
    assert yamaguchi.names.get("ja-Hrkt"), "kana reading from GTFS-JP v1 translations"
    assert "agency_jp.txt" in feed.extras and "routes_jp.txt" in feed.extras
    assert any(w.file == "stops_mobustation.txt" for w in feed.warnings())  # vendor file noted
    weekday = date(2026, 11, 24)
    assert feed.trips_on(weekday)
    assert int(feed.st_departure.max()) < 30 * 3600


def test_translation_layouts_of_iwakuni_and_hikari_give_kana() -> None:
    iwakuni = load_feed(FEEDS / "yamaguchi_iwakuni_gtfsjp_20260401.zip")
    assert sum(1 for s in iwakuni.stops.values() if "ja-Hrkt" in s.names) > 100  # field_value layout
    hikari = load_feed(FEEDS / "yamaguchi_hikari_gtfs_20260401")
    assert sum(1 for s in hikari.stops.values() if s.names) > 50  # record_id layout


def test_demo_feed_is_clean_and_its_calendar_follows_holidays() -> None:
    feed = load_feed(GTFS_DIR, "demo")
    assert feed.warnings() == [] and len(feed.trips) == 220
    tuesday, labour_day = date(2026, 11, 24), date(2026, 11, 23)
    assert feed.calendar.active(tuesday) == {"WEEKDAY"}
    assert feed.calendar.active(labour_day) == {"WEEKEND"}  # listed in calendar_dates


def test_times_past_midnight_parse() -> None:
    assert parse_time("25:10:00") == 25 * 3600 + 600
    assert parse_time("7:30:00") == 7 * 3600 + 1800
    for bad in ("7:60:00", "abc", "10:00", "-1:00:00"):
        with pytest.raises(ValueError, match="bad time"):
            parse_time(bad)


# --- corrupted copies ------------------------------------------------------------------------------


def _copy_demo(tmp_path: Path) -> Path:
    dst = tmp_path / "feed"
    shutil.copytree(GTFS_DIR, dst)
    return dst


def test_truncated_zip_gives_one_clear_error(tmp_path: Path) -> None:
    data = JR.read_bytes()
    bad = tmp_path / "truncated.zip"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(FeedError, match=r"truncated\.zip: not a readable GTFS zip"):
        load_feed(bad)


def test_missing_stop_times_is_named(tmp_path: Path) -> None:
    feed = _copy_demo(tmp_path)
    (feed / "stop_times.txt").unlink()
    with pytest.raises(FeedError, match=r"stop_times\.txt: required file is missing"):
        load_feed(feed)


def test_bad_time_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    feed = _copy_demo(tmp_path)
    lines = (feed / "stop_times.txt").read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace(lines[4].split(",")[1], "7:6x:00", 1)
    (feed / "stop_times.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    issues = inspect_feed(feed).errors()
    assert len(issues) == 1
    assert str(issues[0]).startswith("error: stop_times.txt:5 [arrival_time]: bad time '7:6x:00'")


def test_non_increasing_times_unknown_refs_and_bad_coordinates(tmp_path: Path) -> None:
    feed = _copy_demo(tmp_path)
    st = (feed / "stop_times.txt").read_text(encoding="utf-8").splitlines()
    st[3] = st[3].replace(st[3].split(",")[1], "05:00:00")  # earlier than the stop before
    st.append("NO-SUCH-TRIP,08:00:00,08:00:00,S001,1")
    (feed / "stop_times.txt").write_text("\n".join(st) + "\n", encoding="utf-8")
    stops = (feed / "stops.txt").read_text(encoding="utf-8").splitlines()
    stops[2] = stops[2].replace("34.", "134.", 1)
    (feed / "stops.txt").write_text("\n".join(stops) + "\n", encoding="utf-8")
    messages = [str(i) for i in inspect_feed(feed).errors()]
    assert any("stops.txt:3 [stop_lat]: coordinates out of range" in m for m in messages)
    assert any("[arrival_time]: trip 'L1-WD-0-01' goes back in time" in m for m in messages)
    assert any("unknown trip_id 'NO-SUCH-TRIP'" in m for m in messages)


def test_invalid_calendar_and_missing_column(tmp_path: Path) -> None:
    feed = _copy_demo(tmp_path)
    cal = (feed / "calendar.txt").read_text(encoding="utf-8").replace("20270331", "20250101", 1)
    (feed / "calendar.txt").write_text(cal, encoding="utf-8")
    trips = (feed / "trips.txt").read_text(encoding="utf-8").replace("service_id", "svc", 1)
    (feed / "trips.txt").write_text(trips, encoding="utf-8")
    messages = [str(i) for i in inspect_feed(feed).errors()]
    assert any("calendar.txt:2 [end_date]: end_date 2025-01-01 is before" in m for m in messages)
    assert any("trips.txt:1 [service_id]: required column service_id is missing" in m for m in messages)


def test_validate_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["gtfs", "validate", str(GTFS_DIR)])
    assert ok.exit_code == 0 and "0 errors" in ok.output
    feed = _copy_demo(tmp_path)
    (feed / "stop_times.txt").unlink()
    bad = runner.invoke(app, ["gtfs", "validate", str(feed)])
    assert bad.exit_code == 1 and "stop_times.txt: required file is missing" in bad.output


# --- fuzz: random bytes and mutated rows give a parse or our own error, never another exception ------

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_as_a_zip(tmp_path: Path, blob: bytes) -> None:
    p = tmp_path / "fuzz.zip"
    p.write_bytes(blob)
    with contextlib.suppress(FeedError):
        inspect_feed(p)


@FUZZ
@given(
    st.sampled_from(
        [
            "stops.txt",
            "stop_times.txt",
            "trips.txt",
            "calendar.txt",
            "routes.txt",
            "calendar_dates.txt",
            "translations.txt",
        ]
    ),
    st.integers(0, 40),
    st.integers(0, 9),
    st.text(max_size=12),
)
def test_mutated_rows(tmp_path: Path, name: str, row: int, col: int, value: str) -> None:
    feed = tmp_path / "mut"
    if not feed.exists():
        shutil.copytree(GTFS_DIR, feed)
    original = (GTFS_DIR / name).read_text(encoding="utf-8").splitlines()
    lines = list(original)
    i = min(row, len(lines) - 1)
    cells = lines[i].split(",")
    cells[min(col, len(cells) - 1)] = value.replace("\n", " ").replace("\r", " ")
    lines[i] = ",".join(cells)
    (feed / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        inspect_feed(feed)
    except FeedError:
        pass
    finally:
        (feed / name).write_text("\n".join(original) + "\n", encoding="utf-8")


def test_zip_with_a_member_in_a_folder_loads(tmp_path: Path) -> None:
    z = tmp_path / "nested.zip"
    with zipfile.ZipFile(z, "w") as out:
        for f in GTFS_DIR.iterdir():
            out.write(f, f"feed/{f.name}")
    assert len(load_feed(z).trips) == 220
