"""GTFS-Realtime protobuf -> our types. The only module where protobuf objects exist.

Undecodable bytes raise ``RealtimeParseError``; a malformed entity inside a good message is counted in
``ParsedFeed.problems`` and skipped, never raised. Values that would break arithmetic downstream are
checked here: timestamps outside 2000-2100 (``timestamp_out_of_range``), delays over a day
(``delay_out_of_range``), positions that are not finite WGS84 coordinates (``position_bad_coordinates``).
No other exception leaves ``parse_feed`` for any bytes (fuzzed in ``benchmarks/fuzz.py``).
"""

from __future__ import annotations

import math
from collections import Counter

from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as pb

from bus_location.model import (
    MAX_DELAY_S,
    ParsedFeed,
    Relationship,
    StopTimeUpdate,
    TripDescriptor,
    TripUpdate,
    VehiclePosition,
)


class RealtimeParseError(ValueError):
    """The bytes are not a GTFS-Realtime FeedMessage."""


MIN_UNIX = 946_684_800  # 2000-01-01
MAX_UNIX = 4_102_444_800  # 2100-01-01
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


_TRIP_REL = {
    0: Relationship.SCHEDULED,
    1: Relationship.ADDED,
    2: Relationship.UNSCHEDULED,
    3: Relationship.CANCELED,
    5: Relationship.OTHER,
    6: Relationship.OTHER,
    7: Relationship.OTHER,
}
_STOP_REL = {
    0: Relationship.SCHEDULED,
    1: Relationship.SKIPPED,
    2: Relationship.NO_DATA,
    3: Relationship.UNSCHEDULED,
}


def _opt(msg: object, name: str) -> object | None:
    try:
        return getattr(msg, name) if msg.HasField(name) else None  # type: ignore[attr-defined]
    except ValueError:
        return None


def _trip(t: pb.TripDescriptor) -> TripDescriptor:
    return TripDescriptor(
        trip_id=_text(t.trip_id) or None,
        route_id=_text(t.route_id) or None,
        direction_id=int(t.direction_id) if t.HasField("direction_id") else None,
        start_date=_text(t.start_date) or None,
        start_time=_text(t.start_time) or None,
        relationship=_TRIP_REL.get(int(t.schedule_relationship), Relationship.OTHER),
    )


def _text(v: object) -> str:
    """A string field. protobuf hands back ``bytes`` when the wire holds invalid UTF-8 (it warns
    instead of failing); those become text with U+FFFD, so ids stay strings downstream."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


def _unix(msg: object, name: str, problems: Counter[str]) -> int | None:
    """A POSIX time field when set and plausible (2000-2100); otherwise None, counted when set."""
    if not msg.HasField(name):  # type: ignore[attr-defined]
        return None
    t = int(getattr(msg, name))
    if t == 0:
        return None
    if not MIN_UNIX <= t <= MAX_UNIX:
        problems["timestamp_out_of_range"] += 1
        return None
    return t


def _delay(msg: object, problems: Counter[str]) -> int | None:
    if not msg.HasField("delay"):  # type: ignore[attr-defined]
        return None
    d = int(msg.delay)  # type: ignore[attr-defined]
    if abs(d) > MAX_DELAY_S:
        problems["delay_out_of_range"] += 1
        return None
    return d


def _event(e: pb.TripUpdate.StopTimeEvent | None, problems: Counter[str]) -> tuple[int | None, int | None]:
    if e is None:
        return None, None
    return _delay(e, problems), _unix(e, "time", problems)


def _finite(msg: object, name: str) -> float | None:
    if not msg.HasField(name):  # type: ignore[attr-defined]
        return None
    x = float(getattr(msg, name))
    return x if math.isfinite(x) else None


def parse_feed(data: bytes) -> ParsedFeed:
    if len(data) > MAX_MESSAGE_BYTES:
        raise RealtimeParseError(f"not a GTFS-Realtime message: larger than {MAX_MESSAGE_BYTES >> 20} MiB")
    msg = pb.FeedMessage()
    try:
        msg.ParseFromString(data)
    except (DecodeError, RuntimeWarning, ValueError, RecursionError) as exc:
        raise RealtimeParseError(f"not a GTFS-Realtime message: {str(exc)[:200]}") from None
    if not msg.HasField("header"):
        raise RealtimeParseError("not a GTFS-Realtime message: no header")
    if msg.header.timestamp > MAX_UNIX:
        raise RealtimeParseError(f"header timestamp {msg.header.timestamp} is after 2100")
    problems: Counter[str] = Counter()
    updates: list[TripUpdate] = []
    positions: list[VehiclePosition] = []
    alerts = 0
    for ent in msg.entity:
        if ent.is_deleted:
            continue
        if ent.HasField("trip_update"):
            tu = ent.trip_update
            stus = []
            for s in tu.stop_time_update:
                a_delay, a_time = _event(s.arrival if s.HasField("arrival") else None, problems)
                d_delay, d_time = _event(s.departure if s.HasField("departure") else None, problems)
                stus.append(
                    StopTimeUpdate(
                        stop_sequence=int(s.stop_sequence) if s.HasField("stop_sequence") else None,
                        stop_id=_text(s.stop_id) or None,
                        arrival_delay_s=a_delay,
                        arrival_time_unix=a_time,
                        departure_delay_s=d_delay,
                        departure_time_unix=d_time,
                        relationship=_STOP_REL.get(int(s.schedule_relationship), Relationship.OTHER),
                    )
                )
            updates.append(
                TripUpdate(
                    trip=_trip(tu.trip),
                    updates=tuple(stus),
                    timestamp_unix=_unix(tu, "timestamp", problems),
                    vehicle_id=(_text(tu.vehicle.id) or None) if tu.HasField("vehicle") else None,
                    delay_s=_delay(tu, problems),
                )
            )
        if ent.HasField("vehicle"):
            vp = ent.vehicle
            if not vp.HasField("position"):
                problems["position_missing"] += 1
                continue
            lat, lon = float(vp.position.latitude), float(vp.position.longitude)
            if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
                problems["position_bad_coordinates"] += 1
                continue
            vid = _text(vp.vehicle.id or vp.vehicle.label) if vp.HasField("vehicle") else ""
            positions.append(
                VehiclePosition(
                    vehicle_id=vid or _text(ent.id),
                    label=_text(vp.vehicle.label) if vp.HasField("vehicle") else "",
                    trip=_trip(vp.trip) if vp.HasField("trip") else None,
                    lat=lat,
                    lon=lon,
                    bearing=_finite(vp.position, "bearing"),
                    speed_ms=_finite(vp.position, "speed"),
                    timestamp_unix=_unix(vp, "timestamp", problems),
                    current_stop_sequence=int(vp.current_stop_sequence)
                    if vp.HasField("current_stop_sequence")
                    else None,
                    stop_id=_text(vp.stop_id) or None,
                )
            )
        if ent.HasField("alert"):
            alerts += 1
    return ParsedFeed(
        int(msg.header.timestamp),
        _text(msg.header.gtfs_realtime_version),
        tuple(updates),
        tuple(positions),
        alerts,
        dict(problems),
    )
