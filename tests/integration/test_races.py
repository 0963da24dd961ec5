"""Races over real HTTP: entries against the close, and the key layout afterwards."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, LiveServer, login
from tests.support.github_server import GitHubStandIn

KEYS = Keys()


async def test_entries_racing_the_close_are_refused_or_sealed(live_server: LiveServer) -> None:
    github: GitHubStandIn = live_server.github
    for i in range(200):
        github.add_user(f"racer{i}", 5000 + i, None)
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=live_server.url, limits=limits, timeout=30) as admin:
        csrf = await login(admin, ADMIN)
        created = await admin.post(
            "/api/v1/draws",
            json={"title": "Race", "prizes": [{"name": "Prize", "quantity": 3}], "open": True},
            headers={"X-CSRF-Token": csrf},
        )
        draw_id = created.json()["id"]
        async with httpx.AsyncClient(base_url=live_server.url, limits=limits, timeout=30) as crowd:

            async def enter(i: int) -> httpx.Response:
                return await crowd.post(
                    f"/api/v1/draws/{draw_id}/entries", json={"github": f"racer{i}"}
                )

            async def close_soon() -> httpx.Response:
                await asyncio.sleep(0.05)
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
        sealed = closing.json()["seal"]
        assert sealed["entry_count"] == len(accepted)
        ledger = (await admin.get(f"/api/v1/draws/{draw_id}/entries.txt")).text.splitlines()
        assert ledger == [f"{i}\t{accepted[i]['ref']}" for i in range(len(accepted))]
