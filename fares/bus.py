"""Bus fares from GTFS ``fare_attributes.txt`` / ``fare_rules.txt`` rows, and bus concessions.

Pure: the table is built from rows the caller has read (``gtfs`` reads the files). Matching follows
GTFS fare_rules: a rule matches when each of its non-empty fields (route_id, origin_id,
destination_id) equals the trip's; when several fares match, the cheapest is taken (the rider pays
the lowest applicable fare, as the JR Bus Chugoku feed's per-route duplicates intend).
``contains_id`` rules are not supported yet and are counted in ``ignored_contains_rules``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from fares.quote import Concession, FareError, FareLine
from fares.tariff import Tariff


@dataclass(frozen=True, slots=True)
class BusFareTable:
    prices_yen: Mapping[str, int]
    # (route_id, origin_id, destination_id) with "" as a wildcard -> fare_ids
    rules: Mapping[tuple[str, str, str], tuple[str, ...]]
    ignored_contains_rules: int = 0
    non_yen_fares: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_rows(
        cls, fare_attributes: Iterable[Mapping[str, str]], fare_rules: Iterable[Mapping[str, str]]
    ) -> BusFareTable:
        prices: dict[str, int] = {}
        non_yen: list[str] = []
        for i, row in enumerate(fare_attributes, start=2):
            try:
                fare_id = row["fare_id"].strip()
                price = row["price"].strip()
                currency = row.get("currency_type", "JPY").strip()
            except (KeyError, AttributeError):
                raise FareError(
                    f"fare_attributes.txt line {i}: missing fare_id, price or currency_type"
                ) from None
            if currency != "JPY":
                non_yen.append(fare_id)
                continue
            try:
                value = float(price)
            except ValueError:
                raise FareError(f"fare_attributes.txt line {i}: price {price!r} is not a number") from None
            if value < 0 or value != int(value):
                raise FareError(
                    f"fare_attributes.txt line {i}: price {price!r} is not whole non-negative yen"
                )
            prices[fare_id] = int(value)
        rules: dict[tuple[str, str, str], list[str]] = {}
        ignored = 0
        for i, row in enumerate(fare_rules, start=2):
            fare_id = (row.get("fare_id") or "").strip()
            if fare_id not in prices:
                if fare_id in non_yen:
                    continue
                raise FareError(f"fare_rules.txt line {i}: fare_id {fare_id!r} is not in fare_attributes.txt")
            if (row.get("contains_id") or "").strip():
                ignored += 1
                continue
            key = (
                (row.get("route_id") or "").strip(),
                (row.get("origin_id") or "").strip(),
                (row.get("destination_id") or "").strip(),
            )
            rules.setdefault(key, []).append(fare_id)
        return cls(prices, {k: tuple(v) for k, v in rules.items()}, ignored, tuple(non_yen))

    def fare_yen(self, route_id: str, origin_zone: str, destination_zone: str) -> int | None:
        """Adult cash fare for riding ``route_id`` from one fare zone to another; None when unknown."""
        best: int | None = None
        for r in (route_id, ""):
            for o in (origin_zone, ""):
                for d in (destination_zone, ""):
                    for fare_id in self.rules.get((r, o, d), ()):
                        p = self.prices_yen[fare_id]
                        if best is None or p < best:
                            best = p
        return best


def bus_leg_fare(
    adult_fare_yen: int, tariff: Tariff, concession: Concession | None = None, *, welfare_pass: bool = False
) -> tuple[int, tuple[FareLine, ...]]:
    """What the rider pays for one bus ride: the elderly welfare pass (福祉優待バス乗車券) caps it at
    ¥100 and is free for riders with disabilities; children pay half, rounded up to ¥10."""
    if adult_fare_yen < 0:
        raise FareError("adult_fare_yen must be >= 0")
    lines = [FareLine("bus_fare", "バス運賃", "Bus fare", adult_fare_yen)]
    pay = adult_fare_yen
    b = tariff.bus
    if welfare_pass and concession is Concession.DISABILITY and b.disability_pass_free:
        pay = 0
        lines.append(
            FareLine("welfare_pass", "福祉優待乗車証（無料）", "Welfare pass (free)", -adult_fare_yen)
        )
    elif welfare_pass and adult_fare_yen > b.elderly_pass_fare_yen:
        pay = b.elderly_pass_fare_yen
        lines.append(
            FareLine(
                "welfare_pass",
                f"福祉優待バス乗車券（{b.elderly_pass_fare_yen}円）",
                f"Elderly bus pass (¥{b.elderly_pass_fare_yen})",
                pay - adult_fare_yen,
            )
        )
    elif concession is Concession.CHILD:
        unit = b.child_rounding_unit_yen
        pay = math.ceil(adult_fare_yen / 2 / unit) * unit
        lines.append(FareLine("child", "小児運賃（半額）", "Child fare (half)", pay - adult_fare_yen))
    return pay, tuple(lines)
