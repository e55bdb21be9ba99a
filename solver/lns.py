"""Large-neighbourhood search (ruin and recreate) for the DARP, around OR-Tools.

OR-Tools' own operators move one or two nodes at a time, and its insertion heuristics cannot see the
ride-time limits, so on tight dial-a-ride instances its guided local search stalls a few per cent above
the best known costs. This search removes a handful of related requests at once and reinserts each
where it is cheapest, checking every candidate route exactly (windows, ride times, capacity, route
duration), and accepts a worse plan now and then (simulated annealing) to leave local optima. Ruin
operators as in SISR (Christiaens & Vanden Berghe 2020): random requests, related requests (Shaw:
close in space and time), and strings of consecutive stops in neighbouring routes; recreate is greedy
cheapest insertion in one of four orders with blinks. The inner loop is compiled (``_lns_kernel``).

``improve`` keeps every request that the starting plan serves served (an unserved request costs more
than any distance) and returns the best plan seen, which is never worse than the start (in the
problem's weighted objective: distance, riders' excess ride, vehicles used).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solver import _lns_kernel as kernel
from solver.insertion import vehicle_can_take
from solver.problem import Problem, Request, TimeWindow, Vehicle
from solver.result import StopKind
from solver.schedule import PlannedStop, tightened_windows

NO_LIMIT = 10**12
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class LnsParams:
    min_removed: int = 2
    max_removed: int = 0  # 0: a quarter of the requests, between 4 and 30
    blink: float = 0.01
    max_string: int = 8
    p_random: float = 0.15
    p_related: float = 0.45  # the rest: string removal
    temp_start: float = 0.5  # x the mean arc length of the starting plan
    temp_end: float = 0.005
    chunk_s: float = 0.05  # compiled iterations between clock checks


@dataclass
class _Arrays:
    requests: list[Request]
    vehicle_ids: list[str]
    T: I64
    D: I64
    lo: I64
    hi: I64
    q: I64
    cap: I64
    init_load: I64
    allowed: npt.NDArray[np.bool_]
    has_pick: npt.NDArray[np.bool_]
    maxride: I64
    maxdur: I64
    neigh: I64
    mandatory: npt.NDArray[np.bool_]
    wt: I64  # objective weights: per metre, per second of excess ride, per vehicle used

    @property
    def data(self) -> tuple[I64, I64, I64, I64, I64, I64, int, I64, I64, I64]:
        """The constant arrays every kernel reads, in ``_lns_kernel._refresh``'s order."""
        n_req = len(self.requests)
        return (
            self.T, self.D, self.lo, self.hi, self.q, self.init_load, n_req, self.maxride, self.maxdur,
            self.wt,
        )  # fmt: skip


def _arrays(
    problem: Problem, requests: Sequence[Request], mandatory: Collection[str], n_neighbours: int = 40
) -> _Arrays:
    n_req, n_veh = len(requests), len(problem.vehicles)
    n = 2 * n_req + 2 * n_veh
    locs = np.zeros(n, dtype=np.int64)
    svc = np.zeros(n, dtype=np.int64)
    lo = np.zeros(n, dtype=np.int64)
    hi = np.zeros(n, dtype=np.int64)
    q = np.zeros((n, 2), dtype=np.int64)
    for i, r in enumerate(requests):
        (ep, lp), (ed, ld) = tightened_windows(problem, r)
        locs[i], svc[i], lo[i], hi[i] = r.pickup, r.boarding_s, ep, lp
        locs[n_req + i], svc[n_req + i], lo[n_req + i], hi[n_req + i] = r.dropoff, r.alighting_s, ed, ld
        q[i] = r.load
        q[n_req + i] = (-r.seats, -r.wheelchairs)
    for v_idx, v in enumerate(problem.vehicles):
        for node, loc in ((2 * n_req + v_idx, v.start), (2 * n_req + n_veh + v_idx, v.end)):
            locs[node], lo[node], hi[node] = loc, v.shift.earliest, v.shift.latest
    T = problem.duration_s[np.ix_(locs, locs)] + svc[:, None]
    D = np.ascontiguousarray(problem.distance_m[np.ix_(locs, locs)])
    # Related requests: near at both ends, and near in time (seconds converted to metres at the
    # matrices' mean speed so the two terms weigh alike).
    pick, drop = np.arange(n_req), n_req + np.arange(n_req)
    speed = float(D[:n_req, :n_req].mean()) / max(1.0, float(T[:n_req, :n_req].mean())) if n_req else 1.0
    t_pick = np.clip(lo[pick], 0, NO_LIMIT).astype(np.float64)
    t_drop = np.clip(hi[drop], 0, 3 * 86_400).astype(np.float64)
    rel = (
        D[np.ix_(pick, pick)]
        + D[np.ix_(drop, drop)]
        + speed * (np.abs(t_pick[:, None] - t_pick[None, :]) + np.abs(t_drop[:, None] - t_drop[None, :]))
    )
    np.fill_diagonal(rel, np.inf)
    k = min(n_neighbours, max(0, n_req - 1))
    neigh = np.argsort(rel, axis=1, kind="stable")[:, :k].astype(np.int64) if k else np.full((n_req, 1), -1)
    return _Arrays(
        requests=list(requests),
        vehicle_ids=[v.vehicle_id for v in problem.vehicles],
        T=np.ascontiguousarray(T),
        D=D,
        lo=lo,
        hi=hi,
        q=q,
        cap=np.array([v.capacity for v in problem.vehicles], dtype=np.int64).reshape(n_veh, 2),
        init_load=np.array(
            [problem.onboard_load[v.vehicle_id] for v in problem.vehicles], dtype=np.int64
        ).reshape(n_veh, 2),
        allowed=np.array(
            [[vehicle_can_take(v, r) for v in problem.vehicles] for r in requests], dtype=np.bool_
        ).reshape(n_req, n_veh),
        has_pick=np.array([not r.on_board for r in requests], dtype=np.bool_),
        maxride=np.array([r.max_ride_time_s + r.boarding_s for r in requests], dtype=np.int64),
        maxdur=np.array(
            [v.max_duration_s if v.max_duration_s is not None else NO_LIMIT for v in problem.vehicles],
            dtype=np.int64,
        ),
        neigh=np.ascontiguousarray(neigh),
        mandatory=np.array([r.request_id in mandatory for r in requests], dtype=np.bool_),
        wt=np.array(
            [
                problem.objective.distance_per_m,
                problem.objective.excess_ride_per_s,
                problem.objective.vehicle_fixed,
            ],
            dtype=np.int64,
        ),
    )


Routes = tuple[I64, I64, I64, I64, I64, I64, I64]  # full, lens, x, load, slack, vcost, cum (_lns_kernel)
Best = tuple[I64, I64, I64]  # full, lens, where


def _chunk(
    a: _Arrays,
    routes: Routes,
    where: I64,
    best: Best,
    iterations: int,
    temps: tuple[float, float],
    seed: int,
    reseed: bool,
    kparams: npt.NDArray[np.float64],
) -> int:
    """Run ``iterations`` compiled LNS steps in place; returns the best cost so far."""
    _, best_cost = kernel.run(
        iterations, *temps, seed, reseed, a.data, a.cap, a.allowed, a.has_pick, a.neigh, a.mandatory,
        routes, where, *best, kparams,
    )  # fmt: skip
    return int(best_cost)


_warm = False


def warm_up() -> None:
    """Load (or compile, the first time on a machine: ~10 s) the kernels, once per process.

    ``solve`` calls it before its clock starts to matter and before forking workers, so that each
    worker does not load them again; the server calls it at start-up.
    """
    global _warm
    if _warm:
        return
    dur = np.array([[0, 60, 60], [60, 0, 60], [60, 60, 0]], dtype=np.int64)
    problem = Problem(
        (Request("w", 1, 2),), (Vehicle("w", 0, 0, TimeWindow(0, 3600), seats=1),), dur, dur.copy()
    )
    r = problem.requests[0]
    improve(
        problem, [r], {"w": [(r, StopKind.PICKUP), (r, StopKind.DROPOFF)]}, time_limit_s=0.0, iterations=1
    )
    _warm = True


def improve(
    problem: Problem,
    requests: Sequence[Request],
    initial: Mapping[str, Sequence[PlannedStop]],
    *,
    time_limit_s: float,
    seed: int = 0,
    params: LnsParams | None = None,
    progress: Callable[[float, int], None] | None = None,
    iterations: int | None = None,
    mandatory: Collection[str] = frozenset(),
) -> dict[str, list[PlannedStop]]:
    """Improve the feasible plan ``initial`` for ``time_limit_s``; returns the best plan found.

    ``requests`` are the ones the search may route (those in ``initial`` must be among them); the ids
    in ``mandatory`` (riders who were promised a ride) are never traded for others.
    ``progress(elapsed_s, best_cost)`` (weighted, ``Problem.objective``) is called after every
    compiled chunk. ``iterations`` runs exactly that many steps instead (tests, warm-up), whatever
    the time limit.
    """
    started = time.monotonic()
    prm = params or LnsParams()
    a = _arrays(problem, requests, mandatory)
    n_req, n_veh = len(a.requests), len(a.vehicle_ids)
    index = {r.request_id: i for i, r in enumerate(a.requests)}
    maxlen = 2 * n_req + 4
    full = np.zeros((n_veh, maxlen), dtype=np.int64)
    lens = np.zeros(n_veh, dtype=np.int64)
    where = -np.ones(n_req, dtype=np.int64)
    for v_idx, vid in enumerate(a.vehicle_ids):
        full[v_idx, 0] = 2 * n_req + v_idx
        stops = initial.get(vid, ())
        for s, (r, kind) in enumerate(stops, start=1):
            i = index[r.request_id]
            full[v_idx, s] = i if kind is StopKind.PICKUP else n_req + i
            where[i] = v_idx
        full[v_idx, len(stops) + 1] = 2 * n_req + n_veh + v_idx
        lens[v_idx] = len(stops)
    x = np.zeros((n_veh, maxlen), dtype=np.int64)
    load = np.zeros((n_veh, maxlen, 2), dtype=np.int64)
    slack = np.zeros((n_veh, maxlen), dtype=np.int64)
    vcost = np.zeros(n_veh, dtype=np.int64)
    cum = np.zeros((n_veh, maxlen), dtype=np.int64)
    routes = (full, lens, x, load, slack, vcost, cum)
    if not kernel.refresh_all(routes, a.data):
        raise ValueError("the starting plan is infeasible")
    best_full, best_lens, best_where = full.copy(), lens.copy(), where.copy()
    best = (best_full, best_lens, best_where)
    served = int((where >= 0).sum())
    mean_arc = float(vcost.sum()) / max(1, served * 2 + n_veh)
    # (all-zero distances: any positive temperature will do)
    temp0 = max(1e-6, prm.temp_start * mean_arc)
    temp1 = min(temp0, max(1e-9, prm.temp_end * mean_arc))
    max_q = prm.max_removed or min(30, max(4, n_req // 4))
    kparams = np.array(
        [
            prm.min_removed,
            max(prm.min_removed, max_q),
            prm.blink,
            prm.max_string,
            prm.p_random,
            prm.p_related,
        ],
        dtype=np.float64,
    )
    if iterations is not None:
        best_cost = _chunk(a, routes, where, best, iterations, (temp0, temp1), seed, True, kparams)
        if progress is not None:
            progress(time.monotonic() - started, best_cost)
    chunk, first = 20, True
    while n_req and iterations is None:
        chunk_started = time.monotonic()
        elapsed = chunk_started - started
        if elapsed >= time_limit_s:
            break
        # the temperature falls with the share of the budget spent, smoothly across chunks
        f0 = elapsed / time_limit_s
        f1 = min(1.0, f0 + prm.chunk_s / time_limit_s)
        temps = (temp0 * (temp1 / temp0) ** f0, temp0 * (temp1 / temp0) ** f1)
        best_cost = _chunk(a, routes, where, best, chunk, temps, seed, first, kparams)
        first = False
        now = time.monotonic()
        # aim each chunk at chunk_s, and never past the deadline
        rate = chunk / max(1e-4, now - chunk_started)
        chunk = max(1, int(rate * min(prm.chunk_s, max(0.0, time_limit_s - (now - started)))))
        if progress is not None:
            progress(now - started, best_cost)
    out: dict[str, list[PlannedStop]] = {}
    for v_idx, vid in enumerate(a.vehicle_ids):
        seq: list[PlannedStop] = []
        for nd in best_full[v_idx, 1 : best_lens[v_idx] + 1]:
            nd = int(nd)
            if nd < n_req:
                seq.append((a.requests[nd], StopKind.PICKUP))
            else:
                seq.append((a.requests[nd - n_req], StopKind.DROPOFF))
        out[vid] = seq
    return out
