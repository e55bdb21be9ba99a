"""Tariff model, loaded from TOML and validated; every error names the file and the field.

Money is integer yen; percentages are integers; coefficients are decimals written as strings
("1.10") so that no binary float ever touches a fare.
"""

from __future__ import annotations

import tomllib
from datetime import date, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Yen = Annotated[int, Field(ge=0, le=1_000_000)]
Percent = Annotated[int, Field(ge=0, le=500)]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]


class TariffError(ValueError):
    """A tariff file is missing, not TOML, or has a bad field; the message says which."""


class RoundingMode(StrEnum):
    UP = "up"
    DOWN = "down"
    HALF_UP = "half_up"


class VehicleClass(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    JUMBO = "jumbo"
    WELFARE = "welfare"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class MeterTariff(_Frozen):
    initial_distance_m: Annotated[int, Field(gt=0)]
    initial_fare_yen: Yen
    step_distance_m: Annotated[int, Field(gt=0)]
    step_fare_yen: Yen
    time_step_s: Annotated[int, Field(gt=0)]
    time_step_fare_yen: Yen
    slow_speed_kmh: Annotated[int, Field(gt=0, le=60)]


def _clock(text: str) -> time:
    try:
        hh, mm = (int(x) for x in text.split(":"))
        return time(hh, mm)
    except (ValueError, TypeError):
        raise ValueError(f"expected HH:MM, got {text!r}") from None


class NightSurcharge(_Frozen):
    start: time
    end: time
    surcharge_percent: Percent

    @field_validator("start", "end", mode="before")
    @classmethod
    def _parse_clock(cls, v: object) -> object:
        return _clock(v) if isinstance(v, str) else v

    def applies_at(self, t: time) -> bool:
        """[start, end) in local time, wrapping midnight when end < start (22:00-05:00)."""
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


class VehicleClassTariff(_Frozen):
    percent: Annotated[int, Field(ge=50, le=300)]
    pickup_fee_yen: Yen = 0


class Rounding(_Frozen):
    unit_yen: Annotated[int, Field(ge=1, le=1000)] = 10
    mode: RoundingMode = RoundingMode.HALF_UP


def _decimal(v: object) -> Decimal:
    if isinstance(v, float):
        raise ValueError('write coefficients as strings, e.g. "1.10", to keep them exact')
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {v!r}") from None
    if not (Decimal("0.5") <= d <= Decimal("2.0")):
        raise ValueError(f"coefficient must be within [0.5, 2.0], got {d}")
    return d


class CoefficientRule(_Frozen):
    name: str = ""
    areas: tuple[str, ...] = ()
    weekdays: tuple[Weekday, ...] = ()
    hours: tuple[int, int] | None = None
    coefficient: Decimal

    @field_validator("coefficient", mode="before")
    @classmethod
    def _coef(cls, v: object) -> Decimal:
        return _decimal(v)

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: tuple[int, int] | None) -> tuple[int, int] | None:
        if v is not None and not (0 <= v[0] < v[1] <= 30):
            raise ValueError(f"hours must be [start, end) with 0 <= start < end <= 30, got {list(v)}")
        return v


class Predetermined(_Frozen):
    default_coefficient: Decimal = Decimal("1.00")
    quote_valid_s: Annotated[int, Field(gt=0, le=7 * 86_400)] = 1800
    coefficient: tuple[CoefficientRule, ...] = ()

    @field_validator("default_coefficient", mode="before")
    @classmethod
    def _coef(cls, v: object) -> Decimal:
        return _decimal(v)


class ZoneFare(_Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    from_zone: str = Field(alias="from")
    to_zone: str = Field(alias="to")
    fare_yen: Yen


class SharedTariff(_Frozen):
    rule: Literal["distance_split", "zone_flat"] = "distance_split"
    sharing_discount_percent: Annotated[int, Field(ge=0, le=100)] = 0
    zone_fare: tuple[ZoneFare, ...] = ()

    @model_validator(mode="after")
    def _zone_fares_present(self) -> SharedTariff:
        if self.rule == "zone_flat" and not self.zone_fare:
            raise ValueError('rule = "zone_flat" needs at least one [[shared.zone_fare]]')
        return self


class AirportTariff(_Frozen):
    """スマート空港タクシー: a fixed fare per person for rides timed to a flight, instead of the meter."""

    fare_per_person_yen: Yen


class Concessions(_Frozen):
    disability_percent: Annotated[int, Field(ge=0, le=100)] = 10
    elderly_percent: Annotated[int, Field(ge=0, le=100)] = 0
    child_percent: Annotated[int, Field(ge=0, le=100)] = 0
    voucher_value_yen: Yen = 500
    max_vouchers_per_rider: Annotated[int, Field(ge=0, le=20)] = 1


class BusConcessions(_Frozen):
    elderly_pass_fare_yen: Yen = 100
    disability_pass_free: bool = True
    child_rounding_unit_yen: Annotated[int, Field(ge=1, le=100)] = 10


class Tariff(_Frozen):
    tariff_id: Annotated[str, Field(min_length=1)]
    version: Annotated[str, Field(min_length=1)]
    name: str = ""
    name_en: str = ""
    valid_from: date
    valid_to: date | None = None
    meter: MeterTariff
    night: NightSurcharge | None = None
    vehicle_class: dict[VehicleClass, VehicleClassTariff]
    rounding: Rounding = Rounding()
    predetermined: Predetermined = Predetermined()
    shared: SharedTariff = SharedTariff()
    concessions: Concessions = Concessions()
    bus: BusConcessions = BusConcessions()
    airport: AirportTariff | None = None

    @model_validator(mode="after")
    def _checks(self) -> Tariff:
        if VehicleClass.SMALL not in self.vehicle_class:
            raise ValueError("vehicle_class.small is required (the base class)")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_tariff(text: str, source: str = "<tariff>") -> Tariff:
    """Parse TOML text into a validated ``Tariff``; raises ``TariffError`` naming source and field."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TariffError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:  # arrays nested thousands deep
        raise TariffError(f"{source}: not valid TOML: nested too deeply") from None
    except ValueError as exc:  # an integer of over 4,300 digits
        raise TariffError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Tariff.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field_path(tuple(first["loc"])) or "(top level)"
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise TariffError(f"{source}: field {field}: {first['msg']}{more}") from None


def load_tariff(path: str | Path) -> Tariff:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TariffError(f"{p}: tariff file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TariffError(f"{p}: cannot read tariff file: {exc}") from None
    return parse_tariff(text, str(p))
