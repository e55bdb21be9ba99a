"""GTFS-Realtime protobuf -> our types. The only module where protobuf objects exist.

Undecodable bytes raise ``RealtimeParseError``; a malformed entity inside a good message is counted in
``ParsedFeed.problems`` and skipped, never raised.
"""

from __future__ import annotations

from collections import Counter

from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as pb

from bus_location.model import (
    ParsedFeed,
    Relationship,
    StopTimeUpdate,
    TripDescriptor,
    TripUpdate,
    VehiclePosition,
)


class RealtimeParseError(ValueError):
    """The bytes are not a GTFS-Realtime FeedMessage."""


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
        trip_id=t.trip_id or None,
        route_id=t.route_id or None,
        direction_id=int(t.direction_id) if t.HasField("direction_id") else None,
        start_date=t.start_date or None,
        start_time=t.start_time or None,
        relationship=_TRIP_REL.get(int(t.schedule_relationship), Relationship.OTHER),
    )


def _event(e: pb.TripUpdate.StopTimeEvent | None) -> tuple[int | None, int | None]:
    if e is None:
        return None, None
    delay = int(e.delay) if e.HasField("delay") else None
    t = int(e.time) if e.HasField("time") and e.time > 0 else None
    return delay, t


def parse_feed(data: bytes) -> ParsedFeed:
    msg = pb.FeedMessage()
    try:
        msg.ParseFromString(data)
    except (DecodeError, RuntimeWarning, ValueError) as exc:
        raise RealtimeParseError(f"not a GTFS-Realtime message: {exc}") from None
    if not msg.HasField("header"):
        raise RealtimeParseError("not a GTFS-Realtime message: no header")
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
                a_delay, a_time = _event(s.arrival if s.HasField("arrival") else None)
                d_delay, d_time = _event(s.departure if s.HasField("departure") else None)
                stus.append(
                    StopTimeUpdate(
                        stop_sequence=int(s.stop_sequence) if s.HasField("stop_sequence") else None,
                        stop_id=s.stop_id or None,
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
                    timestamp_unix=int(tu.timestamp) if tu.HasField("timestamp") else None,
                    vehicle_id=(tu.vehicle.id or None) if tu.HasField("vehicle") else None,
                    delay_s=int(tu.delay) if tu.HasField("delay") else None,
                )
            )
        if ent.HasField("vehicle"):
            vp = ent.vehicle
            if not vp.HasField("position"):
                problems["position_missing"] += 1
                continue
            vid = (vp.vehicle.id or vp.vehicle.label) if vp.HasField("vehicle") else ""
            positions.append(
                VehiclePosition(
                    vehicle_id=vid or ent.id,
                    label=vp.vehicle.label if vp.HasField("vehicle") else "",
                    trip=_trip(vp.trip) if vp.HasField("trip") else None,
                    lat=float(vp.position.latitude),
                    lon=float(vp.position.longitude),
                    bearing=float(vp.position.bearing) if vp.position.HasField("bearing") else None,
                    speed_ms=float(vp.position.speed) if vp.position.HasField("speed") else None,
                    timestamp_unix=int(vp.timestamp) if vp.HasField("timestamp") else None,
                    current_stop_sequence=int(vp.current_stop_sequence)
                    if vp.HasField("current_stop_sequence")
                    else None,
                    stop_id=vp.stop_id or None,
                )
            )
        if ent.HasField("alert"):
            alerts += 1
    return ParsedFeed(
        int(msg.header.timestamp),
        msg.header.gtfs_realtime_version,
        tuple(updates),
        tuple(positions),
        alerts,
        dict(problems),
    )
