"""Service zones as sets of H3 cells.

A zone (e.g. a rural district where a community taxi may run, or the Yuda Onsen - airport corridor) is a
set of H3 cells at one resolution. Membership is a hash lookup of the point's cell, which is what
dispatch needs on every quote; zones are built from a polygon or from a centre and radius, and export
to GeoJSON (for GTFS-Flex ``locations.geojson``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import h3

from geo.area import AreaError, polygons_of
from geo.points import LatLon

# Resolution 8 cells are ~0.74 km^2 (edge ~530 m): fine enough for district borders, coarse enough
# that a district is a few hundred cells.
DEFAULT_RESOLUTION = 8
# A zone is a district, not a prefecture: a polygon whose bounding box holds more cells than this is
# refused before H3 fills it (a slipped digit, 31.4 for 131.4, would otherwise ask for billions of
# cells at resolution 11, minutes and gigabytes). Yamaguchi City whole is ~1,400 cells at resolution 8.
MAX_ZONE_CELLS = 1_000_000
# ... and no wider than this in latitude or longitude: H3 fills a long thin polygon slowly whatever its
# area (130 degrees by 0.03, a digit lost from 131.3, took 12 s for 7,800 cells).
MAX_ZONE_SPAN_DEG = 3.0


def cell_of(point: LatLon, resolution: int = DEFAULT_RESOLUTION) -> str:
    """The H3 cell id (hex string) holding ``point``."""
    return str(h3.latlng_to_cell(point.lat, point.lon, resolution))


@dataclass(frozen=True, slots=True)
class ServiceZone:
    zone_id: str
    name: str
    cells: frozenset[str]
    resolution: int = DEFAULT_RESOLUTION

    def __post_init__(self) -> None:
        if not self.zone_id:
            raise ValueError("zone_id must not be empty")
        if not self.cells:
            raise ValueError(f"zone {self.zone_id!r} has no cells")
        for c in self.cells:
            if not h3.is_valid_cell(c):
                raise ValueError(f"zone {self.zone_id!r}: {c!r} is not a valid H3 cell")
            if h3.get_resolution(c) != self.resolution:
                raise ValueError(
                    f"zone {self.zone_id!r}: cell {c} has resolution {h3.get_resolution(c)}, "
                    f"expected {self.resolution}"
                )

    @classmethod
    def from_polygon(
        cls, zone_id: str, name: str, ring: Sequence[LatLon], resolution: int = DEFAULT_RESOLUTION
    ) -> ServiceZone:
        """Cells whose centres lie inside the polygon ``ring`` (first point need not repeat)."""
        poly = h3.LatLngPoly([(p.lat, p.lon) for p in ring])
        cells = frozenset(str(c) for c in h3.polygon_to_cells(poly, resolution))
        if not cells:
            raise ValueError(f"zone {zone_id!r}: polygon is smaller than one H3 cell at res {resolution}")
        return cls(zone_id, name, cells, resolution)

    @classmethod
    def from_geojson(
        cls, zone_id: str, name: str, geometry: Any, resolution: int = DEFAULT_RESOLUTION
    ) -> ServiceZone:
        """Cells of a GeoJSON Polygon / MultiPolygon (holes respected): those whose centres lie inside,
        or, for a polygon smaller than one cell, those it overlaps. Raises ``AreaError`` for bad
        geometry and ``ValueError`` if nothing is covered."""
        cells: set[str] = set()
        polygons = polygons_of(geometry)
        for poly in polygons:
            lons, lats = [p[0] for p in poly[0]], [p[1] for p in poly[0]]
            span = max(max(lons) - min(lons), max(lats) - min(lats))
            if span > MAX_ZONE_SPAN_DEG:
                raise AreaError(
                    f"zone {zone_id!r}: polygon spans {span:.1f} degrees (at most {MAX_ZONE_SPAN_DEG}); "
                    "check its coordinates"
                )
        estimate = sum(_bbox_km2(poly[0]) for poly in polygons) / h3.average_hexagon_area(resolution, "km^2")
        if estimate > MAX_ZONE_CELLS:
            raise AreaError(
                f"zone {zone_id!r}: polygon too large, about {estimate:,.0f} H3 cells at res {resolution} "
                f"(at most {MAX_ZONE_CELLS:,}); check its coordinates"
            )
        for poly in polygons:
            shape = h3.LatLngPoly(*[[(lat, lon) for lon, lat in ring[:-1]] for ring in poly])
            found = h3.h3shape_to_cells(shape, resolution)
            if not found:
                found = h3.h3shape_to_cells_experimental(shape, resolution, contain="overlap")
            cells.update(str(c) for c in found)
        if not cells:
            raise ValueError(f"zone {zone_id!r}: polygon covers no H3 cell at res {resolution}")
        return cls(zone_id, name, frozenset(cells), resolution)

    @classmethod
    def from_disk(
        cls, zone_id: str, name: str, centre: LatLon, radius_m: float, resolution: int = DEFAULT_RESOLUTION
    ) -> ServiceZone:
        """Cells within about ``radius_m`` of ``centre`` (a k-ring)."""
        edge_m = h3.average_hexagon_edge_length(resolution, unit="m")
        k = max(0, math.ceil(radius_m / (edge_m * math.sqrt(3))))
        cells = frozenset(str(c) for c in h3.grid_disk(cell_of(centre, resolution), k))
        return cls(zone_id, name, cells, resolution)

    def contains(self, point: LatLon) -> bool:
        return cell_of(point, self.resolution) in self.cells

    def area_km2(self) -> float:
        return float(sum(h3.cell_area(c, unit="km^2") for c in self.cells))

    def to_geojson_feature(self) -> dict[str, Any]:
        """The zone's outline as a GeoJSON MultiPolygon feature (lon, lat order)."""
        shape = h3.cells_to_h3shape(list(self.cells))
        geo = shape.__geo_interface__
        return {
            "type": "Feature",
            "id": self.zone_id,
            "properties": {"name": self.name, "h3_resolution": self.resolution},
            "geometry": geo,
        }


def _bbox_km2(ring: Sequence[tuple[float, float]]) -> float:
    """The area of a (lon, lat) ring's bounding box, km^2 (an upper bound of the ring's own)."""
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    mid = math.radians((max(lats) + min(lats)) / 2)
    return (max(lats) - min(lats)) * 111.32 * (max(lons) - min(lons)) * 111.32 * max(math.cos(mid), 0.01)


def zone_for(point: LatLon, zones: Iterable[ServiceZone]) -> ServiceZone | None:
    """The first zone containing ``point``, or None."""
    for z in zones:
        if z.contains(point):
            return z
    return None
