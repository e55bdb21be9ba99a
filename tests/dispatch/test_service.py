"""The dispatch service on a real SQLite file and on a real PostgreSQL (same tests, both backends)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dispatch.booking import BookingEvent, BookingStatus, RecurrenceRule, TimeMode, TimeRequest
from dispatch.context import SYSTEM, unused_booking_id
from dispatch.domain import Principal
from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.notify import InMemoryNotifier
from dispatch.presentation import booking_number
from dispatch.service import DispatchService, Endpoint, EndpointKind, RuleRequest
from noriai.demo import reference_data
from tests.conftest import PostgresServer
from tests.dispatch.helpers import CHUO, DAY, OPERATOR, Clock, make_service, trip

_db_counter = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def service(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[DispatchService, InMemoryNotifier]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'd.db'}"
    else:
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        url = pg.new_database(f"svc_{next(_db_counter)}")
    svc, notifier = make_service(url)
    yield svc, notifier
    svc.repo.engine.dispose()


def _yuda_riders(n: int) -> list[str]:
    return [r.rider_id for r in reference_data().riders if r.district == "湯田" and not r.needs.wheelchair][
        :n
    ]


def test_three_neighbours_to_the_hospital_share_one_taxi(
    service: tuple[DispatchService, InMemoryNotifier],
) -> None:
    svc, notifier = service
    booked = []
    for rid in _yuda_riders(3):
        q = svc.quote(OPERATOR, trip(rid, "red-cross-hospital", "arrive_by", "10:00"))
        assert q.state is BookingStatus.QUOTED
        options = q.options
        assert 1 <= len({o.vehicle_id for o in options}) <= 3  # each shared, and private if alone
        assert options[0].fare_type == "shared" and len(options) <= 6
        for o in options:
            assert o.pickup_to_s - o.pickup_from_s <= 15 * 60
            assert o.arrive_by_s == 10 * 3600 and isinstance(o.fare_yen, int) and o.fare_yen > 0
        b = svc.confirm(OPERATOR, q.booking_id, 0, idempotency_key=f"k-{rid}")
        assert b.state is BookingStatus.SCHEDULED
        booked.append(b)
    assert len({b.vehicle_id for b in booked}) == 1, "three neighbours to one hospital should share a taxi"
    for b in (svc.booking(OPERATOR, x.booking_id) for x in booked):
        assert b.planned_dropoff_s is not None and 9.5 * 3600 <= b.planned_dropoff_s <= 10 * 3600
        assert b.promised_pickup_from_s is not None and b.promised_pickup_to_s is not None
        assert b.promised_pickup_from_s <= (b.planned_pickup_s or -1) <= b.promised_pickup_to_s
        text = svc.read_back(b)["ja"]
        assert "10時までに" in text and f"{b.fare_yen:,}円" in text and booking_number(b.booking_id) in text
    assert svc.check_day(DAY) == []
    run = next(r for r in svc.runs(CHUO, DAY) if r["vehicle_id"] == booked[0].vehicle_id)
    assert [s["kind"] for s in run["stops"]].count("pickup") == 3
    assert {s["rider_phone"] for s in run["stops"]} >= {"083-000-3001"}
    events = notifier.read("chuo-taxi", "0", 0).events
    assert [e["type"] for _, e in events].count("run_changed") == 3


def test_confirm_is_idempotent_and_keys_cannot_be_reused(
    service: tuple[DispatchService, InMemoryNotifier],
) -> None:
    svc, _ = service
    a, b = _yuda_riders(2)
    qa = svc.quote(OPERATOR, trip(a, "youme-town", "pickup_after", "13:00"))
    first = svc.confirm(OPERATOR, qa.booking_id, 0, idempotency_key="same")
    again = svc.confirm(OPERATOR, qa.booking_id, 0, idempotency_key="same")
    click = svc.confirm(OPERATOR, qa.booking_id, 0)  # a second click without a key
    assert first.booking_id == again.booking_id == click.booking_id
    plan_ids = [bid for r in svc.runs(OPERATOR, DAY) for bid in (s["booking_id"] for s in r["stops"])]
    assert plan_ids.count(qa.booking_id) == 2  # one pickup and one drop-off, not two of each
    qb = svc.quote(OPERATOR, trip(b, "youme-town", "pickup_after", "13:00"))
    with pytest.raises(Invalid) as err:
        svc.confirm(OPERATOR, qb.booking_id, 0, idempotency_key="same")
    assert err.value.code == "idempotency_key_mismatch"
    # keys belong to their caller: another operator's "same" is a different key
    other = svc.confirm(Principal("operator", "desk-2"), qb.booking_id, 0, idempotency_key="same")
    assert other.booking_id == qb.booking_id and other.state is BookingStatus.SCHEDULED
    qb = svc.quote(OPERATOR, trip(b, "yamaguchi-sta", "pickup_after", "15:00"))
    assert svc.booking(OPERATOR, qb.booking_id).state is BookingStatus.QUOTED
    with pytest.raises(Conflict):
        svc.confirm(OPERATOR, qa.booking_id, 1 if len(qa.options) > 1 else 5)


def test_driver_events_move_the_booking_through_its_lifecycle(
    service: tuple[DispatchService, InMemoryNotifier],
) -> None:
    svc, _ = service
    (rid,) = _yuda_riders(1)
    b = svc.confirm(OPERATOR, svc.quote(OPERATOR, trip(rid, "yamaguchi-sta")).booking_id, 0)
    assert b.planned_pickup_s is not None
    svc.clock = Clock(svc.wall_clock(DAY, b.planned_pickup_s))  # the driver reports on the day
    company = b.company_id
    assert company is not None
    owner = CHUO if company == "chuo-taxi" else CHUO.__class__("company", company, company)
    other = CHUO.__class__("company", "other", "nobody-taxi")
    with pytest.raises(NotFound):
        svc.stop_event(other, b.booking_id, BookingEvent.ARRIVE)
    with pytest.raises(Conflict):
        svc.stop_event(owner, b.booking_id, BookingEvent.DROP_OFF)  # not on board yet
    assert svc.stop_event(owner, b.booking_id, BookingEvent.ARRIVE).state is BookingStatus.SCHEDULED
    assert svc.stop_event(owner, b.booking_id, BookingEvent.PICK_UP).state is BookingStatus.PICKED_UP
    assert svc.check_day(DAY) == []  # the on-board rider keeps only the drop-off
    done = svc.stop_event(owner, b.booking_id, BookingEvent.DROP_OFF)
    assert done.state is BookingStatus.DROPPED_OFF and done.dropped_off_at_s is not None
    with pytest.raises(Conflict):
        svc.cancel(OPERATOR, b.booking_id)
    trail = [(e.event, e.to_status) for e in svc.audit_trail(b.booking_id)]
    assert trail == [
        ("quote", "quoted"),
        ("confirm", "confirmed"),
        ("assign", "scheduled"),
        ("arrive", "scheduled"),
        ("pick_up", "picked_up"),
        ("drop_off", "dropped_off"),
    ]
    assert all(e.actor.startswith(("operator:", "company:")) for e in svc.audit_trail(b.booking_id))
    assert svc.check_day(DAY) == []


def test_cancel_frees_the_seat_and_no_show_ends_the_trip(
    service: tuple[DispatchService, InMemoryNotifier],
) -> None:
    svc, _ = service
    a, b = _yuda_riders(2)
    ba = svc.confirm(OPERATOR, svc.quote(OPERATOR, trip(a, "red-cross-hospital")).booking_id, 0)
    bb = svc.confirm(OPERATOR, svc.quote(OPERATOR, trip(b, "red-cross-hospital")).booking_id, 0)
    svc.cancel(OPERATOR, ba.booking_id, "体調不良")
    assert svc.booking(OPERATOR, ba.booking_id).reason == "体調不良"
    owner = CHUO.__class__("company", bb.company_id or "", bb.company_id)
    assert bb.promised_pickup_from_s is not None  # a no-show only once the pickup window has started
    svc.clock = Clock(svc.wall_clock(DAY, bb.promised_pickup_from_s))
    assert svc.stop_event(owner, bb.booking_id, BookingEvent.NO_SHOW).state is BookingStatus.NO_SHOW
    assert all(
        not r["stops"] or all(s["state"] != "planned" for s in r["stops"]) for r in svc.runs(OPERATOR, DAY)
    )
    assert svc.check_day(DAY) == []


def test_reoptimise_and_breakdown_keep_every_promise(
    service: tuple[DispatchService, InMemoryNotifier],
) -> None:
    svc, _ = service
    riders = [r for r in reference_data().riders if not r.needs.wheelchair][:14]
    places = ["red-cross-hospital", "yamaguchi-sta", "youme-town", "grand-medical-center", "pref-office"]
    booked = []
    for i, r in enumerate(riders):
        mode = "arrive_by" if i % 2 else "pickup_after"
        q = svc.quote(
            OPERATOR, trip(r.rider_id, places[i % len(places)], mode, f"{9 + i % 4}:{15 * (i % 4):02d}")
        )
        if q.state is BookingStatus.QUOTED:
            booked.append(svc.confirm(OPERATOR, q.booking_id, 0))
    assert len(booked) >= 10
    promises = {
        b.booking_id: (b.promised_pickup_from_s, b.promised_pickup_to_s, b.promised_arrival_by_s)
        for b in booked
    }
    out = svc.reoptimise_day(DAY, time_limit_s=1.0)
    assert out["status"] == "ok" and out["cost_after"] <= out["cost_before"]
    assert svc.check_day(DAY) == []
    busiest = max({b.vehicle_id for b in booked}, key=lambda v: sum(1 for b in booked if b.vehicle_id == v))
    assert busiest is not None
    report = svc.vehicle_breakdown(OPERATOR, busiest, DAY)
    assert set(report["moved"]) | set(report["needs_operator"]) == {
        b.booking_id for b in booked if svc.booking(OPERATOR, b.booking_id).vehicle_id in (busiest, None)
    } | set(report["moved"])
    assert svc.check_day(DAY) == []
    for bid, (lo, hi, arrive_by) in promises.items():
        now = svc.booking(OPERATOR, bid)
        assert (now.promised_pickup_from_s, now.promised_pickup_to_s, now.promised_arrival_by_s) == (
            lo,
            hi,
            arrive_by,
        )
        if now.state is BookingStatus.SCHEDULED:
            assert now.vehicle_id != busiest
            assert lo is not None and hi is not None and lo <= (now.planned_pickup_s or -1) <= hi
            if arrive_by is not None:
                assert (now.planned_dropoff_s or 10**9) <= arrive_by
        else:
            assert now.state is BookingStatus.CONFIRMED and bid in report["needs_operator"]
    q = svc.quote(OPERATOR, trip(riders[0].rider_id, "yamaguchi-sta", "pickup_after", "15:00"))
    assert all(o.vehicle_id != busiest for o in q.options)


def _weekly_from_home(
    rider_id: str, place_id: str, arrive_by_s: int, recurrence: RecurrenceRule, **returns: Any
) -> RuleRequest:
    """A recurring rule from the rider's home to ``place_id``, arriving by ``arrive_by_s``."""
    return RuleRequest(
        rider_id,
        Endpoint(EndpointKind.HOME),
        Endpoint(EndpointKind.PLACE, place_id),
        TimeRequest(TimeMode.ARRIVE_BY, arrive_by_s),
        recurrence,
        **returns,
    )


def test_recurring_dialysis_skips_holidays_and_exceptions(
    service: tuple[DispatchService, InMemoryNotifier],
) -> None:
    svc, _ = service
    (rid,) = _yuda_riders(1)
    rule = svc.add_rule(
        OPERATOR,
        _weekly_from_home(
            rid,
            "grand-medical-center",
            8 * 3600 + 30 * 60,
            RecurrenceRule(
                frozenset({0, 2, 4}), date(2026, 11, 23), exceptions=frozenset({date(2026, 11, 27)})
            ),
            return_mode="at",
            return_time_s=12 * 3600,
        ),
    )
    assert svc.materialise(date(2026, 11, 23)) == []  # Monday, but 勤労感謝の日
    assert svc.materialise(date(2026, 11, 24)) == []  # Tuesday
    wed = svc.materialise(date(2026, 11, 25))
    assert [(x["rule_id"], x["status"]) for x in wed] == [(rule.rule_id, "scheduled")]
    assert svc.materialise(date(2026, 11, 25)) == []  # a rerun books nothing twice
    assert svc.materialise(date(2026, 11, 27)) == []  # the listed exception (Friday)
    day = svc.bookings(service_date=date(2026, 11, 25))
    assert sorted((b.time_mode, b.status) for b in day) == [
        ("arrive_by", "scheduled"),
        ("pickup_after", "scheduled"),
    ]
    assert svc.check_day(date(2026, 11, 25)) == []


def test_a_rule_day_made_by_a_concurrent_run_is_skipped_not_refused(
    service: tuple[DispatchService, InMemoryNotifier],
) -> None:
    """The scheduled materialiser and an operator's button can run at once: each quotes, and the
    second confirm meets the first one's idempotency key with another quote. That run must skip the
    rule's day (it is made), not fail the whole materialisation with 422 idempotency_key_mismatch."""
    svc, _ = service
    rid, other = _yuda_riders(2)
    wed = date(2026, 11, 25)
    wednesdays = RecurrenceRule(frozenset({2}), date(2026, 11, 23))
    rule = svc.add_rule(
        OPERATOR, _weekly_from_home(rid, "grand-medical-center", 8 * 3600 + 30 * 60, wednesdays)
    )
    svc.add_rule(OPERATOR, _weekly_from_home(other, "yamaguchi-sta", 10 * 3600, wednesdays))
    # the other run got there first: its confirm holds the rule's key for this day
    first = svc.quote(SYSTEM, trip(rid, "grand-medical-center", "arrive_by", "08:30", day=wed))
    made = svc.confirm(SYSTEM, first.booking_id, 0, idempotency_key=f"rule:{rule.rule_id}:{wed.isoformat()}")
    assert made.state is BookingStatus.SCHEDULED
    out = svc.materialise(wed)
    assert rule.rule_id not in [x["rule_id"] for x in out]  # skipped, and the other rule still made
    assert [x["status"] for x in out] == ["scheduled"]
    scheduled = [b for b in svc.bookings(service_date=wed) if b.status == "scheduled"]
    assert sorted(b.rider_id for b in scheduled) == sorted([rid, other])


def test_return_trip_on_call(service: tuple[DispatchService, InMemoryNotifier]) -> None:
    clock = Clock()
    svc, _ = service
    svc.clock = clock
    (rid,) = _yuda_riders(1)
    out = svc.confirm(OPERATOR, svc.quote(OPERATOR, trip(rid, "red-cross-hospital")).booking_id, 0)
    waiting = svc.add_return(OPERATOR, out.booking_id, "call", None)
    assert waiting.state is BookingStatus.ON_CALL and waiting.return_of == out.booking_id
    assert waiting.origin_place_id == "red-cross-hospital"
    clock.now = clock.now.replace(day=24, hour=11, minute=0)
    quoted = svc.call(OPERATOR, waiting.booking_id)
    assert quoted.state is BookingStatus.QUOTED
    first = quoted.options[0]
    assert first.pickup_s >= 11 * 3600 + 10 * 60  # not sooner than ten minutes from the call
    back = svc.confirm(OPERATOR, quoted.booking_id, 0)
    assert back.state is BookingStatus.SCHEDULED
    with pytest.raises(Conflict):
        svc.call(OPERATOR, waiting.booking_id)


def test_impossible_requests_get_reasons_not_tracebacks(
    service: tuple[DispatchService, InMemoryNotifier],
) -> None:
    svc, _ = service
    (rid,) = _yuda_riders(1)
    with pytest.raises(NotFound):
        svc.quote(OPERATOR, trip("R9999", "red-cross-hospital"))
    with pytest.raises(Invalid):
        svc.quote(OPERATOR, trip(rid, "no-such-place"))
    with pytest.raises(Invalid):
        svc.quote(OPERATOR, trip(rid, "red-cross-hospital", day=date(2026, 11, 1)))  # in the past
    late = svc.quote(OPERATOR, trip(rid, "red-cross-hospital", "arrive_by", "3:00"))  # before any shift
    assert late.state is BookingStatus.REJECTED and late.reason
    crowd = svc.quote(OPERATOR, trip(rid, "red-cross-hospital", companions=8))  # 9 seats: only the jumbo
    assert {o.vehicle_kind for o in crowd.options} <= {"jumbo"}
    with pytest.raises(Conflict):
        svc.confirm(OPERATOR, late.booking_id, 0)


def test_option_gone_after_a_breakdown_is_a_conflict(
    service: tuple[DispatchService, InMemoryNotifier],
) -> None:
    svc, _ = service
    (rid,) = _yuda_riders(1)
    q = svc.quote(OPERATOR, trip(rid, "red-cross-hospital"))
    vehicle = q.options[0].vehicle_id
    svc.vehicle_breakdown(OPERATOR, vehicle, DAY)
    with pytest.raises(Conflict) as err:
        svc.confirm(OPERATOR, q.booking_id, 0)
    assert err.value.code == "option_gone"
    assert svc.booking(OPERATOR, q.booking_id).state is BookingStatus.QUOTED


def test_only_riders_who_opted_in_are_reused_and_without_personal_data(
    service: tuple[DispatchService, InMemoryNotifier],
) -> None:
    svc, _ = service
    riders = {r.rider_id: r for r in reference_data().riders}
    yes = next(r for r in riders.values() if r.consent.data_reuse and not r.needs.wheelchair)
    no = next(r for r in riders.values() if not r.consent.data_reuse and not r.needs.wheelchair)
    for r in (yes, no):
        svc.confirm(
            OPERATOR,
            svc.quote(OPERATOR, trip(r.rider_id, "youme-town", "pickup_after", "11:00")).booking_id,
            0,
        )
    rows = svc.reusable_trips(DAY)
    assert len(rows) == 1 and rows[0]["status"] == "scheduled" and rows[0]["destination_kind"] == "shopping"
    text = json.dumps(rows, ensure_ascii=False)
    for r in (yes, no):
        assert r.rider_id not in text and r.name not in text and r.phone not in text
        assert f"{r.home.lat}" not in text


def test_a_booking_number_is_8_digits_said_in_two_halves_and_redrawn_when_taken(
    service: tuple[DispatchService, InMemoryNotifier],
) -> None:
    svc, _ = service
    q = svc.quote(OPERATOR, trip(_yuda_riders(1)[0], "red-cross-hospital", "arrive_by", "10:00"))
    assert q.booking_id[0] == "B" and len(q.booking_id) == 9 and q.booking_id[1:].isdigit()
    said = booking_number(q.booking_id)
    assert said == f"{q.booking_id[1:5]}-{q.booking_id[5:]}"
    with svc.repo.write() as tx:  # a new booking drawn with a number already taken gets another one
        fresh = unused_booking_id(tx, replace(q, booking_id=q.booking_id))
    assert fresh.booking_id != q.booking_id and fresh.booking_id[1:].isdigit() and len(fresh.booking_id) == 9
    assert booking_number("BB208A7AE42C8") == "BB208A7AE42C8"  # older ids are shown as they are
