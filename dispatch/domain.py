"""Dispatch domain: the people, places and fleet that bookings are about.

Plain frozen dataclasses, free of any database or web type; persistence maps them to tables.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import time

from geo import LatLon, ServiceZone


class PlaceKind(enum.StrEnum):
    STATION = "station"
    HOSPITAL = "hospital"
    SCHOOL = "school"
    SHOPPING = "shopping"
    ONSEN = "onsen"
    SIGHT = "sight"
    OFFICE = "office"
    AIRPORT = "airport"


class VehicleKind(enum.StrEnum):
    SEDAN = "sedan"
    JUMBO = "jumbo"
    WELFARE = "welfare"


class ZoneKind(enum.StrEnum):
    DISTRICT = "district"
    COMMUNITY = "community"
    CORRIDOR = "corridor"


@dataclass(frozen=True, slots=True)
class Place:
    place_id: str
    name: str
    name_en: str
    kana: str
    kind: PlaceKind
    point: LatLon
    note: str = ""


@dataclass(frozen=True, slots=True)
class Shift:
    """Daily shift in local time; ``end`` of 24:00 is written as ``time(0)`` with ``ends_next_day``."""

    start: time
    end: time
    ends_next_day: bool = False

    @property
    def start_s(self) -> int:
        return self.start.hour * 3600 + self.start.minute * 60

    @property
    def end_s(self) -> int:
        base = self.end.hour * 3600 + self.end.minute * 60
        return base + (86_400 if self.ends_next_day else 0)

    def __post_init__(self) -> None:
        if self.end_s <= self.start_s:
            raise ValueError(f"shift must end after it starts ({self.start} - {self.end})")


@dataclass(frozen=True, slots=True)
class Vehicle:
    vehicle_id: str
    company_id: str
    kind: VehicleKind
    plate: str
    seats: int
    wheelchair_places: int
    shift: Shift
    features: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.seats < 1 or self.wheelchair_places < 0:
            raise ValueError(f"vehicle {self.vehicle_id}: seats >= 1 and wheelchair_places >= 0 required")


@dataclass(frozen=True, slots=True)
class Company:
    company_id: str
    name: str
    name_en: str
    phone: str
    depot_name: str
    depot: LatLon
    vehicles: tuple[Vehicle, ...]


@dataclass(frozen=True, slots=True)
class MobilityNeeds:
    wheelchair: bool = False
    walker: bool = False
    companion: bool = False


@dataclass(frozen=True, slots=True)
class Consent:
    """Opt-in flags; the default is no reuse of a rider's data beyond serving their own bookings."""

    data_reuse: bool = False


@dataclass(frozen=True, slots=True)
class Rider:
    rider_id: str
    name: str
    kana: str
    phone: str
    home: LatLon
    district: str
    birth_year: int
    needs: MobilityNeeds
    disability_certificate: bool
    welfare_bus_pass: bool
    consent: Consent


@dataclass(frozen=True, slots=True)
class Zone:
    zone: ServiceZone
    kind: ZoneKind
    name_en: str


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """Everything a city's dispatch needs before the first booking."""

    places: tuple[Place, ...]
    companies: tuple[Company, ...]
    riders: tuple[Rider, ...]
    zones: tuple[Zone, ...]
