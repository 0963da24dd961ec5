"""The presenter page in a real Chromium against a real server: the organiser's big screen
starts the draw and reveals the winners one by one from the keyboard, a clicker and the
buttons, while an audience member's draw page follows each step live."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Route,
    ViewportSize,
    expect,
)

from tests.support.app import MANAGER, LiveServer
from tests.support.browser import (
    DEFAULT_TIMEOUT_MS,
    collect_page_errors,
    low_contrast,
    real_errors,
    screenshot,
)

ENTRANTS = [("octocat", 583231, "The Octocat"), ("hubot", 480938, "Hubot"), ("monalisa", 2, None)]
PRIZES = [{"name": "Mechanical keyboard", "quantity": 1}, {"name": "Sticker pack", "quantity": 2}]
# How long an audience page may lag behind the presenter.
FOLLOW_MS = 3000
BIG_SCREEN: ViewportSize = {"width": 1920, "height": 1080}


INTRO_TEXT = [
    ".fd-present-back",
    ".fd-present-mode",
    ".fd-present-kicker",
    ".fd-present-title",
    ".fd-present-prizes li",
    ".fd-present-times",
    ".fd-present-number",
    ".fd-present-state",
    ".fd-present-commitment p",
    ".fd-present-hash",
    ".fd-present-start .button",
    ".fd-present-disclaimer",
]
STAGE_TEXT = [
    ".fd-spotlight-number",
    ".fd-spotlight-prize",
    ".fd-spotlight-name",
    ".fd-present-winners .fd-reveal-prize",
    ".fd-present-winners .fd-reveal-name",
    ".fd-present-progress",
    ".fd-present-controls .button.is-primary",
    ".fd-present-keys",
]
SUMMARY_TEXT = [
    ".fd-present-subheading",
    ".fd-present-list .fd-reveal-prize",
    ".fd-present-list .fd-reveal-name",
    ".fd-present-list .fd-reveal-detail",
    ".fd-present-qr figcaption",
    ".fd-present-qr a",
]
PANEL_TEXT = [
    "#reveal-heading",
    ".fd-reveal-progress",
    ".fd-reveal-box .fd-reveal-prize",
    ".fd-reveal-box .fd-reveal-name",
    ".fd-reveal-box .help",
]


def animation(locator: Locator) -> str:
    """The CSS animation an element plays ("none" for none)."""
    name: str = locator.evaluate("element => getComputedStyle(element).animationName")
    return name


def avatar(route: Route) -> None:
    """GitHub's avatar CDN, answered locally with a plain disc."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">'
        '<circle cx="4" cy="4" r="4" fill="#1565c0"/></svg>'
    )
    route.fulfill(status=200, content_type="image/svg+xml", body=svg)


@pytest.fixture
def audience(browser: Browser) -> Iterator[BrowserContext]:
    """Someone in the audience with the public draw page open: never logged in, and
    with animations on."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.route("https://avatars.githubusercontent.com/**", avatar)
    try:
        yield context
    finally:
        context.close()


def api_login(page: Page, base: str, credentials: tuple[str, str]) -> str:
    """Log the page's browser in through the API; returns its CSRF token."""
    response = page.request.post(
        f"{base}/api/v1/session",
        data={"username": credentials[0], "password": credentials[1]},
    )
    assert response.ok, response.text()
    token: str = response.json()["csrf_token"]
    return token


def enter(context: BrowserContext, base: str, draw_id: str, login: str) -> None:
    response = context.request.post(
        f"{base}/api/v1/draws/{draw_id}/entries", data={"github": login}
    )
    assert response.status == 201, response.text()


def stored(page: Page, base: str, draw_id: str) -> dict[str, Any]:
    response = page.request.get(f"{base}/api/v1/draws/{draw_id}")
    assert response.ok
    draw: dict[str, Any] = response.json()
    return draw


def test_the_audience_follows_the_presenter_step_by_step(
    live_server: LiveServer, page: Page, audience: BrowserContext
) -> None:
    base = live_server.url
    for login, user_id, name in [*ENTRANTS, ("mona", 3, "Mona Lisa Octocat")]:
        live_server.github.add_user(login, user_id, name)
    page.set_viewport_size(BIG_SCREEN)
    page.context.route("https://avatars.githubusercontent.com/**", avatar)
    presenter_errors = collect_page_errors(page)

    csrf = api_login(page, base, MANAGER)
    created = page.request.post(
        f"{base}/api/v1/draws",
        data={"title": "Meetup #42 giveaway", "prizes": PRIZES, "open": True},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status == 201, created.text()
    draw_id = created.json()["id"]
    for login, _, _ in ENTRANTS:
        enter(audience, base, draw_id, login)

    # Before the draw: title, prizes, the entry count (live) and the commitment.
    page.goto(f"{base}/draws/{draw_id}/present")
    expect(page.get_by_role("heading", name="Meetup #42 giveaway")).to_be_visible()
    expect(page.get_by_text("Sticker pack")).to_be_visible()
    count = page.locator("[data-present-count]")
    expect(count).to_have_text("3")
    expect(page.get_by_text(created.json()["commitment"])).to_be_visible()
    expect(page.get_by_text("it decides nothing")).to_be_visible()
    expect(page.locator("main")).to_have_attribute("data-live-state", "live")
    enter(audience, base, draw_id, "mona")
    expect(count).to_have_text("4", timeout=FOLLOW_MS)
    screenshot(page, "presenter-before")
    assert low_contrast(page, INTRO_TEXT, reload=False) == {}

    viewer = audience.new_page()
    viewer_errors = collect_page_errors(viewer)
    viewer.goto(f"{base}/draws/{draw_id}")
    expect(viewer.locator("main")).to_have_attribute("data-live-state", "live")
    panel = viewer.locator("[data-reveal-box]")
    expect(panel).to_be_hidden()
    # A venue screen showing the presenter page in audience mode, open before the draw.
    screen = audience.new_page()
    screen_errors = collect_page_errors(screen)
    screen.goto(f"{base}/draws/{draw_id}/present")
    expect(screen.get_by_text("follows the presenter")).to_be_visible()
    expect(screen.get_by_role("button", name="Close entries and draw winners")).to_have_count(0)
    expect(screen.locator("main")).to_have_attribute("data-live-state", "live")

    # The big screen's one button closes entries and draws.
    page.get_by_role("button", name="Close entries and draw winners").click()
    expect(page.locator("[data-present-state]")).to_have_text(
        "Winners drawn \u2014 ready to reveal"
    )
    first = page.get_by_role("button", name="Reveal the first prize \u2192")
    expect(first).to_be_enabled()
    draw = stored(page, base, draw_id)
    assert draw["status"] == "drawn"
    winners = sorted(draw["result"]["winners"], key=lambda w: w["slot"])
    names = [w["name"] or w["login"] for w in winners]
    assert len(names) == 3
    expect(screen.locator("[data-present-state]")).to_have_text(
        "Winners drawn \u2014 ready to reveal", timeout=FOLLOW_MS
    )
    # Drawn, but nobody is revealed yet: the audience's panel waits for the presenter.
    expect(panel).to_be_hidden()

    spotlight = page.locator("[data-reveal-spotlight]")
    progress = viewer.locator("[data-reveal-progress]")
    revealed = viewer.locator("[data-reveal-list] .fd-reveal-name")
    # Right arrow, a clicker's Page Down, then the button: one prize each.
    for number, advance in enumerate(["ArrowRight", "PageDown"], start=1):
        page.keyboard.press(advance)
        expect(spotlight.locator(".fd-spotlight-name")).to_have_text(names[number - 1])
        expect(spotlight).to_contain_text(PRIZES[0 if number == 1 else 1]["name"])
        expect(progress).to_have_text(f"{number} of 3 prizes revealed", timeout=FOLLOW_MS)
        expect(revealed).to_have_text(names[:number])
        expect(viewer.locator("[data-reveal-announce]")).to_contain_text(names[number - 1])
        expect(screen.locator("[data-reveal-spotlight] .fd-spotlight-name")).to_have_text(
            names[number - 1], timeout=FOLLOW_MS
        )
        if number == 1:
            # Movement only for those who did not ask for less: the presenter's browser
            # asks for reduced motion, the audience's does not.
            assert animation(page.locator(".fd-spotlight")) == "none"
            assert animation(viewer.locator(".fd-reveal-item.fd-reveal-new")) == "fd-reveal-rise"
            screenshot(page, "presenter-winner")
            screenshot(viewer, "audience-live-reveal")
            assert low_contrast(page, STAGE_TEXT, reload=False) == {}
            assert low_contrast(viewer, PANEL_TEXT, reload=False) == {}
    page.get_by_role("button", name="Next prize \u2192").click()

    # The summary: every winner and the QR code of the public results.
    expect(page.get_by_role("heading", name="All winners")).to_be_visible()
    expect(spotlight).to_be_hidden()
    expect(page.locator("[data-reveal-list] .fd-reveal-name")).to_have_text(names)
    qr = page.locator("[data-reveal-qr] svg.fd-qr")
    expect(qr).to_be_visible()
    results_url = f"{base}/draws/{draw_id}/results"
    expect(page.get_by_role("link", name=results_url)).to_be_visible()
    expect(progress).to_have_text("All prizes revealed.", timeout=FOLLOW_MS)
    expect(revealed).to_have_text(names)
    expect(viewer.locator("[data-reveal-announce]")).to_contain_text("All winners revealed.")
    screenshot(page, "presenter-summary")
    assert low_contrast(page, SUMMARY_TEXT, reload=False) == {}

    # Page Up goes back one prize, for everyone.
    page.keyboard.press("PageUp")
    expect(page.locator("[data-reveal-spotlight] .fd-spotlight-name")).to_have_text(names[1])
    expect(progress).to_have_text("2 of 3 prizes revealed", timeout=FOLLOW_MS)
    expect(revealed).to_have_text(names[:2])
    page.keyboard.press("ArrowLeft")
    expect(progress).to_have_text("1 of 3 prizes revealed", timeout=FOLLOW_MS)
    assert_step(page, base, draw_id, 1)

    # Quick presses are stored in order and end where the presenter stopped.
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(progress).to_have_text("All prizes revealed.", timeout=FOLLOW_MS)
    expect(page.get_by_role("heading", name="All winners")).to_be_visible()
    assert_step(page, base, draw_id, 3)

    expect(screen.get_by_role("heading", name="All winners")).to_be_visible(timeout=FOLLOW_MS)
    expect(screen.locator("[data-reveal-qr] svg.fd-qr")).to_be_visible()

    # A step taken from another device (the organiser's phone) shows on the big screen.
    phone = page.request.post(
        f"{base}/api/v1/draws/{draw_id}/reveal", data={"step": 1}, headers={"X-CSRF-Token": csrf}
    )
    assert phone.ok, phone.text()
    expect(spotlight.locator(".fd-spotlight-name")).to_have_text(names[0], timeout=FOLLOW_MS)
    expect(page.get_by_role("button", name="Next prize \u2192")).to_be_enabled()
    expect(progress).to_have_text("1 of 3 prizes revealed", timeout=FOLLOW_MS)
    page.get_by_role("button", name="Next prize \u2192").click()
    page.keyboard.press(" ")
    expect(progress).to_have_text("All prizes revealed.", timeout=FOLLOW_MS)
    assert_step(page, base, draw_id, 3)

    # A late viewer gets the same summary from the server, JavaScript or not.
    late = audience.new_page()
    late.goto(f"{base}/draws/{draw_id}/present")
    expect(late.get_by_role("heading", name="All winners")).to_be_visible()
    expect(late.get_by_role("button", name=re.compile("Next prize"))).to_have_count(0)
    expect(late.get_by_text("follows the presenter")).to_be_visible()
    late.close()

    assert real_errors(presenter_errors) == []
    assert real_errors(viewer_errors) == []
    assert real_errors(screen_errors) == []


def assert_step(page: Page, base: str, draw_id: str, step: int) -> None:
    """The stored step reaches ``step`` (requests are sent one after another)."""
    for _ in range(50):
        if stored(page, base, draw_id)["reveal_step"] == step:
            return
        page.wait_for_timeout(100)
    assert stored(page, base, draw_id)["reveal_step"] == step
