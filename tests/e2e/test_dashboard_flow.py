"""The organiser dashboard in a real Chromium against a real server: a search that finds
one entrant among 100,000, a new entry arriving live, and the page without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from fairdraw.store.draws import enter_keys
from fairdraw.store.keys import Keys
from fairdraw.store.scripts import script_source
from tests.support.app import MANAGER, LiveServer
from tests.support.browser import (
    DEFAULT_TIMEOUT_MS,
    collect_page_errors,
    log_in,
    low_contrast,
    real_errors,
    screenshot,
)

KEYS = Keys()
PRIZES = [{"name": "Keyboard", "quantity": 1}]
ENTRANTS = 100_000
NEEDLE_AT = 54_321
NEEDLE = "Zed-Needle"
DASHBOARD_TEXT = [
    "h1.title",
    ".fd-chart-summary",
    ".fd-dash-entries th",
    ".fd-dash-entries td",
    ".label",
    ".help",
    "#search-count",
    ".fd-facts dt",
]


def manager_client(base: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=10)
    response = client.post("/api/v1/session", json={"username": MANAGER[0], "password": MANAGER[1]})
    assert response.status_code == 200, response.text
    return client, str(response.json()["csrf_token"])


def open_giveaway(base: str) -> str:
    manager, csrf = manager_client(base)
    try:
        created = manager.post(
            "/api/v1/draws",
            json={"title": "Conference giveaway", "prizes": PRIZES, "open": True},
            headers={"X-CSRF-Token": csrf},
        )
    finally:
        manager.close()
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def entrant_name(n: int) -> str:
    """Names spread over the search buckets like real logins, one of them the needle."""
    if n == NEEDLE_AT:
        return NEEDLE
    return f"{(n * 2_654_435_761) % 2**32:08x}-dev"


def fill(redis_sync: Any, draw_id: str, count: int) -> None:
    """Enter ``count`` entrants through the real enter script, pipelined."""
    sha = redis_sync.script_load(script_source("enter"))
    for start in range(0, count, 5_000):
        with redis_sync.pipeline(transaction=False) as pipe:
            for n in range(start, min(start + 5_000, count)):
                label = entrant_name(n)
                keys = enter_keys(KEYS, draw_id, label)
                pipe.evalsha(sha, len(keys), *keys, f"gh:{10_000_000 + n}", label, 0, 0)
            pipe.execute()


def test_a_search_finds_one_entrant_among_a_hundred_thousand_and_entries_arrive_live(
    live_server: LiveServer, redis_sync: Any, page: Page
) -> None:
    base = live_server.url
    draw_id = open_giveaway(base)
    fill(redis_sync, draw_id, ENTRANTS)
    errors = collect_page_errors(page)

    log_in(page, base, MANAGER)
    page.goto(f"{base}/draws/{draw_id}")
    page.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(f"{base}/draws/{draw_id}/dashboard")
    expect(page.locator("main[data-live-state='live']")).to_be_attached()
    expect(page.locator("#dashboard-chart canvas")).to_be_visible()
    expect(page.locator("#chart-summary")).to_contain_text(f"{ENTRANTS:,} entries in the last hour")
    expect(page.locator("#dashboard-count")).to_have_text(f"{ENTRANTS:,}")
    expect(page.locator("#recent-entries tr")).to_have_count(20)

    # Keyboard only: focus the search field, type, press Enter.
    page.get_by_label("GitHub login or account name").focus()
    page.keyboard.type("zed-n")
    page.keyboard.press("Enter")
    results = page.locator("#search-results")
    expect(results).to_have_attribute("aria-live", "polite")
    expect(results.locator("#search-count")).to_have_text(
        "1 found for \u201czed-n\u201d, newest first."
    )
    rows = results.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(NEEDLE)
    expect(rows.first.locator("td").first).to_have_text(str(NEEDLE_AT + 1))
    expect(page).to_have_url(re.compile(r"\?q=zed-n$"))

    # A new entrant, entered the ordinary way, appears without a reload.
    page.evaluate("window.__notReloaded = true")
    live_server.github.add_user("octocat", 583231, "The Octocat")
    entered = httpx.post(f"{base}/api/v1/draws/{draw_id}/entries", json={"github": "octocat"})
    assert entered.status_code == 201, entered.text
    first = page.locator("#recent-entries tr").first
    expect(first).to_contain_text("octocat", timeout=2000)
    expect(first.locator("td").first).to_have_text(str(ENTRANTS + 1))
    expect(page.locator("#recent-entries tr")).to_have_count(20)
    expect(page.locator("#dashboard-count")).to_have_text(f"{ENTRANTS + 1:,}")
    expect(page.locator("#chart-summary")).to_contain_text(f"{ENTRANTS + 1:,} entries")
    assert page.evaluate("window.__notReloaded === true")
    screenshot(page, "dashboard-giveaway")

    # Closing it elsewhere: the page swaps in its new state, and the chart is drawn again.
    manager, csrf = manager_client(base)
    try:
        closed = manager.post(f"/api/v1/draws/{draw_id}/close", headers={"X-CSRF-Token": csrf})
    finally:
        manager.close()
    assert closed.status_code == 200, closed.text
    expect(page.get_by_text("Entries closed \u2014 waiting for the draw")).to_be_visible()
    expect(page.get_by_role("button", name="Draw winners")).to_be_visible()
    expect(page.locator("#dashboard-chart canvas")).to_be_visible()
    expect(page.locator("#proof-status")).to_contain_text("Sealed")
    assert page.evaluate("window.__notReloaded === true")

    assert low_contrast(page, DASHBOARD_TEXT) == {}
    assert real_errors(errors) == []


def test_the_dashboard_works_without_javascript(
    live_server: LiveServer, redis_sync: Any, browser: Browser
) -> None:
    base = live_server.url
    draw_id = open_giveaway(base)
    fill(redis_sync, draw_id, 30)
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = context.new_page()
        log_in(page, base, MANAGER)
        page.goto(f"{base}/draws/{draw_id}/dashboard")
        # The chart's numbers are a table, shown open; the canvas never appears.
        expect(page.locator("#dashboard-chart")).to_be_hidden()
        expect(page.locator("#chart-rows tr")).to_have_count(60)
        expect(page.locator("#chart-rows")).to_be_visible()
        page.get_by_label("GitHub login or account name").fill(entrant_name(7)[:5])
        page.get_by_role("button", name="Search").click()
        page.wait_for_load_state()
        expect(page.locator("#search-results tbody tr").first).to_contain_text(entrant_name(7))
        page.get_by_role("link", name="Whole draw").click()
        expect(page).to_have_url(re.compile(r"window=all"))
        expect(page.locator("#chart-summary")).to_contain_text("30 entries over the whole draw")
    finally:
        context.close()
