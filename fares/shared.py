"""Per-rider fares for a pooled taxi (相乗り / 乗合), by the rule the tariff configures.

- ``distance_split``: the pooled route's fare is split in proportion to each rider's own direct
  distance; each share is capped at the rider's solo fare less the sharing discount, so pooling never
  costs a rider more than riding alone (the operator, not the rider, carries a long detour).
- ``zone_flat``: 区域運行 flat fare per (pickup zone, drop-off zone) pair; ``*`` matches any zone.

Concessions and vouchers are applied to each rider's fare afterwards, as for a solo trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from fares.quote import FareError, FareInputs, FareLine, FareQuote, _apply_discounts, _Ledger, quote
from fares.rounding import round_yen
from fares.tariff import Tariff


@dataclass(frozen=True, slots=True)
class SharedRider:
    """One rider of a pooled taxi: their own direct trip (as if alone) and their zones."""

    rider_ref: str
    direct: FareInputs
    pickup_zone: str | None = None
    dropoff_zone: str | None = None


@dataclass(frozen=True, slots=True)
class SharedFare:
    rider_ref: str
    solo: FareQuote  # what this rider would pay alone (same concessions and vouchers)
    shared: FareQuote


def zone_flat_fare(tariff: Tariff, from_zone: str | None, to_zone: str | None) -> int:
    best: int | None = None
    best_rank = 99
    for zf in tariff.shared.zone_fare:
        match_from = zf.from_zone == from_zone or zf.from_zone == "*"
        match_to = zf.to_zone == to_zone or zf.to_zone == "*"
        if match_from and match_to:
            rank = (zf.from_zone == "*") + (zf.to_zone == "*")  # the most specific rule wins
            if rank < best_rank:
                best, best_rank = zf.fare_yen, rank
    if best is None:
        raise FareError(f"no flat zone fare for {from_zone} -> {to_zone} in tariff {tariff.tariff_id}")
    return best


def shared_fares(
    riders: Sequence[SharedRider],
    tariff: Tariff,
    *,
    pooled: FareInputs | None = None,
    quoted_at: datetime | None = None,
) -> list[SharedFare]:
    """Each rider's fare for one pooled vehicle. ``pooled`` is the whole pooled route (for the split);
    without it each rider pays their solo fare less the sharing discount."""
    if not riders:
        raise FareError("a shared ride needs at least one rider")
    solos = [quote(r.direct, tariff, quoted_at=quoted_at) for r in riders]
    out: list[SharedFare] = []
    if tariff.shared.rule == "zone_flat":
        for r, solo in zip(riders, solos, strict=True):
            flat = zone_flat_fare(tariff, r.pickup_zone, r.dropoff_zone)
            ledger = _Ledger()
            ledger.settle(flat, "zone_flat", "区域運行 定額運賃", "Zone flat fare")
            total = _apply_discounts(ledger, flat, r.direct, tariff)
            shared = FareQuote(
                total, flat, tuple(ledger.lines), r.direct, Decimal(1), solo.valid_from, solo.valid_until
            )
            # A rider alone in a zone service pays the same flat fare, so solo and shared coincide.
            out.append(SharedFare(r.rider_ref, shared, shared))
        return out

    discount = tariff.shared.sharing_discount_percent
    pooled_fare = quote(pooled, tariff).fare_before_discounts_yen if pooled is not None else None
    total_direct_m = sum(r.direct.distance_m for r in riders)
    for r, solo in zip(riders, solos, strict=True):
        cap = Decimal(solo.fare_before_discounts_yen) * (100 - discount) / 100
        ledger = _Ledger()
        ledger.settle(solo.fare_before_discounts_yen, "solo_fare", "単独乗車の確定運賃", "Solo fixed fare")
        if pooled_fare is not None and total_direct_m > 0:
            share = Decimal(pooled_fare) * r.direct.distance_m / total_direct_m
            amount = min(share, cap)
        else:
            amount = cap
        fare = min(round_yen(amount, tariff.rounding), solo.fare_before_discounts_yen)
        ledger.settle(
            fare,
            "sharing",
            f"相乗り割引（距離按分・上限{discount}%引）",
            f"Shared ride (distance split, capped at {discount}% off)",
        )
        total = _apply_discounts(ledger, fare, r.direct, tariff)
        shared = FareQuote(
            total,
            fare,
            tuple(ledger.lines),
            r.direct,
            solo.coefficient,
            solo.valid_from,
            solo.valid_until,
            notes=("shared ride",),
        )
        out.append(SharedFare(r.rider_ref, solo, shared))
    return out


__all__ = ["FareLine", "SharedFare", "SharedRider", "shared_fares", "zone_flat_fare"]
