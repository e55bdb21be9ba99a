"""`noriai plan` contract: JSON journeys sorted by arrival; realtime applied; clear errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from google.transit import gtfs_realtime_pb2 as pb
from typer.testing import CliRunner

from noriai.cli import app
from noriai.demo import GTFS_DIR
from tests.shared_data import shared

runner = CliRunner()
JR = shared("feeds", "gtfs", "yamaguchi_jrbus_chugoku_gtfs_20260813.zip")


def _plan(*args: str) -> dict[str, object]:
    r = runner.invoke(app, ["plan", *args, "--json"])
    assert r.exit_code == 0, r.output
    out: dict[str, object] = json.loads(r.stdout)
    return out


def test_contract_shape_and_order() -> None:
    out = _plan(
        "--gtfs", str(GTFS_DIR), "--from-stop", "S001", "--to-stop", "S014", "--depart", "2026-11-24T09:00"
    )
    journeys = out["journeys"]
    assert isinstance(journeys, list) and journeys
    arrivals = [j["arrival"] for j in journeys]
    assert arrivals == sorted(arrivals)
    j = journeys[0]
    assert set(j) == {"departure", "arrival", "transfers", "legs"}
    leg = j["legs"][0]
    assert {"mode", "from", "to", "departure", "arrival", "trip_id", "route"} <= set(leg)
    assert (
        leg["mode"] == "bus"
        and leg["departure"].startswith("2026-11-24T09:00")
        and "+09:00" in leg["departure"]
    )


def test_no_walk_no_change_time_gives_the_earliest_arrival_on_jr_bus() -> None:
    from datetime import date

    from gtfs.loader import load_feed
    from planner.timetable import build_timetable
    from tests.planner.test_raptor import connection_scan

    feed = load_feed(JR, "jr")
    tt = build_timetable([feed], date(2026, 11, 24), max_walk_m=0)
    checked = 0
    for p in tt.patterns[:15]:
        a, b = int(p.stops[0]), int(p.stops[-1])
        t0 = int(p.dep[0, 0]) - 120
        hh, mm = divmod(t0 // 60, 60)
        out = _plan(
            "--gtfs",
            str(JR),
            "--from-stop",
            tt.stop_ids[a].split(":", 1)[1],
            "--to-stop",
            tt.stop_ids[b].split(":", 1)[1],
            "--depart",
            f"2026-11-24T{hh:02d}:{mm:02d}",
            "--max-walk-m",
            "0",
            "--min-transfer-s",
            "0",
        )
        journeys = out["journeys"]
        assert isinstance(journeys, list) and journeys
        best = connection_scan(tt, a, hh * 3600 + mm * 60, b)
        assert (
            journeys[0]["arrival"]
            == (datetime(2026, 11, 24, tzinfo=ZoneInfo("Asia/Tokyo")) + timedelta(seconds=best)).isoformat()
        )
        for j in journeys:
            for x, y in zip(j["legs"], j["legs"][1:], strict=False):
                assert x["to"]["stop_id"] == y["from"]["stop_id"]  # changes only at the same stop_id
        checked += 1
    assert checked == 15


def _delay_file(tmp_path: Path, trip_id: str, delay_s: int) -> Path:
    m = pb.FeedMessage()
    m.header.gtfs_realtime_version = "2.0"
    m.header.timestamp = int(datetime(2026, 11, 24, 8, 55, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp())
    e = m.entity.add()
    e.id = "1"
    e.trip_update.trip.trip_id = trip_id
    e.trip_update.trip.start_date = "20261124"
    u = e.trip_update.stop_time_update.add()
    u.stop_sequence = 1
    u.departure.delay = delay_s
    u.arrival.delay = delay_s
    p = tmp_path / "tu.pb"
    p.write_bytes(m.SerializeToString())
    return p


def test_realtime_delay_moves_the_journey(tmp_path: Path) -> None:
    base = _plan(
        "--gtfs", str(GTFS_DIR), "--from-stop", "S001", "--to-stop", "S006", "--depart", "2026-11-24T09:00"
    )
    first = base["journeys"][0]  # type: ignore[index]
    trip = first["legs"][0]["trip_id"].split(":", 1)[1]
    rt = _delay_file(tmp_path, trip, 600)
    late = _plan(
        "--gtfs",
        str(GTFS_DIR),
        "--gtfs-rt",
        str(rt),
        "--from-stop",
        "S001",
        "--to-stop",
        "S006",
        "--depart",
        "2026-11-24T09:00",
    )
    j = late["journeys"][0]  # type: ignore[index]
    # line 1 runs every 30 minutes, so the bus 10 minutes late is still the best one: same trip, +600 s
    assert j["legs"][0]["trip_id"] == first["legs"][0]["trip_id"]
    assert datetime.fromisoformat(j["arrival"]) - datetime.fromisoformat(first["arrival"]) == timedelta(
        seconds=600
    )


DEMO_ARGS = ["--gtfs", str(GTFS_DIR), "--depart", "2026-11-24T09:00"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-stop", "S001", "--to-stop", "NOPE"], "unknown stop_id 'NOPE'"),
        (["--from-stop", "S001", "--to-stop", "S006", "--depart", "tomorrow morning"], "--depart must be"),
        (["--from", "35.0,135.0", "--to-stop", "S006"], "no stop within"),
        (["--from-stop", "S001", "--from", "34.1,131.4", "--to-stop", "S006"], "exactly one of --from-stop"),
    ],
)
def test_bad_queries_get_one_clear_line(args: list[str], message: str) -> None:
    r = runner.invoke(app, ["plan", *DEMO_ARGS, *args, "--json"])
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output


def test_no_service_left_is_an_empty_answer_not_an_error() -> None:
    late = _plan(
        "--gtfs", str(GTFS_DIR), "--from-stop", "S001", "--to-stop", "S006", "--depart", "2026-11-24T23:30"
    )
    assert late["journeys"] == []


def test_gbfs_adds_a_bike_share_journey_between_stations_with_bikes_and_docks() -> None:
    from noriai.demo import GBFS_DIR

    out = _plan(
        "--gtfs",
        str(GTFS_DIR),
        "--gbfs",
        str(GBFS_DIR),
        "--from",
        "34.0942,131.3962",  # Shin-Yamaguchi Station
        "--to",
        "34.1649,131.4576",  # Yuda Onsen
        "--depart",
        "2026-11-24T09:00",
    )
    journeys = out["journeys"]
    assert isinstance(journeys, list)
    modes = [[leg["mode"] for leg in j["legs"]] for j in journeys]
    assert ["walk", "bike", "walk"] in modes and any("bus" in m for m in modes)
    bike = next(leg for j in journeys for leg in j["legs"] if leg["mode"] == "bike")
    assert bike["details"]["bikes_available"] > 0 and bike["details"]["docks_available"] > 0
    assert [j["arrival"] for j in journeys] == sorted(j["arrival"] for j in journeys)


def test_a_broken_gbfs_folder_is_one_clear_error(tmp_path: Path) -> None:
    r = runner.invoke(
        app,
        [
            "plan",
            "--gtfs",
            str(GTFS_DIR),
            "--gbfs",
            str(tmp_path),
            "--from-stop",
            "S001",
            "--to-stop",
            "S006",
            "--depart",
            "2026-11-24T09:00",
            "--json",
        ],
    )
    assert r.exit_code != 0
    assert "no station_information feed found" in r.output
