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

from fares.quote import FareError, FareInputs, FareLine, FareQuote, Ledger, apply_discounts, quote
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
            ledger = Ledger()
            ledger.settle(flat, "zone_flat", "区域運行 定額運賃", "Zone flat fare")
            total = apply_discounts(ledger, flat, r.direct, tariff)
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
        ledger = Ledger()
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
        total = apply_discounts(ledger, fare, r.direct, tariff)
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


def shared_offer(rider: SharedRider, tariff: Tariff, *, quoted_at: datetime | None = None) -> SharedFare:
    """The shared-ride (相乗り) option offered at booking beside the private one: a fixed fare, known
    before pickup and kept whether or not anyone joins, so a rider who joins later never changes it.

    ``distance_split``: the solo fixed fare less the sharing discount (the most the split could ever
    charge a rider); ``zone_flat``: the zone pair's flat fare. Never dearer than the private (solo)
    fare, which is ``solo``; concessions and vouchers (``rider.direct``) apply to both alike."""
    solo = quote(rider.direct, tariff, quoted_at=quoted_at)
    before = solo.fare_before_discounts_yen
    ledger = Ledger()
    ledger.settle(before, "solo_fare", "単独乗車の確定運賃", "Solo fixed fare")
    if tariff.shared.rule == "zone_flat":
        fare = min(before, zone_flat_fare(tariff, rider.pickup_zone, rider.dropoff_zone))
        ja, en = (
            "相乗り 区域定額運賃（相乗りがなくても確定）",
            "Shared ride, zone flat fare (fixed even if nobody joins)",
        )
    else:
        pct = tariff.shared.sharing_discount_percent
        fare = min(before, round_yen(Decimal(before) * (100 - pct) / 100, tariff.rounding))
        ja = f"相乗り割引 {pct}%（相乗りがなくても確定）"
        en = f"Shared ride {pct}% off (fixed even if nobody joins)"
    ledger.settle(fare, "sharing", ja, en)
    total = apply_discounts(ledger, fare, rider.direct, tariff)
    shared = FareQuote(
        total,
        fare,
        tuple(ledger.lines),
        rider.direct,
        solo.coefficient,
        solo.valid_from,
        solo.valid_until,
        notes=("shared ride",),
    )
    return SharedFare(rider.rider_ref, solo, shared)


__all__ = ["FareLine", "SharedFare", "SharedRider", "shared_fares", "shared_offer", "zone_flat_fare"]
