"""Riders' entitlements in bookings (#14): the disability discount and group-taxi vouchers on the
quote's fare breakdown; confirmation takes a voucher, cancellation before pickup gives it back; the
balance never goes below zero. Real SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dispatch.booking import Booking, BookingEvent, BookingStatus, QuoteOption
from dispatch.context import new_id
from dispatch.domain import Principal
from dispatch.entitlements import RiderEntitlements, balance, consume_vouchers, return_vouchers
from dispatch.errors import Conflict
from dispatch.service import TOKYO, DispatchService
from fares import fiscal_year
from noriai.cli import app as cli
from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.conftest import PostgresServer, RedisServer
from tests.dispatch.helpers import DAY, OPERATOR, Clock, make_service, trip

_db_counter = itertools.count()
DISABLED = "R0011"  # 障害者手帳 (disability certificate), walks
PLAIN = "R0002"


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DispatchService]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'd.db'}"
    else:
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        url = pg.new_database(f"entitle_{next(_db_counter)}")
    svc, _ = make_service(url)
    yield svc
    svc.repo.engine.dispose()


def _codes(option: QuoteOption) -> list[str]:
    return [line.code for line in option.fare.lines]


def test_the_disability_discount_is_a_line_of_every_option(service: DispatchService) -> None:
    assert next(r for r in reference_data().riders if r.rider_id == DISABLED).disability_certificate
    q = service.quote(OPERATOR, trip(DISABLED, "red-cross-hospital"))
    for opt in q.options:
        assert "concession" in _codes(opt)
        assert opt.fare_yen < opt.fare.fare_before_discounts_yen


def test_a_voucher_is_taken_at_confirmation_and_returned_on_cancellation(service: DispatchService) -> None:
    svc = service
    ent = RiderEntitlements(svc.ctx)
    fy = fiscal_year(DAY)
    assert ent.get(PLAIN, fy)["vouchers_left"] == 0
    without = svc.quote(OPERATOR, trip(PLAIN, "yamaguchi-sta")).options[0]
    assert "voucher" not in _codes(without)
    assert ent.set_vouchers_per_year(OPERATOR, PLAIN, 2)["vouchers_per_year"] == 2
    q = svc.quote(OPERATOR, trip(PLAIN, "yamaguchi-sta", "arrive_by", "13:00"))
    opt = q.options[0]
    assert "voucher" in _codes(opt)
    assert opt.fare.inputs.vouchers == 1
    assert opt.fare_yen == opt.fare.fare_before_discounts_yen - svc.tariff.concessions.voucher_value_yen
    b = svc.confirm(OPERATOR, q.booking_id, 0)
    after = ent.get(PLAIN, fy)
    assert (after["vouchers_used"], after["vouchers_left"]) == (1, 1)
    assert [e["kind"] for e in after["ledger"]] == ["use"]
    svc.cancel(OPERATOR, b.booking_id)
    back = ent.get(PLAIN, fy)
    assert (back["vouchers_used"], back["vouchers_left"]) == (0, 2)
    assert [e["kind"] for e in back["ledger"]] == ["use", "return"]


def test_a_voucher_spent_meanwhile_refuses_the_confirmation(service: DispatchService) -> None:
    svc = service
    ent = RiderEntitlements(svc.ctx)
    ent.set_vouchers_per_year(OPERATOR, PLAIN, 1)
    first = svc.quote(OPERATOR, trip(PLAIN, "yamaguchi-sta", "arrive_by", "09:00"))
    second = svc.quote(OPERATOR, trip(PLAIN, "youme-town", "pickup_after", "15:00"))
    assert second.options[0].fare.inputs.vouchers == 1  # quoted while held
    svc.confirm(OPERATOR, first.booking_id, 0)
    with pytest.raises(Conflict) as err:
        svc.confirm(OPERATOR, second.booking_id, 0)
    assert err.value.code == "voucher_unavailable" and "利用券" in err.value.message_ja
    assert svc.booking(OPERATOR, second.booking_id).state is BookingStatus.QUOTED
    assert ent.get(PLAIN, fiscal_year(DAY))["vouchers_left"] == 0
    # quoted again, the ride is offered without a voucher and books
    again = svc.quote(OPERATOR, trip(PLAIN, "youme-town", "pickup_after", "15:00"))
    assert "voucher" not in _codes(again.options[0])
    assert svc.confirm(OPERATOR, again.booking_id, 0).state is BookingStatus.SCHEDULED


def test_a_no_show_gives_the_voucher_back_a_completed_ride_keeps_it(service: DispatchService) -> None:
    svc = service
    ent = RiderEntitlements(svc.ctx)
    ent.set_vouchers_per_year(OPERATOR, PLAIN, 3)
    rides = [
        svc.confirm(OPERATOR, svc.quote(OPERATOR, trip(PLAIN, p, "arrive_by", t)).booking_id, 0)
        for p, t in (("yamaguchi-sta", "09:00"), ("youme-town", "13:00"))
    ]
    assert ent.get(PLAIN, fiscal_year(DAY))["vouchers_left"] == 1
    done, missed = rides
    assert (
        done.company_id
        and missed.company_id
        and done.promised_pickup_from_s
        and missed.promised_pickup_from_s
    )
    svc.clock = Clock(svc.wall_clock(DAY, done.promised_pickup_from_s))
    owner = Principal("company", done.company_id, done.company_id)
    for ev in (BookingEvent.ARRIVE, BookingEvent.PICK_UP, BookingEvent.DROP_OFF):
        svc.stop_event(owner, done.booking_id, ev)
    svc.clock = Clock(svc.wall_clock(DAY, missed.promised_pickup_from_s))
    svc.stop_event(
        Principal("company", missed.company_id, missed.company_id), missed.booking_id, BookingEvent.NO_SHOW
    )
    assert ent.get(PLAIN, fiscal_year(DAY))["vouchers_left"] == 2


_actions = st.lists(st.tuples(st.integers(0, 5), st.integers(1, 3)), min_size=1, max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(allowance=st.integers(0, 4), actions=_actions)
def test_voucher_balance_is_never_negative_and_restored_on_cancel(
    tmp_path_factory: pytest.TempPathFactory, allowance: int, actions: list[tuple[int, int]]
) -> None:
    """Any order of confirmations (spending 1..3 vouchers) and cancellations over six bookings."""
    svc = _ledger_service(tmp_path_factory)
    ent = RiderEntitlements(svc.ctx)
    rid = new_id("T")
    with svc.repo.write() as tx:
        tx.add_rider(replace(svc.rider(PLAIN), rider_id=rid))
    ent.set_vouchers_per_year(OPERATOR, rid, allowance)
    fy = fiscal_year(DAY)
    now = datetime(2026, 11, 23, tzinfo=UTC)
    template = _template(rid)
    ids = [new_id("B") for _ in range(6)]
    with svc.repo.write() as tx:
        for bid in ids:
            tx.save_booking(replace(template, booking_id=bid))
    state = dict.fromkeys(ids, "quoted")
    held: dict[str, int] = {}
    for i, n in actions:
        bid = ids[i]
        b = replace(template, booking_id=bid)
        if state[bid] == "quoted":
            try:
                with svc.repo.write() as tx:
                    consume_vouchers(tx, b, n, now)
                state[bid], held[bid] = "booked", n
            except Conflict:
                assert allowance - sum(held.values()) < n  # refused only when it was really short
        elif state[bid] == "booked":
            with svc.repo.write() as tx:
                assert return_vouchers(tx, b, now) == held.pop(bid)
            state[bid] = "cancelled"
        with svc.repo.read() as tx:
            bal = balance(tx, rid, fy)
        assert bal.per_year - bal.used >= 0
        assert bal.used == sum(held.values())
    with svc.repo.write() as tx:
        for bid in list(held):
            return_vouchers(tx, replace(template, booking_id=bid), now)
            return_vouchers(tx, replace(template, booking_id=bid), now)  # a second return gives nothing
    with svc.repo.read() as tx:
        assert balance(tx, rid, fy).left == allowance


_services: dict[str, DispatchService] = {}


def _ledger_service(factory: pytest.TempPathFactory) -> DispatchService:
    if "svc" not in _services:  # one database for all examples: each example has its own rider
        svc, _ = make_service(f"sqlite:///{factory.mktemp('ledger') / 'l.db'}")
        _services["svc"] = svc
    return _services["svc"]


def _template(rider_id: str) -> Booking:
    t = datetime(2026, 11, 23, tzinfo=UTC)
    return Booking(
        booking_id="",
        rider_id=rider_id,
        service_date=DAY,
        status=BookingStatus.QUOTED,
        created_at=t,
        updated_at=t,
        origin_label="",
        origin_lat=34.1,
        origin_lon=131.4,
        dest_label="",
        dest_lat=34.2,
        dest_lon=131.5,
        time_mode="arrive_by",
    )


@pytest.fixture()
def http(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[TestClient, Clock, str]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}", redis_url=redis_server.url, reoptimise_interval_s=0
    )
    clock = Clock()
    with TestClient(create_app(settings, reference_data(), clock=clock)) as c:
        yield c, clock, settings.database_url


OP = {"X-API-Key": "demo-operator"}
KEYS = {"chuo-taxi": "demo-chuo-taxi", "ogori-kotsu": "demo-ogori-kotsu"}


def test_vouchers_over_http_and_the_monthly_report_of_what_the_city_reimburses(
    http: tuple[TestClient, Clock, str],
) -> None:
    client, clock, db_url = http
    put = client.put("/api/v1/riders/R0011/entitlements", json={"vouchers_per_year": 2}, headers=OP)
    assert put.status_code == 200, put.text
    assert put.json()["disability_discount"] is True and put.json()["vouchers_left"] == 2
    bad = client.put("/api/v1/riders/R0011/entitlements", json={"vouchers_per_year": -1}, headers=OP)
    assert bad.status_code == 422
    q = client.post(
        "/api/v1/quotes",
        json={
            "rider_id": "R0011",
            "destination": {"kind": "place", "place_id": "red-cross-hospital"},
            "service_date": DAY.isoformat(),
            "mode": "arrive_by",
            "time": "10:00",
        },
        headers=OP,
    )
    assert q.status_code == 201, q.text
    codes = [x["code"] for x in q.json()["options"][0]["fare_breakdown"]]
    assert "concession" in codes and "voucher" in codes
    b = client.post(f"/api/v1/bookings/{q.json()['booking_id']}/confirm", json={"option": 0}, headers=OP)
    assert b.status_code == 200, b.text
    booking = b.json()
    assert client.get("/api/v1/riders/R0011/entitlements", headers=OP).json()["vouchers_left"] == 1
    company = booking["company_id"]
    driver = {"X-API-Key": KEYS[company]}
    clock.now = datetime(2026, 11, 24, 9, 45, tzinfo=TOKYO)
    for ev in ("arrive", "pick_up", "drop_off"):
        r = client.post(
            f"/api/v1/bookings/{booking['booking_id']}/events", json={"event": ev}, headers=driver
        )
        assert r.status_code == 200, r.text
    rep = client.get("/api/v1/reports/monthly", params={"month": "2026-11"}, headers=OP)
    assert rep.status_code == 200, rep.text
    mine = next(x for x in rep.json() if x["company_id"] == company)
    assert mine["totals"]["rides"] == 1 and mine["totals"]["vouchers"] == 1
    ride = mine["rides"][0]
    assert ride["voucher_yen"] == 500 and ride["concession"] == "disability" and ride["concession_yen"] > 0
    assert ride["fare_yen"] - ride["concession_yen"] - ride["voucher_yen"] == ride["paid_yen"]
    assert mine["totals"]["reimbursed_yen"] == ride["concession_yen"] + 500
    csv_text = client.get("/api/v1/reports/monthly.csv", params={"month": "2026-11"}, headers=OP)
    assert csv_text.status_code == 200 and csv_text.headers["content-type"].startswith("text/csv")
    lines = csv_text.text.strip().splitlines()
    assert lines[0].startswith("company_id,service_date,booking_id") and len(lines) == 2
    assert booking["booking_id"] in lines[1]
    # a company key sees its own report only
    own = client.get("/api/v1/reports/monthly", params={"month": "2026-11"}, headers=driver)
    assert [x["company_id"] for x in own.json()] == [company]
    other = next(c for c in KEYS if c != company)
    peek = client.get(
        "/api/v1/reports/monthly",
        params={"month": "2026-11", "company_id": company},
        headers={"X-API-Key": KEYS[other]},
    )
    assert peek.status_code == 403 and peek.json()["message_ja"]
    assert client.get("/api/v1/reports/monthly", params={"month": "2026-13"}, headers=OP).status_code == 422
    assert client.get("/api/v1/riders/R0011/entitlements", headers=OP).json()["vouchers_left"] == 1
    # the same report from the command line, on the same database
    out = CliRunner().invoke(
        cli, ["report", "monthly", "--month", "2026-11", "--csv"], env={"DATABASE_URL": db_url}
    )
    assert out.exit_code == 0, out.output
    assert out.output.strip().splitlines() == lines
