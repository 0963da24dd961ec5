"""The receipt page's "Keep your receipt as a file": the receipt sent back by a form
(no script) and returned as an attachment, in the bytes the entry API gave; only this
instance's own receipts are echoed, nothing is stored, the nonce stays out of URLs and
logs."""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain import fairness
from fairdraw.domain.receipts import receipt_statement
from fairdraw.domain.signing import SigningKey
from fairdraw.web.pages.outcomes import receipt_url
from tests.support.app import ADMIN, login
from tests.support.forms import CSRF_FIELD, FormBrowser, text_of
from tests.support.github_server import GitHubStandIn

DOWNLOAD_FORM = re.compile(
    r'<form method="post" action="/check-entry/receipt"[^>]*>.*?name="receipt" value="([^"]*)"',
    re.DOTALL,
)


async def entered_receipt(
    app: FastAPI, app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: Any
) -> tuple[str, bytes, str]:
    """A new giveaway entered by alice through the API: its id, the API's answer as
    bytes, and the receipt page's address."""
    headers = {"X-CSRF-Token": await login(app_client, ADMIN)}
    body = {"title": "Keep it", "prizes": [{"name": "Mug", "quantity": 1}], "open": True}
    created = await app_client.post("/api/v1/draws", json=body, headers=headers)
    assert created.status_code == 201, created.text
    draw_id = created.json()["id"]
    github.add_user("alice", 101)
    entered = await anon_client.post(f"/api/v1/draws/{draw_id}/entries", json={"github": "alice"})
    assert entered.status_code == 201, entered.text
    return draw_id, entered.content, receipt_url(app.state.services.secret, draw_id, 0)


async def stored_keys(redis: Redis) -> list[Any]:
    return sorted(await redis.keys("*"))


async def test_the_receipt_page_gives_the_receipt_as_the_api_did(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    draw_id, api_bytes, url = await entered_receipt(app, app_client, anon_client, github)
    nonce = json.loads(api_bytes)["opening"]["nonce"]
    page = await anon_client.get(url)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert (
        "Keep your receipt as a file This receipt is this server's signed promise that your "
        "entry is in the draw. Once the draw is sealed, it shows whether your entry is in the "
        "list the winners are drawn from; if it is not, it gives you a complaint that anyone "
        "can check. The file also holds the secret that shows the entry is yours: keep it to "
        "yourself. Download the receipt Check my entry Check my entry : open it at any time "
        "and paste the file's contents, or run fairdraw verify-receipt with the file."
    ) in text_of(page.text)
    assert '<a href="/check-entry">' in page.text
    form = DOWNLOAD_FORM.search(page.text)
    assert form is not None
    token = CSRF_FIELD.search(page.text)
    assert token is not None
    browser = FormBrowser(anon_client)
    before = await stored_keys(redis)

    kept = html.unescape(form[1])  # what the browser sends
    download = await browser.post("/check-entry/receipt", {"receipt": kept}, csrf=token[1])
    assert kept.encode() == api_bytes
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/json"
    assert download.headers["content-disposition"] == (
        f'attachment; filename="fairdraw-receipt-{draw_id}-0.json"'
    )
    assert download.headers["cache-control"] == "no-store"
    assert download.content == api_bytes
    # Sent again (a reload), or with its keys sorted and indented: the same file.
    again = await browser.post("/check-entry/receipt", {"receipt": kept}, csrf=token[1])
    assert again.content == api_bytes
    resorted = json.dumps(json.loads(api_bytes), sort_keys=True, indent=2)
    sorted_back = await browser.post("/check-entry/receipt", {"receipt": resorted}, csrf=token[1])
    assert sorted_back.content == api_bytes

    assert await stored_keys(redis) == before
    assert nonce not in url
    assert nonce not in str(download.url)
    assert nonce not in caplog.text


async def test_only_a_well_formed_receipt_of_this_instance_is_echoed(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    draw_id, api_bytes, url = await entered_receipt(app, app_client, anon_client, github)
    receipt = json.loads(api_bytes)
    page = await anon_client.get(url)
    token = CSRF_FIELD.search(page.text)
    assert token is not None
    browser = FormBrowser(anon_client)
    before = await stored_keys(redis)

    other = SigningKey.generate()
    statement = receipt_statement(draw_id, 0, receipt["ref"], receipt["entered_at"], other.key_id)
    stolen_nonce = fairness.new_nonce().hex()
    refused = {
        "{": "receipt: The receipt is not JSON",
        "": "receipt: The receipt is not JSON",
        json.dumps({**receipt, "signed": {**receipt["signed"], "signature": "00" * 64}}): (
            "receipt: The receipt's signature is not valid"
        ),
        json.dumps({**receipt, "signed": other.sign_statement(statement)}): (
            f"receipt: The receipt was signed by key {other.key_id}, not by the instance's key"
        ),
        json.dumps({**receipt, "index": 1}): (
            "receipt: The receipt's index does not match what its signature covers"
        ),
        json.dumps({**receipt, "opening": {**receipt["opening"], "nonce": stolen_nonce}}): (
            "receipt: The receipt's opening does not lead to its reference"
        ),
        json.dumps(receipt["signed"]): "receipt: This is not a receipt as the entry API gives it",
    }
    for sent, message in refused.items():
        answer = await browser.post("/check-entry/receipt", {"receipt": sent}, csrf=token[1])
        assert answer.status_code == 422, sent
        assert "content-disposition" not in answer.headers
        assert message in text_of(answer.text), text_of(answer.text)

    forged_form = await anon_client.post("/check-entry/receipt", data={"receipt": api_bytes})
    assert forged_form.status_code == 403
    wrong_token = await browser.post("/check-entry/receipt", {"receipt": "{}"}, csrf="x")
    assert wrong_token.status_code == 403

    assert await stored_keys(redis) == before
    assert receipt["opening"]["nonce"] not in caplog.text
    assert stolen_nonce not in caplog.text


async def test_the_download_address_opened_as_a_page_points_to_check_my_entry(
    anon_client: httpx.AsyncClient,
) -> None:
    response = await anon_client.get("/check-entry/receipt")
    assert response.status_code == 405
    assert "This address is not a page" in text_of(response.text)
    assert 'href="/check-entry"' in response.text
