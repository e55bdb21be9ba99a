"""The feed parsers as fuzz targets: one function of bytes each, with the seeds it starts from and the
errors that count as a clean refusal (our own: ``FeedError``, ``FareError``, ``RealtimeParseError``,
``GbfsError``; a city bundle with an error is ``BundleRefused``, its issues listed). Any other exception
is a finding.

Used by ``benchmarks/fuzz.py`` (atheris, coverage-guided, >= 100,000 inputs per target) and by
``tests/fuzz/test_feed_parsers.py`` (hypothesis, a bounded run in CI). Seeds are made from the demo feeds
in the project; the shared GTFS-RT samples are added when ../shared is there.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from gtfs.loader import REQUIRED_FILES

ROOT = Path(__file__).resolve().parents[1]
DEMO_GTFS = ROOT / "noriai" / "demo" / "data" / "gtfs"
DEMO_GBFS = ROOT / "noriai" / "demo" / "data" / "gbfs"
DEMO_CITY = ROOT / "noriai" / "demo" / "data"
SHARED_RT = ROOT.parent / "shared" / "feeds" / "gtfs-rt"
SEP = b"\n\x00--\x00\n"  # separates the files of a multi-file input

# The tables of the small GTFS seed, in the order a "gtfs-tables" input carries them.
GTFS_TABLES = (
    *REQUIRED_FILES,
    "calendar.txt",
    "calendar_dates.txt",
    "translations.txt",
    "fare_attributes.txt",
    "fare_rules.txt",
)
GBFS_FILES = (
    "gbfs.json",
    "station_information.json",
    "station_status.json",
    "system_information.json",
    "system_pricing_plans.json",
)


@dataclass(frozen=True)
class Target:
    name: str
    what: str
    run: Callable[[bytes], None]  # raises only ``allowed`` (caught by the caller) or a finding
    allowed: tuple[type[Exception], ...]
    seeds: Callable[[], list[bytes]]
    timeout_s: int = 20  # an input slower than this is a finding (libFuzzer's -timeout)


# --- GTFS ------------------------------------------------------------------------------------------


def _small_gtfs() -> dict[str, bytes]:
    """The demo feed cut to its first rows (fuzzers want small inputs): every table, still consistent
    enough to load (stop_times rows of the first trip)."""
    out = {}
    for name in GTFS_TABLES:
        lines = (DEMO_GTFS / name).read_bytes().splitlines(keepends=True)
        out[name] = b"".join(lines[:6])
    return out


@cache
def _scratch() -> Path:
    """A per-process folder for inputs that must be files, in memory (/dev/shm) where there is one."""
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(prefix=f"noriai-fuzz-{os.getpid()}-", dir=shm if shm.is_dir() else None))
    atexit.register(cleanup)
    return folder


def cleanup() -> None:
    """Remove the scratch folder (at exit; ``benchmarks/fuzz.py`` calls it before its hard exit)."""
    if _scratch.cache_info().currsize:
        shutil.rmtree(_scratch(), ignore_errors=True)


def _write_files(folder: Path, names: tuple[str, ...], data: bytes) -> None:
    """The parts of ``data`` (split at SEP) as the files ``names`` in ``folder``; names without a part
    are removed, so an input can also drop files."""
    folder.mkdir(exist_ok=True)
    parts = data.split(SEP)
    for i, name in enumerate(names):
        if i < len(parts):
            (folder / name).write_bytes(parts[i])
        else:
            (folder / name).unlink(missing_ok=True)


def _gtfs_zip_seeds() -> list[bytes]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in _small_gtfs().items():
            z.writestr(name, data)
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as z:
        for name, data in _small_gtfs().items():
            z.writestr(name, data)
    return [buf.getvalue(), stored.getvalue()]


def _run_gtfs_zip(data: bytes) -> None:
    from gtfs.loader import inspect_feed

    p = _scratch() / "feed.zip"
    p.write_bytes(data)
    inspect_feed(p)


def _gtfs_tables_seeds() -> list[bytes]:
    return [SEP.join(_small_gtfs()[n] for n in GTFS_TABLES)]


def _run_gtfs_tables(data: bytes) -> None:
    """The input is the feed's tables joined by SEP (missing ones are missing files); the feed is
    inspected and, when it loads, its GTFS fares are read as the trip planner does."""
    from gtfs.loader import inspect_feed
    from planner.trip import feed_fare_table

    folder = _scratch() / "tables"
    _write_files(folder, GTFS_TABLES, data)
    feed = inspect_feed(folder)
    if not feed.errors():
        feed_fare_table(feed)


# --- GTFS-Realtime -----------------------------------------------------------------------------------


def _rt_seeds() -> list[bytes]:
    from google.transit import gtfs_realtime_pb2 as pb

    m = pb.FeedMessage()
    m.header.gtfs_realtime_version = "2.0"
    m.header.timestamp = int(datetime(2026, 11, 24, 6, 31, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp())
    e = m.entity.add()
    e.id = "1"
    e.trip_update.trip.trip_id = "L1-WD-0-01"
    e.trip_update.trip.start_date = "20261124"
    for seq, delay in ((2, 60), (3, 120)):
        u = e.trip_update.stop_time_update.add()
        u.stop_sequence = seq
        u.arrival.delay = delay
        u.departure.delay = delay
    v = m.entity.add()
    v.id = "2"
    v.vehicle.trip.trip_id = "L1-WD-0-01"
    v.vehicle.position.latitude = 34.17
    v.vehicle.position.longitude = 131.47
    v.vehicle.timestamp = m.header.timestamp
    seeds = [m.SerializeToString()]
    if SHARED_RT.is_dir():
        seeds += [p.read_bytes() for p in sorted(SHARED_RT.glob("*.pb")) if p.stat().st_size <= 8192]
    return seeds


@cache
def _rt_writer() -> object:
    from bus_location import RealtimeWriter
    from gtfs.loader import load_feed

    return RealtimeWriter({"demo": load_feed(DEMO_GTFS, "demo")})


def _run_rt(data: bytes) -> None:
    """Parse, then match against the demo timetable and publish a snapshot (the whole realtime path)."""
    from bus_location import RealtimeWriter, parse_feed

    parse_feed(data)
    writer = _rt_writer()
    assert isinstance(writer, RealtimeWriter)
    writer.apply_bytes("demo", data)  # reports, never raises


# --- GBFS --------------------------------------------------------------------------------------------


def _gbfs_json_seeds() -> list[bytes]:
    return [(DEMO_GBFS / n).read_bytes() for n in GBFS_FILES]


def _run_gbfs_json(data: bytes) -> None:
    """One document through each GBFS parser."""
    from bikeshare.gbfs import (
        GbfsError,
        parse_free_bikes,
        parse_json,
        parse_pricing_plans,
        parse_station_information,
        parse_station_status,
    )

    doc = parse_json(data, "fuzz.json")
    for parse in (parse_station_information, parse_station_status, parse_free_bikes, parse_pricing_plans):
        with contextlib.suppress(GbfsError):
            parse(doc)


def _gbfs_system_seeds() -> list[bytes]:
    return [SEP.join((DEMO_GBFS / n).read_bytes() for n in GBFS_FILES)]


def _run_gbfs_system(data: bytes) -> None:
    """A whole system from a folder: the input is its files joined by SEP (discovery, information,
    status, system information, pricing)."""
    from bikeshare import load_system

    folder = _scratch() / "gbfs"
    _write_files(folder, GBFS_FILES, data)
    load_system(folder)


# --- city bundle -----------------------------------------------------------------------------------

# The files of a city bundle, in the order a "city-bundle" input carries them (docs/city-bundle.md).
BUNDLE_FILES = (
    "city.toml",
    "service_area.geojson",
    "zones.geojson",
    "places.csv",
    "companies.toml",
    "tariff.toml",
    "riders.csv",
    "flights_ube.csv",
)


class BundleRefused(Exception):
    """``load_bundle`` answered with errors (file, line, field each): the bundle's clean refusal."""


def _bundle_seeds() -> list[bytes]:
    """The demo city bundle, its riders cut to the first three, and a smaller one made from it (comments
    dropped, three zones: a district, a community zone and the corridor), which is ~3x faster to load.
    Its GTFS and GBFS are other targets: their folders exist, empty, and are not loaded."""
    files = {n: (DEMO_CITY / n).read_bytes() for n in BUNDLE_FILES}
    files["riders.csv"] = b"".join(files["riders.csv"].splitlines(keepends=True)[:4])
    small = {
        n: b"".join(line for line in data.splitlines(keepends=True) if not line.lstrip().startswith(b"#"))
        for n, data in files.items()
    }
    zones = json.loads(files["zones.geojson"])
    keep = ("central", "nio", "airport-corridor")
    zones["features"] = [f for f in zones["features"] if f["properties"]["zone_id"] in keep]
    small["zones.geojson"] = json.dumps(zones, ensure_ascii=False, separators=(",", ":")).encode()
    return [SEP.join(files[n] for n in BUNDLE_FILES), SEP.join(small[n] for n in BUNDLE_FILES)]


def _run_bundle(data: bytes) -> None:
    """A city bundle from a folder: the input is its files joined by SEP; ``load_bundle`` must answer
    with the city or with its issues, never raise."""
    from noriai.city import load_bundle

    folder = _scratch() / "city"
    _write_files(folder, BUNDLE_FILES, data)
    for feed in ("gtfs", "gbfs"):
        (folder / feed).mkdir(exist_ok=True)
    bundle, issues = load_bundle(folder, check_feeds=False)
    if bundle is None:
        raise BundleRefused("; ".join(str(i) for i in issues.errors[:3]))


def _errors() -> dict[str, tuple[type[Exception], ...]]:
    from bikeshare import GbfsError
    from bus_location import RealtimeParseError
    from fares.quote import FareError
    from gtfs.tables import FeedError

    return {"gtfs": (FeedError, FareError), "rt": (RealtimeParseError,), "gbfs": (GbfsError,)}


def targets() -> dict[str, Target]:
    e = _errors()
    ts = [
        Target("gtfs-zip", "GTFS zip -> inspect_feed", _run_gtfs_zip, e["gtfs"], _gtfs_zip_seeds),
        Target(
            "gtfs-tables",
            "GTFS tables -> inspect_feed + fare table",
            _run_gtfs_tables,
            e["gtfs"],
            _gtfs_tables_seeds,
        ),
        Target("gtfs-rt", "GTFS-RT -> parse_feed + match + snapshot", _run_rt, e["rt"], _rt_seeds),
        Target("gbfs-json", "GBFS document -> each parser", _run_gbfs_json, e["gbfs"], _gbfs_json_seeds),
        Target("gbfs-system", "GBFS folder -> load_system", _run_gbfs_system, e["gbfs"], _gbfs_system_seeds),
        # a real city may ask for resolution 11: the demo's zones then take ~5 s of CPU (15 s on a loaded
        # machine, more instrumented), which is work asked for, not a hang
        Target("city-bundle", "city bundle -> load_bundle", _run_bundle, (BundleRefused,), _bundle_seeds, 90),
    ]
    return {t.name: t for t in ts}


def one_input(target: Target, data: bytes) -> bool:
    """Run one input; True when it parsed, False when our own error refused it. Anything else raises."""
    try:
        target.run(data)
    except target.allowed:
        return False
    return True


def describe(data: bytes) -> str:
    return json.dumps(data[:200].decode("latin-1"))
