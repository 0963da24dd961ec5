"""Entering with GitHub in a real Chromium against a real server and the loopback GitHub
stand-ins: the draw page's button leaves for GitHub, GitHub approves and sends the
browser back, the receipt shows the account that signed in; reloading and signing in
again enter nothing more."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, Request, expect
from redis import Redis

from fairdraw.store.keys import Keys
from tests.support.app import MANAGER, LiveServer, live_server_of, make_settings
from tests.support.browser import collect_page_errors, press, real_errors, screenshot
from tests.support.github_oauth import GitHubOAuthStandIn, oauth_settings
from tests.support.github_server import GitHubStandIn

CALLBACK = "/auth/github/callback"


@pytest.fixture
def server(
    store_url: str, github: GitHubStandIn, github_oauth: GitHubOAuthStandIn, redis_sync: Redis
) -> Iterator[LiveServer]:
    """fairdraw with a GitHub OAuth app (the stand-in's credentials), over real HTTP."""
    settings = make_settings(store_url, github.url, **oauth_settings(github_oauth))
    yield from live_server_of(settings, github)


def create_sign_in_draw(server: LiveServer) -> str:
    with httpx.Client(base_url=server.url) as client:
        credentials = {"username": MANAGER[0], "password": MANAGER[1]}
        session = client.post("/api/v1/session", json=credentials)
        body = {
            "title": "Sign-in giveaway",
            "prizes": [{"name": "Mug", "quantity": 1}],
            "open": True,
            "github_sign_in": True,
        }
        created = client.post(
            "/api/v1/draws", json=body, headers={"X-CSRF-Token": session.json()["csrf_token"]}
        )
    assert created.status_code == 201, created.text
    draw_id: str = created.json()["id"]
    return draw_id


def test_an_entrant_enters_with_github_and_sees_the_receipt(
    page: Page, server: LiveServer, github_oauth: GitHubOAuthStandIn, redis_sync: Redis
) -> None:
    github_oauth.sign_in_as("octocat", 583231)
    draw_id = create_sign_in_draw(server)
    errors = collect_page_errors(page)
    callbacks: list[str] = []

    def on_request(request: Request) -> None:
        if request.url.startswith(server.url + CALLBACK):
            callbacks.append(request.url)

    page.on("request", on_request)

    page.goto(f"{server.url}/draws/{draw_id}")
    expect(page.get_by_label("Your GitHub username")).to_have_count(0)
    press(page, "Enter with GitHub")
    expect(page.get_by_text("You\u2019re in!")).to_be_visible()
    expect(page.get_by_text("@octocat has entered \u201cSign-in giveaway\u201d")).to_be_visible()
    assert page.url.startswith(f"{server.url}/draws/{draw_id}/receipt?i=0&s=")
    screenshot(page, "github-sign-in-receipt")

    # The receipt reloads as it is; the callback, opened again, enters nothing.
    page.reload()
    expect(page.get_by_text("You\u2019re in!")).to_be_visible()
    (callback,) = callbacks
    page.goto(callback)
    expect(page.get_by_text("You have already entered")).to_be_visible()
    expect(page.locator(".fd-entry-number")).to_have_text("1")

    # Going through the sign-in again says so too, with the same receipt.
    page.goto(f"{server.url}/draws/{draw_id}")
    press(page, "Enter with GitHub")
    expect(page.get_by_text("You have already entered")).to_be_visible()
    expect(page.locator(".fd-entry-number")).to_have_text("1")
    screenshot(page, "github-sign-in-already-entered")

    assert redis_sync.llen(Keys().ledger(draw_id)) == 1
    assert real_errors(errors) == []
