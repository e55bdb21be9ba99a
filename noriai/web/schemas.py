"""Response models of the dispatch API: what every ``/api/v1`` dispatch route answers, so the OpenAPI
document shows real schemas (and Schemathesis checks the answers against them).

The JSON is the one the routes always gave: keys that a route leaves out for some callers or states
(a rider's private fields for a company key, the read-back before confirmation, ETAs without a
position, the costs of a re-optimisation that did nothing) are optional here and left out of the answer
(``response_model_exclude_unset``), never sent as ``null``. Times of day are ``H:MM`` strings (GTFS style,
past 24:00 after midnight), ``*_s`` fields seconds of the service day, money integer yen."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dispatch.booking import BookingStatus


class _Out(BaseModel):
    # extra="allow": a key a view gains before its model does is passed through, never dropped
    model_config = ConfigDict(populate_by_name=True, extra="allow")


class WhoAmIOut(_Out):
    role: str = Field(description="operator | company")
    label: str
    company_id: str | None


class PointOut(_Out):
    lat: float
    lon: float


class NeedsOut(_Out):
    wheelchair: bool
    walker: bool
    companion: bool


class ConsentOut(_Out):
    data_reuse: bool
    given_on: str | None = Field(default=None, description="YYYY-MM-DD")


class RiderOut(_Out):
    """A rider; a company key gets the first six fields only (the riders on its own runs)."""

    rider_id: str
    name: str
    kana: str
    phone: str
    district: str
    needs: NeedsOut
    home: PointOut | None = None
    birth_year: int | None = None
    address: str | None = None
    disability_certificate: bool | None = None
    welfare_bus_pass: bool | None = None
    consent: ConsentOut | None = None


class EndOut(_Out):
    label: str
    place_id: str | None
    lat: float
    lon: float


class FareLineOut(_Out):
    code: str
    label_ja: str
    label_en: str
    amount_yen: int


class OptionOut(_Out):
    """One vehicle's offer for a quoted trip (``dispatch.booking.QuoteOption``) with its display times."""

    vehicle_id: str
    company_id: str
    company_name: str
    vehicle_kind: str
    pickup_s: int
    dropoff_s: int
    pickup_from_s: int
    pickup_to_s: int
    arrive_by_s: int | None
    max_ride_time_s: int
    direct_distance_m: int
    shared: bool
    fare_yen: int
    plan_version: int
    pickup_window: str = Field(description="H:MM–H:MM")
    arrival: str = Field(description="H:MM")
    arrival_kind: str = Field(description="by (an arrive-by promise) | around (the planned arrival)")
    fare_breakdown: list[FareLineOut] = Field(description="the fare's lines: meter, concession, vouchers")


class FareOut(_Out):
    """A fixed fare (``fares.FareQuote.to_dict``): breakdown lines sum to the total."""

    total_yen: int
    fare_before_discounts_yen: int
    tariff_id: str
    tariff_version: str
    coefficient: str = Field(description="the approved coefficient, as a decimal string")
    valid_from: str | None
    valid_until: str | None
    breakdown: list[FareLineOut]
    inputs: dict[str, Any] = Field(description="everything the fare is recomputed from")
    notes: list[str]


class ReadBackOut(_Out):
    ja: str
    en: str


class BookingOut(_Out):
    booking_id: str
    booking_no: str = Field(description="as read out on the phone: 4829-1735")
    rider_id: str
    service_date: str = Field(description="YYYY-MM-DD")
    status: BookingStatus
    status_ja: str
    origin: EndOut
    destination: EndOut
    time_mode: Literal["pickup_after", "arrive_by", "on_call"] = Field(
        description="on_call: a return trip that waits for the rider's call (no time yet)"
    )
    time: str | None
    seats: int = Field(description="the rider's party (people on seats)")
    wheelchairs: int
    seats_held: int = Field(description="seats the booking holds: a private ride (貸切) holds its whole car")
    wheelchairs_held: int
    needs: list[str]
    options: list[OptionOut] = Field(description="the offers, while the booking is quoted")
    quote_expires_at: str | None
    vehicle_id: str | None
    company_id: str | None
    pickup_window: list[str] | None = Field(description="[H:MM, H:MM] promised")
    arrive_by: str | None
    planned_pickup: str | None
    planned_dropoff: str | None
    fare_yen: int | None
    fare: FareOut | None
    reason: str | None
    return_of: str | None
    recurring_rule_id: str | None
    read_back: ReadBackOut | None = Field(
        default=None, description="what the operator reads to the rider (confirmed or scheduled)"
    )


class AuditEntryOut(_Out):
    at: str
    actor: str
    event: str
    from_status: str | None = Field(alias="from")
    to: str | None
    detail: dict[str, Any]


class RuleOut(_Out):
    rule_id: str
    rider_id: str
    weekdays: list[int]


class MaterialisedOut(_Out):
    rule_id: str
    booking_id: str
    status: str
    reason: str | None


class ReoptimiseOut(_Out):
    """``status``: ok | empty (nothing to plan) | stale (a plan changed meanwhile; nothing written)."""

    status: str
    moved: int
    distance_before_m: int
    distance_after_m: int
    cost_before: int | None = None
    cost_after: int | None = None
    excess_ride_s: int | None = None
    unassigned: list[str] | None = None
    runtime_s: float | None = None


class CheckOut(_Out):
    ok: bool
    problems: list[str]


class TripOut(_Out):
    """A trip for analysis: no names, phones, rider ids or coordinates (H3 cells, resolution 8)."""

    service_date: str
    status: str
    origin_cell: str
    destination_cell: str
    destination_kind: str | None
    time_mode: str
    requested_s: int | None
    planned_pickup_s: int | None
    planned_dropoff_s: int | None
    seats: int
    wheelchairs: int
    fare_yen: int | None
    reason: str | None


class StopOut(_Out):
    booking_id: str
    booking_no: str
    kind: str = Field(description="pickup | dropoff")
    kind_ja: str
    state: str = Field(description="done | no_show | planned")
    booking_status: str
    booking_status_ja: str
    rider_name: str
    rider_phone: str
    place: str
    lat: float
    lon: float
    window: list[int | None] | None
    arrive_by_s: int | None
    planned_s: int | None
    planned: str | None
    seats: int = Field(description="the rider's party (people on seats)")
    wheelchairs: int
    seats_held: int = Field(description="seats the ride holds: a private ride (貸切) holds its whole car")
    wheelchairs_held: int
    needs: list[str]
    fare_to_collect_yen: int | None
    fare_type: str | None = Field(
        default=None, description="shared (相乗り) | private (貸切); null before confirmation"
    )
    address: str = Field(description="the rider's address when the stop is their home, else empty")
    eta_s: int | None = Field(default=None, description="from the vehicle's last position")
    eta: str | None = None


class DepotOut(_Out):
    name: str
    lat: float
    lon: float


class PositionOut(_Out):
    lat: float
    lon: float
    reported_at_unix: float


class RunOut(_Out):
    vehicle_id: str
    company_id: str
    plate: str
    kind: str
    seats: int
    wheelchair_places: int
    shift: list[str]
    depot: DepotOut
    service_date: str
    version: int
    out_of_service: bool
    position: PositionOut | None
    live_stale: bool
    stops: list[StopOut]


class VehicleOut(_Out):
    vehicle_id: str
    company_id: str
    kind: str
    plate: str
    seats: int
    wheelchair_places: int
    shift: list[str]


class BreakdownOut(_Out):
    vehicle_id: str
    moved: dict[str, str] = Field(description="booking id -> the vehicle it moved to")
    needs_operator: list[str] = Field(description="bookings no vehicle could take")


class RestoreOut(_Out):
    vehicle_id: str
    service_date: str
    out_of_service: bool
