"""Hostile GBFS feeds (variants of the demo feed made here): a bad station is dropped and counted, a
broken document is our ``GbfsError``, and the poller keeps polling with backoff and says so."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bikeshare import GbfsError, GbfsPoller, load_system
from bikeshare.gbfs import parse_json, parse_pricing_plans, parse_station_information, parse_station_status
from noriai.demo import GBFS_DIR
from noriai.jobs import gbfs_poller_job


def _feed(tmp_path: Path) -> Path:
    d = tmp_path / "gbfs"
    shutil.copytree(GBFS_DIR, d)
    return d


def _edit(folder: Path, name: str, change: Any) -> None:
    path = folder / f"{name}.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


def _nested(depth: int) -> str:
    return '{"data": {"stations": ' + "[" * depth + "]" * depth + "}}"


def test_a_station_at_latitude_95_is_dropped_and_counted_and_the_others_stay(tmp_path: Path) -> None:
    d = _feed(tmp_path)
    n = len(load_system(d).stations)
    _edit(d, "station_information", lambda doc: doc["data"]["stations"][0].update(lat=95.0))
    system = load_system(d)
    assert len(system.stations) == n - 1 and "ysc-01" not in system.stations
    assert system.problems["station_information_bad_coordinates"] == 1


@pytest.mark.parametrize(
    "station",
    [
        {"station_id": "a", "lat": float("nan"), "lon": 131.4},
        {"station_id": "b", "lat": 34.1, "lon": float("inf")},
        {"station_id": "c", "lat": 0, "lon": 0},
        {"station_id": "d", "lat": "34.1", "lon": -181},
        {"station_id": "e", "lat": True, "lon": 131.4},
    ],
)
def test_non_finite_or_out_of_range_coordinates_are_bad_coordinates(station: dict[str, Any]) -> None:
    stations, problems = parse_station_information({"data": {"stations": [station]}})
    assert stations == {} and problems == {"station_information_bad_coordinates": 1}


def test_impossible_counts_and_prices_are_skipped_not_raised() -> None:
    doc = {
        "data": {
            "stations": [
                {"station_id": "neg", "num_bikes_available": -1, "num_docks_available": 3},
                {"station_id": "inf", "num_bikes_available": 1e309, "num_docks_available": 3},
                {"station_id": "half", "num_bikes_available": 2.5},
                {"station_id": "ok", "num_bikes_available": 2, "num_docks_available": 3},
            ]
        }
    }
    status, problems = parse_station_status(doc)
    assert list(status) == ["ok"] and problems == {"station_status_bad_station": 3}
    plans = {
        "data": {
            "plans": [
                {"plan_id": "nan", "name": "x", "currency": "JPY", "price": float("nan")},
                {"plan_id": "huge", "name": "x", "currency": "JPY", "price": 1e12},
                {"plan_id": "ok", "name": "x", "currency": "JPY", "price": 165},
            ]
        }
    }
    good, bad = parse_pricing_plans(plans)
    assert [p.plan_id for p in good] == ["ok"] and bad == {"pricing_plan_bad": 2}


def test_deep_nesting_and_huge_integers_are_our_error() -> None:
    with pytest.raises(GbfsError, match="nested too deeply"):
        parse_json(_nested(100_000).encode(), "station_information.json")
    with pytest.raises(GbfsError, match=r"station_status\.json: not valid JSON"):
        parse_json(b'{"ttl": ' + b"9" * 5000 + b"}", "station_status.json")


def test_a_bad_ttl_falls_back_to_60_and_is_counted(tmp_path: Path) -> None:
    d = _feed(tmp_path)
    _edit(d, "station_status", lambda doc: doc.update(ttl="soon"))
    system = load_system(d)
    assert system.ttl_s == 60 and system.problems["bad_ttl"] == 1


def test_the_poller_backs_off_keeps_the_last_system_and_recovers(tmp_path: Path) -> None:
    d = _feed(tmp_path)
    clock = [0.0]
    poller = GbfsPoller(str(d), clock=lambda: clock[0])
    assert poller.poll() and poller.health()["state"] == "ok"
    good = poller.system
    info = (d / "station_information.json").read_text(encoding="utf-8")
    (d / "station_information.json").write_text(_nested(50_000), encoding="utf-8")
    waits = []
    for _ in range(4):
        clock[0] = poller._next_at
        assert not poller.poll()
        waits.append(poller._next_at - clock[0])
    assert waits == [30.0, 60.0, 120.0, 240.0]
    h = poller.health()
    assert poller.system is good and h["consecutive_failures"] == 4
    assert h["state"] == "stale" and "nested too deeply" in h["last_error"]  # last good one is 450 s old
    clock[0] = poller._next_at - 1
    assert not poller.poll() and poller.failures == 4  # too soon: no request during the backoff
    (d / "station_information.json").write_text(info, encoding="utf-8")
    clock[0] = poller._next_at
    assert poller.poll()
    assert poller.health()["state"] == "ok" and poller.health()["consecutive_failures"] == 0


def test_an_unexpected_exception_is_recorded_and_polling_goes_on() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise RuntimeError("a bug somewhere below")

    clock = [0.0]
    poller = GbfsPoller(
        "https://bikes.test/gbfs.json", transport=httpx.MockTransport(handler), clock=lambda: clock[0]
    )
    assert not poller.poll()
    assert poller.health()["state"] == "failing" and poller.last_error == "internal error: RuntimeError"
    clock[0] = 10_000
    assert not poller.poll() and len(calls) == 2 and poller.failures == 2


def test_the_poller_thread_survives_a_deeply_nested_station_information(tmp_path: Path) -> None:
    d = _feed(tmp_path)
    (d / "station_information.json").write_text(_nested(200_000), encoding="utf-8")
    poller = GbfsPoller(str(d))
    job = gbfs_poller_job(poller, tick_s=0.01)  # the app's poller thread
    job.start()
    try:
        for _ in range(500):
            if poller.failures:
                break
            time.sleep(0.01)
        assert poller.failures == 1 and poller.health()["state"] == "failing"
        assert job.running and job.stats.failures == 0  # the round survived: poll never raised
    finally:
        job.stop()
    assert job._thread is not None
    job._thread.join(5)
    assert not job._thread.is_alive()
