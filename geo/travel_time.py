"""The travel-time protocol every part of Noriai uses (solver, fares, dispatch, planner, simulator).

A model answers two questions: how long and how far from A to B (``leg``), and the same for many points
at once as integer numpy matrices (``matrix``). Durations are seconds, distances metres, both ``int``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from geo.points import LatLon


class TravelTimeError(Exception):
    """Base class for travel-time failures callers may want to report to a user."""


class UnreachableError(TravelTimeError):
    """No path exists between two points (e.g. a one-way dead end or a separate island of roads)."""

    def __init__(self, pairs: Sequence[tuple[LatLon, LatLon]]) -> None:
        self.pairs = list(pairs)
        shown = "; ".join(f"{a} -> {b}" for a, b in self.pairs[:5])
        more = f" (and {len(self.pairs) - 5} more)" if len(self.pairs) > 5 else ""
        super().__init__(f"no route between {len(self.pairs)} pair(s): {shown}{more}")


@dataclass(frozen=True, slots=True)
class Leg:
    """Travel between two points."""

    duration_s: int
    distance_m: int


@dataclass(frozen=True, slots=True)
class TravelMatrix:
    """Durations (s) and distances (m) from each origin (rows) to each destination (columns)."""

    duration_s: npt.NDArray[np.int64]
    distance_m: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        if self.duration_s.shape != self.distance_m.shape:
            raise ValueError("duration and distance matrices must have the same shape")

    def leg(self, i: int, j: int) -> Leg:
        return Leg(int(self.duration_s[i, j]), int(self.distance_m[i, j]))


@runtime_checkable
class TravelTimeModel(Protocol):
    """Duration and distance between points. Implementations must be safe to share between threads."""

    name: str

    def leg(self, origin: LatLon, destination: LatLon) -> Leg:
        """Travel from ``origin`` to ``destination``; raises ``UnreachableError`` when there is no path."""
        ...

    def matrix(self, origins: Sequence[LatLon], destinations: Sequence[LatLon] | None = None) -> TravelMatrix:
        """All pairs; ``destinations`` defaults to ``origins`` (a square matrix)."""
        ...
