"""Pages in real headless Chromium (Debian chromium driven by Playwright)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright

from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app
from tests.conftest import free_port

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("web") / "n.db"
    app = create_app(Settings(database_url=f"sqlite:///{db}"), reference_data())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(exe).exists():
        pytest.fail("Debian chromium is not installed: run `make test`, which installs it with apt-get")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_home_page_links_through_to_a_bus_stop_timetable(base_url: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(base_url + "/")
    assert "ようこそ" in page.inner_text("h1")
    page.click("text=バス接近情報・総合時刻表")
    page.wait_for_url("**/bus")
    page.click("text=湯田温泉")
    page.wait_for_selector("#timetable")
    assert "総合時刻表" in page.content()
    rows = page.locator("#timetable tr").count()
    assert rows >= 10  # one row per service hour
    page.close()
