"""The work behind ``noriai fare quote``: travel times and zones from the demo set, fares from ``fares``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from fares import Concession, FareInputs, SharedRider, VehicleClass, load_tariff, quote, shared_fares
from geo import LatLon, StraightLineModel, zone_for
from noriai.demo import TARIFF_PATH, reference_data

MAX_PASSENGERS = 9  # the largest vehicle class (jumbo taxi)


class FareCliError(ValueError):
    pass


def _parse_pair(text: str) -> tuple[LatLon, LatLon]:
    parts = text.split(":")
    if len(parts) != 2:
        raise FareCliError(f"--shared-with expects PICKUP_LAT,LON:DROPOFF_LAT,LON, got {text!r}")
    try:
        return LatLon.parse(parts[0]), LatLon.parse(parts[1])
    except ValueError as exc:
        raise FareCliError(f"--shared-with {text!r}: {exc}") from None


def _pooled_route(stops_in: Sequence[LatLon], stops_out: Sequence[LatLon]) -> list[LatLon]:
    """All pickups in the given order, then drop-offs nearest-first: a simple pooled route for a quote."""
    model = StraightLineModel()
    route = list(stops_in)
    left = list(stops_out)
    while left:
        here = route[-1]
        nxt = min(left, key=lambda p: model.leg(here, p).duration_s)
        route.append(nxt)
        left.remove(nxt)
    return route


def run_fare_quote(
    pickup: LatLon,
    dropoff: LatLon,
    when: datetime,
    *,
    passengers: int = 1,
    shared_with: Sequence[str] = (),
    concession: str | None = None,
    vehicle_class: str | None = None,
    vouchers: int = 0,
    tariff_path: str | None = None,
) -> dict[str, Any]:
    tariff = load_tariff(Path(tariff_path) if tariff_path else TARIFF_PATH)
    if not 1 <= passengers <= MAX_PASSENGERS:
        raise FareCliError(f"--passengers must be 1..{MAX_PASSENGERS}, got {passengers}")
    try:
        conc = Concession(concession) if concession else None
    except ValueError:
        raise FareCliError(f"--concession must be one of {[c.value for c in Concession]}") from None
    if vehicle_class:
        try:
            vc = VehicleClass(vehicle_class)
        except ValueError:
            raise FareCliError(f"--vehicle-class must be one of {[c.value for c in VehicleClass]}") from None
    else:
        vc = VehicleClass.SMALL if passengers <= 4 else VehicleClass.JUMBO
    model = StraightLineModel()
    zones = [z.zone for z in reference_data().zones]

    def zone_id(p: LatLon) -> str | None:
        z = zone_for(p, zones)
        return z.zone_id if z else None

    def inputs(a: LatLon, b: LatLon, c: Concession | None = None, v: int = 0) -> FareInputs:
        leg = model.leg(a, b)
        return FareInputs(
            tariff.tariff_id,
            tariff.version,
            leg.distance_m,
            leg.duration_s,
            when,
            vehicle_class=vc,
            area_id=zone_id(a),
            concession=c,
            vouchers=v,
        )

    main = inputs(pickup, dropoff, conc, vouchers)
    q = quote(main, tariff, quoted_at=None)
    result: dict[str, Any] = {
        "from": str(pickup),
        "to": str(dropoff),
        "at": when.isoformat(),
        "passengers": passengers,
        **q.to_dict(),
    }
    if shared_with:
        others = [_parse_pair(s) for s in shared_with]
        riders = [SharedRider("you", main, zone_id(pickup), zone_id(dropoff))]
        riders += [
            SharedRider(f"other-{i + 1}", inputs(a, b), zone_id(a), zone_id(b))
            for i, (a, b) in enumerate(others)
        ]
        route = _pooled_route([pickup] + [a for a, _ in others], [dropoff] + [b for _, b in others])
        dist = sum(model.leg(a, b).distance_m for a, b in itertools.pairwise(route))
        dur = sum(model.leg(a, b).duration_s for a, b in itertools.pairwise(route))
        pooled = FareInputs(
            tariff.tariff_id, tariff.version, dist, dur, when, vehicle_class=vc, area_id=zone_id(pickup)
        )
        fares = shared_fares(riders, tariff, pooled=pooled)
        result.update(fares[0].shared.to_dict())
        result.update(
            {
                "solo_total_yen": q.total_yen,
                "pooled_route_distance_m": dist,
                "shared": [
                    {
                        "rider": f.rider_ref,
                        "total_yen": f.shared.total_yen,
                        "solo_total_yen": f.solo.total_yen,
                    }
                    for f in fares
                ],
            }
        )
    return result
