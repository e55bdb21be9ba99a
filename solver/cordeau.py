"""Cordeau-format DARP benchmark instances (../shared/benchmarks/darp/FORMAT.md), both layouts.

Instance times and distances are real numbers (unrounded Euclidean). Our model is integer, so they are
scaled by ``SCALE`` and travel times rounded *up*: any schedule feasible with the rounded-up times is
feasible with the real ones (waiting is allowed), so reported solutions stay feasible in the
instance's own terms. Costs are recomputed from the coordinates, unrounded.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solver.problem import Objective, Problem, Request, TimeWindow, Vehicle
from solver.result import Result, StopKind

SCALE = 1000


class InstanceError(ValueError):
    """A malformed instance file; the message names the file and line."""


@dataclass(frozen=True)
class CordeauInstance:
    name: str
    n: int
    vehicles: int
    capacity: int
    max_ride: float
    max_duration: float
    xy: np.ndarray  # (2n+2, 2)
    service: np.ndarray
    load: np.ndarray
    earliest: np.ndarray
    latest: np.ndarray

    def distance(self, a: int, b: int) -> float:
        return float(math.hypot(*(self.xy[a] - self.xy[b])))

    def to_problem(self) -> Problem:
        n = self.n
        diff = self.xy[:, None, :] - self.xy[None, :, :]
        euclid = np.sqrt((diff**2).sum(axis=2))
        duration = np.ceil(euclid * SCALE - 1e-6).astype(np.int64)
        distance = np.rint(euclid * SCALE).astype(np.int64)

        def s(v: float) -> int:
            return round(v * SCALE)

        requests = tuple(
            Request(
                request_id=str(i),
                pickup=i,
                dropoff=n + i,
                seats=int(self.load[i]),
                pickup_window=TimeWindow(s(self.earliest[i]), s(self.latest[i])),
                dropoff_window=TimeWindow(s(self.earliest[n + i]), s(self.latest[n + i])),
                boarding_s=s(self.service[i]),
                alighting_s=s(self.service[n + i]),
                max_ride_time_s=s(self.max_ride),
            )
            for i in range(1, n + 1)
        )
        shift = TimeWindow(s(self.earliest[0]), s(self.latest[0]))
        vehicles = tuple(
            Vehicle(
                f"{k}",
                start=0,
                end=2 * n + 1,
                shift=shift,
                seats=self.capacity,
                max_duration_s=s(self.max_duration),
            )
            for k in range(self.vehicles)
        )
        return Problem(
            requests, vehicles, duration, distance, name=self.name, objective=Objective.distance_only()
        )

    def cost(self, result: Result) -> float:
        total = 0.0
        for route in result.routes:
            nodes = [0] + [self.node_of(s.request_id, s.kind) for s in route.stops] + [2 * self.n + 1]
            total += sum(self.distance(a, b) for a, b in itertools.pairwise(nodes))
        return total

    def node_of(self, request_id: str, kind: StopKind) -> int:
        i = int(request_id)
        return i if kind is StopKind.PICKUP else self.n + i

    def to_json(self, result: Result) -> dict[str, object]:
        routes = []
        for k, route in enumerate(result.routes):
            stops = [{"node": 0, "time": route.start_s / SCALE}]
            stops += [
                {"node": self.node_of(s.request_id, s.kind), "time": s.time_s / SCALE} for s in route.stops
            ]
            stops.append({"node": 2 * self.n + 1, "time": route.end_s / SCALE})
            routes.append({"vehicle": k, "stops": stops})
        return {
            "instance": self.name,
            "cost": round(self.cost(result), 4),
            "routes": routes,
            "unserved": sorted(int(r) for r in result.unassigned),
        }


def parse_instance(path: str | Path) -> CordeauInstance:
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InstanceError(f"{p}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstanceError(f"{p}: cannot read: {exc}") from None
    rows: list[tuple[int, list[str]]] = [(i, ln.split()) for i, ln in enumerate(lines, start=1) if ln.strip()]
    if not rows:
        raise InstanceError(f"{p}:1: empty file")
    hline, header = rows[0]
    if len(header) != 5:
        raise InstanceError(f"{p}:{hline}: header must have 5 numbers (K n T Q L), found {len(header)}")
    try:
        k, f2, t_max, q, ride = (
            int(header[0]),
            int(header[1]),
            float(header[2]),
            int(header[3]),
            float(header[4]),
        )
    except ValueError:
        raise InstanceError(f"{p}:{hline}: header must be numbers, got {' '.join(header)!r}") from None
    node_rows = rows[1:]
    if len(node_rows) == 2 * f2 + 2:
        n, end_copy = f2, False
    elif len(node_rows) == f2 + 1 and f2 % 2 == 0:
        n, end_copy = f2 // 2, True
    elif len(node_rows) == f2 + 2 and f2 % 2 == 0:  # jinete's variant: 2n in the header, end depot present
        n, end_copy = f2 // 2, False
    else:
        raise InstanceError(
            f"{p}:{hline}: header says {f2}, which fits neither {2 * f2 + 2} node lines (Cordeau 2006) nor "
            f"{f2 + 1} (Cordeau-Laporte 2003); the file has {len(node_rows)}"
        )
    data = np.zeros((len(node_rows), 6))
    for idx, (line_no, parts) in enumerate(node_rows):
        if len(parts) != 7:
            raise InstanceError(
                f"{p}:{line_no}: node line needs 7 fields (id x y d q e l), found {len(parts)}"
            )
        try:
            node_id = int(parts[0])
            vals = [float(x) for x in parts[1:]]
        except ValueError:
            raise InstanceError(
                f"{p}:{line_no}: node line must be numbers, got {' '.join(parts)!r}"
            ) from None
        if node_id != idx:
            raise InstanceError(f"{p}:{line_no}: expected node id {idx}, found {node_id}")
        if vals[5] < vals[4]:
            raise InstanceError(f"{p}:{line_no}: time window [{vals[4]}, {vals[5]}] closes before it opens")
        data[idx] = vals
    if end_copy:
        data = np.vstack([data, data[0]])
    latest = data[:, 5].copy()
    if p.name.endswith("jinete-modified.txt"):  # see FORMAT.md section 3: depot window is [0, T]
        latest[0] = latest[-1] = t_max
    for i in range(1, n + 1):
        if data[i, 3] != -data[n + i, 3]:
            raise InstanceError(
                f"{p}: request {i}: pickup load {data[i, 3]} != -drop-off load {data[n + i, 3]}"
            )
    return CordeauInstance(
        name=p.name.removesuffix(".txt"),
        n=n,
        vehicles=k,
        capacity=q,
        max_ride=ride,
        max_duration=t_max,
        xy=data[:, 0:2],
        service=data[:, 2],
        load=data[:, 3].astype(np.int64),
        earliest=data[:, 4],
        latest=latest,
    )
