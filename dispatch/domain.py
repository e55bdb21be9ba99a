"""Dispatch domain: the people, places and fleet that bookings are about.

Plain frozen dataclasses, free of any database or web type; persistence maps them to tables.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, time

import jpholiday

from geo import LatLon, ServiceArea, ServiceZone


class PlaceKind(enum.StrEnum):
    STATION = "station"
    HOSPITAL = "hospital"
    SCHOOL = "school"
    SHOPPING = "shopping"
    ONSEN = "onsen"
    SIGHT = "sight"
    OFFICE = "office"
    AIRPORT = "airport"
    CLINIC = "clinic"
    JUKU = "juku"
    SHOP = "shop"
    OTHER = "other"


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
    active: bool = True  # False: removed from the city bundle, kept because bookings still name it


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
    # community taxi: the only zone this vehicle serves (trips inside it, or between it and its hubs)
    zone_id: str | None = None
    # per-day overrides of ``shift``: ("mon".."sun" | "holiday", Shift or None = off duty)
    shifts: tuple[tuple[str, Shift | None], ...] = ()

    def shift_on(self, day: date) -> Shift | None:
        """The shift worked on ``day`` (a Japanese public holiday first, then the weekday), or None."""
        overrides = dict(self.shifts)
        if "holiday" in overrides and jpholiday.is_holiday(day):
            return overrides["holiday"]
        return overrides.get(WEEKDAYS[day.weekday()], self.shift)

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
    """Opt-in flags; the default is no reuse of a rider's data beyond serving their own bookings.
    ``given_on``: the day the rider agreed (None when not agreed, or agreed before dates were kept)."""

    data_reuse: bool = False
    given_on: date | None = None


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
    address: str = ""  # postal address of the home, for the driver's run sheet (may be empty)


@dataclass(frozen=True, slots=True)
class Zone:
    zone: ServiceZone
    kind: ZoneKind
    name_en: str
    hubs: tuple[str, ...] = ()  # place ids a community zone's vehicles may also drive to and from
    geometry_json: str = ""  # the polygon as drawn (GeoJSON geometry); the cells are compiled from it


@dataclass(frozen=True, slots=True)
class FeedSource:
    """One GTFS feed of the city: a folder, .zip or https URL, and its GTFS-Realtime URLs."""

    feed_id: str
    path: str
    realtime: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CityAirport:
    """A city's airport shared taxi (``[airport]`` of city.toml, docs/city-bundle.md): the airport's
    place, its flight timetable as CSV text (read by ``dispatch.airport.parse_flights``, kept as text
    like the tariff so the database holds what the bundle said), the margins around a flight and an
    optional flight-status feed (a URL or a file) that moves pickups when arrivals are late."""

    place_id: str
    flights_csv: str
    checkin_margin_s: int = 40 * 60  # at the airport this long before departure
    baggage_margin_s: int = 20 * 60  # picked up from this long after the (actual) arrival
    status_url: str | None = None


@dataclass(frozen=True, slots=True)
class City:
    """The city a deployment serves (one per database): names, service area, feeds, tariff."""

    name: str
    name_en: str
    timezone: str = "Asia/Tokyo"
    booking_phone: str = ""
    service_area: ServiceArea | None = None
    feeds: tuple[FeedSource, ...] = ()
    gbfs_url: str | None = None
    max_walk_m: float = 800.0
    tariff_toml: str = ""
    airport: CityAirport | None = None


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """Everything a city's dispatch needs before the first booking."""

    places: tuple[Place, ...]
    companies: tuple[Company, ...]
    riders: tuple[Rider, ...]
    zones: tuple[Zone, ...]
    city: City | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an operator, or a taxi company (which sees only its own data)."""

    role: str  # operator | company | system | public (a rider booking from the trip planner)
    label: str
    company_id: str | None = None

    @property
    def actor(self) -> str:
        return f"company:{self.company_id}" if self.role == "company" else f"{self.role}:{self.label}"
