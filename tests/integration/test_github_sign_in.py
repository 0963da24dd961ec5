"""Entrants proving their GitHub account, over real HTTP: the app served by uvicorn, the
OAuth flow against the loopback GitHub stand-ins (tests/support/github_oauth.py and
github_server.py), a browser played by an httpx client that keeps its cookies and
follows each redirect by hand."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from redis import Redis

from fairdraw.domain.draws import GITHUB_SIGN_IN_FOR_GITHUB
from fairdraw.services.drawing import GITHUB_SIGN_IN_UNCONFIGURED
from fairdraw.services.github import MAX_ANSWER_BYTES
from fairdraw.services.github_oauth import (
    BAD_CODE,
    DENIED,
    EXPIRED,
    OTHER_BROWSER,
    SIGN_IN_SECONDS,
)
from fairdraw.store.keys import Keys
from tests.support.app import MANAGER, LiveServer, live_server_of, make_settings
from tests.support.forms import CSRF_FIELD, text_of
from tests.support.github_oauth import CLIENT_ID, GitHubOAuthStandIn, oauth_settings
from tests.support.github_server import GitHubStandIn
from tests.support.store import async_client, everything_stored

PRIZES = [{"name": "Mug", "quantity": 1}]
OCTOCAT = ("octocat", 583231)
CALLBACK = "/auth/github/callback"


@pytest.fixture
def server(
    store_url: str, github: GitHubStandIn, github_oauth: GitHubOAuthStandIn, redis_sync: Redis
) -> Iterator[LiveServer]:
    """fairdraw with a GitHub OAuth app (the stand-in's credentials), over real HTTP."""
    settings = make_settings(store_url, github.url, **oauth_settings(github_oauth))
    yield from live_server_of(settings, github)


@contextmanager
def manager(server: LiveServer) -> Iterator[httpx.Client]:
    """A client logged in as the manager, sending its CSRF token with every request."""
    with httpx.Client(base_url=server.url) as client:
        credentials = {"username": MANAGER[0], "password": MANAGER[1]}
        session = client.post("/api/v1/session", json=credentials)
        assert session.status_code == 200, session.text
        client.headers["X-CSRF-Token"] = session.json()["csrf_token"]
        yield client


def create_draw(server: LiveServer, **settings: Any) -> str:
    with manager(server) as client:
        body = {"title": "Sign-in giveaway", "prizes": PRIZES, "open": True, **settings}
        created = client.post("/api/v1/draws", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["github_sign_in"] is settings.get("github_sign_in", False)
    draw_id: str = created.json()["id"]
    return draw_id


def leave_for_github(browser: httpx.Client, draw_id: str) -> httpx.Response:
    """Press "Enter with GitHub" on the draw page: the answer sends the browser to GitHub."""
    page = browser.get(f"/draws/{draw_id}")
    assert "Enter with GitHub" in page.text
    csrf = CSRF_FIELD.search(page.text)
    assert csrf is not None
    return browser.post(f"/auth/github/sign-in/{draw_id}", data={"csrf_token": csrf[1]})


def at_github(authorize_url: str) -> str:
    """GitHub's authorize page (it approves or refuses at once): where it sends back."""
    answer = httpx.get(authorize_url)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def sign_in(browser: httpx.Client, draw_id: str) -> str:
    """The flow up to GitHub's answer: the callback address GitHub sends the browser to."""
    started = leave_for_github(browser, draw_id)
    assert started.status_code == 303, started.text
    return callback_path(at_github(started.headers["location"]))


def ledger(redis: Redis, draw_id: str) -> list[str]:
    return list(redis.lrange(Keys().ledger(draw_id), 0, -1))


def sign_in_keys(redis: Redis) -> list[str]:
    return list(redis.scan_iter(match=f"{Keys().prefix}gh:signin:*"))


def test_entering_with_github_enters_the_numeric_id_and_shows_the_receipt(
    server: LiveServer, github_oauth: GitHubOAuthStandIn, redis_sync: Redis
) -> None:
    github_oauth.sign_in_as(*OCTOCAT)
    draw_id = create_draw(server, github_sign_in=True)
    with httpx.Client(base_url=server.url) as browser:
        page = browser.get(f"/draws/{draw_id}")
        assert 'name="github"' not in page.text  # no username to type
        # The form's redirect leaves for GitHub, which form-action must allow.
        assert f"form-action 'self' {github_oauth.url};" in page.headers["content-security-policy"]
        started = leave_for_github(browser, draw_id)
        assert started.status_code == 303
        authorize = urlsplit(started.headers["location"])
        assert f"{authorize.scheme}://{authorize.netloc}" == github_oauth.url
        assert authorize.path == "/login/oauth/authorize"
        query = parse_qs(authorize.query)
        assert query["client_id"] == [CLIENT_ID]
        assert query["redirect_uri"] == [server.url + CALLBACK]
        assert "scope" not in query
        state = query["state"][0]
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", state)  # 32 bytes, base64url
        cookie = started.headers["set-cookie"]
        assert cookie.startswith("fairdraw_github=")
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/auth/github;" in cookie
        assert f"Max-Age={SIGN_IN_SECONDS}" in cookie
        (key,) = sign_in_keys(redis_sync)
        assert 0 < redis_sync.ttl(key) <= SIGN_IN_SECONDS
        assert state not in key
        assert state not in redis_sync.hvals(key)

        back = at_github(started.headers["location"])
        assert back.startswith(server.url + CALLBACK + "?code=")
        entered = browser.get(callback_path(back))
        assert entered.status_code == 303, entered.text
        receipt_url = entered.headers["location"]
        assert receipt_url.startswith(f"/draws/{draw_id}/receipt?i=0&s=")
        receipt = browser.get(receipt_url)
    assert receipt.status_code == 200
    shown = text_of(receipt.text)
    assert "You\u2019re in!" in shown
    assert "@octocat has entered “Sign-in giveaway”" in shown
    (entry,) = ledger(redis_sync, draw_id)
    assert entry.startswith("+")  # the compact layout: store/ledger.py
    assert entry.split("\t")[1:] == ["gh:583231", "octocat"]
    assert github_oauth.exchanges == 1


def test_a_callback_again_shows_the_receipt_and_enters_nothing(
    server: LiveServer, github_oauth: GitHubOAuthStandIn, redis_sync: Redis
) -> None:
    github_oauth.sign_in_as(*OCTOCAT)
    draw_id = create_draw(server, github_sign_in=True)
    with httpx.Client(base_url=server.url) as browser:
        callback = sign_in(browser, draw_id)
        first = browser.get(callback)
        again = browser.get(callback)
        assert again.status_code == 303
        assert again.headers["location"] == first.headers["location"] + "&already=1"
        page = browser.get(again.headers["location"])
    assert "You have already entered" in text_of(page.text)
    assert len(ledger(redis_sync, draw_id)) == 1
    # The reload asked GitHub nothing: the code was traded once.
    assert github_oauth.exchanges == 1


def test_signing_in_again_says_already_entered_with_the_receipt(
    server: LiveServer, github_oauth: GitHubOAuthStandIn, redis_sync: Redis
) -> None:
    github_oauth.sign_in_as(*OCTOCAT)
    draw_id = create_draw(server, github_sign_in=True)
    with httpx.Client(base_url=server.url) as browser:
        first = browser.get(sign_in(browser, draw_id))
        assert first.headers["location"].startswith(f"/draws/{draw_id}/receipt?i=0&")
    # Another browser, the same GitHub account: the sign-in proves it is theirs.
    with httpx.Client(base_url=server.url) as other:
        second = other.get(sign_in(other, draw_id))
        assert second.status_code == 303
        assert second.headers["location"].startswith(f"/draws/{draw_id}/receipt?i=0&")
        assert second.headers["location"].endswith("&already=1")
        page = other.get(second.headers["location"])
    shown = text_of(page.text)
    assert "You have already entered" in shown
    assert "@octocat" in shown
    assert len(ledger(redis_sync, draw_id)) == 1


def test_a_state_works_only_in_the_browser_that_began_it(
    server: LiveServer, github_oauth: GitHubOAuthStandIn, redis_sync: Redis
) -> None:
    github_oauth.sign_in_as(*OCTOCAT)
    draw_id = create_draw(server, github_sign_in=True)
    with httpx.Client(base_url=server.url) as owner, httpx.Client(base_url=server.url) as other:
        callback = sign_in(owner, draw_id)
        # Without any sign-in cookie, and with the cookie of a sign-in of its own.
        bare = other.get(callback)
        assert bare.status_code == 400
        assert EXPIRED in text_of(bare.text)
        sign_in(other, draw_id)
        refused = other.get(callback)
        assert refused.status_code == 400
        assert OTHER_BROWSER in text_of(refused.text)
        assert ledger(redis_sync, draw_id) == []
        # The link still works where it began.
        entered = owner.get(callback)
        assert entered.status_code == 303
        assert entered.headers["location"].startswith(f"/draws/{draw_id}/receipt?i=0&")


def test_an_unknown_or_missing_state_is_refused(
    server: LiveServer, github_oauth: GitHubOAuthStandIn, redis_sync: Redis
) -> None:
    github_oauth.sign_in_as(*OCTOCAT)
    draw_id = create_draw(server, github_sign_in=True)
    with httpx.Client(base_url=server.url) as browser:
        callback = sign_in(browser, draw_id)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        for path in (
            f"{CALLBACK}?code={code}",
            f"{CALLBACK}?code={code}&state={'A' * 43}",
            f"{CALLBACK}?code={code}&state=%00%FF",
            CALLBACK,
        ):
            answer = browser.get(path)
            assert answer.status_code == 400, path
            assert EXPIRED in text_of(answer.text)
        # An expired sign-in is one the store no longer holds.
        for key in sign_in_keys(redis_sync):
            redis_sync.delete(key)
        expired = browser.get(callback)
    assert expired.status_code == 400
    assert EXPIRED in text_of(expired.text)
    assert ledger(redis_sync, draw_id) == []
    assert github_oauth.exchanges == 0


def test_cancelling_at_github_enters_nothing_and_keeps_nothing(
    server: LiveServer, github_oauth: GitHubOAuthStandIn, redis_sync: Redis
) -> None:
    github_oauth.sign_in_as(*OCTOCAT)
    github_oauth.mode = "deny"
    draw_id = create_draw(server, github_sign_in=True)
    with httpx.Client(base_url=server.url) as browser:
        callback = sign_in(browser, draw_id)
        assert "error=access_denied" in callback
        denied = browser.get(callback)
        assert denied.status_code == 400
        shown = text_of(denied.text)
        assert DENIED in shown
        assert "Enter with GitHub" in shown  # the draw page, to try again
        assert ledger(redis_sync, draw_id) == []
        assert sign_in_keys(redis_sync) == []
        # The refused state is gone for good, even once GitHub would approve.
        again = browser.get(callback)
        assert again.status_code == 400
        assert EXPIRED in text_of(again.text)


def test_github_down_or_a_bad_code_shows_a_message_and_keeps_nothing(
    server: LiveServer, github: GitHubStandIn, github_oauth: GitHubOAuthStandIn, redis_sync: Redis
) -> None:
    github_oauth.sign_in_as(*OCTOCAT)
    draw_id = create_draw(server, github_sign_in=True)
    with httpx.Client(base_url=server.url) as browser:
        github_oauth.mode = "down"  # the token exchange answers 502
        down = browser.get(sign_in(browser, draw_id))
        assert down.status_code == 503
        assert "Could not check GitHub, try again" in text_of(down.text)
        github_oauth.mode = "approve"
        github.mode = "error"  # the user lookup answers 502
        api_down = browser.get(sign_in(browser, draw_id))
        assert api_down.status_code == 503
        assert "Could not check GitHub, try again" in text_of(api_down.text)
        github.mode = "ok"
        callback = sign_in(browser, draw_id)
        forged = re.sub(r"code=[0-9a-f]+", "code=0123456789abcdef0123", callback)
        bad = browser.get(forged)
        assert bad.status_code == 400
        assert BAD_CODE in text_of(bad.text)
        assert ledger(redis_sync, draw_id) == []
        assert sign_in_keys(redis_sync) == []
        # Once GitHub answers again, a new sign-in enters.
        entered = browser.get(sign_in(browser, draw_id))
    assert entered.status_code == 303
    assert len(ledger(redis_sync, draw_id)) == 1


def test_a_signed_in_user_answer_past_the_size_bound_is_not_read(
    server: LiveServer, github: GitHubStandIn, github_oauth: GitHubOAuthStandIn, redis_sync: Redis
) -> None:
    github_oauth.sign_in_as(*OCTOCAT)
    github.add_user(*OCTOCAT, name="x" * (MAX_ANSWER_BYTES + 1))  # the same user, huge
    draw_id = create_draw(server, github_sign_in=True)
    with httpx.Client(base_url=server.url) as browser:
        refused = browser.get(sign_in(browser, draw_id))
    assert refused.status_code == 503
    assert "Could not check GitHub, try again" in text_of(refused.text)
    assert ledger(redis_sync, draw_id) == []


def test_no_oauth_code_or_token_is_kept(
    server: LiveServer, github_oauth: GitHubOAuthStandIn, store_url: str
) -> None:
    github_oauth.sign_in_as(*OCTOCAT)
    draw_id = create_draw(server, github_sign_in=True)
    with httpx.Client(base_url=server.url) as browser:
        callback = sign_in(browser, draw_id)
        state = parse_qs(urlsplit(callback).query)["state"][0]
        assert browser.get(callback).status_code == 303
        assert browser.get(callback).status_code == 303

    async def stored() -> list[str]:
        redis = async_client(store_url)
        try:
            return await everything_stored(redis)
        finally:
            await redis.aclose()

    everything = "\n".join(asyncio.run(stored()))
    (token,) = github_oauth.tokens
    (code,) = github_oauth.issued_codes
    assert "gh:583231" in everything  # the entry is there…
    for secret in (token, code, state):
        assert secret not in everything  # …and nothing GitHub or the flow handed out


def test_the_api_refuses_a_typed_username_for_a_sign_in_draw(
    server: LiveServer, github: GitHubStandIn, redis_sync: Redis
) -> None:
    github.add_user(*OCTOCAT)
    draw_id = create_draw(server, github_sign_in=True)
    with httpx.Client(base_url=server.url) as client:
        refused = client.post(f"/api/v1/draws/{draw_id}/entries", json={"github": "octocat"})
        csrf = CSRF_FIELD.search(client.get(f"/draws/{draw_id}").text)
        assert csrf is not None
        page_form = client.post(
            f"/draws/{draw_id}/enter", data={"csrf_token": csrf[1], "github": "octocat"}
        )
    assert refused.status_code == 403
    problem = refused.json()
    assert problem["code"] == "github_sign_in_required"
    assert problem["sign_in"] == f"/draws/{draw_id}"
    assert problem["detail"] == (
        f"Entrants of this draw prove their GitHub account: sign in with GitHub on /draws/{draw_id}"
    )
    assert page_form.status_code == 403
    assert ledger(redis_sync, draw_id) == []
    # Nobody asked GitHub about the typed name.
    assert all(path != "/users/octocat" for _, path, _ in github.requests)


def test_the_option_is_for_github_draws_and_can_be_set_on_a_draft(server: LiveServer) -> None:
    with manager(server) as client:
        account = client.post(
            "/api/v1/draws",
            json={
                "title": "Accounts",
                "prizes": PRIZES,
                "entry_identity": "account",
                "github_sign_in": True,
            },
        )
        assert account.status_code == 422
        assert account.json()["errors"] == {"github_sign_in": GITHUB_SIGN_IN_FOR_GITHUB}
        draft = client.post("/api/v1/draws", json={"title": "Draft", "prizes": PRIZES})
        draw_id = draft.json()["id"]
        edited = client.patch(f"/api/v1/draws/{draw_id}", json={"github_sign_in": True})
        assert edited.status_code == 200, edited.text
        assert edited.json()["github_sign_in"] is True
        back = client.patch(f"/api/v1/draws/{draw_id}", json={"github_sign_in": False})
        assert back.json()["github_sign_in"] is False
        listed = client.get("/api/v1/draws").json()
    assert [d["title"] for d in listed] == ["Draft"]


def test_the_option_is_refused_without_oauth_credentials(live_server: LiveServer) -> None:
    with manager(live_server) as client:
        refused = client.post(
            "/api/v1/draws", json={"title": "Proven", "prizes": PRIZES, "github_sign_in": True}
        )
        assert refused.status_code == 422
        assert refused.json()["errors"] == {"github_sign_in": GITHUB_SIGN_IN_UNCONFIGURED}
        assert client.get("/api/v1/draws").json() == []
        draft = client.post("/api/v1/draws", json={"title": "Draft", "prizes": PRIZES})
        draw_id = draft.json()["id"]
        edit = client.patch(f"/api/v1/draws/{draw_id}", json={"github_sign_in": True})
        assert edit.status_code == 422
        assert edit.json()["errors"] == {"github_sign_in": GITHUB_SIGN_IN_UNCONFIGURED}
        assert client.get(f"/api/v1/draws/{draw_id}").json()["github_sign_in"] is False


def test_the_creation_form_sets_the_option(server: LiveServer) -> None:
    with manager(server) as client:
        form = client.get("/draws/new")
        assert "Entrants prove their GitHub account" in text_of(form.text)
        csrf = CSRF_FIELD.search(form.text)
        assert csrf is not None
        created = client.post(
            "/draws/new",
            data={
                "csrf_token": csrf[1],
                "title": "Form giveaway",
                "prizes.0.name": "Mug",
                "prizes.0.quantity": "1",
                "entry_identity": "github",
                "github_sign_in": "yes",
                "open": "yes",
            },
        )
        assert created.status_code == 303, created.text
        draw_id = created.headers["location"].rsplit("/", 1)[1]
        assert client.get(f"/api/v1/draws/{draw_id}").json()["github_sign_in"] is True


def test_signing_in_to_a_draw_that_takes_typed_usernames_is_refused(
    server: LiveServer, redis_sync: Redis
) -> None:
    draw_id = create_draw(server)
    with httpx.Client(base_url=server.url) as browser:
        page = browser.get(f"/draws/{draw_id}")
        assert "Enter with GitHub" not in page.text
        csrf = CSRF_FIELD.search(page.text)
        assert csrf is not None
        refused = browser.post(f"/auth/github/sign-in/{draw_id}", data={"csrf_token": csrf[1]})
        no_csrf = browser.post(f"/auth/github/sign-in/{draw_id}")
    assert refused.status_code == 400
    assert "type their GitHub username" in text_of(refused.text)
    assert no_csrf.status_code == 403
    assert sign_in_keys(redis_sync) == []


def test_two_sign_ins_under_way_in_one_browser_both_finish(
    server: LiveServer, github_oauth: GitHubOAuthStandIn, redis_sync: Redis
) -> None:
    github_oauth.sign_in_as(*OCTOCAT)
    draw_id = create_draw(server, github_sign_in=True)
    with httpx.Client(base_url=server.url) as browser:
        first = sign_in(browser, draw_id)
        cookie = browser.cookies["fairdraw_github"]
        second = sign_in(browser, draw_id)  # another tab of the same browser
        assert browser.cookies["fairdraw_github"] == cookie
        entered = browser.get(first)
        again = browser.get(second)
    assert entered.status_code == 303
    assert again.status_code == 303
    assert again.headers["location"] == entered.headers["location"] + "&already=1"
    assert len(ledger(redis_sync, draw_id)) == 1


def test_wrong_app_credentials_tell_the_operator_and_not_the_secret(
    store_url: str,
    github: GitHubStandIn,
    github_oauth: GitHubOAuthStandIn,
    redis_sync: Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = {**oauth_settings(github_oauth), "github_client_secret": "not-the-secret-0123456789"}
    settings = make_settings(store_url, github.url, **wrong)
    github_oauth.sign_in_as(*OCTOCAT)
    caplog.set_level(logging.DEBUG)
    for server in live_server_of(settings, github):
        draw_id = create_draw(server, github_sign_in=True)
        with httpx.Client(base_url=server.url) as browser:
            callback = sign_in(browser, draw_id)
            refused = browser.get(callback)
    assert refused.status_code == 503
    assert "Could not check GitHub, try again" in text_of(refused.text)
    # What the server logged (the test's own client logs the addresses it opens).
    logged = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("fairdraw", "uvicorn"))
    )
    assert "GitHub refused the OAuth token exchange: incorrect_client_credentials" in logged
    (code,) = github_oauth.issued_codes
    for secret in ("not-the-secret-0123456789", code):
        assert secret not in logged
    assert ledger(redis_sync, draw_id) == []
    assert sign_in_keys(redis_sync) == []
