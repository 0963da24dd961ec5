"""Self-service accounts through the real app: registration and changing one's password."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.store.keys import Keys
from fairdraw.web import security
from tests.support.app import ADMIN, PARTICIPANT, login, make_settings
from tests.support.forms import FormBrowser as Browser
from tests.support.forms import field_error, text_of
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
NEW_PASSWORD = "a brand new password"


async def snapshot(redis: Redis) -> dict[str, Any]:
    """Every account and session in the store, to show that nothing changed."""
    return {
        key: await redis.hgetall(key)
        if key != KEYS.users_index()
        else await redis.zrange(key, 0, -1)
        async for key in redis.scan_iter(match=KEYS.prefix + "*")
        if not key.startswith(KEYS.rate_limit_prefix())
    }


@pytest.fixture
def browser(app_client: httpx.AsyncClient) -> Browser:
    return Browser(app_client)


@pytest_asyncio.fixture
async def other(app: FastAPI) -> AsyncIterator[Browser]:
    """A second browser on the same app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Browser(client)


def registration(username: str) -> dict[str, str]:
    password = f"the password of {username}"
    return {"username": username, "password": password, "password_confirm": password}


# -- registration: pages -------------------------------------------------------------------


async def test_page_registration_logs_the_new_participant_in(
    browser: Browser, redis: Redis
) -> None:
    home = await browser.client.get("/")
    assert 'href="/register"' in home.text
    form = await browser.client.get("/register")
    assert form.status_code == 200
    for field in ("username", "display_name", "password", "password_confirm"):
        assert f'name="{field}"' in form.text

    response = await browser.post("/register", {**registration("New.User"), "display_name": ""})

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "New.User" in text_of((await browser.client.get("/")).text)
    session = (await browser.client.get("/api/v1/session")).json()
    assert (session["username"], session["role"]) == ("new.user", "participant")
    stored = await redis.hgetall(KEYS.user("new.user"))
    assert (stored["display_name"], stored["role"], stored["disabled"]) == (
        "New.User",
        "participant",
        "0",
    )


async def test_page_registration_marks_every_wrong_field_and_stores_nothing(
    browser: Browser, redis: Redis
) -> None:
    before = await snapshot(redis)
    form = {
        "username": "al!ce",
        "display_name": "x" * 65,
        "password": "pw-short",
        "password_confirm": "pw-differs",
    }
    response = await browser.post("/register", form)

    assert response.status_code == 422
    page = response.text
    assert field_error(page, "username") == (
        "The username may contain only letters a-z, digits, underscore, dot and hyphen."
    )
    assert field_error(page, "password") == "The password must be at least 10 characters long."
    assert field_error(page, "password_confirm") == "The two passwords do not match."
    assert field_error(page, "display_name") == (
        "The display name must be at most 64 characters long."
    )
    assert 'value="al!ce"' in page
    assert "pw-short" not in page  # passwords are never sent back
    assert "pw-differs" not in page
    assert security.SESSION_COOKIE not in response.cookies
    assert await snapshot(redis) == before


async def test_a_name_taken_in_another_case_is_refused_on_the_page(
    browser: Browser, redis: Redis
) -> None:
    before = await snapshot(redis)
    response = await browser.post("/register", registration("PAT"))
    assert response.status_code == 409
    assert field_error(response.text, "username") == "That username is taken"
    assert await snapshot(redis) == before


async def test_registration_form_needs_its_csrf_token(
    browser: Browser, other: Browser, redis: Redis
) -> None:
    before = await snapshot(redis)
    await browser.csrf()  # the browser has its anonymous CSRF cookie
    missing = await browser.client.post("/register", data=registration("mallory"))
    foreign = await browser.post("/register", registration("mallory"), csrf=await other.csrf())
    assert (missing.status_code, foreign.status_code) == (403, 403)
    assert await snapshot(redis) == before


async def test_registering_while_logged_in_ends_the_old_session(
    browser: Browser, app: FastAPI
) -> None:
    await browser.log_in(PARTICIPANT)
    old_cookie = browser.client.cookies[security.SESSION_COOKIE]
    response = await browser.post("/register", registration("newbie"), csrf=await browser.csrf())
    assert response.status_code == 303
    assert (await browser.client.get("/api/v1/session")).json()["username"] == "newbie"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        cookies={security.SESSION_COOKIE: old_cookie},
    ) as replay:
        assert (await replay.get("/api/v1/session")).status_code == 401


# -- registration: API ---------------------------------------------------------------------


async def test_api_registration_creates_a_participant(anon_client: httpx.AsyncClient) -> None:
    body = {"username": "Zoe", "password": "zoe's password", "display_name": " Zoë "}
    response = await anon_client.post("/api/v1/users", json=body)
    assert response.status_code == 201
    created = response.json()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created.pop("created_at"))
    assert created == {
        "username": "zoe",
        "display_name": "Zoë",
        "role": "participant",
        "disabled": False,
    }
    assert anon_client.cookies.get(security.SESSION_COOKIE) is None
    await login(anon_client, ("ZOE", "zoe's password"))


async def test_api_registration_reports_invalid_fields_and_taken_names(
    anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    before = await snapshot(redis)
    invalid = await anon_client.post("/api/v1/users", json={"username": "x", "password": "x" * 10})
    taken = await anon_client.post(
        "/api/v1/users", json={"username": "Admin", "password": "another password"}
    )
    assert invalid.status_code == 422
    assert invalid.json()["errors"] == {
        "username": "The username must be at least 3 characters long."
    }
    assert (taken.status_code, taken.json()["code"]) == (409, "user_exists")
    assert taken.headers["content-type"] == "application/problem+json"
    assert await snapshot(redis) == before


async def test_ten_concurrent_registrations_of_one_name_make_one_user(
    anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    spellings = ["".join(c) for c in itertools.product(*zip("carol", "CAROL", strict=True))][:10]
    responses = await asyncio.gather(
        *(
            anon_client.post("/api/v1/users", json={"username": name, "password": f"pw of {name}"})
            for name in spellings
        )
    )
    outcomes = sorted((r.status_code, r.json().get("code")) for r in responses)
    assert outcomes == [(201, None)] + [(409, "user_exists")] * 9
    assert [key async for key in redis.scan_iter(match=KEYS.user("carol*"))] == [KEYS.user("carol")]
    assert await redis.zrange(KEYS.users_index(), 0, -1) == ["admin", "maria", "pat", "carol"]
    winner = spellings[[r.status_code for r in responses].index(201)]
    await login(anon_client, ("carol", f"pw of {winner}"))


class TestRateLimit:
    @pytest.fixture
    def app_settings(self, store_url: str, github: GitHubStandIn) -> Settings:
        return make_settings(store_url, github.url, rate_limit_registration="3/hour")

    async def test_registration_attempts_are_limited_per_address(
        self, anon_client: httpx.AsyncClient, browser: Browser
    ) -> None:
        body = {"username": "x", "password": ""}
        responses = [await anon_client.post("/api/v1/users", json=body) for _ in range(3)]
        assert [r.status_code for r in responses] == [422] * 3
        refused = await anon_client.post("/api/v1/users", json=body)
        page = await browser.post("/register", registration("newbie"))
        assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
        assert int(refused.headers["retry-after"]) > 0
        assert page.status_code == 429


class TestClosedRegistration:
    @pytest.fixture
    def app_settings(self, store_url: str, github: GitHubStandIn) -> Settings:
        return make_settings(store_url, github.url, registration="closed")

    async def test_the_page_explains_and_links_to_login(
        self, browser: Browser, redis: Redis
    ) -> None:
        assert 'href="/register"' not in (await browser.client.get("/")).text
        page = await browser.client.get("/register")
        assert page.status_code == 403
        assert "Registration is closed" in text_of(page.text)
        assert "ask an administrator for one" in text_of(page.text)
        assert 'href="/login"' in page.text
        assert 'name="password"' not in page.text
        before = await snapshot(redis)
        response = await browser.post("/register", registration("mallory"))
        assert response.status_code == 403
        assert "Registration is closed" in text_of(response.text)
        assert await snapshot(redis) == before

    async def test_the_api_refuses(self, anon_client: httpx.AsyncClient, redis: Redis) -> None:
        before = await snapshot(redis)
        body = {"username": "mallory", "password": "a long enough password"}
        response = await anon_client.post("/api/v1/users", json=body)
        assert (response.status_code, response.json()["code"]) == (403, "registration_closed")
        assert await snapshot(redis) == before


# -- changing one's password -----------------------------------------------------------------


def password_form(current: str, new: str = NEW_PASSWORD) -> dict[str, str]:
    return {"current_password": current, "new_password": new, "new_password_confirm": new}


async def test_password_page_needs_a_login(browser: Browser) -> None:
    response = await browser.client.get("/account/password")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account/password"


async def test_changing_the_password_ends_every_other_session(
    browser: Browser, other: Browser, anon_client: httpx.AsyncClient
) -> None:
    await browser.log_in(PARTICIPANT)
    await login(other.client, PARTICIPANT)
    old_cookie = browser.client.cookies[security.SESSION_COOKIE]
    form = await browser.client.get("/account/password")
    assert 'href="/account/password"' in form.text  # the menu link

    response = await browser.post("/account/password", password_form(PARTICIPANT[1]))

    assert response.status_code == 303
    assert response.headers["location"] == "/account/password?changed=1"
    assert browser.client.cookies[security.SESSION_COOKIE] != old_cookie
    done = await browser.client.get("/account/password?changed=1")
    assert done.status_code == 200
    assert "Your password was changed. Every other session of yours has ended." in done.text
    assert (await other.client.get("/api/v1/session")).status_code == 401
    old_password = {"username": PARTICIPANT[0], "password": PARTICIPANT[1]}
    old = await anon_client.post("/api/v1/session", json=old_password)
    assert old.status_code == 401
    await login(anon_client, (PARTICIPANT[0], NEW_PASSWORD))


@pytest.mark.parametrize(
    ("form", "field", "message", "status"),
    [
        (
            password_form("wrong password"),
            "current_password",
            "The current password is wrong.",
            401,
        ),
        (
            password_form(PARTICIPANT[1], "short"),
            "new_password",
            "The password must be at least 10 characters long.",
            422,
        ),
        (
            password_form(PARTICIPANT[1], "x" * 1025),
            "new_password",
            "The password must be at most 1024 characters long.",
            422,
        ),
        (
            {**password_form(PARTICIPANT[1]), "new_password_confirm": "typo"},
            "new_password_confirm",
            "The two passwords do not match.",
            422,
        ),
    ],
)
async def test_a_refused_password_change_changes_nothing(
    browser: Browser,
    other: Browser,
    redis: Redis,
    form: dict[str, str],
    field: str,
    message: str,
    status: int,
) -> None:
    await browser.log_in(PARTICIPANT)
    await login(other.client, PARTICIPANT)
    before = await snapshot(redis)
    response = await browser.post("/account/password", form, csrf=await browser.csrf())
    assert response.status_code == status
    assert field_error(response.text, field) == message
    assert await snapshot(redis) == before
    assert (await other.client.get("/api/v1/session")).status_code == 200


async def test_password_form_needs_its_csrf_token(
    browser: Browser, other: Browser, redis: Redis
) -> None:
    await browser.log_in(PARTICIPANT)
    before = await snapshot(redis)
    missing = await browser.client.post("/account/password", data=password_form(PARTICIPANT[1]))
    foreign = await browser.post(
        "/account/password", password_form(PARTICIPANT[1]), csrf=await other.csrf()
    )
    assert (missing.status_code, foreign.status_code) == (403, 403)
    assert await snapshot(redis) == before


async def test_api_password_change_renews_this_session_only(
    app_client: httpx.AsyncClient, other: Browser, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, ADMIN)
    await login(other.client, ADMIN)
    body = {"current_password": ADMIN[1], "new_password": NEW_PASSWORD}
    before = await snapshot(redis)
    no_header = await app_client.post("/api/v1/session/password", json=body)
    wrong = await app_client.post(
        "/api/v1/session/password",
        json={**body, "current_password": "not it at all"},
        headers={"X-CSRF-Token": csrf},
    )
    anonymous = await anon_client.post("/api/v1/session/password", json=body)
    assert (no_header.status_code, no_header.json()["code"]) == (403, "csrf_failed")
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials")
    assert wrong.json()["detail"] == "The current password is wrong."
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    assert await snapshot(redis) == before

    changed = await app_client.post(
        "/api/v1/session/password", json=body, headers={"X-CSRF-Token": csrf}
    )

    assert changed.status_code == 200
    answer = changed.json()
    assert (answer["username"], answer["role"]) == ("admin", "admin")
    assert answer["csrf_token"] != csrf
    assert (await app_client.get("/api/v1/session")).json()["csrf_token"] == answer["csrf_token"]
    assert (await other.client.get("/api/v1/session")).status_code == 401
    stale = await app_client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert stale.status_code == 403
    fresh = await app_client.delete(
        "/api/v1/session", headers={"X-CSRF-Token": answer["csrf_token"]}
    )
    assert fresh.status_code == 204
