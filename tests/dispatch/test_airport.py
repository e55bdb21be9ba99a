"""The airport shared taxi: flight timetable, pooled rides to and from a flight at the fixed fare, and an
arrival delay that moves the pickups while every promise is kept (checker)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.airport import (
    FlightDirection,
    FlightFileError,
    FlightStatus,
    FlightStatusError,
    load_flights,
    parse_flight_status,
    parse_flights,
)
from dispatch.airport_booking import AirportBookings, AirportPolicy
from dispatch.booking import BookingStatus
from dispatch.persistence.airport import AirportStore
from dispatch.service import DispatchService, Endpoint, EndpointKind
from noriai.demo import FLIGHTS_PATH, reference_data
from noriai.jobs import PeriodicJob
from noriai.settings import Settings
from noriai.web import create_app
from tests.dispatch.helpers import DAY, OPERATOR, Clock, make_service

OP = {"X-API-Key": "demo-operator"}
CHUO = {"X-API-Key": "demo-chuo-taxi"}

RIDERS = ("R0001", "R0002", "R0003", "R0004", "R0005", "R0007")
FROM = ("yuda-onsen", "yuda-onsen-sta", "yuda-onsen", "yamaguchi-sta", "yuda-onsen", "yuda-onsen-sta")


def test_the_demo_timetable_reads_daily_weekday_and_dated_flights() -> None:
    t = load_flights(FLIGHTS_PATH)
    tuesday, saturday = date(2026, 11, 24), date(2026, 12, 5)
    assert t.find("nh 694", tuesday) is not None and t.find("JL298", tuesday) is not None
    assert t.find("JL298", saturday) is None  # weekdays only
    assert t.find("7G102", saturday) is not None and t.find("7G102", tuesday) is None
    deps = t.on(tuesday, FlightDirection.DEPARTURE)
    assert [f.scheduled_s for f in deps] == sorted(f.scheduled_s for f in deps)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (
            {"flight": "hello world", "direction": "departure", "scheduled": "07:30", "days": "daily"},
            "flight",
        ),
        ({"flight": "NH1", "direction": "up", "scheduled": "07:30", "days": "daily"}, "direction"),
        ({"flight": "NH1", "direction": "arrival", "scheduled": "7h30", "days": "daily"}, "scheduled"),
        ({"flight": "NH1", "direction": "arrival", "scheduled": "07:30", "days": "sometimes"}, "days"),
    ],
)
def test_a_bad_timetable_line_names_file_line_and_field(row: dict[str, str], field: str) -> None:
    with pytest.raises(FlightFileError, match=rf"^f.csv:2: {field}:") as got:
        parse_flights([row], "f.csv")
    assert (got.value.source, got.value.line, got.value.field) == ("f.csv", 2, field) and got.value.why


@pytest.fixture()
def airport(tmp_path: Path) -> tuple[DispatchService, AirportBookings]:
    svc, _ = make_service(f"sqlite:///{tmp_path / 'air.db'}")
    assert svc.tariff.airport is not None
    policy = AirportPolicy("ube-airport", svc.tariff.airport.fare_per_person_yen)
    return svc, AirportBookings(svc, AirportStore(svc.repo.engine), load_flights(FLIGHTS_PATH), policy)


def test_six_riders_to_one_flight_are_pooled_at_the_fixed_fare(
    airport: tuple[DispatchService, AirportBookings],
) -> None:
    """6 riders from 湯田温泉 and the centre to NH694 (11:40): dropped by 11:00 (40 min check-in), in the
    fewest vehicles their seats allow, each paying the tariff's fixed fare."""
    svc, air = airport
    booked = [
        air.book(OPERATOR, r, "NH694", DAY, Endpoint(EndpointKind.PLACE, p), idempotency_key=f"k{r}")
        for r, p in zip(RIDERS, FROM, strict=True)
    ]
    svc.reoptimise_day(DAY, time_limit_s=3)
    final = [svc.booking(OPERATOR, b.booking_id) for b in booked]
    assert all(b.state is BookingStatus.SCHEDULED for b in final)
    per_person = air.policy.fare_per_person_yen
    assert all(b.fare_yen == per_person for b in final)  # one person each
    departure = air.flight("NH694", DAY).scheduled_s
    assert all(b.planned_dropoff_s is not None and b.planned_dropoff_s <= departure - 40 * 60 for b in final)
    used = {b.vehicle_id for b in final}
    biggest = max(v.seats for v in svc.vehicles.values())
    assert len(used) <= math.ceil(6 / 4), used  # two sedans at most (one jumbo would do as well)
    assert len(used) >= math.ceil(6 / biggest)
    assert svc.check_day(DAY) == []


def test_a_40_minute_arrival_delay_moves_the_pickups_and_keeps_every_promise(
    airport: tuple[DispatchService, AirportBookings],
) -> None:
    svc, air = airport
    booked = [
        air.book(OPERATOR, r, "NH693", DAY, Endpoint(EndpointKind.PLACE, p), idempotency_key=f"a{r}")
        for r, p in zip(RIDERS, FROM, strict=True)
    ]
    arrival = air.flight("NH693", DAY).scheduled_s
    assert all((b.promised_pickup_from_s or 0) >= arrival + 20 * 60 for b in booked)
    moved = air.delay(OPERATOR, "NH693", DAY, 40 * 60)
    assert sorted(m.old_booking_id for m in moved) == sorted(b.booking_id for b in booked)
    for m in moved:
        assert svc.booking(OPERATOR, m.old_booking_id).state is BookingStatus.CANCELLED
        new = svc.booking(OPERATOR, m.booking.booking_id)
        assert new.state is BookingStatus.SCHEDULED and new.fare_yen == air.policy.fare_per_person_yen
        assert (new.promised_pickup_from_s or 0) >= arrival + 40 * 60 + 20 * 60
        assert (new.planned_pickup_s or 0) >= arrival + 60 * 60
        assert "山口宇部空港" in m.read_back["ja"]  # the new sentence for the rider
    assert len({m.booking.vehicle_id for m in moved}) <= 2
    assert svc.check_day(DAY) == []
    assert air.delay(OPERATOR, "NH693", DAY, 40 * 60) == []  # nothing left to move


def test_the_airport_api_lists_flights_books_and_moves_pickups(tmp_path: Path) -> None:
    """HTTP: the day's flights (public), a ride from a flight (operator), a delay that re-books it."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}", reoptimise_interval_s=0)
    with TestClient(create_app(settings, reference_data(), clock=Clock())) as c:
        day = c.get("/api/v1/airport/flights", params={"date": DAY.isoformat()}).json()
        assert day["fare_per_person_yen"] == 2000 and "fictional" in day["note"]
        assert {"flight": "NH693", "direction": "arrival", "scheduled": "13:05"}.items() <= next(
            f for f in day["flights"] if f["flight"] == "NH693"
        ).items()
        body = {
            "rider_id": "R0001",
            "flight": "NH693",
            "service_date": DAY.isoformat(),
            "other_end": {"kind": "place", "place_id": "yuda-onsen"},
            "companions": 1,
        }
        assert c.post("/api/v1/airport/bookings", json=body, headers=CHUO).status_code == 403
        b = c.post("/api/v1/airport/bookings", json=body, headers={**OP, "Idempotency-Key": "air1"})
        assert b.status_code == 201, b.text
        assert b.json()["fare_yen"] == 4000 and b.json()["status"] == "scheduled"  # 2 persons x ¥2,000
        moved = c.post(
            "/api/v1/airport/flights/NH693/delay",
            json={"service_date": DAY.isoformat(), "delay_min": 40},
            headers=OP,
        )
        assert moved.status_code == 200, moved.text
        [m] = moved.json()
        assert m["old_booking_id"] == b.json()["booking_id"] and m["booking"]["fare_yen"] == 4000
        assert m["tell_rider"]["ja"]
        after = c.get("/api/v1/airport/flights", params={"date": DAY.isoformat()}).json()
        assert next(f for f in after["flights"] if f["flight"] == "NH693")["expected"] == "13:45"
        bad = c.post(
            "/api/v1/airport/bookings",
            json={**body, "flight": "XX999"},
            headers={**OP, "Idempotency-Key": "air2"},
        )
        assert bad.status_code == 404 and bad.json()["message_ja"]


def test_a_flight_status_document_is_read_and_bad_records_are_skipped() -> None:
    doc = {
        "flights": [
            {"flight": "nh 693", "date": "2026-12-03", "estimated": "13:45"},
            {"flight": "JL291", "date": "2026-12-03", "estimated": "25:10"},  # after midnight
            {"flight": "NH695", "date": "yesterday", "estimated": "14:00"},
            {"flight": "NH697", "date": "2026-12-03"},
            "NH699",
        ]
    }
    got = parse_flight_status(json.dumps(doc).encode())
    assert got == (
        FlightStatus("NH693", date(2026, 12, 3), 13 * 3600 + 45 * 60),
        FlightStatus("JL291", date(2026, 12, 3), 25 * 3600 + 10 * 60),
    )
    for bad in (b"", b"[1, 2]", b'{"flights": 3}', b"\xff\xfe", b"[" * 100_000):
        with pytest.raises(FlightStatusError, match=r"^feed: "):
            parse_flight_status(bad, "feed")


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=300)
    | st.recursive(
        st.none() | st.text(max_size=8) | st.integers(),
        lambda c: (
            st.lists(c) | st.dictionaries(st.sampled_from(["flights", "flight", "date", "estimated"]), c)
        ),
    ).map(lambda x: json.dumps(x).encode())
)
def test_any_bytes_give_statuses_or_a_flight_status_error(data: bytes) -> None:
    try:
        got = parse_flight_status(data)
    except FlightStatusError as exc:
        assert "\n" not in str(exc)
        return
    assert all(isinstance(s, FlightStatus) for s in got)


def test_the_flight_status_feed_moves_late_arrivals_once(
    airport: tuple[DispatchService, AirportBookings],
) -> None:
    """What the feed says of NH693 (40 min late) moves its pickups as an operator's delay would;
    departures, other airports' flights and an unchanged estimate move nothing."""
    svc, air = airport
    booked = [
        air.book(OPERATOR, r, "NH693", DAY, Endpoint(EndpointKind.PLACE, p), idempotency_key=f"s{r}")
        for r, p in zip(RIDERS[:3], FROM[:3], strict=True)
    ]
    arrival = air.flight("NH693", DAY).scheduled_s
    status = (
        FlightStatus("NH693", DAY, arrival + 40 * 60),
        FlightStatus("NH694", DAY, air.flight("NH694", DAY).scheduled_s + 3600),  # a departure
        FlightStatus("ZZ100", DAY, arrival),  # not ours
    )
    moved = air.apply_status(status)
    assert sorted(m.old_booking_id for m in moved) == sorted(b.booking_id for b in booked)
    assert all((m.booking.promised_pickup_from_s or 0) >= arrival + 60 * 60 for m in moved)
    assert [d for f, d in air.flights(DAY) if f.flight == "NH693"] == [40 * 60]
    assert air.apply_status(status) == []  # the same estimate again: nothing to do
    assert svc.check_day(DAY) == []


def test_a_served_city_with_a_status_file_polls_it_as_a_background_job(tmp_path: Path) -> None:
    """The demo bundle with ``[airport] status_url`` pointing at a file: the app runs a flight-status
    job under the runner lease (listed in /health), and one round moves a booked rider's pickup."""
    status_file = tmp_path / "status.json"
    status_file.write_text(json.dumps({"flights": []}), encoding="utf-8")
    ref = reference_data()
    assert ref.city is not None and ref.city.airport is not None
    city = replace(ref.city, airport=replace(ref.city.airport, status_url=str(status_file)))
    settings_ = Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}", reoptimise_interval_s=0)
    app = create_app(settings_, replace(ref, city=city), clock=Clock())
    with TestClient(app) as c:
        body = {
            "rider_id": "R0002",
            "flight": "NH693",
            "service_date": DAY.isoformat(),
            "other_end": {"kind": "place", "place_id": "yuda-onsen"},
        }
        b = c.post("/api/v1/airport/bookings", json=body, headers={**OP, "Idempotency-Key": "st1"})
        assert b.status_code == 201, b.text
        job = next(j for j in app.state.jobs.jobs if j.name == "flight-status")
        assert isinstance(job, PeriodicJob)
        assert job.run_once() == 0  # nothing late yet
        status_file.write_text(
            json.dumps({"flights": [{"flight": "NH693", "date": DAY.isoformat(), "estimated": "13:50"}]}),
            encoding="utf-8",
        )
        assert job.run_once() == 1
        assert c.get(f"/api/v1/bookings/{b.json()['booking_id']}", headers=OP).json()["status"] == "cancelled"
        day = c.get("/api/v1/airport/flights", params={"date": DAY.isoformat()}).json()
        assert next(f for f in day["flights"] if f["flight"] == "NH693")["delay_min"] == 45
        health = c.get("/health").json()
        assert health["process"]["jobs"]["flight-status"]["runs"] >= 2
