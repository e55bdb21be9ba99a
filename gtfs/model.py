"""Our own GTFS types. Ids are scoped by feed (``feed_id:id``) so several feeds load side by side."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class FeedIssue:
    """One problem found while loading or validating, located by file, line (header = 1) and field."""

    severity: Severity
    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = (
            self.file + (f":{self.line}" if self.line else "") + (f" [{self.field}]" if self.field else "")
        )
        return f"{self.severity.value}: {where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Agency:
    agency_id: str
    name: str
    timezone: str
    url: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Stop:
    stop_id: str  # feed-scoped
    name: str
    lat: float
    lon: float
    zone_id: str = ""
    parent_station: str = ""
    location_type: int = 0
    names: dict[str, str] = field(default_factory=dict)  # language -> name (e.g. "en", "ja-Hrkt")


@dataclass(frozen=True, slots=True)
class Route:
    route_id: str  # feed-scoped
    agency_id: str
    short_name: str
    long_name: str
    route_type: int

    @property
    def display_name(self) -> str:
        return self.short_name or self.long_name


@dataclass(frozen=True, slots=True)
class Trip:
    trip_id: str  # feed-scoped
    route_id: str
    service_id: str
    headsign: str = ""
    direction_id: int | None = None


@dataclass(frozen=True, slots=True)
class ServicePattern:
    """calendar.txt row: weekdays (Mon..Sun) between two dates inclusive."""

    weekdays: tuple[bool, bool, bool, bool, bool, bool, bool]
    start: date
    end: date
