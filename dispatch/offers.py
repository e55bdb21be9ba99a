"""Shared and private options at quote (#14, 相乗り and 貸切).

Every vehicle the insertion found is offered as a **shared** ride at the fixed shared fare
(``fares.shared_offer_for_rider``: the solo fare less the sharing discount, or the zone's flat fare),
guaranteed before pickup whether or not anyone joins; a vehicle where nobody else is aboard during the
rider's ride is also offered as a **private** ride at the solo fixed fare (事前確定運賃). Shared
options come first (in the insertion's order), then the private ones. A confirmed private booking
holds every seat and wheelchair place of its vehicle for the ride and requires a vehicle of exactly
that capacity (a solver feature), so no insertion or re-optimisation puts anyone beside the rider.
The fare stored at confirmation never changes afterwards: joining riders and re-optimisation move
times, never yen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dispatch.booking import Booking, QuoteOption
from dispatch.domain import Vehicle
from fares import Entitlements, FareError, Tariff, fare_type, shared_offer_for_rider

SHARED, PRIVATE = "shared", "private"


def with_fare_types(
    tariff: Tariff, options: Sequence[QuoteOption], ent: Entitlements
) -> tuple[QuoteOption, ...]:
    """``options`` priced privately (``fares.quote_for_rider``) -> the shared options, then the
    private ones where the rider would ride alone."""
    shared = []
    for o in options:
        try:
            fare = shared_offer_for_rider(o.fare.inputs, tariff, ent)
        except FareError:  # a tariff without a shared rule for this trip: no shared price to offer
            continue
        shared.append(replace(o, fare=fare, fare_type=SHARED))
    private = [replace(o, fare_type=PRIVATE) for o in options if not o.shared]
    return (*shared, *private)


def held_capacity(b: Booking, option: QuoteOption, vehicle: Vehicle) -> Booking:
    """The booking as the vehicle will carry it: a private ride takes all its seats and places (the
    rider's own party stays in ``party_seats``/``party_wheelchairs`` for the driver and the read-outs)."""
    if option.fare_type != PRIVATE:
        return b
    seats, wheelchairs = b.party
    return replace(
        b,
        seats=max(seats, vehicle.seats),
        wheelchairs=max(wheelchairs, vehicle.wheelchair_places),
        party_seats=seats,
        party_wheelchairs=wheelchairs,
    )


def capacity_feature(seats: int, wheelchairs: int) -> str:
    """The solver feature every vehicle carries for its capacity; a private ride requires its car's."""
    return f"capacity:{seats}+{wheelchairs}"


def private_features(b: Booking) -> frozenset[str]:
    """What a confirmed private ride requires of any vehicle that carries it: a car of the capacity
    it holds in full, so re-optimisation may move it only where it still fills every seat."""
    if fare_type_of(b) != PRIVATE:
        return frozenset()
    return frozenset([capacity_feature(b.seats, b.wheelchairs)])


def fare_type_of(b: Booking) -> str | None:
    """The fare type of a confirmed booking (the chosen option's), None before confirmation."""
    if b.chosen_option is not None and 0 <= b.chosen_option < len(b.options):
        return b.options[b.chosen_option].fare_type
    return fare_type(b.fare) if b.fare is not None else None


def fare_sentence(b: Booking) -> tuple[str, str]:
    """How the read-back names the fare: (Japanese, English)."""
    kind = fare_type_of(b)
    yen = b.fare_yen or 0
    if kind == SHARED:
        return (
            f"運賃は相乗り運賃{yen:,}円（事前確定運賃。相乗りがなくても変わりません）です。",
            f"Shared-ride fixed fare ¥{yen:,} (kept whether or not others join).",
        )
    if kind == PRIVATE:
        return f"運賃は貸切の事前確定運賃{yen:,}円です。", f"Private ride, fixed fare ¥{yen:,}."
    return f"運賃は{yen:,}円（事前確定運賃）です。", f"Fixed fare ¥{yen:,}."


def fare_reason(o: QuoteOption) -> tuple[str, str]:
    """Why the option costs what it does, for the console: (Japanese, English)."""
    if o.fare_type == PRIVATE:
        return (
            "貸切（単独乗車の事前確定運賃。ほかの方は乗りません）",
            "Private: solo fixed fare, nobody else aboard",
        )
    line = next((x for x in o.fare.lines if x.code in ("sharing", "zone_flat", "airport_flat")), None)
    if line is None:
        return "相乗り（事前確定運賃）", "Shared ride, fixed fare"
    return line.label_ja, line.label_en
