"""Fares: pure functions of a trip and a tariff (no database, clock or network inside).

- ``quote(inputs, tariff)``: the pre-determined taxi fare (事前確定運賃) with its breakdown.
- ``shared_fares(riders, tariff, pooled=...)``: per-rider fares in a pooled taxi; ``shared_offer``: the
  fixed shared-ride fare offered at booking (never dearer than solo, kept whoever joins).
- ``split_group_fare``: group taxi vouchers.
- ``BusFareTable`` / ``bus_leg_fare``: GTFS bus fares and the elderly welfare pass.
"""

from fares.bus import BusFareTable, bus_leg_fare
from fares.quote import (
    Concession,
    FareError,
    FareInputs,
    FareLine,
    FareQuote,
    Ledger,
    apply_discounts,
    coefficient_for,
    destination_change,
    meter_fare_yen,
    quote,
    recompute,
)
from fares.shared import SharedFare, SharedRider, shared_fares, shared_offer, zone_flat_fare
from fares.tariff import RoundingMode, Tariff, TariffError, VehicleClass, load_tariff, parse_tariff
from fares.vouchers import GroupSplit, split_group_fare

__all__ = [
    "BusFareTable",
    "Concession",
    "FareError",
    "FareInputs",
    "FareLine",
    "FareQuote",
    "GroupSplit",
    "Ledger",
    "RoundingMode",
    "SharedFare",
    "SharedRider",
    "Tariff",
    "TariffError",
    "VehicleClass",
    "apply_discounts",
    "bus_leg_fare",
    "coefficient_for",
    "destination_change",
    "load_tariff",
    "meter_fare_yen",
    "parse_tariff",
    "quote",
    "recompute",
    "shared_fares",
    "shared_offer",
    "split_group_fare",
    "zone_flat_fare",
]
