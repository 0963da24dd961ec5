"""Accounts under attack: look-alike usernames share one account and one login budget,
the session cookie slides with the session, over real HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import unicodedata
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from typer.testing import CliRunner

from fairdraw.cli import app as cli
from fairdraw.config import Settings
from fairdraw.domain.accounts import canonical_username
from fairdraw.services.accounts import AccountService
from fairdraw.store.accounts import AccountStore
from fairdraw.store.keys import Keys
from fairdraw.store.tokens import family_of
from tests.support.app import PARTICIPANT, create_accounts, make_settings, serve
from tests.support.forms import FormBrowser
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
NAME = "rluser"
PASSWORD = "rl user password 1"
WRONG = "not the password"
LOGIN_LIMIT = 10


def _styled(style: str) -> str:
    """NAME in one of Unicode's mathematical alphabets ("BOLD", "SANS-SERIF ITALIC", …)."""
    return "".join(unicodedata.lookup(f"MATHEMATICAL {style} SMALL {c}") for c in NAME.upper())


# Spellings of NAME that NFKC and case folding turn into NAME: letter case, full-width
# and mathematical letters, circled and modifier letters, odd whitespace around it.
VARIANTS = [
    NAME,
    NAME.upper(),
    "RlUsEr",
    "".join(chr(ord(c) - ord("a") + 0xFF41) for c in NAME),  # full-width lower case
    "".join(chr(ord(c) - ord("a") + 0xFF21) for c in NAME),  # full-width upper case
    _styled("BOLD"),
    _styled("ITALIC"),
    _styled("BOLD ITALIC"),
    _styled("BOLD SCRIPT"),
    _styled("FRAKTUR"),
    _styled("DOUBLE-STRUCK"),
    _styled("SANS-SERIF"),
    _styled("SANS-SERIF BOLD"),
    _styled("SANS-SERIF ITALIC"),
    _styled("MONOSPACE"),
    "".join(unicodedata.lookup(f"CIRCLED LATIN SMALL LETTER {c}") for c in NAME.upper()),
    "\u02b3\u02e1\u1d58\u02e2\u1d49r",  # modifier letters ʳˡᵘˢᵉ, then a plain r
    "\u3000rl\uff55\U0001d42c\u212fr\u2003",  # ideographic space, mixed scripts, em space
]
# Look-alikes that no normalisation makes ASCII: a Cyrillic "s" (dze), a zero-width space, a
# soft hyphen. They are not usernames at all.
NOT_USERNAMES = ["rlu\u0455er", "rl\u200buser", "rlus\u00ader"]


def test_every_variant_is_distinct_text_for_the_same_canonical_name() -> None:
    assert len(set(VARIANTS)) == len(VARIANTS) >= 16
    assert {canonical_username(variant) for variant in VARIANTS} == {NAME}
    assert all(canonical_username(name) != NAME for name in NOT_USERNAMES)


async def log_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/session", json={"username": username, "password": password})


async def password_grant(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = {"grant_type": "password", "username": username, "password": password}
    return await client.post("/api/v1/auth/token", data=form)


async def register(client: httpx.AsyncClient, username: str) -> httpx.Response:
    return await client.post("/api/v1/users", json={"username": username, "password": PASSWORD})


@pytest_asyncio.fixture
async def account(app_client: httpx.AsyncClient) -> AsyncIterator[None]:
    response = await register(app_client, NAME)
    assert response.status_code == 201, response.text
    yield


class TestOneLoginBudgetPerAccount:
    @pytest.fixture
    def app_settings(self, store_url: str, github: GitHubStandIn) -> Settings:
        return make_settings(store_url, github.url, rate_limit_login_user=f"{LOGIN_LIMIT}/minute")

    async def test_every_spelling_spends_the_same_budget(
        self, app: FastAPI, app_client: httpx.AsyncClient, account: None, redis: Redis
    ) -> None:
        guessing, limited = VARIANTS[:LOGIN_LIMIT], VARIANTS[LOGIN_LIMIT:]
        assert len(limited) >= 6
        for variant in guessing:
            refused = await log_in(app_client, variant, WRONG)
            assert (refused.status_code, refused.json()["code"]) == (401, "invalid_credentials")

        # The budget is spent, for every spelling and every way of logging in, even with
        # the right password.
        for variant in limited:
            answer = await log_in(app_client, variant, PASSWORD)
            assert (answer.status_code, answer.json()["code"]) == (429, "rate_limited")
            assert int(answer.headers["Retry-After"]) >= 1
            grant = await password_grant(app_client, variant, PASSWORD)
            assert (grant.status_code, grant.json()["code"]) == (429, "rate_limited")
        page = await FormBrowser(app_client).post(
            "/login", {"username": VARIANTS[-1], "password": PASSWORD}
        )
        assert page.status_code == 429
        assert not [key async for key in redis.scan_iter(match=KEYS.session("*"))]
        assert not [key async for key in redis.scan_iter(match=f"{KEYS.prefix}*:access:*")]

        # One per-username counter was written, under the canonical name.
        counters = [
            key
            async for key in redis.scan_iter(match=f"{KEYS.rate_limit_prefix()}*")
            if "login-user" in key
        ]
        assert counters
        assert all(f"login-user/{NAME}" in key for key in counters), counters

        # Another account keeps its own budget.
        assert (await log_in(app_client, *PARTICIPANT)).status_code == 200

    async def test_spellings_that_are_no_username_test_no_account(
        self, app_client: httpx.AsyncClient, account: None
    ) -> None:
        for name in NOT_USERNAMES:
            refused = await log_in(app_client, name, PASSWORD)
            assert (refused.status_code, refused.json()["code"]) == (401, "invalid_credentials")
        # They did not spend the account's budget: it still has all its attempts.
        for variant in VARIANTS[: LOGIN_LIMIT - 1]:
            assert (await log_in(app_client, variant, WRONG)).status_code == 401
        assert (await log_in(app_client, VARIANTS[LOGIN_LIMIT - 1], PASSWORD)).status_code == 200


async def test_every_spelling_with_the_right_password_is_the_same_account(
    app_client: httpx.AsyncClient, account: None, redis: Redis
) -> None:
    for variant in VARIANTS:
        session = await log_in(app_client, variant, PASSWORD)
        assert session.status_code == 200, (variant, session.text)
        assert session.json()["username"] == NAME
        grant = await password_grant(app_client, variant, PASSWORD)
        assert grant.status_code == 200, (variant, grant.text)
        family_id = family_of(grant.json()["refresh_token"])
        assert family_id is not None
        assert await redis.hget(KEYS.token_family(family_id), "username") == NAME
    assert await redis.zrange(KEYS.users_index(), 0, -1) == ["admin", "maria", "pat", NAME]


async def test_registering_any_spelling_of_a_taken_name_is_refused(
    app_client: httpx.AsyncClient, account: None, redis: Redis
) -> None:
    stored = await redis.hgetall(KEYS.user(NAME))
    for variant in VARIANTS:
        taken = await register(app_client, variant)
        assert (taken.status_code, taken.json()["code"]) == (409, "user_exists"), variant
    for name in NOT_USERNAMES:
        refused = await register(app_client, name)
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_input"), name
        assert set(refused.json()["errors"]) == {"username"}
    assert await redis.hgetall(KEYS.user(NAME)) == stored
    assert await redis.zrange(KEYS.users_index(), 0, -1) == ["admin", "maria", "pat", NAME]


def test_the_cli_stores_and_refuses_names_in_the_same_form(
    store_url: str, redis_sync: SyncRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRDRAW_REDIS_URL", store_url)
    monkeypatch.setenv("FAIRDRAW_SECRET_KEY", "Xq8-vJ2pLz4TnW7cRb1Hk9Ym3Fd6Gs0Ae5Uo")
    monkeypatch.setenv("FAIRDRAW_NEW_PASSWORD", PASSWORD)
    runner = CliRunner()
    created = runner.invoke(cli, ["admin", "create", _styled("BOLD")])
    assert created.exit_code == 0, created.output
    assert f"Created admin '{NAME}'" in created.output
    assert redis_sync.hget(KEYS.user(NAME), "role") == "admin"
    again = runner.invoke(cli, ["admin", "create", VARIANTS[3]])
    assert again.exit_code == 2
    assert "taken" in again.output
    assert redis_sync.zrange(KEYS.users_index(), 0, -1) == [NAME]


# -- the session cookie slides with the session ------------------------------------------

IDLE = 6


def session_cookie(response: httpx.Response) -> dict[str, str] | None:
    """The attributes of the one session cookie the response sets (name → value, the
    cookie's own value under "value"), or None; fails if it sets it twice."""
    found = [
        header
        for header in response.headers.get_list("set-cookie")
        if header.startswith("fairdraw_session=")
    ]
    assert len(found) <= 1, found
    if not found:
        return None
    first, *attributes = (part.strip() for part in found[0].split(";"))
    cookie = {"value": first.partition("=")[2]}
    for attribute in attributes:
        name, _, value = attribute.partition("=")
        cookie[name.lower()] = value
    return cookie


def session_ttl(redis: SyncRedis, secret: bytes, token: str) -> float:
    """Seconds the store keeps the session of ``token``; negative if it has none."""
    digest = hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()
    return int(redis.pttl(KEYS.session(digest))) / 1000


@pytest.fixture
def short_sessions(store_url: str, github: GitHubStandIn, redis_sync: SyncRedis) -> Settings:
    """Settings with a short idle timeout, on a flushed store with the test accounts."""
    # The setting's floor (60 s) is for operators; a test cannot wait that long.
    settings = make_settings(store_url, github.url).model_copy(
        update={"session_idle_seconds": IDLE}
    )
    asyncio.run(create_accounts(settings))
    return settings


def test_an_active_browser_keeps_its_session_cookie_as_long_as_the_server(
    short_sessions: Settings, redis_sync: SyncRedis
) -> None:
    secret = short_sessions.secret_bytes()
    with serve(short_sessions) as served, httpx.Client(base_url=served.url) as browser:
        login = browser.post(
            "/api/v1/session", json={"username": PARTICIPANT[0], "password": PARTICIPANT[1]}
        )
        assert login.status_code == 200
        issued = session_cookie(login)
        assert issued is not None
        token = issued["value"]
        assert issued["max-age"] == str(IDLE)

        time.sleep(IDLE / 2 + 0.5)  # past half the idle timeout
        used_at = time.time()
        used = browser.get("/api/v1/session")
        assert used.status_code == 200
        renewed = session_cookie(used)
        assert renewed is not None, "the session was renewed but its cookie was not"
        assert renewed == {
            "value": token,
            "httponly": "",
            "max-age": str(IDLE),
            "path": "/",
            "samesite": "lax",
        }
        assert used.headers["cache-control"] == "private"
        # The cookie's expiry and the server's agree.
        server_expiry = time.time() + session_ttl(redis_sync, secret, token)
        assert abs((used_at + int(renewed["max-age"])) - server_expiry) < 1

        # Past the cookie's first Max-Age, the browser still holds it, and it still works.
        time.sleep(IDLE / 2 + 0.5)
        assert time.time() - used_at < IDLE - 1
        again = browser.get("/api/v1/session")
        assert again.status_code == 200
        assert again.json()["username"] == PARTICIPANT[0]
        page = browser.get("/")
        assert page.status_code == 200
        assert session_cookie(page) == renewed
        assert page.headers["cache-control"] == "no-store"  # a page's own rule stays


def test_responses_that_set_the_session_cookie_themselves_are_left_alone(
    short_sessions: Settings,
) -> None:
    credentials = {"username": PARTICIPANT[0], "password": PARTICIPANT[1]}
    with serve(short_sessions) as served, httpx.Client(base_url=served.url) as browser:
        first = browser.post("/api/v1/session", json=credentials)
        old = session_cookie(first)
        assert old is not None
        # Logging in again while logged in sets only the new session's cookie.
        second = browser.post("/api/v1/session", json=credentials)
        new = session_cookie(second)
        assert new is not None
        assert new["value"] != old["value"]
        # A refused request (here a missing CSRF token) gets no session cookie at all.
        forged = browser.delete("/api/v1/session")
        assert (forged.status_code, forged.json()["code"]) == (403, "csrf_failed")
        assert session_cookie(forged) is None
        # Logging out only clears it.
        out = browser.delete(
            "/api/v1/session", headers={"X-CSRF-Token": second.json()["csrf_token"]}
        )
        assert out.status_code == 204
        cleared = session_cookie(out)
        assert cleared is not None
        assert (cleared["value"], cleared["max-age"]) in {("", "0"), ('""', "0")}
        # Nobody is logged in: nothing to renew.
        anonymous = browser.get("/api/v1/draws")
        assert session_cookie(anonymous) is None
        # A bearer token is no session: nothing to renew either.
        grant = browser.post("/api/v1/auth/token", data={"grant_type": "password", **credentials})
        bearer = httpx.get(
            served.url + "/api/v1/draws",
            headers={"Authorization": f"Bearer {grant.json()['access_token']}"},
        )
        assert bearer.status_code == 200
        assert session_cookie(bearer) is None


async def test_the_cookie_lifetime_ends_with_the_absolute_lifetime(redis: Redis) -> None:
    store = AccountStore(redis, KEYS, b"s" * 48)
    service = AccountService(store, idle_seconds=600, absolute_seconds=1000)
    assert service.session_seconds_left() == 600
    now_ms = int(time.time() * 1000)
    assert service.session_seconds_left(now_ms - 100_000) == 600
    assert 299 <= service.session_seconds_left(now_ms - 700_000) <= 300
    assert service.session_seconds_left(now_ms - 2_000_000) == 1
    short = AccountService(store, idle_seconds=600, absolute_seconds=120)
    assert short.session_seconds_left() == 120
