"""Road-network travel times from an OpenStreetMap extract (``.osm`` XML or ``.osm.pbf``).

The extract is read once with pyosmium (the OSM project's own C++ reader: both formats, streaming) into
a directed graph held as a scipy CSR matrix: nodes are OSM nodes on drivable ways, edges carry length
(m) and free-flow time (s) from a speed per ``highway`` type. Points are snapped to the nearest road
node (KD-tree on a local equirectangular projection). Matrices run Dijkstra from every distinct source
node at once in scipy's C code, and rows are cached per source node, since dispatch asks about the same
homes, hospitals and vehicles again and again.

The distance reported for a pair is the length of the *fastest* path (what a taxi would drive), not
the shortest path.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import osmium
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.points import EARTH_RADIUS_M, LatLon, haversine_m
from geo.travel_time import Leg, TravelMatrix, TravelTimeError, UnreachableError

# Free-flow speeds (km/h) by OSM highway type, conservative for Japanese regional roads.
DEFAULT_HIGHWAY_SPEEDS_KMH: dict[str, float] = {
    "motorway": 80.0,
    "motorway_link": 50.0,
    "trunk": 50.0,
    "trunk_link": 40.0,
    "primary": 40.0,
    "primary_link": 30.0,
    "secondary": 35.0,
    "secondary_link": 25.0,
    "tertiary": 30.0,
    "tertiary_link": 25.0,
    "unclassified": 25.0,
    "residential": 20.0,
    "living_street": 10.0,
    "service": 15.0,
}


class OsmFileError(TravelTimeError):
    """The OSM file is missing, unreadable or holds no drivable road."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class SnapError(TravelTimeError):
    """A point is too far from any road to be served."""


@dataclass(frozen=True, slots=True)
class RoadNetworkParams:
    highway_speeds_kmh: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_HIGHWAY_SPEEDS_KMH))
    max_snap_m: float = 1_000.0
    cache_rows: int = 4_096


@dataclass(frozen=True, slots=True)
class _Graph:
    node_ids: npt.NDArray[np.int64]  # OSM node id per graph index
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    time_s: csr_matrix
    length_m: csr_matrix


def _speed_for(tags: osmium.osm.TagList, speeds: Mapping[str, float]) -> float | None:
    highway = tags.get("highway")
    if highway is None or highway not in speeds:
        return None
    maxspeed = tags.get("maxspeed")
    if maxspeed and maxspeed.isdigit():
        # Posted limits are upper bounds; free-flow on Japanese local roads sits below them.
        return min(speeds[highway], float(maxspeed))
    return speeds[highway]


def _oneway(tags: osmium.osm.TagList) -> int:
    """1 forward only, -1 backward only, 0 both ways."""
    value = tags.get("oneway", "")
    if value in ("yes", "true", "1"):
        return 1
    if value == "-1":
        return -1
    if tags.get("junction") == "roundabout" or tags.get("highway") == "motorway":
        return 1 if value != "no" else 0
    return 0


def _read_osm(path: Path, speeds: Mapping[str, float]) -> _Graph:
    if not path.exists():
        raise OsmFileError(path, "file not found")
    if not path.is_file():
        raise OsmFileError(path, "not a regular file")
    index: dict[int, int] = {}
    lats: list[float] = []
    lons: list[float] = []
    src: list[int] = []
    dst: list[int] = []
    secs: list[float] = []
    metres: list[float] = []

    def node_index(ref: int, loc: osmium.osm.Location) -> int:
        i = index.get(ref)
        if i is None:
            i = len(lats)
            index[ref] = i
            lats.append(loc.lat)
            lons.append(loc.lon)
        return i

    try:
        # Nodes must be read too: the location cache fills from them before ways arrive.
        processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
        for way in processor:
            if not isinstance(way, osmium.osm.Way):
                continue
            speed = _speed_for(way.tags, speeds)
            if speed is None or len(way.nodes) < 2:
                continue
            direction = _oneway(way.tags)
            speed_ms = speed / 3.6
            prev: int | None = None
            prev_pt: LatLon | None = None
            for ref in way.nodes:
                if not ref.location.valid():
                    raise OsmFileError(path, f"way {way.id} refers to node {ref.ref} that is not in the file")
                i = node_index(ref.ref, ref.location)
                pt = LatLon(ref.location.lat, ref.location.lon)
                if prev is not None and prev_pt is not None and prev != i:
                    length = haversine_m(prev_pt, pt)
                    if direction >= 0:
                        src.append(prev)
                        dst.append(i)
                        secs.append(length / speed_ms)
                        metres.append(length)
                    if direction <= 0:
                        src.append(i)
                        dst.append(prev)
                        secs.append(length / speed_ms)
                        metres.append(length)
                prev, prev_pt = i, pt
    except OsmFileError:
        raise
    except Exception as exc:  # pyosmium reports parse errors as RuntimeError with a C++ message
        raise OsmFileError(path, f"cannot read OSM data: {exc}") from None
    if not src:
        raise OsmFileError(path, "no drivable roads (ways with a known highway=* type) in the file")
    n = len(lats)
    # Parallel edges: keep the fastest. CSR construction sums duplicates, so dedupe first.
    order = np.lexsort((np.array(secs), np.array(dst), np.array(src)))
    s_arr = np.array(src)[order]
    d_arr = np.array(dst)[order]
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = (s_arr[1:] != s_arr[:-1]) | (d_arr[1:] != d_arr[:-1])
    t_arr = np.array(secs)[order][keep]
    m_arr = np.array(metres)[order][keep]
    s_arr, d_arr = s_arr[keep], d_arr[keep]
    # A zero weight would read as "no edge" in CSR; nodes at the same spot still cost a millisecond.
    t_arr = np.maximum(t_arr, 1e-3)
    m_arr = np.maximum(m_arr, 1e-3)
    return _Graph(
        node_ids=np.array(list(index), dtype=np.int64),
        lat=np.array(lats),
        lon=np.array(lons),
        time_s=csr_matrix((t_arr, (s_arr, d_arr)), shape=(n, n)),
        length_m=csr_matrix((m_arr, (s_arr, d_arr)), shape=(n, n)),
    )


class RoadNetworkModel:
    """Travel times on an OSM road graph (see the module docstring)."""

    name = "road-network"

    def __init__(self, path: str | Path, params: RoadNetworkParams | None = None) -> None:
        self.path = Path(path)
        self.params = params or RoadNetworkParams()
        self._g = _read_osm(self.path, self.params.highway_speeds_kmh)
        self._lat0 = float(np.mean(self._g.lat))
        self._tree = cKDTree(self._project(self._g.lat, self._g.lon))
        self._rows: OrderedDict[int, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def node_count(self) -> int:
        return len(self._g.node_ids)

    def _project(self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        k = math.pi / 180.0 * EARTH_RADIUS_M
        return np.column_stack((lon * k * math.cos(math.radians(self._lat0)), lat * k))

    def snap(self, points: Sequence[LatLon]) -> npt.NDArray[np.int64]:
        """Graph index of the nearest road node for each point; ``SnapError`` when too far."""
        xy = self._project(np.array([p.lat for p in points]), np.array([p.lon for p in points]))
        dist, idx = self._tree.query(xy)
        far = np.flatnonzero(dist > self.params.max_snap_m)
        if len(far):
            p = points[int(far[0])]
            raise SnapError(
                f"{p} is {dist[far[0]]:.0f} m from the nearest road in {self.path.name} "
                f"(limit {self.params.max_snap_m:.0f} m)"
            )
        return np.asarray(idx, dtype=np.int64)

    def osm_node_id(self, index: int) -> int:
        return int(self._g.node_ids[index])

    def _rows_for(self, sources: npt.NDArray[np.int64]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        wanted = [int(s) for s in dict.fromkeys(sources.tolist())]
        out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        with self._lock:
            for s in wanted:
                if s in self._rows:
                    self._rows.move_to_end(s)
                    out[s] = self._rows[s]
        missing = [s for s in wanted if s not in out]
        if missing:
            times, pred = dijkstra(self._g.time_s, directed=True, indices=missing, return_predecessors=True)
            for k, s in enumerate(missing):
                out[s] = (times[k], self._path_lengths(pred[k]))
            with self._lock:
                for s in missing:
                    self._rows[s] = out[s]
                while len(self._rows) > self.params.cache_rows:
                    self._rows.popitem(last=False)
        return out

    def _path_lengths(self, pred: npt.NDArray[np.int32]) -> npt.NDArray[np.float64]:
        """Length (m) along the shortest-time tree, by pointer jumping (vectorised, O(n log depth))."""
        n = len(pred)
        has_pred = pred >= 0
        acc = np.zeros(n)
        nodes = np.flatnonzero(has_pred)
        acc[nodes] = np.asarray(self._g.length_m[pred[nodes], nodes]).ravel()
        jump = np.where(has_pred, pred, -1).astype(np.int64)
        while True:
            active = np.flatnonzero(jump >= 0)
            if len(active) == 0:
                break
            acc[active] += acc[jump[active]]
            jump[active] = jump[jump[active]]
        return acc

    def leg(self, origin: LatLon, destination: LatLon) -> Leg:
        return self.matrix([origin], [destination]).leg(0, 0)

    def matrix(self, origins: Sequence[LatLon], destinations: Sequence[LatLon] | None = None) -> TravelMatrix:
        dests = origins if destinations is None else destinations
        if len(origins) == 0 or len(dests) == 0:
            empty = np.zeros((len(origins), len(dests)), dtype=np.int64)
            return TravelMatrix(empty, empty.copy())
        o_idx = self.snap(origins)
        d_idx = self.snap(dests)
        rows = self._rows_for(o_idx)
        dur = np.vstack([rows[int(s)][0][d_idx] for s in o_idx])
        dist = np.vstack([rows[int(s)][1][d_idx] for s in o_idx])
        bad = np.argwhere(~np.isfinite(dur))
        if len(bad):
            raise UnreachableError([(origins[int(i)], dests[int(j)]) for i, j in bad])
        return TravelMatrix(
            duration_s=np.ceil(dur - 1e-9).astype(np.int64), distance_m=np.rint(dist).astype(np.int64)
        )
