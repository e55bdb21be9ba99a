"""Straight-line travel-time model: units, areas, matrix consistency, metric properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import AreaType, LatLon, StraightLineModel, StraightLineParams, haversine_m

# Points within the wider Yamaguchi area (including Ube airport and Akiyoshidai).
yamaguchi_points = st.builds(
    LatLon,
    lat=st.floats(min_value=33.90, max_value=34.35, allow_nan=False),
    lon=st.floats(min_value=131.20, max_value=131.60, allow_nan=False),
)

MODEL = StraightLineModel()
SHIN_YAMAGUCHI = LatLon(34.0942142, 131.3962014)
YUDA_ONSEN = LatLon(34.1649106, 131.4575504)
MICHI_NO_EKI_ASAHI = LatLon(34.2864888, 131.4594682)


@given(yamaguchi_points, yamaguchi_points, yamaguchi_points)
def test_distances_obey_the_triangle_inequality(a: LatLon, b: LatLon, c: LatLon) -> None:
    m = MODEL.matrix([a, b, c])
    # +1 m: each entry is rounded to the nearest metre independently.
    assert m.distance_m[0, 2] <= m.distance_m[0, 1] + m.distance_m[1, 2] + 1


@given(yamaguchi_points, yamaguchi_points)
def test_distance_is_symmetric_and_at_least_the_great_circle(a: LatLon, b: LatLon) -> None:
    ab, ba = MODEL.leg(a, b), MODEL.leg(b, a)
    assert ab == ba
    assert ab.distance_m >= round(haversine_m(a, b)) - 1


@given(st.lists(yamaguchi_points, min_size=1, max_size=6))
def test_matrix_entries_equal_pairwise_legs(points: list[LatLon]) -> None:
    m = MODEL.matrix(points)
    assert m.duration_s.dtype == np.int64 and m.distance_m.dtype == np.int64
    for i, a in enumerate(points):
        for j, b in enumerate(points):
            assert m.leg(i, j) == MODEL.leg(a, b)


def test_same_point_costs_nothing_and_next_door_costs_the_minimum() -> None:
    assert MODEL.leg(YUDA_ONSEN, YUDA_ONSEN).duration_s == 0
    next_door = LatLon(YUDA_ONSEN.lat + 0.0001, YUDA_ONSEN.lon)
    assert MODEL.leg(YUDA_ONSEN, next_door).duration_s == StraightLineParams().min_duration_s


def test_area_types_follow_the_configured_centres() -> None:
    assert MODEL.area_type(YUDA_ONSEN) is AreaType.URBAN
    assert MODEL.area_type(MICHI_NO_EKI_ASAHI) is AreaType.RURAL


def test_worked_example_shin_yamaguchi_to_yuda_onsen() -> None:
    """Hand check: great circle 9,680 m x 1.3 = 12,583 m at the mean of 20 and 20 km/h."""
    leg = MODEL.leg(SHIN_YAMAGUCHI, YUDA_ONSEN)
    assert round(haversine_m(SHIN_YAMAGUCHI, YUDA_ONSEN)) == 9679
    assert leg.distance_m == 12583
    assert leg.duration_s == int(np.ceil(12583.0 / (20 / 3.6)))


def test_rural_trips_are_faster_per_metre_than_urban_ones() -> None:
    urban = MODEL.leg(YUDA_ONSEN, LatLon(34.170, 131.460))
    rural = MODEL.leg(MICHI_NO_EKI_ASAHI, LatLon(34.296, 131.459))
    assert urban.duration_s / urban.distance_m > rural.duration_s / rural.distance_m


def test_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="circuity"):
        StraightLineParams(circuity=0.5)
    with pytest.raises(ValueError, match="lacks area types"):
        StraightLineParams(speed_kmh={AreaType.URBAN: 20.0})


def test_latlon_rejects_swapped_coordinates() -> None:
    with pytest.raises(ValueError, match="latitude"):
        LatLon(131.47, 34.17)
    assert LatLon.parse("34.17,131.47") == LatLon(34.17, 131.47)
    with pytest.raises(ValueError, match="LAT,LON"):
        LatLon.parse("34.17")
