""" "Check my entry" in a real Chromium against a real server: from the receipt page, by
pasting a receipt (checked in the browser, which sends the server nothing of it), and
the complaint of an entry that a censoring operator replaced in the store before the
seal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, Request, expect
from redis import Redis

from fairdraw.domain import fairness
from fairdraw.domain.receipts import complaint_file, complaint_problem
from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, LiveServer
from tests.support.browser import collect_page_errors, low_contrast, press, real_errors, screenshot
from tests.support.ledgers import stored_entry_sync

KEYS = Keys()
OUTCOME_TEXT = ["#outcome .title", "#outcome p", ".fd-facts dt", ".fd-facts dd"]


class Organiser:
    """The organiser's API session on the live server."""

    def __init__(self, server: LiveServer) -> None:
        self.client = httpx.Client(base_url=server.url)
        session = self.client.post(
            "/api/v1/session", json={"username": ADMIN[0], "password": ADMIN[1]}
        )
        self.headers = {"X-CSRF-Token": session.json()["csrf_token"]}

    def open_giveaway(self) -> str:
        body = {"title": "Browser receipts", "prizes": [{"name": "Mug", "quantity": 1}]}
        created = self.client.post(
            "/api/v1/draws", json={**body, "open": True}, headers=self.headers
        )
        assert created.status_code == 201, created.text
        draw_id: str = created.json()["id"]
        return draw_id

    def close(self, draw_id: str) -> None:
        closed = self.client.post(f"/api/v1/draws/{draw_id}/close", headers=self.headers)
        assert closed.status_code == 200, closed.text


def enter(server: LiveServer, draw_id: str, people: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Entries through the API; their receipts."""
    receipts = []
    with httpx.Client(base_url=server.url) as entrant:
        for handle, user_id in people:
            server.github.add_user(handle, user_id)
            entered = entrant.post(f"/api/v1/draws/{draw_id}/entries", json={"github": handle})
            assert entered.status_code == 201, entered.text
            receipts.append(entered.json())
    return receipts


def posted_receipts(page: Page) -> list[str]:
    """Start recording the receipts the page sends to the server."""
    sent: list[str] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and "/check-entry" in request.url:
            sent.append(request.url)

    page.on("request", on_request)
    return sent


def paste_and_check(page: Page, base: str, receipt: dict[str, Any]) -> None:
    page.goto(f"{base}/check-entry")
    # The page checks in the browser once it knows that WebCrypto has Ed25519.
    expect(page.locator("form[data-checks-here='true']")).to_be_attached()
    page.get_by_label("Your receipt (JSON)").fill(json.dumps(receipt, indent=2))
    page.get_by_role("button", name="Check my entry").click()


def test_the_receipt_page_checks_its_entry(live_server: LiveServer, page: Page) -> None:
    base = live_server.url
    organiser = Organiser(live_server)
    draw_id = organiser.open_giveaway()
    live_server.github.add_user("octocat", 583231)
    errors = collect_page_errors(page)

    page.goto(f"{base}/draws/{draw_id}")
    page.get_by_label("Your GitHub username").fill("octocat")
    press(page, "Enter the draw")
    receipt_url = page.url
    press(page, "Check my entry")  # the receipt page posts its signed receipt
    expect(page.get_by_role("heading", name="Not sealed yet")).to_be_visible()
    expect(page.locator("#outcome")).to_contain_text("Draw: Browser receipts")
    prefilled = json.loads(page.get_by_label("Your receipt (JSON)").input_value())
    assert set(prefilled) == {"statement", "signature"}  # the secret nonce stays behind
    assert prefilled["statement"]["draw_id"] == draw_id

    organiser.close(draw_id)
    page.goto(receipt_url)
    press(page, "Check my entry")
    expect(page.get_by_role("heading", name="Your entry is in the sealed ledger")).to_be_visible()
    facts = page.locator(".fd-facts dd")
    expect(facts.nth(0)).to_have_text("0")
    expect(facts.nth(2)).to_have_text("1")
    screenshot(page, "check-entry-included")
    assert low_contrast(page, OUTCOME_TEXT, reload=False) == {}
    assert real_errors(errors) == []


def test_the_browser_checks_a_pasted_receipt_itself(live_server: LiveServer, page: Page) -> None:
    base = live_server.url
    organiser = Organiser(live_server)
    draw_id = organiser.open_giveaway()
    (receipt,) = enter(live_server, draw_id, [("alice", 101)])
    errors = collect_page_errors(page)
    sent = posted_receipts(page)

    paste_and_check(page, base, receipt)
    expect(page.get_by_role("heading", name="Not sealed yet")).to_be_visible()
    expect(page.locator("#outcome")).to_have_attribute("data-checked-by", "browser")
    expect(page.locator("#outcome")).to_contain_text("Draw: Browser receipts")

    organiser.close(draw_id)
    sealed = organiser.client.get(f"/api/v1/draws/{draw_id}").json()["seal"]
    page.get_by_role("button", name="Check my entry").click()
    expect(page.get_by_role("heading", name="Your entry is in the sealed ledger")).to_be_visible()
    outcome = page.locator("#outcome")
    expect(outcome).to_have_attribute("data-checked-by", "browser")
    expect(outcome).to_contain_text("Checked in this browser: both signatures and the path.")
    expect(outcome.locator(".fd-facts dd")).to_have_text(
        ["0", receipt["ref"], "1", sealed["root"], sealed["sealed_at"]]
    )
    assert sent == []  # the receipt never left the browser
    screenshot(page, "check-entry-browser")

    # A receipt the browser cannot vouch for goes to the server, which says why.
    forged = {**receipt["signed"], "statement": {**receipt["signed"]["statement"], "index": 3}}
    paste_and_check(page, base, forged)
    expect(page.get_by_role("heading", name="This receipt cannot be checked")).to_be_visible()
    expect(page.locator("#outcome")).to_contain_text("The receipt's signature is not valid")
    expect(page.locator("#outcome")).not_to_have_attribute("data-checked-by", "browser")
    assert sent == [f"{base}/check-entry"]
    # Before the seal the proof was asked for and refused: that is how the page knew.
    assert real_errors(errors) == [
        f"HTTP 404: {base}/api/v1/draws/{draw_id}/entries/0/proof",
        "console: Failed to load resource: the server responded with a status of 404 (Not Found)",
    ]


def test_a_replaced_entry_gives_a_complaint_to_download(
    live_server: LiveServer, page: Page, redis_sync: Redis, tmp_path: Path
) -> None:
    base = live_server.url
    organiser = Organiser(live_server)
    draw_id = organiser.open_giveaway()
    people = [("alice", 101), ("bob", 102), ("carol", 103)]
    _, bob, _ = enter(live_server, draw_id, people)
    # The operator swaps bob's entry for an identity of its own before the seal.
    entered_ms = stored_entry_sync(redis_sync, draw_id, 1).entered_ms
    ref = fairness.entry_ref_v2("gh:666", fairness.new_nonce())
    redis_sync.lset(KEYS.ledger(draw_id), 1, f"{ref}\t{entered_ms}\tgh:666\tmallory")
    organiser.close(draw_id)
    errors = collect_page_errors(page)

    paste_and_check(page, base, bob)
    expect(
        page.get_by_role("heading", name="Your entry is not in the sealed ledger")
    ).to_be_visible()
    outcome = page.locator("#outcome")
    expect(outcome).to_have_attribute("data-checked-by", "browser")
    expect(outcome.get_by_text("your receipted entry was replaced")).to_be_visible()
    expect(outcome.get_by_text("your receipted entry was left out")).to_be_hidden()
    expect(outcome.locator(".fd-facts dd").nth(1)).to_have_text(ref)
    screenshot(page, "check-entry-complaint")
    assert low_contrast(page, OUTCOME_TEXT, reload=False) == {}

    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download the complaint").click()
    download = waiting.value
    assert download.suggested_filename == f"fairdraw-complaint-{draw_id}-1.json"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    complaint = json.loads(saved.read_bytes())
    answer = organiser.client.get(f"/api/v1/draws/{draw_id}/entries/1/proof").json()
    # The browser writes the complaint byte for byte as the server and the CLI do.
    key = organiser.client.get("/.well-known/fairdraw-signing-key").json()["public_key"]
    expected = {"type": "complaint", "public_key": key, "receipt": bob["signed"], "answer": answer}
    assert saved.read_bytes() == complaint_file(expected)
    assert complaint_problem(complaint, bytes.fromhex(key)) is None
    assert real_errors(errors) == []
