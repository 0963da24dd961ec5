"""Races over real HTTP: entries against the close, and the key layout afterwards."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from fairdraw.domain.identity import GitHubProfile
from fairdraw.store.connection import connect
from fairdraw.store.keys import Keys
from fairdraw.store.profiles import ProfileCache
from tests.support.app import ADMIN, LiveServer, login
from tests.support.github_server import GitHubStandIn

KEYS = Keys()


async def test_entries_racing_the_close_are_refused_or_sealed(live_server: LiveServer) -> None:
    github: GitHubStandIn = live_server.github
    # Profiles come from the cache, as at a meetup where people entered before: this
    # test is about the close racing the entry script, not about GitHub's latency.
    assert live_server.settings.redis_url
    redis = connect(live_server.settings.redis_url)
    cache = ProfileCache(redis, KEYS, 3600)
    for i in range(200):
        await cache.put(GitHubProfile.from_json(github.add_user(f"racer{i}", 5000 + i, None)))
    await redis.aclose()
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=live_server.url, limits=limits, timeout=30) as admin:
        csrf = await login(admin, ADMIN)
        created = await admin.post(
            "/api/v1/draws",
            json={"title": "Race", "prizes": [{"name": "Prize", "quantity": 3}], "open": True},
            headers={"X-CSRF-Token": csrf},
        )
        draw_id = created.json()["id"]
        # Sixteen connections spread the 200 entries over time, so the close lands
        # among them: some before it, some after, a few in the same instant.
        crowd_limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(
            base_url=live_server.url, limits=crowd_limits, timeout=30
        ) as crowd:
            answered = 0
            some_in = asyncio.Event()

            async def enter(i: int) -> httpx.Response:
                nonlocal answered
                response = await crowd.post(
                    f"/api/v1/draws/{draw_id}/entries", json={"github": f"racer{i}"}
                )
                answered += 1
                if answered == 20:
                    some_in.set()
                return response

            async def close_soon() -> httpx.Response:
                # Close while most entries are still in flight.
                await some_in.wait()
                return await admin.post(
                    f"/api/v1/draws/{draw_id}/close", headers={"X-CSRF-Token": csrf}
                )

            *entries, closing = await asyncio.gather(*(enter(i) for i in range(200)), close_soon())
        assert closing.status_code == 200
        accepted: dict[int, dict[str, Any]] = {}
        for response in entries:
            if response.status_code == 201:
                receipt = response.json()
                accepted[receipt["index"]] = receipt
            else:
                assert response.status_code == 409, response.text
                assert response.json()["code"] == "draw_not_open"
        assert 20 <= len(accepted) < 200
        sealed = closing.json()["seal"]
        assert sealed["entry_count"] == len(accepted)
        ledger = (await admin.get(f"/api/v1/draws/{draw_id}/entries.txt")).text.splitlines()
        assert ledger == [f"{i}\t{accepted[i]['ref']}" for i in range(len(accepted))]
