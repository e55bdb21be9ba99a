"""The only door to the database for the dispatch service: transactions that speak domain types.

``Repository.write()`` opens a write transaction (BEGIN IMMEDIATE on SQLite; on PostgreSQL row locks
are taken with ``lock=True``), ``read()`` a read-only one on the reader engine. Rows are mapped to the
domain dataclasses by field name; no table model leaves this module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, func, insert, or_, text, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dispatch.booking import AuditEntry, Booking, RecurringRule, VehiclePlan
from dispatch.domain import Principal, Rider
from dispatch.persistence.codec import booking_from_values, booking_row_values
from dispatch.persistence.reference import rider_from_row, rider_to_row
from dispatch.persistence.tables import (
    AirportBookingRow,
    ApiKeyRow,
    BookingEventRow,
    BookingRow,
    ClinicAppointmentRow,
    ClinicConsentRow,
    IdempotencyRow,
    RecurringRuleRow,
    RiderEntitlementRow,
    RiderEventRow,
    RiderRow,
    VehiclePlanRow,
    VoucherLedgerRow,
)

log = logging.getLogger("noriai.dispatch.persistence")
T = TypeVar("T")

# Bookings and plans are read and written with Core statements on their tables, not ORM objects: the
# dispatch path reads and writes them on every event, and loading, tracking and flushing ORM objects
# cost several times the SQL itself. The only conversions are ``_booking_from_row`` and ``_booking_values``.
_BOOKING_TABLE: Table = BookingRow.__table__  # type: ignore[attr-defined]
_PLAN_TABLE: Table = VehiclePlanRow.__table__  # type: ignore[attr-defined]
_BOOKING_COLUMNS = tuple(_BOOKING_TABLE.c)
_BOOKING_NAMES = tuple(c.name for c in _BOOKING_COLUMNS)


def _booking_from_row(row: Any) -> Booking:
    """A booking from a Core row of the booking table (``codec`` turns the JSON columns to types)."""
    return booking_from_values(dict(zip(_BOOKING_NAMES, row, strict=True)))


def _booking_values(b: Booking) -> dict[str, Any]:
    """The booking's column values by name (what ``save_booking`` writes)."""
    return booking_row_values(b)


_PLAN_COLUMNS = tuple(
    _PLAN_TABLE.c[name]
    for name in (
        "vehicle_id",
        "service_date",
        "stops_json",
        "version",
        "out_of_service",
        "anchor_lat",
        "anchor_lon",
        "anchor_s",
    )
)
# Prepared once with bound parameters, so that SQLAlchemy's compiled cache answers each call.
_B, _P = _BOOKING_TABLE.c, _PLAN_TABLE.c
_BOOKING_BY_ID = core_select(*_BOOKING_COLUMNS).where(_B.booking_id == bindparam("key_booking_id"))
_BOOKING_BY_KEY = core_select(*_BOOKING_COLUMNS).where(_B.idempotency_key == bindparam("key_idem"))
_BOOKING_UPDATE = update(_BOOKING_TABLE).where(_B.booking_id == bindparam("key_booking_id"))
_PLAN_BY_ID = core_select(*_PLAN_COLUMNS).where(
    _P.vehicle_id == bindparam("key_vehicle_id"), _P.service_date == bindparam("key_service_date")
)
_PLAN_VERSIONS = core_select(_P.vehicle_id, _P.version).where(
    _P.service_date == bindparam("key_service_date")
)
_PLAN_UPDATE = update(_PLAN_TABLE).where(
    _P.vehicle_id == bindparam("key_vehicle_id"), _P.service_date == bindparam("key_service_date")
)
_BOOKING_FILTERS = ("service_date", "status", "rider_id", "vehicle_id", "company_id", "booking_id")


@cache
def _bookings_query(filters: tuple[str, ...]) -> Any:
    """The bookings query for one combination of filters (status and booking_id are lists)."""
    stmt = core_select(*_BOOKING_COLUMNS)
    for name in filters:
        column = _B[name]
        if name in ("status", "booking_id"):
            stmt = stmt.where(column.in_(bindparam(f"key_{name}", expanding=True)))
        else:
            stmt = stmt.where(column == bindparam(f"key_{name}"))
    return stmt.order_by(_B.service_date, _B.created_at)


@cache
def _plans_query(some: bool, lock: bool) -> Any:
    stmt = core_select(*_PLAN_COLUMNS).where(_P.service_date == bindparam("key_service_date"))
    if some:
        stmt = stmt.where(_P.vehicle_id.in_(bindparam("key_vehicle_ids", expanding=True)))
    stmt = stmt.order_by(_P.vehicle_id)  # one lock order for everybody: no deadlocks
    return stmt.with_for_update() if lock else stmt


def _to_domain(cls: type[T], row: Any) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in row.model_dump().items() if k in names})


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class Claim:
    """What ``claim_idempotency`` found: ``new`` (do the work), ``done`` (its booking), ``in_progress``
    (another request with this key is still working) or ``mismatch`` (the key came with another body)."""

    state: str
    booking_id: str | None = None


class Tx:
    """One transaction. Methods with ``lock=True`` take row locks on PostgreSQL (no-op on SQLite, where
    the write transaction already holds the database's write lock)."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._conn: Connection | None = None
        self._after_commit: list[Callable[[], None]] = []

    def on_commit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once this write transaction has committed (never after a rollback)."""
        self._after_commit.append(fn)

    # --- riders ------------------------------------------------------------------------------------
    def rider(self, rider_id: str) -> Rider | None:
        row = self.s.get(RiderRow, rider_id)
        return rider_from_row(row) if row else None

    def search_riders(self, q: str, limit: int = 20) -> list[Rider]:
        q = q.strip()
        digits = "".join(ch for ch in q if ch.isdigit())
        # kana are stored as hiragana (dispatch.riders.to_hiragana): katakana typed by the operator
        # matches too, and so does a reading typed without the space between family and given name
        hira = "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in q)
        conds = [
            col(RiderRow.name).contains(q, autoescape=True),
            func.replace(RiderRow.name, " ", "").contains(q.replace(" ", ""), autoescape=True),
            col(RiderRow.kana).contains(hira, autoescape=True),
            func.replace(RiderRow.kana, " ", "").contains(
                hira.replace(" ", "").replace("\u3000", ""), autoescape=True
            ),
        ]
        if len(digits) >= 3:
            # phone numbers are stored with hyphens; match on the digits the operator typed
            conds.append(col(RiderRow.phone).contains(q, autoescape=True))
        rows = self.s.exec(select(RiderRow).where(or_(*conds)).order_by(RiderRow.kana).limit(limit)).all()
        out = [rider_from_row(r) for r in rows]
        if len(digits) >= 3 and not out:
            rows = self.s.exec(select(RiderRow)).all()
            out = [rider_from_row(r) for r in rows if digits in r.phone.replace("-", "")][:limit]
        return out

    def rider_by_phone(self, phone: str) -> Rider | None:
        """The rider registered with exactly this phone number (hyphens ignored), if any."""
        found = self.riders_by_phone(phone)
        return found[0] if found else None

    def riders_by_phone(self, phone: str) -> list[Rider]:
        """Every rider with exactly this phone number (hyphens ignored), oldest id first."""
        digits = "".join(ch for ch in phone if ch in "0123456789")
        rows = self.s.exec(
            select(RiderRow).where(col(RiderRow.phone).contains(digits[-4:])).order_by(RiderRow.rider_id)
        ).all()  # (digits only on both sides: "083-000-3001" and "+44 7700 900123" alike)
        return [rider_from_row(r) for r in rows if "".join(c for c in r.phone if c.isdigit()) == digits]

    def lock_phone(self, phone: str) -> None:
        """Writers for this phone number go one at a time until this transaction ends, in every process:
        a PostgreSQL advisory lock (SQLite's BEGIN IMMEDIATE already admits one writer at a time)."""
        if self.s.get_bind().dialect.name != "postgresql":
            return
        digits = "".join(ch for ch in phone if ch in "0123456789")
        key = int.from_bytes(hashlib.sha256(b"phone:" + digits.encode()).digest()[:8], "big", signed=True)
        self.s.connection().execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def add_rider(self, rider: Rider) -> None:
        self.s.add(rider_to_row(rider))
        self.s.flush()

    def update_rider(self, rider: Rider) -> None:
        self.s.merge(rider_to_row(rider))
        self.s.flush()

    # --- idempotency keys ---------------------------------------------------------------------------
    def claim_idempotency(
        self, scope_key: str, request_hash: str, now: datetime, stale_after_s: float
    ) -> Claim:
        """Claim a key for one request before doing its work. A claim left unfinished for longer than
        ``stale_after_s`` (its process died) is taken over."""
        stmt = select(IdempotencyRow).where(IdempotencyRow.scope_key == scope_key).with_for_update()
        row = self.s.exec(stmt).first()
        if row is None:
            self.s.add(IdempotencyRow(scope_key=scope_key, request_hash=request_hash, created_at=now))
            self.s.flush()  # a concurrent claim of the same key fails here (primary key) or at commit
            return Claim("new")
        if row.request_hash != request_hash:
            return Claim("mismatch")
        if row.booking_id is not None:
            return Claim("done", row.booking_id)
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=now.tzinfo)
        if (now - created).total_seconds() > stale_after_s:
            row.created_at = now
            self.s.add(row)
            return Claim("new")
        return Claim("in_progress")

    def finish_idempotency(self, scope_key: str, booking_id: str) -> None:
        row = self.s.get(IdempotencyRow, scope_key)
        if row is not None:
            row.booking_id = booking_id
            self.s.add(row)

    def release_idempotency(self, scope_key: str) -> None:
        """Forget an unfinished claim (its request failed), so that a retry does the work again."""
        row = self.s.get(IdempotencyRow, scope_key)
        if row is not None and row.booking_id is None:
            self.s.delete(row)

    # --- bookings ----------------------------------------------------------------------------------
    def _core(self, stmt: Any, params: Mapping[str, Any]) -> Any:
        """Run a prepared Core statement in this transaction, after writing what the session holds
        (Core statements run no autoflush)."""
        if self.s.new or self.s.dirty or self.s.deleted:
            self.s.flush()
        if self._conn is None:  # the session's connection for this transaction (asked once: not cheap)
            self._conn = self.s.connection()
        return self._conn.execute(stmt, dict(params))

    def booking(self, booking_id: str, *, lock: bool = False) -> Booking | None:
        stmt = _BOOKING_BY_ID.with_for_update() if lock else _BOOKING_BY_ID
        row = self._core(stmt, {"key_booking_id": booking_id}).first()
        return _booking_from_row(row) if row else None

    def booking_by_idempotency_key(self, key: str) -> Booking | None:
        row = self._core(_BOOKING_BY_KEY, {"key_idem": key}).first()
        return _booking_from_row(row) if row else None

    def bookings(
        self,
        *,
        service_date: date | None = None,
        statuses: Sequence[str] | None = None,
        rider_id: str | None = None,
        vehicle_id: str | None = None,
        company_id: str | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[Booking]:
        given = dict(
            zip(
                _BOOKING_FILTERS,
                (
                    service_date,
                    list(statuses) if statuses is not None else None,
                    rider_id,
                    vehicle_id,
                    company_id,
                    list(ids) if ids is not None else None,
                ),
                strict=True,
            )
        )
        params = {f"key_{k}": v for k, v in given.items() if v is not None}
        stmt = _bookings_query(tuple(k for k, v in given.items() if v is not None))
        return [_booking_from_row(r) for r in self._core(stmt, params).all()]

    def save_booking(self, b: Booking) -> None:
        """Insert or update the booking's row at once (audit rows reference it)."""
        values = _booking_values(b)
        done = self._core(_BOOKING_UPDATE, {"key_booking_id": b.booking_id, **values})
        if done.rowcount == 0:
            self._core(insert(_BOOKING_TABLE), values)

    def audit(self, e: AuditEntry) -> None:
        self.s.add(BookingEventRow(**dataclasses.asdict(e)))

    def audit_trail(self, booking_id: str) -> list[AuditEntry]:
        rows = self.s.exec(
            select(BookingEventRow)
            .where(BookingEventRow.booking_id == booking_id)
            .order_by(col(BookingEventRow.event_id))
        ).all()
        return [_to_domain(AuditEntry, r) for r in rows]

    # --- vehicle plans -----------------------------------------------------------------------------
    def plan(self, vehicle_id: str, service_date: date, *, lock: bool = False) -> VehiclePlan:
        stmt = _PLAN_BY_ID.with_for_update() if lock else _PLAN_BY_ID
        row = self._core(stmt, {"key_vehicle_id": vehicle_id, "key_service_date": service_date}).first()
        if row is None:
            return VehiclePlan(vehicle_id, service_date)
        return _plan(row)

    def plans(
        self, service_date: date, *, lock: bool = False, vehicle_ids: Sequence[str] | None = None
    ) -> dict[str, VehiclePlan]:
        """The day's plan rows (only ``vehicle_ids``' when given), locked in vehicle order with ``lock``."""
        params: dict[str, Any] = {"key_service_date": service_date}
        if vehicle_ids is not None:
            params["key_vehicle_ids"] = list(vehicle_ids)
        rows = self._core(_plans_query(vehicle_ids is not None, lock), params).all()
        return {r.vehicle_id: _plan(r) for r in rows}

    def plan_versions(self, service_date: date) -> dict[str, int]:
        """Each plan row's version for the day (no stops decoded): who has to look at a plan again."""
        rows = self._core(_PLAN_VERSIONS, {"key_service_date": service_date}).all()
        return {r.vehicle_id: r.version for r in rows}

    def add_empty_plan(self, vehicle_id: str, service_date: date) -> None:
        """Insert an empty plan row (an IntegrityError if the row exists: never overwrites one)."""
        p = VehiclePlan(vehicle_id, service_date)
        self._core(
            insert(_PLAN_TABLE),
            {
                "vehicle_id": vehicle_id,
                "service_date": service_date,
                "stops_json": "[]",
                "version": p.version,
                "out_of_service": p.out_of_service,
                "anchor_lat": None,
                "anchor_lon": None,
                "anchor_s": None,
            },
        )

    def save_plan(self, p: VehiclePlan) -> None:
        values = {
            "stops_json": json.dumps([list(s) for s in p.stops]),
            "version": p.version,
            "out_of_service": p.out_of_service,
            "anchor_lat": p.anchor_lat,
            "anchor_lon": p.anchor_lon,
            "anchor_s": p.anchor_s,
        }
        key = {"key_vehicle_id": p.vehicle_id, "key_service_date": p.service_date}
        if self._core(_PLAN_UPDATE, {**key, **values}).rowcount == 0:
            self._core(
                insert(_PLAN_TABLE),
                {"vehicle_id": p.vehicle_id, "service_date": p.service_date, **values},
            )

    # --- recurring rules ---------------------------------------------------------------------------
    def add_rule(self, rule: RecurringRule) -> None:
        self.s.add(RecurringRuleRow(**dataclasses.asdict(rule)))

    def rules(self, *, rider_id: str | None = None, active_only: bool = True) -> list[RecurringRule]:
        stmt = select(RecurringRuleRow)
        if rider_id is not None:
            stmt = stmt.where(RecurringRuleRow.rider_id == rider_id)
        if active_only:
            stmt = stmt.where(col(RecurringRuleRow.active).is_(True))
        return [_to_domain(RecurringRule, r) for r in self.s.exec(stmt.order_by(RecurringRuleRow.rule_id))]

    # --- API keys ----------------------------------------------------------------------------------
    def principal_for_key(self, key: str, now: datetime | None = None) -> Principal | None:
        """Who holds ``key``; None for an unknown, revoked or expired key."""
        row = self.s.get(ApiKeyRow, key_digest(key))
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and _utc(row.expires_at) <= (now or datetime.now(UTC)):
            return None
        return Principal(row.role, row.label, row.company_id)

    def api_keys(self) -> list[ApiKey]:
        rows = self.s.exec(select(ApiKeyRow).order_by(col(ApiKeyRow.created_at))).all()
        return [
            ApiKey(r.key_hash[:12], r.label, r.role, r.company_id, r.created_at, r.expires_at, r.revoked_at)
            for r in rows
        ]

    def retire_keys(self, label: str, *, at: datetime, revoke: bool, keep: str | None = None) -> int:
        """Revoke (now) or expire (at ``at``) every live key with ``label`` but ``keep``; returns how many."""
        n = 0
        for r in self.s.exec(select(ApiKeyRow).where(ApiKeyRow.label == label)).all():
            if r.revoked_at is not None or (keep is not None and r.key_hash == key_digest(keep)):
                continue
            if revoke:
                r.revoked_at = at
            elif r.expires_at is None or _utc(r.expires_at) > at:
                r.expires_at = at
            self.s.add(r)
            n += 1
        return n

    def add_key(self, key: str, principal: Principal, at: datetime) -> bool:
        if self.s.get(ApiKeyRow, key_digest(key)) is not None:
            return False
        self.s.add(
            ApiKeyRow(
                key_hash=key_digest(key),
                label=principal.label,
                role=principal.role,
                company_id=principal.company_id,
                created_at=at,
            )
        )
        return True

    # --- riders' data rights -----------------------------------------------------------------------
    def rider_record(self, rider_id: str) -> dict[str, Any] | None:
        """Every column of the rider's row, as JSON values (the export)."""
        row = self.s.get(RiderRow, rider_id)
        return row.model_dump(mode="json") if row else None

    def rider_erased(self, rider_id: str) -> bool:
        row = self.s.get(RiderRow, rider_id)
        return row is not None and row.erased_at is not None

    def booking_records(self, rider_id: str) -> list[dict[str, Any]]:
        rows = self.s.exec(
            select(BookingRow)
            .where(BookingRow.rider_id == rider_id)
            .order_by(col(BookingRow.service_date), col(BookingRow.created_at))
        ).all()
        return [r.model_dump(mode="json") for r in rows]

    def audit_records(self, booking_ids: Sequence[str]) -> list[dict[str, Any]]:
        rows = self.s.exec(
            select(BookingEventRow)
            .where(col(BookingEventRow.booking_id).in_(list(booking_ids)))
            .order_by(col(BookingEventRow.event_id))
        ).all()
        return [r.model_dump(mode="json") for r in rows]

    def rule_records(self, rider_id: str) -> list[dict[str, Any]]:
        rows = self.s.exec(select(RecurringRuleRow).where(RecurringRuleRow.rider_id == rider_id)).all()
        return [r.model_dump(mode="json") for r in rows]

    def linked_records(self, rider_id: str) -> dict[str, list[dict[str, Any]]]:
        """The rider's rows in the other tables: clinic consents (with the clinic's patient id), clinic
        appointments, airport bookings, voucher entitlement and the voucher ledger."""
        tables: dict[str, Any] = {
            "clinic_consents": ClinicConsentRow,
            "clinic_appointments": ClinicAppointmentRow,
            "airport_bookings": AirportBookingRow,
            "entitlements": RiderEntitlementRow,
            "voucher_ledger": VoucherLedgerRow,
        }
        return {
            name: [r.model_dump(mode="json") for r in self.s.exec(select(t).where(t.rider_id == rider_id))]
            for name, t in tables.items()
        }

    def rider_events(self, rider_id: str) -> list[dict[str, Any]]:
        rows = self.s.exec(
            select(RiderEventRow)
            .where(RiderEventRow.rider_id == rider_id)
            .order_by(col(RiderEventRow.event_id))
        ).all()
        return [r.model_dump(mode="json") for r in rows]

    def add_rider_event(
        self, rider_id: str, at: datetime, actor: str, event: str, detail: dict[str, Any]
    ) -> None:
        self.s.add(
            RiderEventRow(rider_id=rider_id, at=at, actor=actor, event=event, detail=json.dumps(detail))
        )

    def set_consent(self, rider_id: str, data_reuse: bool) -> None:
        row = self.s.get(RiderRow, rider_id)
        assert row is not None
        row.consent_data_reuse = data_reuse
        self.s.add(row)

    def erase_rider(self, rider_id: str, at: datetime, anonymise: Anonymiser) -> int:
        """Remove the rider's personal data from every table: name, kana and phone emptied, home
        coarsened, birth year to its decade, consent off; their bookings and standing rules anonymised.
        Returns the number of bookings anonymised. The rider id stays (it carries no personal data), so
        trip facts keep their rider count."""
        row = self.s.get(RiderRow, rider_id)
        assert row is not None
        row.name, row.kana, row.phone = "", "", ""
        row.home_lat, row.home_lon = anonymise.home(row.home_lat, row.home_lon)
        row.birth_year = row.birth_year // 10 * 10
        row.consent_data_reuse = False
        row.erased_at = at
        self.s.add(row)
        for rule in self.s.exec(select(RecurringRuleRow).where(RecurringRuleRow.rider_id == rider_id)).all():
            rule.origin_json = _anonymise_endpoint(rule.origin_json, anonymise)
            rule.dest_json = _anonymise_endpoint(rule.dest_json, anonymise)
            rule.active = False
            self.s.add(rule)
        # A clinic's patient id and its appointments (which clinic, when) are health data: removed; the
        # rides themselves stay as anonymous trip facts below.
        for t in (ClinicConsentRow, ClinicAppointmentRow):
            for linked in self.s.exec(select(t).where(t.rider_id == rider_id)).all():
                self.s.delete(linked)
        ids = [b for b in self.s.exec(select(BookingRow.booking_id).where(BookingRow.rider_id == rider_id))]
        return self.anonymise_bookings(ids, at, anonymise)

    def finished_bookings_before(self, d: date, statuses: Sequence[str]) -> list[str]:
        """Ids of bookings before day ``d`` in one of ``statuses`` and not anonymised yet."""
        stmt = select(BookingRow.booking_id).where(
            BookingRow.service_date < d,
            col(BookingRow.status).in_(list(statuses)),
            col(BookingRow.anonymised_at).is_(None),
        )
        return list(self.s.exec(stmt).all())

    def anonymise_bookings(self, booking_ids: Sequence[str], at: datetime, anonymise: Anonymiser) -> int:
        """Keep the trip facts (day, status, times, seats, fare, H3 cell of each end, public places),
        drop the rest: labels of private points, exact points (snapped to their cell's centre), free
        text (a reason keeps its leading code only), idempotency keys, free text in the audit details;
        and the vehicle plans' last-stop anchors that were these exact points; a clinic appointment
        behind these rides (its key may be the clinic's own identifier) is removed."""
        n = 0
        for i in range(0, len(booking_ids), 500):
            batch = list(booking_ids[i : i + 500])
            appointments = select(ClinicAppointmentRow).where(
                or_(
                    col(ClinicAppointmentRow.booking_id).in_(batch),
                    col(ClinicAppointmentRow.return_booking_id).in_(batch),
                )
            )
            for appointment in self.s.exec(appointments).all():
                self.s.delete(appointment)
            rows = self.s.exec(
                select(BookingRow).where(col(BookingRow.booking_id).in_(booking_ids[i : i + 500]))
            )
            for b in rows.all():
                points = {(b.origin_lat, b.origin_lon), (b.dest_lat, b.dest_lon)}
                if b.origin_place_id is None:
                    b.origin_label = ""
                    b.origin_lat, b.origin_lon = anonymise.point(b.origin_lat, b.origin_lon)
                if b.dest_place_id is None:
                    b.dest_label = ""
                    b.dest_lat, b.dest_lon = anonymise.point(b.dest_lat, b.dest_lon)
                b.reason = anonymise.reason(b.reason)
                b.idempotency_key = None
                b.anonymised_at = at
                self.s.add(b)
                for e in self.s.exec(
                    select(BookingEventRow).where(BookingEventRow.booking_id == b.booking_id)
                ):
                    e.detail = anonymise.detail(e.detail)
                    self.s.add(e)
                if b.vehicle_id is not None:
                    plan = self.s.exec(
                        select(VehiclePlanRow).where(
                            VehiclePlanRow.vehicle_id == b.vehicle_id,
                            VehiclePlanRow.service_date == b.service_date,
                        )
                    ).first()
                    if plan is not None and (plan.anchor_lat, plan.anchor_lon) in points:
                        assert plan.anchor_lat is not None and plan.anchor_lon is not None
                        plan.anchor_lat, plan.anchor_lon = anonymise.point(plan.anchor_lat, plan.anchor_lon)
                        self.s.add(plan)
                n += 1
        return n


@dataclasses.dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as the key command lists it: never the key itself (only a prefix of its digest)."""

    digest_prefix: str
    label: str
    role: str
    company_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class Anonymiser:
    """How personal data is made anonymous (``dispatch.rights`` supplies the functions)."""

    point: Callable[[float, float], tuple[float, float]]
    home: Callable[[float, float], tuple[float, float]]
    reason: Callable[[str | None], str | None]
    detail: Callable[[str], str]


def _anonymise_endpoint(text: str, anonymise: Anonymiser) -> str:
    d = json.loads(text)
    if d.get("kind") != "place":
        d["label"] = ""
        if d.get("lat") is not None and d.get("lon") is not None:
            d["lat"], d["lon"] = anonymise.point(d["lat"], d["lon"])
    return json.dumps(d)


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


@lru_cache(maxsize=8192)
def _plan_stops(stops_json: str) -> tuple[tuple[str, str], ...]:
    """A plan's stops from its JSON text, remembered (immutable): a quote reads every plan of the day,
    and most have not changed since the last one."""
    return tuple((str(b), str(k)) for b, k in json.loads(stops_json))


def _plan(row: Any) -> VehiclePlan:
    return VehiclePlan(
        row.vehicle_id,
        row.service_date,
        _plan_stops(row.stops_json),
        row.version,
        row.out_of_service,
        row.anchor_lat,
        row.anchor_lon,
        row.anchor_s,
    )


class Repository:
    def __init__(self, engine: Engine, read_engine: Engine | None = None) -> None:
        self.engine = engine
        self.read_engine = read_engine or engine

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with Session(self.engine, expire_on_commit=False) as s:
            tx = Tx(s)
            try:
                yield tx
                s.commit()
            except BaseException:
                s.rollback()
                raise
        for fn in tx._after_commit:  # e.g. the live stream: committed is committed, whatever they do
            try:
                fn()
            except Exception:
                log.exception("after-commit callback failed")

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with Session(self.read_engine, expire_on_commit=False) as s:
            yield Tx(s)
            s.rollback()

    def ensure_plans(self, vehicle_ids: Sequence[str], service_date: date) -> None:
        """Create missing plan rows so that later writers have a row to lock (FOR UPDATE needs one)."""
        with self.read() as tx:
            have = set(tx.plans(service_date))
        missing = [v for v in vehicle_ids if v not in have]
        if not missing:
            return
        try:
            with self.write() as tx:
                have = set(tx.plans(service_date))
                for v in missing:
                    if v not in have:
                        # insert only: saving an empty plan would overwrite a row that another
                        # process created and booked into since ``have`` was read (its stops lost)
                        tx.add_empty_plan(v, service_date)
        except IntegrityError:
            pass  # another writer created them first; that is all we wanted
