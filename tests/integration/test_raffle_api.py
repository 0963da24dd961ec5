"""The raffle API end to end: real app, real store, in-process and over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.domain import tickets, verification
from fairdraw.store.keys import Keys
from fairdraw.web.app import create_app
from fairdraw.web.deps import Services
from tests.support.app import ADMIN, MANAGER, PARTICIPANT, create_accounts, login, make_settings
from tests.support.github_server import GitHubStandIn
from tests.support.store import everything_stored

KEYS = Keys()
PRIZES = [{"name": "Bike", "quantity": 1}, {"name": "Mug", "quantity": 2}]
CODE = re.compile(r"[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}")
PROXY = "127.0.0.1/32"


# -- helpers ----------------------------------------------------------------------------------


async def create_raffle(
    client: httpx.AsyncClient, csrf: str, expect: int = 201, **body: Any
) -> dict[str, Any]:
    payload = {"title": "Charity raffle", "prizes": PRIZES, "ticket_count": 5, "open": True} | body
    response = await client.post("/api/v1/raffles", json=payload, headers={"X-CSRF-Token": csrf})
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    return data


async def claim(
    client: httpx.AsyncClient, draw_id: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(f"/api/v1/draws/{draw_id}/tickets", headers=headers)


async def check(
    client: httpx.AsyncClient,
    draw_id: str,
    number: object,
    code: str,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = {"number": number, "code": code}
    url = f"/api/v1/draws/{draw_id}/tickets/check"
    return await client.post(url, json=body, headers=headers)


async def act(client: httpx.AsyncClient, csrf: str, draw_id: str, action: str) -> httpx.Response:
    return await client.post(f"/api/v1/draws/{draw_id}/{action}", headers={"X-CSRF-Token": csrf})


def refusal(response: httpx.Response, status: int) -> str:
    """The problem code of a refusal that must have ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    code: str = response.json()["code"]
    return code


def forwarded(n: int) -> dict[str, str]:
    """Headers that make a request come from its own client address, behind the proxy."""
    return {"X-Forwarded-For": f"10.0.{n // 256}.{n % 256}"}


def secret_of(app: FastAPI) -> bytes:
    services: Services = app.state.services
    return services.secret


async def nothing_stored_for_draws(redis: Redis) -> None:
    assert [k async for k in redis.scan_iter("*{d:*")] == []
    assert await redis.zcard(KEYS.draws_index()) == 0


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    """The app for ``settings`` over real HTTP (uvicorn on 127.0.0.1, its own thread)."""
    await create_accounts(settings)
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)


async def live_raffle(url: str, **body: Any) -> str:
    """A new open raffle on the live app at ``url``, created by the admin."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as admin:
        csrf = await login(admin, ADMIN)
        draw_id: str = (await create_raffle(admin, csrf, **body))["id"]
        return draw_id


@pytest_asyncio.fixture
async def proxied_url(store_url: str, github: GitHubStandIn, redis: Redis) -> AsyncIterator[str]:
    """A live app behind a trusted proxy on 127.0.0.1: X-Forwarded-For names the client."""
    async with serving(make_settings(store_url, github.url, trusted_proxies=[PROXY])) as url:
        yield url


@pytest_asyncio.fixture
async def throttled_url(store_url: str, github: GitHubStandIn, redis: Redis) -> AsyncIterator[str]:
    """A live app behind the proxy with tight limits: 2 wrong codes per ticket and 2 claims
    per address a minute."""
    settings = make_settings(
        store_url,
        github.url,
        trusted_proxies=[PROXY],
        rate_limit_ticket_codes="2/minute",
        rate_limit_entries="2/minute",
    )
    async with serving(settings) as url:
        yield url


# -- creating ---------------------------------------------------------------------------------


async def test_a_raffle_is_created_and_shown_with_its_terms(app_client: httpx.AsyncClient) -> None:
    csrf = await login(app_client, MANAGER)
    raffle = await create_raffle(
        app_client, csrf, open=False, claimants="account", per_claimant=2, early_close=True
    )
    assert (raffle["kind"], raffle["status"], raffle["entry_identity"]) == (
        "raffle",
        "draft",
        "account",
    )
    terms = {
        "ticket_count": 5,
        "claimants": "account",
        "per_claimant": 2,
        "early_close": True,
        "tickets_left": 5,
    }
    assert raffle["raffle"] == terms
    assert raffle["prizes"] == PRIZES
    assert (await app_client.get(f"/api/v1/draws/{raffle['id']}")).json() == raffle
    defaults = await create_raffle(app_client, csrf, ticket_count=10**6)
    assert defaults["status"] == "open"
    assert defaults["raffle"] == {
        "ticket_count": 10**6,
        "claimants": "anonymous",
        "per_claimant": 1,
        "early_close": False,
        "tickets_left": 10**6,
    }
    giveaway = await app_client.post(
        "/api/v1/draws", json={"title": "Give", "prizes": PRIZES}, headers={"X-CSRF-Token": csrf}
    )
    listed = (await app_client.get("/api/v1/draws")).json()
    assert {d["id"]: d["raffle"] for d in listed} == {
        giveaway.json()["id"]: None,
        defaults["id"]: defaults["raffle"],
        raffle["id"]: terms,
    }


TICKETS_ERROR = "The number of tickets must be between 1 and 1,000,000,000"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"ticket_count": 0}, {"ticket_count": TICKETS_ERROR}),
        ({"ticket_count": 10**9 + 1}, {"ticket_count": TICKETS_ERROR}),
        (
            {"ticket_count": 10**6 + 1},
            {
                "ticket_count": "A raffle that may not close early can close only when all "
                "1,000,001 tickets are claimed; allow early close or use at most 1,000,000 "
                "tickets"
            },
        ),
        (
            {"ticket_count": 2},
            {"prizes": "3 prizes but only 2 tickets: each ticket wins at most one prize"},
        ),
        (
            {"per_claimant": 6},
            {"per_claimant": "Tickets per person must be between 1 and the number of tickets"},
        ),
        (
            {"title": " ", "per_claimant": 0},
            {
                "title": "Give the raffle a title",
                "per_claimant": "Tickets per person must be between 1 and the number of tickets",
            },
        ),
        ({"ticket_count": "5"}, {"ticket_count": "Input should be a valid integer"}),
        ({"ticket_count": True}, {"ticket_count": "Input should be a valid integer"}),
        ({"claimants": "robots"}, {"claimants": "Input should be 'anonymous' or 'account'"}),
    ],
)
async def test_invalid_raffles_are_422_and_store_nothing(
    app_client: httpx.AsyncClient, redis: Redis, body: dict[str, Any], errors: dict[str, str]
) -> None:
    csrf = await login(app_client, ADMIN)
    refused = await create_raffle(app_client, csrf, expect=422, **body)
    assert refused["code"] == "invalid_input"
    assert refused["errors"] == errors
    await nothing_stored_for_draws(redis)


@pytest.mark.parametrize(("who", "status"), [(PARTICIPANT, 403), (None, 401)])
async def test_only_managers_create_raffles(
    app_client: httpx.AsyncClient, redis: Redis, who: tuple[str, str] | None, status: int
) -> None:
    csrf = await login(app_client, who) if who else "none"
    refused = await create_raffle(app_client, csrf, expect=status)
    assert refused["code"] == ("forbidden" if who else "not_authenticated")
    await nothing_stored_for_draws(redis)


async def test_cookie_calls_need_the_csrf_header(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, ADMIN)
    body = {"title": "x", "prizes": PRIZES, "ticket_count": 5, "open": True}
    assert refusal(await app_client.post("/api/v1/raffles", json=body), 403) == "csrf_failed"
    await nothing_stored_for_draws(redis)
    raffle = await create_raffle(app_client, csrf)
    # A logged-in browser claims with the header too, like any cookie call that writes.
    assert refusal(await claim(app_client, raffle["id"]), 403) == "csrf_failed"
    assert await redis.exists(KEYS.ledger(raffle["id"])) == 0
    mine = await claim(app_client, raffle["id"], {"X-CSRF-Token": csrf})
    assert mine.status_code == 201, mine.text


# -- claiming ---------------------------------------------------------------------------------


async def test_a_claim_answers_the_number_and_code_once(
    app: FastAPI, app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, ADMIN)
    raffle = await create_raffle(app_client, csrf, per_claimant=5)
    response = await claim(anon_client, raffle["id"])
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    ticket = response.json()
    assert set(ticket) == {"draw_id", "number", "code", "claimed_at", "index", "ref", "signed"}
    assert ticket["draw_id"] == raffle["id"]
    assert ticket["index"] == 0
    assert ticket["ref"].startswith(f"{ticket['number']}:")
    assert ticket["signed"]["statement"]["ref"] == ticket["ref"]
    assert ticket["number"] in range(1, 6)
    assert CODE.fullmatch(ticket["code"])
    shown = (await app_client.get(f"/api/v1/draws/{raffle['id']}")).json()
    assert (shown["entry_count"], shown["raffle"]["tickets_left"]) == (1, 4)
    # The store keeps a keyed hash of the code, nowhere the code itself.
    stored = json.dumps(await everything_stored(redis))
    raw = tickets.parse_code(ticket["code"])
    assert tickets.code_hash(secret_of(app), raw) in stored
    for form in (ticket["code"], ticket["code"].replace("-", ""), raw.hex()):
        assert form not in stored
        assert form.lower() not in stored


async def test_a_hundred_claimants_race_for_fifty_tickets_over_http(
    proxied_url: str, redis: Redis
) -> None:
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=proxied_url, limits=limits, timeout=60) as client:
        csrf = await login(client, ADMIN)
        draw_id = (await create_raffle(client, csrf, ticket_count=50))["id"]
        async with httpx.AsyncClient(base_url=proxied_url, limits=limits, timeout=60) as crowd:
            answers = await asyncio.gather(
                *(claim(crowd, draw_id, forwarded(n)) for n in range(100))
            )
        won = [a for a in answers if a.status_code == 201]
        refused = [a for a in answers if a.status_code != 201]
        assert len(won) == 50
        assert sorted(a.json()["number"] for a in won) == list(range(1, 51))
        assert len({a.json()["code"] for a in won}) == 50
        assert [refusal(a, 409) for a in refused] == ["sold_out"] * 50
        # One claimant per forwarded address: 50 distinct claimants hold one ticket each.
        assert sorted((await redis.hgetall(KEYS.claimants(draw_id))).values()) == ["1"] * 50
        assert await redis.llen(KEYS.ledger(draw_id)) == 50
        draw: dict[str, Any] = {}
        for _ in range(100):  # the last claim closes the raffle; the seal follows it
            draw = (await client.get(f"/api/v1/draws/{draw_id}")).json()
            if draw["seal"] is not None:
                break
            await asyncio.sleep(0.05)
        assert draw["status"] == "closed"
        assert draw["raffle"]["tickets_left"] == 0
        assert draw["seal"]["entry_count"] == 50


async def test_account_raffles_take_one_claim_per_account(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, ADMIN)
    draw_id = (await create_raffle(app_client, csrf, claimants="account"))["id"]
    assert refusal(await claim(anon_client, draw_id), 401) == "not_authenticated"
    assert await redis.exists(KEYS.ledger(draw_id)) == 0
    participant_csrf = await login(anon_client, PARTICIPANT)
    headers = {"X-CSRF-Token": participant_csrf}
    first = await claim(anon_client, draw_id, headers)
    assert first.status_code == 201, first.text
    assert refusal(await claim(anon_client, draw_id, headers), 409) == "ticket_limit_reached"
    assert await redis.hgetall(KEYS.claimants(draw_id)) == {f"u:{PARTICIPANT[0]}": "1"}
    assert await redis.llen(KEYS.ledger(draw_id)) == 1


async def test_ten_simultaneous_claims_by_one_account_get_one_ticket(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, ADMIN)
    draw_id = (await create_raffle(app_client, csrf, claimants="account"))["id"]
    grant = {"grant_type": "password", "username": PARTICIPANT[0], "password": PARTICIPANT[1]}
    token = (await anon_client.post("/api/v1/auth/token", data=grant)).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    answers = await asyncio.gather(*(claim(anon_client, draw_id, bearer) for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 9
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"ticket_limit_reached"}
    assert await redis.llen(KEYS.ledger(draw_id)) == 1
    forged = await claim(anon_client, draw_id, {"Authorization": "Bearer nonsense"})
    assert refusal(forged, 401) == "invalid_token"


async def test_claims_meet_the_raffle_lifecycle(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, ADMIN)
    draft = (await create_raffle(app_client, csrf, open=False))["id"]
    assert refusal(await claim(anon_client, draft), 409) == "draw_not_open"

    early = (await create_raffle(app_client, csrf, early_close=True))["id"]
    assert (await claim(anon_client, early)).status_code == 201
    closed = await act(app_client, csrf, early, "close")
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["seal"]["entry_count"]) == ("closed", 1)
    assert closed.json()["raffle"]["tickets_left"] == 4
    assert refusal(await claim(anon_client, early), 409) == "draw_not_open"

    late = (await create_raffle(app_client, csrf))["id"]
    assert (await claim(anon_client, late)).status_code == 201
    assert refusal(await act(app_client, csrf, late, "close"), 409) == "invalid_transition"
    assert (await app_client.get(f"/api/v1/draws/{late}")).json()["status"] == "open"


async def test_claims_are_rate_limited_per_address(throttled_url: str) -> None:
    draw_id = await live_raffle(throttled_url, per_claimant=5)
    async with httpx.AsyncClient(base_url=throttled_url, timeout=30) as client:
        for _ in range(2):
            assert (await claim(client, draw_id, forwarded(1))).status_code == 201
        limited = await claim(client, draw_id, forwarded(1))
        assert refusal(limited, 429) == "rate_limited"
        assert 0 < int(limited.headers["retry-after"]) <= 60
        assert (await claim(client, draw_id, forwarded(2))).status_code == 201


# -- checking and drawing ---------------------------------------------------------------------


async def test_checking_tickets_before_the_draw(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, ADMIN)
    draw_id = (await create_raffle(app_client, csrf, per_claimant=5))["id"]
    held = [(await claim(anon_client, draw_id)).json() for _ in range(4)]
    mine = held[0]
    answer = await check(anon_client, draw_id, mine["number"], mine["code"].lower())
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "draw_id": draw_id,
        "number": mine["number"],
        "valid": True,
        "status": "not_drawn",
        "has_won": False,
        "prize": None,
        "alternate": None,
    }
    unclaimed = ({1, 2, 3, 4, 5} - {t["number"] for t in held}).pop()
    for number in (unclaimed, 0, 6, -1):
        assert refusal(await check(anon_client, draw_id, number, mine["code"]), 404) == (
            "ticket_not_found"
        )
    wrong = await check(anon_client, draw_id, mine["number"], held[1]["code"])
    assert refusal(wrong, 403) == "invalid_code"
    for garbage, message in [
        ("not a code!", "a verification code has only the letters A-Z and the digits 2-7"),
        (mine["code"][:-1], "a verification code has 26 letters and digits"),
    ]:
        refused = await check(anon_client, draw_id, mine["number"], garbage)
        assert refusal(refused, 422) == "invalid_input"
        assert refused.json()["errors"] == {"code": message}
    for typed in ("seven", 1.5, None, True):
        bad = await check(anon_client, draw_id, typed, mine["code"])
        assert refusal(bad, 422) == "invalid_input"
        assert set(bad.json()["errors"]) == {"number"}
    # A logged-in caller checks without a CSRF token: the cookie lends a check no authority.
    await login(anon_client, PARTICIPANT)
    assert (await check(anon_client, draw_id, mine["number"], mine["code"])).status_code == 200


async def test_a_sold_out_raffle_draws_once_and_tickets_learn_their_prize(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, ADMIN)
    draw_id = (await create_raffle(app_client, csrf, per_claimant=5))["id"]
    held = [(await claim(anon_client, draw_id)).json() for _ in range(5)]
    answers = await asyncio.gather(*(act(app_client, csrf, draw_id, "draw") for _ in range(10)))
    assert [a.status_code for a in answers] == [200] * 10
    assert all(a.json() == answers[0].json() for a in answers)
    drawn = (await app_client.get(f"/api/v1/draws/{draw_id}/winners")).json()
    assert drawn == answers[0].json()
    assert drawn["status"] == "drawn"
    winners = drawn["result"]["winners"]
    assert [w["prize"] for w in winners] == ["Bike", "Mug", "Mug"]
    # fairdraw/2 raffle refs are "number:code commitment".
    prizes = {int(w["ref"].split(":")[0]): w["prize"] for w in winners}
    assert len(prizes) == 3  # three prizes, three distinct tickets
    for ticket in held:
        answer = (await check(anon_client, draw_id, ticket["number"], ticket["code"])).json()
        won = ticket["number"] in prizes
        assert (answer["status"], answer["has_won"]) == (
            ("won", True) if won else ("not_won", False)
        )
        assert answer["prize"] == prizes.get(ticket["number"])

    bundle = (await app_client.get(f"/api/v1/draws/{draw_id}/proof")).json()
    entries = (await app_client.get(f"/api/v1/draws/{draw_id}/entries.txt")).text
    assert sorted(int(line.split("\t")[1].split(":")[0]) for line in entries.splitlines()) == [
        1,
        2,
        3,
        4,
        5,
    ]
    report = verification.verify_bundle(bundle, entries)
    assert report.ok, report
    assert bundle["seed"] == drawn["result"]["seed"]


async def test_a_cancelled_raffle_says_so_to_its_ticket_holders(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, ADMIN)
    draw_id = (await create_raffle(app_client, csrf))["id"]
    ticket = (await claim(anon_client, draw_id)).json()
    assert (await act(app_client, csrf, draw_id, "cancel")).json()["status"] == "cancelled"
    answer = (await check(anon_client, draw_id, ticket["number"], ticket["code"])).json()
    assert (answer["status"], answer["has_won"], answer["prize"]) == ("cancelled", False, None)
    assert refusal(await claim(anon_client, draw_id), 409) == "draw_not_open"


async def test_wrong_codes_are_throttled_per_ticket_and_address(throttled_url: str) -> None:
    draw_id = await live_raffle(throttled_url)
    async with httpx.AsyncClient(base_url=throttled_url, timeout=30) as client:
        mine = (await claim(client, draw_id, forwarded(1))).json()
        other = (await claim(client, draw_id, forwarded(2))).json()
        guesser = forwarded(3)
        for _ in range(2):
            guess = await check(client, draw_id, mine["number"], other["code"], guesser)
            assert refusal(guess, 403) == "invalid_code"
        limited = await check(client, draw_id, mine["number"], mine["code"], guesser)
        assert refusal(limited, 429) == "rate_limited"
        assert 0 < int(limited.headers["retry-after"]) <= 60
        # The holder, from their own address, is not locked out by the guessing.
        held = await check(client, draw_id, mine["number"], mine["code"], forwarded(1))
        assert held.status_code == 200, held.text
        assert held.json()["status"] == "not_drawn"
        fine = await check(client, draw_id, other["number"], other["code"], guesser)
        assert fine.status_code == 200, fine.text
        assert fine.json()["status"] == "not_drawn"


# -- kinds and the schema ---------------------------------------------------------------------


async def test_only_raffles_have_tickets(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, ADMIN)
    giveaway = await app_client.post(
        "/api/v1/draws",
        json={"title": "Give", "prizes": PRIZES, "open": True},
        headers={"X-CSRF-Token": csrf},
    )
    draw_id = giveaway.json()["id"]
    assert giveaway.json()["raffle"] is None
    assert refusal(await claim(anon_client, draw_id), 409) == "wrong_draw_kind"
    some_code = tickets.new_code()
    assert refusal(await check(anon_client, draw_id, 1, some_code), 409) == "wrong_draw_kind"
    assert await redis.exists(KEYS.ledger(draw_id), KEYS.claimants(draw_id)) == 0
    raffle = (await create_raffle(app_client, csrf))["id"]
    entry = await anon_client.post(f"/api/v1/draws/{raffle}/entries", json={"github": "octocat"})
    assert refusal(entry, 409) == "wrong_draw_kind"
    assert refusal(await claim(anon_client, "aaaaaaaaaaaa"), 404) == "draw_not_found"
    assert refusal(await check(anon_client, "aaaaaaaaaaaa", 1, some_code), 404) == "draw_not_found"


async def test_openapi_documents_the_raffle_calls(app_client: httpx.AsyncClient) -> None:
    paths = (await app_client.get("/openapi.json")).json()["paths"]
    create = paths["/api/v1/raffles"]["post"]["responses"]
    assert {"201", "401", "403", "422", "500", "503"} <= set(create)
    claim_doc = paths["/api/v1/draws/{draw_id}/tickets"]["post"]["responses"]
    assert {"201", "401", "403", "404", "409", "422", "429"} <= set(claim_doc)
    for code in ("sold_out", "ticket_limit_reached", "draw_not_open", "wrong_draw_kind"):
        assert f"`{code}`" in claim_doc["409"]["description"]
    check_doc = paths["/api/v1/draws/{draw_id}/tickets/check"]["post"]["responses"]
    assert {"200", "403", "404", "409", "422", "429"} <= set(check_doc)
    assert "`invalid_code`" in check_doc["403"]["description"]
    assert "`ticket_not_found`" in check_doc["404"]["description"]
    assert "`draw_not_found`" in check_doc["404"]["description"]
