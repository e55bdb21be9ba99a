"""The planner's page in real headless Chromium: an operator moves the sliders, runs a small day,
watches the progress and reads the KPIs and the report; a company key may not run simulations.
Screenshots at 1280 and 390 px go to the test's folder (looked at when the page changes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from dispatch.service import TOKYO
from tests.dispatch.helpers import Clock
from tests.servers import serve_demo

pytestmark = pytest.mark.browser
CLOCK = Clock(datetime(2026, 11, 24, 7, 0, tzinfo=TOKYO))


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_demo(tmp_path_factory.mktemp("planning"), CLOCK) as url:
        yield url


def test_an_operator_runs_a_day_from_the_planning_page(
    app_url: str, browser: Browser, tmp_path: Path
) -> None:
    page = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900}).new_page()
    page.goto(app_url + "/planning")
    page.fill("#api-key", "demo-operator")
    page.click("#login")
    expect(page.locator("#whoami")).to_contain_text("オペレーター")
    page.locator("#requests").fill("20")
    page.locator("#vehicles").fill("6")
    page.locator("#noise").fill("0")
    expect(page.locator("#requests-out")).to_have_text("20")
    expect(page.locator("#vehicles-out")).to_have_text("6")
    page.click("#run")
    expect(page.locator("#status-card")).to_be_visible()
    expect(page.locator("#results")).to_be_visible(timeout=240_000)
    expect(page.locator("#status-text")).to_contain_text("完了")
    expect(page.locator("[data-kpi=on_time_pct]")).to_contain_text("100 %")
    expect(page.locator("[data-kpi=served_pct]")).to_contain_text("%")
    report = page.frame_locator("#report")
    expect(report.locator("h1")).to_contain_text("Simulation report")
    expect(report.locator("img")).to_have_count(4)
    page.screenshot(path=str(tmp_path / "planning-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "planning-390.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width} px)"


def test_the_planning_api_wants_an_operator_key(app_url: str) -> None:
    body = {"vehicles": 4, "requests": 10}
    assert httpx.post(app_url + "/api/v1/planning/runs", json=body).status_code == 401
    r = httpx.post(app_url + "/api/v1/planning/runs", json=body, headers={"X-API-Key": "demo-chuo-taxi"})
    assert r.status_code == 403 and r.json()["error"] == "forbidden" and r.json()["message_ja"]
    bad = httpx.post(
        app_url + "/api/v1/planning/runs", json={"vehicles": 999}, headers={"X-API-Key": "demo-operator"}
    )
    assert bad.status_code == 422
    missing = httpx.get(app_url + "/api/v1/planning/runs/nope", headers={"X-API-Key": "demo-operator"})
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
