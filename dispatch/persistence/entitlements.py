"""Riders' group-taxi vouchers in the database (tables rider_entitlement, voucher_ledger), read and
written inside the caller's transaction so that a voucher is taken in the same commit as the booking
it pays for, and given back in the same commit as the cancellation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import col, select

from dispatch.persistence.repository import Tx
from dispatch.persistence.tables import BookingRow, RiderEntitlementRow, VoucherLedgerRow
from fares import FareQuote


@dataclass(frozen=True, slots=True)
class VoucherEntry:
    rider_id: str
    fiscal_year: int
    booking_id: str
    kind: str  # use | return
    delta: int
    at: datetime


def vouchers_per_year(tx: Tx, rider_id: str, *, lock: bool = False) -> int:
    """The rider's yearly allowance; ``lock`` takes the row lock that serialises spending (PostgreSQL)."""
    q = select(RiderEntitlementRow).where(RiderEntitlementRow.rider_id == rider_id)
    row = tx.s.exec(q.with_for_update() if lock else q).first()
    return row.vouchers_per_year if row else 0


def set_vouchers_per_year(tx: Tx, rider_id: str, vouchers: int, at: datetime) -> None:
    row = tx.s.get(RiderEntitlementRow, rider_id) or RiderEntitlementRow(rider_id=rider_id, updated_at=at)
    row.vouchers_per_year, row.updated_at = vouchers, at
    tx.s.add(row)


def voucher_delta(tx: Tx, rider_id: str, fiscal_year: int) -> int:
    """The sum of the ledger's movements for the rider in that fiscal year (uses negative)."""
    total = tx.s.exec(
        select(func.coalesce(func.sum(VoucherLedgerRow.delta), 0)).where(
            VoucherLedgerRow.rider_id == rider_id, VoucherLedgerRow.fiscal_year == fiscal_year
        )
    ).one()
    return int(total)


def voucher_entries(
    tx: Tx, *, booking_id: str | None = None, rider_id: str | None = None
) -> list[VoucherEntry]:
    q = select(VoucherLedgerRow)
    if booking_id is not None:
        q = q.where(VoucherLedgerRow.booking_id == booking_id)
    if rider_id is not None:
        q = q.where(VoucherLedgerRow.rider_id == rider_id)
    rows = tx.s.exec(q.order_by(col(VoucherLedgerRow.entry_id))).all()
    return [VoucherEntry(r.rider_id, r.fiscal_year, r.booking_id, r.kind, r.delta, r.at) for r in rows]


def add_voucher_entry(tx: Tx, e: VoucherEntry) -> None:
    tx.s.add(
        VoucherLedgerRow(
            rider_id=e.rider_id,
            fiscal_year=e.fiscal_year,
            booking_id=e.booking_id,
            kind=e.kind,
            delta=e.delta,
            at=e.at,
        )
    )
    tx.s.flush()  # the unique (booking_id, kind) answers now, inside the caller's transaction


def vouchers_by_booking(tx: Tx, booking_ids: list[str]) -> dict[str, int]:
    """Vouchers each booking still holds (used and not returned)."""
    if not booking_ids:
        return {}
    rows = tx.s.exec(
        select(VoucherLedgerRow.booking_id, func.sum(VoucherLedgerRow.delta))
        .where(col(VoucherLedgerRow.booking_id).in_(booking_ids))
        .group_by(col(VoucherLedgerRow.booking_id))
    ).all()
    return {b: -int(d) for b, d in rows if d}


@dataclass(frozen=True, slots=True)
class BilledBooking:
    booking_id: str
    rider_id: str
    company_id: str
    status: str
    service_date: date
    fare: FareQuote | None  # the fixed fare, read back from its JSON here (the only place that reads it)


def bookings_between(tx: Tx, first: date, last: date, company_id: str | None) -> list[BilledBooking]:
    """Bookings given to a company (all of them, or ``company_id``'s) with a service date in
    [first, last]."""
    q = select(BookingRow).where(
        col(BookingRow.service_date) >= first,
        col(BookingRow.service_date) <= last,
        col(BookingRow.company_id).is_not(None),
    )
    if company_id is not None:
        q = q.where(BookingRow.company_id == company_id)
    return [
        BilledBooking(
            r.booking_id,
            r.rider_id,
            r.company_id or "",
            r.status,
            r.service_date,
            FareQuote.from_dict(json.loads(r.fare_json)) if r.fare_json else None,
        )
        for r in tx.s.exec(q.order_by(col(BookingRow.booking_id))).all()
    ]
