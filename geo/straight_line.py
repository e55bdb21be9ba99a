"""Default travel-time model: great-circle distance x circuity, at a speed that depends on the area.

Why this and not a road network by default: it needs no data download, is deterministic, and is within
~15-25 % of road travel in a compact city like Yamaguchi, which is enough for quotes whose pickup window
is 15 minutes wide. Operators with an OSM extract switch to ``geo.road_network``.

Parameters (all configurable through ``StraightLineParams``):

- ``circuity``: road distance / straight-line distance. 1.3 is the figure commonly measured for
  Japanese regional cities; it scales distance only, so distances still obey the triangle inequality.
- speeds by area type in km/h (door-to-door averages including junctions and signals):
  urban 20, suburban 30, rural 40.
- ``urban_centres``: (point, urban radius m, suburban radius m). A point inside some centre's urban
  radius is urban; else inside some suburban radius is suburban; else rural.
- a trip's speed is the mean of its two endpoints' area speeds, so a centre-to-countryside trip is
  neither as slow as the centre nor as fast as the open road.
- ``min_duration_s``: pulling out and parking never takes zero time, even for two doors side by side.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from geo.points import LatLon, haversine_matrix_m
from geo.travel_time import Leg, TravelMatrix


class AreaType(enum.StrEnum):
    URBAN = "urban"
    SUBURBAN = "suburban"
    RURAL = "rural"


@dataclass(frozen=True, slots=True)
class UrbanCentre:
    name: str
    point: LatLon
    urban_radius_m: float
    suburban_radius_m: float

    def __post_init__(self) -> None:
        if not 0 <= self.urban_radius_m <= self.suburban_radius_m:
            raise ValueError(f"centre {self.name!r}: need 0 <= urban_radius_m <= suburban_radius_m")


# Yamaguchi City: the old town around Yamaguchi Station / the prefectural office, Yuda Onsen, and the
# Ogori district around Shin-Yamaguchi Station. Coordinates from ../shared/facts.
YAMAGUCHI_CENTRES: tuple[UrbanCentre, ...] = (
    UrbanCentre("Yamaguchi centre", LatLon(34.1780, 131.4760), 1_800, 5_000),
    UrbanCentre("Yuda Onsen", LatLon(34.1615, 131.4585), 1_200, 4_000),
    UrbanCentre("Ogori / Shin-Yamaguchi", LatLon(34.0942, 131.3962), 1_500, 4_500),
)


@dataclass(frozen=True, slots=True)
class StraightLineParams:
    circuity: float = 1.3
    speed_kmh: dict[AreaType, float] = field(
        default_factory=lambda: {AreaType.URBAN: 20.0, AreaType.SUBURBAN: 30.0, AreaType.RURAL: 40.0}
    )
    centres: tuple[UrbanCentre, ...] = YAMAGUCHI_CENTRES
    min_duration_s: int = 60

    def __post_init__(self) -> None:
        if not (1.0 <= self.circuity <= 3.0):
            raise ValueError(f"circuity must be within [1, 3], got {self.circuity}")
        missing = set(AreaType) - set(self.speed_kmh)
        if missing:
            raise ValueError(f"speed_kmh lacks area types: {sorted(missing)}")
        for area, v in self.speed_kmh.items():
            if not (math.isfinite(v) and 1.0 <= v <= 130.0):
                raise ValueError(f"speed_kmh[{area}] must be within [1, 130], got {v}")
        if self.min_duration_s < 0:
            raise ValueError("min_duration_s must be >= 0")


class StraightLineModel:
    """Straight-line travel-time model (see the module docstring for the parameters)."""

    name = "straight-line"

    def __init__(self, params: StraightLineParams | None = None) -> None:
        self.params = params or StraightLineParams()
        c = self.params.centres
        self._c_lat = np.array([x.point.lat for x in c], dtype=np.float64)
        self._c_lon = np.array([x.point.lon for x in c], dtype=np.float64)
        self._c_urban = np.array([x.urban_radius_m for x in c], dtype=np.float64)
        self._c_sub = np.array([x.suburban_radius_m for x in c], dtype=np.float64)
        sp = self.params.speed_kmh
        self._speed_ms = np.array(
            [sp[AreaType.URBAN] / 3.6, sp[AreaType.SUBURBAN] / 3.6, sp[AreaType.RURAL] / 3.6]
        )

    def area_type(self, point: LatLon) -> AreaType:
        code = int(self._area_codes([point])[0])
        return (AreaType.URBAN, AreaType.SUBURBAN, AreaType.RURAL)[code]

    def _area_codes(self, points: Sequence[LatLon]) -> np.ndarray:
        """0 urban, 1 suburban, 2 rural, per point."""
        if len(self._c_lat) == 0:
            return np.full(len(points), 2, dtype=np.int64)
        lats = np.array([p.lat for p in points], dtype=np.float64)
        lons = np.array([p.lon for p in points], dtype=np.float64)
        d = haversine_matrix_m(lats, lons, self._c_lat, self._c_lon)
        urban = (d <= self._c_urban[None, :]).any(axis=1)
        suburban = (d <= self._c_sub[None, :]).any(axis=1)
        return np.where(urban, 0, np.where(suburban, 1, 2)).astype(np.int64)

    def leg(self, origin: LatLon, destination: LatLon) -> Leg:
        m = self.matrix([origin], [destination])
        return m.leg(0, 0)

    def matrix(self, origins: Sequence[LatLon], destinations: Sequence[LatLon] | None = None) -> TravelMatrix:
        dests = origins if destinations is None else destinations
        if len(origins) == 0 or len(dests) == 0:
            empty = np.zeros((len(origins), len(dests)), dtype=np.int64)
            return TravelMatrix(empty, empty.copy())
        o_lat = np.array([p.lat for p in origins], dtype=np.float64)
        o_lon = np.array([p.lon for p in origins], dtype=np.float64)
        d_lat = np.array([p.lat for p in dests], dtype=np.float64)
        d_lon = np.array([p.lon for p in dests], dtype=np.float64)
        dist = haversine_matrix_m(o_lat, o_lon, d_lat, d_lon) * self.params.circuity
        v_o = self._speed_ms[self._area_codes(origins)]
        v_d = self._speed_ms[self._area_codes(dests)]
        speed = (v_o[:, None] + v_d[None, :]) / 2.0
        dur = np.ceil(dist / speed)
        dist_i = np.rint(dist).astype(np.int64)
        dur_i = np.where(dist_i > 0, np.maximum(dur, self.params.min_duration_s), 0).astype(np.int64)
        return TravelMatrix(duration_s=dur_i, distance_m=dist_i)
