"""Pages in real headless Chromium (Debian chromium driven by Playwright)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.servers import serve_in_thread


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("web") / "n.db"
    with serve_in_thread(create_app(Settings(database_url=f"sqlite:///{db}"), reference_data())) as url:
        yield url


def test_home_page_links_through_to_a_bus_stop_timetable(base_url: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(base_url + "/")
    assert "ようこそ" in page.inner_text("h1")
    page.click("text=バス接近情報・総合時刻表")
    page.wait_for_url("**/bus")
    page.click("text=湯田温泉")
    page.wait_for_selector("#combined [role=tabpanel]:not([hidden]) table.tt")
    assert "総合時刻表" in page.content()
    rows = page.locator("#combined [role=tabpanel]:not([hidden]) table.tt").first.locator("tr").count()
    assert rows >= 10  # one row per service hour
    page.close()
