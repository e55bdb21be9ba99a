"""What every dispatch use case shares: the reference data, the stores, the clock, the audit trail and
the company notifications. Built once by ``DispatchService``; the use-case modules take it as ``ctx``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from dispatch.area import ServiceRules
from dispatch.booking import AuditEntry, Booking, BookingEvent, BookingStatus, PromisePolicy, new_booking_id
from dispatch.day_cache import DayModelCache
from dispatch.domain import Company, Place, Principal, ReferenceData, Vehicle
from dispatch.live import LiveStore
from dispatch.matrix import PointMatrix
from dispatch.notify import Notifier, NullNotifier
from dispatch.persistence.repository import Repository, Tx
from fares import Tariff
from geo import ServiceZone, TravelTimeModel

TOKYO = ZoneInfo("Asia/Tokyo")
SYSTEM = Principal("system", "scheduler")
GUEST = Principal("public", "trip-planner")
GUEST_RIDER_PREFIX = "G"  # riders registered by the trip planner's guest booking, never by an operator


@runtime_checkable
class TransactionalNotifier(Notifier, Protocol):
    """A notifier with a durable outbox (the company webhooks): ``write_outbox`` adds the event's rows
    in the caller's write transaction, ``publish_stream`` is the live stream alone (after commit)."""

    def write_outbox(self, tx: Tx, company_id: str, event: Mapping[str, Any]) -> None: ...

    def publish_stream(self, company_id: str, event: Mapping[str, Any]) -> None: ...


class DispatchContext:
    """The dispatch service's state: reference data by id, repository, travel times, live store,
    notifier, promise policy and clock. Use cases read it; only ``clock`` is ever replaced (tests)."""

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
        self.repo = repo
        self.reference = reference
        self.tariff = tariff
        self.travel = travel
        self.matrix = PointMatrix(travel)
        self.day_cache = DayModelCache()
        self.live = live
        self.notifier: Notifier = notifier or NullNotifier()
        self.policy = policy or PromisePolicy()
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(TOKYO))
        # Idempotency claims are about requests in flight, so they run on the real clock, not ``clock``.
        self.idempotency_wait_s = 15.0
        self.idempotency_stale_s = 60.0
        self.guest_open_bookings_max: int | None = None  # open bookings per guest phone (the web app sets it)
        self.places: dict[str, Place] = {p.place_id: p for p in reference.places}
        self.companies: dict[str, Company] = {c.company_id: c for c in reference.companies}
        self.vehicles: dict[str, Vehicle] = {v.vehicle_id: v for c in reference.companies for v in c.vehicles}
        self.zones: list[ServiceZone] = [z.zone for z in reference.zones]
        self.rules = ServiceRules(reference)  # service area, community-zone vehicles

    # --- time ---------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock().astimezone(TOKYO)

    def service_seconds(self, d: date, at: datetime | None = None) -> int:
        """Seconds after midnight of service day ``d`` (GTFS style: past 86,400 after midnight)."""
        at = (at or self.now()).astimezone(TOKYO)
        midnight = datetime(d.year, d.month, d.day, tzinfo=TOKYO)
        return int((at - midnight).total_seconds())

    def wall_clock(self, d: date, seconds: int) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=TOKYO) + timedelta(seconds=seconds)

    # --- audit and notifications --------------------------------------------------------------------
    def entry(
        self,
        b: Booking,
        principal: Principal,
        event: BookingEvent | str,
        to: BookingStatus | None,
        detail: Mapping[str, Any],
    ) -> AuditEntry:
        return AuditEntry(
            booking_id=b.booking_id,
            at=self.now().astimezone(UTC),
            actor=principal.actor,
            event=str(event.value if isinstance(event, BookingEvent) else event),
            from_status=b.status if to is not None else None,
            to_status=(to.value if to is not None else b.status),
            detail=json.dumps(dict(detail), ensure_ascii=False),
        )

    def run_changed(self, tx: Tx, company_id: str, vehicle_id: str, d: date, version: int, why: str) -> None:
        """A vehicle's run changed in write transaction ``tx``: the webhook outbox rows are written in
        that transaction (a committed change always has them, a rolled-back one never), and the live
        stream is told once it has committed."""
        event = _run_event(vehicle_id, d, version, why)
        n = self.notifier
        if isinstance(n, TransactionalNotifier):
            n.write_outbox(tx, company_id, event)
            tx.on_commit(lambda: n.publish_stream(company_id, event))
        else:
            tx.on_commit(lambda: n.publish(company_id, event))

    def notify_run(self, company_id: str, vehicle_id: str, d: date, version: int, why: str) -> None:
        """The same event outside any transaction (prefer ``run_changed``: it cannot be lost)."""
        self.notifier.publish(company_id, _run_event(vehicle_id, d, version, why))


def _run_event(vehicle_id: str, d: date, version: int, why: str) -> dict[str, Any]:
    return {
        "type": "run_changed",
        "vehicle_id": vehicle_id,
        "service_date": d.isoformat(),
        "version": version,
        "why": why,
    }


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12].upper()}"


def unused_booking_id(tx: Tx, b: Booking) -> Booking:
    """``b`` with an id no stored booking has (checked in the transaction that stores it)."""
    while tx.booking(b.booking_id) is not None:
        b = replace(b, booking_id=new_booking_id())
    return b


def aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
