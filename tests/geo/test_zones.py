"""H3 service zones."""

from __future__ import annotations

import pytest

from geo import LatLon, ServiceZone, cell_of, zone_for

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
