"""H3 service zones."""

from __future__ import annotations

import pytest

from geo import AreaError, LatLon, ServiceZone, cell_of, zone_for

YUDA = LatLon(34.1649106, 131.4575504)
ASAHI = LatLon(34.2864888, 131.4594682)


def test_disk_zone_contains_its_centre_and_not_a_far_point() -> None:
    z = ServiceZone.from_disk("yuda", "湯田地区", YUDA, 1500)
    assert z.contains(YUDA)
    assert not z.contains(ASAHI)
    assert 3 < z.area_km2() < 30


def test_polygon_zone_covers_the_inside() -> None:
    ring = [LatLon(34.15, 131.44), LatLon(34.15, 131.47), LatLon(34.18, 131.47), LatLon(34.18, 131.44)]
    z = ServiceZone.from_polygon("box", "box", ring)
    assert z.contains(LatLon(34.165, 131.455))
    assert not z.contains(ASAHI)


def test_zone_for_picks_the_containing_zone() -> None:
    a = ServiceZone.from_disk("a", "A", YUDA, 800)
    b = ServiceZone.from_disk("b", "B", ASAHI, 800)
    assert zone_for(ASAHI, [a, b]) == b
    assert zone_for(LatLon(34.0, 131.3), [a, b]) is None


def test_invalid_cells_are_rejected() -> None:
    with pytest.raises(ValueError, match="not a valid H3 cell"):
        ServiceZone("x", "x", frozenset({"nonsense"}))
    with pytest.raises(ValueError, match="resolution"):
        ServiceZone("x", "x", frozenset({cell_of(YUDA, 7)}), resolution=8)


def test_geojson_outline_is_lon_lat() -> None:
    f = ServiceZone.from_disk("yuda", "湯田", YUDA, 500).to_geojson_feature()
    ring = f["geometry"]["coordinates"][0]
    lon, lat = ring[0]
    assert 131 < lon < 132 and 34 < lat < 35


def _box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, object]:
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.mark.parametrize(
    ("box", "resolution", "why"),
    [
        (_box(121, 34, 141, 44), 8, "spans 20.0 degrees"),  # ~3.5 million cells: 30 s, gigabytes
        (_box(1.31, 33.91, 131.29, 33.94), 8, "spans 130.0 degrees"),  # thin: 12 s for 7,800 cells
        (_box(131.0, 34.0, 133.0, 36.0), 11, "too large"),  # ~45 million cells at resolution 11
    ],
)
def test_a_zone_far_too_large_is_refused_before_h3_fills_it(
    box: dict[str, object], resolution: int, why: str
) -> None:
    with pytest.raises(AreaError, match=why):
        ServiceZone.from_geojson("z", "z", box, resolution)


def test_a_district_sized_zone_is_filled() -> None:
    assert len(ServiceZone.from_geojson("t", "t", _box(131.4, 34.1, 131.5, 34.2), 8).cells) > 10
