"""The benchmarks' bare-framework ceiling runs the real scripts: when a script's keys or
reply change, its figures must fail here, not turn into a ceiling of error pages."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from bench.bare_app import STORE_URL_VARIABLE, create_app
from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, login

KEYS = Keys()


async def created(client: httpx.AsyncClient, csrf: str, path: str, body: dict[str, object]) -> str:
    payload = {"title": "Ceiling", "prizes": [{"name": "Mug", "quantity": 1}], "open": True}
    response = await client.post(path, json=payload | body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    draw_id: str = response.json()["id"]
    return draw_id


async def test_the_bare_endpoints_enter_and_claim_with_the_real_scripts(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    store_url: str,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    csrf = await login(app_client, ADMIN)
    giveaway = await created(app_client, csrf, "/api/v1/draws", {})
    raffle = await created(app_client, csrf, "/api/v1/raffles", {"ticket_count": 10})
    monkeypatch.setenv(STORE_URL_VARIABLE, store_url)
    bare = create_app()
    async with bare.router.lifespan_context(bare):
        transport = httpx.ASGITransport(app=bare)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            first = await client.post(f"/enter/{giveaway}", json={"github": "b1"})
            again = await client.post(f"/enter/{giveaway}", json={"github": "b1"})
            second = await client.post(f"/enter/{giveaway}", json={"github": "b2"})
            claims = [
                await client.post(f"/claim/{raffle}", headers={"X-Forwarded-For": f"10.0.0.{n}"})
                for n in (1, 2)
            ]
    assert (first.status_code, first.json()) == (201, {"index": 0, "created": True})
    assert (again.status_code, again.json()) == (201, {"index": 0, "created": False})
    assert (second.status_code, second.json()["index"]) == (201, 1)
    assert [(c.status_code, c.json()["index"]) for c in claims] == [(201, 0), (201, 1)]
    assert await redis.llen(KEYS.ledger(giveaway)) == 2
    assert await redis.hlen(KEYS.claimants(raffle)) == 2
