"""A rider's entitlements applied to a fixed fare: the disability discount (障害者割引), the elderly
pass (高齢者割引, when the tariff gives one) and group-taxi vouchers (グループタクシー利用券) still held
this fiscal year, on the private (solo) fare and on the shared-ride offer. Pure: the tariff, the
trip's ``FareInputs`` and the entitlements in, a ``FareQuote`` out; the quote's ``inputs`` record the
concession and the vouchers it spends, so ``recompute`` gives the same yen and the booking knows how
many vouchers to take from the rider's balance."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from fares.quote import Concession, FareError, FareInputs, FareQuote, quote
from fares.shared import SharedRider, shared_offer
from fares.tariff import Tariff


@dataclass(frozen=True, slots=True)
class Entitlements:
    """What a rider may use on a taxi fare. ``vouchers_held``: group-taxi vouchers left this fiscal
    year (the dispatch service reads it from the rider's voucher ledger)."""

    disability: bool = False
    elderly: bool = False
    vouchers_held: int = 0

    def __post_init__(self) -> None:
        if self.vouchers_held < 0:
            raise FareError("vouchers_held must be >= 0")


NONE = Entitlements()


def fiscal_year(day: date | datetime) -> int:
    """The Japanese fiscal year (年度, April to March) a day belongs to: 2027-03-31 is in 2026."""
    return day.year if day.month >= 4 else day.year - 1


def concession_for(ent: Entitlements, tariff: Tariff) -> Concession | None:
    """The one concession that applies: the larger percentage the tariff gives (disability first on a
    tie); none when the tariff gives the rider's concessions 0 %."""
    c = tariff.concessions
    held = [
        (pct, kind)
        for ok, pct, kind in (
            (ent.disability, c.disability_percent, Concession.DISABILITY),
            (ent.elderly, c.elderly_percent, Concession.ELDERLY),
        )
        if ok and pct > 0
    ]
    if not held:
        return None
    best = max(pct for pct, _ in held)
    return next(kind for pct, kind in held if pct == best)


def vouchers_to_use(payable_yen: int, held: int, tariff: Tariff) -> int:
    """How many vouchers to spend on ``payable_yen``: as many as reduce what is paid, at most the
    tariff's per-ride limit and what the rider holds; never one that would only produce change."""
    c = tariff.concessions
    if payable_yen <= 0 or c.voucher_value_yen <= 0:
        return 0
    needed = -(-payable_yen // c.voucher_value_yen)  # ceiling
    return max(0, min(held, c.max_vouchers_per_rider, needed))


def quote_for_rider(
    inputs: FareInputs, tariff: Tariff, ent: Entitlements, *, quoted_at: datetime | None = None
) -> FareQuote:
    """The fixed fare with the rider's concession and vouchers as lines of the breakdown. The
    ``concession`` and ``vouchers`` of ``inputs`` are replaced by what ``ent`` gives."""
    base = replace(inputs, concession=concession_for(ent, tariff), vouchers=0)
    q = quote(base, tariff, quoted_at=quoted_at)
    n = vouchers_to_use(q.total_yen, ent.vouchers_held, tariff)
    return quote(replace(base, vouchers=n), tariff, quoted_at=quoted_at) if n else q


def voucher_yen(q: FareQuote) -> int:
    """The yen the vouchers covered in a quote (what the city reimburses for them)."""
    return -sum(x.amount_yen for x in q.lines if x.code == "voucher")


def concession_yen(q: FareQuote) -> int:
    """The yen the concession took off a quote."""
    return -sum(x.amount_yen for x in q.lines if x.code == "concession")


def shared_offer_for_rider(
    inputs: FareInputs, tariff: Tariff, ent: Entitlements, *, quoted_at: datetime | None = None
) -> FareQuote:
    """The shared-ride (相乗り) fare offered beside the private one (``fares.shared_offer``: fixed
    before pickup, kept whether or not anyone joins), with the rider's concession and as many vouchers
    as reduce it. Never dearer than ``quote_for_rider`` of the same trip."""
    base = replace(inputs, concession=concession_for(ent, tariff), vouchers=0)
    q = shared_offer(SharedRider("", base), tariff, quoted_at=quoted_at).shared
    n = vouchers_to_use(q.total_yen, ent.vouchers_held, tariff)
    if n:
        q = shared_offer(SharedRider("", replace(base, vouchers=n)), tariff, quoted_at=quoted_at).shared
    return q


def fare_type(q: FareQuote) -> str:
    """``shared`` for a shared-ride fare (a sharing or zone flat line), else ``private``."""
    return "shared" if any(x.code in ("sharing", "zone_flat") for x in q.lines) else "private"
