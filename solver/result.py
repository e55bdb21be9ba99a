"""What a solve returns: routes with their schedule, per-request times, costs, and reasons."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class StopKind(enum.StrEnum):
    PICKUP = "pickup"
    DROPOFF = "dropoff"


@dataclass(frozen=True, slots=True)
class Stop:
    request_id: str
    kind: StopKind
    location: int
    time_s: int  # start of service


@dataclass(frozen=True, slots=True)
class Route:
    vehicle_id: str
    stops: tuple[Stop, ...]
    start_s: int  # leaves the start depot
    end_s: int  # arrives at the end depot
    distance_m: int
    duration_s: int


class UnassignedReason(enum.StrEnum):
    CAPACITY = "too many passengers or wheelchairs for any vehicle"
    FEATURES = "no vehicle has the required features"
    WINDOW = "time windows cannot be met even by a direct trip"
    RIDE_TIME = "maximum ride time is shorter than the direct trip"
    SHIFT = "no vehicle shift can reach the pickup and the drop-off in time"
    CONFLICT = "no feasible place in any vehicle's route alongside the other requests"


@dataclass(frozen=True, slots=True)
class Result:
    routes: tuple[Route, ...]
    unassigned: dict[str, UnassignedReason]
    cost: dict[str, int]  # breakdown: distance_m, duration_s, unassigned
    status: str
    runtime_s: float
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def distance_m(self) -> int:
        return sum(r.distance_m for r in self.routes)

    def times(self) -> dict[str, tuple[int | None, int]]:
        """request_id -> (pickup time or None when picked up before this plan, drop-off time)."""
        out: dict[str, list[int | None]] = {}
        for route in self.routes:
            for s in route.stops:
                entry = out.setdefault(s.request_id, [None, 0])
                entry[0 if s.kind is StopKind.PICKUP else 1] = s.time_s
        return {k: (v[0], int(v[1] or 0)) for k, v in out.items()}

    def route_of(self, vehicle_id: str) -> Route | None:
        return next((r for r in self.routes if r.vehicle_id == vehicle_id), None)
