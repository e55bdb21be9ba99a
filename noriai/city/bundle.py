"""Read and check a city bundle (docs/city-bundle.md): one folder with everything a city needs.

``load_bundle(dir)`` reads every file, collects every problem it finds (with the file and the line or
GeoJSON feature) instead of stopping at the first, and returns the city as domain types when there
is no error. It never raises for bad input: an unreadable file is one more issue.
"""

from __future__ import annotations

import csv
import json
import math
import re
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dispatch.airport import FlightFileError, parse_flights
from dispatch.domain import (
    WEEKDAYS,
    City,
    CityAirport,
    Company,
    Consent,
    FeedSource,
    MobilityNeeds,
    Place,
    PlaceKind,
    ReferenceData,
    Rider,
    Shift,
    Vehicle,
    VehicleKind,
    Zone,
    ZoneKind,
)
from fares import TariffError
from fares.tariff import parse_tariff
from geo import AreaError, LatLon, ServiceArea, ServiceZone, haversine_m
from geo.area import polygons_of
from noriai.city.issues import Issues, TomlLines

SUPPORTED_TIMEZONE = "Asia/Tokyo"
MAX_FILE_BYTES = 64 * 1024 * 1024  # one file of the bundle (a city of 200,000 riders is ~40 MB)
PLACE_COLUMNS = ("place_id", "name", "name_en", "kana", "kind", "lat", "lon")
RIDER_COLUMNS = (
    "rider_id",
    "name",
    "kana",
    "phone",
    "birth_year",
    "district",
    "home_lat",
    "home_lon",
    "wheelchair",
    "walker",
    "companion",
    "disability_certificate",
    "welfare_bus_pass",
    "consent_data_reuse",
)
CITY_KEYS = {
    "name",
    "name_en",
    "timezone",
    "booking_phone",
    "service_area",
    "zones",
    "places",
    "companies",
    "tariff",
    "riders",
    "max_walk_m",
    "h3_resolution",
    "gtfs",
    "gbfs",
    "airport",
}
STOP_FAR_FROM_PLACES_M = 5_000.0
MAX_STOP_WARNINGS = 10
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CityBundle:
    root: Path
    city: City
    reference: ReferenceData
    gbfs: str | None  # absolute folder or URL
    tariff_path: Path


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _rel(root: Path, p: Path) -> str:
    try:
        return str(p.relative_to(root))
    except ValueError:
        return str(p)


class _Reader:
    def __init__(self, root: Path, issues: Issues) -> None:
        self.root = root
        self.issues = issues

    # --- files --------------------------------------------------------------------------------------
    def text(self, name: str) -> str | None:
        """The file's text, or None with an issue: missing, not a regular file (a folder, a device such
        as /dev/zero), over ``MAX_FILE_BYTES``, unreadable or not UTF-8."""
        path = self.root / name
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                self.issues.error(name, "not a regular file")
                return None
            with path.open("rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                self.issues.error(name, f"file over {MAX_FILE_BYTES // (1024 * 1024)} MiB")
                return None
            return data.decode("utf-8")
        except FileNotFoundError:
            self.issues.error(name, "file not found")
        except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: a NUL in the name
            self.issues.error(name, f"cannot read: {exc}")
        return None

    def toml(self, name: str) -> tuple[dict[str, Any], TomlLines] | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            return tomllib.loads(text), TomlLines(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"at line (\d+)", str(exc))
            self.issues.error(name, f"not valid TOML: {exc}", line=int(m.group(1)) if m else None)
        except RecursionError:  # arrays or tables nested thousands deep
            self.issues.error(name, "not valid TOML: nested too deeply")
        except ValueError as exc:  # an integer of over 4,300 digits
            self.issues.error(name, f"not valid TOML: {exc}")
        return None

    def json(self, name: str) -> Any:
        text = self.text(name)
        if text is None:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            self.issues.error(name, f"not valid JSON: {exc.msg}", line=exc.lineno)
        except RecursionError:  # arrays nested thousands deep
            self.issues.error(name, "not valid JSON: nested too deeply")
        except ValueError as exc:  # an integer of over 4,300 digits
            self.issues.error(name, f"not valid JSON: {exc}")
        return None

    def csv_rows(self, name: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]] | None:
        text = self.text(name)
        if text is None:
            return None
        lines = text.splitlines()
        reader = csv.DictReader(lines)
        out = []
        try:
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                self.issues.error(name, f"missing column(s): {', '.join(missing)}", line=1)
                return None
            for n, row in enumerate(reader, start=2):
                if None in row or any(v is None for v in row.values()):
                    self.issues.error(name, f"expected {len(header)} columns, got a different number", line=n)
                    continue
                out.append((n, {k: (v or "").strip() for k, v in row.items()}))
        except csv.Error as exc:  # a field over the CSV limit (128 KiB), an unterminated quote
            self.issues.error(name, f"not valid CSV: {exc}", line=max(1, reader.line_num))
            return None
        return out


def _id_problem(value: Any, seen: set[str] | dict[str, Any], what: str) -> str | None:
    """Why ``value`` cannot be a new id of kind ``what`` (e.g. "zone_id"), or None."""
    if not isinstance(value, str) or not _ID.match(value):
        return f"{what} must be letters, digits, '-', '_' or '.'"
    if value in seen:
        return f"duplicate {what} {value!r}"
    return None


def _float(value: str, lo: float, hi: float) -> float:
    x = float(value)
    if not math.isfinite(x) or not lo <= x <= hi:
        raise ValueError(f"{value!r} is not between {lo} and {hi}")
    return x


def _bool(value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no", ""):
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _clock(text: Any) -> tuple[time, bool]:
    if not isinstance(text, str) or not re.fullmatch(r"\d{1,2}:\d{2}", text):
        raise ValueError(f"expected HH:MM, got {text!r}")
    hh, mm = (int(x) for x in text.split(":"))
    if hh == 24 and mm == 0:
        return time(0, 0), True
    if not (0 <= hh <= 23 and 0 <= mm <= 59):
        raise ValueError(f"{text!r} is not a time of day")
    return time(hh, mm), False


def parse_shift(raw: Any) -> Shift:
    if not isinstance(raw, dict) or "start" not in raw or "end" not in raw:
        raise ValueError('a shift is { start = "HH:MM", end = "HH:MM" }')
    start, _ = _clock(raw["start"])
    end, next_day = _clock(raw["end"])
    if not next_day and end <= start:  # an overnight shift: 18:00 - 02:00 ends the next day
        end_s = end.hour * 3600 + end.minute * 60
        if end_s + 86_400 <= start.hour * 3600 + start.minute * 60:
            raise ValueError("a shift must end after it starts")
        next_day = True
    return Shift(start, end, next_day)


def load_bundle(root: str | Path, *, check_feeds: bool = True) -> tuple[CityBundle | None, Issues]:
    """Every issue of the bundle at ``root``; the bundle itself only when there is no error.

    ``check_feeds`` also loads each local GTFS feed and reports its problems (slow for large feeds)."""
    root = Path(root)
    issues = Issues()
    if not root.is_dir():
        issues.error(str(root), "not a folder")
        return None, issues
    r = _Reader(root, issues)
    loaded = r.toml("city.toml")
    if loaded is None:
        return None, issues
    doc, lines = loaded
    F = "city.toml"

    def need_str(key: str, default: str | None = None) -> str:
        v = doc.get(key, default)
        if not isinstance(v, str) or not v.strip():
            issues.error(F, "required text field is missing or empty", line=lines.top_level(key), field=key)
            return ""
        return v.strip()

    for key in doc:
        if key not in CITY_KEYS:
            issues.warn(F, "unknown field (ignored)", line=lines.top_level(key), field=key)
    name, name_en = need_str("name"), need_str("name_en")
    tz = need_str("timezone", SUPPORTED_TIMEZONE)
    try:
        ZoneInfo(tz)
        if tz != SUPPORTED_TIMEZONE:
            issues.error(
                F,
                f"only {SUPPORTED_TIMEZONE} is supported",
                line=lines.top_level("timezone"),
                field="timezone",
            )
    except (ZoneInfoNotFoundError, ValueError):
        issues.error(F, f"unknown time zone {tz!r}", line=lines.top_level("timezone"), field="timezone")
    booking_phone = need_str("booking_phone")
    max_walk = doc.get("max_walk_m", 800)
    if not isinstance(max_walk, int | float) or isinstance(max_walk, bool) or not 0 < max_walk <= 5000:
        issues.error(
            F,
            "must be a number of metres in (0, 5000]",
            line=lines.top_level("max_walk_m"),
            field="max_walk_m",
        )
        max_walk = 800
    resolution = doc.get("h3_resolution", 8)
    if not isinstance(resolution, int) or isinstance(resolution, bool) or not 5 <= resolution <= 11:
        issues.error(
            F, "must be an integer 5..11", line=lines.top_level("h3_resolution"), field="h3_resolution"
        )
        resolution = 8

    def file_field(key: str, default: str) -> str:
        v = doc.get(key, default)
        if not isinstance(v, str) or not v:
            issues.error(F, "must be a file name in the bundle", line=lines.top_level(key), field=key)
            return default
        return v

    area_file = file_field("service_area", "service_area.geojson")
    zones_file = file_field("zones", "zones.geojson")
    places_file = file_field("places", "places.csv")
    companies_file = file_field("companies", "companies.toml")
    tariff_file = file_field("tariff", "tariff.toml")
    riders_file = doc.get("riders")
    if riders_file is None and (root / "riders.csv").exists():
        riders_file = "riders.csv"

    feeds = _feeds(doc, lines, root, issues)
    gbfs = _gbfs(doc, lines, root, issues)

    area = _service_area(r, area_file)
    places = _places(r, places_file, area)
    place_ids = {p.place_id: p for p in places}
    zones = _zones(r, zones_file, resolution, place_ids, area)
    companies = _companies(r, companies_file, {z.zone.zone_id: z for z in zones})
    riders: tuple[Rider, ...] = ()
    if riders_file is not None:
        if not isinstance(riders_file, str):
            issues.error(
                F, "must be a file name in the bundle", line=lines.top_level("riders"), field="riders"
            )
        else:
            riders = _riders(r, riders_file)
    tariff_text = r.text(tariff_file)
    airport_fare = False
    if tariff_text is not None:
        try:
            airport_fare = parse_tariff(tariff_text, tariff_file).airport is not None
        except TariffError as exc:
            issues.error(tariff_file, str(exc).removeprefix(f"{tariff_file}: "))
    airport = _airport(doc, lines, r, place_ids, airport_fare, tariff_file)
    if check_feeds:
        for f in feeds:
            _check_feed(root, f, places, issues)

    if issues.errors or area is None or tariff_text is None:
        return None, issues
    city = City(
        name=name,
        name_en=name_en,
        timezone=tz,
        booking_phone=booking_phone,
        service_area=area,
        feeds=feeds,
        gbfs_url=gbfs,
        max_walk_m=float(max_walk),
        tariff_toml=tariff_text,
        airport=airport,
    )
    reference = ReferenceData(places, companies, riders, zones, city)
    return CityBundle(root.resolve(), city, reference, gbfs, (root / tariff_file).resolve()), issues


def _feeds(doc: dict[str, Any], lines: TomlLines, root: Path, issues: Issues) -> tuple[FeedSource, ...]:
    F = "city.toml"
    raw = doc.get("gtfs", [])
    if not isinstance(raw, list):
        issues.error(F, "must be an array of tables [[gtfs]]", line=lines.top_level("gtfs"), field="gtfs")
        return ()
    out: list[FeedSource] = []
    seen: set[str] = set()
    for i, g in enumerate(raw):
        if not isinstance(g, dict):
            issues.error(F, "each [[gtfs]] entry must be a table", field=f"gtfs[{i}]")
            continue
        fid = g.get("feed_id")
        if not isinstance(fid, str) or not _ID.match(fid):
            issues.error(
                F,
                "feed_id must be letters, digits, '-', '_' or '.'",
                line=lines.of("gtfs", i, "feed_id"),
                field="feed_id",
            )
            continue
        if fid in seen:
            issues.error(
                F, f"duplicate feed_id {fid!r}", line=lines.of("gtfs", i, "feed_id"), field="feed_id"
            )
            continue
        seen.add(fid)
        path = g.get("path")
        if not isinstance(path, str) or not path:
            issues.error(
                F, "path (folder, .zip or https URL) is required", line=lines.of("gtfs", i), field="path"
            )
            continue
        if not is_url(path):
            p = (root / path).resolve()
            if not p.exists():
                issues.error(
                    F, f"feed path {path!r} does not exist", line=lines.of("gtfs", i, "path"), field="path"
                )
                continue
            path = str(p)
        rt = g.get("realtime", [])
        if not isinstance(rt, list) or not all(isinstance(u, str) and is_url(u) for u in rt):
            issues.error(
                F,
                "realtime must be a list of http(s) URLs",
                line=lines.of("gtfs", i, "realtime"),
                field="realtime",
            )
            rt = []
        for key in g:
            if key not in ("feed_id", "path", "realtime"):
                issues.warn(F, "unknown field (ignored)", line=lines.of("gtfs", i, key), field=key)
        out.append(FeedSource(fid, path, tuple(rt)))
    return tuple(out)


def _gbfs(doc: dict[str, Any], lines: TomlLines, root: Path, issues: Issues) -> str | None:
    raw = doc.get("gbfs")
    if raw is None:
        return None
    url = raw.get("url") if isinstance(raw, dict) else None
    if not isinstance(url, str) or not url:
        issues.error("city.toml", "[gbfs] needs url = folder or gbfs.json URL", field="gbfs.url")
        return None
    if is_url(url):
        return url
    p = (root / url).resolve()
    if not p.exists():
        issues.error("city.toml", f"GBFS path {url!r} does not exist", field="gbfs.url")
        return None
    return str(p)


AIRPORT_KEYS = {"place_id", "flights", "checkin_margin_min", "baggage_margin_min", "status_url"}


def _airport(
    doc: dict[str, Any],
    lines: TomlLines,
    r: _Reader,
    places: dict[str, Place],
    tariff_has_fare: bool,
    tariff_file: str,
) -> CityAirport | None:
    """The ``[airport]`` table: the airport shared taxi (スマート空港タクシー), or None without one."""
    raw = doc.get("airport")
    if raw is None:
        return None
    F, issues = "city.toml", r.issues
    if not isinstance(raw, dict):
        issues.error(F, "must be a table [airport]", line=lines.top_level("airport"), field="airport")
        return None

    def at(key: str | None = None) -> int | None:
        return lines.in_table("airport", key)

    for key in raw:
        if key not in AIRPORT_KEYS:
            issues.warn(F, "unknown field (ignored)", line=at(key), field=f"airport.{key}")
    ok = True
    place_id = raw.get("place_id")
    if not isinstance(place_id, str) or place_id not in places:
        issues.error(
            F, f"not a place of the city: {place_id!r}", line=at("place_id"), field="airport.place_id"
        )
        ok = False
    elif places[place_id].kind is not PlaceKind.AIRPORT:
        issues.warn(
            F, f"place {place_id!r} is not of kind airport", line=at("place_id"), field="airport.place_id"
        )
    if not tariff_has_fare:
        issues.error(
            tariff_file,
            "city.toml has [airport]: the tariff needs [airport] fare_per_person_yen",
            field="airport",
        )
        ok = False
    margins: dict[str, int] = {}
    for key, default in (("checkin_margin_min", 40), ("baggage_margin_min", 20)):
        v = raw.get(key, default)
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 180:
            issues.error(F, "must be whole minutes 0..180", line=at(key), field=f"airport.{key}")
            ok = False
        else:
            margins[key] = v * 60
    flights_file = raw.get("flights")
    flights_csv = None
    if not isinstance(flights_file, str) or not flights_file:
        issues.error(
            F, "needs flights = a CSV file in the bundle", line=at("flights") or at(), field="airport.flights"
        )
    else:
        flights_csv = r.text(flights_file)
        if flights_csv is not None:
            try:
                parse_flights(csv.DictReader(flights_csv.splitlines()), flights_file)
            except FlightFileError as exc:
                issues.error(flights_file, exc.why, line=exc.line, field=exc.field)
                flights_csv = None
    status = raw.get("status_url")
    status_url: str | None = None
    if status is not None:
        if not isinstance(status, str) or not status:
            issues.error(
                F, "must be a URL or a file in the bundle", line=at("status_url"), field="airport.status_url"
            )
            ok = False
        elif is_url(status):
            status_url = status
        else:  # a file the city (or a test) keeps up to date
            status_url = str((r.root / status).resolve())
    if not ok or flights_csv is None or not isinstance(place_id, str):
        return None
    return CityAirport(
        place_id=place_id,
        flights_csv=flights_csv,
        checkin_margin_s=margins["checkin_margin_min"],
        baggage_margin_s=margins["baggage_margin_min"],
        status_url=status_url,
    )


def _features(data: Any, file: str, issues: Issues) -> list[tuple[int, dict[str, Any]]]:
    """(1-based index, feature) of a FeatureCollection, a Feature or a bare geometry."""
    if not isinstance(data, dict):
        issues.error(file, "expected a GeoJSON object")
        return []
    kind = data.get("type")
    if kind == "FeatureCollection":
        feats = data.get("features")
        if not isinstance(feats, list):
            issues.error(file, "FeatureCollection without a features array")
            return []
        out = []
        for i, f in enumerate(feats, start=1):
            if not isinstance(f, dict) or f.get("type") != "Feature":
                issues.error(file, "not a GeoJSON Feature", feature=i)
                continue
            out.append((i, f))
        return out
    if kind == "Feature":
        return [(1, data)]
    if kind in ("Polygon", "MultiPolygon"):
        return [(1, {"type": "Feature", "properties": {}, "geometry": data})]
    issues.error(file, f"expected a FeatureCollection, Feature or Polygon, not {kind!r}")
    return []


def _service_area(r: _Reader, file: str) -> ServiceArea | None:
    data = r.json(file)
    if data is None:
        return None
    polys: list[Any] = []
    for i, f in _features(data, file, r.issues):
        try:
            polys.extend(polygons_of(f.get("geometry")))
        except AreaError as exc:
            r.issues.error(file, str(exc), feature=i, field="geometry")
    if not polys:
        if not r.issues.errors:
            r.issues.error(file, "no polygon: the service area must be a Polygon or MultiPolygon")
        return None
    return ServiceArea(tuple(polys))


def _places(r: _Reader, file: str, area: ServiceArea | None) -> tuple[Place, ...]:
    rows = r.csv_rows(file, PLACE_COLUMNS)
    if rows is None:
        return ()
    out: list[Place] = []
    seen: set[str] = set()
    kinds = ", ".join(k.value for k in PlaceKind)
    for n, row in rows:
        field = "place_id"
        try:
            pid = row["place_id"]
            if not _ID.match(pid):
                raise ValueError(f"place_id {pid!r} must be letters, digits, '-', '_' or '.'")
            if pid in seen:
                raise ValueError(f"duplicate place_id {pid!r}")
            for field in ("name", "name_en"):
                if not row[field]:
                    raise ValueError("must not be empty")
            field = "kind"
            try:
                kind = PlaceKind(row["kind"])
            except ValueError:
                raise ValueError(f"{row['kind']!r} is not a place kind ({kinds})") from None
            field = "lat"
            lat = _float(row["lat"], -90, 90)
            field = "lon"
            lon = _float(row["lon"], -180, 180)
        except ValueError as exc:
            r.issues.error(file, str(exc), line=n, field=field)
            continue
        seen.add(pid)
        p = Place(pid, row["name"], row["name_en"], row["kana"], kind, LatLon(lat, lon), row.get("note", ""))
        if area is not None and not area.contains(p.point):
            r.issues.warn(file, f"place {pid} lies outside the service area", line=n, field="lat")
        out.append(p)
    return tuple(out)


def _zones(
    r: _Reader, file: str, resolution: int, places: dict[str, Place], area: ServiceArea | None
) -> tuple[Zone, ...]:
    data = r.json(file)
    if data is None:
        return ()
    out: list[Zone] = []
    seen: set[str] = set()
    kinds = ", ".join(k.value for k in ZoneKind)
    for i, f in _features(data, file, r.issues):
        props = f.get("properties") or {}
        if not isinstance(props, dict):
            r.issues.error(file, "properties must be an object", feature=i)
            continue
        ok = True
        zid = props.get("zone_id")
        bad = _id_problem(zid, seen, "zone_id")
        if bad:
            r.issues.error(file, bad, feature=i, field="zone_id")
            continue
        assert isinstance(zid, str)
        seen.add(zid)
        for key in ("name", "name_en"):
            if not isinstance(props.get(key), str) or not props[key]:
                r.issues.error(file, "required text property is missing", feature=i, field=key)
                ok = False
        try:
            kind = ZoneKind(str(props.get("kind")))
        except ValueError:
            r.issues.error(
                file, f"{props.get('kind')!r} is not a zone kind ({kinds})", feature=i, field="kind"
            )
            ok = False
        hubs_raw = props.get("hubs", [])
        hubs: list[str] = []
        if not isinstance(hubs_raw, list) or not all(isinstance(h, str) for h in hubs_raw):
            r.issues.error(file, "hubs must be a list of place ids", feature=i, field="hubs")
            ok = False
        else:
            for h in hubs_raw:
                if h not in places:
                    r.issues.error(file, f"hub {h!r} is not a place in places.csv", feature=i, field="hubs")
                    ok = False
                hubs.append(h)
        geometry = f.get("geometry")
        try:
            sz = ServiceZone.from_geojson(zid, str(props.get("name", zid)), geometry, resolution)
        except AreaError as exc:
            r.issues.error(file, str(exc), feature=i, field="geometry")
            continue
        except ValueError as exc:
            r.issues.error(file, str(exc), feature=i, field="geometry")
            continue
        if not ok:
            continue
        if hubs and kind is not ZoneKind.COMMUNITY:
            r.issues.warn(file, "hubs only matter for community zones", feature=i, field="hubs")
        if area is not None:
            ring = polygons_of(geometry)[0][0]
            if not any(area.contains(LatLon(lat, lon)) for lon, lat in ring):
                r.issues.warn(file, f"zone {zid} lies outside the service area", feature=i, field="geometry")
        out.append(
            Zone(sz, kind, str(props["name_en"]), tuple(hubs), json.dumps(geometry, separators=(",", ":")))
        )
    return tuple(out)


def _get(raw: dict[str, Any], key: str, conv: Callable[[Any], T]) -> T:
    if key not in raw:
        raise KeyError(key)
    return conv(raw[key])


def _str(v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise ValueError("must be non-empty text")
    return v


def _int(lo: int) -> Callable[[Any], int]:
    def conv(v: Any) -> int:
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise ValueError(f"must be an integer >= {lo}")
        return v

    return conv


def _companies(r: _Reader, file: str, zones: dict[str, Zone]) -> tuple[Company, ...]:
    loaded = r.toml(file)
    if loaded is None:
        return ()
    doc, lines = loaded
    raw_companies = doc.get("company", [])
    if not isinstance(raw_companies, list) or not raw_companies:
        r.issues.error(file, "at least one [[company]] is required", field="company")
        return ()
    heads: dict[str, dict[str, Any]] = {}
    vehicles: dict[str, list[Vehicle]] = {}
    seen_vehicles: set[str] = set()
    nested = 0
    entries: list[tuple[str | None, Any, str, int]] = []
    for i, c in enumerate(raw_companies):
        if not isinstance(c, dict):
            r.issues.error(file, "each [[company]] must be a table", field=f"company[{i}]")
            continue
        cid = c.get("company_id")
        line = lines.of("company", i, "company_id")
        bad = _id_problem(cid, heads, "company_id")
        if bad:
            r.issues.error(file, bad, line=line, field="company_id")
            continue
        assert isinstance(cid, str)
        heads[cid] = c
        vehicles[cid] = []
        for key in ("name", "name_en", "phone"):
            if not isinstance(c.get(key), str) or not c[key]:
                r.issues.error(
                    file,
                    "required text field is missing",
                    line=lines.of("company", i, key) or line,
                    field=key,
                )
        depot = c.get("depot")
        if not (
            isinstance(depot, dict)
            and isinstance(depot.get("name"), str)
            and all(isinstance(depot.get(k), int | float) for k in ("lat", "lon"))
        ):
            r.issues.error(
                file,
                "depot = { name, lat, lon } is required",
                line=lines.of("company", i, "depot") or line,
                field="depot",
            )
        for v in c.get("vehicle", []) if isinstance(c.get("vehicle"), list) else []:
            k = nested
            nested += 1
            entries.append((cid, v, "company.vehicle", k))
    top = doc.get("vehicle", [])
    for k, v in enumerate(top if isinstance(top, list) else []):
        cid = v.get("company_id") if isinstance(v, dict) else None
        entries.append((cid, v, "vehicle", k))
    for cid, v, table, k in entries:
        line = lines.of(table, k)

        def at(key: str, table: str = table, k: int = k) -> int | None:
            return lines.of(table, k, key)

        if not isinstance(v, dict):
            r.issues.error(file, "a vehicle must be a table", line=line)
            continue
        if not isinstance(cid, str) or cid not in heads:
            r.issues.error(
                file,
                f"unknown company {cid!r} (not a [[company]] in this file)",
                line=at("company_id") or line,
                field="company_id",
            )
            continue
        field = "vehicle_id"
        try:
            vid = _get(v, "vehicle_id", _str)
            if not _ID.match(vid):
                raise ValueError(f"vehicle_id {vid!r} must be letters, digits, '-', '_' or '.'")
            if vid in seen_vehicles:
                raise ValueError(f"duplicate vehicle_id {vid!r}")
            field = "kind"
            kind = VehicleKind(_get(v, "kind", str))
            field = "plate"
            plate = _get(v, "plate", _str)
            field = "seats"
            seats = _get(v, "seats", _int(1))
            field = "wheelchair_places"
            wc = int(v.get("wheelchair_places", 0)) if isinstance(v.get("wheelchair_places", 0), int) else -1
            if wc < 0:
                raise ValueError("must be an integer >= 0")
            field = "features"
            feats = v.get("features", [])
            if not isinstance(feats, list) or not all(isinstance(x, str) for x in feats):
                raise ValueError("must be a list of strings")
            field = "zone_id"
            zone_id = v.get("zone_id")
            if zone_id is not None:
                z = zones.get(zone_id) if isinstance(zone_id, str) else None
                if z is None:
                    raise ValueError(f"zone {zone_id!r} is not in the zones file")
                if z.kind is not ZoneKind.COMMUNITY:
                    raise ValueError(f"zone {zone_id!r} is a {z.kind.value} zone, not a community zone")
            field = "shift"
            default = parse_shift(v["shift"]) if "shift" in v else None
            field = "shifts"
            overrides: list[tuple[str, Shift | None]] = []
            raw_shifts = v.get("shifts", {})
            if not isinstance(raw_shifts, dict):
                raise ValueError('shifts = { mon = { start, end }, sat = "off", holiday = "off", ... }')
            for day, s in raw_shifts.items():
                if day not in (*WEEKDAYS, "holiday"):
                    raise ValueError(f"{day!r} is not mon..sun or holiday")
                overrides.append((day, None if s == "off" else parse_shift(s)))
        except KeyError as exc:
            r.issues.error(file, f"missing field {exc}", line=line, field=field)
            continue
        except ValueError as exc:
            r.issues.error(file, str(exc), line=at(field) or line, field=field)
            continue
        seen_vehicles.add(vid)
        worked = [s for _, s in overrides if s is not None]
        if default is None and not worked:
            r.issues.warn(
                file, f"vehicle {vid} has no shift: it will never be dispatched", line=line, field="shift"
            )
            continue
        base = default or worked[0]
        if default is None:  # only per-day shifts: the other days are off
            days = {d for d, _ in overrides}
            overrides += [(d, None) for d in WEEKDAYS if d not in days]
        vehicles[cid].append(
            Vehicle(vid, cid, kind, plate, seats, wc, base, frozenset(feats), zone_id, tuple(overrides))
        )
    out = []
    for cid, c in heads.items():
        depot = c.get("depot")
        if not isinstance(depot, dict):
            continue
        try:
            out.append(
                Company(
                    cid,
                    str(c.get("name", "")),
                    str(c.get("name_en", "")),
                    str(c.get("phone", "")),
                    str(depot.get("name", "")),
                    LatLon(float(depot["lat"]), float(depot["lon"])),
                    tuple(vehicles[cid]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # already reported above
    return tuple(out)


def _riders(r: _Reader, file: str) -> tuple[Rider, ...]:
    rows = r.csv_rows(file, RIDER_COLUMNS)
    if rows is None:
        return ()
    out: list[Rider] = []
    seen: set[str] = set()
    for n, row in rows:
        field = "rider_id"
        try:
            rid = row["rider_id"]
            if not _ID.match(rid) or rid in seen:
                raise ValueError(f"rider_id {rid!r} is empty, malformed or repeated")
            for field in ("name", "phone"):
                if not row[field]:
                    raise ValueError("must not be empty")
            field = "birth_year"
            birth = int(row["birth_year"])
            field = "home_lat"
            home = LatLon(_float(row["home_lat"], -90, 90), 0.0)
            field = "home_lon"
            home = LatLon(home.lat, _float(row["home_lon"], -180, 180))
            flags: dict[str, bool] = {}
            for field in (
                "wheelchair",
                "walker",
                "companion",
                "disability_certificate",
                "welfare_bus_pass",
                "consent_data_reuse",
            ):
                flags[field] = _bool(row[field])
        except ValueError as exc:
            r.issues.error(file, str(exc), line=n, field=field)
            continue
        seen.add(rid)
        out.append(
            Rider(
                rid,
                row["name"],
                row["kana"],
                row["phone"],
                home,
                row["district"],
                birth,
                MobilityNeeds(flags["wheelchair"], flags["walker"], flags["companion"]),
                flags["disability_certificate"],
                flags["welfare_bus_pass"],
                Consent(flags["consent_data_reuse"]),
                address=(row.get("address") or "").strip(),  # optional column: the run sheet shows it
            )
        )
    return tuple(out)


def _check_feed(root: Path, feed: FeedSource, places: tuple[Place, ...], issues: Issues) -> None:
    if is_url(feed.path):
        issues.warn("city.toml", f"feed {feed.feed_id} is a URL: not fetched by the check", field="gtfs.path")
        return
    from gtfs.loader import inspect_feed
    from gtfs.tables import FeedError

    rel = _rel(root.resolve(), Path(feed.path))
    try:
        loaded = inspect_feed(feed.path, feed.feed_id)
    except FeedError as exc:
        issues.error(rel, str(exc))
        return
    except Exception as exc:  # a broken feed must be one more issue, never a traceback
        issues.error(rel, f"cannot read this feed: {exc}")
        return
    for i in loaded.issues:
        sev = i.severity.value
        where = f"{rel}/{i.file}" if i.file else rel
        if sev == "error":
            issues.error(where, i.message, line=i.line, field=i.field or None)
        else:
            issues.warn(where, i.message, line=i.line, field=i.field or None)
    if not places:
        return
    far = [
        s
        for s in loaded.stops.values()
        if s.location_type == 0
        and min(haversine_m(LatLon(s.lat, s.lon), p.point) for p in places) > STOP_FAR_FROM_PLACES_M
    ]
    for s in far[:MAX_STOP_WARNINGS]:
        issues.warn(
            f"{rel}/stops.txt",
            f"stop {s.stop_id} ({s.name}) is more than {STOP_FAR_FROM_PLACES_M / 1000:g} km from every place",
        )
    if len(far) > MAX_STOP_WARNINGS:
        issues.warn(
            f"{rel}/stops.txt", f"... and {len(far) - MAX_STOP_WARNINGS} more stops far from every place"
        )
