"""Pre-determined taxi fares (事前確定運賃): pure functions of a trip and a tariff.

The fare is the meter fare estimated on the planned route (distance and expected slow time), scaled by
the vehicle class and the night surcharge, times the approved coefficient for the area, weekday and
hour, rounded by the tariff's policy, plus the pickup fee; then concessions and vouchers. Everything
needed to recompute it is kept in ``FareInputs`` and stored with the booking.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import jpholiday

from fares.rounding import round_yen, whole_yen
from fares.tariff import WEEKDAYS, MeterTariff, Tariff, VehicleClass


class Concession(StrEnum):
    DISABILITY = "disability"
    ELDERLY = "elderly"
    CHILD = "child"


class FareError(ValueError):
    """A request that cannot be priced (e.g. a time outside the tariff's validity)."""


@dataclass(frozen=True, slots=True)
class FareLine:
    code: str
    label_ja: str
    label_en: str
    amount_yen: int


@dataclass(frozen=True, slots=True)
class FareInputs:
    """Everything a quote depends on, as stored with the booking (JSON-safe via ``to_dict``)."""

    tariff_id: str
    tariff_version: str
    distance_m: int
    duration_s: int
    pickup_at: datetime  # local time, Asia/Tokyo (naive or aware; only its wall clock is used)
    vehicle_class: VehicleClass = VehicleClass.SMALL
    area_id: str | None = None
    slow_time_s: int = 0
    concession: Concession | None = None
    vouchers: int = 0

    def __post_init__(self) -> None:
        if self.distance_m < 0 or self.duration_s < 0 or self.slow_time_s < 0:
            raise FareError("distance_m, duration_s and slow_time_s must be >= 0")
        if self.slow_time_s > self.duration_s:
            raise FareError("slow_time_s cannot exceed duration_s")
        if self.vouchers < 0:
            raise FareError("vouchers must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["pickup_at"] = self.pickup_at.isoformat()
        d["vehicle_class"] = self.vehicle_class.value
        d["concession"] = self.concession.value if self.concession else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FareInputs:
        return cls(
            tariff_id=d["tariff_id"],
            tariff_version=d["tariff_version"],
            distance_m=int(d["distance_m"]),
            duration_s=int(d["duration_s"]),
            pickup_at=datetime.fromisoformat(d["pickup_at"]),
            vehicle_class=VehicleClass(d["vehicle_class"]),
            area_id=d.get("area_id"),
            slow_time_s=int(d.get("slow_time_s", 0)),
            concession=Concession(d["concession"]) if d.get("concession") else None,
            vouchers=int(d.get("vouchers", 0)),
        )


@dataclass(frozen=True, slots=True)
class FareQuote:
    total_yen: int
    fare_before_discounts_yen: int
    lines: tuple[FareLine, ...]
    inputs: FareInputs
    coefficient: Decimal
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_yen": self.total_yen,
            "fare_before_discounts_yen": self.fare_before_discounts_yen,
            "tariff_id": self.inputs.tariff_id,
            "tariff_version": self.inputs.tariff_version,
            "coefficient": str(self.coefficient),
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "breakdown": [asdict(x) for x in self.lines],
            "inputs": self.inputs.to_dict(),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FareQuote:
        """The quote back from ``to_dict`` (stored quotes are read back exactly, breakdown included)."""
        return cls(
            total_yen=int(d["total_yen"]),
            fare_before_discounts_yen=int(d["fare_before_discounts_yen"]),
            lines=tuple(FareLine(**x) for x in d["breakdown"]),
            inputs=FareInputs.from_dict(d["inputs"]),
            coefficient=Decimal(d["coefficient"]),
            valid_from=datetime.fromisoformat(d["valid_from"]) if d.get("valid_from") else None,
            valid_until=datetime.fromisoformat(d["valid_until"]) if d.get("valid_until") else None,
            notes=tuple(d.get("notes", ())),
        )


# --- building blocks -------------------------------------------------------------------------------


def meter_fare_yen(distance_m: int, slow_time_s: int, meter: MeterTariff) -> tuple[int, int]:
    """Small-vehicle meter fare as (distance part, time part), both integer yen.

    Distance: the initial fare covers ``initial_distance_m``; each started ``step_distance_m`` beyond it
    adds a step (the meter ticks as the boundary is passed, so exactly 1,255 m is still ¥680).
    Time: each completed ``time_step_s`` below the slow speed adds a time step.
    """
    extra_m = max(0, distance_m - meter.initial_distance_m)
    distance_part = meter.initial_fare_yen + math.ceil(extra_m / meter.step_distance_m) * meter.step_fare_yen
    time_part = (slow_time_s // meter.time_step_s) * meter.time_step_fare_yen
    return distance_part, time_part


def is_holiday(day: datetime) -> bool:
    return bool(jpholiday.is_holiday(day.date()))


def coefficient_for(tariff: Tariff, pickup_at: datetime, area_id: str | None) -> tuple[Decimal, str]:
    """The approved coefficient for this area, weekday and hour: first matching rule, else default."""
    day = "holiday" if is_holiday(pickup_at) else WEEKDAYS[pickup_at.weekday()]
    hour = pickup_at.hour
    for rule in tariff.predetermined.coefficient:
        if rule.areas and area_id not in rule.areas:
            continue
        if rule.weekdays and day not in rule.weekdays:
            continue
        if rule.hours is not None and not (rule.hours[0] <= hour < rule.hours[1]):
            continue
        return rule.coefficient, rule.name
    return tariff.predetermined.default_coefficient, "default"


def _check_validity(tariff: Tariff, at: datetime) -> None:
    d = at.date()
    if d < tariff.valid_from or (tariff.valid_to is not None and d > tariff.valid_to):
        raise FareError(
            f"tariff {tariff.tariff_id} {tariff.version} is valid {tariff.valid_from} to "
            f"{tariff.valid_to or 'open'}, not on {d}"
        )


class Ledger:
    """Running exact amount with integer breakdown lines that always sum to the whole-yen total.

    ``set_exact`` moves the exact (Decimal) amount and books the whole-yen change as a line;
    ``settle`` books a line that brings the lines to a whole-yen target. Callers building their own
    fares (shared rides, zone fares) use it so every breakdown sums to its total."""

    def __init__(self) -> None:
        self.exact = Decimal(0)
        self.lines: list[FareLine] = []

    @property
    def booked(self) -> int:
        return sum(x.amount_yen for x in self.lines)

    def set_exact(self, new: Decimal, code: str, ja: str, en: str) -> None:
        self.exact = new
        delta = whole_yen(new) - self.booked
        if delta:
            self.lines.append(FareLine(code, ja, en, delta))

    def settle(self, target_yen: int, code: str, ja: str, en: str) -> None:
        delta = target_yen - self.booked
        if delta:
            self.lines.append(FareLine(code, ja, en, delta))
        self.exact = Decimal(target_yen)


def apply_discounts(ledger: Ledger, fare: int, inputs: FareInputs, tariff: Tariff) -> int:
    """Concession (per ``inputs.concession``) then vouchers (``inputs.vouchers``), each as a line;
    returns the amount payable."""
    c = tariff.concessions
    total = fare
    pct = (
        {
            Concession.DISABILITY: c.disability_percent,
            Concession.ELDERLY: c.elderly_percent,
            Concession.CHILD: c.child_percent,
        }.get(inputs.concession)
        if inputs.concession
        else 0
    )
    if pct:
        total = round_yen(Decimal(fare) * (100 - pct) / 100, tariff.rounding)
        names = {
            Concession.DISABILITY: ("障害者割引", "Disability discount"),
            Concession.ELDERLY: ("高齢者割引", "Elderly discount"),
            Concession.CHILD: ("小児割引", "Child discount"),
        }
        ja, en = names[inputs.concession]  # type: ignore[index]
        ledger.settle(total, "concession", f"{ja} {pct}%", f"{en} {pct}%")
    if inputs.vouchers:
        used = min(inputs.vouchers, c.max_vouchers_per_rider) * c.voucher_value_yen
        total = max(0, total - used)
        ledger.settle(total, "voucher", "タクシー利用券", "Taxi vouchers")
    return total


# --- public API ------------------------------------------------------------------------------------


def quote(inputs: FareInputs, tariff: Tariff, *, quoted_at: datetime | None = None) -> FareQuote:
    """The pre-determined fare (事前確定運賃) for one trip. Pure: same inputs, same yen."""
    if (inputs.tariff_id, inputs.tariff_version) != (tariff.tariff_id, tariff.version):
        raise FareError(
            f"inputs were made for tariff {inputs.tariff_id} {inputs.tariff_version}, "
            f"not {tariff.tariff_id} {tariff.version}"
        )
    _check_validity(tariff, inputs.pickup_at)
    vc = tariff.vehicle_class.get(inputs.vehicle_class)
    if vc is None:
        raise FareError(f"tariff {tariff.tariff_id} has no vehicle class {inputs.vehicle_class.value!r}")
    ledger = Ledger()
    dist_part, time_part = meter_fare_yen(inputs.distance_m, inputs.slow_time_s, tariff.meter)
    ledger.set_exact(
        Decimal(dist_part),
        "meter_distance",
        f"距離運賃 {inputs.distance_m:,} m",
        f"Distance fare {inputs.distance_m:,} m",
    )
    if time_part:
        ledger.set_exact(
            Decimal(dist_part + time_part), "meter_time", "時間距離併用運賃", "Slow-traffic time fare"
        )
    if vc.percent != 100:
        ledger.set_exact(
            ledger.exact * vc.percent / 100,
            "vehicle_class",
            f"車種 {inputs.vehicle_class.value} {vc.percent}%",
            f"Vehicle class {inputs.vehicle_class.value} {vc.percent}%",
        )
    night = tariff.night
    if night is not None and night.surcharge_percent and night.applies_at(inputs.pickup_at.time()):
        ledger.set_exact(
            ledger.exact * (100 + night.surcharge_percent) / 100,
            "night",
            f"深夜早朝割増 {night.surcharge_percent}%",
            f"Night surcharge {night.surcharge_percent}%",
        )
    coef, rule = coefficient_for(tariff, inputs.pickup_at, inputs.area_id)
    if coef != 1:
        ledger.set_exact(
            ledger.exact * coef,
            "coefficient",
            f"事前確定係数 {coef}（{rule}）",
            f"Approved coefficient {coef} ({rule})",
        )
    fare = round_yen(ledger.exact, tariff.rounding)
    ledger.settle(
        fare,
        "rounding",
        f"端数処理（{tariff.rounding.unit_yen}円単位）",
        f"Rounding to ¥{tariff.rounding.unit_yen}",
    )
    if vc.pickup_fee_yen:
        fare += vc.pickup_fee_yen
        ledger.settle(fare, "pickup_fee", "迎車料金", "Pickup fee")
    total = apply_discounts(ledger, fare, inputs, tariff)
    valid_until = None
    if quoted_at is not None:
        valid_until = quoted_at + timedelta(seconds=tariff.predetermined.quote_valid_s)
    assert ledger.booked == total, "breakdown lines must sum to the total"
    return FareQuote(
        total_yen=total,
        fare_before_discounts_yen=fare,
        lines=tuple(ledger.lines),
        inputs=inputs,
        coefficient=coef,
        valid_from=quoted_at,
        valid_until=valid_until,
    )


def recompute(stored: dict[str, Any], tariff: Tariff) -> FareQuote:
    """Recompute a stored quote from its saved inputs (``FareQuote.to_dict()['inputs']``)."""
    return quote(FareInputs.from_dict(stored), tariff)


def destination_change(
    original: FareQuote,
    *,
    distance_from_change_m: int,
    slow_time_from_change_s: int,
    changed_at: datetime,
    tariff: Tariff,
) -> FareQuote:
    """A destination change after departure: the original fixed fare plus a new meter fare from the
    change point (class and night surcharge apply; no pre-determined coefficient, as on a meter)."""
    vc = tariff.vehicle_class[original.inputs.vehicle_class]
    dist_part, time_part = meter_fare_yen(distance_from_change_m, slow_time_from_change_s, tariff.meter)
    exact = Decimal(dist_part + time_part) * vc.percent / 100
    night = tariff.night
    if night is not None and night.applies_at(changed_at.time()):
        exact = exact * (100 + night.surcharge_percent) / 100
    meter = round_yen(exact, tariff.rounding)
    total = original.fare_before_discounts_yen + meter
    lines = (
        FareLine(
            "original_fixed_fare", "当初の確定運賃", "Original fixed fare", original.fare_before_discounts_yen
        ),
        FareLine(
            "meter_from_change",
            f"変更地点からのメーター運賃 {distance_from_change_m:,} m",
            f"Meter fare from the change point {distance_from_change_m:,} m",
            meter,
        ),
    )
    inputs = replace(original.inputs, concession=None, vouchers=0)
    return FareQuote(
        total_yen=total,
        fare_before_discounts_yen=total,
        lines=lines,
        inputs=inputs,
        coefficient=original.coefficient,
        notes=("destination changed after departure",),
    )
