"""The dispatch service: one facade over the dispatch use cases. Routes, the trip planner, the
simulator and the CLI call this; each method hands over to the module that owns the use case:

- ``quotes``: quote, preview, confirm (instant insertion, fixed fares, the promise); ``guest``: book_guest
- ``operations``: cancel, driver events, re-optimisation, breakdowns, ``check_day``, data reuse
- ``runs``: company runs with live ETAs, position reports
- ``recurring``: return trips, on-call bookings, recurring rules and their materialisation
- ``access``: riders, vehicles and bookings read with the caller's rights
- ``day_model``: the one mapping between dispatch and the solver; ``context``: clock, audit, notify

Every write happens in one repository transaction that first locks the plan rows it changes; the
promise made to a rider (pickup window, latest arrival, maximum ride time) is stored with the booking
and becomes a hard time window in every later solve, so no insertion, re-optimisation or breakdown
can break it. Company notifications are sent after the commit and never hold a transaction open.

Personal data (names, phones, addresses, destinations) is never logged here: log lines carry
booking, rider and vehicle ids only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from dispatch import access, guest, operations, presentation, quotes, recurring, runs
from dispatch.booking import (
    AuditEntry,
    Booking,
    BookingEvent,
    PromisePolicy,
    QuoteOption,
    RecurringRule,
    TimeRequest,
)
from dispatch.context import GUEST, GUEST_RIDER_PREFIX, SYSTEM, TOKYO, DispatchContext
from dispatch.day_model import DayModel, PointMatrix, ins_times
from dispatch.domain import Principal, ReferenceData, Rider, Vehicle
from dispatch.inputs import Endpoint, EndpointKind, GuestBookingRequest, QuoteRequest, RuleRequest
from dispatch.live import LiveStore
from dispatch.notify import Notifier
from dispatch.persistence.repository import Repository
from fares import Tariff
from geo import LatLon, TravelTimeModel

__all__ = [
    "GUEST",
    "GUEST_RIDER_PREFIX",
    "SYSTEM",
    "TOKYO",
    "DayModel",
    "DispatchService",
    "Endpoint",
    "EndpointKind",
    "GuestBookingRequest",
    "Notifier",
    "PointMatrix",
    "QuoteRequest",
    "RuleRequest",
    "ins_times",
]


class DispatchService:
    """The dispatch use cases behind one object with a stable set of methods (see the module doc)."""

    def __init__(
        self,
        repo: Repository,
        reference: ReferenceData,
        tariff: Tariff,
        travel: TravelTimeModel,
        *,
        live: LiveStore | None = None,
        notifier: Notifier | None = None,
        policy: PromisePolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.ctx = ctx = DispatchContext(
            repo, reference, tariff, travel, live=live, notifier=notifier, policy=policy, clock=clock
        )
        # the shared state, read-only for callers (the same objects as the use cases see)
        self.repo, self.reference, self.tariff, self.travel = repo, reference, tariff, travel
        self.matrix, self.live, self.notifier, self.policy = ctx.matrix, live, ctx.notifier, ctx.policy
        self.places, self.companies, self.vehicles = ctx.places, ctx.companies, ctx.vehicles
        self.zones = ctx.zones

    # --- the clock, replaceable (tests and the simulator move time) ---------------------------------
    @property
    def clock(self) -> Callable[[], datetime]:
        return self.ctx.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self.ctx.clock = clock

    # --- time ---------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.ctx.now()

    def service_seconds(self, d: date, at: datetime | None = None) -> int:
        """Seconds after midnight of service day ``d`` (GTFS style: past 86,400 after midnight)."""
        return self.ctx.service_seconds(d, at)

    def wall_clock(self, d: date, seconds: int) -> datetime:
        return self.ctx.wall_clock(d, seconds)

    # --- riders, vehicles, bookings (access) --------------------------------------------------------
    def search_riders(self, q: str) -> list[Rider]:
        return access.search_riders(self.ctx, q)

    def rider(self, rider_id: str) -> Rider:
        return access.rider_by_id(self.ctx, rider_id)

    def rider_for(self, principal: Principal, rider_id: str) -> Rider:
        """A company may see a rider only while it carries one of the rider's bookings."""
        return access.rider_for(self.ctx, principal, rider_id)

    def vehicle(self, principal: Principal, vehicle_id: str) -> Vehicle:
        return access.vehicle_for(self.ctx, principal, vehicle_id)

    def resolve(self, e: Endpoint, rider: Rider) -> tuple[str, LatLon, str | None]:
        return access.resolve(self.ctx, e, rider)

    def booking(self, principal: Principal, booking_id: str) -> Booking:
        return access.booking_for(self.ctx, principal, booking_id)

    def audit_trail(self, booking_id: str) -> list[AuditEntry]:
        return access.audit_trail(self.ctx, booking_id)

    def bookings(self, *, service_date: date | None = None, rider_id: str | None = None) -> list[Booking]:
        return access.list_bookings(self.ctx, service_date=service_date, rider_id=rider_id)

    def read_back(self, b: Booking, rider: Rider | None = None) -> dict[str, str]:
        """The sentence the operator reads to the rider (Japanese) and its English version."""
        return presentation.read_back(b, rider or self.rider(b.rider_id), self.ctx.companies)

    # --- quotes -------------------------------------------------------------------------------------
    def quote(self, principal: Principal, req: QuoteRequest) -> Booking:
        """Options for a trip, stored as a ``quoted`` booking (or ``rejected`` with the reason)."""
        return quotes.quote(self.ctx, principal, req)

    def preview(
        self, origin: LatLon, destination: LatLon, d: date, time: TimeRequest, *, seats: int = 1
    ) -> tuple[tuple[QuoteOption, ...], str | None]:
        """Options for a trip by nobody in particular (the trip planner's taxi leg), nothing stored."""
        return quotes.preview(self.ctx, origin, destination, d, time, seats=seats)

    def confirm(
        self,
        principal: Principal,
        booking_id: str,
        option: int,
        idempotency_key: str | None = None,
        *,
        intended: bool = False,
    ) -> Booking:
        """Book one of the quoted options (idempotent per key and per option); a duplicate of a live
        booking is refused unless ``intended``."""
        return quotes.confirm(self.ctx, principal, booking_id, option, idempotency_key, intended=intended)

    def book_guest(
        self,
        g: GuestBookingRequest,
        idempotency_key: str | None = None,
        *,
        op: str = "guest_booking",
        before_confirm: Callable[[Booking], None] | None = None,
    ) -> Booking:
        """A booking made by the rider themself from the trip planner: find or register, quote, confirm
        (``before_confirm`` may rewrite the quote's options first, as the airport's fixed fare does)."""
        return guest.book_guest(self.ctx, g, idempotency_key, op=op, before_confirm=before_confirm)

    # --- the running day (operations) ---------------------------------------------------------------
    def cancel(self, principal: Principal, booking_id: str, reason: str = "") -> Booking:
        return operations.cancel(self.ctx, principal, booking_id, reason)

    def stop_event(self, principal: Principal, booking_id: str, event: BookingEvent) -> Booking:
        return operations.stop_event(self.ctx, principal, booking_id, event)

    def reoptimise_day(
        self, d: date, *, time_limit_s: float = 5.0, seed: int = 0, iterations: int | None = None
    ) -> dict[str, Any]:
        """Improve the whole day from its current plan; commits only if no plan changed meanwhile.
        ``iterations``: a fixed number of search steps instead of the time limit (reproducible)."""
        return operations.reoptimise_day(
            self.ctx, d, time_limit_s=time_limit_s, seed=seed, iterations=iterations
        )

    def vehicle_breakdown(self, principal: Principal, vehicle_id: str, d: date) -> dict[str, Any]:
        """Take a vehicle out of service for the day and move its waiting riders to other vehicles."""
        return operations.vehicle_breakdown(self.ctx, principal, vehicle_id, d)

    def restore_vehicle(self, principal: Principal, vehicle_id: str, d: date) -> dict[str, Any]:
        """Put a vehicle taken out of service back in service for the day."""
        return operations.restore_vehicle(self.ctx, principal, vehicle_id, d)

    def check_day(self, d: date) -> list[str]:
        """Independent audit of a day; an empty list means all good."""
        return operations.check_day(self.ctx, d)

    def reusable_trips(self, d: date, resolution: int = 8) -> list[dict[str, Any]]:
        """The day's trips for analysis, from riders who opted in, without personal data."""
        return operations.reusable_trips(self.ctx, d, resolution)

    # --- runs for companies -------------------------------------------------------------------------
    def runs(self, principal: Principal, d: date, vehicle_id: str | None = None) -> list[dict[str, Any]]:
        """Each vehicle's run for the day, with what the driver needs."""
        return runs.runs(self.ctx, principal, d, vehicle_id)

    def report_position(self, principal: Principal, vehicle_id: str, point: LatLon) -> None:
        runs.report_position(self.ctx, principal, vehicle_id, point)

    # --- return trips, on-call and recurring bookings -----------------------------------------------
    def add_return(self, principal: Principal, booking_id: str, mode: str, time_s: int | None) -> Booking:
        """The trip back: at a time (a new quote) or 'call when ready' (an on_call booking)."""
        return recurring.add_return(self.ctx, principal, booking_id, mode, time_s)

    def call(self, principal: Principal, booking_id: str) -> Booking:
        """The rider phoned: quote the waiting return trip for pickup from now on."""
        return recurring.call(self.ctx, principal, booking_id)

    def add_rule(self, principal: Principal, rr: RuleRequest) -> RecurringRule:
        return recurring.add_rule(self.ctx, principal, rr)

    def materialise(self, d: date) -> list[dict[str, Any]]:
        """Create the day's bookings from the recurring rules (once per rule and day)."""
        return recurring.materialise(self.ctx, d)
