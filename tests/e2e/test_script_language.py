"""What the page scripts write and announce is in the page's language: a German browser
follows a draw live, presents it and verifies it, in Chromium, and the words come from
the page's JSON data block without any Content-Security-Policy violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.support.app import MANAGER, LiveServer
from tests.support.browser import DEFAULT_TIMEOUT_MS, VIEWPORT, collect_page_errors, real_errors

ENTRANTS = [("octocat", 583231, "The Octocat"), ("hubot", 480938, "Hubot"), ("monalisa", 2, None)]
PRIZES = [{"name": "Tastatur", "quantity": 1}, {"name": "Aufkleber", "quantity": 1}]
FOLLOW_MS = 3000
# Every Content-Security-Policy violation the page sees, kept where the test can read it.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def avatar(route: Route) -> None:
    """GitHub's avatar CDN, answered locally with a plain disc."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">'
        '<circle cx="4" cy="4" r="4" fill="#1565c0"/></svg>'
    )
    route.fulfill(status=200, content_type="image/svg+xml", body=svg)


def german_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport=VIEWPORT, locale="de-DE", reduced_motion="reduce")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.route("https://avatars.githubusercontent.com/**", avatar)
    context.add_init_script(WATCH_CSP)
    return context


@pytest.fixture
def organiser(browser: Browser) -> Iterator[BrowserContext]:
    context = german_context(browser)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def audience(browser: Browser) -> Iterator[BrowserContext]:
    context = german_context(browser)
    try:
        yield context
    finally:
        context.close()


def violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.__cspViolations")
    return found


def test_live_announcements_and_the_reveal_speak_german(
    live_server: LiveServer, organiser: BrowserContext, audience: BrowserContext
) -> None:
    base = live_server.url
    for login, user_id, name in ENTRANTS:
        live_server.github.add_user(login, user_id, name)
    presenter = organiser.new_page()
    presenter_errors = collect_page_errors(presenter)
    login = presenter.request.post(
        f"{base}/api/v1/session", data={"username": MANAGER[0], "password": MANAGER[1]}
    )
    assert login.ok, login.text()
    csrf = login.json()["csrf_token"]
    created = presenter.request.post(
        f"{base}/api/v1/draws",
        data={"title": "Adventsverlosung", "prizes": PRIZES, "open": True},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status == 201, created.text()
    draw_id = created.json()["id"]
    for entrant, _, _ in ENTRANTS:
        entered = audience.request.post(
            f"{base}/api/v1/draws/{draw_id}/entries", data={"github": entrant}
        )
        assert entered.status == 201, entered.text()

    viewer = audience.new_page()
    viewer_errors = collect_page_errors(viewer)
    viewer.goto(f"{base}/draws/{draw_id}")
    expect(viewer.locator("html")).to_have_attribute("lang", "de")
    expect(viewer.locator("main")).to_have_attribute("data-live-state", "live")
    words = viewer.locator("#fd-messages")
    expect(words).to_have_attribute("type", "application/json")
    announcer = viewer.locator("body > p.is-sr-only[role=status]")

    presenter.goto(f"{base}/draws/{draw_id}/present")
    expect(presenter.locator("main")).to_have_attribute("data-live-state", "live")
    presenter.get_by_role("button", name="Teilnahme schließen und Gewinner ziehen").click()
    # The presenter's state line and button, written by present.js.
    expect(presenter.locator("[data-present-state]")).to_have_text(
        "Gewinner gezogen \u2014 bereit zur Enthüllung"
    )
    expect(presenter.get_by_role("button", name="Ersten Preis enthüllen \u2192")).to_be_enabled()
    # The audience's page hears it live (live.js) and says so.
    expect(announcer).to_have_text("Die Gewinner wurden gezogen.", timeout=FOLLOW_MS)

    # reveal.js: the spotlight, the progress and the announcement, on both screens.
    presenter.keyboard.press("ArrowRight")
    spotlight = presenter.locator("[data-reveal-spotlight]")
    expect(spotlight.locator(".fd-spotlight-number")).to_have_text("Preis 1")
    expect(presenter.get_by_role("button", name="Nächster Preis \u2192")).to_be_visible()
    progress = viewer.locator("[data-reveal-progress]")
    expect(progress).to_have_text("1 von 2 Preisen enthüllt", timeout=FOLLOW_MS)
    expect(viewer.locator("[data-reveal-announce]")).to_contain_text(
        "Preis 1, Tastatur: ", timeout=FOLLOW_MS
    )
    presenter.keyboard.press("ArrowRight")
    expect(presenter.get_by_role("heading", name="Alle Gewinner")).to_be_visible()
    expect(progress).to_have_text("Alle Preise enthüllt.", timeout=FOLLOW_MS)
    expect(viewer.locator("[data-reveal-announce]")).to_contain_text(
        "Alle Gewinner enthüllt.", timeout=FOLLOW_MS
    )

    # The verify page (verify/page.js) reports the drawn draw in German.
    checker = audience.new_page()
    checker_errors = collect_page_errors(checker)
    checker.goto(
        f"{base}/verify?bundle=/api/v1/draws/{draw_id}/proof"
        f"&entries=/api/v1/draws/{draw_id}/entries.txt"
    )
    expect(checker.locator("#verify-verdict")).to_have_text(
        "BESTANDEN (vertraut dem Betreiber: kein Beacon). Alle Prüfungen bestanden.",
        timeout=60_000,
    )
    expect(checker.locator("#verify-trust")).to_contain_text(
        "Diese Verlosung vertraut ihrem Betreiber."
    )
    expect(checker.locator("#verify-status")).to_have_text("Prüfung abgeschlossen: BESTANDEN.")
    expect(checker.locator("#verify-source")).to_have_text(
        f"Von dieser Website: /api/v1/draws/{draw_id}/proof und /api/v1/draws/{draw_id}/entries.txt"
    )
    winners_check = checker.locator("#verify-checks > li[data-check='winners']")
    expect(winners_check.locator(".fd-verify-status")).to_have_text("Bestanden")
    expect(winners_check.locator(".fd-verify-about")).to_have_text(
        "Der Algorithmus wählt auf der versiegelten Liste erneut dieselben Gewinner."
    )
    assert violations(checker) == []
    assert real_errors(checker_errors) == []

    assert violations(presenter) == []
    assert violations(viewer) == []
    assert real_errors(presenter_errors) == []
    assert real_errors(viewer_errors) == []
