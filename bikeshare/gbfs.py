"""GBFS parsing and loading from files or URLs (fetch -> parse -> map -> snapshot).

Versions: v1 (``data.<lang>.feeds``, integer booleans), v2.x (``version``, ``num_bikes_available``),
v3 (``data.feeds``, ``num_vehicles_available``, localised names, RFC 3339 ``last_reported``).
A document whose structure is wrong raises ``GbfsError`` naming the file and the field; a single bad
station (a latitude of 95, a NaN, a negative count, a pricing plan costing Infinity) is skipped and
counted in ``problems``, so it degrades that station only. No other exception leaves this module for
any input (fuzzed in ``benchmarks/fuzz.py``); ``GbfsPoller.poll`` never raises at all.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

log = logging.getLogger("noriai.bikeshare")

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # Tokyo's docomo station_information is 0.5 MB
MAX_TTL_S = 24 * 3600


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


def _finite(v: Any) -> float:
    """A finite float (JSON allows NaN and Infinity through Python's parser); ValueError otherwise."""
    if isinstance(v, bool):
        raise ValueError(f"expected a number, got {v!r}")
    x = float(v)
    if not math.isfinite(x):
        raise ValueError(f"expected a finite number, got {v!r}")
    return x


def _count(v: Any) -> int:
    """A non-negative whole number (counts of bikes, docks, capacity)."""
    if isinstance(v, bool):
        raise ValueError(f"expected a count, got {v!r}")
    x = _finite(v)
    if x < 0 or x != int(x):
        raise ValueError(f"expected a count, got {v!r}")
    return int(x)


def _coordinates(lat: Any, lon: Any) -> tuple[float, float]:
    y, x = _finite(lat), _finite(lon)
    if not (-90.0 <= y <= 90.0 and -180.0 <= x <= 180.0) or (y == 0.0 and x == 0.0):
        raise ValueError(f"coordinates out of range: {y}, {x}")
    return y, x


# What a bad station's fields can raise while being read; the station is skipped and counted.
_BAD_ENTRY = (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError, GbfsError)


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
    if isinstance(v, int | float) and math.isfinite(v) and 0 <= v < 2**40:
        return int(v)
    if isinstance(v, str):  # v3: RFC 3339
        try:
            return int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp())
        except (ValueError, OverflowError, OSError):
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
            lat, lon = _coordinates(s["lat"], s["lon"])
        except _BAD_ENTRY:
            problems[
                "station_information_bad_coordinates" if _has_id(s) else "station_information_bad_station"
            ] += 1
            continue
        try:
            out[sid] = Station(
                sid,
                _text(s.get("name")),
                lat,
                lon,
                _count(s["capacity"]) if s.get("capacity") is not None else None,
                _names(s.get("name")),
            )
        except _BAD_ENTRY:
            problems["station_information_bad_station"] += 1
    return out, problems


def _has_id(s: Any) -> bool:
    return isinstance(s, dict) and "station_id" in s


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
                _count(bikes),
                _count(s["num_docks_available"]) if s.get("num_docks_available") is not None else None,
                _bool(s.get("is_installed", True), f"{where}.is_installed"),
                _bool(s.get("is_renting", True), f"{where}.is_renting"),
                _bool(s.get("is_returning", True), f"{where}.is_returning"),
                _time(s.get("last_reported"), f"{where}.last_reported"),
            )
        except _BAD_ENTRY:
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
            lat, lon = _coordinates(b["lat"], b["lon"])
            out.append(
                FreeBike(
                    str(b.get("bike_id", b.get("vehicle_id"))),
                    lat,
                    lon,
                    _bool(b.get("is_reserved", False), f"{where}.is_reserved"),
                    _bool(b.get("is_disabled", False), f"{where}.is_disabled"),
                    str(b["station_id"]) if b.get("station_id") else None,
                )
            )
        except _BAD_ENTRY:
            problems["free_bike_bad_entry"] += 1
    return out, problems


def parse_pricing_plans(
    doc: Any, source: str = "system_pricing_plans.json"
) -> tuple[list[PricingPlan], Counter[str]]:
    """Plans with finite, non-negative prices; a bad plan is skipped and counted (``pricing_plan_bad``)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        raise GbfsError(f"{source}: missing field data")
    plans = doc["data"].get("plans")
    if not isinstance(plans, list):
        raise GbfsError(f"{source}: missing field data.plans")
    out: list[PricingPlan] = []
    problems: Counter[str] = Counter()
    for p in plans:
        try:
            segs = tuple(
                PriceSegment(
                    _count(x["start"]),
                    _price(x["rate"]),
                    max(1, _count(x["interval"])),
                    _count(x["end"]) if x.get("end") is not None else None,
                )
                for x in p.get("per_min_pricing") or ()
            )
            out.append(
                PricingPlan(
                    str(p["plan_id"]),
                    _text(p.get("name")),
                    str(p["currency"]),
                    _price(p["price"]),
                    segs,
                    _text(p.get("description")),
                )
            )
        except _BAD_ENTRY:
            problems["pricing_plan_bad"] += 1
    return out, problems


MAX_PRICE = 1_000_000.0  # in the plan's currency: more than this for one ride is a broken feed


def _price(v: Any) -> float:
    x = _finite(v)
    if not 0 <= x <= MAX_PRICE:
        raise ValueError(f"price out of range: {v!r}")
    return x


Reader = Callable[[str], bytes]


def _json(read: Reader, ref: str) -> Any:
    try:
        raw = read(ref)
    except GbfsError:
        raise
    except (OSError, ValueError, httpx.HTTPError, httpx.InvalidURL, httpx.CookieConflict) as exc:
        raise GbfsError(f"{ref}: cannot fetch: {_one_line(exc)}") from None
    return parse_json(raw, ref)


def parse_json(raw: bytes, source: str) -> Any:
    """A GBFS document's JSON; ``GbfsError`` for bytes that are not JSON, too large or nested so deeply
    that the parser would exhaust the stack (which killed the poller thread before)."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise GbfsError(f"{source}: larger than {MAX_DOCUMENT_BYTES // 1024 // 1024} MiB")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except RecursionError:
        raise GbfsError(f"{source}: not valid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer over 4300 digits
        raise GbfsError(f"{source}: not valid JSON: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    return text


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
        if isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("url"), str):
            out[f["name"]] = f["url"]
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
            with client.stream("GET", ref) as r:
                r.raise_for_status()
                body = bytearray()
                for chunk in r.iter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise GbfsError(f"{ref}: larger than {MAX_DOCUMENT_BYTES // 1024 // 1024} MiB")
                return bytes(body)

        root = _json(read, src)
        try:
            urls = {k: urljoin(src, v) for k, v in _discover(root, src).items()}
        except ValueError as exc:  # urljoin: e.g. an invalid IPv6 host
            raise GbfsError(f"{src}: a feed URL is not a URL: {_one_line(exc)}") from None
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
    sysinfo: Any = _json(read, urls["system_information"]) if "system_information" in urls else {}
    sysinfo = sysinfo.get("data") if isinstance(sysinfo, dict) else None
    sysinfo = sysinfo if isinstance(sysinfo, dict) else {}
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
        plans, p4 = parse_pricing_plans(
            _json(read, urls["system_pricing_plans"]), urls["system_pricing_plans"]
        )
        problems += p4
    unknown = set(status) - set(stations)
    if unknown:
        problems["status_for_unknown_station"] += len(unknown)
    version = str(
        status_doc.get("version") or info_doc.get("version") or (root.get("version") if root else "") or "1.0"
    )
    ttl = status_doc.get("ttl", 60)
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 <= ttl <= MAX_TTL_S:
        problems["bad_ttl"] += 1
        ttl = 60
    return BikeShareSystem(
        system_id=str(sysinfo.get("system_id") or Path(src).name),
        name=_text(sysinfo.get("name")) or Path(src).name,
        version=version,
        ttl_s=int(ttl),
        last_updated_unix=_time(status_doc.get("last_updated"), f"{urls['station_status']}: last_updated"),
        stations=stations,
        status=status,
        problems=dict(problems),
        free_bikes=tuple(free),
        pricing_plans=tuple(plans),
    )


class GbfsPoller:
    """Re-loads a GBFS system no more often than its own ``ttl`` says; a failed poll keeps the last good
    system, reports the error and backs off (30 s, doubling to ``MAX_BACKOFF_S``). ``poll`` never raises,
    so the thread that runs it (the app's ``gbfs-poller`` job, ``noriai.jobs``) survives any feed;
    ``health`` is its state for ``/health``."""

    FIRST_BACKOFF_S = 30.0
    MAX_BACKOFF_S = 600.0

    def __init__(
        self,
        url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self._transport = transport
        self._clock = clock or time.monotonic
        self._timeout_s = timeout_s
        self._next_at = 0.0
        self.system: BikeShareSystem | None = None
        self.last_error: str | None = None
        self.failures = 0  # consecutive failed polls
        self.last_ok_at: float | None = None  # clock time of the last good poll
        self.polls = 0

    def poll(self) -> bool:
        """True when a new system was loaded; False when too soon or failed (see ``last_error``)."""
        now = self._clock()
        if now < self._next_at:
            return False
        self.polls += 1
        try:
            system = load_system(self.url, transport=self._transport, timeout_s=self._timeout_s)
        except GbfsError as exc:
            self._failed(now, str(exc))
            return False
        except Exception as exc:  # a bug of ours on some input: keep polling, say so once per streak
            if self.failures == 0:
                log.exception("GBFS poll of %s failed unexpectedly", self.url)
            self._failed(now, f"internal error: {type(exc).__name__}")
            return False
        self.system = system
        self.last_error = None
        self.failures = 0
        self.last_ok_at = now
        self._next_at = now + max(1, system.ttl_s)
        return True

    def _failed(self, now: float, error: str) -> None:
        self.last_error = error[:500]
        self.failures += 1
        backoff = min(self.MAX_BACKOFF_S, self.FIRST_BACKOFF_S * 2 ** min(self.failures - 1, 10))
        self._next_at = now + backoff  # back off; never hammer a failing feed
        if self.failures in (1, 5) or self.failures % 20 == 0:
            log.warning("GBFS poll of %s failed (%d in a row): %s", self.url, self.failures, self.last_error)

    def health(self) -> dict[str, Any]:
        """``ok`` (last poll good), ``failing`` (serving the last good system, if any, while it backs
        off), ``stale`` (failing and the last good system is older than three ttls) or ``never``."""
        now = self._clock()
        age = None if self.last_ok_at is None else now - self.last_ok_at
        if self.system is None:
            state = "never" if self.failures == 0 else "failing"
        elif self.failures == 0:
            state = "ok"
        else:
            assert age is not None
            state = "stale" if age > 3 * max(self.system.ttl_s, 60) else "failing"
        return {
            "url": self.url,
            "state": state,
            "last_ok_age_s": None if age is None else int(age),
            "consecutive_failures": self.failures,
            "last_error": self.last_error,
            "next_poll_in_s": max(0, int(self._next_at - now)),
            "stations": len(self.system.stations) if self.system else 0,
            "problems": dict(self.system.problems) if self.system else {},
        }
