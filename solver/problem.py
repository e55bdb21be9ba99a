"""The immutable dial-a-ride problem (DARP) handed to one solve.

Locations are indices into the travel matrices. All times are integer seconds on one clock (for a
service day: seconds after midnight, past 86,400 for after-midnight service as GTFS does); distances
integer metres. Built once, validated in the constructor (``ValueError`` for inconsistent data,
``IndexError`` for bad references), never mutated: make variants with ``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
from scipy.sparse.csgraph import floyd_warshall

DIMENSIONS = ("seats", "wheelchairs")
INF_TIME = 10 * 86_400


@dataclass(frozen=True, slots=True)
class TimeWindow:
    earliest: int
    latest: int

    def __post_init__(self) -> None:
        if self.latest < self.earliest:
            raise ValueError(f"time window closes ({self.latest}) before it opens ({self.earliest})")

    def contains(self, t: int) -> bool:
        return self.earliest <= t <= self.latest


OPEN = TimeWindow(0, INF_TIME)


@dataclass(frozen=True, slots=True)
class Request:
    """One rider's trip (a party travelling together).

    ``max_ride_time_s`` caps time in the vehicle from the start of service at the pickup plus the
    boarding time, to the start of service at the drop-off (Cordeau's definition). Build it from
    ``ride_time_limit(direct, factor, extra)`` for relative limits such as 1.5 x direct + 10 min.
    ``picked_up_at`` marks a rider already on board ``vehicle_id``: only the drop-off remains.
    """

    request_id: str
    pickup: int
    dropoff: int
    seats: int = 1
    wheelchairs: int = 0
    pickup_window: TimeWindow = OPEN
    dropoff_window: TimeWindow = OPEN
    boarding_s: int = 0
    alighting_s: int = 0
    max_ride_time_s: int = INF_TIME
    required_features: frozenset[str] = field(default_factory=frozenset)
    vehicle_id: str | None = None  # fixed to this vehicle (rider on board, or a locked assignment)
    picked_up_at: int | None = None
    # What the rider asked for, for the timing (soft; the windows stay the hard promise):
    wanted_pickup_s: int | None = None  # "pick me up at": a later pickup is waiting
    appointment_s: int | None = None  # "arrive by": arriving earlier than the margin is waiting

    def __post_init__(self) -> None:
        if not self.request_id:
            raise ValueError("request_id must not be empty")
        if self.seats < 0 or self.wheelchairs < 0 or self.seats + self.wheelchairs == 0:
            raise ValueError(f"request {self.request_id}: needs at least one seat or wheelchair place")
        if self.boarding_s < 0 or self.alighting_s < 0 or self.max_ride_time_s < 0:
            raise ValueError(f"request {self.request_id}: service and ride times must be >= 0")
        if self.picked_up_at is not None and self.vehicle_id is None:
            raise ValueError(f"request {self.request_id}: a picked-up rider must name the vehicle_id")

    @property
    def load(self) -> tuple[int, int]:
        return (self.seats, self.wheelchairs)

    @property
    def persons(self) -> int:
        return self.seats + self.wheelchairs

    @property
    def on_board(self) -> bool:
        return self.picked_up_at is not None


def ride_time_limit(direct_s: int, factor: float = 1.5, extra_s: int = 600, cap_s: int | None = None) -> int:
    """A relative ride-time limit, e.g. 1.5 x direct + 10 min (Paris PAM caps the extra at 30 min)."""
    limit = int(direct_s * factor) + extra_s
    return min(limit, cap_s) if cap_s is not None else limit


@dataclass(frozen=True, slots=True)
class Vehicle:
    vehicle_id: str
    start: int
    end: int
    shift: TimeWindow
    seats: int
    wheelchairs: int = 0
    features: frozenset[str] = field(default_factory=frozenset)
    max_duration_s: int | None = None  # route duration cap (end - start), e.g. Cordeau's T

    def __post_init__(self) -> None:
        if self.seats < 0 or self.wheelchairs < 0:
            raise ValueError(f"vehicle {self.vehicle_id}: capacities must be >= 0")

    @property
    def capacity(self) -> tuple[int, int]:
        return (self.seats, self.wheelchairs)


@dataclass(frozen=True, slots=True)
class Objective:
    """What a plan costs, in integer units per metre, per second and per vehicle.

    The routing (insertion, LNS, re-optimisation) minimises ``distance_per_m`` x vehicle metres +
    ``excess_ride_per_s`` x riders' excess ride seconds + ``vehicle_fixed`` x vehicles used. Excess ride
    is counted per person (a party of three counts three times) along the stop order: the time from
    boarding to alighting when the vehicle drives on without waiting, less the direct drive; the
    timing step (``solver.schedule.rider_schedule``) then puts any waiting before pickups where the
    windows allow. Defaults: a minute of one rider's detour weighs as much as 180 m of driving.

    The timing of a fixed stop order minimises ``excess_ride_per_s`` x excess ride + ``wait_per_s`` x
    waiting (a pickup later than asked, an arrival earlier than ``arrive_margin_s`` before the
    appointment, or later within it), never making total excess ride worse than the earliest schedule.
    ``Objective.distance_only()`` is the classic DARP objective (the Cordeau benchmark's).
    """

    distance_per_m: int = 1
    excess_ride_per_s: int = 3
    vehicle_fixed: int = 0
    wait_per_s: int = 1
    arrive_margin_s: int = 600  # a lone arrive-by rider is planned to arrive this long before the time

    def __post_init__(self) -> None:
        if min(self.distance_per_m, self.excess_ride_per_s, self.vehicle_fixed, self.wait_per_s) < 0:
            raise ValueError("objective weights must be >= 0")
        if self.arrive_margin_s < 0:
            raise ValueError("arrive_margin_s must be >= 0")

    @classmethod
    def distance_only(cls) -> Objective:
        return cls(distance_per_m=1, excess_ride_per_s=0, vehicle_fixed=0)


@dataclass(frozen=True)
class Problem:
    """Requests, vehicles and the travel matrices (``duration_s[i, j]``, ``distance_m[i, j]``), and
    the ``objective`` weights (riders' time counts by default; see ``Objective``)."""

    requests: tuple[Request, ...]
    vehicles: tuple[Vehicle, ...]
    duration_s: npt.NDArray[np.int64]
    distance_m: npt.NDArray[np.int64]
    name: str = ""
    objective: Objective = field(default_factory=Objective)

    def __post_init__(self) -> None:
        d, m = self.duration_s, self.distance_m
        if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape != m.shape:
            raise ValueError("duration_s and distance_m must be square matrices of the same shape")
        n = d.shape[0]
        ids = [r.request_id for r in self.requests]
        if len(set(ids)) != len(ids):
            raise ValueError("request ids must be unique")
        vids = [v.vehicle_id for v in self.vehicles]
        if len(set(vids)) != len(vids):
            raise ValueError("vehicle ids must be unique")
        for r in self.requests:
            for loc in (r.pickup, r.dropoff):
                if not 0 <= loc < n:
                    raise IndexError(f"request {r.request_id}: location {loc} outside the {n}x{n} matrix")
            if r.vehicle_id is not None and r.vehicle_id not in vids:
                raise IndexError(f"request {r.request_id}: unknown vehicle {r.vehicle_id}")
        for v in self.vehicles:
            for loc in (v.start, v.end):
                if not 0 <= loc < n:
                    raise IndexError(f"vehicle {v.vehicle_id}: location {loc} outside the {n}x{n} matrix")
        for v in self.vehicles:
            seats, wheelchairs = self.onboard_load[v.vehicle_id]
            if seats > v.seats or wheelchairs > v.wheelchairs:
                raise ValueError(
                    f"vehicle {v.vehicle_id}: riders on board take {seats} seats and {wheelchairs} "
                    f"wheelchair places, more than its {v.seats} and {v.wheelchairs}"
                )
        # only between the locations a route can visit: the matrices may hold thousands of other points
        used = np.ix_(self._places, self._places)
        if (d[used] < 0).any() or (m[used] < 0).any():
            raise ValueError("travel matrices must be non-negative")
        # Frozen numpy copies so nobody mutates the matrices under a running solve.
        for arr in (d, m):
            arr.setflags(write=False)

    @cached_property
    def request_index(self) -> dict[str, int]:
        return {r.request_id: i for i, r in enumerate(self.requests)}

    @cached_property
    def vehicle_index(self) -> dict[str, int]:
        return {v.vehicle_id: i for i, v in enumerate(self.vehicles)}

    @cached_property
    def onboard_load(self) -> dict[str, tuple[int, int]]:
        """(seats, wheelchairs) taken by riders already on board, per vehicle id."""
        out = {v.vehicle_id: (0, 0) for v in self.vehicles}
        for r in self.requests:
            if r.on_board and r.vehicle_id is not None:
                s, w = out[r.vehicle_id]
                out[r.vehicle_id] = (s + r.seats, w + r.wheelchairs)
        return out

    def direct_s(self, r: Request) -> int:
        return int(self.duration_s[r.pickup, r.dropoff])

    @cached_property
    def _places(self) -> npt.NDArray[np.int64]:
        """Every location a route of this problem can visit: the requests' ends, the vehicles' ends."""
        locs = {x for r in self.requests for x in (r.pickup, r.dropoff)}
        locs |= {x for v in self.vehicles for x in (v.start, v.end)}
        return np.array(sorted(locs), dtype=np.int64)

    @cached_property
    def shortest_s(self) -> npt.NDArray[np.int64]:
        """Shortest driving time between the problem's locations (``_places``, in that order) through
        any others. Road and straight-line matrices need not obey the triangle inequality (a detour
        through another stop can be quicker than the direct leg), so bounds that must hold for every
        route use these, not ``duration_s``. Only the problem's own locations count: a route visits
        no others, and the matrices may hold many more points (Floyd-Warshall is cubic in them)."""
        direct = self.duration_s[np.ix_(self._places, self._places)]
        arcs = direct.astype(np.float64)
        arcs[arcs == 0] = 1e-6  # csgraph reads a dense zero as "no arc"; a zero-second arc is an arc
        paths: npt.NDArray[np.float64] = floyd_warshall(arcs, directed=True)
        paths = np.where(np.isfinite(paths), np.rint(paths), direct)
        return np.minimum(paths.astype(np.int64), direct)

    def min_ride_s(self, r: Request) -> int:
        """The least driving time from the pickup to the drop-off by any route (<= ``direct_s``).
        For the problem's own requests from ``shortest_s`` (all of them are asked for by a solve);
        for another (a quote's precheck), Bellman-Ford from its pickup over the problem's locations
        and its two ends, which costs far less than all pairs."""
        own = self.request_index.get(r.request_id)
        if own is not None and self.requests[own] is r:
            i, j = np.searchsorted(self._places, [r.pickup, r.dropoff])
            return int(self.shortest_s[i, j])
        places = np.union1d(self._places, [r.pickup, r.dropoff])
        sub = self.duration_s[np.ix_(places, places)]
        src, dst = np.searchsorted(places, [r.pickup, r.dropoff])
        best = sub[src].copy()  # one min-plus product a round, until nothing improves
        for _ in range(len(places)):
            nxt = np.minimum(best, (best[:, None] + sub).min(axis=0))
            if np.array_equal(nxt, best):
                break
            best = nxt
        return int(best[dst])

    def travel_s(self, a: int, b: int) -> int:
        return int(self.duration_s[a, b])
