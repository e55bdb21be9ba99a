"""The operator console in real headless Chromium: a first-time caller is registered (with dated
consent), found again by katakana and by part of the phone number, edited and booked, keyboard only
where an operator would type; a bad companions value is explained next to the field in Japanese; a
recurring rule's next-Tuesday booking appears by itself (the scheduled materialiser); a home is picked on a
street map (tiles from MAP_TILE_URL), the first click zooming in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from dispatch.service import TOKYO
from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.dispatch.helpers import Clock
from tests.noriai.pages_check import check_page
from tests.noriai.test_company_browser import png_tile
from tests.servers import serve_in_thread

pytestmark = pytest.mark.browser

CLOCK = Clock(datetime(2026, 11, 24, 7, 0, tzinfo=TOKYO))  # a Tuesday, 7:00
NEXT_TUESDAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("operator") / "n.db"
    settings = Settings(
        database_url=f"sqlite:///{db}",
        reoptimise_interval_s=0,
        materialise_interval_s=1,  # the recurring-booking job runs every second here
        materialise_days_ahead=7,
        map_tile_url="https://tiles.example/{z}/{x}/{y}.png",
    )
    with serve_in_thread(create_app(settings, reference_data(), clock=CLOCK)) as url:
        yield url


@pytest.fixture()
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    ctx = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    ctx.route("https://tiles.example/**", lambda r: r.fulfill(content_type="image/png", body=png_tile()))
    p = ctx.new_page()
    p.goto(app_url + "/operator")
    p.fill("#api-key", "demo-operator")
    p.press("#api-key", "Enter")
    expect(p.locator("#console")).to_be_visible()
    expect(p.locator("#rider-q")).to_be_focused()
    yield p
    ctx.close()


def test_a_first_time_caller_is_registered_found_by_katakana_edited_and_booked(
    page: Page, app_url: str
) -> None:
    page.keyboard.type("090-1234-5678")
    page.keyboard.press("Enter")
    expect(page.locator("#rider-results")).to_contain_text("該当なし")
    expect(page.locator("#new-rider")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#rider-form")).to_be_visible()
    expect(page.locator("#rf-phone")).to_have_value("090-1234-5678")  # carried over from the search
    expect(page.locator("#rf-name")).to_be_focused()
    page.keyboard.type("森 花子")
    page.fill("#rf-kana", "モリ ハナコ")
    page.fill("#rf-birth", "1941")
    page.select_option("#rf-home", "yamaguchi-sta")
    page.check("#rf-walker")
    page.check("#rf-consent")
    page.fill("#rf-consent-date", "2026-11-20")
    check_page(page, "operator-register")
    page.press("#rf-birth", "Enter")
    expect(page.locator("#rider-card")).to_contain_text("森 花子（もり はなこ）様")
    expect(page.locator("#rider-card")).to_contain_text("歩行器")
    expect(page.locator("#dest")).to_be_focused()

    api = httpx.Client(base_url=app_url, headers={"X-API-Key": "demo-operator"}, timeout=10)
    (found,) = api.get("/api/v1/riders", params={"q": "モリハナ"}).json()  # katakana, no space
    assert found["kana"] == "もり はなこ" and found["consent"] == {
        "data_reuse": True,
        "given_on": "2026-11-20",
    }
    assert [r["rider_id"] for r in api.get("/api/v1/riders", params={"q": "12345"}).json()] == [
        found["rider_id"]
    ]

    # found again by katakana in the console, edited (a wheelchair now), consent date kept
    page.fill("#rider-q", "モリ")
    page.press("#rider-q", "Enter")
    page.locator(f"tr[data-rider-id='{found['rider_id']}'] .pick-rider").click()
    page.click("#edit-rider")
    page.check("#rf-wheelchair")
    page.click("#rf-save")
    expect(page.locator("#rider-card")).to_contain_text("車いす")
    assert api.get(f"/api/v1/riders/{found['rider_id']}").json()["consent"]["given_on"] == "2026-11-20"

    # and booked, choosing between options that say how they differ
    page.select_option("#dest", "red-cross-hospital")
    page.fill("#date", "2026-11-25")
    page.check("#mode-arrive")
    page.fill("#time", "10:00")
    page.press("#time", "Enter")
    options = page.locator("#option-table tr.option")
    expect(options.first).to_be_visible()
    first = options.first
    expect(first).to_contain_text("福祉車両")  # a wheelchair rider gets a welfare vehicle
    expect(first).to_contain_text("着予定")
    expect(first.locator(".tag")).to_have_text(["相乗り / Shared"])  # the shared fare first (#14)
    expect(page.locator("#option-table tr.option .tag.private").first).to_have_text("貸切 / Private")
    expect(page.locator("#option-table .choose").first).to_be_focused()
    check_page(page, "operator-options")
    page.keyboard.press("Enter")
    expect(page.locator("#readback")).to_contain_text("森 花子")
    expect(page.locator("#booking-no")).to_have_text(re.compile(r"^\d{4}-\d{4}$"))
    expect(page.locator("#readback")).to_contain_text("予約番号は" + page.locator("#booking-no").inner_text())
    expect(page.locator("#rider-bookings")).to_contain_text("配車済")
    check_page(page, "operator-booked")


def test_a_bad_companions_value_is_explained_next_to_the_field(page: Page) -> None:
    r = reference_data().riders[0]
    page.fill("#rider-q", r.phone[-4:])
    page.press("#rider-q", "Enter")
    page.locator(f"tr[data-rider-id='{r.rider_id}'] .pick-rider").click()
    page.select_option("#dest", "red-cross-hospital")
    page.fill("#time", "10:00")
    page.fill("#companions", "30")
    page.click("#quote")
    expect(page.locator("#err-companions")).to_have_text("同乗者の人数は8以下にしてください。")
    expect(page.locator("#companions")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error")).to_be_hidden()
    assert "{" not in page.locator("main").inner_text()  # no raw JSON anywhere
    page.fill("#companions", "-1")
    page.click("#quote")
    expect(page.locator("#err-companions")).to_have_text("同乗者の人数は0以上にしてください。")
    page.fill("#companions", "0")
    page.fill("#time", "")
    page.click("#quote")
    expect(page.locator("#err-time")).to_contain_text("時刻は")
    expect(page.locator("#err-companions")).to_have_text("")
    # a good search shows options; a failing one right after clears them
    page.fill("#time", "10:00")
    page.click("#quote")
    expect(page.locator("#option-table tr.option").first).to_be_visible()
    page.fill("#date", "")
    page.click("#quote")
    expect(page.locator("#err-service_date")).to_contain_text("日付")
    expect(page.locator("#option-table")).to_have_count(0)
    check_page(page, "operator-error")


def test_a_recurring_rule_books_next_tuesday_by_itself(page: Page, app_url: str) -> None:
    r = reference_data().riders[3]
    page.fill("#rider-q", r.kana.split()[0])
    page.press("#rider-q", "Enter")
    page.locator(f"tr[data-rider-id='{r.rider_id}'] .pick-rider").click()
    expect(page.locator("#rule-list")).to_contain_text(
        "定期予約はありません"
    )  # loaded: the form stops moving
    page.check("#rule-form input[name=wd][value='1']")  # Tuesday
    page.check("#rule-form input[name=wd][value='4']")  # Friday
    page.select_option("#rule-dest", "red-cross-hospital")
    page.fill("#rule-time", "09:30")
    page.fill("#rule-except", "2026-11-27")
    page.select_option("#rule-return", "call")
    page.click("#rule-save")
    expect(page.locator("#rule-list .rule")).to_contain_text("毎週 火・金")
    # nobody calls materialise: the scheduled job books the coming Tuesday within a few seconds
    api = httpx.Client(base_url=app_url, headers={"X-API-Key": "demo-operator"}, timeout=10)

    def tuesday() -> list[dict[str, object]]:
        return [
            b
            for b in api.get("/api/v1/bookings", params={"rider_id": r.rider_id}).json()
            if b["service_date"] == NEXT_TUESDAY.isoformat() and b["recurring_rule_id"]
        ]

    for _ in range(80):  # (the job quotes, then confirms: wait for the confirmed booking)
        if any(b["status"] == "scheduled" for b in tuesday()):
            break
        page.wait_for_timeout(250)
    outbound = [b for b in tuesday() if b["status"] == "scheduled"]
    assert len(outbound) == 1, tuesday()
    # the exception day (Friday 27th) is skipped; reruns of the job created nothing twice
    all_days = [
        b["service_date"] for b in api.get("/api/v1/bookings", params={"rider_id": r.rider_id}).json()
    ]
    assert "2026-11-27" not in all_days
    assert all_days.count(NEXT_TUESDAY.isoformat()) == 2  # the trip there and the call-back return
    page.click("#edit-rider")
    page.click("#rf-cancel")
    expect(
        page.locator(f"#rider-bookings tr[data-service-date='{NEXT_TUESDAY.isoformat()}']").first
    ).to_be_visible()
    check_page(page, "operator-recurring")


def assert_home_saved(app_url: str, phone: str, lat: float, lon: float) -> None:
    """The rider registered with ``phone`` has their home where the map said."""
    api = httpx.Client(base_url=app_url, headers={"X-API-Key": "demo-operator"}, timeout=10)
    (found,) = api.get("/api/v1/riders", params={"q": phone}).json()
    assert abs(found["home"]["lat"] - lat) < 1e-5 and abs(found["home"]["lon"] - lon) < 1e-5


def test_a_home_is_picked_on_a_street_map_zoomed_in_by_the_first_click(page: Page, app_url: str) -> None:
    page.click("#new-rider")
    page.fill("#rf-name", "地図 太郎")
    page.fill("#rf-kana", "ちず たろう")
    page.fill("#rf-phone", "083-000-7777")
    page.fill("#rf-birth", "1950")
    page.select_option("#rf-home", "map")
    svg = page.locator("#rf-map")
    expect(svg).to_have_attribute("data-mode", "tiles")
    expect(svg.locator("image")).not_to_have_count(0)
    overview = int(svg.get_attribute("data-zoom") or 0)
    assert overview < 16
    svg.click()  # the middle of the city: zooms in there
    expect(svg).to_have_attribute("data-zoom", "16")
    expect(page.locator("#rf-point")).not_to_contain_text(re.compile(r"自宅の位置 \d"))
    svg.click()  # the same point, now close enough to tell houses apart: the home
    expect(page.locator("#rf-point")).to_contain_text(re.compile(r"自宅の位置 \d"))
    lat, lon = (float(x.strip(",")) for x in page.locator("#rf-point").inner_text().split()[-2:])
    check_page(page, "operator-home-map")
    page.click("#rf-save")
    expect(page.locator("#rider-card")).to_contain_text("地図 太郎")
    assert_home_saved(app_url, "083-000-7777", lat, lon)
    page.click("#edit-rider")  # editing opens the map on the home, marked
    expect(svg).to_have_attribute("data-zoom", "16")
    expect(svg.locator("circle[visibility=visible]")).to_have_count(1)


def test_a_home_is_picked_on_the_map_with_the_keyboard_only(page: Page, app_url: str) -> None:
    """The map is one tab stop: the arrows move a cross-hair, Enter zooms in around it and then picks
    under it; each move and pick is said in a live region (nearest place, direction, coordinates)."""
    page.click("#new-rider")
    page.keyboard.type("鍵盤 花子")
    page.keyboard.press("Tab")
    page.keyboard.type("けんばん はなこ")
    page.keyboard.press("Tab")
    page.keyboard.type("083-000-8888")
    page.keyboard.press("Tab")
    page.keyboard.type("1948")
    page.keyboard.press("Tab")
    expect(page.locator("#rf-home")).to_be_focused()
    page.select_option("#rf-home", "map")  # a native select: the browser's own keyboard support
    expect(page.locator("#rf-mapbox")).to_be_visible()
    page.keyboard.press("Tab")  # address
    page.keyboard.press("Tab")  # district
    page.keyboard.press("Tab")
    svg = page.locator("#rf-map")
    expect(svg).to_be_focused()
    expect(svg).to_have_attribute("role", "application")
    expect(svg).to_have_attribute("aria-label", re.compile("自宅の場所を指定する地図.*矢印キー.*Enter"))
    status = page.locator("#rf-map-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(page.locator("#rf-map g.crosshair")).to_be_visible()
    overview = int(svg.get_attribute("data-zoom") or 0)
    assert overview < 16
    page.keyboard.press("ArrowRight")
    expect(status).to_contain_text(re.compile(r"約[\d.]+ ?k?m"))  # "…の東 約300 m（34.…）"
    moved = status.inner_text()
    page.keyboard.press("Shift+ArrowUp")
    expect(status).not_to_have_text(moved)
    page.keyboard.press("Home")  # back to the middle (the city centre, inside the service area)
    expect(status).not_to_have_text(moved)
    page.keyboard.press("Enter")  # zooms in around the cross-hair, the map keeps the focus
    expect(svg).to_have_attribute("data-zoom", "16")
    expect(status).to_contain_text("拡大しました")
    expect(svg).to_be_focused()
    expect(page.locator("#rf-point")).not_to_contain_text(re.compile(r"自宅の位置 \d"))
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")  # picks the home under the cross-hair
    expect(page.locator("#rf-point")).to_contain_text(re.compile(r"自宅の位置 \d"))
    expect(status).to_contain_text("指定しました")
    expect(status).to_contain_text("picked")
    lat, lon = (float(x.strip(",")) for x in page.locator("#rf-point").inner_text().split()[-2:])
    said = re.search(r"（(\d+\.\d+), (\d+\.\d+)）", status.inner_text())
    assert said, status.inner_text()
    # the point said is the point set
    assert abs(float(said[1]) - lat) < 2e-5 and abs(float(said[2]) - lon) < 2e-5
    # the marker sits where the cross-hair was: 30 units below and 10 left of the middle (420 x 300)
    marker = svg.locator("circle[visibility=visible]")
    assert float(marker.get_attribute("cx") or 0) == pytest.approx(200)
    assert float(marker.get_attribute("cy") or 0) == pytest.approx(180)
    check_page(page, "operator-home-map-keyboard")
    page.click("#rf-save")
    expect(page.locator("#rider-card")).to_contain_text("鍵盤 花子")
    assert_home_saved(app_url, "083-000-8888", lat, lon)
