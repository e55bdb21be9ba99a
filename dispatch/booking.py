"""Bookings: the lifecycle state machine, time requests and recurring rules. Pure domain code.

Lifecycle (予約の状態)::

    quoted ──confirm──> confirmed ──assign──> scheduled ──pick_up──> picked_up ──drop_off──> dropped_off
      │                   │   ^                 │  │
      │ reject            │   └───unassign──────┘  └──no_show──> no_show
      v                   v                     │
    rejected           cancelled <───cancel─────┘
    on_call ──call──> quoted   ("call when ready" return trips wait here until the rider phones)

``confirmed`` means the rider was promised a pickup window, arrival and fare; ``scheduled`` that a
vehicle's run carries the booking. A vehicle breakdown that leaves a rider without a vehicle moves
the booking back to ``confirmed`` (the promise stands; an operator must act).
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

import jpholiday

from fares import FareQuote
from geo import LatLon


class BookingStatus(enum.StrEnum):
    ON_CALL = "on_call"
    QUOTED = "quoted"
    CONFIRMED = "confirmed"
    SCHEDULED = "scheduled"
    PICKED_UP = "picked_up"
    DROPPED_OFF = "dropped_off"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    REJECTED = "rejected"

    @property
    def label_ja(self) -> str:
        return _LABELS_JA[self]

    @property
    def final(self) -> bool:
        return self in FINAL_STATES


_LABELS_JA = {
    BookingStatus.ON_CALL: "呼出待ち",
    BookingStatus.QUOTED: "見積済",
    BookingStatus.CONFIRMED: "予約確定（配車待ち）",
    BookingStatus.SCHEDULED: "配車済",
    BookingStatus.PICKED_UP: "乗車中",
    BookingStatus.DROPPED_OFF: "降車済",
    BookingStatus.CANCELLED: "取消",
    BookingStatus.NO_SHOW: "不在（ノーショー）",
    BookingStatus.REJECTED: "お断り",
}

FINAL_STATES = frozenset(
    {BookingStatus.DROPPED_OFF, BookingStatus.CANCELLED, BookingStatus.NO_SHOW, BookingStatus.REJECTED}
)
# States whose rider holds a place in a vehicle's plan.
ACTIVE_STATES = frozenset({BookingStatus.SCHEDULED, BookingStatus.PICKED_UP})


class BookingEvent(enum.StrEnum):
    CALL = "call"
    CONFIRM = "confirm"
    REJECT = "reject"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    ARRIVE = "arrive"  # the driver is at the pickup; the state does not change
    PICK_UP = "pick_up"
    NO_SHOW = "no_show"
    DROP_OFF = "drop_off"
    CANCEL = "cancel"


S, E = BookingStatus, BookingEvent
TRANSITIONS: dict[tuple[BookingStatus, BookingEvent], BookingStatus] = {
    (S.ON_CALL, E.CALL): S.QUOTED,
    (S.ON_CALL, E.CANCEL): S.CANCELLED,
    (S.QUOTED, E.CONFIRM): S.CONFIRMED,
    (S.QUOTED, E.REJECT): S.REJECTED,
    (S.QUOTED, E.CANCEL): S.CANCELLED,
    (S.CONFIRMED, E.ASSIGN): S.SCHEDULED,
    (S.CONFIRMED, E.CANCEL): S.CANCELLED,
    (S.SCHEDULED, E.ASSIGN): S.SCHEDULED,  # moved to another vehicle by re-optimisation
    (S.SCHEDULED, E.UNASSIGN): S.CONFIRMED,
    (S.SCHEDULED, E.ARRIVE): S.SCHEDULED,
    (S.SCHEDULED, E.PICK_UP): S.PICKED_UP,
    (S.SCHEDULED, E.NO_SHOW): S.NO_SHOW,
    (S.SCHEDULED, E.CANCEL): S.CANCELLED,
    (S.PICKED_UP, E.DROP_OFF): S.DROPPED_OFF,
}
del S, E


class TransitionError(ValueError):
    """An event that the booking's current state does not allow (e.g. drop-off before pick-up)."""

    def __init__(self, status: BookingStatus, event: BookingEvent) -> None:
        self.status, self.event = status, event
        super().__init__(f"cannot {event.value} a booking that is {status.value} ({status.label_ja})")


def next_status(status: BookingStatus, event: BookingEvent) -> BookingStatus:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise TransitionError(status, event) from None


class TimeMode(enum.StrEnum):
    PICKUP_AFTER = "pickup_after"  # 「9時以降に迎えに来て」
    ARRIVE_BY = "arrive_by"  # 「10時の予約に間に合うように」


@dataclass(frozen=True, slots=True)
class TimeRequest:
    mode: TimeMode
    time_s: int  # seconds after midnight of the service day (may pass 86,400)

    def __post_init__(self) -> None:
        if not 0 <= self.time_s < 2 * 86_400:
            raise ValueError(f"time_s must be within the service day, got {self.time_s}")


@dataclass(frozen=True, slots=True)
class PromisePolicy:
    """How a quote turns into what the rider is told, and how far the search looks."""

    pickup_window_before_s: int = 5 * 60  # window opens this long before the planned pickup ...
    pickup_window_after_s: int = 10 * 60  # ... and closes this long after it: 15 min in all
    search_after_s: int = 60 * 60  # pickup-after: how late a pickup may be offered
    arrive_early_s: int = 30 * 60  # arrive-by: how early an arrival may be offered
    arrive_margin_s: int = 10 * 60  # arrive-by: a lone rider is planned to arrive this long before
    ride_factor: float = 1.5  # max ride time = factor x direct + extra
    ride_extra_s: int = 10 * 60
    boarding_s: int = 60
    boarding_wheelchair_s: int = 180
    alighting_s: int = 60
    quote_valid_s: int = 10 * 60


@dataclass(frozen=True, slots=True)
class RecurrenceRule:
    """E.g. dialysis every Mon/Wed/Fri at 8:30, not on public holidays, except listed dates."""

    weekdays: frozenset[int]  # 0 = Monday
    start: date
    end: date | None = None
    skip_holidays: bool = True
    exceptions: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError("weekdays must be a non-empty subset of 0..6 (Monday = 0)")
        if self.end is not None and self.end < self.start:
            raise ValueError("end date is before the start date")

    def occurs_on(self, day: date) -> bool:
        if day < self.start or (self.end is not None and day > self.end):
            return False
        if day.weekday() not in self.weekdays or day in self.exceptions:
            return False
        return not (self.skip_holidays and jpholiday.is_holiday(day))


def hhmm(seconds: int) -> str:
    """Service-day clock text, GTFS style: 25:10 is 1:10 the next morning."""
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}"


_REASON_CODE = re.compile(r"[a-z][a-z_]*")


def reason_code(text: str | None) -> str | None:
    """The machine code a reason starts with (``needs_operator: ...`` -> ``needs_operator``), or None
    for free text, which may name a rider or give a phone number and is never copied to the audit."""
    if not text:
        return None
    head = text.split(":", 1)[0].strip()
    return head if _REASON_CODE.fullmatch(head) else None


def parse_hhmm(text: str) -> int:
    """'9:05' / '09:05' / '25:10' -> seconds after midnight; ValueError with the text otherwise."""
    try:
        h, m = text.strip().split(":")
        hours, minutes = int(h), int(m)
    except ValueError:
        raise ValueError(f"expected a time like 9:05, got {text!r}") from None
    if not (0 <= hours < 48 and 0 <= minutes < 60):
        raise ValueError(f"expected a time like 9:05, got {text!r}")
    return hours * 3600 + minutes * 60


@dataclass(frozen=True, slots=True)
class QuoteOption:
    """One vehicle's offer for a quoted trip: the promise it would make (pickup window, latest arrival,
    maximum ride time) and its fixed fare. The one shape from the insertion to the API; only
    persistence turns it into JSON. Times are seconds of the service day."""

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
    fare: FareQuote
    plan_version: int
    # shared (相乗り: others may join; the lower fixed fare holds whether or not they do) or private
    # (貸切: the solo fixed fare, the vehicle's seats are the rider's for the ride). Rows written before
    # this field read back as "shared".
    fare_type: str = "shared"

    @property
    def fare_yen(self) -> int:
        return self.fare.total_yen


@dataclass(frozen=True, slots=True)
class Booking:
    """A booking as the service sees it (persistence maps it to and from its table row by field name)."""

    booking_id: str
    rider_id: str
    service_date: date
    status: BookingStatus
    created_at: datetime
    updated_at: datetime
    origin_label: str
    origin_lat: float
    origin_lon: float
    dest_label: str
    dest_lat: float
    dest_lon: float
    time_mode: str
    time_s: int | None = None
    origin_place_id: str | None = None
    dest_place_id: str | None = None
    seats: int = 1
    wheelchairs: int = 0
    needs: str = ""
    options: tuple[QuoteOption, ...] = ()
    quote_expires_at: datetime | None = None
    chosen_option: int | None = None
    vehicle_id: str | None = None
    company_id: str | None = None
    promised_pickup_from_s: int | None = None
    promised_pickup_to_s: int | None = None
    promised_arrival_by_s: int | None = None
    max_ride_time_s: int | None = None
    planned_pickup_s: int | None = None
    planned_dropoff_s: int | None = None
    fare_yen: int | None = None
    fare: FareQuote | None = None
    arrived_at_s: int | None = None
    picked_up_at_s: int | None = None
    dropped_off_at_s: int | None = None
    reason: str | None = None
    idempotency_key: str | None = None
    return_of: str | None = None
    recurring_rule_id: str | None = None
    # The rider's party where the booking holds more of its vehicle than that: a private ride (貸切)
    # holds every seat and place, so ``seats``/``wheelchairs`` are then the car's. None: they are the party.
    party_seats: int | None = None
    party_wheelchairs: int | None = None

    @property
    def state(self) -> BookingStatus:
        return BookingStatus(self.status)

    @property
    def party(self) -> tuple[int, int]:
        """(seats, wheelchairs) of the rider's party, whatever the booking holds of the vehicle."""
        return (
            self.seats if self.party_seats is None else self.party_seats,
            self.wheelchairs if self.party_wheelchairs is None else self.party_wheelchairs,
        )

    @property
    def origin(self) -> LatLon:
        return LatLon(self.origin_lat, self.origin_lon)

    @property
    def destination(self) -> LatLon:
        return LatLon(self.dest_lat, self.dest_lon)


@dataclass(frozen=True, slots=True)
class VehiclePlan:
    """A vehicle's remaining stops for a day, in order: (booking_id, "pickup" | "dropoff")."""

    vehicle_id: str
    service_date: date
    stops: tuple[tuple[str, str], ...] = ()
    version: int = 0
    out_of_service: bool = False
    anchor_lat: float | None = None  # last reported stop: the rest of the day starts here ...
    anchor_lon: float | None = None
    anchor_s: int | None = None  # ... at this time

    @property
    def anchor(self) -> LatLon | None:
        return (
            LatLon(self.anchor_lat, self.anchor_lon)
            if self.anchor_lat is not None and self.anchor_lon is not None
            else None
        )

    def without(self, booking_id: str, kind: str | None = None) -> tuple[tuple[str, str], ...]:
        return tuple(s for s in self.stops if not (s[0] == booking_id and (kind is None or s[1] == kind)))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    booking_id: str
    at: datetime
    actor: str
    event: str
    from_status: str | None
    to_status: str
    detail: str


def new_booking_id() -> str:
    """B and 8 random digits (B48291735), said on the phone as 4829-1735 (presentation.booking_number).
    10^8 numbers; ``context.unused_booking_id`` draws again in the rare case one is taken."""
    return "B" + "".join(secrets.choice("0123456789") for _ in range(8))


@dataclass(frozen=True, slots=True)
class RecurringRule:
    """A standing order as stored: the trip (endpoints as JSON), the time asked and the recurrence."""

    rule_id: str
    rider_id: str
    origin_json: str
    dest_json: str
    time_mode: str
    time_s: int
    weekdays: str
    start_date: date
    end_date: date | None
    skip_holidays: bool
    exceptions: str
    return_mode: str
    return_time_s: int | None
    active: bool
    created_at: datetime
