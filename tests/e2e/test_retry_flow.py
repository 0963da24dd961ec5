"""Reloading never acts twice, in a real Chromium against a real server: a participant
claims a ticket and reloads its card (the same ticket and code, no second claim), casts a
ballot and reloads its receipt (no second ballot), submits a form twice in a row, and
finds all of it under "My entries" (the code only in the browser that claimed it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from playwright.sync_api import Browser, Page, expect
from redis import Redis

from fairdraw.store.keys import Keys
from tests.support.app import MANAGER, PARTICIPANT, LiveServer
from tests.support.browser import (
    DEFAULT_TIMEOUT_MS,
    VIEWPORT,
    collect_page_errors,
    log_in,
    press,
    real_errors,
    screenshot,
)

KEYS = Keys()
CODE = re.compile(r"[A-Z2-7]{5}(-[A-Z2-7]{5}){3}-[A-Z2-7]{6}")


def _manager_headers(base: str) -> dict[str, str]:
    token = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": MANAGER[0], "password": MANAGER[1]},
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _raffle(base: str, headers: dict[str, str]) -> str:
    response = httpx.post(
        f"{base}/api/v1/raffles",
        json={
            "title": "Club raffle",
            "prizes": [{"name": "Hamper", "quantity": 1}],
            "ticket_count": 10,
            "claimants": "account",
            "open": True,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    draw_id: str = response.json()["id"]
    return draw_id


def _lottery(base: str, headers: dict[str, str]) -> str:
    today = datetime.now(UTC).date().isoformat()
    response = httpx.post(
        f"{base}/api/v1/lotteries",
        json={"name": "Daily coffee", "prize": "Coffee", "start": today, "timezone": "UTC"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    lottery_id: str = response.json()["id"]
    return lottery_id


def _round_ledgers(redis: Redis) -> list[int]:
    lengths: list[int] = []
    # Lottery rounds have 16-character draw ids, other draws 12.
    for key in redis.scan_iter("fairdraw:{d:" + "?" * 16 + "}:ledger"):
        lengths.append(int(redis.llen(key)))  # type: ignore[arg-type]
    return lengths


def test_reloads_show_the_same_result_and_never_act_again(
    live_server: LiveServer, redis_sync: Redis, page: Page, browser: Browser
) -> None:
    base = live_server.url
    errors = collect_page_errors(page)
    headers = _manager_headers(base)
    raffle_id, lottery_id = _raffle(base, headers), _lottery(base, headers)
    log_in(page, base, PARTICIPANT)

    # Claim, then reload the card: the same ticket and code, and still one claim.
    page.goto(f"{base}/draws/{raffle_id}")
    press(page, "Claim a ticket as pat")
    expect(page).to_have_url(re.compile(rf"/draws/{raffle_id}/tickets/\d+$"))
    expect(page.get_by_text("Keep this code")).to_be_visible()
    number = page.locator("#ticket-number").inner_text()
    code = page.locator("#ticket-code").inner_text().strip()
    assert CODE.fullmatch(code), code
    screenshot(page, "ticket-card-after-claim")
    for _ in range(2):
        page.reload()
        expect(page.locator("#ticket-number")).to_have_text(number)
        expect(page.locator("#ticket-code")).to_have_text(code)
    assert redis_sync.llen(KEYS.ledger(raffle_id)) == 1
    # Back on the raffle page, the ticket is counted once.
    page.goto(f"{base}/draws/{raffle_id}")
    expect(page.locator(".fd-tickets-left")).to_have_text("9")

    # Cast a ballot, then reload its receipt: still one ballot.
    page.goto(f"{base}/lotteries/{lottery_id}")
    press(page, "Cast a ballot")
    expect(page).to_have_url(re.compile(rf"/lotteries/{lottery_id}/ballots/\d{{4}}-\d\d-\d\d\?"))
    expect(page.get_by_text("Ballot 1 is in")).to_be_visible()
    page.reload()
    expect(page.get_by_text("Ballot 1 is in")).to_be_visible()
    expect(page.locator(".fd-ballot-count")).to_have_text("1")
    assert _round_ledgers(redis_sync) == [1]

    # The same form sent twice in a row (a double click that got through): one ballot.
    page.goto(f"{base}/lotteries/{lottery_id}")
    with page.expect_navigation():
        page.evaluate(
            """() => {
                const form = document.querySelector("form.fd-ballot-form");
                form.requestSubmit();
                form.requestSubmit();
            }"""
        )
    page.wait_for_load_state()
    expect(page.get_by_text("Ballot 2 is in")).to_be_visible()
    page.reload()
    expect(page.get_by_text("Ballot 2 is in")).to_be_visible()
    assert _round_ledgers(redis_sync) == [2]

    # My entries: the ticket with its code, and both ballots, newest first.
    page.get_by_role("link", name="My entries").first.click()
    page.wait_for_load_state()
    expect(page).to_have_url(f"{base}/me/entries")
    rows = page.locator("table.fd-my-entries tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_class("fd-my-ballot")
    expect(rows.nth(1)).to_have_class("fd-my-ballot")
    expect(rows.nth(2)).to_have_class("fd-my-ticket")
    expect(rows.nth(2).locator(".fd-my-number")).to_have_text(number)
    expect(rows.nth(2).locator(".fd-my-code")).to_have_text(code)
    screenshot(page, "my-entries")
    assert real_errors(errors) == []

    # The same account in another browser: the list, but no code.
    context = browser.new_context(viewport=VIEWPORT, reduced_motion="reduce")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        elsewhere = context.new_page()
        log_in(elsewhere, base, PARTICIPANT)
        elsewhere.goto(f"{base}/me/entries")
        others = elsewhere.locator("table.fd-my-entries tbody tr")
        expect(others).to_have_count(3)
        expect(others.nth(2).locator(".fd-my-number")).to_have_text(number)
        expect(elsewhere.locator(".fd-my-code")).to_have_count(0)
        elsewhere.goto(f"{base}/draws/{raffle_id}/tickets/{number}")
        expect(elsewhere.get_by_text("No code to show here")).to_be_visible()
        expect(elsewhere.locator("#ticket-code")).to_have_count(0)
    finally:
        context.close()
