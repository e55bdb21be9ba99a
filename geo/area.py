"""A service area: the polygons (GeoJSON Polygon / MultiPolygon, with holes) where rides may start and end.

Membership is an exact point-in-polygon test (even-odd ray casting on lon/lat, after a bounding-box
check), so the border is where the city drew it, not where an H3 cell happens to fall.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geo.points import LatLon

Ring = tuple[tuple[float, float], ...]  # (lon, lat) pairs, closed (first == last)


class AreaError(ValueError):
    """A geometry is not a usable Polygon / MultiPolygon; the message says what is wrong."""


def _ring(raw: Any, where: str) -> Ring:
    if not isinstance(raw, list) or len(raw) < 4:
        raise AreaError(f"{where}: a linear ring needs at least 4 positions (first repeated last)")
    pts: list[tuple[float, float]] = []
    for k, pos in enumerate(raw):
        if (
            not isinstance(pos, list | tuple)
            or len(pos) < 2
            or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in pos[:2])
        ):
            raise AreaError(f"{where}: position {k} is not [lon, lat]")
        lon, lat = float(pos[0]), float(pos[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise AreaError(f"{where}: position {k} ({lon}, {lat}) is not a longitude, latitude pair")
        pts.append((lon, lat))
    if pts[0] != pts[-1]:
        raise AreaError(f"{where}: polygon is not closed (the first position must be repeated last)")
    return tuple(pts)


def polygons_of(geometry: Any) -> tuple[tuple[Ring, ...], ...]:
    """The polygons of a GeoJSON Polygon or MultiPolygon geometry: each an outer ring then holes."""
    if not isinstance(geometry, dict):
        raise AreaError("geometry must be a GeoJSON object")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        raw_polys = [coords]
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise AreaError("MultiPolygon needs at least one polygon")
        raw_polys = coords
    else:
        raise AreaError(f"geometry type must be Polygon or MultiPolygon, not {kind!r}")
    out = []
    for i, poly in enumerate(raw_polys):
        if not isinstance(poly, list) or not poly:
            raise AreaError(f"polygon {i} has no rings")
        out.append(tuple(_ring(r, f"polygon {i} ring {j}") for j, r in enumerate(poly)))
    return tuple(out)


def _inside(ring: Ring, x: float, y: float) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


@dataclass(frozen=True, slots=True)
class ServiceArea:
    polygons: tuple[tuple[Ring, ...], ...]

    def __post_init__(self) -> None:
        if not self.polygons:
            raise AreaError("a service area needs at least one polygon")

    @classmethod
    def from_geojson(cls, geometry: Any) -> ServiceArea:
        return cls(polygons_of(geometry))

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat)."""
        xs = [x for poly in self.polygons for x, _ in poly[0]]
        ys = [y for poly in self.polygons for _, y in poly[0]]
        return (min(xs), min(ys), max(xs), max(ys))

    def contains(self, point: LatLon) -> bool:
        x, y = point.lon, point.lat
        for poly in self.polygons:
            if _inside(poly[0], x, y) and not any(_inside(hole, x, y) for hole in poly[1:]):
                return True
        return False

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON MultiPolygon geometry."""
        return {
            "type": "MultiPolygon",
            "coordinates": [[[list(p) for p in ring] for ring in poly] for poly in self.polygons],
        }

    def outer_rings(self) -> Sequence[Ring]:
        return [poly[0] for poly in self.polygons]
