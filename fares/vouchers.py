"""Group taxi vouchers (グループタクシー利用券): riders sharing an ordinary taxi pool their vouchers,
which reduce the amount payable; what remains is split among the group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fares.quote import FareError
from fares.tariff import Tariff


@dataclass(frozen=True, slots=True)
class GroupSplit:
    fare_yen: int
    vouchers_used: tuple[int, ...]  # per member
    voucher_total_yen: int
    payable_yen: int
    per_member_yen: tuple[int, ...]  # sums to payable_yen


def split_group_fare(fare_yen: int, vouchers_held: Sequence[int], tariff: Tariff) -> GroupSplit:
    """Vouchers cover at most the fare (no change is given); each member uses at most
    ``max_vouchers_per_rider``; the rest is split evenly, the first members paying the odd yen."""
    if fare_yen < 0:
        raise FareError("fare_yen must be >= 0")
    if not vouchers_held:
        raise FareError("a group needs at least one member")
    if any(v < 0 for v in vouchers_held):
        raise FareError("voucher counts must be >= 0")
    c = tariff.concessions
    remaining = fare_yen
    used: list[int] = []
    for held in vouchers_held:
        n = 0
        # Never spend a voucher that would only produce change.
        while n < min(held, c.max_vouchers_per_rider) and remaining > 0 and c.voucher_value_yen > 0:
            remaining = max(0, remaining - c.voucher_value_yen)
            n += 1
        used.append(n)
    voucher_total = fare_yen - remaining
    k = len(vouchers_held)
    base, odd = divmod(remaining, k)
    per = tuple(base + (1 if i < odd else 0) for i in range(k))
    return GroupSplit(fare_yen, tuple(used), voucher_total, remaining, per)
