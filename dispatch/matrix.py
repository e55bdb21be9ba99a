"""Travel times over every point the dispatch day has seen, grown a row and column at a time."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from geo import LatLon, TravelTimeModel


def point_key(p: LatLon) -> tuple[float, float]:
    """The identity of a point in the matrix (coordinates to 6 decimals, ~0.1 m)."""
    return (round(p.lat, 6), round(p.lon, 6))


class MatrixView(NamedTuple):
    indices: list[int]
    duration_s: npt.NDArray[np.int64]
    distance_m: npt.NDArray[np.int64]
    generation: int


class PointMatrix:
    """Travel times between every point seen so far, grown a row and column at a time.

    Bookings reuse a few hundred points (homes, hospitals, depots), so a quote computes travel only for
    points it has not seen. The matrices handed out are views of the first n rows and columns of a
    larger buffer: new points fill rows and columns beyond n, never a cell a view shows, so a running
    solve keeps what it was given; the buffer grows by a quarter when full (copying n x n matrices
    for every new point cost tens of milliseconds a quote at a few thousand points).
    """

    def __init__(self, model: TravelTimeModel, max_points: int = 6000) -> None:
        self.model = model
        self.max_points = max_points
        self._lock = threading.Lock()
        self._points: list[LatLon] = []
        self._index: dict[tuple[float, float], int] = {}
        self._dur: npt.NDArray[np.int64] = np.zeros((0, 0), dtype=np.int64)
        self._dist: npt.NDArray[np.int64] = np.zeros((0, 0), dtype=np.int64)
        self._buf_dur: npt.NDArray[np.int64] = np.zeros((0, 0), dtype=np.int64)
        self._buf_dist: npt.NDArray[np.int64] = np.zeros((0, 0), dtype=np.int64)
        self.generation = 0  # grows when the matrix starts afresh (indices seen before are void)

    def indices(
        self, points: Sequence[LatLon]
    ) -> tuple[list[int], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        view = self.lookup(points)
        return view.indices, view.duration_s, view.distance_m

    def lookup(self, points: Sequence[LatLon]) -> MatrixView:
        """The points' indices and the current matrices (grown by the points not seen yet)."""
        with self._lock:
            fresh: dict[tuple[float, float], LatLon] = {}
            for p in points:
                k = point_key(p)
                if k not in self._index:
                    fresh.setdefault(k, p)
            new = list(fresh.values())
            if len(self._points) + len(new) > self.max_points:
                self._points, self._index = [], {}
                self._dur = self._dist = np.zeros((0, 0), dtype=np.int64)
                self.generation += 1
                new = list({point_key(p): p for p in points}.values())
            if new:
                old = self._points
                allp = old + new
                n0, n = len(old), len(allp)
                if n > len(self._buf_dur) or n0 == 0:  # full (or starting afresh): a larger buffer
                    cap = min(max(n, n + n // 4, 64), max(n, self.max_points))
                    dur = np.zeros((cap, cap), dtype=np.int64)
                    dist = np.zeros((cap, cap), dtype=np.int64)
                    dur[:n0, :n0], dist[:n0, :n0] = self._dur, self._dist
                    self._buf_dur, self._buf_dist = dur, dist
                dur, dist = self._buf_dur, self._buf_dist
                rows = self.model.matrix(new, allp)  # new -> everything
                dur[n0:n, :n], dist[n0:n, :n] = rows.duration_s, rows.distance_m
                if n0:
                    cols = self.model.matrix(old, new)  # old -> new
                    dur[:n0, n0:n], dist[:n0, n0:n] = cols.duration_s, cols.distance_m
                self._points = allp
                for i, p in enumerate(new, start=n0):
                    self._index[point_key(p)] = i
                self._dur, self._dist = dur[:n, :n], dist[:n, :n]
            return MatrixView(
                [self._index[point_key(p)] for p in points], self._dur, self._dist, self.generation
            )
