"""A whole raffle in a real Chromium against a real server: an organiser on a laptop, two
ticket holders on their phones, the ticket card, the draw and the checks afterwards."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.support.app import LiveServer
from tests.support.browser import (
    DEFAULT_TIMEOUT_MS,
    collect_page_errors,
    log_in,
    low_contrast,
    press,
    real_errors,
    screenshot,
)

PHONE: ViewportSize = {"width": 390, "height": 844}
RAFFLE_TITLE = "School fair raffle"
PRIZE = "Hamper"

RAFFLE_PAGE_TEXT = [
    "h1.title",
    ".tag",
    ".fd-description p",
    ".fd-tickets-left-line",
    ".fd-tickets-left",
    ".button.is-primary",
    ".fd-check-link",
    ".fd-prizes li",
    ".fd-facts dt",
    ".fd-facts dd",
    ".fd-hash",
]
TICKET_CARD_TEXT = [
    ".fd-once .title",
    ".fd-once p:not(.title)",
    ".fd-ticket-kind",
    ".fd-ticket-title",
    ".fd-ticket-label",
    ".fd-ticket-number",
    ".fd-ticket-code",
    ".fd-ticket-url",
    ".button.is-link",
    ".button.is-primary",
]
CHECK_PAGE_TEXT = [
    ".fd-kind a",
    "h1.title",
    ".label",
    ".help",
    ".fd-outcome .title",
    ".fd-outcome p:not(.title)",
    ".button.is-primary",
]


@dataclass(frozen=True)
class HeldTicket:
    """A ticket as its holder noted it from the card."""

    page: Page
    number: int
    code: str


@pytest.fixture
def phones(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Ticket holders' phones: each call is another browser context with its own cookies
    and a clipboard the page may write and the test may read."""
    contexts: list[BrowserContext] = []

    def new_phone() -> BrowserContext:
        context = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            reduced_motion="reduce",
            permissions=["clipboard-read", "clipboard-write"],
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context

    try:
        yield new_phone
    finally:
        for context in contexts:
            context.close()


def create_raffle(page: Page, base: str) -> str:
    """Fill the new-raffle form: three tickets, one prize, open now; returns its URL.

    Every browser of this test reaches the server from 127.0.0.1, and an anyone-can-claim
    raffle counts tickets per network address: three tickets per person let the two
    phones (one address) claim all three tickets between them.
    """
    page.goto(f"{base}/")
    page.get_by_role("link", name="New raffle").click()
    page.wait_for_load_state()
    expect(page.get_by_role("link", name="Raffle")).to_have_attribute("aria-current", "page")
    page.get_by_label("Title").fill(RAFFLE_TITLE)
    page.get_by_label("Description (optional)").fill("One hamper, drawn at 4pm by the head.")
    page.get_by_label("Prize 1").fill(PRIZE)
    page.get_by_label("Number of tickets").fill("3")
    page.get_by_label("Tickets per person").fill("3")
    expect(page.get_by_label("Anyone, without an account")).to_be_checked()
    expect(page.get_by_label("Allow closing before every ticket is claimed")).not_to_be_checked()
    expect(page.get_by_label("Open for claims now")).to_be_checked()
    screenshot(page, "raffle-new")
    press(page, "Create raffle")
    expect(page).to_have_url(re.compile(r"/draws/[a-z2-7]{12}$"))
    expect(page.get_by_text("Open — tickets available")).to_be_visible()
    return page.url


def claim(page: Page, raffle_url: str, left_before: int) -> HeldTicket:
    """Claim a ticket from the raffle page and read the card."""
    page.goto(raffle_url)
    expect(page.locator(".fd-tickets-left")).to_have_text(str(left_before))
    press(page, "Claim a ticket")
    expect(page.get_by_role("heading", name=RAFFLE_TITLE)).to_be_visible()
    expect(page.get_by_text("Keep this code")).to_be_visible()
    number = int(page.locator("#ticket-number").inner_text())
    code = page.locator("#ticket-code").inner_text().strip()
    assert 1 <= number <= 3
    assert re.fullmatch(r"[A-Z2-7]{5}(-[A-Z2-7]{5}){3}-[A-Z2-7]{6}", code), code
    return HeldTicket(page, number, code)


def check_ticket(held: HeldTicket, raffle_url: str) -> str:
    """Check a ticket on the verify form; returns the outcome's heading."""
    page = held.page
    page.goto(raffle_url)
    page.get_by_role("link", name="Check your ticket").first.click()
    page.wait_for_load_state()
    page.get_by_label("Ticket number").fill(str(held.number))
    page.get_by_label("Verification code").fill(held.code)
    press(page, "Check ticket")
    return page.locator("#outcome .title").inner_text()


def test_raffle_from_creation_to_checked_tickets(
    live_server: LiveServer,
    admin_credentials: tuple[str, str],
    page: Page,
    phones: Callable[[], BrowserContext],
    tmp_path: Path,
) -> None:
    base = live_server.url
    organiser_errors = collect_page_errors(page)
    log_in(page, base, admin_credentials)
    raffle_url = create_raffle(page, base)
    commitment = page.locator("#commitment").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", commitment)
    expect(
        page.get_by_text("This raffle closes by itself when its last ticket is claimed.")
    ).to_be_visible()
    screenshot(page, "raffle-organiser")

    first_phone, second_phone = phones(), phones()
    first, second = first_phone.new_page(), second_phone.new_page()
    holder_errors = [collect_page_errors(first), collect_page_errors(second)]

    first.goto(raffle_url)
    expect(first.get_by_text("3 of 3 tickets left")).to_be_visible()
    screenshot(first, "raffle-phone")
    assert low_contrast(first, RAFFLE_PAGE_TEXT) == {}

    mine = claim(first, raffle_url, left_before=3)
    screenshot(first, "ticket-phone")
    assert low_contrast(first, TICKET_CARD_TEXT, reload=False) == {}

    # Download: a text file with everything needed to check the ticket later.
    with first.expect_download() as download_info:
        first.get_by_role("link", name="Download ticket").click()
    download = download_info.value
    draw_id = raffle_url.rsplit("/", 1)[1]
    assert download.suggested_filename == f"fairdraw-{draw_id}-ticket-{mine.number}.txt"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    ticket_file = saved.read_bytes().decode("utf-8")
    assert f"Raffle:            {RAFFLE_TITLE}\r\n" in ticket_file
    assert f"Raffle page:       {raffle_url}\r\n" in ticket_file
    assert f"Ticket number:     {mine.number}\r\n" in ticket_file
    assert f"Verification code: {mine.code}\r\n" in ticket_file

    # Copy: the code lands on the clipboard.
    first.get_by_role("button", name="Copy code").click()
    expect(first.get_by_text("Copied.")).to_be_visible()
    assert first.evaluate("navigator.clipboard.readText()") == mine.code

    # Print: the script shows the button; printing shows the card alone.
    expect(first.get_by_role("button", name="Print ticket")).to_be_visible()
    screen_only = [
        first.locator(s)
        for s in (".fd-navbar", ".fd-once", "a[download$='.txt']", ".fd-signed-receipt")
    ]
    for element in screen_only:
        expect(element).to_be_visible()
    first.emulate_media(media="print")
    expect(first.locator(".fd-ticket")).to_be_visible()
    expect(first.locator("#ticket-code")).to_be_visible()
    for element in screen_only:
        expect(element).to_be_hidden()
    screenshot(first, "ticket-print")
    first.emulate_media(media="screen")

    first.goto(f"{base}/")
    listed = first.locator(".fd-draw-list li", has_text=RAFFLE_TITLE)
    expect(listed.locator(".fd-kind")).to_have_text("Kind: Raffle")
    expect(listed).to_contain_text("2 of 3 tickets left")
    screenshot(first, "home-phone")

    yours = claim(second, raffle_url, left_before=2)
    last = claim(second, raffle_url, left_before=1)
    expect(second.get_by_text("You claimed the last ticket")).to_be_visible()
    assert sorted([mine.number, yours.number, last.number]) == [1, 2, 3]

    first.goto(raffle_url)
    expect(first.get_by_text("Sold out — waiting for the draw")).to_be_visible()
    expect(first.get_by_text("All 3 tickets have been claimed.")).to_be_visible()
    expect(first.get_by_role("button", name="Claim a ticket")).to_have_count(0)

    page.reload()
    expect(page.get_by_text("Sealed ticket list")).to_be_visible()
    press(page, "Draw winners")
    expect(page).to_have_url(f"{raffle_url}/results")
    expect(page.get_by_role("heading", name="Winners")).to_be_visible()
    expect(page.get_by_role("heading", name=PRIZE)).to_be_visible()
    winners = page.locator(".fd-winners .fd-person-name").all_inner_texts()
    assert len(winners) == 1
    winning = int(winners[0].removeprefix("Ticket").strip())
    assert winning in (mine.number, yours.number, last.number)
    expect(page.locator(".fd-winners img")).to_have_count(0)
    screenshot(page, "raffle-results")

    for held in (mine, yours, last):
        heading = check_ticket(held, raffle_url)
        won = held.number == winning
        # The other two: the one alternate sees its rank, the last ticket that it lost.
        assert heading in ((f"Won: {PRIZE}",) if won else ("Not a winner", "Alternate #1"))
        # Each outcome has its own colours: one winner and two others are all looked at.
        assert low_contrast(held.page, CHECK_PAGE_TEXT, reload=False) == {}
        screenshot(held.page, f"ticket-check-{'won' if won else 'not-won'}-phone")

    assert real_errors(organiser_errors) == []
    for errors in holder_errors:
        assert real_errors(errors) == []
