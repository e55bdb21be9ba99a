"""Coordinates and great-circle distance.

Every other part of Noriai names places as WGS84 ``LatLon``; distances are integer metres and durations
integer seconds at the boundaries of this package (floats only inside computations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), metres


@dataclass(frozen=True, slots=True)
class LatLon:
    """A WGS84 point. Validated on construction so a swapped lat/lon fails loudly."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise ValueError(f"latitude must be within [-90, 90], got {self.lat!r}")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"longitude must be within [-180, 180], got {self.lon!r}")

    @classmethod
    def parse(cls, text: str) -> LatLon:
        """Parse ``"LAT,LON"`` as typed on a command line."""
        parts = text.split(",")
        if len(parts) != 2:
            raise ValueError(f"expected LAT,LON, got {text!r}")
        try:
            return cls(float(parts[0]), float(parts[1]))
        except ValueError as exc:
            raise ValueError(f"expected LAT,LON with numbers, got {text!r}: {exc}") from None

    def __str__(self) -> str:
        return f"{self.lat:.6f},{self.lon:.6f}"


def haversine_m(a: LatLon, b: LatLon) -> float:
    """Great-circle distance in metres (float; callers round at their boundary)."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def haversine_matrix_m(
    lats_a: npt.NDArray[np.float64],
    lons_a: npt.NDArray[np.float64],
    lats_b: npt.NDArray[np.float64],
    lons_b: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Pairwise great-circle distances (metres) between two point sets, shape (len(a), len(b))."""
    phi1 = np.radians(lats_a)[:, None]
    phi2 = np.radians(lats_b)[None, :]
    dphi = phi2 - phi1
    dlmb = np.radians(lons_b)[None, :] - np.radians(lons_a)[:, None]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    result: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result
