"""``Idempotency-Key`` on the API, end to end: the real app on the real store.

Same key and request → the first answer again; another request → 422; while the first
runs → 409; keys belong to their caller; records expire as configured; a malformed key
is 400. Entries, claims and ballots keep their record in the same script as the action,
so even an answer that was never kept (the process died) is recovered by the retry.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.store.keys import Keys
from fairdraw.web.app import create_app
from tests.support.app import ADMIN, MANAGER, PARTICIPANT, create_accounts, login, make_settings
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
PRIZES = [{"name": "Bike", "quantity": 1}]


def key() -> str:
    return str(uuid.uuid4())


def problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    code: str = response.json()["code"]
    return code


async def bearer(client: httpx.AsyncClient, credentials: tuple[str, str]) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": credentials[0], "password": credentials[1]},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def new_raffle(client: httpx.AsyncClient, **body: Any) -> str:
    headers = await bearer(client, MANAGER)
    payload = {"title": "Charity raffle", "prizes": PRIZES, "ticket_count": 5, "open": True}
    response = await client.post("/api/v1/raffles", json=payload | body, headers=headers)
    assert response.status_code == 201, response.text
    draw_id: str = response.json()["id"]
    return draw_id


async def new_giveaway(client: httpx.AsyncClient) -> str:
    headers = await bearer(client, MANAGER)
    payload = {"title": "Sticker giveaway", "prizes": PRIZES, "open": True}
    response = await client.post("/api/v1/draws", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    draw_id: str = response.json()["id"]
    return draw_id


async def claim(client: httpx.AsyncClient, draw_id: str, **headers: str) -> httpx.Response:
    return await client.post(f"/api/v1/draws/{draw_id}/tickets", headers=headers)


def keyed(value: str, **more: str) -> dict[str, str]:
    return {"Idempotency-Key": value, **more}


# -- replay ------------------------------------------------------------------------------------


async def test_a_retried_claim_gets_the_same_ticket_and_code(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await new_raffle(app_client, per_claimant=2)
    same = key()
    first = await anon_client.post(f"/api/v1/draws/{draw_id}/tickets", headers=keyed(same))
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = await anon_client.post(f"/api/v1/draws/{draw_id}/tickets", headers=keyed(same))
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["cache-control"] == "no-store"
    assert again.headers["content-type"] == first.headers["content-type"]
    # One claim only, and a fresh key claims the next ticket.
    assert await redis.llen(KEYS.ledger(draw_id)) == 1
    other = await anon_client.post(f"/api/v1/draws/{draw_id}/tickets", headers=keyed(key()))
    assert other.status_code == 201
    assert other.json()["number"] != first.json()["number"]
    assert await redis.llen(KEYS.ledger(draw_id)) == 2


async def test_a_retried_entry_and_ballot_act_once(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    github.add_user("octocat", 583231)
    draw_id = await new_giveaway(app_client)
    same = key()
    url = f"/api/v1/draws/{draw_id}/entries"
    first = await anon_client.post(url, json={"github": "octocat"}, headers=keyed(same))
    assert first.status_code == 201, first.text
    # Without the key, the same entry is a second entry: 409, and no receipt.
    unkeyed = await anon_client.post(url, json={"github": "octocat"})
    assert problem(unkeyed, 409) == "already_entered"
    # With it, the first answer itself.
    again = await anon_client.post(url, json={"github": "octocat"}, headers=keyed(same))
    assert (again.status_code, again.json()) == (201, first.json())

    token = await bearer(anon_client, PARTICIPANT)
    lottery = await anon_client.post(
        "/api/v1/lotteries",
        json={"name": "Daily coffee", "prize": "Coffee", "start": _today()},
        headers=await bearer(app_client, MANAGER),
    )
    ballots = f"/api/v1/lotteries/{lottery.json()['id']}/ballots"
    cast = await anon_client.post(ballots, headers=keyed(same, **token))
    assert cast.status_code == 201, cast.text
    recast = await anon_client.post(ballots, headers=keyed(same, **token))
    assert (recast.status_code, recast.json()) == (201, cast.json())
    assert cast.json()["ballots_today"] == 1
    assert await redis.llen(KEYS.ledger(cast.json()["round_id"])) == 1


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


async def test_any_state_changing_call_is_replayed(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    headers = keyed(key(), **await bearer(app_client, MANAGER))
    body = {"title": "Once", "prizes": PRIZES}
    first = await app_client.post("/api/v1/draws", json=body, headers=headers)
    again = await app_client.post("/api/v1/draws", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await redis.zcard(KEYS.draws_index()) == 1


async def test_the_same_bytes_as_another_media_type_are_another_request(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    """A body refused as text and sent again, with the same key, as JSON is a new
    request: 422 idempotency_key_reused, never the old refusal replayed as if final."""
    headers = keyed(key(), **await bearer(app_client, MANAGER))
    raw = json.dumps({"title": "Typed", "prizes": PRIZES}).encode()
    as_text = await app_client.post(
        "/api/v1/draws", content=raw, headers=headers | {"Content-Type": "text/plain"}
    )
    assert as_text.status_code == 422
    as_json = await app_client.post(
        "/api/v1/draws", content=raw, headers=headers | {"Content-Type": "application/json"}
    )
    assert problem(as_json, 422) == "idempotency_key_reused"
    assert "idempotent-replayed" not in as_json.headers
    # The parameters of a media type do not make another request.
    fresh = keyed(key(), **await bearer(app_client, MANAGER))
    first = await app_client.post(
        "/api/v1/draws", content=raw, headers=fresh | {"Content-Type": "application/json"}
    )
    again = await app_client.post(
        "/api/v1/draws",
        content=raw,
        headers=fresh | {"Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert await redis.zcard(KEYS.draws_index()) == 1


# -- refusals ----------------------------------------------------------------------------------


async def test_the_same_key_for_another_request_is_422(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    github.add_user("octocat", 583231)
    github.add_user("hubot", 480938)
    draw_id = await new_giveaway(app_client)
    same = key()
    url = f"/api/v1/draws/{draw_id}/entries"
    assert (await anon_client.post(url, json={"github": "octocat"}, headers=keyed(same))).is_success
    other_body = await anon_client.post(url, json={"github": "hubot"}, headers=keyed(same))
    assert problem(other_body, 422) == "idempotency_key_reused"
    other_path = await anon_client.post(f"/api/v1/draws/{draw_id}/tickets", headers=keyed(same))
    assert problem(other_path, 422) == "idempotency_key_reused"
    assert await redis.llen(KEYS.ledger(draw_id)) == 1


@pytest.mark.parametrize(
    "value",
    [
        "",
        "short",
        "x" * 15,
        "y" * 256,
        "has spaces in the key!",
        'quote"inside-the-key',
        "ünïcode-key-of-length",
    ],
)
async def test_a_malformed_key_is_400_and_does_nothing(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis, value: str
) -> None:
    draw_id = await new_raffle(app_client)
    response = await anon_client.post(
        f"/api/v1/draws/{draw_id}/tickets",
        headers=[("Idempotency-Key", value.encode())],  # type: ignore[arg-type]
    )
    assert problem(response, 400) == "idempotency_key_invalid"
    assert await redis.llen(KEYS.ledger(draw_id)) == 0
    assert [k async for k in redis.scan_iter("*idem*")] == []


async def test_a_structured_field_string_is_the_key_inside_its_quotes(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    draw_id = await new_raffle(app_client)
    same = key()
    first = await claim(anon_client, draw_id, **keyed(f'"{same}"'))
    again = await claim(anon_client, draw_id, **keyed(same))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()


async def test_a_key_in_flight_is_409(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    github.add_user("octocat", 583231)
    draw_id = await new_giveaway(app_client)
    same = key()
    url = f"/api/v1/draws/{draw_id}/entries"
    github.mode = "slow"  # the first attempt waits for GitHub until its timeout (2 s)
    first = asyncio.create_task(
        anon_client.post(url, json={"github": "octocat"}, headers=keyed(same))
    )
    await asyncio.sleep(0.5)
    during = await anon_client.post(url, json={"github": "octocat"}, headers=keyed(same))
    assert problem(during, 409) == "idempotency_key_in_flight"
    # Another request with the key is still a reuse, in flight or not.
    reused = await anon_client.post(url, json={"github": "hubot"}, headers=keyed(same))
    assert problem(reused, 422) == "idempotency_key_reused"
    # GitHub never answered: a 503 is not kept, so the retry runs and enters.
    assert problem(await first, 503) == "github_unavailable"
    github.mode = "ok"
    retry = await anon_client.post(url, json={"github": "octocat"}, headers=keyed(same))
    assert retry.status_code == 201, retry.text
    assert await redis.llen(KEYS.ledger(draw_id)) == 1


async def test_refusals_a_retry_could_change_are_not_kept(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    csrf = await login(app_client, ADMIN)
    draw_id = await new_raffle(app_client, early_close=True)
    same = key()
    # A session call without its CSRF token (403) is not kept: the retry with it claims.
    refused = await claim(app_client, draw_id, **keyed(same))
    assert problem(refused, 403) == "csrf_failed"
    claimed = await claim(app_client, draw_id, **keyed(same, **{"X-CSRF-Token": csrf}))
    assert claimed.status_code == 201, claimed.text
    # A final refusal is kept like an answer: the same closed raffle answers the same.
    closed = key()
    closing = await app_client.post(
        f"/api/v1/draws/{draw_id}/close", headers={"X-CSRF-Token": csrf}
    )
    assert closing.status_code == 200, closing.text
    late = await claim(app_client, draw_id, **keyed(closed, **{"X-CSRF-Token": csrf}))
    assert problem(late, 409) == "draw_not_open"
    replayed = await claim(app_client, draw_id, **keyed(closed, **{"X-CSRF-Token": csrf}))
    assert problem(replayed, 409) == "draw_not_open"
    assert replayed.headers["idempotent-replayed"] == "true"


# -- scope -------------------------------------------------------------------------------------


async def test_keys_belong_to_their_caller(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await new_raffle(app_client, claimants="account", per_claimant=2)
    same = key()
    pat = await bearer(anon_client, PARTICIPANT)
    maria = await bearer(anon_client, MANAGER)
    theirs = await claim(anon_client, draw_id, **keyed(same, **pat))
    mine = await claim(anon_client, draw_id, **keyed(same, **maria))
    assert (theirs.status_code, mine.status_code) == (201, 201)
    assert "idempotent-replayed" not in mine.headers
    assert mine.json()["code"] != theirs.json()["code"]
    assert mine.json()["number"] != theirs.json()["number"]
    # A key belongs to the account, whichever credential carries it: a new token of pat's
    # replays pat's ticket.
    again = await claim(
        anon_client, draw_id, **keyed(same, **await bearer(anon_client, PARTICIPANT))
    )
    assert again.json() == theirs.json()
    assert await redis.llen(KEYS.ledger(draw_id)) == 2
    # An anonymous caller with the same key is someone else again.
    anonymous = await new_raffle(app_client)
    first = await claim(anon_client, anonymous, **keyed(same))
    assert first.status_code == 201
    assert first.json()["code"] not in {theirs.json()["code"], mine.json()["code"]}


# -- expiry ------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def short_lived(
    store_url: str, github: GitHubStandIn, redis: Redis
) -> AsyncIterator[httpx.AsyncClient]:
    """The app keeping keyed answers for 1 s only."""
    settings: Settings = make_settings(store_url, github.url, idempotency_seconds=1)
    await create_accounts(settings)
    application: FastAPI = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_records_live_as_long_as_the_setting_says(
    short_lived: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await new_raffle(short_lived, per_claimant=2)
    same = key()
    first = await claim(short_lived, draw_id, **keyed(same))
    assert first.status_code == 201
    records = [k async for k in redis.scan_iter("*idem:*")]
    assert len(records) == 2  # the API's record and the claim's own, in the raffle
    assert any(k.startswith(f"fairdraw:{{d:{draw_id}}}:idem:") for k in records)
    for record in records:
        assert 0 < await redis.pttl(record) <= 1000
    await asyncio.sleep(1.2)
    assert [k async for k in redis.scan_iter("*idem:*")] == []
    later = await claim(short_lived, draw_id, **keyed(same))
    assert later.status_code == 201
    assert later.json()["number"] != first.json()["number"]
    assert await redis.llen(KEYS.ledger(draw_id)) == 2


async def test_the_default_keeps_records_a_day(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await new_raffle(app_client)
    assert (await claim(anon_client, draw_id, **keyed(key()))).status_code == 201
    records = [k async for k in redis.scan_iter("*idem:*")]
    assert len(records) == 2
    for record in records:
        assert 24 * 3600 * 1000 - 60_000 < await redis.pttl(record) <= 24 * 3600 * 1000


# -- crash safety ------------------------------------------------------------------------------


async def test_an_answer_that_was_never_kept_is_recovered_from_the_claim_itself(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, redis: Redis
) -> None:
    """The process died after the claim script and before keeping the answer: only the
    raffle's own record is left, and the retry gets the same ticket from it."""
    draw_id = await new_raffle(app_client, ticket_count=1)
    same = key()
    first = await claim(anon_client, draw_id, **keyed(same))
    assert first.status_code == 201
    api_records = [k async for k in redis.scan_iter("fairdraw:idem:*")]
    assert len(api_records) == 1
    await redis.delete(*api_records)
    # The raffle sold out with that claim: a new claim would be refused, the retry is not.
    again = await claim(anon_client, draw_id, **keyed(same))
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await redis.llen(KEYS.ledger(draw_id)) == 1
    # The code is the real one.
    check = await anon_client.post(
        f"/api/v1/draws/{draw_id}/tickets/check",
        json={"number": first.json()["number"], "code": first.json()["code"]},
    )
    assert check.status_code == 200, check.text


async def test_an_entry_and_a_ballot_are_recovered_the_same_way(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    github.add_user("octocat", 583231)
    draw_id = await new_giveaway(app_client)
    same = key()
    url = f"/api/v1/draws/{draw_id}/entries"
    first = await anon_client.post(url, json={"github": "octocat"}, headers=keyed(same))
    await redis.delete(*[k async for k in redis.scan_iter("fairdraw:idem:*")])
    again = await anon_client.post(url, json={"github": "octocat"}, headers=keyed(same))
    assert (again.status_code, again.json()) == (201, first.json())
    # After the record expired too, it is an ordinary second entry again.
    await redis.delete(*[k async for k in redis.scan_iter("fairdraw:*idem:*")])
    late = await anon_client.post(url, json={"github": "octocat"}, headers=keyed(same))
    assert problem(late, 409) == "already_entered"

    token = await bearer(anon_client, PARTICIPANT)
    lottery = await anon_client.post(
        "/api/v1/lotteries",
        json={"name": "Daily coffee", "prize": "Coffee", "start": _today()},
        headers=await bearer(app_client, MANAGER),
    )
    ballots = f"/api/v1/lotteries/{lottery.json()['id']}/ballots"
    cast = await anon_client.post(ballots, headers=keyed(same, **token))
    await redis.delete(*[k async for k in redis.scan_iter("fairdraw:idem:*")])
    recast = await anon_client.post(ballots, headers=keyed(same, **token))
    assert (recast.status_code, recast.json()) == (201, cast.json())
    assert await redis.llen(KEYS.ledger(cast.json()["round_id"])) == 1


async def test_openapi_documents_the_header_on_every_state_changing_call(
    app_client: httpx.AsyncClient,
) -> None:
    schema = (await app_client.get("/openapi.json")).json()
    documented = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
            keyed = [p for p in headers if p["name"] == "Idempotency-Key"]
            if method in ("post", "put", "patch", "delete") and path.startswith("/api/v1/"):
                assert len(keyed) == 1, (method, path)
                assert keyed[0]["schema"]["minLength"] == 16
                assert "idempotency_key_invalid" in operation["responses"]["400"]["description"]
                assert "idempotency_key_in_flight" in operation["responses"]["409"]["description"]
                assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
                documented += 1
            else:
                assert keyed == [], (method, path)
    assert documented >= 20


async def test_a_body_as_large_as_the_setting_allows_is_keyed_too(
    store_url: str, github: GitHubStandIn, redis: Redis
) -> None:
    """The only bound on a keyed body is FAIRDRAW_MAX_BODY_BYTES: raised above 1 MiB, a
    larger body's answer is still kept and replayed, never acted on unkeyed."""
    settings: Settings = make_settings(store_url, github.url, max_body_bytes=4 << 20)
    await create_accounts(settings)
    application: FastAPI = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers = keyed(key(), **await bearer(client, MANAGER))
            body = {"title": "Large", "prizes": PRIZES, "description": "x" * (2 << 20)}
            first = await client.post("/api/v1/draws", json=body, headers=headers)
            again = await client.post("/api/v1/draws", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (422, 422)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await redis.zcard(KEYS.draws_index()) == 0
