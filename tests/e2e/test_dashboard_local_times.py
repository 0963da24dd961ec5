"""Times the dashboard adds itself, as entries arrive live, read in the reader's own zone
like every other time on the page: a browser in Berlin sees Berlin time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.support.app import MANAGER, LiveServer
from tests.support.browser import DEFAULT_TIMEOUT_MS, collect_page_errors, log_in, real_errors

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def berlin(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(timezone_id="Europe/Berlin", locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def open_giveaway(base: str) -> str:
    """A giveaway in UTC (the default zone), open for entries."""
    with httpx.Client(base_url=base, timeout=10) as manager:
        session = manager.post(
            "/api/v1/session", json={"username": MANAGER[0], "password": MANAGER[1]}
        )
        assert session.status_code == 200, session.text
        created = manager.post(
            "/api/v1/draws",
            json={
                "title": "Berlin meetup",
                "prizes": [{"name": "Mug", "quantity": 1}],
                "open": True,
            },
            headers={"X-CSRF-Token": str(session.json()["csrf_token"])},
        )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_live_entry_on_the_dashboard_shows_the_readers_local_time(
    live_server: LiveServer, berlin: BrowserContext
) -> None:
    base = live_server.url
    draw_id = open_giveaway(base)
    page = berlin.new_page()
    errors = collect_page_errors(page)
    log_in(page, base, MANAGER)
    page.goto(f"{base}/draws/{draw_id}/dashboard")
    expect(page.locator("main[data-live-state='live']")).to_be_attached()
    expect(page.locator("#recent-entries tr")).to_have_count(0)

    live_server.github.add_user("octocat", 583231, "The Octocat")
    entered = httpx.post(f"{base}/api/v1/draws/{draw_id}/entries", json={"github": "octocat"})
    assert entered.status_code == 201, entered.text

    row = page.locator("#recent-entries tr").first
    expect(row).to_contain_text("octocat")
    time = row.locator("time")
    stamp = time.get_attribute("datetime")
    assert stamp is not None
    assert stamp.endswith("Z")
    at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(BERLIN)
    text = time.inner_text()
    # December: Berlin is on winter time, an hour ahead of UTC.
    assert at.strftime("%H:%M:%S") in text
    assert "Central European" in text
    assert "UTC" not in text
    assert time.get_attribute("data-local") == "second"

    # The chart's sentence names its busiest minute in Berlin time too.
    expect(page.locator("#chart-summary")).to_contain_text("Central European")
    summary = page.locator("#chart-summary").inner_text()
    assert at.strftime("%H:%M") in summary
    assert real_errors(errors) == []
