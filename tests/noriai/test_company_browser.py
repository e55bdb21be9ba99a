"""The taxi company's view in real headless Chromium: it opens on the next day with work, names an
address or place for every stop, shows a live ETA once the vehicle reports its position, draws the
runs on street-map tiles from the configured URL (with the provider's attribution) and falls back to
the schematic map when tiles cannot be loaded (no network), and prints a run sheet per vehicle."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from dispatch.service import TOKYO
from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.dispatch.helpers import Clock
from tests.noriai.pages_check import artefacts_dir, check_page
from tests.servers import serve_in_thread

pytestmark = pytest.mark.browser

CLOCK = Clock(datetime(2026, 11, 24, 7, 0, tzinfo=TOKYO))  # Tuesday 7:00
TILES = "https://tiles.example/{z}/{x}/{y}.png"


def png_tile() -> bytes:
    """A 256 x 256 light-grey PNG (what a tile server would send)."""
    raw = b"".join(b"\x00" + b"\xdd\xe4\xea" * 256 for _ in range(256))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("company") / "n.db"
    settings = Settings(
        database_url=f"sqlite:///{db}",
        reoptimise_interval_s=0,
        materialise_interval_s=0,
        map_tile_url=TILES,
        map_tile_attribution='<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>',
    )
    with serve_in_thread(create_app(settings, reference_data(), clock=CLOCK)) as url:
        yield url


def quote(api: httpx.Client, rider_id: str, day: str, time: str, companions: int = 0) -> dict[str, Any]:
    """A quote from the rider's home to the Red Cross hospital, arriving by ``time``."""
    q: dict[str, Any] = api.post(
        "/api/v1/quotes",
        json={
            "rider_id": rider_id,
            "destination": {"kind": "place", "place_id": "red-cross-hospital"},
            "service_date": day,
            "mode": "arrive_by",
            "time": time,
            "companions": companions,
        },
    ).json()
    assert q["status"] == "quoted", q
    return q


def book(api: httpx.Client, rider_id: str, day: str, time: str, avoid: str = "") -> dict[str, Any]:
    q = quote(api, rider_id, day, time)
    pick = next((i for i, o in enumerate(q["options"]) if o["company_id"] != avoid), None)
    if pick is None:
        return {"company_id": avoid}
    b: dict[str, Any] = api.post(f"/api/v1/bookings/{q['booking_id']}/confirm", json={"option": pick}).json()
    assert b["status"] == "scheduled", b
    return b


@pytest.fixture(scope="module")
def bookings(app_url: str) -> dict[str, dict[str, Any]]:
    api = httpx.Client(base_url=app_url, headers={"X-API-Key": "demo-operator"}, timeout=30)
    riders = reference_data().riders
    today = book(api, riders[0].rider_id, "2026-11-24", "10:00")
    # tomorrow's work for a company with nothing today
    for r in riders[1:12]:
        b = book(api, r.rider_id, "2026-11-25", "11:00", avoid=today["company_id"])
        if b["company_id"] != today["company_id"]:
            return {"today": today, "tomorrow": b}
    raise AssertionError("every booking went to the same company")


def open_view(browser: Browser, app_url: str, company: str, *, tiles: bool) -> Page:
    ctx = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})

    def route(r: Route) -> None:
        if r.request.url.startswith(app_url):
            r.continue_()
        elif tiles and r.request.url.startswith("https://tiles.example/"):
            r.fulfill(status=200, content_type="image/png", body=png_tile())
        else:
            r.abort()

    ctx.route("**/*", route)
    page = ctx.new_page()
    page.goto(app_url + "/company")
    page.fill("#api-key", f"demo-{company}")
    page.press("#api-key", "Enter")
    expect(page.locator("#view")).to_be_visible()
    return page


def test_the_view_opens_on_the_next_day_with_work_and_names_every_stop(
    browser: Browser, app_url: str, bookings: dict[str, dict[str, Any]]
) -> None:
    b = bookings["tomorrow"]
    page = open_view(browser, app_url, b["company_id"], tiles=False)
    expect(page.locator("#date")).to_have_value("2026-11-25")
    run = page.locator(f".run[data-vehicle-id='{b['vehicle_id']}']")
    pickup = run.locator(f"tr.stop[data-booking-id='{b['booking_id']}'][data-kind='pickup']")
    rider = next(r for r in reference_data().riders if r.rider_id == b["rider_id"])
    assert rider.address.startswith("山口市")  # the demo bundle's riders.csv gives every home an address
    expect(pickup.locator(".where")).to_contain_text(rider.address)
    drop = run.locator(f"tr.stop[data-booking-id='{b['booking_id']}'][data-kind='dropoff']")
    expect(drop.locator(".where")).to_have_text("山口赤十字病院")
    phone = pickup.locator(".phone")
    assert phone.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    # no network: the schematic map, saying why
    expect(page.locator("#map")).to_have_attribute("data-mode", "schematic")
    expect(page.locator("#map-note")).to_contain_text("簡易表示")
    expect(page.locator("#map .stop-dot")).not_to_have_count(0)
    check_page(page, "company-schematic")
    # the printable run sheet: one vehicle, without buttons, map or header
    page.emulate_media(media="print")
    page.evaluate(  # what printRun() does before window.print()
        """vid => { document.body.classList.add('print-one');
           for (const c of document.querySelectorAll('.run'))
             c.classList.toggle('printing', c.dataset.vehicleId === vid); }""",
        b["vehicle_id"],
    )
    expect(page.locator("header")).to_be_hidden()
    expect(page.locator(".mapbox")).to_be_hidden()
    expect(run.locator(".sheet-title")).to_contain_text(f"運行表 2026-11-25　{b['vehicle_id']}")
    for button in run.locator("button").all():
        expect(button).to_be_hidden()
    expect(page.locator(".run:not(.printing)").first).to_be_hidden()
    page.pdf(path=str(artefacts_dir() / "company-run-sheet.pdf"), format="A4")
    page.screenshot(path=str(artefacts_dir() / "company-run-sheet-print.png"), full_page=True)
    page.context.close()


def test_a_position_report_gives_a_live_eta_on_a_street_map(
    browser: Browser, app_url: str, bookings: dict[str, dict[str, Any]]
) -> None:
    b = bookings["today"]
    page = open_view(browser, app_url, b["company_id"], tiles=True)
    expect(page.locator("#date")).to_have_value("2026-11-24")
    row = page.locator(f"tr.stop[data-booking-id='{b['booking_id']}'][data-kind='pickup']")
    expect(row.locator(".eta")).to_have_count(0)
    expect(page.locator("#live")).to_contain_text("ライブ更新中")
    driver = httpx.Client(base_url=app_url, headers={"X-API-Key": f"demo-{b['company_id']}"}, timeout=10)
    depot = next(c for c in reference_data().companies if c.company_id == b["company_id"]).depot
    r = driver.post(f"/api/v1/vehicles/{b['vehicle_id']}/position", json={"lat": depot.lat, "lon": depot.lon})
    assert r.status_code == 204
    expect(row.locator(".eta")).to_have_text(b["planned_pickup"])  # early: it waits for the window
    expect(page.locator("#map .vehicle-marker")).to_have_count(1)
    expect(page.locator("#map")).to_have_attribute("data-mode", "tiles")
    assert page.locator("#map .tiles img").count() >= 1
    expect(page.locator("#map .attribution")).to_contain_text("地理院タイル")
    check_page(page, "company-live")
    page.context.close()


def test_each_ride_shows_its_fare_type_and_a_private_ride_its_party(
    browser: Browser, app_url: str, bookings: dict[str, dict[str, Any]]
) -> None:
    """相乗り (shared) or 貸切 (private) on every stop of the run and on the printed run sheet; a private
    ride holds every seat of its car, yet the driver's count is the rider's party (2), not the car's."""
    api = httpx.Client(base_url=app_url, headers={"X-API-Key": "demo-operator"}, timeout=30)
    day, riders = "2026-11-26", reference_data().riders

    q = quote(api, riders[0].rider_id, day, "10:00", companions=1)  # a party of two, on an empty day
    pick = next(i for i, o in enumerate(q["options"]) if o["fare_type"] == "private")
    private = api.post(f"/api/v1/bookings/{q['booking_id']}/confirm", json={"option": pick}).json()
    assert private["status"] == "scheduled", private
    vid, company = private["vehicle_id"], private["company_id"]
    capacity = api.get(f"/api/v1/vehicles/{vid}").json()["seats"]
    assert capacity > 2  # so a count of the car's seats could not pass for the party
    q = quote(api, riders[1].rider_id, day, "15:00")
    pick = next(
        i for i, o in enumerate(q["options"]) if o["fare_type"] == "shared" and o["company_id"] == company
    )
    shared = api.post(f"/api/v1/bookings/{q['booking_id']}/confirm", json={"option": pick}).json()
    assert shared["status"] == "scheduled", shared
    # the runs API: the party beside what the ride holds, and the fare type
    stops = {
        (s["booking_id"], s["kind"]): s
        for r in httpx.get(
            f"{app_url}/api/v1/runs", params={"date": day}, headers={"X-API-Key": f"demo-{company}"}
        ).json()
        for s in r["stops"]
    }
    p = stops[(private["booking_id"], "pickup")]
    assert (p["fare_type"], p["seats"] + p["wheelchairs"], p["seats_held"]) == ("private", 2, capacity)
    # the booking says the same
    assert (private["seats"] + private["wheelchairs"], private["seats_held"]) == (2, capacity)
    assert stops[(shared["booking_id"], "pickup")]["fare_type"] == "shared"

    page = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900}).new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(app_url) else r.abort())
    page.goto(f"{app_url}/company?date={day}")
    page.fill("#api-key", f"demo-{company}")
    page.press("#api-key", "Enter")
    row = page.locator(f"tr.stop[data-booking-id='{private['booking_id']}'][data-kind='pickup']")
    expect(row.locator(".fare .fare-type.private")).to_contain_text("貸切")
    expect(row.locator(".fare")).to_contain_text(f"{private['fare_yen']:,}円")
    expect(row.locator(".party")).to_contain_text(re.compile(r"^2名"))
    drop = page.locator(f"tr.stop[data-booking-id='{private['booking_id']}'][data-kind='dropoff']")
    expect(drop.locator(".fare-type.private")).to_be_visible()  # the car stays private to the end
    expect(drop.locator(".party")).to_contain_text(re.compile(r"^2名"))
    other = page.locator(f"tr.stop[data-booking-id='{shared['booking_id']}'][data-kind='pickup']")
    expect(other.locator(".fare .fare-type.shared")).to_contain_text("相乗り")
    expect(other.locator(".party")).to_contain_text(re.compile(r"^1名"))
    check_page(page, "company-fare-types")
    # the printed run sheet keeps both
    page.emulate_media(media="print")
    page.evaluate(
        """vid => { document.body.classList.add('print-one');
           for (const c of document.querySelectorAll('.run'))
             c.classList.toggle('printing', c.dataset.vehicleId === vid); }""",
        vid,
    )
    expect(row.locator(".fare-type.private")).to_be_visible()
    expect(other.locator(".fare-type.shared")).to_be_visible()
    expect(row.locator(".party")).to_contain_text(re.compile(r"^2名"))
    page.pdf(path=str(artefacts_dir() / "company-run-sheet-fare-types.pdf"), format="A4")
    page.screenshot(path=str(artefacts_dir() / "company-run-sheet-fare-types-print.png"), full_page=True)
    page.context.close()
