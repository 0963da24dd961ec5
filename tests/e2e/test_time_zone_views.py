"""Time zones in a real Chromium: a manager in Berlin types a deadline in their own zone,
readers in New York and Shanghai see every time in theirs, a lottery round reads the same
on its round page and its results page, and without JavaScript the draw's own zone is
named in full."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.app import MANAGER, LiveServer
from tests.support.browser import (
    DEFAULT_TIMEOUT_MS,
    collect_page_errors,
    log_in,
    press,
    real_errors,
)
from tests.support.lottery_rounds import past_round

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 18:00 in Berlin on 15 January 2030 (winter: UTC+1).
DEADLINE = "2030-01-15T17:00:00.000Z"


@pytest.fixture
def contexts(browser: Browser) -> Iterator[dict[str, BrowserContext]]:
    """Browsers in three zones, and one in Berlin without JavaScript."""
    made = {
        zone: browser.new_context(timezone_id=zone, locale="en-GB")
        for zone in ("Europe/Berlin", "America/New_York", "Asia/Shanghai")
    }
    made["no-js"] = browser.new_context(
        timezone_id="America/New_York", locale="en-GB", java_script_enabled=False
    )
    for context in made.values():
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield made
    finally:
        for context in made.values():
            context.close()


def deadline_text(page: Page) -> str:
    return page.locator(f"time[datetime='{DEADLINE}']").first.inner_text()


def test_a_draw_reads_in_each_readers_zone(
    live_server: LiveServer, contexts: dict[str, BrowserContext]
) -> None:
    base = live_server.url
    manager = contexts["Europe/Berlin"].new_page()
    errors = collect_page_errors(manager)
    log_in(manager, base, MANAGER)
    manager.goto(f"{base}/draws/new")
    zone_field = manager.get_by_label("Time zone")
    # The picker took the browser's zone and offers the canonical zones to search.
    expect(zone_field).to_have_value("Europe/Berlin")
    assert zone_field.evaluate("field => field.tagName") == "INPUT"
    zone_count = manager.locator("#time_zone-zones option").count()
    assert zone_count > 300
    assert manager.locator("#time_zone-zones option[value='US/Pacific']").count() == 0
    label = manager.locator("#time_zone-zones option[value='Europe/Berlin']").get_attribute("label")
    assert label is not None
    assert label.startswith("Europe/Berlin (UTC+0")
    manager.get_by_label("Title").fill("Winter giveaway")
    manager.get_by_label("Prize 1").fill("Scarf")
    manager.get_by_label("Entries close at").fill("2030-01-15T18:00")
    press(manager, "Create draw")
    draw_url = manager.url
    assert "/draws/" in draw_url
    expect(manager.locator(f"time[datetime='{DEADLINE}']").first).to_contain_text(
        "18:00 Central European Standard Time"
    )

    new_york = contexts["America/New_York"].new_page()
    new_york.goto(draw_url)
    shown = deadline_text(new_york)
    # In the page's language (<html lang="en">), the reader's zone named in full.
    assert shown == "Jan 15, 2030, 12:00 Eastern Standard Time"
    # The draw's own reading stays at hand.
    title = new_york.locator(f"time[datetime='{DEADLINE}']").first.get_attribute("title")
    assert title == "15 Jan 2030, 18:00 Central European Standard Time"

    shanghai = contexts["Asia/Shanghai"].new_page()
    shanghai.goto(draw_url)
    shown = deadline_text(shanghai)
    assert shown == "Jan 16, 2030, 01:00 China Standard Time"

    # A new lottery starts at the browser's zone too, from the same list.
    manager.goto(f"{base}/lotteries/new")
    expect(manager.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    assert manager.locator("#timezone-zones option").count() == zone_count

    # Without JavaScript, a New York reader sees the draw's zone, named in full.
    plain = contexts["no-js"].new_page()
    plain.goto(draw_url)
    assert deadline_text(plain) == "15 Jan 2030, 18:00 Central European Standard Time"
    assert real_errors(errors) == []


def drawn_time(page: Page) -> tuple[str, str]:
    """The ``datetime`` and text of the first time on the page that says when it was drawn."""
    element = page.locator("time[data-local]").filter(has_not_text="Jan 2030").first
    return element.get_attribute("datetime") or "", element.inner_text()


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "no-js"])
def test_a_lottery_round_reads_the_same_on_its_round_and_results_pages(
    live_server: LiveServer, contexts: dict[str, BrowserContext], zone: str
) -> None:
    past = asyncio.run(
        past_round(live_server.settings, name="Shanghai tea", prize="Tea", zone="Asia/Shanghai")
    )
    lottery_id, day = past.lottery_id, past.day.isoformat()
    page = contexts[zone].new_page()
    page.goto(f"{live_server.url}/lotteries/{lottery_id}/rounds/{day}")
    round_time = page.locator("dd time[data-local]").first
    instant, round_text = round_time.get_attribute("datetime"), round_time.inner_text()
    assert instant is not None
    assert instant.endswith("Z")
    results = page.get_by_role("link", name="Results page and how to verify").get_attribute("href")
    page.goto(f"{live_server.url}{results}")
    results_time = page.locator(f"time[datetime='{instant}']").first
    expect(results_time).to_have_text(round_text)
    expected = {
        "Asia/Shanghai": "China Standard Time",
        "America/New_York": "Eastern",
        "no-js": "China Standard Time",
    }[zone]
    assert expected in round_text, round_text
