"""The OR-Tools routing model of the DARP, and the LP solver of route timing (GLOP). The only module
that imports OR-Tools.

Node layout: one start and one end node per vehicle, then a pickup node (unless the rider is already
on board) and a drop-off node per request. Transit matrices are registered as matrices (no Python
callbacks in the search loop). Ride-time limits are side constraints on the time cumuls; because
OR-Tools' insertion heuristics cannot see them, callers pass a first solution built by our own
ride-time-aware insertion (``solver.construction``) and OR-Tools improves it with guided local search.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.linear_solver import pywraplp

from solver.problem import Problem, Request
from solver.result import StopKind
from solver.schedule import PlannedStop, tightened_windows

UNSERVED_PENALTY = 10**9


@dataclass(frozen=True, slots=True)
class _Node:
    request: Request | None
    kind: StopKind | None
    location: int
    service_s: int
    earliest: int
    latest: int


class RoutingModel:
    """Builds the OR-Tools model for one ``Problem`` and solves it, optionally from given routes."""

    def __init__(
        self, problem: Problem, requests: Sequence[Request], mandatory: Collection[str] = frozenset()
    ) -> None:
        self.problem = problem
        self.requests = list(requests)
        nv = len(problem.vehicles)
        nodes: list[_Node] = []
        for v in problem.vehicles:
            nodes.append(_Node(None, None, v.start, 0, v.shift.earliest, v.shift.latest))
        for v in problem.vehicles:
            nodes.append(_Node(None, None, v.end, 0, v.shift.earliest, v.shift.latest))
        self.pickup_node: dict[str, int] = {}
        self.dropoff_node: dict[str, int] = {}
        for r in self.requests:
            (ep, lp), (ed, ld) = tightened_windows(problem, r)
            if not r.on_board:
                self.pickup_node[r.request_id] = len(nodes)
                nodes.append(_Node(r, StopKind.PICKUP, r.pickup, r.boarding_s, ep, lp))
            self.dropoff_node[r.request_id] = len(nodes)
            nodes.append(_Node(r, StopKind.DROPOFF, r.dropoff, r.alighting_s, ed, ld))
        self.nodes = nodes
        locs = np.array([n.location for n in nodes], dtype=np.int64)
        svc = np.array([n.service_s for n in nodes], dtype=np.int64)
        dist = problem.distance_m[np.ix_(locs, locs)]
        time = problem.duration_s[np.ix_(locs, locs)] + svc[:, None]
        self.manager = pywrapcp.RoutingIndexManager(len(nodes), nv, list(range(nv)), list(range(nv, 2 * nv)))
        m = pywrapcp.RoutingModel(self.manager)
        self.model = m
        dist_cb = m.RegisterTransitMatrix(dist.tolist())
        time_cb = m.RegisterTransitMatrix(time.tolist())
        m.SetArcCostEvaluatorOfAllVehicles(dist_cb)
        horizon = int(max(max(n.latest for n in nodes), max(v.shift.latest for v in problem.vehicles))) + 1
        m.AddDimension(time_cb, horizon, horizon, False, "time")
        td = m.GetDimensionOrDie("time")
        self.time_dim = td
        for v_idx, v in enumerate(problem.vehicles):
            td.CumulVar(m.Start(v_idx)).SetRange(v.shift.earliest, v.shift.latest)
            td.CumulVar(m.End(v_idx)).SetRange(v.shift.earliest, v.shift.latest)
            if v.max_duration_s is not None:
                td.SetSpanUpperBoundForVehicle(v.max_duration_s, v_idx)
            m.AddVariableMinimizedByFinalizer(td.CumulVar(m.Start(v_idx)))
            m.AddVariableMinimizedByFinalizer(td.CumulVar(m.End(v_idx)))
        for d, dim_name in enumerate(("seats", "wheelchairs")):
            demand = [0] * len(nodes)
            for i, n in enumerate(nodes):
                if n.request is not None:
                    q = n.request.load[d]
                    demand[i] = q if n.kind is StopKind.PICKUP else -q
            cb = m.RegisterUnaryTransitVector(demand)
            caps = [v.capacity[d] for v in problem.vehicles]
            m.AddDimensionWithVehicleCapacity(cb, 0, caps, False, dim_name)
            cd = m.GetDimensionOrDie(dim_name)
            for v_idx, v in enumerate(problem.vehicles):
                onboard = problem.onboard_load[v.vehicle_id][d]
                cd.CumulVar(m.Start(v_idx)).SetValue(onboard)
        solver = m.solver()
        vid_index = problem.vehicle_index
        for r in self.requests:
            d_idx = self.manager.NodeToIndex(self.dropoff_node[r.request_id])
            dn = nodes[self.dropoff_node[r.request_id]]
            td.CumulVar(d_idx).SetRange(dn.earliest, dn.latest)
            allowed = [
                i
                for i, v in enumerate(problem.vehicles)
                if r.required_features <= v.features and all(r.load[k] <= v.capacity[k] for k in range(2))
            ]
            if r.vehicle_id is not None:
                allowed = [vid_index[r.vehicle_id]]
            if r.on_board:
                m.VehicleVar(d_idx).SetValues(allowed)
                continue
            p_idx = self.manager.NodeToIndex(self.pickup_node[r.request_id])
            pn = nodes[self.pickup_node[r.request_id]]
            td.CumulVar(p_idx).SetRange(pn.earliest, pn.latest)
            m.AddPickupAndDelivery(p_idx, d_idx)
            solver.Add(m.VehicleVar(p_idx) == m.VehicleVar(d_idx))
            solver.Add(td.CumulVar(p_idx) <= td.CumulVar(d_idx))
            solver.Add(td.CumulVar(d_idx) - td.CumulVar(p_idx) <= r.max_ride_time_s + r.boarding_s)
            # Penalised, not forced: OR-Tools' first-solution heuristics fail outright on ride-time side
            # constraints otherwise. A promised request costs 1000x more to drop than any other.
            penalty = UNSERVED_PENALTY * (1000 if r.request_id in mandatory else 1)
            m.AddDisjunction([p_idx, d_idx], penalty, 2)
            if len(allowed) < len(problem.vehicles):
                m.VehicleVar(p_idx).SetValues([-1, *allowed])
                m.VehicleVar(d_idx).SetValues([-1, *allowed])

    def _node_routes(self, routes: dict[str, list[PlannedStop]]) -> list[list[int]]:
        out = []
        for v in self.problem.vehicles:
            seq = []
            for r, kind in routes.get(v.vehicle_id, []):
                node = (
                    self.pickup_node[r.request_id]
                    if kind is StopKind.PICKUP
                    else self.dropoff_node[r.request_id]
                )
                seq.append(self.manager.NodeToIndex(node))
            out.append(seq)
        return out

    def solve(
        self,
        *,
        time_limit_s: float,
        seed: int = 0,
        initial: dict[str, list[PlannedStop]] | None = None,
        log: bool = False,
    ) -> dict[str, list[PlannedStop]] | None:
        params = pywrapcp.DefaultRoutingSearchParameters()
        # Measured on the Cordeau set: parallel cheapest insertion beats local cheapest insertion.
        # OR-Tools' routing search is deterministic; ``seed`` picks the GLS penalty factor instead.
        params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
        params.guided_local_search_lambda_coefficient = (0.1, 0.2, 0.05, 0.3)[seed % 4]
        params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
        params.log_search = log
        m = self.model
        assignment = None
        if initial is not None:
            start = m.ReadAssignmentFromRoutes(self._node_routes(initial), True)
            if start is not None:
                assignment = m.SolveFromAssignmentWithParameters(start, params)
        if assignment is None:
            assignment = m.SolveWithParameters(params)
        if assignment is None:
            return None
        out: dict[str, list[PlannedStop]] = {}
        for v_idx, v in enumerate(self.problem.vehicles):
            idx = m.Start(v_idx)
            seq: list[PlannedStop] = []
            idx = assignment.Value(m.NextVar(idx))
            while not m.IsEnd(idx):
                n = self.nodes[self.manager.IndexToNode(idx)]
                assert n.request is not None and n.kind is not None
                seq.append((n.request, n.kind))
                idx = assignment.Value(m.NextVar(idx))
            out[v.vehicle_id] = seq
        return out


def improve(
    problem: Problem,
    requests: Sequence[Request],
    *,
    time_limit_s: float,
    seed: int = 0,
    initial: dict[str, list[PlannedStop]] | None = None,
    mandatory: Collection[str] = frozenset(),
) -> dict[str, list[PlannedStop]] | None:
    """Solve with OR-Tools from ``initial`` routes (if given); returns routes per vehicle id."""
    model = RoutingModel(problem, requests, mandatory)
    return model.solve(time_limit_s=time_limit_s, seed=seed, initial=initial)


def solve_lp(
    cost: Sequence[float],
    a_ub: Sequence[tuple[int, int, float]],
    b_ub: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
) -> list[float] | None:
    """min ``cost``·x subject to ``A x <= b_ub`` (``a_ub``: (row, column, coefficient) triples) and
    ``lower <= x <= upper`` (``inf`` for no bound), with OR-Tools' GLOP; None unless optimal.

    Why GLOP and not ``scipy.optimize.linprog``: the route timing LPs are tiny (tens of variables) and
    solved thousands of times a simulated day; linprog's input checking and conversion cost about
    three times what GLOP's whole build-and-solve does on them (``benchmarks/timing.py``)."""
    lp = pywraplp.Solver.CreateSolver("GLOP")
    if lp is None:  # pragma: no cover - GLOP ships in every OR-Tools wheel
        return None
    inf = lp.infinity()
    xs = [
        lp.NumVar(-inf if lo == -np.inf else float(lo), inf if hi == np.inf else float(hi), "")
        for lo, hi in zip(lower, upper, strict=True)
    ]
    rows = [lp.Constraint(-inf, float(b)) for b in b_ub]
    for r, col, coef in a_ub:
        rows[r].SetCoefficient(xs[col], coef)
    objective = lp.Objective()
    for x, c in zip(xs, cost, strict=True):
        if c:
            objective.SetCoefficient(x, float(c))
    objective.SetMinimization()
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    return [x.solution_value() for x in xs]
