"""The airport shared taxi: flight timetable, pooled rides to and from a flight at the fixed fare, and an
arrival delay that moves the pickups while every promise is kept (checker)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dispatch.airport import FlightDirection, FlightFileError, load_flights, parse_flights
from dispatch.airport_booking import AirportBookings, AirportPolicy
from dispatch.booking import BookingStatus
from dispatch.persistence.airport import AirportStore
from dispatch.service import DispatchService, Endpoint
from noriai.demo import FLIGHTS_PATH, reference_data
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
    with pytest.raises(FlightFileError, match=rf"^f.csv:2: {field}:"):
        parse_flights([row], "f.csv")


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
        air.book(OPERATOR, r, "NH694", DAY, Endpoint("place", p), idempotency_key=f"k{r}")
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
        air.book(OPERATOR, r, "NH693", DAY, Endpoint("place", p), idempotency_key=f"a{r}")
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
