"""Forfeit and promote in a real Chromium: the organiser forfeits a winner with a reason,
and the public results page shows the substitution and the promoted alternate; the
browser's verifier checks substitutions records exactly as the Python one does."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
from playwright.sync_api import Browser, Dialog, Page, expect

from fairdraw.domain.proof import canonical_json
from fairdraw.domain.substitution_check import check_substitutions
from tests.e2e.test_giveaway_flow import fake_avatar
from tests.support.app import ADMIN, LiveServer
from tests.support.browser import DEFAULT_TIMEOUT_MS, collect_page_errors, log_in, real_errors
from tests.unit.test_substitutions import AT, BUNDLE, forfeit_all, record_bytes, ref

ENTRANTS = [
    ("ada", 101, "Ada Lovelace"),
    ("grace", 102, "Grace Hopper"),
    ("alan", 103, "Alan Turing"),
]

AVATARS = "https://avatars.githubusercontent.com/**"


def drawn_giveaway(live_server: LiveServer) -> tuple[dict[str, Any], dict[int, Any]]:
    """A giveaway of one prize drawn from three entries (so one alternate), made over the
    API: the draw with its result, and each entry's receipt by index."""
    receipts = {}
    for login, user_id, name in ENTRANTS:
        live_server.github.add_user(login, user_id, name)
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        session = client.post("/api/v1/session", json={"username": ADMIN[0], "password": ADMIN[1]})
        headers = {"X-CSRF-Token": session.json()["csrf_token"]}
        body = {"title": "Meetup giveaway", "prizes": [{"name": "Keyboard", "quantity": 1}]}
        draw = client.post("/api/v1/draws", json={**body, "open": True}, headers=headers).json()
        for login, _, _ in ENTRANTS:
            entry = {"github": login}
            entered = client.post(
                f"/api/v1/draws/{draw['id']}/entries", json=entry, headers=headers
            )
            receipts[entered.json()["index"]] = entered.json()
        for action in ("close", "draw"):
            done = client.post(f"/api/v1/draws/{draw['id']}/{action}", headers=headers)
            assert done.status_code == 200, done.text
        shown: dict[str, Any] = done.json()
        return shown, receipts


def test_a_manager_forfeits_a_winner_and_the_results_show_the_substitution(
    live_server: LiveServer, page: Page, browser: Browser
) -> None:
    draw, receipts = drawn_giveaway(live_server)
    result = draw["result"]
    winner, alternate = result["winners"][0]["name"], result["alternates"][0]["name"]
    draw_url = f"{live_server.url}/draws/{draw['id']}"
    page.context.route(AVATARS, fake_avatar)
    errors = collect_page_errors(page)
    confirmations: list[str] = []

    def accept(dialog: Dialog) -> None:
        confirmations.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    # A visitor already has the results open: the forfeit reaches it without a reload.
    watcher_context = browser.new_context()
    watcher_context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    watcher_context.route(AVATARS, fake_avatar)
    watcher = watcher_context.new_page()
    watcher.goto(f"{draw_url}/results")
    expect(watcher.locator(".fd-winners .fd-person-name")).to_have_text([winner])
    watcher.wait_for_function("() => document.querySelector('#main[data-live-feed]') !== null")
    log_in(page, live_server.url, ADMIN)
    page.goto(draw_url)
    page.get_by_role("link", name="Forfeit a winner").click()
    expect(page.get_by_role("heading", name="Forfeit a winner")).to_be_visible()
    page.get_by_label("Reason (public)").fill("Did not collect the prize within a week")
    page.get_by_label("I confirm this winner forfeits the prize").check()
    page.get_by_role("button", name="Forfeit").click()
    page.wait_for_load_state()
    assert confirmations == [f"Forfeit {winner}'s Keyboard? This cannot be undone."]
    expect(page).to_have_url(re.compile(rf"{re.escape(draw_url)}/results#substitutions$"))
    try:
        expect(watcher.locator(".fd-winners .fd-person-name")).to_have_text([alternate])
        expect(watcher.locator(".fd-promoted")).to_have_text("Promoted alternate #1")
    finally:
        watcher_context.close()

    # Anyone sees it: a visitor with no session.
    visitor = browser.new_context()
    visitor.set_default_timeout(DEFAULT_TIMEOUT_MS)
    visitor.route(AVATARS, fake_avatar)
    try:
        public = visitor.new_page()
        public.goto(f"{draw_url}/results")
        expect(public.get_by_role("heading", name="Substitutions")).to_be_visible()
        listed = public.locator(".fd-substitution")
        expect(listed).to_have_count(1)
        expect(listed).to_contain_text(f"{winner} forfeited — passed to {alternate} (alternate #1)")
        expect(listed).to_contain_text("Reason: Did not collect the prize within a week")
        expect(public.locator(".fd-winners .fd-person-name")).to_have_text([alternate])
        expect(public.locator(".fd-promoted")).to_have_text("Promoted alternate #1")
        expect(public.get_by_role("link", name="Download substitutions")).to_be_visible()
        expect(public.get_by_text("--substitutions fairdraw-")).to_be_visible()
        # The results page's browser verification checks the substitutions too.
        public.get_by_role("link", name="Verify in your browser").click()
        expect(public.locator("#verify-verdict")).to_contain_text("PASS", timeout=60_000)
        order = public.locator('[data-check="substitutions_order"]')
        expect(order).to_have_attribute("data-status", "pass")
        # The promoted alternate checks their receipt (in this browser): promoted.
        public.goto(f"{live_server.url}/check-entry")
        expect(public.locator("form[data-checks-here='true']")).to_be_attached()
        receipt = receipts[result["alternates"][0]["index"]]["signed"]
        public.get_by_label("Your receipt (JSON)").fill(json.dumps(receipt))
        public.get_by_role("button", name="Check my entry").click()
        expect(public.locator("#outcome")).to_have_attribute("data-checked-by", "browser")
        expect(public.locator(".fd-standing")).to_have_text(
            "Winner (promoted): Keyboard, as alternate #1"
        )
    finally:
        visitor.close()
    assert real_errors(errors) == []


# The browser's check of a substitutions record, called with the bytes (base64).
CHECK_SCRIPT = """async ([bundle, record]) => {
  const module = await import("/static/verify/substitutions.js");
  const bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return await module.checkSubstitutions(bytes(bundle), bytes(record));
}"""


def record_cases() -> dict[str, tuple[bytes, bytes]]:
    """(bundle, record) of every kind of record the unit tests check, by name."""
    faithful = [s.to_json() for s in forfeit_all(1, 0, 8)]
    out_of_order = [s.to_json() for s in forfeit_all(1)]
    out_of_order[0]["promoted"] = {"alternate": 2, "index": 5, "ref": ref(5)}
    unawarded = [s.to_json() for s in forfeit_all(1)]
    unawarded[0]["promoted"] = None
    reordered = [s.to_json() for s in forfeit_all(1, 0)][::-1]
    backwards = [s.to_json() for s in forfeit_all(1, 2)]
    backwards[1]["at"] = "2026-12-07T09:00:00.000Z"
    wrong_slot = [s.to_json() for s in forfeit_all(2)]
    wrong_slot[0]["slot"] = 2
    padded = [s.to_json() for s in forfeit_all(1)]
    padded[0]["reason"] = " padded"
    exhausted = [s.to_json() for s in forfeit_all(1, 2, 8, 0)]
    bundle = canonical_json(BUNDLE)
    records = {
        "faithful": record_bytes(faithful),
        "exhausted": record_bytes(exhausted),
        "empty": record_bytes([]),
        "out of order": record_bytes(out_of_order),
        "unawarded too soon": record_bytes(unawarded),
        "reordered": record_bytes(reordered),
        "time going back": record_bytes(backwards),
        "wrong slot": record_bytes(wrong_slot),
        "another bundle": record_bytes([], bundle="0" * 64),
        "another draw": record_bytes([], draw="zzzzzzzzzzzz"),
        "not canonical": record_bytes([]) + b" ",
        "another format": record_bytes([], format="other"),
        "unknown field": record_bytes([], extra=1),
        "missing fields": record_bytes([{"at": AT}]),
        "padded reason": record_bytes(padded),
        "with a final LF": record_bytes(faithful) + b"\n",
    }
    return {name: (bundle, record) for name, record in records.items()}


def test_the_browser_checks_substitutions_as_python_does(
    live_server: LiveServer, page: Page
) -> None:
    page.goto(f"{live_server.url}/verify")
    for name, (bundle, record) in record_cases().items():
        python = [(c.name, c.ok, c.detail) for c in check_substitutions(bundle, record)]
        arguments = [base64.b64encode(bundle).decode(), base64.b64encode(record).decode()]
        browser = [
            (c["name"], c["ok"], c["detail"]) for c in page.evaluate(CHECK_SCRIPT, arguments)
        ]
        assert browser == python, name
