"""The multimodal trip planner on the demo city: bus, walking, bike share (GBFS) and the shared taxi
(quoted by a real dispatch service on real SQLite), with fares on every option."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bikeshare import BikeShareSystem, load_system
from dispatch.booking import TimeMode, TimeRequest
from dispatch.service import TOKYO, DispatchService
from fares import load_tariff
from geo import LatLon
from gtfs.loader import load_feed
from noriai.demo import GBFS_DIR, GTFS_DIR, TARIFF_PATH, reference_data
from planner.bike import MAX_STATUS_AGE_S, bike_fare
from planner.journey import Place
from planner.taxi import DispatchTaxiQuoter
from planner.trip import TripOption, TripPlanner, TripRequest, feed_fare_table
from tests.dispatch.helpers import Clock, make_service

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=TOKYO)  # a Tuesday
PLACES = {p.place_id: p for p in reference_data().places}
FEED = load_feed(GTFS_DIR, "demo")


def fresh(system: BikeShareSystem, now: datetime, age_s: int = 30) -> BikeShareSystem:
    stamp = int(now.timestamp()) - age_s
    return dataclasses.replace(
        system, status={k: dataclasses.replace(v, last_reported_unix=stamp) for k, v in system.status.items()}
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> DispatchService:
    db: Path = tmp_path_factory.mktemp("trip") / "n.db"
    svc, _ = make_service(f"sqlite:///{db}", Clock(NOW))
    return svc


def make_planner(
    service: DispatchService | None, bikes: BikeShareSystem | None = None, **kw: object
) -> TripPlanner:
    system = bikes if bikes is not None else fresh(load_system(GBFS_DIR), NOW)
    table = feed_fare_table(FEED)
    assert table is not None
    return TripPlanner(
        [FEED],
        fare_tables={"demo": table},
        tariff=load_tariff(TARIFF_PATH),
        bikes=lambda: system,
        taxi=DispatchTaxiQuoter(service) if service else None,
        clock=lambda: NOW,
        **kw,  # type: ignore[arg-type]
    )


def req(a: str, b: str, at: str = "09:00", **kw: object) -> TripRequest:
    hh, mm = (int(x) for x in at.split(":"))
    return TripRequest(
        PLACES[a].point,
        PLACES[b].point,
        NOW.replace(hour=hh, minute=mm),
        origin_name=PLACES[a].name,
        destination_name=PLACES[b].name,
        **kw,  # type: ignore[arg-type]
    )


def kinds(opts: tuple[TripOption, ...]) -> set[str]:
    return {o.kind for o in opts}


def test_shin_yamaguchi_to_yuda_onsen_offers_bus_bike_and_taxi_with_fares(service: DispatchService) -> None:
    plan = make_planner(service).plan(req("shin-yamaguchi-sta", "yuda-onsen"))
    assert {"transit", "bike", "taxi"} <= kinds(plan.options)
    bus = next(o for o in plan.options if o.kind == "transit")
    # demo GTFS fares: 新山口駅 (zone OGORI) -> 湯田温泉 (CITY) is ¥520 on one bus
    assert [leg.mode for leg in bus.journey.legs if leg.trip_id] == ["bus"]
    assert bus.fare_yen == 520
    assert bus.journey.departure >= NOW.replace(hour=9)
    bike = next(o for o in plan.options if o.kind == "bike")
    ride = next(leg for leg in bike.journey.legs if leg.mode == "bike")
    assert bike.fare_yen == bike_fare(load_system(GBFS_DIR), ride.duration_s)[0]
    assert bike.fare_yen is not None and bike.fare_yen >= 165
    assert ride.details["bikes_available"] > 0 and ride.details["docks_available"] > 0
    assert ride.details["status_age_s"] == 30
    taxi = next(o for o in plan.options if o.kind == "taxi")
    assert taxi.fare_yen is not None and taxi.fare_yen > 1000
    assert taxi.booking is not None and taxi.booking["vehicle_id"]
    leg = taxi.journey.legs[0]
    assert leg.details["fixed_fare"] is True and leg.details["fare_yen"] == taxi.fare_yen
    # the taxi's price is the dispatch service's own quote for the same trip
    opts, _ = service.preview(
        PLACES["shin-yamaguchi-sta"].point,
        PLACES["yuda-onsen"].point,
        NOW.date(),
        TimeRequest(TimeMode.PICKUP_AFTER, 9 * 3600),
    )
    assert taxi.fare_yen == opts[0].fare_yen
    for o in plan.options:
        if o.fare_yen is not None and o.fare_lines:
            assert sum(x.amount_yen for x in o.fare_lines) == o.fare_yen


def test_the_elderly_bus_pass_caps_each_bus_ride_at_100_yen(service: DispatchService) -> None:
    plan = make_planner(None).plan(
        req("shin-yamaguchi-sta", "yuda-onsen", welfare_pass=True, modes=frozenset({"transit"}))
    )
    bus = [o for o in plan.options if o.kind == "transit"]
    assert bus and all(o.fare_yen == 100 * sum(1 for leg in o.journey.legs if leg.trip_id) for o in bus)
    assert any(x.code == "welfare_pass" for x in bus[0].fare_lines)


def test_bike_share_needs_a_bike_at_the_start_and_a_dock_at_the_end_now() -> None:
    base = fresh(load_system(GBFS_DIR), NOW)
    # the Red Cross station (ysc-11) is full in the demo status: nobody may be sent to return a bike there
    plan = make_planner(None, base).plan(req("yuda-onsen", "red-cross-hospital", modes=frozenset({"bike"})))
    ride = next(leg for o in plan.options for leg in o.journey.legs if leg.mode == "bike")
    assert ride.details["to_station_id"] != "ysc-11"
    assert base.status[ride.details["to_station_id"]].docks_available
    # empty every station near Shin-Yamaguchi: no bike option, and the planner says why
    empty = dataclasses.replace(
        base,
        status={
            k: dataclasses.replace(v, bikes_available=0) if k == "ysc-01" else v
            for k, v in base.status.items()
        },
    )
    plan = make_planner(None, empty).plan(req("shin-yamaguchi-sta", "yuda-onsen", modes=frozenset({"bike"})))
    assert not plan.options
    assert any("no station with a bike to rent" in n for n in plan.notices)


def test_stale_bike_status_is_not_offered_as_now() -> None:
    stale = fresh(load_system(GBFS_DIR), NOW, age_s=MAX_STATUS_AGE_S + 60)
    plan = make_planner(None, stale).plan(req("shin-yamaguchi-sta", "yuda-onsen", modes=frozenset({"bike"})))
    assert not plan.options


def test_arrive_by_leaves_as_late_as_possible(service: DispatchService) -> None:
    tp = make_planner(service)
    deadline = NOW.replace(hour=10)
    plan = tp.plan(req("shin-yamaguchi-sta", "red-cross-hospital", at="10:00", arrive_by=True))
    assert {"transit", "taxi"} <= kinds(plan.options)
    for o in plan.options:
        assert o.journey.arrival <= deadline, o.kind
    bus = next(o for o in plan.options if o.kind == "transit")
    planner = tp.planner_for(NOW.date())
    origin = Place(point=PLACES["shin-yamaguchi-sta"].point)
    dest = Place(point=PLACES["red-cross-hospital"].point)
    later = planner.plan(origin, dest, bus.journey.departure + timedelta(minutes=1))
    assert all(j.arrival > deadline for j in later)  # one minute later and nothing makes it
    taxi = next(o for o in plan.options if o.kind == "taxi")
    assert taxi.journey.arrival >= deadline - timedelta(minutes=30)  # not needlessly early


def test_realtime_delay_is_applied_and_shown(service: DispatchService) -> None:
    plain = make_planner(None).plan(req("shin-yamaguchi-sta", "yuda-onsen", modes=frozenset({"transit"})))
    first = plain.options[0]
    ride = next(leg for leg in first.journey.legs if leg.trip_id)
    assert ride.trip_id is not None
    stops = int(np.sum(FEED.st_trip == FEED.trip_ids.index(ride.trip_id)))
    delay = np.full(stops, 240, dtype=np.int32)
    tp = make_planner(None, realtime=lambda day: ("v1", {ride.trip_id: (delay, delay)}))
    live = tp.plan(req("shin-yamaguchi-sta", "yuda-onsen", modes=frozenset({"transit"})))
    same = next(o for o in live.options if any(leg.trip_id == ride.trip_id for leg in o.journey.legs))
    live_ride = next(leg for leg in same.journey.legs if leg.trip_id == ride.trip_id)
    assert live_ride.details == {"realtime": True, "delay_s": 240, "fare_yen": live_ride.details["fare_yen"]}
    assert live_ride.arrival - ride.arrival == timedelta(seconds=240)
    assert live.live["realtime_trips"] == 1


def test_a_cancelled_bus_is_not_offered() -> None:
    plain = make_planner(None).plan(req("shin-yamaguchi-sta", "yuda-onsen", modes=frozenset({"transit"})))
    gone = {leg.trip_id for leg in plain.options[0].journey.legs if leg.trip_id}
    tp = make_planner(None, realtime=lambda day: ("v2", dict.fromkeys(gone)))
    live = tp.plan(req("shin-yamaguchi-sta", "yuda-onsen", modes=frozenset({"transit"})))
    assert all(leg.trip_id not in gone for o in live.options for leg in o.journey.legs)


def test_taxi_first_mile_where_no_stop_is_within_walking_distance(service: DispatchService) -> None:
    far = LatLon(34.1200, 131.4250)  # a farmhouse south of 大歳, 2 km from the nearest stop
    tp = make_planner(service)
    plan = tp.plan(
        TripRequest(
            far, PLACES["yamaguchi-sta"].point, NOW.replace(hour=9), modes=frozenset({"transit", "taxi"})
        )
    )
    assert any("no stop within" in n for n in plan.notices)
    feeder = next(o for o in plan.options if o.kind == "taxi+transit")
    legs = feeder.journey.legs
    assert legs[0].mode == "taxi" and legs[0].to_stop is not None
    bus = next(leg for leg in legs if leg.trip_id)
    assert bus.departure >= legs[0].arrival + timedelta(minutes=3)  # time to walk from the taxi to the bus
    assert feeder.fare_yen == legs[0].details["fare_yen"] + sum(
        leg.details["fare_yen"] for leg in legs if leg.trip_id
    )
    assert feeder.booking is not None


def test_unreachable_pairs_get_an_answer_not_an_error() -> None:
    tokyo = LatLon(35.681, 139.767)
    plan = make_planner(None).plan(
        TripRequest(
            PLACES["yuda-onsen"].point, tokyo, NOW.replace(hour=9), modes=frozenset({"transit", "walk"})
        )
    )
    assert plan.options == ()
    assert any("no stop within" in n for n in plan.notices)
    assert any("no way found" in n for n in plan.notices)


@pytest.fixture(scope="module")
def shared_planner(service: DispatchService) -> Iterator[TripPlanner]:
    yield make_planner(service)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    a=st.sampled_from(sorted(PLACES)),
    b=st.sampled_from(sorted(PLACES)),
    minute=st.integers(7 * 60, 18 * 60),
    arrive_by=st.booleans(),
)
def test_every_option_is_a_consistent_journey(
    shared_planner: TripPlanner, a: str, b: str, minute: int, arrive_by: bool
) -> None:
    if a == b:
        return
    when = NOW.replace(hour=minute // 60, minute=minute % 60)
    plan = shared_planner.plan(
        TripRequest(PLACES[a].point, PLACES[b].point, when, arrive_by=arrive_by, window_s=1800)
    )
    for o in plan.options:
        j = o.journey
        assert j.legs, o.kind
        assert j.departure == j.legs[0].departure and j.arrival == j.legs[-1].arrival
        for x, y in zip(j.legs, j.legs[1:], strict=False):
            assert x.arrival <= y.departure, (o.kind, x, y)
        for leg in j.legs:
            assert leg.departure <= leg.arrival
        if arrive_by:
            assert j.arrival <= when
        else:
            assert j.departure >= when - timedelta(seconds=1)
        if o.fare_yen is not None and o.fare_lines:
            assert sum(x.amount_yen for x in o.fare_lines) == o.fare_yen
        assert o.fare_yen is None or o.fare_yen >= 0
