"""The built-in Yamaguchi City demo: a city bundle (docs/city-bundle.md) in ``data/``, read by the same
code as any city's (``noriai.city``), plus the demo API keys the app seeds for it.

``scripts/make_demo_data.py`` regenerates the riders and the bus feed, ``scripts/make_demo_city.py``
the service area and the zone outlines.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from dispatch.domain import Place, ReferenceData, Rider
from noriai.city.bundle import _places, _Reader, _riders, load_bundle
from noriai.city.issues import Issues

DATA_DIR = Path(__file__).resolve().parent / "data"
GTFS_DIR = DATA_DIR / "gtfs"
TARIFF_PATH = DATA_DIR / "tariff.toml"
GBFS_DIR = DATA_DIR / "gbfs"
FLIGHTS_PATH = DATA_DIR / "flights_ube.csv"  # fictional timetable of 山口宇部空港 (city.toml [airport])


class DemoDataError(ValueError):
    """A demo data file is malformed; the message names the file and row."""


def _first_error(issues: Issues) -> None:
    if issues.errors:
        raise DemoDataError("; ".join(str(i) for i in issues.errors))


def load_places(path: Path = DATA_DIR / "places.csv") -> tuple[Place, ...]:
    issues = Issues()
    places = _places(_Reader(path.parent, issues), path.name, None)
    _first_error(issues)
    return places


def load_riders(path: Path = DATA_DIR / "riders.csv") -> tuple[Rider, ...]:
    issues = Issues()
    riders = _riders(_Reader(path.parent, issues), path.name)
    _first_error(issues)
    return riders


@cache
def reference_data() -> ReferenceData:
    """The whole demo city (places, fleet, riders, zones, service area, feeds), loaded once per process."""
    bundle, issues = load_bundle(DATA_DIR, check_feeds=False)
    _first_error(issues)
    assert bundle is not None
    return bundle.reference
