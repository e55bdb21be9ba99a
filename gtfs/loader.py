"""Load a GTFS / GTFS-JP feed (zip or folder) into our own types, collecting problems as values.

Copes with the quirks of real feeds (see ../shared/README.md): byte-order marks, stop_ids with spaces,
no parent stations, vendor files (``*_mobustation.txt``), ``trips_jp.txt`` without trip_id, three
``translations.txt`` layouts, and trailing full-width spaces in names. Every problem becomes a
``FeedIssue`` naming file, line (the header is line 1) and field; ``load_feed`` raises ``FeedError``
only when the feed cannot be used at all (missing required file or column, unreadable archive,
or any error-level issue), with the first error in the message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gtfs.calendar import ServiceCalendar
from gtfs.model import Agency, FeedIssue, Route, ServicePattern, Severity, Stop, Trip
from gtfs.tables import DEFAULT_BUDGET, FeedError, SizeBudget, check_budget, read_bytes, read_table
from gtfs.times import parse_date, parse_time

REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
REQUIRED_COLUMNS = {
    "agency.txt": ("agency_name", "agency_timezone"),
    "stops.txt": ("stop_id",),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "stop_id", "stop_sequence"),
    "calendar.txt": (
        "service_id",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "start_date",
        "end_date",
    ),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
}
# GTFS-Flex: a stop time names a stop, a zone (locations.geojson) or a location group
ALTERNATIVE_COLUMNS = {("stop_times.txt", "stop_id"): ("location_id", "location_group_id")}
KNOWN_FILES = {
    "agency.txt",
    "stops.txt",
    "routes.txt",
    "trips.txt",
    "stop_times.txt",
    "calendar.txt",
    "calendar_dates.txt",
    "fare_attributes.txt",
    "fare_rules.txt",
    "shapes.txt",
    "frequencies.txt",
    "transfers.txt",
    "pathways.txt",
    "levels.txt",
    "feed_info.txt",
    "translations.txt",
    "attributions.txt",
    "timeframes.txt",
    "fare_media.txt",
    "fare_products.txt",
    "fare_leg_rules.txt",
    "fare_transfer_rules.txt",
    "areas.txt",
    "stop_areas.txt",
    "networks.txt",
    "route_networks.txt",
    "location_groups.txt",
    "location_group_stops.txt",
    "booking_rules.txt",
    "locations.geojson",
    # GTFS-JP extras
    "agency_jp.txt",
    "office_jp.txt",
    "routes_jp.txt",
    "trips_jp.txt",
    "pattern_jp.txt",
}
JP_EXTRAS = ("agency_jp.txt", "office_jp.txt", "routes_jp.txt", "trips_jp.txt", "pattern_jp.txt")


def clean(text: str) -> str:
    """Trim ASCII and full-width (U+3000) spaces that real feeds leave around names."""
    return text.strip().strip("\u3000").strip()


@dataclass
class Feed:
    feed_id: str
    path: Path
    agencies: dict[str, Agency]
    stops: dict[str, Stop]
    routes: dict[str, Route]
    trips: dict[str, Trip]
    calendar: ServiceCalendar
    # stop_times, columnar and sorted by (trip, stop_sequence): the hot path never sees dicts
    st_trip: npt.NDArray[np.int32]
    st_stop: npt.NDArray[np.int32]
    st_arrival: npt.NDArray[np.int32]
    st_departure: npt.NDArray[np.int32]
    st_sequence: npt.NDArray[np.int32]
    trip_ids: list[str]  # index -> feed-scoped trip_id
    stop_ids: list[str]  # index -> feed-scoped stop_id
    translations: dict[str, dict[str, str]] = field(default_factory=dict)  # text or id -> lang -> text
    extras: dict[str, list[dict[str, str]]] = field(
        default_factory=dict
    )  # GTFS-JP extra tables (vendor files are ignored)
    issues: list[FeedIssue] = field(default_factory=list)

    def scoped(self, local_id: str) -> str:
        return f"{self.feed_id}:{local_id}"

    def errors(self) -> list[FeedIssue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    def warnings(self) -> list[FeedIssue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    def trip_range(self, trip_index: int) -> tuple[int, int]:
        """Rows [start, end) of one trip in the columnar stop-time arrays."""
        lo = int(np.searchsorted(self.st_trip, trip_index, side="left"))
        hi = int(np.searchsorted(self.st_trip, trip_index, side="right"))
        return lo, hi

    def trips_on(self, day: date) -> list[str]:
        active = self.calendar.active(day)
        return [t.trip_id for t in self.trips.values() if t.service_id in active]


class _Collector:
    def __init__(self, path: Path, budget: SizeBudget) -> None:
        self.path, self.budget = path, budget
        self.issues: list[FeedIssue] = []

    def table(self, name: str) -> Iterator[tuple[int, dict[str, str]]]:
        """The rows of one table; a row that cannot be read (corrupt zip data, bad CSV, not UTF-8) ends
        the table with one error naming its line, and the rows before it stand."""
        try:
            yield from read_table(self.path, name, self.budget)
        except FeedError as exc:
            self.error(exc.file or name, exc.line, None, exc.reason or str(exc))

    def error(self, file: str, line: int | None, fld: str | None, msg: str) -> None:
        self.issues.append(FeedIssue(Severity.ERROR, file, line, fld, msg))

    def warn(self, file: str, line: int | None, fld: str | None, msg: str) -> None:
        self.issues.append(FeedIssue(Severity.WARNING, file, line, fld, msg))


def _rows(name: str, out: _Collector) -> Iterator[tuple[int, dict[str, str]]]:
    first = True
    for line, row in out.table(name):
        if first:
            first = False
            missing = [
                c
                for c in REQUIRED_COLUMNS.get(name, ())
                if c not in row and not any(a in row for a in ALTERNATIVE_COLUMNS.get((name, c), ()))
            ]
            if missing:
                out.error(name, 1, missing[0], f"required column {missing[0]} is missing")
                return
        yield line, row


def _float(row: dict[str, str], key: str) -> float:
    return float(row.get(key) or "nan")


def _int(text: str) -> int | None:
    """An integer field, or None; ``str.isdigit`` is not enough ("²" is a digit that ``int`` refuses)."""
    t = text.strip()
    if not t or len(t) > 18 or not t.lstrip("-").isascii():
        return None
    try:
        return int(t)
    except ValueError:
        return None


MAX_STOP_SEQUENCE = 2**31 - 1


def _load(path: Path, feed_id: str, budget: SizeBudget) -> Feed:
    if not path.exists():
        raise FeedError(f"{path}: feed not found")
    files = set(check_budget(path, budget))
    out = _Collector(path, budget)
    for name in REQUIRED_FILES:
        # GTFS-Flex: stops.txt is optional when zones are given in locations.geojson
        if name not in files and not (name == "stops.txt" and "locations.geojson" in files):
            out.error(name, None, None, "required file is missing")
    if "calendar.txt" not in files and "calendar_dates.txt" not in files:
        out.error("calendar.txt", None, None, "neither calendar.txt nor calendar_dates.txt is present")
    for name in sorted(files - KNOWN_FILES):
        if name.endswith(".txt"):
            out.warn(name, None, None, "file not in GTFS or GTFS-JP (a vendor file): ignored")
    if out.issues and any(i.severity is Severity.ERROR for i in out.issues):
        return _empty(feed_id, path, out)

    def sid(x: str) -> str:
        return f"{feed_id}:{x}"

    agencies: dict[str, Agency] = {}
    for line, r in _rows("agency.txt", out):
        aid = r.get("agency_id", "") or "default"
        agencies[aid] = Agency(
            aid,
            clean(r.get("agency_name", "")),
            r.get("agency_timezone", ""),
            r.get("agency_url", ""),
            r.get("agency_phone", ""),
        )
        if (
            r.get("agency_timezone")
            and r["agency_timezone"] not in ("Asia/Tokyo",)
            and "/" not in r["agency_timezone"]
        ):
            out.error(
                "agency.txt", line, "agency_timezone", f"not a tz database name: {r['agency_timezone']!r}"
            )

    translations = _translations(files, out)
    stops: dict[str, Stop] = {}
    for line, r in _rows("stops.txt", out) if "stops.txt" in files else ():
        raw_id = r["stop_id"]
        loc_type = _int(r.get("location_type", "")) or 0
        try:
            lat, lon = _float(r, "stop_lat"), _float(r, "stop_lon")
        except ValueError:
            out.error(
                "stops.txt",
                line,
                "stop_lat",
                f"coordinates are not numbers: {r.get('stop_lat')!r}, {r.get('stop_lon')!r}",
            )
            continue
        if loc_type in (0, 1, 2) and not (-90 <= lat <= 90 and -180 <= lon <= 180):
            out.error("stops.txt", line, "stop_lat", f"coordinates out of range or missing: {lat}, {lon}")
            continue
        if loc_type in (0, 1, 2) and lat == 0 and lon == 0:
            out.error("stops.txt", line, "stop_lat", "coordinates are 0,0")
            continue
        if raw_id in stops:
            out.error("stops.txt", line, "stop_id", f"duplicate stop_id {raw_id!r}")
        name = clean(r.get("stop_name", ""))
        names = dict(translations.get(f"stops:stop_name:{raw_id}", {}) or translations.get(name, {}))
        stops[sid(raw_id)] = Stop(
            sid(raw_id),
            name,
            lat,
            lon,
            r.get("zone_id", ""),
            sid(r["parent_station"]) if r.get("parent_station") else "",
            loc_type,
            names,
        )
    routes: dict[str, Route] = {}
    for line, r in _rows("routes.txt", out):
        rt = r.get("route_type", "")
        route_type = _int(rt)
        if route_type is None:
            out.error("routes.txt", line, "route_type", f"not an integer: {rt!r}")
            continue
        aid = r.get("agency_id", "") or next(iter(agencies), "default")
        if len(agencies) > 1 and aid not in agencies:
            out.error("routes.txt", line, "agency_id", f"unknown agency_id {aid!r}")
        routes[sid(r["route_id"])] = Route(
            sid(r["route_id"]),
            aid,
            clean(r.get("route_short_name", "")),
            clean(r.get("route_long_name", "")),
            route_type,
        )
    calendar = _calendar(files, out)
    known_services = calendar.service_ids
    trips: dict[str, Trip] = {}
    for line, r in _rows("trips.txt", out):
        if sid(r["route_id"]) not in routes:
            out.error("trips.txt", line, "route_id", f"unknown route_id {r['route_id']!r}")
            continue
        if r["service_id"] not in known_services:
            out.warn(
                "trips.txt",
                line,
                "service_id",
                f"service_id {r['service_id']!r} has no calendar entry; the trip never runs",
            )
        direction = _int(r.get("direction_id", ""))
        if sid(r["trip_id"]) in trips:
            out.error("trips.txt", line, "trip_id", f"duplicate trip_id {r['trip_id']!r}")
            continue
        trips[sid(r["trip_id"])] = Trip(
            sid(r["trip_id"]),
            sid(r["route_id"]),
            r["service_id"],
            clean(r.get("trip_headsign", "")),
            direction if direction in (0, 1) else None,
        )
    flex_locations = _flex_location_ids(files, out)
    stop_ids = list(stops)
    stop_index = {s: i for i, s in enumerate(stop_ids)}
    trip_ids = list(trips)
    trip_index = {t: i for i, t in enumerate(trip_ids)}
    cols: dict[str, list[int]] = {"trip": [], "stop": [], "seq": [], "arr": [], "dep": [], "line": []}
    unknown_trip = unknown_stop = flex_rows = 0
    for line, r in _rows("stop_times.txt", out):
        loc_ref = r.get("stop_id") or r.get("location_id") or r.get("location_group_id") or ""
        if loc_ref in flex_locations or r.get("start_pickup_drop_off_window"):
            flex_rows += 1  # GTFS-Flex: a zone or window, not a timed stop of the fixed timetable
            continue
        t = trip_index.get(sid(r["trip_id"]))
        if t is None:
            unknown_trip += 1
            if unknown_trip <= 5:
                out.error("stop_times.txt", line, "trip_id", f"unknown trip_id {r['trip_id']!r}")
            continue
        s = stop_index.get(sid(r["stop_id"]))
        if s is None:
            unknown_stop += 1
            if unknown_stop <= 5:
                out.error("stop_times.txt", line, "stop_id", f"unknown stop_id {r['stop_id']!r}")
            continue
        seq = _int(r["stop_sequence"])
        if seq is None or not 0 <= seq <= MAX_STOP_SEQUENCE:
            out.error(
                "stop_times.txt", line, "stop_sequence", f"not an integer >= 0: {r['stop_sequence'][:40]!r}"
            )
            continue
        arr_t, dep_t = r.get("arrival_time", ""), r.get("departure_time", "")
        try:
            arr = parse_time(arr_t or dep_t) if (arr_t or dep_t) else -1
            dep = parse_time(dep_t or arr_t) if (arr_t or dep_t) else -1
        except ValueError as exc:
            out.error("stop_times.txt", line, "arrival_time" if arr_t else "departure_time", str(exc))
            continue
        cols["trip"].append(t)
        cols["stop"].append(s)
        cols["seq"].append(seq)
        cols["arr"].append(arr)
        cols["dep"].append(dep)
        cols["line"].append(line)
    if flex_rows:
        out.warn(
            "stop_times.txt",
            None,
            "stop_id",
            f"{flex_rows} GTFS-Flex rows (zones or pickup windows) are not part of the fixed timetable",
        )
    for what, n in (("trip_id", unknown_trip), ("stop_id", unknown_stop)):
        if n > 5:
            out.error("stop_times.txt", None, what, f"{n - 5} more rows with an unknown {what}")
    trip_a = np.array(cols["trip"], dtype=np.int32)
    seq_a = np.array(cols["seq"], dtype=np.int64)
    order = np.lexsort((seq_a, trip_a))
    st_trip = trip_a[order]
    st_stop = np.array(cols["stop"], dtype=np.int32)[order]
    st_arr = np.array(cols["arr"], dtype=np.int32)[order]
    st_dep = np.array(cols["dep"], dtype=np.int32)[order]
    lines = np.array(cols["line"], dtype=np.int64)[order]
    st_seq = seq_a[order].astype(np.int32)
    if len(st_trip) == 0 and flex_rows:
        out.warn("stop_times.txt", None, None, "no fixed-timetable stop times: an on-demand (GTFS-Flex) feed")
    else:
        _check_stop_times(st_trip, st_arr, st_dep, lines, trip_ids, out)
        _check_sequences(st_trip, st_seq, lines, trip_ids, out)
    extras: dict[str, list[dict[str, str]]] = {}
    for name in sorted(files):
        if name in JP_EXTRAS:
            try:
                extras[name] = [row for _, row in read_table(path, name, budget)]
            except FeedError as exc:
                out.warn(name, exc.line, None, f"skipped: {exc.reason or exc}")
    if "trips_jp.txt" in extras and extras["trips_jp.txt"] and "trip_id" not in extras["trips_jp.txt"][0]:
        out.warn(
            "trips_jp.txt", 1, "trip_id", "no trip_id column: rows cannot be joined to trips; kept as is"
        )
    return Feed(
        feed_id,
        path,
        agencies,
        stops,
        routes,
        trips,
        calendar,
        st_trip,
        st_stop,
        st_arr,
        st_dep,
        st_seq,
        trip_ids,
        stop_ids,
        translations,
        extras,
        out.issues,
    )


def _check_stop_times(
    st_trip: np.ndarray,
    arr: np.ndarray,
    dep: np.ndarray,
    lines: np.ndarray,
    trip_ids: list[str],
    out: _Collector,
) -> None:
    """Times must not decrease along a trip; interpolated (blank) times are allowed between timed stops."""
    if len(st_trip) == 0:
        out.error("stop_times.txt", None, None, "no usable stop times")
        return
    same = st_trip[1:] == st_trip[:-1]
    timed = (dep[:-1] >= 0) & (arr[1:] >= 0)
    bad = np.flatnonzero(same & timed & (arr[1:] < dep[:-1]))
    for i in bad[:5]:
        out.error(
            "stop_times.txt",
            int(lines[i + 1]),
            "arrival_time",
            f"trip {trip_ids[st_trip[i + 1]].split(':', 1)[1]!r} goes back in time "
            f"({int(arr[i + 1])} s after {int(dep[i])} s)",
        )
    if len(bad) > 5:
        out.error("stop_times.txt", None, "arrival_time", f"{len(bad) - 5} more stop times go back in time")
    inside = np.flatnonzero((arr >= 0) & (dep >= 0) & (dep < arr))
    for i in inside[:5]:
        out.error("stop_times.txt", int(lines[i]), "departure_time", "departs before it arrives")


def _check_sequences(
    st_trip: np.ndarray, st_seq: np.ndarray, lines: np.ndarray, trip_ids: list[str], out: _Collector
) -> None:
    """Each (trip_id, stop_sequence) appears once: a repeated pair makes the stop order ambiguous."""
    dup = np.flatnonzero((st_trip[1:] == st_trip[:-1]) & (st_seq[1:] == st_seq[:-1]))
    for i in dup[:5]:
        first, again = sorted((int(lines[i]), int(lines[i + 1])))
        out.error(
            "stop_times.txt",
            again,
            "stop_sequence",
            f"duplicate (trip_id, stop_sequence) ({trip_ids[st_trip[i]].split(':', 1)[1]!r}, "
            f"{int(st_seq[i])}): also on line {first}",
        )
    if len(dup) > 5:
        out.error(
            "stop_times.txt", None, "stop_sequence", f"{len(dup) - 5} more duplicate (trip_id, stop_sequence)"
        )


def _calendar(files: set[str], out: _Collector) -> ServiceCalendar:
    patterns: dict[str, ServicePattern] = {}
    if "calendar.txt" in files:
        days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        for line, r in _rows("calendar.txt", out):
            try:
                flags = tuple(r[d].strip() == "1" for d in days)
                if any(r[d].strip() not in ("0", "1") for d in days):
                    raise ValueError("weekday flags must be 0 or 1")
                start, end = parse_date(r["start_date"]), parse_date(r["end_date"])
            except ValueError as exc:
                out.error("calendar.txt", line, None, str(exc))
                continue
            if end < start:
                out.error("calendar.txt", line, "end_date", f"end_date {end} is before start_date {start}")
                continue
            patterns[r["service_id"]] = ServicePattern(flags, start, end)  # type: ignore[arg-type]
    added: dict[date, set[str]] = defaultdict(set)
    removed: dict[date, set[str]] = defaultdict(set)
    if "calendar_dates.txt" in files:
        for line, r in _rows("calendar_dates.txt", out):
            try:
                d = parse_date(r["date"])
            except ValueError as exc:
                out.error("calendar_dates.txt", line, "date", str(exc))
                continue
            et = r["exception_type"].strip()
            if et == "1":
                added[d].add(r["service_id"])
            elif et == "2":
                removed[d].add(r["service_id"])
            else:
                out.error("calendar_dates.txt", line, "exception_type", f"must be 1 or 2, got {et!r}")
    return ServiceCalendar(
        patterns, {k: frozenset(v) for k, v in added.items()}, {k: frozenset(v) for k, v in removed.items()}
    )


def _translations(files: set[str], out: _Collector) -> dict[str, dict[str, str]]:
    """Three layouts seen in Japanese feeds, all mapped to key -> language -> text, where the key is the
    translated text itself (GTFS-JP v1 ``trans_id`` and ``field_value``) or
    ``table:field:record_id`` (GTFS ``record_id``)."""
    result: dict[str, dict[str, str]] = defaultdict(dict)
    if "translations.txt" not in files:
        return {}
    for line, r in out.table("translations.txt"):
        if "trans_id" in r:  # GTFS-JP v1: trans_id,lang,translation
            result[clean(r["trans_id"])][r.get("lang", "")] = clean(r.get("translation", ""))
        elif r.get("record_id"):
            key = f"{r.get('table_name', '')}:{r.get('field_name', '')}:{r['record_id']}"
            result[key][r.get("language", "")] = clean(r.get("translation", ""))
        elif r.get("field_value"):
            result[clean(r["field_value"])][r.get("language", "")] = clean(r.get("translation", ""))
        else:
            out.warn("translations.txt", line, None, "row has neither trans_id, record_id nor field_value")
    return dict(result)


def _flex_location_ids(files: set[str], out: _Collector) -> set[str]:
    ids: set[str] = set()
    if "location_groups.txt" in files:
        ids |= {r.get("location_group_id", "") for _, r in out.table("location_groups.txt")}
    if "locations.geojson" in files:
        import json

        try:
            raw = read_bytes(out.path, "locations.geojson", out.budget)
            doc = json.loads(raw.decode("utf-8-sig"))
            features = doc.get("features") if isinstance(doc, dict) else None
            if not isinstance(features, list):
                raise ValueError("no features list")
            ids |= {str(f["id"]) for f in features if isinstance(f, dict) and f.get("id") is not None}
        except FeedError as exc:
            out.error("locations.geojson", None, None, exc.reason or str(exc))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, nesting too deep
            out.error("locations.geojson", None, None, f"not valid GeoJSON: {str(exc)[:200]}")
    ids.discard("")
    return ids


def _empty(feed_id: str, path: Path, out: _Collector) -> Feed:
    z32 = np.zeros(0, dtype=np.int32)
    return Feed(
        feed_id,
        path,
        {},
        {},
        {},
        {},
        ServiceCalendar({}),
        z32,
        z32,
        z32,
        z32,
        z32,
        [],
        [],
        {},
        {},
        out.issues,
    )


def default_feed_id(path: Path) -> str:
    return path.name.removesuffix(".zip")


def inspect_feed(path: str | Path, feed_id: str | None = None, budget: SizeBudget = DEFAULT_BUDGET) -> Feed:
    """Load whatever can be loaded and report every problem as a value (for ``noriai gtfs validate``).
    Raises ``FeedError`` only when the feed cannot be opened at all (not a zip or folder, or past the
    size ``budget``)."""
    p = Path(path)
    return _load(p, feed_id or default_feed_id(p), budget)


def load_feed(path: str | Path, feed_id: str | None = None, budget: SizeBudget = DEFAULT_BUDGET) -> Feed:
    """Load a usable feed; raises ``FeedError`` naming the first error when it is not usable."""
    feed = inspect_feed(path, feed_id, budget)
    errors = feed.errors()
    if errors:
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        raise FeedError(f"{feed.path}: {errors[0]}{more}")
    return feed
