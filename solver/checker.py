"""An independent feasibility checker for solver results.

It recomputes nothing the solver reports; it only checks the reported schedule against the problem:
pairing and order, vehicle assignment, time windows, travel times between consecutive stops, capacity
in every dimension at every point, maximum ride time, shift and route duration, and that every
request is either routed once or listed as unassigned. Tests run it on every result.
"""

from __future__ import annotations

from dataclasses import dataclass

from solver.problem import Problem
from solver.result import Result, StopKind


@dataclass(frozen=True, slots=True)
class Violation:
    vehicle_id: str | None
    request_id: str | None
    what: str

    def __str__(self) -> str:
        where = "/".join(x for x in (self.vehicle_id, self.request_id) if x)
        return f"{where}: {self.what}" if where else self.what


def check(problem: Problem, result: Result, *, tolerance_s: int = 0) -> list[Violation]:
    # Deliberately recomputes everything (on-board loads included) from the problem's raw fields,
    # sharing no helper with the solver, so a solver bug cannot hide in a shared mistake.
    out: list[Violation] = []
    seen: dict[str, str] = {}
    by_id = {r.request_id: r for r in problem.requests}
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    for route in result.routes:
        v = vehicles.get(route.vehicle_id)
        if v is None:
            out.append(Violation(route.vehicle_id, None, "unknown vehicle"))
            continue
        vid = v.vehicle_id
        load = [
            sum(r.load[d] for r in problem.requests if r.on_board and r.vehicle_id == vid) for d in range(2)
        ]
        picked: dict[str, int] = {}
        prev_loc, prev_time, prev_svc = v.start, route.start_s, 0
        if not v.shift.contains(route.start_s):
            out.append(Violation(vid, None, f"leaves the depot at {route.start_s}, outside the shift"))
        for s in route.stops:
            r = by_id.get(s.request_id)
            if r is None:
                out.append(Violation(vid, s.request_id, "unknown request"))
                continue
            loc = r.pickup if s.kind is StopKind.PICKUP else r.dropoff
            if s.location != loc:
                out.append(Violation(vid, r.request_id, f"{s.kind} at location {s.location}, expected {loc}"))
            arrive = prev_time + prev_svc + problem.travel_s(prev_loc, loc)
            if s.time_s + tolerance_s < arrive:
                out.append(Violation(vid, r.request_id, f"{s.kind} at {s.time_s} before arrival {arrive}"))
            if r.vehicle_id is not None and r.vehicle_id != vid:
                out.append(Violation(vid, r.request_id, f"must ride with {r.vehicle_id}"))
            if not r.required_features <= v.features:
                out.append(Violation(vid, r.request_id, "vehicle lacks required features"))
            if s.kind is StopKind.PICKUP:
                if r.on_board:
                    out.append(Violation(vid, r.request_id, "picked up again although already on board"))
                key = r.request_id + ":p"
                if key in seen:
                    out.append(Violation(vid, r.request_id, "picked up twice"))
                seen[key] = vid
                w = r.pickup_window
                picked[r.request_id] = s.time_s
                load = [load[0] + r.seats, load[1] + r.wheelchairs]
            else:
                key = r.request_id + ":d"
                if key in seen:
                    out.append(Violation(vid, r.request_id, "dropped off twice"))
                seen[key] = vid
                w = r.dropoff_window
                if r.on_board:
                    assert r.picked_up_at is not None
                    start = r.picked_up_at
                elif r.request_id in picked:
                    start = picked[r.request_id]
                else:
                    out.append(Violation(vid, r.request_id, "dropped off before being picked up"))
                    start = s.time_s
                ride = s.time_s - (start + r.boarding_s)
                if ride > r.max_ride_time_s + tolerance_s:
                    out.append(Violation(vid, r.request_id, f"ride time {ride} > limit {r.max_ride_time_s}"))
                load = [load[0] - r.seats, load[1] - r.wheelchairs]
            if not (w.earliest - tolerance_s <= s.time_s <= w.latest + tolerance_s):
                out.append(
                    Violation(
                        vid, r.request_id, f"{s.kind} at {s.time_s} outside window [{w.earliest}, {w.latest}]"
                    )
                )
            if load[0] > v.seats or load[1] > v.wheelchairs:
                out.append(Violation(vid, r.request_id, f"load {load} over capacity {list(v.capacity)}"))
            prev_loc, prev_time = loc, s.time_s
            prev_svc = r.boarding_s if s.kind is StopKind.PICKUP else r.alighting_s
        arrive_end = prev_time + prev_svc + problem.travel_s(prev_loc, v.end)
        if route.end_s + tolerance_s < arrive_end:
            out.append(
                Violation(vid, None, f"reaches the depot at {route.end_s} before arrival {arrive_end}")
            )
        if route.end_s > v.shift.latest + tolerance_s:
            out.append(Violation(vid, None, f"ends at {route.end_s}, after the shift ends {v.shift.latest}"))
        if v.max_duration_s is not None and route.end_s - route.start_s > v.max_duration_s + tolerance_s:
            out.append(
                Violation(vid, None, f"route lasts {route.end_s - route.start_s} > {v.max_duration_s}")
            )
        for rid in picked:
            if rid + ":d" not in seen or seen[rid + ":d"] != vid:
                out.append(Violation(vid, rid, "picked up but not dropped off by the same vehicle"))
    for r in problem.requests:
        routed = (r.request_id + ":d") in seen
        if routed and r.request_id in result.unassigned:
            out.append(Violation(None, r.request_id, "both routed and listed as unassigned"))
        if not routed and r.request_id not in result.unassigned:
            out.append(Violation(None, r.request_id, "neither routed nor listed as unassigned"))
        if r.on_board and not routed:
            out.append(Violation(r.vehicle_id, r.request_id, "rider on board was never dropped off"))
    return out
