"""SQLModel table models. They never leave ``dispatch.persistence``: the service maps them to domain types.

Schema changes go through alembic (``dispatch/persistence/migrations``); a test checks that the
migrations and these models agree.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class PlaceRow(SQLModel, table=True):
    __tablename__ = "place"
    place_id: str = Field(primary_key=True)
    name: str
    name_en: str
    kana: str = Field(index=True)
    kind: str = Field(index=True)
    lat: float
    lon: float
    note: str = ""  # e.g. where a taxi waits at a station: "pickup: 日本語 / English"
    active: bool = True  # False: removed from the city bundle but still used by bookings (retired)


class CompanyRow(SQLModel, table=True):
    __tablename__ = "company"
    company_id: str = Field(primary_key=True)
    name: str
    name_en: str
    phone: str
    depot_name: str
    depot_lat: float
    depot_lon: float
    active: bool = True


class VehicleRow(SQLModel, table=True):
    __tablename__ = "vehicle"
    vehicle_id: str = Field(primary_key=True)
    company_id: str = Field(foreign_key="company.company_id", index=True)
    kind: str
    plate: str
    seats: int
    wheelchair_places: int
    shift_start_s: int
    shift_end_s: int
    features: str = ""  # comma-separated
    zone_id: str | None = None  # community taxi: serves only this zone and its hubs
    shifts_json: str = ""  # per-day overrides: {"sat": null, "holiday": [start_s, end_s], ...}
    active: bool = True  # False: retired (removed from the bundle while bookings still use it)


class RiderRow(SQLModel, table=True):
    __tablename__ = "rider"
    rider_id: str = Field(primary_key=True)
    name: str = Field(index=True)
    kana: str = Field(index=True)
    phone: str = Field(index=True)
    home_lat: float
    home_lon: float
    district: str
    birth_year: int
    wheelchair: bool = False
    walker: bool = False
    companion: bool = False
    disability_certificate: bool = False
    welfare_bus_pass: bool = False
    consent_data_reuse: bool = False
    source: str = "operator"  # operator (entered in the console or by a guest) | bundle (riders.csv)
    erased_at: datetime | None = None  # personal data removed on the rider's request (rider_event says who)
    consent_given_on: date | None = None
    address: str = ""


class ZoneRow(SQLModel, table=True):
    __tablename__ = "zone"
    zone_id: str = Field(primary_key=True)
    name: str
    name_en: str
    kind: str
    h3_resolution: int
    cells: str  # comma-separated H3 cell ids
    hubs: str = ""  # comma-separated place ids (community zones)
    geometry: str = ""  # GeoJSON geometry as drawn in the bundle


class CityRow(SQLModel, table=True):
    """The city this database serves (one row), as imported from a city bundle (docs/city-bundle.md)."""

    __tablename__ = "city"
    city_id: str = Field(primary_key=True)  # always "city"
    name: str
    name_en: str
    timezone: str
    booking_phone: str
    service_area: str  # GeoJSON geometry (Polygon / MultiPolygon)
    feeds_json: str = "[]"  # [{"feed_id", "path", "realtime": [...]}], paths absolute or URLs
    gbfs_url: str | None = None
    max_walk_m: float = 800.0
    tariff_toml: str
    airport_json: str = ""  # CityAirport as JSON ("" = no airport shared taxi)
    bundle_path: str
    imported_at: datetime


class BookingRow(SQLModel, table=True):
    """One trip of one rider (a party): from the quote to the drop-off, rejection or cancellation."""

    __tablename__ = "booking"
    booking_id: str = Field(primary_key=True)
    rider_id: str = Field(foreign_key="rider.rider_id", index=True)
    service_date: date = Field(index=True)
    status: str = Field(index=True)
    created_at: datetime
    updated_at: datetime
    origin_place_id: str | None = None
    origin_label: str
    origin_lat: float
    origin_lon: float
    dest_place_id: str | None = None
    dest_label: str
    dest_lat: float
    dest_lon: float
    time_mode: str  # pickup_after | arrive_by | on_call
    time_s: int | None = None
    seats: int = 1
    wheelchairs: int = 0
    needs: str = ""  # comma-separated: wheelchair, walker, companion
    options_json: str = "[]"  # the options offered with the quote
    quote_expires_at: datetime | None = None
    chosen_option: int | None = None
    vehicle_id: str | None = Field(default=None, foreign_key="vehicle.vehicle_id", index=True)
    company_id: str | None = Field(default=None, index=True)
    promised_pickup_from_s: int | None = None
    promised_pickup_to_s: int | None = None
    promised_arrival_by_s: int | None = None
    max_ride_time_s: int | None = None
    planned_pickup_s: int | None = None
    planned_dropoff_s: int | None = None
    fare_yen: int | None = None
    fare_json: str | None = None
    arrived_at_s: int | None = None
    picked_up_at_s: int | None = None
    dropped_off_at_s: int | None = None
    reason: str | None = None
    idempotency_key: str | None = Field(default=None, unique=True)
    return_of: str | None = Field(default=None, index=True)
    recurring_rule_id: str | None = Field(default=None, index=True)
    party_seats: int | None = None  # the rider's party when seats/wheelchairs hold the whole car (貸切)
    party_wheelchairs: int | None = None
    anonymised_at: datetime | None = None  # labels, exact points and free text removed (erasure, retention)


class BookingEventRow(SQLModel, table=True):
    """Audit trail: every state change and driver report, who made it, and when. No personal data."""

    __tablename__ = "booking_event"
    event_id: int | None = Field(default=None, primary_key=True)
    booking_id: str = Field(foreign_key="booking.booking_id", index=True)
    at: datetime
    actor: str  # operator:<key label> | company:<id> | system:<job>
    event: str
    from_status: str | None = None
    to_status: str
    detail: str = ""  # JSON; vehicle ids, times, reasons


class VehiclePlanRow(SQLModel, table=True):
    """A vehicle's ordered stops for one service day. Booking writes lock this row first (FOR UPDATE on
    PostgreSQL, BEGIN IMMEDIATE on SQLite); ``version`` lets a long re-optimisation commit only if no
    booking changed the plan while it was solving."""

    __tablename__ = "vehicle_plan"
    __table_args__ = (UniqueConstraint("vehicle_id", "service_date"),)
    plan_id: int | None = Field(default=None, primary_key=True)
    vehicle_id: str = Field(foreign_key="vehicle.vehicle_id", index=True)
    service_date: date = Field(index=True)
    stops_json: str = "[]"  # [[booking_id, "pickup" | "dropoff"], ...]
    version: int = 0
    out_of_service: bool = False
    # Where and when the vehicle last reported a stop: today's remaining plan starts there, not at the depot.
    anchor_lat: float | None = None
    anchor_lon: float | None = None
    anchor_s: int | None = None


class RecurringRuleRow(SQLModel, table=True):
    """A standing booking, e.g. dialysis every Mon/Wed/Fri arriving by 8:30, not on holidays."""

    __tablename__ = "recurring_rule"
    rule_id: str = Field(primary_key=True)
    rider_id: str = Field(foreign_key="rider.rider_id", index=True)
    origin_json: str
    dest_json: str
    time_mode: str
    time_s: int
    weekdays: str  # comma-separated 0..6, Monday = 0
    start_date: date
    end_date: date | None = None
    skip_holidays: bool = True
    exceptions: str = ""  # comma-separated ISO dates
    return_mode: str = "none"  # none | at | call
    return_time_s: int | None = None
    active: bool = True
    created_at: datetime


class ApiKeyRow(SQLModel, table=True):
    """API keys, stored as SHA-256 digests. A company key sees only that company's data."""

    __tablename__ = "api_key"
    key_hash: str = Field(primary_key=True)
    label: str
    role: str  # operator | company
    company_id: str | None = Field(default=None, foreign_key="company.company_id")
    created_at: datetime
    expires_at: datetime | None = None  # set on the old key when it is rotated (a grace period)
    revoked_at: datetime | None = None


class IdempotencyRow(SQLModel, table=True):
    """One Idempotency-Key as one caller used it: claimed before the work starts (so concurrent retries
    wait for the first answer), bound to a hash of the request, finished with the booking it made."""

    __tablename__ = "idempotency_record"
    scope_key: str = Field(primary_key=True)  # sha256 of the caller and the key: keys never cross callers
    request_hash: str
    booking_id: str | None = None
    created_at: datetime


class WebhookEndpointRow(SQLModel, table=True):
    """An HTTPS endpoint a taxi company registered for its events; the secret signs each delivery."""

    __tablename__ = "webhook_endpoint"
    endpoint_id: str = Field(primary_key=True)
    company_id: str = Field(foreign_key="company.company_id", index=True)
    url: str
    secret: str  # needed in clear to sign; shown to the company once, at registration
    event_types: str  # comma-separated, e.g. "run_changed,position"
    active: bool = True
    created_at: datetime
    previous_secret: str | None = None  # after a rotation: still signs until the time below
    previous_secret_expires_at: datetime | None = None


class WebhookDeliveryRow(SQLModel, table=True):
    """The outbox: one row per event and endpoint, delivered in id order per (endpoint, vehicle)."""

    __tablename__ = "webhook_delivery"
    delivery_id: int | None = Field(default=None, primary_key=True)
    endpoint_id: str = Field(foreign_key="webhook_endpoint.endpoint_id", index=True)
    company_id: str = Field(index=True)
    event_id: str
    event_type: str
    ordering_key: str  # the vehicle id ("" for company-wide events): one in flight per key and endpoint
    payload: str  # the exact JSON body that is signed and sent
    status: str = Field(index=True)  # pending | delivered | failed
    attempts: int = 0
    next_attempt_at: datetime
    lease_until: datetime | None = None
    last_status_code: int | None = None
    last_error: str = ""
    created_at: datetime
    delivered_at: datetime | None = None


class ClinicConsentRow(SQLModel, table=True):
    """A rider's consent to rides booked from a clinic's appointments, with the clinic's own patient id."""

    __tablename__ = "clinic_consent"
    clinic_id: str = Field(primary_key=True)
    rider_id: str = Field(primary_key=True, foreign_key="rider.rider_id")
    patient_id: str | None = Field(default=None, index=True)  # issued by the clinic
    return_ride: bool = False  # also book the ride home after the appointment
    consented_at: datetime
    withdrawn_at: datetime | None = None


class ClinicAppointmentRow(SQLModel, table=True):
    """A clinic's FHIR Appointment and the rides booked for it."""

    __tablename__ = "clinic_appointment"
    clinic_id: str = Field(primary_key=True)
    appointment_key: str = Field(primary_key=True)  # identifier system|value, else the resource id
    rider_id: str = Field(foreign_key="rider.rider_id", index=True)
    place_id: str
    start_at: datetime
    end_at: datetime | None = None
    status: str
    booking_id: str | None = None
    return_booking_id: str | None = None
    updated_at: datetime


class AirportBookingRow(SQLModel, table=True):
    """A shared-taxi booking made for a flight ("to flight X" / "from flight X")."""

    __tablename__ = "airport_booking"
    booking_id: str = Field(primary_key=True, foreign_key="booking.booking_id")
    flight: str = Field(index=True)
    service_date: date = Field(index=True)
    direction: str  # departure | arrival
    rider_id: str
    companions: int = 0
    created_at: datetime


class FlightDelayRow(SQLModel, table=True):
    """An arrival delay entered by an operator (or a feed): pickups for the flight move by it."""

    __tablename__ = "flight_delay"
    flight: str = Field(primary_key=True)
    service_date: date = Field(primary_key=True)
    delay_s: int
    updated_at: datetime


class RiderEventRow(SQLModel, table=True):
    """A rider's data-rights trail: consent given or withdrawn (with the day the rider said so), data
    exported, data erased. Who did it and when; no personal data in ``detail``."""

    __tablename__ = "rider_event"
    event_id: int | None = Field(default=None, primary_key=True)
    rider_id: str = Field(foreign_key="rider.rider_id", index=True)
    at: datetime
    actor: str
    event: str  # consent | export | erase
    detail: str = ""  # JSON


class RiderEntitlementRow(SQLModel, table=True):
    """Group-taxi vouchers a rider receives each fiscal year (グループタクシー利用券). The disability
    discount and the elderly pass stay on the rider row (``disability_certificate``,
    ``welfare_bus_pass``)."""

    __tablename__ = "rider_entitlement"
    rider_id: str = Field(foreign_key="rider.rider_id", primary_key=True)
    vouchers_per_year: int = 0
    updated_at: datetime


class VoucherLedgerRow(SQLModel, table=True):
    """One movement of a rider's vouchers: ``use`` (delta < 0) when a booking is confirmed with them,
    ``return`` (delta > 0) when it is cancelled before pickup. Balance of a fiscal year =
    vouchers_per_year + the sum of its deltas; a booking uses and returns at most once."""

    __tablename__ = "voucher_ledger"
    __table_args__ = (UniqueConstraint("booking_id", "kind"),)
    entry_id: int | None = Field(default=None, primary_key=True)
    rider_id: str = Field(foreign_key="rider.rider_id", index=True)
    fiscal_year: int
    booking_id: str = Field(foreign_key="booking.booking_id", index=True)
    kind: str  # use | return
    delta: int
    at: datetime
