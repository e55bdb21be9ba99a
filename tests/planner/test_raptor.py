"""RAPTOR against a brute-force connection scan on real feeds (>= 500 reachable queries each)."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from gtfs.loader import load_feed
from planner.raptor import INF, Raptor, RideLeg, WalkLeg
from planner.timetable import Timetable, build_timetable
from tests.shared_data import shared

FEEDS = shared("feeds", "gtfs")
DAY = date(2026, 11, 24)


Connection = tuple[int, int, int, int, int, int]  # dep, arr, from stop, to stop, pattern, trip row


def connections(tt: Timetable) -> list[Connection]:
    """Every elementary hop of every trip, sorted by departure (built once per timetable)."""
    out = []
    for p_idx, p in enumerate(tt.patterns):
        stops = p.stops.tolist()
        for row in range(len(p.trip_ids)):
            for j in range(len(stops) - 1):
                out.append((int(p.dep[row, j]), int(p.arr[row, j + 1]), stops[j], stops[j + 1], p_idx, row))
    out.sort()
    return out


def scan(conns: list[Connection], source: int, t0: int) -> dict[int, int]:
    """Connection scan: earliest arrival at every stop, changes only at the same stop, no change time."""
    arrive = {source: t0}
    on_trip: set[tuple[int, int]] = set()
    for dep, arr, a, b, p_idx, row in conns:
        if dep < t0:
            continue
        if (p_idx, row) in on_trip or arrive.get(a, INF) <= dep:
            on_trip.add((p_idx, row))
            if arr < arrive.get(b, INF):
                arrive[b] = arr
    return arrive


def connection_scan(tt: Timetable, source: int, t0: int, target: int) -> int:
    """Earliest arrival at ``target`` by the reference algorithm."""
    return scan(connections(tt), source, t0).get(target, INF)


def _check_feed(path: Path, feed_id: str, queries: int, seed: int, day: date = DAY) -> None:
    feed = load_feed(path, feed_id)
    tt = build_timetable([feed], day, max_walk_m=0)
    raptor = Raptor(tt)
    conns = connections(tt)
    served = sorted({int(s) for p in tt.patterns for s in p.stops[:-1]})
    rng = random.Random(seed)
    checked = attempts = 0
    while checked < queries and attempts < queries * 40:
        attempts += 1
        s = rng.choice(served)
        t0 = rng.randrange(5 * 3600, 21 * 3600)
        arrive = scan(conns, s, t0)
        reachable = [x for x in arrive if x != s]
        if not reachable:
            continue
        d = rng.choice(reachable)
        got = raptor.query({s: t0}, {d: 0}, max_rounds=12, walking=False)
        assert got, f"RAPTOR found nothing from {tt.stop_ids[s]} at {t0} to {tt.stop_ids[d]}"
        assert got[-1].arrival == arrive[d], (tt.stop_ids[s], t0, tt.stop_ids[d])
        for it in got:  # legs chain: each ride boards where the previous one alighted, at the same stop
            assert all(isinstance(leg, RideLeg) for leg in it.legs)
        checked += 1
    assert checked == queries


def test_earliest_arrival_matches_connection_scan_on_jr_bus() -> None:
    _check_feed(FEEDS / "yamaguchi_jrbus_chugoku_gtfs_20260813.zip", "jr", 500, seed=7)


def test_earliest_arrival_matches_connection_scan_on_iwakuni() -> None:
    # Iwakuni lists its service dates in calendar_dates.txt only up to the summer of 2026
    _check_feed(FEEDS / "yamaguchi_iwakuni_gtfsjp_20260401.zip", "iw", 500, seed=11, day=date(2026, 6, 2))


def test_reference_helper_agrees_on_a_known_pair() -> None:
    feed = load_feed(FEEDS / "yamaguchi_iwakuni_gtfsjp_20260401.zip", "iw")
    tt = build_timetable([feed], date(2026, 6, 2), max_walk_m=0)
    p = tt.patterns[0]
    a, b = int(p.stops[0]), int(p.stops[-1])
    ref = connection_scan(tt, a, int(p.dep[0, 0]), b)
    got = Raptor(tt).query({a: int(p.dep[0, 0])}, {b: 0}, walking=False)
    assert got and got[-1].arrival == ref <= int(p.arr[0, -1])


@pytest.mark.parametrize("walk_m", [200, 400, 800])
def test_walking_never_makes_the_earliest_arrival_later(walk_m: int) -> None:
    feed = load_feed(FEEDS / "yamaguchi_jrbus_chugoku_gtfs_20260813.zip", "jr")
    plain = Raptor(build_timetable([feed], DAY, max_walk_m=0))
    walk_tt = build_timetable([feed], DAY, max_walk_m=walk_m)
    walk = Raptor(walk_tt)
    rng = random.Random(walk_m)
    served = sorted({int(s) for p in walk_tt.patterns for s in p.stops[:-1]})
    compared = 0
    for _ in range(2000):
        s, d = rng.choice(served), rng.choice(served)
        t0 = rng.randrange(6 * 3600, 20 * 3600)
        a = plain.query({s: t0}, {d: 0}, walking=False)
        if not a:
            continue
        b = walk.query({s: t0}, {d: 0})
        assert b and b[-1].arrival <= a[-1].arrival
        for it in b:
            assert all(isinstance(leg, RideLeg | WalkLeg) for leg in it.legs)
        compared += 1
    assert compared >= 20


def test_pareto_set_trades_transfers_for_arrival() -> None:
    feed = load_feed(FEEDS / "yamaguchi_jrbus_chugoku_gtfs_20260813.zip", "jr")
    r = Raptor(build_timetable([feed], DAY, max_walk_m=400))
    rng = random.Random(3)
    seen_multi = False
    for _ in range(300):
        s, d = rng.randrange(len(r.tt.stop_ids)), rng.randrange(len(r.tt.stop_ids))
        res = r.query({s: rng.randrange(6 * 3600, 18 * 3600)}, {d: 0})
        rides = [it.rides for it in res]
        arrivals = [it.arrival for it in res]
        assert rides == sorted(rides) and arrivals == sorted(arrivals, reverse=True)
        assert len(set(arrivals)) == len(arrivals)
        seen_multi |= len(res) > 1
    assert seen_multi
