"""Bike-share legs from a GBFS snapshot: walk to a station with a bike now, ride, walk from a station
with a free dock now.

Only stations whose status says so *now* are used, and only while that status is fresh: a report older
than ``max_status_age_s`` cannot say "now", so its station is left out and the caller is told why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from bikeshare import BikeShareSystem
from fares.quote import FareLine
from geo.points import LatLon, haversine_m
from planner.journey import WALK_CIRCUITY, Journey, JourneyLeg, walk_seconds

BIKE_SPEED_MS = 4.2  # 15 km/h: a city bike with stops at lights, the usual planner default
BIKE_CIRCUITY = 1.3  # road distance over straight-line distance
DOCK_S = 60  # to unlock at the start and to dock at the end
MIN_RIDE_M = 500.0  # shorter than this, walking is the answer
MAX_RIDE_M = 20_000.0
MAX_STATUS_AGE_S = 30 * 60


@dataclass(frozen=True, slots=True)
class BikeResult:
    journey: Journey | None
    fare_yen: int | None
    fare_lines: tuple[FareLine, ...]
    reason: str | None = None  # why there is no journey (bilingual)


def ride_seconds(metres: float) -> int:
    return math.ceil(metres * BIKE_CIRCUITY / BIKE_SPEED_MS)


def bike_fare(system: BikeShareSystem, ride_s: int) -> tuple[int | None, tuple[FareLine, ...]]:
    """The cheapest yen plan for one ride; None when the system publishes no yen plan."""
    plans = [p for p in system.pricing_plans if p.currency == "JPY"]
    if not plans:
        return None, ()
    best = min(plans, key=lambda p: p.ride_price(ride_s))
    yen = math.ceil(best.ride_price(ride_s))
    return yen, (FareLine("bike_share", f"シェアサイクル（{best.name}）", "Bike share", yen),)


def bike_journey(
    system: BikeShareSystem,
    origin: LatLon,
    destination: LatLon,
    when: datetime,
    *,
    arrive_by: bool = False,
    max_walk_m: float = 800.0,
    now: datetime,
    origin_name: str = "出発地 / origin",
    destination_name: str = "目的地 / destination",
    lang: str = "ja",
) -> BikeResult:
    now_unix = now.timestamp()
    fresh_limit = max(MAX_STATUS_AGE_S, 3 * system.ttl_s)

    def near(p: LatLon, usable: str) -> list[tuple[float, str]]:
        """(straight-line metres, station) within walking distance, nearest first."""
        out = []
        for sid, st in system.stations.items():
            try:
                where = LatLon(st.lat, st.lon)
            except ValueError:  # the parser drops such stations; a hand-made system may not have
                continue
            metres = haversine_m(p, where)
            if metres * WALK_CIRCUITY > max_walk_m:
                continue
            ok = system.can_rent(sid) if usable == "rent" else system.can_return(sid)
            age = system.age_s(sid, now_unix)
            if ok and age is not None and age <= fresh_limit:
                out.append((metres, sid))
        return sorted(out)[:5]

    starts, ends = near(origin, "rent"), near(destination, "return")
    if not starts or not ends:
        which = "出発地の近くに貸出できる" if not starts else "目的地の近くに返却できる"
        which_en = "a bike to rent near the origin" if not starts else "a free dock near the destination"
        why = f"{which}ステーションがありません / no station with {which_en} now"
        return BikeResult(None, None, (), why)
    best: tuple[int, str, str, int, int, int] | None = None
    for w1, a in starts:
        for w2, b in ends:
            if a == b:
                continue
            sa, sb = system.stations[a], system.stations[b]
            ride_m = haversine_m(LatLon(sa.lat, sa.lon), LatLon(sb.lat, sb.lon))
            if not MIN_RIDE_M <= ride_m <= MAX_RIDE_M:
                continue
            t1, t3 = walk_seconds(w1), walk_seconds(w2)
            t2 = ride_seconds(ride_m) + 2 * DOCK_S
            total = t1 + t2 + t3
            if best is None or total < best[0]:
                best = (total, a, b, t1, t2, t3)
    if best is None:
        return BikeResult(None, None, (), "自転車で行く距離ではありません / not a bike-share distance")
    total, a, b, t1, t2, t3 = best
    start = when - timedelta(seconds=total) if arrive_by else when
    sa, sb = system.stations[a], system.stations[b]
    sta, stb = system.status[a], system.status[b]
    legs = []
    t = start
    if t1 > 0:
        legs.append(
            JourneyLeg("walk", origin_name, sa.name_in(lang), None, None, t, t + timedelta(seconds=t1))
        )
        t += timedelta(seconds=t1)
    fare, lines = bike_fare(system, t2)
    legs.append(
        JourneyLeg(
            "bike",
            sa.name_in(lang),
            sb.name_in(lang),
            None,
            None,
            t,
            t + timedelta(seconds=t2),
            route=system.name,
            details={
                "system": system.name,
                "from_station_id": a,
                "to_station_id": b,
                "bikes_available": sta.bikes_available,
                "docks_available": stb.docks_available,
                "status_age_s": int(max(system.age_s(a, now_unix) or 0, system.age_s(b, now_unix) or 0)),
                "fare_yen": fare,
            },
        )
    )
    t += timedelta(seconds=t2)
    if t3 > 0:
        legs.append(
            JourneyLeg("walk", sb.name_in(lang), destination_name, None, None, t, t + timedelta(seconds=t3))
        )
        t += timedelta(seconds=t3)
    return BikeResult(Journey(start, t, 0, tuple(legs)), fare, lines)
