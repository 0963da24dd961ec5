"""Abuse protection over HTTP: rate limits, manager networks, trusted proxies, headers."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, MANAGER, PARTICIPANT, make_settings
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
PRIZES = [{"name": "Hoodie", "quantity": 1}]


@pytest.fixture
def app_settings(store_url: str, github: GitHubStandIn) -> Settings:
    return make_settings(
        store_url,
        github.url,
        rate_limit_login_user="3/minute",
        rate_limit_login_address="5/minute",
        rate_limit_entries="2/minute",
        rate_limit_token_refresh="2/minute",
        manager_networks=["10.0.0.0/8"],
        trusted_proxies=["127.0.0.1/32"],
    )


def client_at(app: FastAPI, address: str | None) -> httpx.AsyncClient:
    """A client whose requests reach the app from 127.0.0.1 (a trusted proxy) on behalf
    of ``address`` — or, with None, from 127.0.0.1 itself with no forwarded hop."""
    headers = {"X-Forwarded-For": address} if address else {}
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def log_in(client: httpx.AsyncClient, credentials: tuple[str, str]) -> httpx.Response:
    return await client.post(
        "/api/v1/session", json={"username": credentials[0], "password": credentials[1]}
    )


async def test_login_is_limited_per_username_then_per_address(app: FastAPI, redis: Redis) -> None:
    async with client_at(app, "198.51.100.7") as client:
        for _ in range(3):
            assert (await log_in(client, (ADMIN[0], "wrong password!"))).status_code == 401
        limited = await log_in(client, ADMIN)  # the right password, but over the limit
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        assert "fairdraw_session" not in limited.cookies
        # Another username from the same address still has attempts (address limit is 5).
        assert (await log_in(client, MANAGER)).status_code == 200
        assert (await log_in(client, PARTICIPANT)).status_code == 429  # address: 6th
    async with client_at(app, "198.51.100.8") as other:
        assert (await log_in(other, PARTICIPANT)).status_code == 200
    sessions = [k async for k in redis.scan_iter(match=KEYS.session("*"))]
    assert len(sessions) == 2


async def test_password_changes_spend_the_login_limit(app: FastAPI, redis: Redis) -> None:
    async with client_at(app, "198.51.100.10") as client:
        csrf = (await log_in(client, PARTICIPANT)).json()["csrf_token"]  # attempt 1 of 3
        password_hash = await redis.hget(KEYS.user(PARTICIPANT[0]), "password_hash")
        guess = {"current_password": "a wrong guess", "new_password": "a brand new password"}
        headers = {"X-CSRF-Token": csrf}
        for _ in range(2):
            wrong = await client.post("/api/v1/session/password", json=guess, headers=headers)
            assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials")
        right = {**guess, "current_password": PARTICIPANT[1]}
        limited = await client.post("/api/v1/session/password", json=right, headers=headers)
        assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
        assert int(limited.headers["Retry-After"]) >= 1
        assert await redis.hget(KEYS.user(PARTICIPANT[0]), "password_hash") == password_hash


async def test_the_login_page_explains_the_limit(app: FastAPI) -> None:
    async with client_at(app, "198.51.100.9") as browser:
        page = await browser.get("/login")
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
        assert token is not None
        form = {"csrf_token": token[1], "username": "nobody", "password": "x" * 12}
        for _ in range(3):
            assert (await browser.post("/login", data=form)).status_code == 401
        limited = await browser.post("/login", data=form)
        assert limited.status_code == 429
        assert "text/html" in limited.headers["content-type"]
        # The form comes back, saying when to try again.
        assert "Too many login attempts for now." in limited.text
        assert 'name="password"' in limited.text
        assert "Retry-After" in limited.headers


async def test_entries_are_limited_per_address_and_nothing_is_stored(
    app: FastAPI, github: GitHubStandIn, redis: Redis
) -> None:
    github.add_user("ann", 1)
    github.add_user("bob", 2)
    github.add_user("cid", 3)
    async with client_at(app, "10.1.1.1") as admin:
        csrf = (await log_in(admin, ADMIN)).json()["csrf_token"]
        body = {"title": "Limited", "prizes": PRIZES, "open": True}
        created = await admin.post("/api/v1/draws", json=body, headers={"X-CSRF-Token": csrf})
        draw_id = created.json()["id"]
    async with client_at(app, "203.0.113.5") as entrant:
        for handle in ["ann", "bob"]:
            response = await entrant.post(
                f"/api/v1/draws/{draw_id}/entries", json={"github": handle}
            )
            assert response.status_code == 201
        third = await entrant.post(f"/api/v1/draws/{draw_id}/entries", json={"github": "cid"})
        assert third.status_code == 429
        assert third.headers["Retry-After"]
    assert await redis.llen(KEYS.ledger(draw_id)) == 2
    async with client_at(app, "203.0.113.6") as neighbour:
        response = await neighbour.post(f"/api/v1/draws/{draw_id}/entries", json={"github": "cid"})
        assert response.status_code == 201


async def test_unknown_logins_cannot_make_fairdraw_ask_github_past_the_limit(
    app: FastAPI, github: GitHubStandIn, redis: Redis
) -> None:
    async with client_at(app, "10.1.1.1") as admin:
        csrf = (await log_in(admin, ADMIN)).json()["csrf_token"]
        body = {"title": "Limited lookups", "prizes": PRIZES, "open": True}
        created = await admin.post("/api/v1/draws", json=body, headers={"X-CSRF-Token": csrf})
        draw_id = created.json()["id"]
    github.reset()
    async with client_at(app, "203.0.113.9") as prober:
        answers = [
            await prober.post(f"/api/v1/draws/{draw_id}/entries", json={"github": f"ghost{n}"})
            for n in range(5)
        ]
    assert [a.status_code for a in answers] == [404, 404, 429, 429, 429]
    assert {a.json()["code"] for a in answers[2:]} == {"rate_limited"}
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
    # GitHub was asked twice, not five times, and nothing was entered.
    assert [path for _, path, _ in github.requests] == ["/users/ghost0", "/users/ghost1"]
    assert await redis.llen(KEYS.ledger(draw_id)) == 0


async def test_the_entry_limit_is_counted_with_the_entry_in_one_step(
    app: FastAPI, github: GitHubStandIn, redis: Redis
) -> None:
    """Concurrent attempts from one address: exactly the limit's worth get in, and the
    refused ones store nothing, not even a count."""
    for n in range(6):
        github.add_user(f"racer{n}", 100 + n)
    async with client_at(app, "10.1.1.1") as admin:
        csrf = (await log_in(admin, ADMIN)).json()["csrf_token"]
        draws = []
        for title in ["Warm-up", "Racing"]:
            body = {"title": title, "prizes": PRIZES, "open": True}
            created = await admin.post("/api/v1/draws", json=body, headers={"X-CSRF-Token": csrf})
            draws.append(created.json()["id"])
    warm_up, racing = draws
    for n in range(6):  # caches every profile, from six addresses
        async with client_at(app, f"198.51.100.{20 + n}") as someone:
            entered = await someone.post(
                f"/api/v1/draws/{warm_up}/entries", json={"github": f"racer{n}"}
            )
            assert entered.status_code == 201
    github.reset()
    async with client_at(app, "203.0.113.11") as racer:
        answers = await asyncio.gather(
            *(
                racer.post(f"/api/v1/draws/{racing}/entries", json={"github": f"racer{n}"})
                for n in range(6)
            )
        )
    assert sorted(a.status_code for a in answers) == [201, 201, 429, 429, 429, 429]
    assert github.requests == []
    assert await redis.llen(KEYS.ledger(racing)) == 2
    attempts = await redis.hgetall(KEYS.entry_attempts(racing, "203.0.113.11"))
    assert attempts["c"] == "2"
    assert 0 < await redis.pttl(KEYS.entry_attempts(racing, "203.0.113.11")) <= 120_000


async def test_management_only_from_manager_networks(app: FastAPI, redis: Redis) -> None:
    async with client_at(app, "192.0.2.10") as outside:
        csrf = (await log_in(outside, ADMIN)).json()["csrf_token"]
        refused = await outside.post(
            "/api/v1/draws", json={"title": "x", "prizes": PRIZES}, headers={"X-CSRF-Token": csrf}
        )
        assert refused.status_code == 403
        assert refused.json()["code"] == "network_not_allowed"
    assert await redis.zcard(KEYS.draws_index()) == 0
    async with client_at(app, "10.20.30.40") as inside:
        csrf = (await log_in(inside, ADMIN)).json()["csrf_token"]
        created = await inside.post(
            "/api/v1/draws", json={"title": "x", "prizes": PRIZES}, headers={"X-CSRF-Token": csrf}
        )
        assert created.status_code == 201
    # The trusted proxy itself, with no forwarded hop, is not in a manager network.
    async with client_at(app, None) as proxy_itself:
        csrf = (await log_in(proxy_itself, ADMIN)).json()["csrf_token"]
        draw_id = created.json()["id"]
        response = await proxy_itself.post(
            f"/api/v1/draws/{draw_id}/open", headers={"X-CSRF-Token": csrf}
        )
        assert response.status_code == 403
    assert (await redis.hget(KEYS.draw_meta(draw_id), "status")) == "draft"


async def test_spoofed_forwarded_for_from_untrusted_peers_is_ignored(
    app: FastAPI, redis: Redis
) -> None:
    transport = httpx.ASGITransport(app=app, client=("192.0.2.99", 40000))
    headers = {"X-Forwarded-For": "10.0.0.1"}  # claims a manager network
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as spoofer:
        csrf = (await log_in(spoofer, ADMIN)).json()["csrf_token"]
        response = await spoofer.post(
            "/api/v1/draws", json={"title": "x", "prizes": PRIZES}, headers={"X-CSRF-Token": csrf}
        )
        assert response.status_code == 403
        assert response.json()["code"] == "network_not_allowed"
    assert await redis.zcard(KEYS.draws_index()) == 0


async def test_security_headers_on_pages_api_and_errors(app_client: httpx.AsyncClient) -> None:
    for path in ["/", "/login", "/api/v1/draws", "/api/v1/draws/aaaaaaaaaaaa", "/nope"]:
        response = await app_client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


async def test_no_secret_reaches_the_logs(
    app_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, app_settings: Settings
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await log_in(app_client, ADMIN)
    csrf = response.json()["csrf_token"]
    session = response.cookies["fairdraw_session"]
    await log_in(app_client, (ADMIN[0], "a wrong password"))
    await app_client.get("/api/v1/session")
    await app_client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert app_settings.secret_key is not None
    secrets_ = [
        ADMIN[1],
        "a wrong password",
        session,
        csrf,
        app_settings.secret_key.get_secret_value(),
    ]
    logged = caplog.text
    assert logged  # something was logged, so the check below checked something
    assert [s for s in secrets_ if s in logged] == []


async def test_token_grants_are_rate_limited(app: FastAPI, redis: Redis) -> None:
    async with client_at(app, "198.51.100.20") as api:

        async def token(**form: str) -> httpx.Response:
            return await api.post("/api/v1/auth/token", data=form)

        for _ in range(3):
            wrong = await token(grant_type="password", username=ADMIN[0], password="nope nope")
            assert wrong.status_code == 401
        limited = await token(grant_type="password", username=ADMIN[0], password=ADMIN[1])
        assert limited.status_code == 429
        granted = await token(grant_type="password", username=MANAGER[0], password=MANAGER[1])
        assert granted.status_code == 200
        refresh = granted.json()["refresh_token"]
        for _ in range(2):
            rotated = await token(grant_type="refresh_token", refresh_token=refresh)
            assert rotated.status_code == 200
            refresh = rotated.json()["refresh_token"]
        third = await token(grant_type="refresh_token", refresh_token=refresh)
        assert third.status_code == 429
        assert third.headers["Retry-After"]
    # The refused refresh did not burn the token: it still works once the window passes,
    # and it was not treated as reuse (the family is still active).
    families = [k async for k in redis.scan_iter(match=KEYS.prefix + "{f:*}:family")]
    assert [await redis.hget(k, "status") for k in families] == ["active"]


async def ballots_url(app: FastAPI) -> str:
    """The ballots URL of a lottery running from today (UTC), created by the admin
    through the API."""
    body = {
        "name": "Limited ballots",
        "prize": "Coffee",
        "winners_per_day": 1,
        "timezone": "UTC",
        "start": datetime.now(UTC).date().isoformat(),
    }
    async with client_at(app, "10.1.1.1") as admin:
        csrf = {"X-CSRF-Token": (await log_in(admin, ADMIN)).json()["csrf_token"]}
        created = await admin.post("/api/v1/lotteries", json=body, headers=csrf)
    assert created.status_code == 201, created.text
    return f"/api/v1/lotteries/{created.json()['id']}/ballots"


async def csrf_of(client: httpx.AsyncClient, credentials: tuple[str, str]) -> dict[str, str]:
    """Logs ``client`` in; the CSRF header its state-changing calls need."""
    return {"X-CSRF-Token": (await log_in(client, credentials)).json()["csrf_token"]}


async def test_ballots_are_limited_per_address_with_the_entry_limit_and_nothing_is_stored(
    app: FastAPI, redis: Redis
) -> None:
    """The ballot's own script counts it: the third ballot a minute from one address is a
    429 with Retry-After, stores no ballot and no count; another address casts on."""
    url = await ballots_url(app)
    async with client_at(app, "203.0.113.21") as participant:
        csrf = await csrf_of(participant, PARTICIPANT)
        cast = [await participant.post(url, headers=csrf) for _ in range(2)]
        assert [c.status_code for c in cast] == [201, 201]
        third = await participant.post(url, headers=csrf)
        assert (third.status_code, third.json()["code"]) == (429, "rate_limited")
        assert 1 <= int(third.headers["Retry-After"]) <= 60
        round_id = cast[0].json()["round_id"]
        # A keyed retry of an answered ballot is no new attempt: it gets its ballot back.
        keyed = {"Idempotency-Key": "ballot-limit-retry-1"}
        async with client_at(app, "203.0.113.22") as other:
            other_csrf = await csrf_of(other, MANAGER)
            first = await other.post(url, headers={**other_csrf, **keyed})
            assert first.status_code == 201
            assert (await other.post(url, headers=other_csrf)).status_code == 201
            assert (await other.post(url, headers=other_csrf)).status_code == 429
            again = await other.post(url, headers={**other_csrf, **keyed})
            assert again.status_code == 201
            assert again.json()["number"] == first.json()["number"]
    assert await redis.llen(KEYS.ledger(round_id)) == 4
    attempts = await redis.hgetall(KEYS.entry_attempts(round_id, "203.0.113.21"))
    assert attempts["c"] == "2"
    assert 0 < await redis.pttl(KEYS.entry_attempts(round_id, "203.0.113.21")) <= 120_000


async def test_concurrent_ballots_from_one_address_get_exactly_the_limit_in(
    app: FastAPI, redis: Redis
) -> None:
    url = await ballots_url(app)
    async with client_at(app, "203.0.113.23") as participant:
        csrf = await csrf_of(participant, PARTICIPANT)
        first = await participant.post(url, headers=csrf)  # the day's round exists now
        answers = await asyncio.gather(*(participant.post(url, headers=csrf) for _ in range(5)))
    assert first.status_code == 201
    assert sorted(a.status_code for a in answers) == [201, 429, 429, 429, 429]
    assert await redis.llen(KEYS.ledger(first.json()["round_id"])) == 2
