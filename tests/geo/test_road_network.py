"""Road-network model on a tiny OSM file written by the test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pytest

from geo import LatLon, OsmFileError, RoadNetworkModel, SnapError, UnreachableError, haversine_m
from tests.geo.osm_fixtures import NODES, write_osm


def _pt(node: int) -> LatLon:
    lat, lon = NODES[node]
    return LatLon(lat, lon)


@pytest.fixture()
def model(tmp_path: Path) -> RoadNetworkModel:
    return RoadNetworkModel(write_osm(tmp_path / "tiny.osm"))


def test_footways_are_not_part_of_the_road_graph(model: RoadNetworkModel) -> None:
    """Only drivable highway types become graph nodes (node set of ways 100-103)."""
    assert model.node_count == 8


def test_fastest_path_takes_the_faster_detour(model: RoadNetworkModel) -> None:
    """1->3 direct is 10 km/h over ~184 m; via 4,5 is 40 km/h over ~406 m, which is quicker."""
    leg = model.leg(_pt(1), _pt(3))
    direct_m = haversine_m(_pt(1), _pt(2)) + haversine_m(_pt(2), _pt(3))
    detour_m = haversine_m(_pt(1), _pt(4)) + haversine_m(_pt(4), _pt(5)) + haversine_m(_pt(5), _pt(3))
    assert detour_m / (40 / 3.6) < direct_m / (10 / 3.6)
    assert leg.distance_m == round(detour_m)
    assert leg.duration_s == int(np.ceil(detour_m / (40 / 3.6)))


def test_one_way_street_is_respected(model: RoadNetworkModel) -> None:
    """6 -> 5 is allowed; 5 -> 6 is not."""
    assert model.leg(_pt(6), _pt(5)).duration_s > 0
    with pytest.raises(UnreachableError, match="no route between 1 pair"):
        model.leg(_pt(5), _pt(6))


def test_unreachable_island_is_reported_with_the_points(model: RoadNetworkModel) -> None:
    with pytest.raises(UnreachableError) as err:
        model.matrix([_pt(1), _pt(7)], [_pt(3), _pt(8)])
    assert len(err.value.pairs) == 2
    assert (_pt(1), _pt(8)) in err.value.pairs
    assert "34.180" in str(err.value)


def test_matrix_entries_equal_pairwise_legs(model: RoadNetworkModel) -> None:
    pts = [_pt(n) for n in (1, 2, 3, 4, 5)]
    m = model.matrix(pts)
    for i, a in enumerate(pts):
        for j, b in enumerate(pts):
            assert m.leg(i, j) == model.leg(a, b)
    assert (np.diag(m.duration_s) == 0).all()


def test_points_are_snapped_to_the_nearest_road_node(model: RoadNetworkModel) -> None:
    near_2 = LatLon(34.17003, 131.47102)
    assert model.leg(near_2, _pt(2)).distance_m == 0


def test_a_point_far_from_any_road_is_refused(model: RoadNetworkModel) -> None:
    with pytest.raises(SnapError, match=r"from the nearest road in tiny\.osm"):
        model.leg(LatLon(35.0, 132.0), _pt(1))


def test_pbf_gives_the_same_answers_as_xml(tmp_path: Path, model: RoadNetworkModel) -> None:
    """pyosmium writes a .osm.pbf copy; both formats must load identically."""
    pbf = tmp_path / "tiny.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(tmp_path / "tiny.osm")):
            writer.add(obj)
    from_pbf = RoadNetworkModel(pbf)
    pts = [_pt(n) for n in (1, 3, 5, 6)]
    a, b = model.matrix(pts[:3]), from_pbf.matrix(pts[:3])
    assert (a.duration_s == b.duration_s).all()
    assert (a.distance_m == b.distance_m).all()


def test_missing_file_gives_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OsmFileError, match=r"nowhere\.osm: file not found"):
        RoadNetworkModel(tmp_path / "nowhere.osm")


def test_broken_xml_gives_one_clear_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.osm"
    bad.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="34.1"', encoding="utf-8")
    with pytest.raises(OsmFileError) as err:
        RoadNetworkModel(bad)
    assert str(bad) in str(err.value)
    assert "cannot read OSM data" in str(err.value)


def test_file_without_roads_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?>\n<osm version="0.6"></osm>\n', encoding="utf-8")
    with pytest.raises(OsmFileError, match="no drivable roads"):
        RoadNetworkModel(empty)
