"""Bike share (GBFS v1, v2, v3): station information and live availability as our own types.

A top-level package because it fits none of the required ones: it is not GTFS, not bus location,
and the trip planner, dispatch and the simulator may all read it.
"""

from bikeshare.gbfs import (
    BikeShareSystem,
    GbfsError,
    GbfsPoller,
    PricingPlan,
    Station,
    StationStatus,
    load_system,
    parse_station_information,
    parse_station_status,
)

__all__ = [
    "BikeShareSystem",
    "GbfsError",
    "GbfsPoller",
    "PricingPlan",
    "Station",
    "StationStatus",
    "load_system",
    "parse_station_information",
    "parse_station_status",
]
