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


@pytest.mark.parametrize("resolution", [8, 11])
def test_a_zone_the_size_of_a_region_is_refused_before_h3_fills_it(resolution: int) -> None:
    """10 x 20 degrees would be ~3.5 million cells at resolution 8 (30 s, gigabytes) and billions at 11."""
    box = {"type": "Polygon", "coordinates": [[[121, 34], [141, 34], [141, 44], [121, 44], [121, 34]]]}
    with pytest.raises(AreaError, match="too large"):
        ServiceZone.from_geojson("z", "z", box, resolution)
    town = {"type": "Polygon", "coordinates": [[[131.4, 34.1], [131.5, 34.1], [131.5, 34.2], [131.4, 34.1]]]}
    assert ServiceZone.from_geojson("t", "t", town, 8).cells  # a district is fine
