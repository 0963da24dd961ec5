"""The public draw log on the real store: appends once per leaf id from many tasks and
clients, proofs that the RFC 9162 verifiers accept, signed tree heads, and the HTTP API."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain import transparency as t
from fairdraw.domain.errors import DrawNotFound, InvalidInput
from fairdraw.domain.signing import SigningKey, verify_statement
from fairdraw.services.draw_log import MAX_ENTRIES, DrawLogService
from fairdraw.store.connection import connect
from fairdraw.store.draw_log import DrawLogStore
from fairdraw.store.keys import Keys
from tests.support.app import MANAGER, login

KEYS = Keys()
NOW_MS = 1796594400000
TIME = "2026-12-06T22:00:00.000Z"
HASH = "ab" * 32
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
SIGNING = SigningKey.generate()


def draw_id(number: int) -> str:
    """A valid draw id for ``number``: 12 base-32 digits."""
    return "".join(_ALPHABET[(number >> (5 * k)) & 31] for k in range(12))


def commit(draw: str, **changes: Any) -> dict[str, Any]:
    entry = {"type": "commit", "draw_id": draw, "kind": "giveaway", "time": TIME}
    return entry | {"commitment": HASH} | changes


def seal(draw: str, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "seal",
        "draw_id": draw,
        "time": TIME,
        "root": HASH,
        "entry_count": 3,
        "sealed_at": TIME,
        "beacon": {"chain_hash": "52" * 32, "round": 1000},
    }
    return entry | changes


def drawn(draw: str, bundle_hash: str = HASH) -> dict[str, Any]:
    return {"type": "draw", "draw_id": draw, "time": TIME, "bundle_hash": bundle_hash}


def cancel(draw: str) -> dict[str, Any]:
    return {"type": "cancel", "draw_id": draw, "time": TIME, "commitment": None, "seed": None}


def service_on(redis: Redis) -> DrawLogService:
    return DrawLogService(DrawLogStore(redis, KEYS), SIGNING, clock=lambda: NOW_MS)


@pytest.fixture
def log(redis: Redis) -> DrawLogService:
    return service_on(redis)


@pytest_asyncio.fixture
async def second_client(store_url: str, redis: Redis) -> AsyncIterator[Redis]:
    """Another connection pool to the same (flushed) store: another process's view."""
    client = connect(store_url)
    try:
        yield client
    finally:
        await client.aclose()


async def fill(log: DrawLogService, count: int, first: int = 0) -> list[dict[str, Any]]:
    """Append ``count`` commit leaves of draws ``first``, ``first + 1``, ...; each must
    land at the end of the log."""
    entries = [commit(draw_id(first + i)) for i in range(count)]
    size = (await log.tree_head())["statement"]["tree_size"]
    for expected, entry in enumerate(entries, size):
        assert await log.append(entry) == expected
    return entries


def root_of(head: dict[str, Any]) -> bytes:
    return bytes.fromhex(head["statement"]["root_hash"])


# -- appending -------------------------------------------------------------------------------


async def test_a_leaf_is_appended_once_per_draw_and_type(log: DrawLogService, redis: Redis) -> None:
    draw = draw_id(1)
    assert await log.append(commit(draw)) == 0
    assert await log.append(seal(draw)) == 1
    assert await log.append(commit(draw_id(2))) == 2
    # A retry, even with other contents, returns the first leaf and writes nothing.
    assert await log.append(commit(draw, time="2026-12-07T00:00:00.000Z")) == 0
    assert await log.append(seal(draw)) == 1
    assert await service_on(redis).append(commit(draw)) == 0
    assert (await log.tree_head())["statement"]["tree_size"] == 3
    assert await log.entries(0, 10) == [
        {"leaf_index": 0, "entry": commit(draw)},
        {"leaf_index": 1, "entry": seal(draw)},
        {"leaf_index": 2, "entry": commit(draw_id(2))},
    ]
    assert await log.draw_leaves(draw) == [
        {"leaf_index": 0, "entry": commit(draw)},
        {"leaf_index": 1, "entry": seal(draw)},
    ]


async def test_the_store_holds_canonical_json_and_only_known_keys(
    log: DrawLogService, redis: Redis
) -> None:
    await log.append(seal(draw_id(1), beacon=None))
    await log.append(drawn(draw_id(1)))
    await log.append(cancel(draw_id(2)))
    assert await redis.lindex(KEYS.log_entries(), 0) == (
        '{"beacon":null,"draw_id":"baaaaaaaaaaa","entry_count":3,"root":"' + HASH + '",'
        '"sealed_at":"' + TIME + '","time":"' + TIME + '","type":"seal"}'
    )
    assert await redis.hgetall(KEYS.log_ids()) == {
        "seal:baaaaaaaaaaa": "0",
        "draw:baaaaaaaaaaa": "1",
        "cancel:caaaaaaaaaaa": "2",
    }
    stored = [key async for key in redis.scan_iter()]
    assert sorted(stored) == sorted(
        [KEYS.log_head(), KEYS.log_entries(), KEYS.log_ids(), KEYS.log_level(0), KEYS.log_level(1)]
    )
    patterns = KEYS.patterns()
    assert all(any(p.fullmatch(key) for p in patterns) for key in stored)


@pytest.mark.parametrize(
    ("entry", "errors"),
    [
        ({"draw_id": draw_id(1)}, {"type": "one of commit, seal, draw, cancel, forfeit"}),
        (
            {"type": "reveal", "draw_id": draw_id(1)},
            {"type": "one of commit, seal, draw, cancel, forfeit"},
        ),
        (
            {"type": "draw", "draw_id": draw_id(1)},
            {"time": "required", "bundle_hash": "required"},
        ),
        (
            drawn(draw_id(1)) | {"winner": "x"},
            {"winner": "not a field of a draw leaf"},
        ),
        (drawn("ABCDEFGHIJKL"), {"draw_id": "a fairdraw draw id"}),
        (drawn(draw_id(1), HASH.upper()), {"bundle_hash": "64 lowercase hex characters"}),
        (commit(draw_id(1), kind="tombola"), {"kind": "one of giveaway, lottery, raffle"}),
        (commit(draw_id(1), commitment=None), {"commitment": "64 lowercase hex characters"}),
        (
            commit(draw_id(1), time="2026-12-06T22:00:00Z"),
            {"time": "an ISO-8601 UTC time with milliseconds, like 2026-12-06T22:00:00.000Z"},
        ),
        (
            commit(draw_id(1), time="2026-13-06T22:00:00.000Z"),
            {"time": "an ISO-8601 UTC time with milliseconds, like 2026-12-06T22:00:00.000Z"},
        ),
        (seal(draw_id(1), entry_count=True), {"entry_count": "an integer >= 0"}),
        (seal(draw_id(1), entry_count=-1), {"entry_count": "an integer >= 0"}),
        (seal(draw_id(1), entry_count=3.0), {"entry_count": "an integer >= 0"}),
        (
            seal(draw_id(1), beacon={"chain_hash": HASH, "round": 0}),
            {"beacon": "null or {chain_hash: 64 hex, round: integer >= 1}"},
        ),
        (
            seal(draw_id(1), beacon={"chain_hash": HASH, "round": 1, "x": 1}),
            {"beacon": "null or {chain_hash: 64 hex, round: integer >= 1}"},
        ),
        (
            seal(draw_id(1), beacon={"chain_hash": "x", "round": 1}),
            {"beacon": "null or {chain_hash: 64 hex, round: integer >= 1}"},
        ),
        (cancel(draw_id(1)) | {"seed": "00"}, {"seed": "64 lowercase hex characters"}),
    ],
)
async def test_malformed_leaves_are_refused(
    log: DrawLogService, redis: Redis, entry: dict[str, Any], errors: dict[str, str]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await log.append(entry)
    assert refused.value.errors == errors
    assert await redis.exists(KEYS.log_head()) == 0


async def test_concurrent_appends_from_many_tasks_and_two_clients(
    redis: Redis, second_client: Redis
) -> None:
    """Two clients (two processes' views), each appending from many tasks at once, some
    leaves sent by both: one leaf per id, indexes 0 .. n-1 without gaps, and a tree whose
    every stored subtree agrees with the leaves."""
    first, second = service_on(redis), service_on(second_client)
    draws = [draw_id(i) for i in range(120)]
    jobs = [first.append(commit(d)) for d in draws[:60]]
    jobs += [second.append(commit(d)) for d in draws[60:]]
    jobs += [service.append(seal(d)) for d in draws[:40] for service in (first, second)]
    indexes = await asyncio.gather(*jobs)
    assert sorted(set(indexes)) == list(range(160))
    # A seal sent by both clients got one leaf, and both were told its index.
    seals = indexes[120:]
    assert seals[0::2] == seals[1::2]
    entries = await first.entries(0, 1000)
    assert [e["leaf_index"] for e in entries] == list(range(160))
    ids = [f"{e['entry']['type']}:{e['entry']['draw_id']}" for e in entries]
    assert len(set(ids)) == 160
    leaves = [t.leaf_hash(e["entry"]) for e in entries]
    head = await second.tree_head()
    assert head["statement"]["tree_size"] == 160
    assert root_of(head) == t.tree_hash(leaves)
    for index in range(160):
        path = [bytes.fromhex(node) for node in await first.inclusion(index, 160)]
        assert t.verify_inclusion(leaves[index], index, 160, path, root_of(head))


async def test_a_process_with_an_old_view_of_the_log_catches_up(
    redis: Redis, second_client: Redis
) -> None:
    first, second = service_on(redis), service_on(second_client)
    assert await first.append(commit(draw_id(0))) == 0
    assert await second.append(commit(draw_id(1))) == 1
    assert await second.append(commit(draw_id(2))) == 2
    # first still believes the log has one leaf: the store says otherwise, it retries.
    assert await first.append(commit(draw_id(3))) == 3
    entries = [e["entry"] for e in await first.entries(0, 4)]
    assert entries == [commit(draw_id(i)) for i in range(4)]
    assert root_of(await first.tree_head()) == t.tree_hash([t.leaf_hash(e) for e in entries])


async def test_a_view_of_another_tree_of_the_same_size_is_not_appended_to(
    redis: Redis, second_client: Redis
) -> None:
    """A store put back from elsewhere (a restore) may hold a log of the size a process
    remembers but other leaves: the process's hashes would not fit it, so it rereads."""
    first, second = service_on(redis), service_on(second_client)
    await fill(first, 3)
    await redis.flushdb()
    await fill(second, 3, first=50)
    assert await first.append(commit(draw_id(9))) == 3
    entries = [e["entry"] for e in await first.entries(0, 10)]
    assert entries == [*(commit(draw_id(50 + i)) for i in range(3)), commit(draw_id(9))]
    leaves = [t.leaf_hash(e) for e in entries]
    assert root_of(await first.tree_head()) == t.tree_hash(leaves)
    for index in range(4):
        path = [bytes.fromhex(h) for h in await second.inclusion(index, 4)]
        assert t.verify_inclusion(leaves[index], index, 4, path, t.tree_hash(leaves))


# -- tree heads and proofs -----------------------------------------------------------------


async def test_tree_heads_are_signed_statements(log: DrawLogService) -> None:
    empty = await log.tree_head()
    assert empty["statement"] == {
        "type": "tree-head",
        "tree_size": 0,
        "root_hash": t.EMPTY_ROOT.hex(),
        "timestamp": NOW_MS,
        "key_id": SIGNING.key_id,
    }
    assert verify_statement(empty, SIGNING.public_key)
    entries = await fill(log, 5)
    head = await log.tree_head()
    assert head["statement"]["tree_size"] == 5
    assert root_of(head) == t.tree_hash([t.leaf_hash(e) for e in entries])
    assert verify_statement(head, SIGNING.public_key)
    assert not verify_statement(head, SigningKey.generate().public_key)
    assert await log.tree_head_at(5) == head
    assert await log.tree_head_at(0) == empty
    for size in range(6):
        past = await log.tree_head_at(size)
        assert root_of(past) == t.tree_hash([t.leaf_hash(e) for e in entries[:size]])
        assert verify_statement(past, SIGNING.public_key)


async def test_every_proof_of_the_service_verifies(log: DrawLogService) -> None:
    entries = await fill(log, 37)
    leaves = [t.leaf_hash(e) for e in entries]
    roots = [root_of(await log.tree_head_at(size)) for size in range(38)]
    for size in range(1, 38):
        for index in range(size):
            path = [bytes.fromhex(h) for h in await log.inclusion(index, size)]
            assert path == t.inclusion_path(leaves, index, size)
            assert t.verify_inclusion(leaves[index], index, size, path, roots[size])
        for first in range(size + 1):
            proof = [bytes.fromhex(h) for h in await log.consistency(first, size)]
            assert proof == t.consistency_path(leaves, first, size)
            assert t.verify_consistency(first, size, roots[first], roots[size], proof)


async def test_a_bundle_log_field_proves_its_leaf(log: DrawLogService) -> None:
    await fill(log, 6)
    draw = draw_id(100)
    await log.append(commit(draw))
    index = await log.append(drawn(draw))
    await fill(log, 3, first=200)
    placed = await log.proof_of(draw, "draw")
    assert placed is not None
    assert set(placed) == {"leaf_index", "entry", "path", "tree_head"}
    assert placed["leaf_index"] == index == 7
    assert placed["entry"] == drawn(draw)
    head = placed["tree_head"]
    assert head["statement"]["tree_size"] == 11
    assert verify_statement(head, SIGNING.public_key)
    path = [bytes.fromhex(h) for h in placed["path"]]
    assert t.verify_inclusion(t.leaf_hash(drawn(draw)), 7, 11, path, root_of(head))
    assert await log.proof_of(draw, "cancel") is None
    assert await log.proof_of(draw_id(999), "draw") is None
    with pytest.raises(InvalidInput):
        await log.proof_of(draw, "reveal")
    with pytest.raises(DrawNotFound):
        await log.proof_of("../x", "draw")


async def test_a_rewritten_log_is_caught_by_consistency(log: DrawLogService, redis: Redis) -> None:
    """An auditor kept the head at 10 leaves. The honest log proves every later head
    extends it; a log rebuilt with one leaf changed (a draw run again) cannot."""
    entries = await fill(log, 10)
    kept = await log.tree_head()
    await fill(log, 10, first=10)
    honest = await log.tree_head()
    proof = [bytes.fromhex(h) for h in await log.consistency(10, 20)]
    assert t.verify_consistency(10, 20, root_of(kept), root_of(honest), proof)

    await redis.flushdb()
    rewritten = service_on(redis)
    for entry in [*entries[:4], commit(draw_id(4), commitment="cd" * 32), *entries[5:]]:
        await rewritten.append(entry)
    await fill(rewritten, 10, first=10)
    head = await rewritten.tree_head()
    forged = [bytes.fromhex(h) for h in await rewritten.consistency(10, 20)]
    assert head["statement"]["tree_size"] == 20
    assert not t.verify_consistency(10, 20, root_of(kept), root_of(head), forged)
    # Nor can it reuse the honest log's proof.
    assert not t.verify_consistency(10, 20, root_of(kept), root_of(head), proof)


async def test_bad_parameters_are_invalid_input(log: DrawLogService) -> None:
    await fill(log, 4)
    refusals = [
        (log.inclusion(0, 5), {"tree_size": "a tree size from 0 to the log's size (4)"}),
        (log.inclusion(4, 4), {"leaf_index": "a leaf of the tree: 0 to 3"}),
        (log.inclusion(-1, 4), {"leaf_index": "a leaf of the tree: 0 to 3"}),
        (log.inclusion(0, 0), {"leaf_index": "a leaf of the tree: 0 to -1"}),
        (log.consistency(1, 5), {"second": "a tree size from 0 to the log's size (4)"}),
        (log.consistency(3, 2), {"first": "a tree size from 0 to second (2)"}),
        (log.consistency(-1, 2), {"first": "a tree size from 0 to second (2)"}),
        (log.tree_head_at(5), {"tree_size": "a tree size from 0 to the log's size (4)"}),
        (log.tree_head_at(-1), {"tree_size": "a tree size from 0 to the log's size (4)"}),
        (log.entries(-1, 3), {"start": "a leaf index >= 0"}),
        (log.entries(3, 2), {"end": "at least start"}),
    ]
    for call, errors in refusals:
        with pytest.raises(InvalidInput) as refused:
            await call
        assert refused.value.errors == errors
    with pytest.raises(DrawNotFound):
        await log.draw_leaves("{log}")


async def test_entries_are_read_in_pages(log: DrawLogService) -> None:
    entries = await fill(log, MAX_ENTRIES + 5)
    page = await log.entries(0, 10**30)
    assert len(page) == MAX_ENTRIES
    assert [e["entry"] for e in page] == entries[:MAX_ENTRIES]
    rest = await log.entries(MAX_ENTRIES, MAX_ENTRIES + 100)
    assert [e["leaf_index"] for e in rest] == list(range(MAX_ENTRIES, MAX_ENTRIES + 5))
    assert await log.entries(MAX_ENTRIES + 5, MAX_ENTRIES + 6) == []
    assert await log.entries(10**30, 10**31) == []
    assert await log.entries(2, 2) == []


# -- over HTTP -------------------------------------------------------------------------------


async def test_the_log_api(app: FastAPI, app_client: httpx.AsyncClient) -> None:
    service: DrawLogService = app.state.services.draw_log
    entries = await fill(service, 9)

    key = (await app_client.get("/.well-known/fairdraw-signing-key")).json()
    signing: SigningKey = app.state.services.signing
    assert key == {
        "algorithm": "ed25519",
        "public_key": signing.public_key.hex(),
        "key_id": hashlib.sha256(signing.public_key).hexdigest(),
    }
    public_key = bytes.fromhex(key["public_key"])

    response = await app_client.get("/api/v1/log/tree-head")
    assert response.status_code == 200
    head = response.json()
    assert set(head) == {"statement", "signature"}
    assert head["statement"]["tree_size"] == 9
    assert head["statement"]["key_id"] == key["key_id"]
    assert verify_statement(head, public_key)
    leaves = [t.leaf_hash(e) for e in entries]
    assert root_of(head) == t.tree_hash(leaves)

    response = await app_client.get("/api/v1/log/entries", params={"start": 7, "end": 100})
    assert response.json() == {
        "entries": [{"leaf_index": 7, "entry": entries[7]}, {"leaf_index": 8, "entry": entries[8]}]
    }

    response = await app_client.get(
        "/api/v1/log/inclusion", params={"leaf_index": 5, "tree_size": 9}
    )
    body = response.json()
    assert body == {
        "leaf_index": 5,
        "tree_size": 9,
        "path": [node.hex() for node in t.inclusion_path(leaves, 5, 9)],
    }
    path = [bytes.fromhex(node) for node in body["path"]]
    assert t.verify_inclusion(leaves[5], 5, 9, path, root_of(head))

    response = await app_client.get("/api/v1/log/consistency", params={"first": 3, "second": 9})
    body = response.json()
    assert body == {
        "first": 3,
        "second": 9,
        "path": [node.hex() for node in t.consistency_path(leaves, 3, 9)],
    }
    proof = [bytes.fromhex(node) for node in body["path"]]
    assert t.verify_consistency(3, 9, t.tree_hash(leaves[:3]), root_of(head), proof)


async def test_a_draws_leaves_over_http(app: FastAPI, app_client: httpx.AsyncClient) -> None:
    csrf = await login(app_client, MANAGER)
    created = await app_client.post(
        "/api/v1/draws",
        json={"title": "Log", "prizes": [{"name": "Mug", "quantity": 1}]},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201, created.text
    draw = created.json()["id"]
    response = await app_client.get(f"/api/v1/draws/{draw}/log")
    assert response.status_code == 200
    assert response.json() == []
    service: DrawLogService = app.state.services.draw_log
    await service.append(commit(draw_id(7)))
    await service.append(commit(draw))
    await service.append(cancel(draw))
    response = await app_client.get(f"/api/v1/draws/{draw}/log")
    assert response.json() == [
        {"leaf_index": 1, "entry": commit(draw)},
        {"leaf_index": 2, "entry": cancel(draw)},
    ]
    missing = await app_client.get(f"/api/v1/draws/{draw_id(8)}/log")
    assert missing.status_code == 404
    assert missing.json()["code"] == "draw_not_found"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/log/entries", {"start": -1, "end": 3}, "start"),
        ("/api/v1/log/entries", {"start": 3, "end": 2}, "end"),
        ("/api/v1/log/entries", {"start": "x", "end": 2}, "start"),
        ("/api/v1/log/entries", {"start": 0}, "end"),
        ("/api/v1/log/inclusion", {"leaf_index": 0, "tree_size": 3}, "tree_size"),
        ("/api/v1/log/inclusion", {"leaf_index": 2, "tree_size": 2}, "leaf_index"),
        ("/api/v1/log/inclusion", {"leaf_index": -1, "tree_size": 2}, "leaf_index"),
        ("/api/v1/log/inclusion", {"leaf_index": 0, "tree_size": 10**30}, "tree_size"),
        ("/api/v1/log/inclusion", {"tree_size": 2}, "leaf_index"),
        ("/api/v1/log/consistency", {"first": 1, "second": 3}, "second"),
        ("/api/v1/log/consistency", {"first": 2, "second": 1}, "first"),
        ("/api/v1/log/consistency", {"first": 1.5, "second": 2}, "first"),
    ],
)
async def test_bad_parameters_answer_422_problems(
    app: FastAPI, app_client: httpx.AsyncClient, path: str, params: dict[str, Any], field: str
) -> None:
    await fill(app.state.services.draw_log, 2)
    response = await app_client.get(path, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert list(problem["errors"]) == [field]


async def test_far_away_entries_are_an_empty_page(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    await fill(app.state.services.draw_log, 2)
    response = await app_client.get("/api/v1/log/entries", params={"start": 10**30, "end": 10**31})
    assert response.status_code == 200
    assert response.json() == {"entries": []}
