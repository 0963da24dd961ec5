"""Sealing: chunk roots hashed while a draw is open, the rest at the close; the result
always equals the single-process Merkle root."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain import fairness
from fairdraw.services import sealing
from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, login
from tests.support.github_server import GitHubStandIn

KEYS = Keys()


def reader(refs: list[str]) -> sealing.ReadRefs:
    async def read(start: int, stop: int) -> list[str]:
        return refs[start:stop]

    return read


@pytest.mark.parametrize(
    "count",
    [0, 1, 5, sealing.PARALLEL_FROM - 1, sealing.PARALLEL_FROM, sealing.PARALLEL_FROM + 12_345],
)
async def test_root_equals_the_reference(count: int) -> None:
    refs = [f"{i:032x}" for i in range(count)]
    assert await sealing.ledger_root(count, reader(refs), {}) == fairness.merkle_root(refs)


async def test_kept_chunk_roots_are_used_not_recomputed() -> None:
    size = fairness.CHUNK_LEAVES
    count = 2 * size + 10
    refs = [f"{i:032x}" for i in range(count)]
    right = {
        0: fairness.chunk_root(0, refs[:size]),
        1: fairness.chunk_root(size, refs[size : 2 * size]),
    }
    assert await sealing.ledger_root(count, reader(refs), right) == fairness.merkle_root(refs)

    async def must_not_read_complete_chunks(start: int, stop: int) -> list[str]:
        assert start == 2 * size, "a kept chunk was read again"
        return refs[start:stop]

    assert await sealing.ledger_root(count, must_not_read_complete_chunks, right) == (
        fairness.merkle_root(refs)
    )
    wrong = {**right, 1: bytes(32)}
    assert await sealing.ledger_root(count, reader(refs), wrong) != fairness.merkle_root(refs)


async def draw_with_entries(
    admin: httpx.AsyncClient, entrant: httpx.AsyncClient, github: GitHubStandIn, count: int
) -> tuple[str, str]:
    """An open draw with ``count`` entries; its id and the admin's CSRF token."""
    csrf = await login(admin, ADMIN)
    body = {"title": "Chunks", "prizes": [{"name": "Pen", "quantity": 1}], "open": True}
    created = await admin.post("/api/v1/draws", json=body, headers={"X-CSRF-Token": csrf})
    draw_id: str = created.json()["id"]
    for i in range(count):
        github.add_user(f"chunky{i}", 700 + i)
        response = await entrant.post(
            f"/api/v1/draws/{draw_id}/entries", json={"github": f"chunky{i}"}
        )
        assert response.status_code == 201
    return draw_id, csrf


async def wait_for_chunks(redis: Redis, draw_id: str, count: int) -> None:
    """Chunks are hashed in the background, after the entries are answered."""
    for _ in range(200):
        if await redis.hlen(KEYS.chunk_roots(draw_id)) == count:
            return
        await asyncio.sleep(0.05)


async def test_entries_hash_each_chunk_as_it_fills(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fairness, "CHUNK_LEAVES", 4)
    draw_id, csrf = await draw_with_entries(app_client, anon_client, github, 10)
    await wait_for_chunks(redis, draw_id, 2)
    stored = await redis.hgetall(KEYS.chunk_roots(draw_id))
    assert sorted(stored) == ["0", "1"]
    closed = await app_client.post(f"/api/v1/draws/{draw_id}/close", headers={"X-CSRF-Token": csrf})
    entries = (await app_client.get(f"/api/v1/draws/{draw_id}/entries.txt")).text
    refs = [line.split("\t")[1] for line in entries.splitlines()]
    assert stored["1"] == fairness.chunk_root(4, refs[4:8]).hex()
    assert closed.json()["seal"]["root"] == fairness.merkle_root(refs).hex()


async def test_missed_chunks_are_hashed_once_on_demand(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fairness, "CHUNK_LEAVES", 4)
    draw_id, _ = await draw_with_entries(app_client, anon_client, github, 9)
    await wait_for_chunks(redis, draw_id, 2)
    # As if the process had stopped before hashing them: the roots are gone.
    await redis.delete(KEYS.chunk_roots(draw_id))
    drawing = app.state.services.drawing
    assert await drawing.seal_complete_chunks(draw_id) == 2
    assert await drawing.seal_complete_chunks(draw_id) == 0
    assert sorted(await redis.hkeys(KEYS.chunk_roots(draw_id))) == ["0", "1"]
