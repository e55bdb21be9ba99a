"""What callers ask the dispatch service for: trip endpoints, quote, guest booking and rule requests."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from dispatch.booking import RecurrenceRule, TimeRequest
from geo import LatLon


class EndpointKind(enum.StrEnum):
    """How an endpoint was chosen (the values are the API's and the stored rules' strings)."""

    HOME = "home"
    PLACE = "place"
    POINT = "point"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a trip starts or ends, as the operator chose it: the rider's home, a place, or a point."""

    kind: EndpointKind
    place_id: str | None = None
    point: LatLon | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    rider_id: str
    origin: Endpoint
    destination: Endpoint
    service_date: date
    time: TimeRequest
    companions: int = 0  # people travelling with the rider, beyond a registered carer
    return_of: str | None = None
    recurring_rule_id: str | None = None


@dataclass(frozen=True, slots=True)
class GuestBookingRequest:
    """A trip booked by the rider from the trip planner (no operator, no prior registration)."""

    name: str
    phone: str
    origin: LatLon
    destination: LatLon
    service_date: date
    time: TimeRequest
    seats: int = 1
    wheelchair: bool = False
    consent_data_reuse: bool = False
    origin_label: str = ""
    destination_label: str = ""
    vehicle_id: str | None = None
    origin_place_id: str | None = None  # a place of the city instead of the point (e.g. the airport)
    destination_place_id: str | None = None


@dataclass(frozen=True, slots=True)
class RuleRequest:
    rider_id: str
    origin: Endpoint
    destination: Endpoint
    time: TimeRequest
    rule: RecurrenceRule
    return_mode: str = "none"  # none | at | call
    return_time_s: int | None = None
