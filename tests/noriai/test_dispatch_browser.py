"""The operator console and the company view in real headless Chromium.

An operator books three riders from different homes to the same hospital for a 10:00 appointment;
they share one taxi; the company view shows the run; driver events move the bookings through their
states and the company page follows them live (server-sent events).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import httpx
import pytest
from playwright.sync_api import Browser, expect

from dispatch.service import TOKYO
from noriai.demo import reference_data
from tests.dispatch.helpers import Clock
from tests.servers import serve_demo

pytestmark = pytest.mark.browser


DAY = date(2026, 11, 24)
CLOCK = Clock(datetime(2026, 11, 24, 7, 0, tzinfo=TOKYO))  # the server's clock: the service day, 7:00


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_demo(tmp_path_factory.mktemp("console"), CLOCK) as url:
        yield url


def test_three_riders_share_a_taxi_to_the_hospital(app_url: str, browser: Browser) -> None:
    riders = [r for r in reference_data().riders if r.district == "湯田" and not r.needs.wheelchair][:3]
    day = DAY.isoformat()
    op = browser.new_context(locale="ja-JP")
    page = op.new_page()
    page.goto(app_url + "/operator")
    page.fill("#api-key", "demo-operator")
    page.click("#login")
    expect(page.locator("#console")).to_be_visible()
    for r in riders:
        page.fill("#rider-q", r.phone.replace("-", ""))  # operators type the digits they hear
        page.click("#rider-search")
        page.locator(f"tr[data-rider-id='{r.rider_id}'] .pick-rider").click()
        expect(page.locator("#rider-card")).to_contain_text(r.name)
        page.select_option("#dest", "red-cross-hospital")
        page.fill("#date", day)
        page.check("#mode-arrive")
        page.fill("#time", "10:00")
        page.click("#quote")
        expect(page.locator("#option-table tr.option").first).to_be_visible()
        if r is riders[0]:  # shared and private options, each with its price, reason and vehicle kind
            first = page.locator("#option-table tr.option").first
            expect(first.locator(".fare-type")).to_have_text("相乗り / Shared")
            expect(first.locator(".fare-reason")).to_contain_text("相乗り割引")
            expect(first.locator(".vehicle-kind")).to_contain_text("セダン")
            private = page.locator("#option-table tr.option:has([data-fare-type='private'])").first
            expect(private.locator(".fare-reason")).to_contain_text("貸切")
            yen = [
                int(
                    page.locator(f"#option-table tr.option:has([data-fare-type='{k}']) .fare .big")
                    .first.inner_text()
                    .replace(",", "")
                    .removesuffix("円")
                )
                for k in ("shared", "private")
            ]
            assert yen[0] < yen[1], yen
        page.locator("#option-table .choose").first.click()
        expect(page.locator("#readback")).to_contain_text("10時までに到着")
        expect(page.locator("#readback")).to_contain_text("相乗り運賃")
        expect(page.locator("#readback")).to_contain_text(r.name)
        expect(page.locator("#rider-bookings")).to_contain_text("配車済")

    api = httpx.Client(base_url=app_url, headers={"X-API-Key": "demo-operator"}, timeout=10)
    booked = [
        b for b in api.get("/api/v1/bookings", params={"date": day}).json() if b["status"] == "scheduled"
    ]
    assert sorted(b["rider_id"] for b in booked) == sorted(r.rider_id for r in riders)
    vehicles = {b["vehicle_id"] for b in booked}
    assert len(vehicles) == 1, f"expected one shared taxi, got {vehicles}"
    vehicle, company = booked[0]["vehicle_id"], booked[0]["company_id"]

    view = browser.new_context(locale="ja-JP").new_page()
    view.goto(app_url + "/company")
    view.fill("#api-key", f"demo-{company}")
    view.click("#login")
    view.fill("#date", day)
    view.dispatch_event("#date", "change")
    run = view.locator(f".run[data-vehicle-id='{vehicle}']")
    expect(run.locator("tr.stop")).to_have_count(6)
    for r in riders:
        expect(run).to_contain_text(r.name)
    expect(view.locator("#live")).to_contain_text("ライブ更新中")
    expect(view.locator("#map .stop-dot")).to_have_count(6)

    # The driver's app reports over the API; the company page follows by server-sent events.
    driver = httpx.Client(base_url=app_url, headers={"X-API-Key": f"demo-{company}"}, timeout=10)

    def at(hhmm: str) -> None:
        h, m = hhmm.split(":")
        CLOCK.now = CLOCK.now.replace(hour=int(h), minute=int(m))

    booked.sort(key=lambda b: b["planned_pickup"])
    first = booked[0]["booking_id"]
    at(booked[0]["planned_pickup"])
    for event in ("arrive", "pick_up"):
        assert driver.post(f"/api/v1/bookings/{first}/events", json={"event": event}).status_code == 200
    expect(run.locator(f"tr.stop[data-booking-id='{first}'][data-kind='dropoff'] .status")).to_have_text(
        "乗車中"
    )
    # ... and a dispatcher can press the buttons in the view itself
    second = booked[1]["booking_id"]
    at(booked[1]["planned_pickup"])
    run.locator(f"tr.stop[data-booking-id='{second}'][data-kind='pickup'] .ev-pickup").click()
    expect(run.locator(f"tr.stop[data-booking-id='{second}'][data-kind='dropoff'] .status")).to_have_text(
        "乗車中"
    )
    third = booked[2]["booking_id"]
    at(booked[2]["planned_pickup"])
    assert driver.post(f"/api/v1/bookings/{third}/events", json={"event": "arrive"}).status_code == 200
    assert driver.post(f"/api/v1/bookings/{third}/events", json={"event": "no_show"}).status_code == 200
    expect(run.locator(f"tr.no_show[data-booking-id='{third}']")).to_have_count(1)
    at(booked[0]["planned_dropoff"])
    run.locator(f"tr.stop[data-booking-id='{first}'][data-kind='dropoff'] .ev-dropoff").click()
    expect(run.locator(f"tr.done[data-booking-id='{first}']")).to_have_count(2)
    assert driver.post(f"/api/v1/bookings/{second}/events", json={"event": "drop_off"}).status_code == 200
    expect(run.locator(f"tr.done[data-booking-id='{second}']")).to_have_count(2)
    expect(run.locator("tr.planned")).to_have_count(0)

    states = {b["booking_id"]: b["status"] for b in api.get("/api/v1/bookings", params={"date": day}).json()}
    assert states[first] == "dropped_off" and states[second] == "dropped_off" and states[third] == "no_show"
    trail = [a["event"] for a in api.get(f"/api/v1/bookings/{first}/audit").json()]
    assert trail == ["quote", "confirm", "assign", "arrive", "pick_up", "drop_off"]
    audit = api.get(f"/api/v1/days/{day}/check").json()
    assert audit["ok"] is True, audit
