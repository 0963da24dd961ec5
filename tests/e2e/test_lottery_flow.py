"""A daily lottery in a real Chromium against a real server: a manager creates one that
starts today, a participant on a phone casts three ballots with one click each, and the
check page tells today's round from a past round's winner."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.support.app import MANAGER, PARTICIPANT, LiveServer
from tests.support.browser import (
    DEFAULT_TIMEOUT_MS,
    collect_page_errors,
    log_in,
    low_contrast,
    press,
    real_errors,
    screenshot,
)
from tests.support.lottery_rounds import past_round

PHONE: ViewportSize = {"width": 390, "height": 844}
UTC_ZONE = ZoneInfo("UTC")
NAME = "Daily coffee"
CHECK_PAGE_TEXT = [
    "h1.title",
    ".label",
    ".help",
    ".fd-outcome-heading",
    ".fd-round-outcome p:not(.title)",
    ".fd-winner-name",
    ".button.is-primary",
]
LIST_PAGE_TEXT = ["h1.title", ".fd-draw-link", ".fd-meta span", ".fd-my-ballots", ".button"]


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    """A participant's phone: a browser context with its own cookies."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, reduced_motion="reduce"
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def check(page: Page, base: str, lottery_name: str, day: date) -> None:
    page.goto(f"{base}/lotteries/check")
    page.get_by_label("Lottery").select_option(label=lottery_name)
    page.get_by_label("Date").fill(day.isoformat())
    press(page, "Check")


def test_a_lottery_from_creation_to_a_checked_winner(
    live_server: LiveServer, page: Page, phone: BrowserContext
) -> None:
    base = live_server.url
    manager_errors = collect_page_errors(page)
    log_in(page, base, MANAGER)
    page.goto(f"{base}/lotteries")
    page.get_by_role("link", name="New lottery").click()
    page.wait_for_load_state()
    today = datetime.now(UTC_ZONE).date()
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Description (optional)").fill("One cup a day, on the house.")
    page.get_by_label("Prize", exact=True).fill("A coffee")
    expect(page.get_by_label("Time zone")).to_have_value("UTC")
    expect(page.get_by_label("Start date")).to_have_value(today.isoformat())
    screenshot(page, "lottery-new")
    press(page, "Create lottery")
    expect(page).to_have_url(re.compile(r"/lotteries/[a-z2-7]{12}$"))
    expect(page.get_by_text("Running — today\u2019s round takes ballots")).to_be_visible()
    lottery_url = page.url

    participant = phone.new_page()
    participant_errors = collect_page_errors(participant)
    log_in(participant, base, PARTICIPANT)
    participant.goto(f"{base}/lotteries")
    listed = participant.locator(".fd-lottery-item", has_text=NAME)
    expect(listed.locator(".fd-ballot-count")).to_have_text("0")
    listed.get_by_role("button", name="Cast a ballot").click()
    participant.wait_for_load_state()
    expect(participant.get_by_text("Ballot 1 is in")).to_be_visible()
    for number in (2, 3):
        press(participant, "Cast another ballot")
        expect(participant.get_by_text(f"Ballot {number} is in")).to_be_visible()
    expect(participant.locator(".fd-receipt-ballot")).to_have_text("3")
    expect(participant.get_by_role("status")).to_contain_text(
        "You have 3 ballots in today\u2019s round"
    )
    screenshot(participant, "lottery-ballot-phone")
    participant.goto(f"{base}/lotteries")
    expect(listed.locator(".fd-ballot-count")).to_have_text("3")
    screenshot(participant, "lottery-list-phone")
    assert low_contrast(participant, LIST_PAGE_TEXT, reload=False) == {}

    check(participant, base, NAME, today)
    outcome = participant.locator("#outcome")
    expect(outcome.locator(".fd-outcome-heading")).to_have_text(
        "Today\u2019s round is still running"
    )
    expect(outcome).to_contain_text("3 ballots so far")
    screenshot(participant, "lottery-check-running")

    past = asyncio.run(past_round(live_server.settings, ballots=2))
    check(participant, base, past.name, past.day)
    expect(outcome.locator(".fd-outcome-heading")).to_have_text(
        f"The winner of {past.day:%A %-d %B %Y}"
    )
    expect(outcome.locator(".fd-winner-name")).to_have_text("Patricia Q")
    expect(outcome.locator(".fd-ballot-no")).to_have_text(str(past.ballot))
    expect(outcome).to_contain_text(f"Ballot {past.ballot} Patricia Q wins A book")
    screenshot(participant, "lottery-check-winner")
    assert low_contrast(participant, CHECK_PAGE_TEXT, reload=False) == {}

    participant.get_by_role("link", name="This round in full, with its proof").click()
    participant.wait_for_load_state()
    expect(participant.get_by_role("link", name="Download proof")).to_be_visible()
    screenshot(participant, "lottery-round-phone")

    participant.goto(f"{base}/lotteries/{past.lottery_id}/rounds")
    expect(participant.locator(f"tr[data-date='{past.day}']")).to_contain_text("Patricia Q")
    screenshot(participant, "lottery-history-phone")

    page.goto(lottery_url)
    expect(page.locator(".fd-today .fd-meta")).to_contain_text("3 ballots in today\u2019s round")
    screenshot(page, "lottery-page")
    page.goto(f"{base}/lotteries/schedule")
    expect(page.locator("#scheduler-drawn")).to_contain_text(f"{past.name}, {past.day}")
    screenshot(page, "lottery-schedule")
    assert real_errors(manager_errors) == []
    assert real_errors(participant_errors) == []
