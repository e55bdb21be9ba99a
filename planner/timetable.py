"""The timetable index the planner searches: RAPTOR patterns as numpy arrays, built per service date.

A pattern is a set of trips with the same stop sequence that never overtake one another, so the
earliest trip catchable at any position is found by binary search on that position's departures.
Times are seconds after midnight of the query date; trips of the previous service day that run past
midnight are included, shifted by -24 h, as GTFS service days require.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from geo.points import EARTH_RADIUS_M
from gtfs.loader import Feed


@dataclass(frozen=True)
class Pattern:
    route_id: str
    stops: npt.NDArray[np.int32]  # global stop index per position
    trip_ids: tuple[str, ...]  # per trip row
    arr: npt.NDArray[np.int32]  # (trips, positions), sorted by departure at every position
    dep: npt.NDArray[np.int32]


@dataclass(frozen=True)
class Timetable:
    service_date: date
    stop_ids: tuple[str, ...]  # global stop index -> feed-scoped stop id
    stop_lat: npt.NDArray[np.float64]
    stop_lon: npt.NDArray[np.float64]
    patterns: tuple[Pattern, ...]
    stop_patterns: tuple[tuple[tuple[int, int], ...], ...]  # stop -> ((pattern, position), ...)
    footpaths: tuple[tuple[tuple[int, int], ...], ...]  # stop -> ((other stop, walk seconds), ...)
    route_names: dict[str, str]
    route_types: dict[str, int]

    @property
    def stop_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.stop_ids)}


def _split_fifo(order: list[int], arr: np.ndarray, dep: np.ndarray) -> list[list[int]]:
    """Greedily split trips (sorted by first departure) into groups where no trip overtakes another."""
    groups: list[list[int]] = []
    for t in order:
        for g in groups:
            last = g[-1]
            if (dep[t] >= dep[last]).all() and (arr[t] >= arr[last]).all():
                g.append(t)
                break
        else:
            groups.append([t])
    return groups


Delays = Mapping[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]] | None]


def build_timetable(
    feeds: list[Feed],
    service_date: date,
    *,
    max_walk_m: float = 400.0,
    walk_speed_ms: float = 1.2,
    walk_circuity: float = 1.25,
    delays: Delays | None = None,
) -> Timetable:
    """``delays`` maps a trip_id to (arrival, departure) delay arrays for the query's service date, or to
    None for a canceled trip: realtime is applied before patterns form, so FIFO still holds."""
    stop_ids: list[str] = []
    lats: list[float] = []
    lons: list[float] = []
    offsets: dict[str, int] = {}
    for feed in feeds:
        offsets[feed.feed_id] = len(stop_ids)
        for sid in feed.stop_ids:
            s = feed.stops[sid]
            stop_ids.append(sid)
            lats.append(s.lat)
            lons.append(s.lon)
    groups: dict[tuple[str, tuple[int, ...]], list[tuple[str, np.ndarray, np.ndarray]]] = defaultdict(list)
    route_names: dict[str, str] = {}
    route_types: dict[str, int] = {}
    for feed in feeds:
        base = offsets[feed.feed_id]
        for r in feed.routes.values():
            route_names[r.route_id] = r.display_name
            route_types[r.route_id] = r.route_type
        if len(feed.st_trip) == 0:
            continue
        bounds = np.flatnonzero(np.r_[True, feed.st_trip[1:] != feed.st_trip[:-1], True])
        for day, shift in ((service_date, 0), (service_date - timedelta(days=1), -86_400)):
            active = feed.calendar.active(day)
            for b0, b1 in itertools.pairwise(bounds):
                trip = feed.trips[feed.trip_ids[int(feed.st_trip[b0])]]
                if trip.service_id not in active:
                    continue
                arr = feed.st_arrival[b0:b1].astype(np.int64) + shift
                dep = feed.st_departure[b0:b1].astype(np.int64) + shift
                if delays is not None and shift == 0 and trip.trip_id in delays:
                    live = delays[trip.trip_id]
                    if live is None:
                        continue  # canceled: not offered
                    arr = arr + live[0]
                    dep = dep + live[1]
                if shift and dep[-1] < 0:
                    continue  # yesterday's trip finished before midnight
                if (feed.st_arrival[b0:b1] < 0).any():
                    continue  # untimed (interpolated) stops: not usable by the planner yet
                key = (trip.route_id, tuple(int(x) + base for x in feed.st_stop[b0:b1]))
                groups[key].append((trip.trip_id, arr, dep))
    patterns: list[Pattern] = []
    for (route_id, stops), trips in groups.items():
        arr = np.array([t[1] for t in trips], dtype=np.int64)
        dep = np.array([t[2] for t in trips], dtype=np.int64)
        order = sorted(range(len(trips)), key=lambda i: (int(dep[i, 0]), int(arr[i, -1])))
        for g in _split_fifo(order, arr, dep):
            patterns.append(
                Pattern(
                    route_id,
                    np.array(stops, dtype=np.int32),
                    tuple(trips[i][0] for i in g),
                    arr[g].astype(np.int32),
                    dep[g].astype(np.int32),
                )
            )
    stop_patterns: list[list[tuple[int, int]]] = [[] for _ in stop_ids]
    for p_idx, p in enumerate(patterns):
        for pos, s in enumerate(p.stops[:-1]):  # nobody boards at the last stop
            stop_patterns[int(s)].append((p_idx, pos))
    lat_a, lon_a = np.array(lats), np.array(lons)
    footpaths: list[list[tuple[int, int]]] = [[] for _ in stop_ids]
    if max_walk_m > 0 and len(stop_ids) > 1:
        k = np.pi / 180 * EARTH_RADIUS_M
        xy = np.column_stack((lon_a * k * np.cos(np.radians(np.mean(lat_a))), lat_a * k))
        tree = cKDTree(xy)
        limit = max_walk_m / walk_circuity
        for i, j in sorted(tree.query_pairs(limit)):
            metres = float(np.hypot(*(xy[i] - xy[j]))) * walk_circuity
            secs = int(np.ceil(metres / walk_speed_ms))
            footpaths[i].append((j, secs))
            footpaths[j].append((i, secs))
    return Timetable(
        service_date,
        tuple(stop_ids),
        lat_a,
        lon_a,
        tuple(patterns),
        tuple(tuple(x) for x in stop_patterns),
        tuple(tuple(x) for x in footpaths),
        route_names,
        route_types,
    )
