"""A raffle ticket's signed receipt in a real Chromium against a real server: the ticket
page offers it as a file and checks it with "Check my entry", which says it is in the
sealed ledger once the raffle is sealed; the downloaded file is checked in the browser
too, and the raffle page links to the check."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from fairdraw.domain.receipts import receipt_file
from tests.support.app import ADMIN, LiveServer
from tests.support.browser import collect_page_errors, low_contrast, press, real_errors, screenshot

RECEIPT_TEXT = [".fd-signed-receipt .title", ".fd-signed-receipt p", ".fd-signed-receipt dd"]


def open_raffle(server: LiveServer) -> tuple[httpx.Client, dict[str, str], str]:
    """A new open raffle of 5 tickets, made through the API; the organiser's client,
    their CSRF header and the raffle's id."""
    client = httpx.Client(base_url=server.url)
    session = client.post("/api/v1/session", json={"username": ADMIN[0], "password": ADMIN[1]})
    headers = {"X-CSRF-Token": session.json()["csrf_token"]}
    body = {
        "title": "Browser tickets",
        "prizes": [{"name": "Mug", "quantity": 1}],
        "ticket_count": 5,
        "early_close": True,
        "open": True,
    }
    created = client.post("/api/v1/raffles", json=body, headers=headers)
    assert created.status_code == 201, created.text
    draw_id: str = created.json()["id"]
    return client, headers, draw_id


def test_a_ticket_page_offers_its_receipt_and_checks_it(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    base = live_server.url
    organiser, headers, draw_id = open_raffle(live_server)
    errors = collect_page_errors(page)

    page.goto(f"{base}/draws/{draw_id}")
    press(page, "Claim a ticket")
    ticket_url = page.url
    number = page.locator("#ticket-number").inner_text()
    receipt_box = page.locator(".fd-signed-receipt")
    expect(receipt_box.get_by_role("heading", name="Keep your receipt as a file")).to_be_visible()
    expect(receipt_box).to_contain_text("your ticket is in the raffle's list of tickets")

    with page.expect_download() as waiting:
        receipt_box.get_by_role("link", name="Download the receipt").click()
    download = waiting.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    receipt = json.loads(saved.read_bytes())
    statement = receipt["statement"]
    assert set(receipt) == {"statement", "signature"}
    assert (statement["type"], statement["draw_id"]) == ("receipt", draw_id)
    assert statement["ref"].startswith(f"{number}:")
    assert download.suggested_filename == f"fairdraw-receipt-{draw_id}-{statement['index']}.json"
    assert saved.read_bytes() == receipt_file(receipt)
    expect(receipt_box.locator("dd")).to_have_text(statement["ref"])
    screenshot(page, "ticket-receipt")
    assert low_contrast(page, RECEIPT_TEXT) == {}

    press(page, "Check my entry")
    expect(page.get_by_role("heading", name="Not sealed yet")).to_be_visible()
    expect(page.locator("#outcome")).to_contain_text("Draw: Browser tickets")

    closed = organiser.post(f"/api/v1/draws/{draw_id}/close", headers=headers)
    assert closed.status_code == 200, closed.text
    page.goto(ticket_url)
    # A reload shows the same receipt.
    expect(page.locator(".fd-signed-receipt dd")).to_have_text(statement["ref"])
    press(page, "Check my entry")
    expect(page.get_by_role("heading", name="Your entry is in the sealed ledger")).to_be_visible()
    facts = page.locator(".fd-facts dd")
    expect(facts.nth(0)).to_have_text(str(statement["index"]))
    expect(facts.nth(1)).to_have_text(statement["ref"])
    screenshot(page, "ticket-receipt-included")

    # The kept file, pasted, is checked in the browser itself.
    page.goto(f"{base}/check-entry")
    expect(page.locator("form[data-checks-here='true']")).to_be_attached()
    page.get_by_label("Your receipt (JSON)").fill(saved.read_text())
    page.get_by_role("button", name="Check my entry").click()
    expect(page.get_by_role("heading", name="Your entry is in the sealed ledger")).to_be_visible()
    expect(page.locator("#outcome")).to_have_attribute("data-checked-by", "browser")

    # The raffle page links to the check as a giveaway's does.
    page.goto(f"{base}/draws/{draw_id}")
    link = page.get_by_role("link", name="Check my entry")
    expect(link).to_have_attribute("href", "/check-entry")
    organiser.close()
    assert real_errors(errors) == []
