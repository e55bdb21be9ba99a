"""Small random DARP problems for property tests (a 10 km square city, one clock in seconds)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from solver import Problem, Request, TimeWindow, Vehicle, ride_time_limit


def grid_matrices(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    diff = points[:, None, :] - points[None, :, :]
    dist = np.rint(np.sqrt((diff**2).sum(axis=2))).astype(np.int64)  # metres
    dur = np.ceil(dist / 8.33).astype(np.int64)  # 30 km/h
    return dur, dist


@st.composite
def problems(draw: st.DrawFn, max_requests: int = 8, max_vehicles: int = 3) -> Problem:
    n = draw(st.integers(1, max_requests))
    k = draw(st.integers(1, max_vehicles))
    coords = draw(
        st.lists(
            st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), min_size=2 * n + 1, max_size=2 * n + 1
        )
    )
    pts = np.array(coords, dtype=np.float64)
    dur, dist = grid_matrices(pts)
    requests = []
    for i in range(n):
        p, d = 1 + 2 * i, 2 + 2 * i
        direct = int(dur[p, d])
        t0 = draw(st.integers(7 * 3600, 10 * 3600))
        arrive_by = draw(st.booleans())
        seats = draw(st.integers(1, 3))
        wheelchairs = draw(st.integers(0, 1))
        if arrive_by:
            pw, dw = TimeWindow(0, 86_400), TimeWindow(t0 + direct, t0 + direct + 900)
        else:
            pw, dw = TimeWindow(t0, t0 + 900), TimeWindow(0, 86_400)
        requests.append(
            Request(
                f"r{i}",
                p,
                d,
                seats=seats,
                wheelchairs=wheelchairs,
                pickup_window=pw,
                dropoff_window=dw,
                boarding_s=60,
                alighting_s=60,
                max_ride_time_s=ride_time_limit(direct, 1.5, 600),
            )
        )
    vehicles = [
        Vehicle(
            f"v{j}",
            0,
            0,
            TimeWindow(6 * 3600, 14 * 3600),
            seats=draw(st.integers(3, 5)),
            wheelchairs=draw(st.integers(0, 1)),
        )
        for j in range(k)
    ]
    return Problem(tuple(requests), tuple(vehicles), dur, dist, name="random")
