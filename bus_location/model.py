"""Our own realtime types: nothing here knows protobuf."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from geo import LatLon

MAX_DELAY_S = 86_400  # a realtime delay beyond a day is a broken feed, not a late bus


class Relationship(enum.StrEnum):
    SCHEDULED = "scheduled"
    SKIPPED = "skipped"
    NO_DATA = "no_data"
    CANCELED = "canceled"
    ADDED = "added"
    UNSCHEDULED = "unscheduled"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class StopTimeUpdate:
    stop_sequence: int | None
    stop_id: str | None
    arrival_delay_s: int | None = None
    arrival_time_unix: int | None = None
    departure_delay_s: int | None = None
    departure_time_unix: int | None = None
    relationship: Relationship = Relationship.SCHEDULED


@dataclass(frozen=True, slots=True)
class TripDescriptor:
    trip_id: str | None
    route_id: str | None
    direction_id: int | None
    start_date: str | None  # YYYYMMDD
    start_time: str | None  # HH:MM:SS
    relationship: Relationship = Relationship.SCHEDULED


@dataclass(frozen=True, slots=True)
class TripUpdate:
    trip: TripDescriptor
    updates: tuple[StopTimeUpdate, ...]
    timestamp_unix: int | None = None
    vehicle_id: str | None = None
    delay_s: int | None = None


@dataclass(frozen=True, slots=True)
class VehiclePosition:
    """Where a vehicle was, and when: a bus from a GTFS-Realtime feed (with its trip, bearing, stop) or
    a shared taxi as its driver reported it (``dispatch.live``: id, point and time only)."""

    vehicle_id: str
    lat: float
    lon: float
    timestamp_unix: float | None = None  # when it was there (the feed's own, or the report's time)
    label: str = ""
    trip: TripDescriptor | None = None
    bearing: float | None = None
    speed_ms: float | None = None
    current_stop_sequence: int | None = None
    stop_id: str | None = None

    @property
    def point(self) -> LatLon:
        return LatLon(self.lat, self.lon)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """One GTFS-Realtime message, mapped to our types."""

    timestamp_unix: int
    version: str
    trip_updates: tuple[TripUpdate, ...]
    positions: tuple[VehiclePosition, ...]
    alerts: int = 0
    problems: dict[str, int] = field(default_factory=dict)
