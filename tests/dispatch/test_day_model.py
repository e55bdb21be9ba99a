"""The day model: the one mapping from the dispatch day to a solver problem, and its cache per plan
versions (a quote does not read the whole day again while no plan has changed, in any process)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from dispatch.booking import BookingStatus
from dispatch.day_model import DayModel, build_day_model
from dispatch.service import TOKYO, DispatchService
from geo import LatLon
from tests.dispatch.helpers import DAY, OPERATOR, Clock, make_service, trip

SOMEWHERE = (LatLon(34.1601, 131.4702), LatLon(34.1750, 131.4800))


def _model(svc: DispatchService, *, cached: bool) -> DayModel:
    with svc.repo.read() as tx:
        return build_day_model(svc.ctx, tx, DAY, trips={"t": SOMEWHERE}, cached=cached)


def _book(svc: DispatchService, rider_id: str, place_id: str, at: str) -> str:
    q = svc.quote(OPERATOR, trip(rider_id, place_id, at=at))
    assert q.state is BookingStatus.QUOTED, q.reason
    return svc.confirm(OPERATOR, q.booking_id, 0).booking_id


def test_a_second_quote_reuses_the_day_while_no_plan_version_moved(tmp_path: Path) -> None:
    """Same versions: the very same problem object; the trip's ends still get their own indices."""
    svc, _ = make_service(f"sqlite:///{tmp_path / 'd.db'}")
    _book(svc, "R0001", "red-cross-hospital", "10:00")
    with svc.repo.read() as tx:
        first = build_day_model(svc.ctx, tx, DAY, trips={"a": SOMEWHERE}, cached=True)
        second = build_day_model(svc.ctx, tx, DAY, trips={"b": SOMEWHERE[::-1]}, cached=True)
    assert second.problem is first.problem
    assert second.endpoints["b"] == first.endpoints["a"][::-1]
    second.plan.clear()  # callers may change their copy (a breakdown does) without touching the cache
    with svc.repo.read() as tx:
        third = build_day_model(svc.ctx, tx, DAY, cached=True)
    assert third.plan == first.plan and sum(map(len, third.plan.values())) == 2


def test_the_cached_day_equals_a_fresh_read_after_bookings_and_a_cancellation(tmp_path: Path) -> None:
    """Whatever changes the day bumps a plan version, so the cached model is what a fresh read gives."""
    svc, _ = make_service(f"sqlite:///{tmp_path / 'd.db'}")
    booked = [
        _book(svc, rid, place, at)
        for rid, place, at in [
            ("R0001", "red-cross-hospital", "10:00"),
            ("R0002", "yamaguchi-sta", "11:00"),
            ("R0003", "red-cross-hospital", "10:30"),
        ]
    ]
    _model(svc, cached=True)  # warm the cache, then change the day
    svc.cancel(OPERATOR, booked[1], "rider phoned")
    cached, fresh = _model(svc, cached=True), _model(svc, cached=False)
    assert cached.problem.requests == fresh.problem.requests
    assert cached.plan == fresh.plan and cached.versions == fresh.versions
    assert booked[1] not in cached.bookings


def test_a_booking_made_by_another_process_is_seen_by_the_next_quote(tmp_path: Path) -> None:
    """Two services on one database (two server processes): each cache is keyed by the versions read in
    its own transaction, so neither serves a day the other has changed."""
    url = f"sqlite:///{tmp_path / 'd.db'}"
    here, _ = make_service(url)
    there, _ = make_service(url)
    _book(here, "R0001", "red-cross-hospital", "10:00")
    before = _model(here, cached=True)
    other = _book(there, "R0002", "yamaguchi-sta", "11:00")
    after = _model(here, cached=True)
    assert other not in before.bookings
    assert other in after.bookings
    assert after.problem is not before.problem


def test_the_cache_does_not_freeze_when_an_idle_vehicle_can_leave(tmp_path: Path) -> None:
    """A standing vehicle leaves no sooner than now, and now moves while no plan version does: a cached
    day gives the same vehicles as a fresh read at every clock time, while its requests are reused."""
    clock = Clock(datetime(DAY.year, DAY.month, DAY.day, 8, 0, tzinfo=TOKYO))
    svc, _ = make_service(f"sqlite:///{tmp_path / 'd.db'}", clock)
    _book(svc, "R0001", "red-cross-hospital", "11:00")
    early = _model(svc, cached=True)
    clock.now += timedelta(hours=2)
    later, fresh = _model(svc, cached=True), _model(svc, cached=False)
    assert later.problem.vehicles == fresh.problem.vehicles
    assert later.problem.requests is early.problem.requests  # the day itself came from the cache
    idle = [v for v in later.problem.vehicles if not later.plan.get(v.vehicle_id)]
    assert idle and all(v.shift.earliest >= 10 * 3600 for v in idle)
    was_idle = [v for v in early.problem.vehicles if not early.plan.get(v.vehicle_id)]
    assert any(v.shift.earliest < 10 * 3600 for v in was_idle)


def test_check_day_reports_a_plan_that_cannot_be_timed_instead_of_raising(tmp_path: Path) -> None:
    """A plan row broken behind the service's back (a promise it cannot keep) is a finding, not a crash."""
    svc, _ = make_service(f"sqlite:///{tmp_path / 'd.db'}")
    bid = _book(svc, "R0001", "red-cross-hospital", "10:00")
    b = svc.booking(OPERATOR, bid)
    with svc.repo.write() as tx:
        plan = tx.plan(b.vehicle_id or "", DAY)
        tx.save_plan(replace(plan, stops=plan.stops[::-1], version=plan.version + 1))  # drop-off first
    findings = svc.check_day(DAY)
    assert findings == [f"{b.vehicle_id}: its plan cannot be timed within every promise"]


def test_a_changed_day_reads_again_only_the_vehicles_whose_plan_moved(tmp_path: Path) -> None:
    """After each booking or cancellation the cached model equals a fresh read, and the vehicles whose
    plan version did not move keep their requests from the cache (the same objects: not read again)."""
    svc, _ = make_service(f"sqlite:///{tmp_path / 'd.db'}")
    changes = [
        ("R0005", "shin-yamaguchi-sta", "09:30"),  # (to Ogori: another company's vehicle)
        ("R0002", "yamaguchi-sta", "10:00"),
        ("R0003", "red-cross-hospital", "11:00"),
        ("R0004", "yamaguchi-sta", "13:00"),
        ("R0001", "red-cross-hospital", "15:00"),
    ]
    before = _model(svc, cached=True)
    booked = []
    refreshed = 0
    for i, (rid, place, at) in enumerate(changes):
        booked.append(_book(svc, rid, place, at))
        if i == 3:
            svc.cancel(OPERATOR, booked[1], "rider phoned")
        after, fresh = _model(svc, cached=True), _model(svc, cached=False)
        assert after.problem.requests == fresh.problem.requests
        assert after.problem.vehicles == fresh.problem.vehicles
        assert after.plan == fresh.plan and after.versions == fresh.versions
        assert after.bookings == fresh.bookings
        moved = {v for v, ver in after.versions.items() if before.versions.get(v) != ver}
        assert moved, "a booking moves its vehicle's plan version"
        for v in set(after.plan) - moved:
            assert all(a[0] is b[0] for a, b in zip(after.plan[v], before.plan[v], strict=True))
            refreshed += bool(after.plan[v])
        before = after
    assert refreshed, "some vehicle with riders kept its cached requests"
