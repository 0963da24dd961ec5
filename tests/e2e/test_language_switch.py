"""A German browser gets fairdraw in German and can switch it to English, in Chromium."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.support.app import LiveServer
from tests.support.browser import DEFAULT_TIMEOUT_MS, VIEWPORT


def test_a_german_browser_reads_german_and_switches_to_english(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(viewport=VIEWPORT, locale="de-DE", reduced_motion="reduce")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/lotteries")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.get_by_role("link", name="Ziehung prüfen")).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_have_text("Lotterien")

        page.get_by_role("link", name="English").click()
        page.wait_for_url(live_server.url + "/lotteries")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", level=1)).to_have_text("Lotteries")
        # The choice is remembered for the next page, whatever the browser asks for.
        page.goto(live_server.url + "/")
        expect(page.get_by_role("link", name="Verify a draw")).to_be_visible()
        expect(page.get_by_role("link", name="Deutsch")).to_be_visible()
    finally:
        context.close()
