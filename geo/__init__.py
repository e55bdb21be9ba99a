"""Common geography for every part of Noriai: points, travel times, H3 service zones.

This is the bottom layer: it imports nothing else from the project.
"""

from geo.area import AreaError, ServiceArea
from geo.points import LatLon, haversine_m
from geo.road_network import OsmFileError, RoadNetworkModel, RoadNetworkParams, SnapError
from geo.straight_line import AreaType, StraightLineModel, StraightLineParams, UrbanCentre
from geo.travel_time import Leg, TravelMatrix, TravelTimeError, TravelTimeModel, UnreachableError
from geo.zones import ServiceZone, cell_of, zone_for

__all__ = [
    "AreaError",
    "AreaType",
    "LatLon",
    "Leg",
    "OsmFileError",
    "RoadNetworkModel",
    "RoadNetworkParams",
    "ServiceArea",
    "ServiceZone",
    "SnapError",
    "StraightLineModel",
    "StraightLineParams",
    "TravelMatrix",
    "TravelTimeError",
    "TravelTimeModel",
    "UnreachableError",
    "UrbanCentre",
    "cell_of",
    "haversine_m",
    "zone_for",
]
