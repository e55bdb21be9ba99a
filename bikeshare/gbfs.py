"""GBFS parsing and loading from files or URLs (fetch -> parse -> map -> snapshot).

Versions: v1 (``data.<lang>.feeds``, integer booleans), v2.x (``version``, ``num_bikes_available``),
v3 (``data.feeds``, ``num_vehicles_available``, localised names, RFC 3339 ``last_reported``).
A document whose structure is wrong raises ``GbfsError`` naming the file and the field; a single bad
station is skipped and counted in ``problems``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx


class GbfsError(ValueError):
    """A GBFS document cannot be used; the message names the source and field."""


@dataclass(frozen=True, slots=True)
class Station:
    station_id: str
    name: str
    lat: float
    lon: float
    capacity: int | None = None
    names: Mapping[str, str] = field(default_factory=dict)  # language -> name (GBFS v3)

    def name_in(self, lang: str) -> str:
        return self.names.get(lang, self.name)


@dataclass(frozen=True, slots=True)
class StationStatus:
    station_id: str
    bikes_available: int
    docks_available: int | None
    is_installed: bool
    is_renting: bool
    is_returning: bool
    last_reported_unix: int | None


@dataclass(frozen=True, slots=True)
class FreeBike:
    """A dockless vehicle (v2 ``free_bike_status`` / v3 ``vehicle_status``)."""

    bike_id: str
    lat: float
    lon: float
    is_reserved: bool
    is_disabled: bool
    station_id: str | None = None


@dataclass(frozen=True, slots=True)
class PriceSegment:
    """GBFS ``per_min_pricing``: ``rate`` is charged once per started ``interval_min`` from
    ``start_min`` until ``end_min`` (open-ended when None)."""

    start_min: int
    rate: float
    interval_min: int
    end_min: int | None = None


@dataclass(frozen=True, slots=True)
class PricingPlan:
    plan_id: str
    name: str
    currency: str
    price: float
    per_min: tuple[PriceSegment, ...] = ()
    description: str = ""

    def ride_price(self, ride_s: int) -> float:
        """What one ride of ``ride_s`` seconds costs under this plan (in the plan's currency)."""
        minutes = ride_s / 60
        total = self.price
        for seg in self.per_min:
            stop = minutes if seg.end_min is None else min(minutes, seg.end_min)
            if stop > seg.start_min:
                total += math.ceil((stop - seg.start_min) / seg.interval_min) * seg.rate
        return total


@dataclass(frozen=True)
class BikeShareSystem:
    system_id: str
    name: str
    version: str
    ttl_s: int
    last_updated_unix: int | None
    stations: Mapping[str, Station]
    status: Mapping[str, StationStatus]
    problems: Mapping[str, int] = field(default_factory=dict)
    free_bikes: tuple[FreeBike, ...] = ()
    pricing_plans: tuple[PricingPlan, ...] = ()

    def can_rent(self, station_id: str) -> bool:
        s = self.status.get(station_id)
        return s is not None and s.is_installed and s.is_renting and s.bikes_available > 0

    def can_return(self, station_id: str) -> bool:
        s = self.status.get(station_id)
        return s is not None and s.is_installed and s.is_returning and (s.docks_available or 0) > 0

    def age_s(self, station_id: str, now_unix: float) -> float | None:
        """How old the station's report is (seconds), from ``last_reported`` or the feed's timestamp."""
        s = self.status.get(station_id)
        reported = (s.last_reported_unix if s else None) or self.last_updated_unix
        return None if reported is None else max(0.0, now_unix - reported)


def _bool(v: Any, where: str) -> bool:
    if isinstance(v, bool):
        return v
    if v in (0, 1):  # GBFS v1 feeds use integer booleans
        return bool(v)
    raise GbfsError(f"{where}: expected a boolean, got {v!r}")


def _time(v: Any, where: str) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool):
        raise GbfsError(f"{where}: expected a timestamp, got {v!r}")
    if isinstance(v, int | float):
        return int(v)
    if isinstance(v, str):  # v3: RFC 3339
        try:
            return int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp())
        except ValueError:
            pass
    raise GbfsError(f"{where}: expected a POSIX or RFC 3339 timestamp, got {v!r}")


def _text(v: Any) -> str:
    if isinstance(v, list):  # v3 localised strings: [{"text": ..., "language": ...}]
        for item in v:
            if isinstance(item, dict) and "text" in item:
                return str(item["text"])
        return ""
    return "" if v is None else str(v)


def _names(v: Any) -> dict[str, str]:
    if isinstance(v, list):
        return {
            str(i["language"]): str(i["text"])
            for i in v
            if isinstance(i, dict) and "text" in i and "language" in i
        }
    return {}


def _stations_list(doc: Any, source: str) -> list[Any]:
    if not isinstance(doc, dict):
        raise GbfsError(f"{source}: expected a JSON object at the top level")
    data = doc.get("data")
    if not isinstance(data, dict):
        raise GbfsError(f"{source}: missing field data")
    stations = data.get("stations")
    if not isinstance(stations, list):
        raise GbfsError(f"{source}: missing field data.stations")
    return stations


def parse_station_information(
    doc: Any, source: str = "station_information.json"
) -> tuple[dict[str, Station], Counter[str]]:
    problems: Counter[str] = Counter()
    out: dict[str, Station] = {}
    for s in _stations_list(doc, source):
        try:
            sid = str(s["station_id"])
            out[sid] = Station(
                sid,
                _text(s.get("name")),
                float(s["lat"]),
                float(s["lon"]),
                int(s["capacity"]) if s.get("capacity") is not None else None,
                _names(s.get("name")),
            )
        except (KeyError, TypeError, ValueError):
            problems["station_information_bad_station"] += 1
    return out, problems


def parse_station_status(
    doc: Any, source: str = "station_status.json"
) -> tuple[dict[str, StationStatus], Counter[str]]:
    problems: Counter[str] = Counter()
    out: dict[str, StationStatus] = {}
    for i, s in enumerate(_stations_list(doc, source)):
        where = f"{source}: data.stations[{i}]"
        try:
            sid = str(s["station_id"])
            bikes = s.get("num_bikes_available", s.get("num_vehicles_available"))
            if bikes is None:
                raise KeyError("num_bikes_available")
            out[sid] = StationStatus(
                sid,
                int(bikes),
                int(s["num_docks_available"]) if s.get("num_docks_available") is not None else None,
                _bool(s.get("is_installed", True), f"{where}.is_installed"),
                _bool(s.get("is_renting", True), f"{where}.is_renting"),
                _bool(s.get("is_returning", True), f"{where}.is_returning"),
                _time(s.get("last_reported"), f"{where}.last_reported"),
            )
        except (KeyError, TypeError, ValueError):
            problems["station_status_bad_station"] += 1
    return out, problems


def parse_free_bikes(doc: Any, source: str = "free_bike_status.json") -> tuple[list[FreeBike], Counter[str]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        raise GbfsError(f"{source}: missing field data")
    items = doc["data"].get("bikes", doc["data"].get("vehicles"))
    if not isinstance(items, list):
        raise GbfsError(f"{source}: missing field data.bikes (or data.vehicles)")
    out: list[FreeBike] = []
    problems: Counter[str] = Counter()
    for i, b in enumerate(items):
        where = f"{source}: data.bikes[{i}]"
        try:
            if b.get("lat") is None and b.get("station_id"):
                continue  # docked at a station: counted by station_status already
            out.append(
                FreeBike(
                    str(b.get("bike_id", b.get("vehicle_id"))),
                    float(b["lat"]),
                    float(b["lon"]),
                    _bool(b.get("is_reserved", False), f"{where}.is_reserved"),
                    _bool(b.get("is_disabled", False), f"{where}.is_disabled"),
                    str(b["station_id"]) if b.get("station_id") else None,
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            problems["free_bike_bad_entry"] += 1
    return out, problems


def parse_pricing_plans(doc: Any, source: str = "system_pricing_plans.json") -> list[PricingPlan]:
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        raise GbfsError(f"{source}: missing field data")
    plans = doc["data"].get("plans")
    if not isinstance(plans, list):
        raise GbfsError(f"{source}: missing field data.plans")
    out: list[PricingPlan] = []
    for i, p in enumerate(plans):
        where = f"{source}: data.plans[{i}]"
        try:
            segs = tuple(
                PriceSegment(
                    int(x["start"]),
                    float(x["rate"]),
                    max(1, int(x["interval"])),
                    int(x["end"]) if x.get("end") is not None else None,
                )
                for x in p.get("per_min_pricing") or ()
            )
            out.append(
                PricingPlan(
                    str(p["plan_id"]),
                    _text(p.get("name")),
                    str(p["currency"]),
                    float(p["price"]),
                    segs,
                    _text(p.get("description")),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise GbfsError(f"{where}: bad or missing field {exc}") from None
    return out


Reader = Callable[[str], bytes]


def _json(read: Reader, ref: str) -> Any:
    try:
        raw = read(ref)
    except (OSError, httpx.HTTPError) as exc:
        raise GbfsError(f"{ref}: cannot fetch: {exc}") from None
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GbfsError(f"{ref}: not valid JSON: {exc}") from None


def _discover(doc: Any, source: str) -> dict[str, str]:
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        raise GbfsError(f"{source}: missing field data")
    data = doc["data"]
    feeds = data.get("feeds")  # v3
    if feeds is None:  # v1/v2: one list per language; take the first language
        langs = [v for v in data.values() if isinstance(v, dict) and "feeds" in v]
        if not langs:
            raise GbfsError(f"{source}: missing field data.feeds (or data.<language>.feeds)")
        feeds = langs[0]["feeds"]
    if not isinstance(feeds, list):
        raise GbfsError(f"{source}: data.feeds must be a list")
    out = {}
    for f in feeds:
        if isinstance(f, dict) and "name" in f and "url" in f:
            out[str(f["name"])] = str(f["url"])
    return out


def load_system(
    source: str | Path,
    *,
    transport: httpx.BaseTransport | None = None,
    status_file: str | None = None,
    timeout_s: float = 5.0,
) -> BikeShareSystem:
    """Load a GBFS system from a folder of JSON files or from a ``gbfs.json`` URL.

    In a folder, discovery URLs are resolved by feed name (``<name>.json`` beside ``gbfs.json``), since
    saved feeds keep URLs that point elsewhere; without ``gbfs.json`` the standard file names are used.
    ``status_file`` picks one of several saved status snapshots.
    """
    src = str(source)
    if src.startswith(("http://", "https://")):
        client = httpx.Client(transport=transport, timeout=timeout_s, follow_redirects=True)

        def read(ref: str) -> bytes:
            r = client.get(ref)
            r.raise_for_status()
            return r.content

        root = _json(read, src)
        urls = {k: urljoin(src, v) for k, v in _discover(root, src).items()}
    else:
        folder = Path(src)
        if folder.is_file():
            folder = folder.parent
        if not folder.is_dir():
            raise GbfsError(f"{src}: no such GBFS folder or file")

        def read(ref: str) -> bytes:
            return Path(ref).read_bytes()

        root = _json(read, str(folder / "gbfs.json")) if (folder / "gbfs.json").exists() else {}
        names = set(_discover(root, str(folder / "gbfs.json"))) if root else set()
        names |= {
            "system_information",
            "station_information",
            "station_status",
            "free_bike_status",
            "vehicle_status",
            "system_pricing_plans",
        }
        urls = {n: str(folder / f"{n}.json") for n in names if (folder / f"{n}.json").exists()}
        if status_file:
            urls["station_status"] = str(folder / status_file)
        elif "station_status" not in urls:
            snaps = sorted(folder.glob("station_status*.json"))
            if snaps:
                urls["station_status"] = str(snaps[-1])
    for needed in ("station_information", "station_status"):
        if needed not in urls:
            raise GbfsError(f"{src}: no {needed} feed found")
    info_doc = _json(read, urls["station_information"])
    status_doc = _json(read, urls["station_status"])
    stations, p1 = parse_station_information(info_doc, urls["station_information"])
    status, p2 = parse_station_status(status_doc, urls["station_status"])
    sysinfo = _json(read, urls["system_information"]).get("data", {}) if "system_information" in urls else {}
    problems = p1 + p2
    free: list[FreeBike] = []
    free_key = (
        "free_bike_status"
        if "free_bike_status" in urls
        else "vehicle_status"
        if "vehicle_status" in urls
        else None
    )
    if free_key:
        free, p3 = parse_free_bikes(_json(read, urls[free_key]), urls[free_key])
        problems += p3
    plans: list[PricingPlan] = []
    if "system_pricing_plans" in urls:
        plans = parse_pricing_plans(_json(read, urls["system_pricing_plans"]), urls["system_pricing_plans"])
    unknown = set(status) - set(stations)
    if unknown:
        problems["status_for_unknown_station"] += len(unknown)
    version = str(
        status_doc.get("version") or info_doc.get("version") or (root.get("version") if root else "") or "1.0"
    )
    return BikeShareSystem(
        system_id=str(sysinfo.get("system_id") or Path(src).name),
        name=_text(sysinfo.get("name")) or Path(src).name,
        version=version,
        ttl_s=int(status_doc.get("ttl", 60)),
        last_updated_unix=_time(status_doc.get("last_updated"), f"{urls['station_status']}: last_updated"),
        stations=stations,
        status=status,
        problems=dict(problems),
        free_bikes=tuple(free),
        pricing_plans=tuple(plans),
    )


class GbfsPoller:
    """Re-loads a GBFS system no more often than its own ``ttl`` says, through ``Fetcher``-style
    conditional requests; a failed poll keeps the last good system and reports the error."""

    def __init__(
        self,
        url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        import time

        self.url = url
        self._transport = transport
        self._clock = clock or time.monotonic
        self._timeout_s = timeout_s
        self._next_at = 0.0
        self.system: BikeShareSystem | None = None
        self.last_error: str | None = None

    def poll(self) -> bool:
        """True when a new system was loaded; False when too soon or failed (see ``last_error``)."""
        now = self._clock()
        if now < self._next_at:
            return False
        try:
            system = load_system(self.url, transport=self._transport, timeout_s=self._timeout_s)
        except GbfsError as exc:
            self.last_error = str(exc)
            self._next_at = now + 30  # back off; never hammer a failing feed
            return False
        self.system = system
        self.last_error = None
        self._next_at = now + max(1, system.ttl_s)
        return True
