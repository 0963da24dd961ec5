"""The entrant list in a real Chromium against a real server, on a phone-sized screen:
from the draw's page to its entrants, a page at a time, a search, and a CSV download."""

from __future__ import annotations

import csv
from typing import Any

from playwright.sync_api import Browser, expect

from tests.e2e.test_dashboard_flow import entrant_name, fill, open_giveaway
from tests.support.app import MANAGER, LiveServer
from tests.support.browser import collect_page_errors, log_in, real_errors

ENTRANTS = 120


def test_a_manager_pages_searches_and_downloads_the_entrants(
    live_server: LiveServer, redis_sync: Any, browser: Browser
) -> None:
    base = live_server.url
    draw_id = open_giveaway(base)
    fill(redis_sync, draw_id, ENTRANTS)
    with browser.new_context(
        viewport={"width": 390, "height": 844}, accept_downloads=True
    ) as context:
        page = context.new_page()
        errors = collect_page_errors(page)
        log_in(page, base, MANAGER)
        page.goto(f"{base}/draws/{draw_id}")
        page.get_by_role("link", name="Entrants").click()
        expect(page.locator("h1")).to_have_text("Entrants: Conference giveaway")
        expect(page.locator("#entrants-count")).to_have_text(f"1\u201350 of {ENTRANTS}.")
        expect(page.locator("#entrants-table tbody tr")).to_have_count(50)
        expect(page.locator("#entrants-table tbody tr").first.locator("td").nth(1)).to_have_text(
            entrant_name(0)
        )
        page.get_by_role("link", name="Next").click()
        expect(page.locator("#entrants-count")).to_have_text(f"51\u2013100 of {ENTRANTS}.")
        page.get_by_role("link", name="Next").click()
        expect(page.locator("#entrants-table tbody tr")).to_have_count(ENTRANTS - 100)
        expect(page.get_by_role("link", name="Next")).to_have_count(0)

        wanted = entrant_name(77)
        page.get_by_label("GitHub login or account name").fill(wanted[:6])
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#entrants-table tbody tr").first.locator("td").nth(1)).to_have_text(
            wanted
        )
        # The table scrolls inside its box; the page itself fits the phone's width.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        with page.expect_download() as download_info:
            page.get_by_role("link", name="Entrants (CSV)").click()
        download = download_info.value
        assert download.suggested_filename == f"fairdraw-{draw_id}-entrants.csv"
        with download.path().open(encoding="utf-8", newline="") as file:
            rows = list(csv.reader(file))
        assert rows[0][:5] == ["index", "number", "entered_at", "label", "ref"]
        assert [r[3] for r in rows[1:]] == [entrant_name(n) for n in range(ENTRANTS)]
        assert real_errors(errors) == []
