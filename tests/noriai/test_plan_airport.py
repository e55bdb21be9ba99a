"""The airport shared taxi (スマート空港タクシー) in the trip planner, over HTTP (real server on real
SQLite) and in real headless Chromium: 湯田温泉 -> 山口宇部空港 offers the day's departures with the
fixed fare per person and the times derived from the flight and the margins; airport -> city offers the
arrivals; a booking from the planner is an airport booking the operator side knows (a delay moves it)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from dispatch.service import TOKYO
from tests.dispatch.helpers import Clock
from tests.servers import serve_demo

DAY = date(2026, 11, 24)  # a Tuesday: the weekday-only JL298 flies, the 12-05 charter does not
CLOCK = Clock(datetime(2026, 11, 24, 7, 30, tzinfo=TOKYO))
OP = {"X-API-Key": "demo-operator"}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_demo(tmp_path_factory.mktemp("plan-airport"), CLOCK) as url:
        yield url


def plan(url: str, frm: str, to: str, **params: str) -> dict[str, Any]:
    q = {"from": frm, "to": to, "date": DAY.isoformat(), "time": "09:00", "modes": "taxi", **params}
    r = httpx.get(url + "/api/v1/plan", params=q, timeout=60)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_trip_to_the_airport_offers_the_days_departures_at_the_fixed_fare(app_url: str) -> None:
    offer = plan(app_url, "yuda-onsen", "ube-airport", seats="2")["airport"]
    assert offer["direction"] == "departure" and offer["name"] == "山口宇部空港"
    assert offer["fare_per_person_yen"] == 2000 and offer["fare_yen"] == 4000  # 2 persons, not the meter
    codes = [f["flight"] for f in offer["flights"]]
    assert codes == ["NH692", "JL292", "NH694", "JL294", "NH698", "JL298"]  # departures only, by time
    nh694 = next(f for f in offer["flights"] if f["flight"] == "NH694")
    assert nh694["scheduled"] == "11:40" and nh694["ride_time"] == "11:00"  # 40 min check-in margin
    first = offer["flights"][0]
    assert first["flight"] == "NH692" and not first["bookable"]  # at the airport by 06:50: passed at 07:30
    assert offer["suggested"] == "NH694"  # leaving at 09:00, JL292 (at the airport by 08:25) is missed
    back = plan(app_url, "ube-airport", "yuda-onsen")["airport"]
    assert back["direction"] == "arrival"
    jl291 = next(f for f in back["flights"] if f["flight"] == "JL291")
    assert jl291["scheduled"] == "10:40" and jl291["ride_time"] == "11:00"  # 20 min for the baggage
    assert all(f["flight"] != "7G101" for f in back["flights"])  # the charter flies on 12-05 only
    assert plan(app_url, "shin-yamaguchi-sta", "yuda-onsen")["airport"] is None


def test_a_planner_booking_to_a_flight_is_an_airport_booking_the_operator_knows(app_url: str) -> None:
    body = {
        "name": "空港 花子",
        "phone": "090-2222-3333",
        "flight": "JL291",
        "date": DAY.isoformat(),
        "other": "yuda-onsen",
        "seats": 2,
    }
    key = str(uuid.uuid4())
    r = httpx.post(app_url + "/api/v1/plan/airport-bookings", json=body, headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["status"] == "scheduled" and got["fare_yen"] == 4000 and got["flight"] == "JL291"
    assert got["pickup_from_s"] >= 11 * 3600  # not before arrival 10:40 + 20 min
    assert "山口宇部空港" in got["read_back"]["ja"] and re.fullmatch(r"\d{4}-\d{4}", got["reference"])
    again = httpx.post(app_url + "/api/v1/plan/airport-bookings", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["booking_id"] == got["booking_id"]
    seen = httpx.get(f"{app_url}/api/v1/bookings/{got['booking_id']}", headers=OP).json()
    assert seen["origin"]["place_id"] == "ube-airport" and seen["rider_id"].startswith("G")
    assert [x["code"] for x in seen["fare"]["breakdown"]] == ["airport_flat"]
    # the operator side knows it as a ride from JL291: a 40-minute delay re-books it
    moved = httpx.post(
        f"{app_url}/api/v1/airport/flights/JL291/delay",
        json={"service_date": DAY.isoformat(), "delay_min": 40},
        headers=OP,
    )
    assert moved.status_code == 200, moved.text
    [m] = moved.json()
    assert m["old_booking_id"] == got["booking_id"] and m["booking"]["fare_yen"] == 4000
    assert m["booking"]["pickup_window"][0] >= "11:40"  # 10:40 + 40 min delay + 20 min baggage
    after = plan(app_url, "ube-airport", "yuda-onsen")["airport"]
    assert next(f for f in after["flights"] if f["flight"] == "JL291")["ride_time"] == "11:40"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"flight": "XX999"}, 404, "not_found"),
        ({"flight": "NH692"}, 422, "flight_closed"),  # its ride time (06:50) has passed
        ({"other": "atlantis"}, 422, "unknown_place"),
        ({"date": "2026-12-05", "flight": "JL298"}, 404, "not_found"),  # a Saturday: weekdays only
        ({"phone": "0٨٣٩٩٩٩١٢٣"}, 422, "invalid"),
    ],
)
def test_bad_airport_bookings_are_refused_and_change_nothing(
    app_url: str, change: dict[str, object], status: int, code: str
) -> None:
    before = httpx.get(app_url + "/api/v1/bookings", params={"date": DAY.isoformat()}, headers=OP).json()
    body = {
        "name": "空港 太郎",
        "phone": "090-4444-5555",
        "flight": "NH694",
        "date": DAY.isoformat(),
        "other": "yuda-onsen",
        **change,
    }
    r = httpx.post(app_url + "/api/v1/plan/airport-bookings", json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"] == code and r.json()["message_ja"]
    after = httpx.get(app_url + "/api/v1/bookings", params={"date": DAY.isoformat()}, headers=OP).json()
    assert len(after) == len(before)


@pytest.mark.browser
@pytest.mark.parametrize(("width", "locale"), [(1280, "ja-JP"), (390, "en-GB")])
def test_a_tourist_picks_a_flight_in_the_planner_and_books_the_airport_taxi(
    app_url: str, browser: Browser, width: int, locale: str
) -> None:
    from tests.noriai.pages_check import artefacts_dir, check_page

    ctx = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
    page = ctx.new_page()
    page.goto(app_url + "/plan")
    en = locale.startswith("en")
    if en:
        page.click("#lang")
    page.select_option("#from", "yuda-onsen")
    page.select_option("#to", "ube-airport")
    page.fill("#date", DAY.isoformat())
    page.fill("#time", "10:00")
    page.click("#go")
    card = page.locator(".opt[data-kind='airport']")
    expect(card).to_be_visible()
    expect(card.locator(".fare")).to_have_text("¥2,000")
    expect(card).to_contain_text("Airport shared taxi" if en else "空港乗合タクシー")
    picker = card.locator("select.flight")
    assert picker.locator("option").count() == 6
    expect(picker.locator("option[value='NH692']")).to_be_disabled()  # its ride time has passed
    picker.select_option("NH694")
    expect(card.locator(".flight-times")).to_contain_text(
        "At the airport by 11:00" if en else "11:00までに空港へ"
    )
    check_page(page, f"plan-airport-{'en' if en else 'ja'}")
    card.locator("button.book").click()
    card.locator("input[name=name]").fill("Airport Tourist" if en else "空港 一郎")
    card.locator("input[name=phone]").fill("+44 7700 900456" if en else "090-7777-8888")
    card.locator("button[type=submit]").click()
    booked = card.locator(".booked")
    expect(booked).to_contain_text("Booked. Reference" if en else "予約しました")
    expect(booked).to_contain_text("Yamaguchi Ube Airport" if en else "山口宇部空港")  # the read-back
    reference = "B" + booked.locator(".reference").inner_text().replace("-", "")
    seen = httpx.get(f"{app_url}/api/v1/bookings/{reference}", headers=OP).json()
    assert seen["status"] == "scheduled" and seen["destination"]["place_id"] == "ube-airport"
    assert seen["fare_yen"] == 2000
    page.screenshot(path=str(artefacts_dir() / f"plan-airport-booked-{width}.png"), full_page=True)
    ctx.close()
