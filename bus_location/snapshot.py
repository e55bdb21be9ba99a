"""One writer applies realtime feeds and publishes immutable snapshots that readers use without locks
(as OpenTripPlanner's updaters do). A bad message is reported and leaves the last snapshot in place."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from bus_location.matcher import TripIndex, TripPrediction, match_feed, service_date_of
from bus_location.model import ParsedFeed, VehiclePosition
from bus_location.parser import RealtimeParseError, parse_feed
from gtfs.loader import Feed

# Positions older than this (relative to the message) are stale; further than this from every stop of
# the static feed they are out of range.
MAX_POSITION_AGE_S = 600
MAX_DISTANCE_DEG = 0.5


@dataclass(frozen=True)
class RealtimeSnapshot:
    created_unix: float
    predictions: Mapping[str, Mapping[tuple[int, date], TripPrediction]] = field(default_factory=dict)
    positions: Mapping[str, tuple[VehiclePosition, ...]] = field(default_factory=dict)
    problems: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    message_unix: Mapping[str, int] = field(default_factory=dict)

    def prediction(self, feed_id: str, trip_index: int, service_date: date) -> TripPrediction | None:
        return self.predictions.get(feed_id, {}).get((trip_index, service_date))


@dataclass(frozen=True, slots=True)
class UpdateReport:
    feed_id: str
    ok: bool
    error: str | None
    problems: Mapping[str, int]


class RealtimeWriter:
    """The single writer. ``apply_bytes`` may be called from poller threads; it serialises itself."""

    def __init__(self, static: Mapping[str, Feed]) -> None:
        self._static = dict(static)
        self._index = {fid: TripIndex(f) for fid, f in self._static.items()}
        self._bounds = {fid: _bounds(f) for fid, f in self._static.items()}
        self._lock = threading.Lock()
        self._snapshot = RealtimeSnapshot(time.time())

    @property
    def snapshot(self) -> RealtimeSnapshot:
        return self._snapshot  # an immutable object: a reference read is atomic

    def apply_bytes(self, feed_id: str, data: bytes) -> UpdateReport:
        try:
            parsed = parse_feed(data)
        except RealtimeParseError as exc:
            return self._record_failure(feed_id, str(exc))
        return self.apply(feed_id, parsed)

    def _record_failure(self, feed_id: str, message: str) -> UpdateReport:
        with self._lock:
            old = self._snapshot
            problems = {**old.problems}
            counts = Counter(problems.get(feed_id, {}))
            counts["undecodable_message"] += 1
            problems[feed_id] = MappingProxyType(dict(counts))
            self._snapshot = RealtimeSnapshot(
                time.time(), old.predictions, old.positions, MappingProxyType(problems), old.message_unix
            )
        return UpdateReport(feed_id, False, message, problems[feed_id])

    def _match_position(self, feed_id: str, p: VehiclePosition, message_unix: int) -> str:
        return _position_kind(self._index[feed_id], p, message_unix)

    def apply(self, feed_id: str, parsed: ParsedFeed) -> UpdateReport:
        if feed_id not in self._index:
            raise KeyError(f"no static feed {feed_id!r} to match realtime data against")
        predictions, problems = match_feed(self._index[feed_id], parsed)
        positions = []
        lat0, lat1, lon0, lon1 = self._bounds[feed_id]
        for p in parsed.positions:
            if p.timestamp_unix is not None and parsed.timestamp_unix - p.timestamp_unix > MAX_POSITION_AGE_S:
                problems["stale_position"] += 1
                continue
            if not (lat0 <= p.lat <= lat1 and lon0 <= p.lon <= lon1):
                problems["position_out_of_range"] += 1
                continue
            positions.append(p)
            problems[self._match_position(feed_id, p, parsed.timestamp_unix)] += 1
        # TripUpdates and VehiclePositions usually arrive as separate messages of one feed: a message
        # replaces only the kind of data it carries (an empty message clears both).
        has_tu, has_vp = bool(parsed.trip_updates), bool(parsed.positions)
        with self._lock:
            old = self._snapshot
            preds = dict(old.predictions)
            poss = dict(old.positions)
            if has_tu or not has_vp:
                preds[feed_id] = MappingProxyType(predictions)
            if has_vp or not has_tu:
                poss[feed_id] = tuple(positions)
            self._snapshot = RealtimeSnapshot(
                time.time(),
                MappingProxyType(preds),
                MappingProxyType(poss),
                MappingProxyType({**old.problems, feed_id: MappingProxyType(dict(problems))}),
                MappingProxyType({**old.message_unix, feed_id: parsed.timestamp_unix}),
            )
        return UpdateReport(feed_id, True, None, dict(problems))


def _position_kind(index: TripIndex, p: VehiclePosition, message_unix: int) -> str:
    if p.trip is None:
        return "position_without_trip"
    trip_index, _problem = index.find(
        p.trip, service_date_of(p.trip, p.timestamp_unix or message_unix, index.tz)
    )
    if trip_index is not None:
        return "position_matched_trip"
    if p.trip.route_id and index.feed.scoped(p.trip.route_id) in index.feed.routes:
        return "position_matched_route_only"  # e.g. King County: trip ids differ from the static feed
    return "position_trip_not_found"


def _bounds(feed: Feed) -> tuple[float, float, float, float]:
    lats = [s.lat for s in feed.stops.values()]
    lons = [s.lon for s in feed.stops.values()]
    if not lats:
        return (-90.0, 90.0, -180.0, 180.0)
    m = MAX_DISTANCE_DEG
    return (min(lats) - m, max(lats) + m, min(lons) - m, max(lons) + m)
