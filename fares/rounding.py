"""Rounding money to a unit by a named policy; the only place yen are rounded."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from fares.tariff import Rounding, RoundingMode

_MODES = {RoundingMode.UP: ROUND_CEILING, RoundingMode.DOWN: ROUND_FLOOR, RoundingMode.HALF_UP: ROUND_HALF_UP}


def round_to_unit(amount: Decimal | int, unit_yen: int, mode: RoundingMode) -> int:
    """Round ``amount`` (yen) to a multiple of ``unit_yen``."""
    q = (Decimal(amount) / unit_yen).quantize(Decimal(1), rounding=_MODES[mode])
    return int(q) * unit_yen


def round_yen(amount: Decimal | int, policy: Rounding) -> int:
    return round_to_unit(amount, policy.unit_yen, policy.mode)


def whole_yen(amount: Decimal) -> int:
    """Nearest yen, half up: used only for breakdown lines, never for the amount payable."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))
