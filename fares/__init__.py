"""Fares: pure functions of a trip and a tariff (no database, clock or network inside).

- ``quote(inputs, tariff)``: the pre-determined taxi fare (事前確定運賃) with its breakdown.
- ``shared_fares(riders, tariff, pooled=...)``: per-rider fares in a pooled taxi; ``shared_offer``: the
  fixed shared-ride fare offered at booking (never dearer than solo, kept whoever joins).
- ``quote_for_rider(inputs, tariff, entitlements)``: the fare with a rider's concession and
  group-taxi vouchers as breakdown lines (``Entitlements``, ``fiscal_year``);
  ``shared_offer_for_rider``: the same for the shared-ride offer; ``fare_type``: private or shared.
- ``split_group_fare``: group taxi vouchers.
- ``BusFareTable`` / ``bus_leg_fare``: GTFS bus fares and the elderly welfare pass.
"""

from fares.bus import BusFareTable, bus_leg_fare
from fares.entitlements import (
    Entitlements,
    concession_for,
    concession_yen,
    fare_type,
    fiscal_year,
    quote_for_rider,
    shared_offer_for_rider,
    voucher_yen,
    vouchers_to_use,
)
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
    "Entitlements",
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
    "concession_for",
    "concession_yen",
    "destination_change",
    "fare_type",
    "fiscal_year",
    "load_tariff",
    "meter_fare_yen",
    "parse_tariff",
    "quote",
    "quote_for_rider",
    "recompute",
    "shared_fares",
    "shared_offer",
    "shared_offer_for_rider",
    "split_group_fare",
    "voucher_yen",
    "vouchers_to_use",
    "zone_flat_fare",
]
