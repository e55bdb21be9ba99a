"""The trip planner over HTTP (real server on real SQLite) and in real headless Chromium: the tourist's
search from Shin-Yamaguchi Station to Yuda Onsen shows bus, bike-share and taxi options with fares, in
Japanese and English, and the taxi can be booked from the result."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime

import httpx
import pytest
from playwright.sync_api import Browser, expect

from dispatch.service import TOKYO
from tests.dispatch.helpers import Clock
from tests.noriai.pages_check import check_page
from tests.servers import serve_demo

DAY = date(2026, 11, 24)
CLOCK = Clock(datetime(2026, 11, 24, 7, 30, tzinfo=TOKYO))
OP = {"X-API-Key": "demo-operator"}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_demo(tmp_path_factory.mktemp("plan"), CLOCK) as url:
        yield url


def get_plan(url: str, **params: str) -> httpx.Response:
    q = {"from": "shin-yamaguchi-sta", "to": "yuda-onsen", "date": DAY.isoformat(), "time": "09:00", **params}
    return httpx.get(url + "/api/v1/plan", params=q, timeout=30)


def test_plan_api_answers_with_every_mode_and_fares(app_url: str) -> None:
    r = get_plan(app_url)
    assert r.status_code == 200, r.text
    body = r.json()
    kinds = {o["kind"] for o in body["options"]}
    assert {"transit", "bike", "taxi"} <= kinds
    for o in body["options"]:
        assert isinstance(o["fare_yen"], int) and o["fare_yen"] > 0
        assert o["legs"] and o["departure"] <= o["arrival"]
    assert body["live"]["bikeshare"]["status_age_s"] <= body["live"]["bikeshare"]["ttl_s"]
    assert body["query"]["from"]["name"] == "新山口駅"
    en = get_plan(app_url, lang="en").json()
    assert en["query"]["to"]["name_en"] == "Yuda Onsen"
    bike = next(o for o in en["options"] if o["kind"] == "bike")
    assert any(leg["from"]["name"] == "Shin-Yamaguchi Station (north exit)" for leg in bike["legs"])


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"from": "atlantis"}, 422, "unknown_place"),
        ({"to": "99,999"}, 422, "unknown_place"),
        ({"time": "25:99"}, 422, "invalid"),  # refused by the schema's HH:MM pattern
        ({"time": "06:00"}, 422, "time_passed"),  # the server's clock says 07:30 on that day
        ({"date": "2027-06-01"}, 422, "too_far_ahead"),
        ({"date": "2026-11-23"}, 422, "time_passed"),
        ({"modes": "teleport"}, 422, "bad_modes"),
        ({"to": "shin-yamaguchi-sta"}, 422, "bad_trip"),
    ],
)
def test_bad_queries_get_a_clear_error(app_url: str, params: dict[str, str], status: int, code: str) -> None:
    r = get_plan(app_url, **params)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code and body["message"] and body["message_ja"]


def test_unreachable_pair_is_an_empty_answer_with_a_reason(app_url: str) -> None:
    r = get_plan(app_url, to="35.681,139.767", modes="transit,walk,bike")  # Tokyo Station
    assert r.status_code == 200
    body = r.json()
    assert body["options"] == []
    assert any("no way found" in n for n in body["notices"])


def test_guest_books_the_taxi_leg_once_per_key_and_the_operator_sees_it(app_url: str) -> None:
    taxi = next(o for o in get_plan(app_url).json()["options"] if o["kind"] == "taxi")
    b = taxi["booking"]
    body = {
        "name": "観光 花子",
        "phone": "090-1234-5678",
        "from": b["from"],
        "to": b["to"],
        "date": b["date"],
        "time_s": b["time_s"],
        "vehicle_id": b["vehicle_id"],
        "from_label": "新山口駅",
        "to_label": "湯田温泉",
    }
    key = str(uuid.uuid4())
    r1 = httpx.post(app_url + "/api/v1/plan/taxi-bookings", json=body, headers={"Idempotency-Key": key})
    assert r1.status_code == 201, r1.text
    got = r1.json()
    assert got["status"] == "scheduled" and got["fare_yen"] == taxi["fare_yen"]
    assert "湯田温泉" in got["read_back"]["ja"]
    r2 = httpx.post(app_url + "/api/v1/plan/taxi-bookings", json=body, headers={"Idempotency-Key": key})
    assert r2.status_code == 201 and r2.json()["booking_id"] == got["booking_id"]
    seen = httpx.get(f"{app_url}/api/v1/bookings/{got['booking_id']}", headers=OP)
    assert seen.status_code == 200 and seen.json()["status"] == "scheduled"
    same_day = httpx.get(app_url + "/api/v1/bookings", params={"date": DAY.isoformat()}, headers=OP).json()
    assert [x["booking_id"] for x in same_day].count(got["booking_id"]) == 1
    # the same phone number books again as the same rider, not a second registration
    again = httpx.post(
        app_url + "/api/v1/plan/taxi-bookings", json={**body, "time_s": b["time_s"] + 3600}
    ).json()
    assert again["booking_id"] != got["booking_id"]
    riders = {
        httpx.get(f"{app_url}/api/v1/bookings/{x}", headers=OP).json()["rider_id"]
        for x in (got["booking_id"], again["booking_id"])
    }
    assert len(riders) == 1


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"phone": "12345"}, 422),
        ({"name": ""}, 422),
        ({"from": "north pole"}, 422),
        ({"time_s": 3 * 3600}, 409),  # 3:00: no vehicle is on shift
        ({"surprise": 1}, 422),
    ],
)
def test_bad_taxi_bookings_are_refused_and_change_nothing(
    app_url: str, change: dict[str, object], status: int
) -> None:
    before = httpx.get(app_url + "/api/v1/bookings", params={"date": DAY.isoformat()}, headers=OP).json()
    body = {
        "name": "観光 太郎",
        "phone": "090-8765-4321",
        "from": "34.094214,131.396201",
        "to": "34.164911,131.457550",
        "date": DAY.isoformat(),
        "time_s": 10 * 3600,
        **change,
    }
    r = httpx.post(app_url + "/api/v1/plan/taxi-bookings", json=body)
    assert r.status_code == status, r.text
    after = httpx.get(app_url + "/api/v1/bookings", params={"date": DAY.isoformat()}, headers=OP).json()
    scheduled = [x["booking_id"] for x in after if x["status"] == "scheduled"]
    assert scheduled == [x["booking_id"] for x in before if x["status"] == "scheduled"]


@pytest.mark.browser
def test_tourist_page_shows_bus_bike_and_taxi_and_books_the_taxi(app_url: str, browser: Browser) -> None:
    page = browser.new_context(locale="ja-JP").new_page()
    page.goto(app_url + "/plan")
    page.select_option("#from", "shin-yamaguchi-sta")
    page.select_option("#to", "yuda-onsen")
    page.fill("#date", DAY.isoformat())
    page.fill("#time", "09:00")
    page.click("#go")
    for kind in ("transit", "bike", "taxi"):
        card = page.locator(f".opt[data-kind='{kind}']").first
        expect(card).to_be_visible()
        expect(card.locator(".fare")).to_contain_text("¥")
    expect(page.locator(".opt[data-kind='transit']").first).to_contain_text("🚌 バス")
    expect(page.locator(".opt[data-kind='bike'] .bike-status")).to_contain_text("貸出可")
    expect(page.locator(".opt[data-kind='taxi']").first).to_contain_text("事前確定運賃")
    # English
    page.click("#lang")
    expect(page.locator(".opt[data-kind='bike'] h3")).to_contain_text("Bike share")
    expect(page.locator(".opt[data-kind='taxi']").first).to_contain_text("fixed fare")
    # book the taxi from the result
    taxi = page.locator(".opt[data-kind='taxi']").first
    taxi.locator("button.book").click()
    taxi.locator("input[name=name]").fill("Hanako Tourist")
    taxi.locator("input[name=phone]").fill("09011112222")
    taxi.locator("button[type=submit]").click()
    expect(taxi.locator(".booked")).to_contain_text("Booked. Reference")
    booking_id = "B" + taxi.locator(".booked .reference").inner_text().replace("-", "")
    seen = httpx.get(f"{app_url}/api/v1/bookings/{booking_id}", headers=OP).json()
    assert seen["status"] == "scheduled"
    # map click as the destination
    page.click("#lang")
    page.select_option("#to", "map")
    expect(page.locator("#map")).to_be_visible()
    page.locator("#map").click(position={"x": 300, "y": 120})
    page.click("#go")
    expect(page.locator(".opt").first).to_be_visible()
    # an impossible time gets a message, not a blank page
    page.fill("#time", "05:00")
    page.click("#go")
    expect(page.locator("#error")).to_contain_text("過ぎています")


@pytest.mark.browser
def test_a_destination_is_picked_on_the_planner_map_with_the_keyboard_only(
    app_url: str, browser: Browser
) -> None:
    """The planner's map takes the focus after the selects: arrows move a cross-hair, Enter sets the
    point under it (said in a live region, in the page's language), and the search uses it."""
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(app_url + "/plan")
    page.click("#lang")  # English
    page.fill("#date", DAY.isoformat())
    page.fill("#time", "09:00")
    page.select_option("#from", "shin-yamaguchi-sta")
    page.select_option("#to", "map")  # a native select: the browser's own keyboard support
    page.focus("#to")
    page.keyboard.press("Tab")
    svg = page.locator("#map")
    expect(svg).to_be_focused()
    expect(svg).to_have_attribute(
        "aria-label", re.compile("Map to set the start or the destination.*arrow keys.*Enter")
    )
    status = page.locator("#map-status")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowUp")
    expect(status).to_contain_text(re.compile(r"about [\d.]+ k?m [a-z-]+ of "))
    page.keyboard.press("Enter")
    expect(status).to_contain_text("picked: ")
    # the destination's marker is drawn where the cross-hair was: 50 right, 40 up of the middle (440 x 300)
    marker = svg.locator("circle[r='7']")
    expect(marker).to_have_count(1)
    assert float(marker.get_attribute("cx") or 0) == pytest.approx(270)
    assert float(marker.get_attribute("cy") or 0) == pytest.approx(110)
    expect(svg).to_be_focused()
    check_page(page, "plan-map-keyboard")
    page.keyboard.press("Shift+Tab")  # back to the destination select, then on to the search button
    expect(page.locator("#to")).to_be_focused()
    page.click("#go")
    expect(page.locator(".opt").first).to_be_visible()
    expect(page.locator("#error")).to_be_hidden()


@pytest.mark.browser
def test_a_tourist_with_a_uk_number_books_in_english_on_a_phone_and_cancels(
    app_url: str, browser: Browser
) -> None:
    ctx = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    page.goto(app_url + "/plan")
    page.click("#lang")
    page.select_option("#from", "shin-yamaguchi-sta")
    page.select_option("#to", "yuda-onsen")
    page.fill("#date", DAY.isoformat())
    page.fill("#time", "10:00")
    page.click("#go")
    taxi = page.locator(".opt[data-kind='taxi']").first
    expect(taxi).to_be_visible()
    text = page.locator("#results").inner_text()
    assert not re.search(r"[\u3040-\u30ff]", text), text  # no kana left in English mode
    assert not re.search(r"¥-|¥\d{4}", text), text  # −¥420 and ¥4,440, never ¥-420 or ¥4440
    expect(taxi.locator(".tag").first).not_to_have_text(re.compile(r"[\u4e00-\u9fff]"))  # company name_en
    expect(taxi.locator(".pickup-point")).to_contain_text("Shinkansen exit (north) taxi rank")
    from tests.noriai.pages_check import check_page

    check_page(page, "plan-results-en")
    taxi.locator("button.book").click()
    taxi.locator("input[name=name]").fill("Alice Tourist")
    taxi.locator("input[name=phone]").fill("+44 7700 900123")
    taxi.locator("button[type=submit]").click()
    booked = taxi.locator(".booked")
    expect(booked).to_contain_text("Booked. Reference")
    number = booked.locator(".reference").inner_text()
    assert re.fullmatch(r"\d{4}-\d{4}", number), number  # short enough to read out on the phone
    reference = "B" + number.replace("-", "")
    seen = httpx.get(f"{app_url}/api/v1/bookings/{reference}", headers=OP).json()
    assert seen["status"] == "scheduled" and seen["origin"]["label"].endswith("taxi rank")
    # the cancel link: the booking, then cancelled by the tourist
    booked.locator("a.cancel-link").click()
    expect(page.locator("#reference")).to_have_text(number)
    check_page(page, "plan-booking")
    page.click("#cancel")
    expect(page.locator("#cancel-box")).to_contain_text("cancelled")
    assert httpx.get(f"{app_url}/api/v1/bookings/{reference}", headers=OP).json()["status"] == "cancelled"
    # a link with a wrong token shows nothing and cancels nothing
    bad = httpx.post(f"{app_url}/api/v1/plan/taxi-bookings/{reference}/cancel", json={"token": "x" * 24})
    assert bad.status_code == 404 and bad.json()["error"] == "not_found"
    ctx.close()


def test_gtfs_flex_feed_is_served_for_other_planners(app_url: str) -> None:
    import io
    import json
    import zipfile

    r = httpx.get(app_url + "/api/v1/gtfs-flex.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = set(z.namelist())
        assert {"locations.geojson", "booking_rules.txt", "stop_times.txt"} <= names
        rule = z.read("booking_rules.txt").decode()
        assert "083-000-1000" in rule and f"{app_url}/plan" in rule
        assert json.loads(z.read("locations.geojson"))["features"]


def test_without_a_time_the_search_is_for_now_and_a_past_day_is_refused(app_url: str) -> None:
    q = {"from": "shin-yamaguchi-sta", "to": "yuda-onsen"}
    now = httpx.get(app_url + "/api/v1/plan", params=q).json()
    assert now["query"]["when"].startswith("2026-11-24T07:30")  # the server's clock
    past = httpx.get(app_url + "/api/v1/plan", params={**q, "date": "2026-01-05"})
    assert past.status_code == 422 and past.json()["error"] == "time_passed"
    later = httpx.get(app_url + "/api/v1/plan", params={**q, "date": "2026-11-26"}).json()
    assert later["query"]["when"].startswith("2026-11-26T07:30")
