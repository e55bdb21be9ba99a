"""Requests that cannot be served come back with their reason; the checker catches planted faults."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from solver import (
    Problem,
    Request,
    Result,
    Route,
    Stop,
    StopKind,
    TimeWindow,
    UnassignedReason,
    Vehicle,
    check,
    solve,
)

DUR = np.array([[0, 600, 1200], [600, 0, 900], [1200, 900, 0]], dtype=np.int64)
DIST = DUR * 8
VAN = Vehicle(
    "van", 0, 0, TimeWindow(8 * 3600, 17 * 3600), seats=4, wheelchairs=1, features=frozenset({"ramp"})
)
OK = Request(
    "ok",
    1,
    2,
    pickup_window=TimeWindow(9 * 3600, 9 * 3600 + 900),
    boarding_s=60,
    alighting_s=60,
    max_ride_time_s=1800,
)


def solve_one(r: Request) -> Result:
    return solve(Problem((OK, r), (VAN,), DUR, DIST), time_limit_s=0.2)


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (replace(OK, request_id="big", seats=6), UnassignedReason.CAPACITY),
        (replace(OK, request_id="lift", required_features=frozenset({"lift"})), UnassignedReason.FEATURES),
        (
            replace(OK, request_id="late", dropoff_window=TimeWindow(0, 9 * 3600 + 600)),
            UnassignedReason.WINDOW,
        ),
        (replace(OK, request_id="short", max_ride_time_s=300), UnassignedReason.RIDE_TIME),
        (
            replace(OK, request_id="night", pickup_window=TimeWindow(20 * 3600, 21 * 3600)),
            UnassignedReason.SHIFT,
        ),
    ],
)
def test_unservable_request_is_reported_with_its_reason(request_: Request, reason: UnassignedReason) -> None:
    result = solve_one(request_)
    assert result.unassigned == {request_.request_id: reason}
    assert check(Problem((OK, request_), (VAN,), DUR, DIST), result) == []


def test_conflicting_requests_leave_one_unassigned_with_a_reason() -> None:
    wheel = replace(
        OK,
        request_id="w1",
        wheelchairs=1,
        seats=0,
        pickup_window=TimeWindow(9 * 3600, 9 * 3600 + 60),
        max_ride_time_s=900,
    )
    wheel2 = replace(wheel, request_id="w2")
    problem = Problem((wheel, wheel2), (VAN,), DUR, DIST)
    result = solve(problem, time_limit_s=0.3)
    assert len(result.unassigned) == 1
    assert next(iter(result.unassigned.values())) is UnassignedReason.CONFLICT
    assert check(problem, result) == []


def _good() -> tuple[Problem, Result]:
    problem = Problem((OK,), (VAN,), DUR, DIST)
    return problem, solve(problem, time_limit_s=0.2)


def test_checker_accepts_a_solver_result() -> None:
    problem, result = _good()
    assert check(problem, result) == []


def _with_stops(result: Result, stops: tuple[Stop, ...], end_s: int | None = None) -> Result:
    route = replace(result.routes[0], stops=stops)
    if end_s is not None:
        route = replace(route, end_s=end_s)
    return replace(result, routes=(route,))


def test_checker_catches_window_order_ride_time_and_capacity_faults() -> None:
    problem, result = _good()
    p, d = result.routes[0].stops
    early = _with_stops(result, (replace(p, time_s=p.time_s - 1000), d))
    assert any("before arrival" in str(v) or "outside window" in str(v) for v in check(problem, early))
    swapped = _with_stops(result, (d, p))
    assert any("before being picked up" in str(v) for v in check(problem, swapped))
    slow = _with_stops(result, (p, replace(d, time_s=d.time_s + 3000)), end_s=result.routes[0].end_s + 3000)
    assert any("ride time" in str(v) for v in check(problem, slow))
    crowd = Problem((replace(OK, seats=5),), (VAN,), DUR, DIST)
    assert any("over capacity" in str(v) for v in check(crowd, result))
    missing = replace(result, routes=())
    assert any("neither routed nor listed" in str(v) for v in check(problem, missing))


def test_problem_validation_names_the_bad_reference() -> None:
    with pytest.raises(IndexError, match="location 7 outside"):
        Problem((replace(OK, dropoff=7),), (VAN,), DUR, DIST)
    with pytest.raises(ValueError, match="unique"):
        Problem((OK, OK), (VAN,), DUR, DIST)
    with pytest.raises(ValueError, match="closes"):
        TimeWindow(10, 5)
    with pytest.raises(ValueError, match="seat or wheelchair"):
        Request("x", 1, 2, seats=0)
    assert StopKind.PICKUP.value == "pickup"
    assert Route("v", (), 0, 0, 0, 0).stops == ()
