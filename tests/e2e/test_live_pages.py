"""Live public pages in a real Chromium: counts and states change without a reload."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.support.app import MANAGER, LiveServer
from tests.support.browser import DEFAULT_TIMEOUT_MS, collect_page_errors, press, real_errors

PRIZES = [{"name": "Keyboard", "quantity": 1}]


def manager_client(base: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=10)
    response = client.post("/api/v1/session", json={"username": MANAGER[0], "password": MANAGER[1]})
    assert response.status_code == 200, response.text
    return client, str(response.json()["csrf_token"])


def mark_page(page: Page) -> None:
    """Leave a mark in the page's JavaScript world: a reload would wipe it."""
    page.evaluate("window.__notReloaded = true")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.__notReloaded === true"))


def test_a_watcher_sees_entries_and_each_state_without_reloading(
    live_server: LiveServer, page: Page, browser: Browser
) -> None:
    base = live_server.url
    live_server.github.add_user("octocat", 583231, "The Octocat")
    manager, csrf = manager_client(base)
    created = manager.post(
        "/api/v1/draws",
        json={"title": "Live night", "prizes": PRIZES, "open": True},
        headers={"X-CSRF-Token": csrf},
    )
    draw_id = created.json()["id"]
    watcher_errors = collect_page_errors(page)
    page.goto(f"{base}/draws/{draw_id}")
    expect(page.locator("main[data-live-state='live']")).to_be_attached()
    mark_page(page)

    entrant_context = browser.new_context()
    entrant_context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        entrant = entrant_context.new_page()
        entrant.goto(f"{base}/draws/{draw_id}")
        entrant.get_by_label("Your GitHub username").fill("octocat")
        press(entrant, "Enter the draw")
        expect(entrant.get_by_text("You\u2019re in!")).to_be_visible()
    finally:
        entrant_context.close()
    # Within a second of the entry's acknowledgement.
    expect(page.locator(".fd-entry-count")).to_have_text("1", timeout=1000)

    closed = manager.post(f"/api/v1/draws/{draw_id}/close", headers={"X-CSRF-Token": csrf})
    assert closed.status_code == 200
    expect(page.locator(".notification", has_text="Entries are closed.")).to_be_visible()
    expect(page.get_by_text("Sealed entry list")).to_be_visible()
    # Screen readers hear the change politely.
    expect(page.locator("[role=status][aria-live=polite]").last).to_have_text(
        "The list of entries is sealed."
    )
    drawn = manager.post(f"/api/v1/draws/{draw_id}/draw", headers={"X-CSRF-Token": csrf})
    assert drawn.status_code == 200
    expect(page.locator(".notification", has_text="The winners have been drawn.")).to_be_visible()
    expect(page.get_by_role("link", name="See the winners")).to_be_visible()
    assert not_reloaded(page)
    assert real_errors(watcher_errors) == []


def test_a_raffle_page_counts_tickets_down_live(
    live_server: LiveServer, page: Page, browser: Browser
) -> None:
    base = live_server.url
    manager, csrf = manager_client(base)
    created = manager.post(
        "/api/v1/raffles",
        json={"title": "Tombola", "prizes": PRIZES, "ticket_count": 50, "open": True},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201, created.text
    draw_id = created.json()["id"]
    page.goto(f"{base}/draws/{draw_id}")
    expect(page.locator("main[data-live-state='live']")).to_be_attached()
    mark_page(page)
    claimed = httpx.post(f"{base}/api/v1/draws/{draw_id}/tickets")
    assert claimed.status_code == 201, claimed.text
    expect(page.locator(".fd-tickets-left")).to_have_text("49", timeout=1000)
    assert not_reloaded(page)
