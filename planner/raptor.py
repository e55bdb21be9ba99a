"""RAPTOR (Delling, Pajor, Werneck 2012): round-based public-transit routing.

Round k holds the earliest arrival at every stop using at most k vehicles. Each round scans only the
patterns serving stops improved in the previous round, then relaxes footpaths once. The result is the
Pareto set on (arrival time, number of rides). Imports nothing from the web or database layers.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass

from planner.timetable import Timetable

INF = 1 << 40


@dataclass(frozen=True, slots=True)
class RideLeg:
    pattern: int
    trip_row: int
    board_pos: int
    alight_pos: int


@dataclass(frozen=True, slots=True)
class WalkLeg:
    from_stop: int
    to_stop: int
    seconds: int


@dataclass(frozen=True, slots=True)
class Itinerary:
    """Stop-to-stop part of a journey. Times are seconds after the query date's midnight."""

    source_stop: int
    target_stop: int
    arrival: int  # at target_stop (egress not included)
    legs: tuple[RideLeg | WalkLeg, ...]

    @property
    def rides(self) -> int:
        return sum(1 for x in self.legs if isinstance(x, RideLeg))


Parents = dict[int, RideLeg | WalkLeg | None]


class Raptor:
    def __init__(self, tt: Timetable) -> None:
        self.tt = tt
        # Python lists: bisect on a list beats numpy.searchsorted for a single lookup.
        self.dep_cols = [[p.dep[:, j].tolist() for j in range(len(p.stops))] for p in tt.patterns]
        self.arr_rows = [p.arr.tolist() for p in tt.patterns]
        self.dep_rows = [p.dep.tolist() for p in tt.patterns]
        self.stops = [p.stops.tolist() for p in tt.patterns]

    def query(
        self,
        sources: Mapping[int, int],
        targets: Mapping[int, int],
        *,
        max_rounds: int = 6,
        min_transfer_s: int = 0,
        walking: bool = True,
    ) -> list[Itinerary]:
        """Pareto-optimal itineraries from ``sources`` (stop -> earliest time there) to ``targets``
        (stop -> egress seconds): fewest rides first, each later one arriving strictly earlier."""
        n = len(self.tt.stop_ids)
        best = [INF] * n
        tau = [INF] * n
        by_ride = [False] * n  # the stop's current label was reached on a vehicle (a change follows)
        par: Parents = {}
        marked: set[int] = set()
        for s, t in sources.items():
            if t < tau[s]:
                tau[s] = best[s] = t
                par[s] = None
                marked.add(s)
        if walking:
            self._walk(marked, tau, best, by_ride, par, INF)
        rounds, parents = [tau[:]], [par]
        target_best = min((tau[t] + e for t, e in targets.items()), default=INF)
        for _round in range(max_rounds):
            prev, prev_ride = rounds[-1], by_ride[:]
            par = {}
            queue: dict[int, int] = {}
            for s in marked:
                for p, pos in self.tt.stop_patterns[s]:
                    if pos < queue.get(p, INF):
                        queue[p] = pos
            marked = set()
            for p, pos0 in queue.items():
                stops, arr_rows, dep_cols, dep_rows = (
                    self.stops[p],
                    self.arr_rows[p],
                    self.dep_cols[p],
                    self.dep_rows[p],
                )
                last = len(stops) - 1
                trip = board = -1
                for pos in range(pos0, last + 1):
                    s = stops[pos]
                    if trip >= 0:
                        a = arr_rows[trip][pos]
                        if a < best[s] and a < target_best:
                            tau[s] = best[s] = a
                            by_ride[s] = True
                            par[s] = RideLeg(p, trip, board, pos)
                            marked.add(s)
                    t_prev = prev[s]
                    if t_prev < INF and pos < last:
                        ready = t_prev + (min_transfer_s if prev_ride[s] else 0)
                        if trip < 0 or ready <= dep_rows[trip][pos]:
                            col = dep_cols[pos]
                            row = bisect_left(col, ready)
                            if row < len(col) and (trip < 0 or row < trip):
                                trip, board = row, pos
            if walking:
                self._walk(marked, tau, best, by_ride, par, target_best)
            rounds.append(tau[:])
            parents.append(par)
            target_best = min(target_best, min((tau[t] + e for t, e in targets.items()), default=INF))
            if not marked:
                break
        return self._pareto(rounds, parents, targets)

    def _walk(
        self, marked: set[int], tau: list[int], best: list[int], by_ride: list[bool], par: Parents, bound: int
    ) -> None:
        """One footpath relaxation from the stops improved in this round (no chains of walks)."""
        for s in list(marked):
            for j, w in self.tt.footpaths[s]:
                t = tau[s] + w
                if t < best[j] and t < bound:
                    tau[j] = best[j] = t
                    by_ride[j] = False
                    par[j] = WalkLeg(s, j, w)
                    marked.add(j)

    def _pareto(
        self, rounds: list[list[int]], parents: list[Parents], targets: Mapping[int, int]
    ) -> list[Itinerary]:
        out: list[Itinerary] = []
        best_arrival = INF
        for k in range(len(rounds)):
            arrival, target = INF, -1
            for t, e in targets.items():
                if t in parents[k] and rounds[k][t] + e < arrival:
                    arrival, target = rounds[k][t] + e, t
            if target < 0 or arrival >= best_arrival:
                continue
            best_arrival = arrival
            out.append(self._reconstruct(rounds, parents, k, target))
        return out

    def _reconstruct(self, rounds: list[list[int]], parents: list[Parents], k: int, target: int) -> Itinerary:
        arrival = rounds[k][target]
        legs: list[RideLeg | WalkLeg] = []
        s = target
        while True:
            while k > 0 and s not in parents[k]:
                k -= 1  # the label was carried over from an earlier round
            leg = parents[k].get(s)
            if leg is None:
                break
            legs.append(leg)
            if isinstance(leg, WalkLeg):
                s = leg.from_stop
            else:
                s = self.stops[leg.pattern][leg.board_pos]
                k -= 1
        legs.reverse()
        return Itinerary(s, target, arrival, tuple(legs))
