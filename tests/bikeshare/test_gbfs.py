"""GBFS v1/v2/v3 from files and URLs; broken documents give one clear error."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bikeshare import GbfsError, load_system, parse_station_status
from tests.shared_data import shared

GBFS = shared("feeds", "gbfs")


def test_helsinki_v1_with_integer_booleans() -> None:
    s = load_system(GBFS / "helsinki")
    assert s.version == "1.0" and s.name == "HSL Bikes Share"
    assert len(s.status) == 10 and all(isinstance(x.is_renting, bool) for x in s.status.values())
    assert s.problems.get("station_information_bad_coordinates") == 1  # one station without coordinates
    st_id = next(iter(s.status))
    assert s.age_s(st_id, s.status[st_id].last_reported_unix or 0) == 0


def test_lillestrom_v2_2() -> None:
    s = load_system(GBFS / "lillestrombysykkel")
    assert s.version == "2.2" and len(s.stations) == 6 and s.problems == {}


def test_docomo_tokyo_snapshots_without_discovery_file() -> None:
    morning = load_system(
        GBFS / "docomo-cycle-tokyo_20220629", status_file="station_status_2022-06-29T08-00-24.json"
    )
    evening = load_system(
        GBFS / "docomo-cycle-tokyo_20220629", status_file="station_status_2022-06-29T18-00-15.json"
    )
    assert len(morning.stations) == 1077
    assert morning.can_rent("00010001") and not evening.can_rent("00010001")  # is_renting false at 18:00
    assert morning.status["00010001"].last_reported_unix == 1656457211


def _v3(tmp_path: Path) -> Path:
    d = tmp_path / "v3"
    d.mkdir()
    (d / "gbfs.json").write_text(
        json.dumps(
            {
                "last_updated": "2026-11-24T09:00:00+09:00",
                "ttl": 30,
                "version": "3.0",
                "data": {
                    "feeds": [
                        {"name": "station_information", "url": "https://x.invalid/si.json"},
                        {"name": "station_status", "url": "https://x.invalid/ss.json"},
                    ]
                },
            }
        )
    )
    (d / "station_information.json").write_text(
        json.dumps(
            {
                "version": "3.0",
                "ttl": 30,
                "last_updated": "2026-11-24T09:00:00+09:00",
                "data": {
                    "stations": [
                        {
                            "station_id": "yuda",
                            "name": [{"text": "湯田温泉駅", "language": "ja"}],
                            "lat": 34.158,
                            "lon": 131.459,
                            "capacity": 10,
                        }
                    ]
                },
            }
        )
    )
    (d / "station_status.json").write_text(
        json.dumps(
            {
                "version": "3.0",
                "ttl": 30,
                "last_updated": "2026-11-24T09:00:00+09:00",
                "data": {
                    "stations": [
                        {
                            "station_id": "yuda",
                            "num_vehicles_available": 3,
                            "num_docks_available": 7,
                            "is_installed": True,
                            "is_renting": True,
                            "is_returning": True,
                            "last_reported": "2026-11-24T08:59:00+09:00",
                        }
                    ]
                },
            }
        )
    )
    return d


def test_v3_localised_names_and_rfc3339_times(tmp_path: Path) -> None:
    s = load_system(_v3(tmp_path))
    assert s.version == "3.0" and s.stations["yuda"].name == "湯田温泉駅"
    assert s.status["yuda"].bikes_available == 3 and s.can_rent("yuda") and s.can_return("yuda")
    assert s.age_s("yuda", s.status["yuda"].last_reported_unix + 120) == 120  # type: ignore[operator]


def _serve(folder: Path, request: httpx.Request) -> httpx.Response:
    """Serve a saved GBFS folder at https://bikes.test/, rewriting its discovery URLs to point there."""
    name = request.url.path.rsplit("/", 1)[-1]
    if name == "gbfs.json":
        doc = json.loads((folder / "gbfs.json").read_text())
        for lang in doc["data"].values():
            for f in lang["feeds"]:
                f["url"] = f"https://bikes.test/{f['name']}.json"
        return httpx.Response(200, json=doc)
    p = folder / name
    return httpx.Response(200, content=p.read_bytes()) if p.exists() else httpx.Response(404)


def test_urls_with_an_injected_transport(tmp_path: Path) -> None:
    folder = GBFS / "lillestrombysykkel"

    def handler(request: httpx.Request) -> httpx.Response:
        return _serve(folder, request)

    s = load_system("https://bikes.test/gbfs.json", transport=httpx.MockTransport(handler))
    assert len(s.stations) == 6
    with pytest.raises(GbfsError, match="cannot fetch"):
        load_system(
            "https://bikes.test/gbfs.json", transport=httpx.MockTransport(lambda r: httpx.Response(503))
        )


def test_missing_field_and_bad_json_name_the_file(tmp_path: Path) -> None:
    d = _v3(tmp_path)
    (d / "station_status.json").write_text(json.dumps({"ttl": 30, "data": {}}))
    with pytest.raises(GbfsError, match=r"station_status\.json: missing field data\.stations"):
        load_system(d)
    (d / "station_status.json").write_text("{not json")
    with pytest.raises(GbfsError, match=r"station_status\.json: not valid JSON"):
        load_system(d)
    with pytest.raises(GbfsError, match="no such GBFS folder"):
        load_system(tmp_path / "nowhere")


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "data": st.fixed_dictionaries(
                    {
                        "stations": st.lists(
                            st.dictionaries(
                                st.sampled_from(
                                    [
                                        "station_id",
                                        "num_bikes_available",
                                        "num_docks_available",
                                        "is_renting",
                                        "last_reported",
                                    ]
                                ),
                                json_values,
                                max_size=5,
                            ),
                            max_size=4,
                        )
                    }
                )
            }
        ),
    )
)
def test_random_json_parses_or_fails_with_our_error(doc: Any) -> None:
    with contextlib.suppress(GbfsError):
        parse_station_status(doc)


def test_free_bike_status_is_read_when_present(tmp_path: Path) -> None:
    d = _v3(tmp_path)
    (d / "free_bike_status.json").write_text(
        json.dumps(
            {
                "ttl": 30,
                "data": {
                    "bikes": [
                        {"bike_id": "b1", "lat": 34.16, "lon": 131.46, "is_reserved": 0, "is_disabled": 0},
                        {"bike_id": "b2", "lat": "x", "lon": 131.46},
                    ]
                },
            }
        )
    )
    s = load_system(d)
    assert [b.bike_id for b in s.free_bikes] == ["b1"]
    assert s.problems.get("free_bike_bad_entry") == 1


def test_poller_honours_ttl_and_keeps_the_last_good_system() -> None:
    from bikeshare.gbfs import GbfsPoller

    folder = GBFS / "helsinki"
    hits: list[str] = []
    healthy = [True]

    def handler(request: httpx.Request) -> httpx.Response:
        hits.append(request.url.path)
        if not healthy[0]:
            return httpx.Response(503)
        return _serve(folder, request)

    clock = [0.0]
    poller = GbfsPoller(
        "https://bikes.test/gbfs.json", transport=httpx.MockTransport(handler), clock=lambda: clock[0]
    )
    assert poller.poll() and poller.system is not None
    n = len(hits)
    clock[0] = 30  # ttl is 60 s
    assert not poller.poll() and len(hits) == n
    clock[0] = 61
    healthy[0] = False
    assert not poller.poll() and poller.last_error and "cannot fetch" in poller.last_error
    assert poller.system is not None and len(poller.system.status) == 10
