"""The new lottery form starts today in the zone it shows: the browser's zone with
JavaScript (following the zone field until the date is changed), the server's default
zone (UTC) without, as the form says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.support.app import MANAGER, LiveServer
from tests.support.browser import DEFAULT_TIMEOUT_MS, collect_page_errors, log_in, real_errors


def today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


@pytest.fixture
def kiritimati(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(timezone_id="Pacific/Kiritimati", locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def no_js(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        timezone_id="Pacific/Kiritimati", locale="en-GB", java_script_enabled=False
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def test_the_start_date_is_today_in_the_browsers_zone(
    live_server: LiveServer, kiritimati: BrowserContext
) -> None:
    base = live_server.url
    page = kiritimati.new_page()
    errors = collect_page_errors(page)
    log_in(page, base, MANAGER)
    page.goto(f"{base}/lotteries/new")
    zone = page.locator("input#timezone")
    expect(zone).to_have_value("Pacific/Kiritimati")
    start = page.locator("input#start")
    expect(start).to_have_value(today_in("Pacific/Kiritimati").isoformat())
    # Another zone: the untouched date follows it (Pago Pago is a day behind Kiritimati).
    zone.fill("Pacific/Pago_Pago")
    zone.dispatch_event("change")
    expect(start).to_have_value(today_in("Pacific/Pago_Pago").isoformat())
    # A date typed by hand stays.
    start.fill("2031-05-06")
    zone.fill("Europe/Berlin")
    zone.dispatch_event("change")
    expect(start).to_have_value("2031-05-06")
    assert real_errors(errors) == []


def test_without_javascript_the_start_date_is_today_in_utc_and_the_form_says_so(
    live_server: LiveServer, kiritimati: BrowserContext, no_js: BrowserContext
) -> None:
    base = live_server.url
    # Logged in with JavaScript; the session cookie serves the page without.
    logged_in = kiritimati.new_page()
    log_in(logged_in, base, MANAGER)
    no_js.add_cookies(kiritimati.cookies())
    page = no_js.new_page()
    page.goto(f"{base}/lotteries/new")
    expect(page.locator("select#timezone")).to_have_value("UTC")
    expect(page.locator("input#start")).to_have_value(today_in("UTC").isoformat())
    expect(page.locator("#start-help")).to_have_text(
        "The first day; today or later in the lottery\u2019s zone. It starts at today in UTC, "
        "or in your browser\u2019s zone with JavaScript."
    )
