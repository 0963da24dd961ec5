"""A whole giveaway in a real Chromium against a real server: an organiser on a laptop,
entrants on a phone, and the results page with its proof."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, ViewportSize, expect

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
ENTRANTS = [("octocat", 583231, "The Octocat"), ("hubot", 480938, "Hubot"), ("monalisa", 2, None)]
_AVATAR_COLOURS = ("#00695c", "#6a1b9a", "#ad1457", "#1565c0")


def fake_avatar(route: Route) -> None:
    """GitHub's avatar CDN, answered locally: a coloured disc per user id."""
    match = re.search(r"/u/(\d+)", route.request.url)
    user_id = int(match[1]) if match else 0
    colour = _AVATAR_COLOURS[user_id % len(_AVATAR_COLOURS)]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96">'
        f'<rect width="96" height="96" fill="{colour}"/>'
        '<circle cx="48" cy="38" r="18" fill="#fff"/><rect x="20" y="62" width="56" height="34"'
        ' rx="17" fill="#fff"/></svg>'
    )
    route.fulfill(status=200, content_type="image/svg+xml", body=svg)


DRAW_PAGE_TEXT = [
    "h1.title",
    ".tag",
    ".fd-description p",
    ".label",
    ".help",
    ".button.is-primary",
    ".fd-prizes li",
    ".fd-facts dt",
    ".fd-facts dd",
    ".fd-hash",
]
RESULTS_PAGE_TEXT = [
    ".fd-result-heading",
    ".fd-result-subheading",
    ".fd-meta span",
    ".fd-prize-name",
    ".fd-person-name",
    ".fd-handle",
    ".button.is-link",
    ".buttons .button:not(.is-link)",
    ".fd-facts dt",
    ".fd-hash",
    ".fd-command code",
    ".fd-checks dt",
    ".fd-checks dd",
]


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    """An entrant's phone: a second browser context with its own cookies."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.route("https://avatars.githubusercontent.com/**", fake_avatar)
    try:
        yield context
    finally:
        context.close()


def create_giveaway(page: Page) -> str:
    """Fill the new-draw form (two prizes, saved as a draft); returns the draw's URL."""
    page.get_by_role("link", name="New draw").first.click()
    page.wait_for_load_state()
    page.get_by_label("Title").fill("Meetup #42 giveaway")
    page.get_by_label("Description (optional)").fill("Two prizes for tonight's attendees.")
    page.get_by_label("Prize 1").fill("Mechanical keyboard")
    page.get_by_label("Prize 2").fill("Sticker pack")
    page.locator("[id='prizes.1.quantity']").fill("2")
    page.get_by_label("Open for entries now").uncheck()
    press(page, "Create draw")
    expect(page).to_have_url(re.compile(r"/draws/[a-z2-7]{12}$"))
    expect(page.get_by_text("Draft — not open yet")).to_be_visible()
    return page.url


def test_giveaway_from_creation_to_results(
    live_server: LiveServer,
    admin_credentials: tuple[str, str],
    page: Page,
    phone: BrowserContext,
) -> None:
    base = live_server.url
    for login, user_id, name in ENTRANTS:
        live_server.github.add_user(login, user_id, name)
    page.context.route("https://avatars.githubusercontent.com/**", fake_avatar)
    organiser_errors = collect_page_errors(page)

    log_in(page, base, admin_credentials)
    draw_url = create_giveaway(page)
    press(page, "Open for entries")
    expect(page.get_by_text("Open for entries", exact=True)).to_be_visible()
    commitment = page.locator("#commitment").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", commitment)

    entrant = phone.new_page()
    entrant_errors = collect_page_errors(entrant)
    for index, (login, _, _) in enumerate(ENTRANTS):
        entrant.goto(draw_url)
        if index == 0:
            expect(entrant.get_by_label("Your GitHub username")).to_be_visible()
            screenshot(entrant, "draw-phone")
        entrant.get_by_label("Your GitHub username").fill(login)
        press(entrant, "Enter the draw")
        expect(entrant.get_by_text("You\u2019re in!")).to_be_visible()
        expect(entrant.locator(".fd-entry-number")).to_have_text(str(index + 1))
    screenshot(entrant, "receipt-phone")
    entrant.goto(draw_url)
    expect(entrant.locator(".fd-entry-count")).to_have_text("3")
    assert low_contrast(entrant, DRAW_PAGE_TEXT) == {}

    page.reload()
    press(page, "Close entries")
    expect(page.get_by_text("Sealed entry list")).to_be_visible()
    press(page, "Draw winners")
    expect(page).to_have_url(f"{draw_url}/results")
    expect(page.get_by_role("heading", name="Winners")).to_be_visible()
    expect(page.get_by_role("heading", name="Mechanical keyboard")).to_be_visible()
    winners = page.locator(".fd-winners .fd-person-name").all_inner_texts()
    assert sorted(winners) == sorted(name or login for login, _, name in ENTRANTS)
    # Each winner has an avatar, or its initials where the image cannot load.
    expect(page.locator(".fd-winners .fd-avatar")).to_have_count(len(ENTRANTS))
    expect(page.get_by_text("fairdraw verify fairdraw-")).to_be_visible()
    screenshot(page, "results")
    assert low_contrast(page, RESULTS_PAGE_TEXT) == {}

    entrant.goto(f"{draw_url}/results")
    expect(entrant.get_by_role("heading", name="Winners")).to_be_visible()
    screenshot(entrant, "results-phone")

    proof_href = page.get_by_role("link", name="Download proof").get_attribute("href")
    assert proof_href is not None
    proof = page.request.get(f"{base}{proof_href}")
    assert proof.ok
    bundle = json.loads(proof.body())
    assert bundle["algorithm"] == "fairdraw/2"
    assert bundle["beacon"] is None  # the test server runs with FAIRDRAW_BEACON=none
    assert bundle["commitment"] == commitment
    entries_href = page.get_by_role("link", name="Download entries").get_attribute("href")
    entries = page.request.get(f"{base}{entries_href}")
    assert entries.ok
    assert len(entries.text().splitlines()) == len(ENTRANTS)
    assert real_errors(organiser_errors) == []
    assert real_errors(entrant_errors) == []
