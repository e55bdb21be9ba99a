"""Public pages in real headless Chromium, offline: home, bus stops and their combined timetables,
the API reference (/docs, /redoc from vendored files). Each page passes axe-core and is photographed
at 1280 px and 390 px (tests/noriai/pages_check.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from playwright.sync_api import Browser, BrowserContext, Route, expect

from dispatch.service import TOKYO
from tests.dispatch.helpers import Clock
from tests.noriai.pages_check import check_page
from tests.servers import serve_demo

pytestmark = pytest.mark.browser

CLOCK = Clock(datetime(2026, 11, 24, 7, 0, tzinfo=TOKYO))  # a Tuesday


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_demo(tmp_path_factory.mktemp("pages"), CLOCK) as url:
        yield url


@pytest.fixture()
def offline(browser: Browser, app_url: str) -> Iterator[BrowserContext]:
    """A browser context that can reach only the app: any other host fails, as with no network."""
    ctx = browser.new_context(locale="ja-JP")
    outside: list[str] = []

    def block(route: Route) -> None:
        if route.request.url.startswith(app_url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    ctx.route("**/*", block)
    yield ctx
    ctx.close()
    assert not outside, f"pages asked for outside resources: {outside}"


def test_home_page_lists_every_part(app_url: str, offline: BrowserContext) -> None:
    page = offline.new_page()
    page.goto(app_url + "/")
    # operator, company, planner, bus, planning, places, zones, API reference, health
    expect(page.locator("nav .card")).to_have_count(9)
    planning = page.get_by_role("link", name="運行計画の検討（市の担当者向け・シミュレーション）")
    expect(planning).to_have_attribute("href", "/planning")
    card = page.locator("nav .card", has=planning)
    expect(card).to_contain_text("Service planning (simulation, for city officers)")
    check_page(page, "home")
    planning.click()
    expect(page.locator("h1")).to_contain_text("運行計画の検討")


def test_the_timetable_shows_one_direction_per_table_with_day_tabs(
    app_url: str, offline: BrowserContext
) -> None:
    page = offline.new_page()
    page.goto(app_url + "/bus")
    page.get_by_role("link", name="湯田温泉", exact=True).click()
    expect(page.locator("h1")).to_contain_text("湯田温泉")
    page.goto(app_url + "/bus/stops/S006?date=2026-11-24")
    weekday = page.locator("#panel-weekday")
    expect(weekday).to_be_visible()
    tables = weekday.locator("table.tt")
    assert tables.count() >= 2
    for i in range(tables.count()):
        caption = tables.nth(i).locator("caption").inner_text()
        assert "方面" in caption and ("〜" in caption or "循環" in caption), caption  # route name + direction
    # each table holds one route and one direction: its headsigns are one side of the line
    captions = [tables.nth(i).locator("caption").inner_text() for i in range(tables.count())]
    assert any("日赤前" in c for c in captions) and any("新山口駅" in c for c in captions)
    assert not any("日赤前" in c and "新山口駅 (" in c for c in captions)
    # the Saturday/holiday tab shows the weekend service (fewer buses), not today's
    tabs = page.get_by_role("tab")
    assert tabs.count() >= 2
    weekday_minutes = weekday.locator("td span").count()
    tabs.nth(1).click()
    expect(weekday).to_be_hidden()
    other = page.locator("[role=tabpanel]:not([hidden])")
    expect(other).to_have_count(1)
    assert 0 < other.locator("td span").count() < weekday_minutes
    tabs.nth(0).click()
    check_page(page, "bus-stop")


def test_bus_index_page(app_url: str, offline: BrowserContext) -> None:
    page = offline.new_page()
    page.goto(app_url + "/bus")
    expect(page.locator("li")).to_have_count(18)
    check_page(page, "bus-index")


def test_api_reference_works_offline_and_passes_the_accessibility_check(
    app_url: str, offline: BrowserContext
) -> None:
    """/docs (Swagger UI) and /redoc (ReDoc) from vendored files, with our colour overrides and
    field names (noriai/web/static/docs): axe finds nothing serious as the page opens, nor with an
    operation open, tried out and answered (parameters, request URL, response body, Download)."""
    page = offline.new_page()
    page.goto(app_url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Noriai", timeout=20_000)
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main#swagger-ui")).to_have_count(1)
    # no link nested in the operation's toggle button (deep links are off)
    expect(page.locator(".opblock-summary-control a[href]")).to_have_count(0)
    check_page(page, "docs")
    riders = page.locator(".opblock", has=page.locator("[data-path='/api/v1/riders']")).first
    riders.locator(".opblock-summary-control").click()
    riders.get_by_role("button", name="Try it out").click()
    riders.locator("tr[data-param-name=q] input").fill("yama")
    riders.locator("button.execute").click()
    expect(riders.locator(".live-responses-table")).to_contain_text("401")  # no key: refused, and shown
    expect(riders.locator(".download-contents")).to_be_visible()
    check_page(page, "docs-operation")
    page.goto(app_url + "/redoc")
    expect(page.locator("h1").first).to_contain_text("Noriai", timeout=20_000)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    check_page(page, "redoc")


def test_the_planning_and_trip_planner_pages_pass_the_accessibility_check(
    app_url: str, offline: BrowserContext
) -> None:
    """The pages other tests drive through their flows, checked as they open: the simulator's page
    for city officers (signed in) and the trip planner in Japanese."""
    page = offline.new_page()
    page.goto(app_url + "/planning")
    page.fill("#api-key", "demo-operator")
    page.click("#login")
    expect(page.locator("#whoami")).to_contain_text("オペレーター")
    check_page(page, "planning")
    page.goto(app_url + "/plan")
    expect(page.locator("form")).to_be_visible()
    check_page(page, "plan-ja")
