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
def problems(
    draw: st.DrawFn, max_requests: int = 8, max_vehicles: int = 3, rich: bool = False, asked: bool = False
) -> Problem:
    """``rich`` adds what a live day has: riders already on board, requests locked to a vehicle,
    required features (low-floor), route duration caps and vehicles starting where they are.
    ``asked`` records the time each rider asked for (an appointment or a pickup time), as dispatch does."""
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
    on_board: list[str] = []
    for i in range(n):
        p, d = 1 + 2 * i, 2 + 2 * i
        direct = int(dur[p, d])
        t0 = draw(st.integers(7 * 3600, 10 * 3600))
        arrive_by = draw(st.booleans())
        seats = draw(st.integers(1, 3))
        wheelchairs = draw(st.integers(0, 1))
        extra: dict[str, object] = {}
        if arrive_by:
            pw, dw = TimeWindow(0, 86_400), TimeWindow(t0 + direct, t0 + direct + 900)
            if asked:
                extra["appointment_s"] = t0 + direct + 900
        else:
            pw, dw = TimeWindow(t0, t0 + 900), TimeWindow(0, 86_400)
            if asked:
                extra["wanted_pickup_s"] = t0
        if rich:
            kind = draw(st.sampled_from(["free", "free", "locked", "on_board", "low_floor"]))
            vid = f"v{draw(st.integers(0, k - 1))}"
            if kind == "locked":
                extra["vehicle_id"] = vid
            elif kind == "on_board" and on_board.count(vid) < 3:  # every vehicle has >= 3 seats
                on_board.append(vid)
                # picked up at 07:00 by ``vid``; a wide drop-off window keeps the day feasible
                seats, wheelchairs = 1, 0
                pw, dw = TimeWindow(0, 86_400), TimeWindow(0, 86_400)
                extra = {"vehicle_id": vid, "picked_up_at": 7 * 3600}
            elif kind == "low_floor":
                extra["required_features"] = frozenset({"low_floor"})
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
                max_ride_time_s=ride_time_limit(direct, 1.5, 600)
                if "picked_up_at" not in extra
                else ride_time_limit(direct, 1.5, 600) + 4 * 3600,
                **extra,  # type: ignore[arg-type]
            )
        )
    vehicles = []
    for j in range(k):
        start = draw(st.integers(0, 2 * n)) if rich else 0
        vehicles.append(
            Vehicle(
                f"v{j}",
                start,
                0,
                TimeWindow(7 * 3600 if rich else 6 * 3600, 14 * 3600),
                seats=draw(st.integers(3, 5)),
                wheelchairs=draw(st.integers(0, 1)),
                features=frozenset({"low_floor"}) if rich and draw(st.booleans()) else frozenset(),
                max_duration_s=draw(st.sampled_from([None, 4 * 3600, 6 * 3600])) if rich else None,
            )
        )
    return Problem(tuple(requests), tuple(vehicles), dur, dist, name="random")
