"""Rider-first dispatch (issue #14): appointments met shortly before the time asked, promised windows
from that timing, no double bookings, no early no-shows. Real SQLite and PostgreSQL; HTTP on SQLite
with a real Redis."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dispatch.booking import BookingEvent, BookingStatus
from dispatch.domain import Principal
from dispatch.errors import Conflict
from dispatch.service import DispatchService
from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.conftest import PostgresServer, RedisServer
from tests.dispatch.helpers import DAY, OPERATOR, Clock, make_service, trip

_db_counter = itertools.count()
OP = {"X-API-Key": "demo-operator"}


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DispatchService]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'd.db'}"
    else:
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        url = pg.new_database(f"rider_{next(_db_counter)}")
    svc, _ = make_service(url)
    yield svc
    svc.repo.engine.dispose()


def _rider(i: int = 0) -> str:
    return [r.rider_id for r in reference_data().riders if not r.needs.wheelchair][i]


def test_lone_rider_to_the_red_cross_by_ten_arrives_at_ten_to(service: DispatchService) -> None:
    """The issue's example: promised and planned around an arrival at 9:50, a direct ride, not a
    pickup at 8:53 and 37 minutes in the car."""
    svc = service
    q = svc.quote(OPERATOR, trip(_rider(), "red-cross-hospital", "arrive_by", "10:00"))
    opt = q.options[0]
    b = svc.confirm(OPERATOR, q.booking_id, 0)
    assert b.planned_pickup_s is not None and b.planned_dropoff_s is not None
    margin = svc.ctx.policy.arrive_margin_s
    assert 10 * 3600 - margin <= b.planned_dropoff_s <= 10 * 3600
    direct = svc.ctx.travel.leg(b.origin, b.destination).duration_s
    assert b.planned_dropoff_s - b.planned_pickup_s <= 1.25 * direct + 300
    # the promised window is built around that pickup, not the earliest possible one
    assert opt.pickup_from_s == b.planned_pickup_s - svc.ctx.policy.pickup_window_before_s
    assert b.promised_pickup_from_s == opt.pickup_from_s
    assert svc.check_day(DAY) == []


def test_second_booking_for_the_same_trip_is_refused_unless_intended(service: DispatchService) -> None:
    svc = service
    rid = _rider()
    first = svc.confirm(OPERATOR, svc.quote(OPERATOR, trip(rid, "red-cross-hospital")).booking_id, 0)
    again = svc.quote(OPERATOR, trip(rid, "red-cross-hospital", "arrive_by", "10:15"))
    with pytest.raises(Conflict) as err:
        svc.confirm(OPERATOR, again.booking_id, 0)
    assert err.value.code == "duplicate_booking"
    assert first.booking_id in err.value.message_en and first.booking_id in err.value.message_ja
    assert svc.booking(OPERATOR, again.booking_id).state is BookingStatus.QUOTED  # nothing was booked
    # another trip of the same rider (the way home, later) is no duplicate
    home = svc.quote(OPERATOR, trip(rid, "youme-town", "pickup_after", "15:00"))
    assert svc.confirm(OPERATOR, home.booking_id, 0).state is BookingStatus.SCHEDULED
    # the operator may say it is intended (e.g. a carer travelling separately)
    meant = svc.confirm(OPERATOR, again.booking_id, 0, intended=True)
    assert meant.state is BookingStatus.SCHEDULED
    # once the first is cancelled, the same trip may be booked again without saying so
    svc.cancel(OPERATOR, first.booking_id)
    third = svc.quote(OPERATOR, trip(rid, "red-cross-hospital", "arrive_by", "13:00"))
    assert svc.confirm(OPERATOR, third.booking_id, 0).state is BookingStatus.SCHEDULED


def test_no_show_only_once_the_pickup_window_has_started(service: DispatchService) -> None:
    svc = service
    b = svc.confirm(OPERATOR, svc.quote(OPERATOR, trip(_rider(), "yamaguchi-sta")).booking_id, 0)
    assert b.promised_pickup_from_s is not None and b.company_id is not None
    owner = Principal("company", b.company_id, b.company_id)
    svc.clock = Clock(svc.wall_clock(DAY, b.promised_pickup_from_s - 60))
    with pytest.raises(Conflict) as err:
        svc.stop_event(owner, b.booking_id, BookingEvent.NO_SHOW)
    assert err.value.code == "no_show_too_early" and "お迎え時間帯" in err.value.message_ja
    assert svc.booking(OPERATOR, b.booking_id).state is BookingStatus.SCHEDULED
    svc.clock = Clock(svc.wall_clock(DAY, b.promised_pickup_from_s))
    assert svc.stop_event(owner, b.booking_id, BookingEvent.NO_SHOW).state is BookingStatus.NO_SHOW


@pytest.fixture()
def client(tmp_path: Path, redis_server: RedisServer) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}", redis_url=redis_server.url, reoptimise_interval_s=0
    )
    with TestClient(create_app(settings, reference_data(), clock=Clock())) as c:
        yield c


def test_duplicates_and_early_no_shows_are_refused_over_http(client: TestClient) -> None:
    body = {
        "rider_id": "R0002",
        "destination": {"kind": "place", "place_id": "mito-hospital"},
        "service_date": DAY.isoformat(),
        "mode": "arrive_by",
        "time": "11:00",
    }
    ids = []
    for _ in range(2):
        q = client.post("/api/v1/quotes", json=body, headers=OP)
        assert q.status_code == 201, q.text
        ids.append(q.json()["booking_id"])
    ok = client.post(f"/api/v1/bookings/{ids[0]}/confirm", json={"option": 0}, headers=OP)
    assert ok.status_code == 200, ok.text
    dup = client.post(f"/api/v1/bookings/{ids[1]}/confirm", json={"option": 0}, headers=OP)
    assert dup.status_code == 409
    assert dup.json()["error"] == "duplicate_booking"
    assert ids[0] in dup.json()["message_ja"] and "すでにあります" in dup.json()["message_ja"]
    meant = client.post(
        f"/api/v1/bookings/{ids[1]}/confirm", json={"option": 0, "intended": True}, headers=OP
    )
    assert meant.status_code == 200, meant.text
    # the test clock is the day before: too early for any no-show
    company = ok.json()["company_id"]
    keys = {"chuo-taxi": "demo-chuo-taxi", "ogori-kotsu": "demo-ogori-kotsu"}
    early = client.post(
        f"/api/v1/bookings/{ids[0]}/events", json={"event": "no_show"}, headers={"X-API-Key": keys[company]}
    )
    assert early.status_code == 409 and early.json()["error"] == "no_show_too_early"
    assert "お迎え時間帯" in early.json()["message_ja"] and "pickup window" in early.json()["message"]


def test_no_confirmed_fare_changes_when_others_join_or_the_day_is_reoptimised(
    service: DispatchService,
) -> None:
    svc = service
    riders = [r.rider_id for r in reference_data().riders if r.district == "湯田" and not r.needs.wheelchair]
    first = svc.confirm(OPERATOR, svc.quote(OPERATOR, trip(riders[0], "red-cross-hospital")).booking_id, 0)
    assert first.fare_yen is not None and first.fare is not None
    for rid in riders[1:4]:  # neighbours to the same hospital join the same taxi
        svc.confirm(OPERATOR, svc.quote(OPERATOR, trip(rid, "red-cross-hospital")).booking_id, 0)
    svc.reoptimise_day(DAY, time_limit_s=0.5)
    after = svc.booking(OPERATOR, first.booking_id)
    assert (after.fare_yen, after.fare) == (first.fare_yen, first.fare)
    assert svc.check_day(DAY) == []
