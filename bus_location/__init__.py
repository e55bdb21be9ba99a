"""Live bus locations: GTFS-Realtime parsing (the only protobuf code), matching to the static timetable,
one writer publishing immutable snapshots, next departures and stop timetables, polling fetchers."""

from bus_location.departures import Departure, next_departures, stop_timetable
from bus_location.fetcher import Fetcher, FetchResult
from bus_location.model import ParsedFeed, StopTimeUpdate, TripDescriptor, TripUpdate, VehiclePosition
from bus_location.parser import RealtimeParseError, parse_feed
from bus_location.snapshot import RealtimeSnapshot, RealtimeWriter, UpdateReport

__all__ = [
    "Departure",
    "FetchResult",
    "Fetcher",
    "ParsedFeed",
    "RealtimeParseError",
    "RealtimeSnapshot",
    "RealtimeWriter",
    "StopTimeUpdate",
    "TripDescriptor",
    "TripUpdate",
    "UpdateReport",
    "VehiclePosition",
    "next_departures",
    "parse_feed",
    "stop_timetable",
]
