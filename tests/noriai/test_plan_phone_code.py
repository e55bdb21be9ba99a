"""The phone-code step of the trip planner in real headless Chromium (GUEST_PHONE_CHECK on, the codes
read from the test's SMS sender as the rider's phone would): without a code, or with a wrong one, the
booking is refused with a sentence next to the code field in the page's language; with the code sent
to the phone it is booked, for the taxi leg and for the airport shared taxi alike."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime

import httpx
import pytest
from playwright.sync_api import Browser, Locator, expect

from dispatch.service import TOKYO
from noriai.sms import MemorySmsSender
from tests.dispatch.helpers import Clock
from tests.servers import serve_demo

DAY = date(2026, 11, 24)
CLOCK = Clock(datetime(2026, 11, 24, 7, 30, tzinfo=TOKYO))
OP = {"X-API-Key": "demo-operator"}
SMS = MemorySmsSender()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("plan-code")
    limits = {
        "rate_phone_code": "50/10minute",
        "rate_guest_booking": "50/minute",
        "rate_guest_phone": "50/hour",
    }
    with serve_demo(folder, CLOCK, sms=SMS, guest_phone_check=True, **limits) as url:
        yield url


def last_code(phone: str) -> str:
    text = SMS.last_to(phone)
    assert text is not None, "no code was sent"
    m = re.search(r"\b(\d{6})\b", text)
    assert m is not None, text
    return m.group(1)


def test_the_planner_page_knows_when_codes_are_on(app_url: str) -> None:
    assert "const PHONE_CHECK = true;" in httpx.get(app_url + "/plan").text


def _code_steps(card: Locator, phone: str, en: bool, shot: str = "") -> None:
    """No code -> asked for it; a wrong code -> told so next to the field; the sent code -> booked."""
    card.locator("input[name=name]").fill("Code Tourist" if en else "確認 花子")
    card.locator("input[name=phone]").fill(phone)
    card.locator("button[type=submit]").click()
    msg = card.locator(".code-msg")
    expect(msg).to_contain_text("Please enter the 6-digit code" if en else "確認コードを入力してください")
    card.locator("button.send-code").click()
    expect(msg).to_contain_text("We sent a 6-digit code" if en else "確認コードを送りました")
    code = last_code(phone)
    card.locator("input[name=code]").fill("000000" if code != "000000" else "111111")
    card.locator("button[type=submit]").click()
    expect(msg).to_contain_text(
        "That code is wrong or has expired" if en else "確認コードが違うか、期限切れです"
    )
    expect(card.locator("input[name=code]")).to_have_attribute("aria-invalid", "true")
    if shot:
        card.page.screenshot(path=shot, full_page=True)
    card.locator("input[name=code]").fill(code)
    card.locator("button[type=submit]").click()
    expect(card.locator(".booked")).to_contain_text("Booked. Reference" if en else "予約しました")


@pytest.mark.browser
@pytest.mark.parametrize(("width", "locale"), [(1280, "ja-JP"), (390, "en-GB")])
def test_a_booking_from_the_planner_asks_for_the_code_sent_to_the_phone(
    app_url: str, browser: Browser, width: int, locale: str
) -> None:
    from tests.noriai.pages_check import artefacts_dir, check_page

    en = locale.startswith("en")
    ctx = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
    page = ctx.new_page()
    page.goto(app_url + "/plan")
    if en:
        page.click("#lang")
    page.select_option("#from", "shin-yamaguchi-sta")
    page.select_option("#to", "yuda-onsen")
    page.fill("#date", DAY.isoformat())
    page.fill("#time", "09:00" if en else "10:00")
    page.click("#go")
    taxi = page.locator(".opt[data-kind='taxi']").first
    taxi.locator("button.book").click()
    expect(taxi.locator("input[name=code]")).to_be_visible()
    check_page(page, f"plan-code-{'en' if en else 'ja'}")
    phone = "+44 7700 900789" if en else "090-3131-4242"
    _code_steps(taxi, phone, en, str(artefacts_dir() / f"plan-code-wrong-{width}.png"))
    page.screenshot(path=str(artefacts_dir() / f"plan-code-booked-{width}.png"), full_page=True)
    reference = "B" + taxi.locator(".booked .reference").inner_text().replace("-", "")
    assert httpx.get(f"{app_url}/api/v1/bookings/{reference}", headers=OP).json()["status"] == "scheduled"
    # the airport shared taxi's form has the same step
    page.select_option("#from", "yuda-onsen")
    page.select_option("#to", "ube-airport")
    page.click("#go")
    card = page.locator(".opt[data-kind='airport']")
    card.locator("select.flight").select_option("JL294")
    card.locator("button.book").click()
    _code_steps(card, "090-5151-6262" if not en else "+44 7700 900790", en)
    ctx.close()
