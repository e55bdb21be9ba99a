"""Riders' entitlements in bookings: the disability discount and the elderly pass (flags on the
rider), and group-taxi vouchers (グループタクシー利用券: an allowance per fiscal year and a ledger).

A quote applies them through ``fares.quote_for_rider`` (lines of the fare breakdown); confirmation
takes the vouchers the chosen option spends, in the booking's own transaction (409
``voucher_unavailable`` if another booking spent them meanwhile); a cancellation or no-show before
pickup gives them back. The balance never goes below zero."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dispatch.booking import Booking
from dispatch.context import GUEST_RIDER_PREFIX, DispatchContext
from dispatch.domain import Principal, Rider
from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.persistence.entitlements import (
    VoucherEntry,
    add_voucher_entry,
    set_vouchers_per_year,
    voucher_delta,
    voucher_entries,
    vouchers_per_year,
)
from dispatch.persistence.repository import Tx
from fares import Entitlements, fiscal_year

MAX_VOUCHERS_PER_YEAR = 200


@dataclass(frozen=True, slots=True)
class VoucherBalance:
    fiscal_year: int
    per_year: int
    used: int  # net of returns

    @property
    def left(self) -> int:
        return max(0, self.per_year - self.used)


def balance(tx: Tx, rider_id: str, fy: int, *, lock: bool = False) -> VoucherBalance:
    per_year = vouchers_per_year(tx, rider_id, lock=lock)
    return VoucherBalance(fy, per_year, -voucher_delta(tx, rider_id, fy))


def entitlements_in(tx: Tx, rider: Rider | None, d: date) -> Entitlements:
    """What ``rider`` may use on a trip on day ``d`` (nothing for a guest or nobody in particular)."""
    if rider is None or rider.rider_id.startswith(GUEST_RIDER_PREFIX):
        return Entitlements()
    return Entitlements(
        disability=rider.disability_certificate,
        elderly=rider.welfare_bus_pass,
        vouchers_held=balance(tx, rider.rider_id, fiscal_year(d)).left,
    )


def rider_entitlements(ctx: DispatchContext, rider: Rider | None, d: date) -> Entitlements:
    with ctx.repo.read() as tx:
        return entitlements_in(tx, rider, d)


def consume_vouchers(tx: Tx, b: Booking, vouchers: int, at: datetime) -> None:
    """Take the vouchers a confirmed booking spends from its rider's balance (same transaction)."""
    if vouchers <= 0:
        return
    fy = fiscal_year(b.service_date)
    have = balance(tx, b.rider_id, fy, lock=True).left
    if have < vouchers:
        raise Conflict(
            f"the rider has {have} group-taxi voucher(s) left, this option needs {vouchers}; quote again",
            f"タクシー利用券の残りが{have}枚です（この便は{vouchers}枚）。もう一度検索してください",
            code="voucher_unavailable",
        )
    add_voucher_entry(tx, VoucherEntry(b.rider_id, fy, b.booking_id, "use", -vouchers, at))


def return_vouchers(tx: Tx, b: Booking, at: datetime) -> int:
    """Give back what a booking used (it was cancelled or nobody came before pickup); once only."""
    entries = voucher_entries(tx, booking_id=b.booking_id)
    used = [e for e in entries if e.kind == "use"]
    if not used or any(e.kind == "return" for e in entries):
        return 0
    n = -sum(e.delta for e in used)
    add_voucher_entry(tx, VoucherEntry(b.rider_id, used[0].fiscal_year, b.booking_id, "return", n, at))
    return n


class RiderEntitlements:
    """The operator's view and settings of a rider's entitlements."""

    def __init__(self, ctx: DispatchContext) -> None:
        self.ctx = ctx

    def _rider(self, tx: Tx, rider_id: str) -> Rider:
        rider = tx.rider(rider_id)
        if rider is None:
            raise NotFound(f"no rider {rider_id}", f"利用者 {rider_id} は登録されていません")
        return rider

    def get(self, rider_id: str, fy: int | None = None) -> dict[str, Any]:
        fy = fiscal_year(self.ctx.now()) if fy is None else fy
        with self.ctx.repo.read() as tx:
            rider = self._rider(tx, rider_id)
            bal = balance(tx, rider_id, fy)
            entries = [e for e in voucher_entries(tx, rider_id=rider_id) if e.fiscal_year == fy]
        c = self.ctx.tariff.concessions
        return {
            "rider_id": rider_id,
            "fiscal_year": fy,
            "disability_discount": rider.disability_certificate,
            "disability_percent": c.disability_percent,
            "elderly_pass": rider.welfare_bus_pass,
            "elderly_percent": c.elderly_percent,
            "vouchers_per_year": bal.per_year,
            "vouchers_used": bal.used,
            "vouchers_left": bal.left,
            "voucher_value_yen": c.voucher_value_yen,
            "max_vouchers_per_ride": c.max_vouchers_per_rider,
            "ledger": [
                {"booking_id": e.booking_id, "kind": e.kind, "delta": e.delta, "at": e.at.isoformat()}
                for e in entries
            ],
        }

    def set_vouchers_per_year(self, principal: Principal, rider_id: str, vouchers: int) -> dict[str, Any]:
        if not 0 <= vouchers <= MAX_VOUCHERS_PER_YEAR:
            raise Invalid(
                f"vouchers_per_year must be 0..{MAX_VOUCHERS_PER_YEAR}",
                f"年間の利用券枚数は0〜{MAX_VOUCHERS_PER_YEAR}枚で指定してください",
            )
        with self.ctx.repo.write() as tx:
            self._rider(tx, rider_id)
            set_vouchers_per_year(tx, rider_id, vouchers, self.ctx.now())
        return self.get(rider_id)
