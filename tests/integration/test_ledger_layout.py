"""How ledger elements are stored: the compact layout the enter script writes (no ref, the
time as an offset from the opening), the full layout of ledgers written before it (still
read, sealed and verified, also mixed with compact elements in one ledger), and the store
memory one giveaway entry costs."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest_asyncio
from fastapi import FastAPI
from redis.asyncio import Redis

from fairdraw.domain import fairness, lotteries
from fairdraw.domain.verification import verify_bundle_bytes
from fairdraw.services.drawing import DrawingService
from fairdraw.services.github import GitHubClient
from fairdraw.services.lotteries import LotteryService
from fairdraw.store.draws import DrawStore
from fairdraw.store.keys import Keys
from fairdraw.store.ledger import LedgerEntry, LedgerTerms, compact_element, refs_of
from fairdraw.store.lotteries import LotteryStore, ballot_keys
from fairdraw.store.profiles import ProfileCache
from fairdraw.store.scripts import script_source
from tests.integration.test_dashboard import MARIA, fill, giveaway, services
from tests.integration.test_lotteries import BERLIN, World, new_lottery, person
from tests.support.app import MANAGER, login
from tests.support.github_server import GitHubStandIn
from tests.support.ledgers import stored_entries

KEYS = Keys()
SALT = bytes(range(32))
V2 = LedgerTerms(fairness.ALGORITHM_V2, SALT, opened_ms=1_700_000_000_000)
# Store memory one giveaway entry may cost (ledger element + entrants hash field).
ENTRY_BYTES_MAX = 80
# Store memory one lottery ballot may cost (ledger element + its share of the counts).
BALLOT_BYTES_MAX = 48


def v2_ref(identity: str) -> str:
    return fairness.entry_ref_v2(identity, fairness.entry_nonce(SALT, identity))


# -- the one parse function, both layouts -----------------------------------------------------
def test_a_compact_element_reads_with_the_ref_its_salt_gives() -> None:
    entry = LedgerEntry.parse(7, "+1ffurf\tgh:583231\toctocat", V2)
    assert entry == LedgerEntry(
        7, v2_ref("gh:583231"), 1_700_000_000_000 + 86_400_123, "gh:583231", "octocat"
    )
    v1 = LedgerTerms(fairness.ALGORITHM, SALT, opened_ms=5)
    assert LedgerEntry.parse(0, "+0\tu:ada\tAda", v1).ref == fairness.entry_ref(SALT, "u:ada")
    assert LedgerEntry.parse(0, "+0\tu:ada\tAda", v1).entered_ms == 5


def test_the_time_offset_is_in_base_36_both_ways() -> None:
    for offset in (0, 35, 36, 86_400_123, 6 * 86_400_000, -1_500):
        entry = LedgerEntry(0, "", V2.opened_ms + offset, "gh:1", "mona")
        element = compact_element(entry, V2.opened_ms)
        assert LedgerEntry.parse(0, element, V2).entered_ms == V2.opened_ms + offset
    week = compact_element(
        LedgerEntry(0, "", V2.opened_ms + 7 * 86_400_000, "gh:1", "m"), V2.opened_ms
    )
    assert week == "+a02yo0\tgh:1\tm"  # a week after the opening: 6 digits


def test_a_compact_element_with_its_own_nonce_commits_to_it() -> None:
    nonce = "00" * 16
    entry = LedgerEntry.parse(2, f"+c\tlist:Ada Lovelace\tAda Lovelace\t{nonce}", V2)
    assert entry.ref == fairness.entry_ref_v2("list:Ada Lovelace", bytes(16))
    assert (entry.nonce, entry.label, entry.entered_ms) == (
        nonce,
        "Ada Lovelace",
        V2.opened_ms + 12,
    )


def test_a_full_element_reads_as_written_whatever_the_terms() -> None:
    ref = "ab" * 32
    element = f"{ref}\t1700000000123\tgh:1\tmona"
    assert LedgerEntry.parse(3, element, V2) == LedgerEntry(
        3, ref, 1_700_000_000_123, "gh:1", "mona"
    )
    with_nonce = LedgerEntry.parse(0, f"{ref}\t1\tu:bo\tBo\t{'cd' * 16}", V2)
    assert (with_nonce.label, with_nonce.nonce) == ("Bo", "cd" * 16)


def test_refs_of_gives_what_parse_gives_for_both_layouts() -> None:
    elements = [
        f"{'ab' * 32}\t1700000000123\tgh:1\tmona",
        "+5\tgh:2\tlisa",
        f"+6\tlist:Bo\tBo\t{'01' * 16}",
    ]
    parsed = [LedgerEntry.parse(i, e, V2).ref for i, e in enumerate(elements)]
    assert refs_of(elements, V2) == parsed
    again = LedgerEntry(1, parsed[1], V2.opened_ms + 5, "gh:2", "lisa")
    assert compact_element(again, V2.opened_ms) == elements[1]


# -- a store that already holds full elements ---------------------------------------------------
async def test_a_ledger_written_in_the_full_layout_reads_seals_and_verifies(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Redis
) -> None:
    draw_id = await giveaway(app)
    meta = await redis.hgetall(KEYS.draw_meta(draw_id))
    assert meta["algorithm"] == fairness.ALGORITHM_V2
    salt, opened_ms = bytes.fromhex(meta["salt"]), int(meta["opened_ms"])
    # Three entries as the enter script stored them before the compact layout.
    old = [(f"gh:{n}", f"early{n}", opened_ms + n) for n in (1, 2, 3)]
    for index, (identity, label, entered_ms) in enumerate(old):
        ref = fairness.entry_ref_v2(identity, fairness.entry_nonce(salt, identity))
        await redis.rpush(KEYS.ledger(draw_id), f"{ref}\t{entered_ms}\t{identity}\t{label}")
        await redis.hset(KEYS.entrants(draw_id), identity, index)
    # Then three through today's script: the ledger holds both layouts.
    await fill(redis, draw_id, ["late4", "late5", "late6"], first_id=4)
    elements = await redis.lrange(KEYS.ledger(draw_id), 0, -1)
    assert [e.startswith("+") for e in elements] == [False] * 3 + [True] * 3

    expected = [
        (f"gh:{n}", fairness.entry_ref_v2(f"gh:{n}", fairness.entry_nonce(salt, f"gh:{n}")))
        for n in range(1, 7)
    ]
    entries = await stored_entries(redis, draw_id)
    assert [(e.identity, e.ref) for e in entries] == expected
    assert [e.label for e in entries] == ["early1", "early2", "early3", "late4", "late5", "late6"]
    assert [e.entered_ms for e in entries[:3]] == [opened_ms + 1, opened_ms + 2, opened_ms + 3]
    assert all(opened_ms <= e.entered_ms <= time.time() * 1000 + 1000 for e in entries[3:])

    # An identity stored in the full layout cannot enter again: its entry comes back.
    store = DrawStore(redis, KEYS)
    again = await store.enter(draw_id, "gh:2", "early2")
    assert (again.created, again.entry) == (False, entries[1])

    # Receipts, the entrant list and the entries file all show the same refs.
    receipt = await services(app).entering.receipt(draw_id, 0)
    assert receipt is not None
    assert receipt.ref == expected[0][1]
    await login(app_client, MANAGER)
    listed = (await app_client.get(f"/api/v1/draws/{draw_id}/entrants")).json()["entrants"]
    assert [(e["label"], e["ref"]) for e in listed] == [
        (e.label, ref) for e, (_, ref) in zip(entries, expected, strict=True)
    ]
    await services(app).drawing.close(MARIA, draw_id)
    await services(app).drawing.draw_winners(MARIA, draw_id)
    entries_file = await services(app).drawing.entries_file(draw_id)
    assert entries_file.splitlines() == [f"{i}\t{ref}" for i, (_, ref) in enumerate(expected)]
    bundle = await services(app).drawing.proof_bundle(draw_id)
    report = verify_bundle_bytes(bundle, entries_file.encode())
    assert report.ok, report.first_failure
    (winner,) = json.loads(bundle)["winners"]
    identity, ref = expected[winner["index"]]
    assert (winner["ref"], winner["opening"]["identity"]) == (ref, identity)


# -- store memory -----------------------------------------------------------------------------
def github_login(n: int) -> str:
    """A login of 4 to 14 characters (GitHub's median is about 9)."""
    word = f"{(n * 2_654_435_761) % 36**10:x}"
    return ("dev" + word)[: 4 + n % 11]


async def test_a_giveaway_entry_costs_at_most_80_bytes_of_store_memory(
    app: FastAPI, redis: Redis
) -> None:
    """20,000 entries through the enter script, six days after the draw opened (so the
    stored time offsets have 9 digits), of GitHub ids with 9 digits: the ledger and the
    entrants hash together cost at most 80 bytes per entry (``MEMORY USAGE``, exact)."""
    count = 20_000
    draw_id = await giveaway(app)
    opened_ms = int(time.time() * 1000) - 6 * 86_400_000
    await redis.hset(KEYS.draw_meta(draw_id), "opened_ms", opened_ms)
    await fill(redis, draw_id, [github_login(n) for n in range(count)], first_id=100_000_000)
    assert await redis.llen(KEYS.ledger(draw_id)) == count
    ledger = await redis.memory_usage(KEYS.ledger(draw_id), samples=0)
    entrants = await redis.memory_usage(KEYS.entrants(draw_id), samples=0)
    assert (ledger + entrants) / count <= ENTRY_BYTES_MAX, (ledger / count, entrants / count)
    last = (await stored_entries(redis, draw_id))[-1]
    assert (last.identity, last.label) == (f"gh:{100_000_000 + count - 1}", github_login(count - 1))
    assert last.entered_ms - opened_ms >= 6 * 86_400_000


# -- lottery ballots --------------------------------------------------------------------------
def test_a_compact_ballot_derives_its_ref_from_the_salt_and_its_index() -> None:
    v2 = LedgerTerms(fairness.ALGORITHM_V2, SALT, opened_ms=1_000, ballots=True)
    first = LedgerEntry.parse(4, "+6y\tu:ann\tAnn", v2)
    nonce = fairness.ballot_nonce(SALT, "u:ann", 4)
    assert first == LedgerEntry(
        4, fairness.entry_ref_v2("u:ann", nonce), 1_250, "u:ann", "Ann", nonce.hex()
    )
    # The same participant's next ballot commits to another nonce: the two are not linked.
    second = LedgerEntry.parse(5, "+6z\tu:ann\tAnn", v2)
    assert second.nonce != first.nonce
    assert second.ref != first.ref
    assert refs_of(["+6y\tu:ann\tAnn", "+6z\tu:ann\tAnn"], v2, 4) == [first.ref, second.ref]
    v1 = LedgerTerms(fairness.ALGORITHM, SALT, opened_ms=0, ballots=True)
    plain = LedgerEntry.parse(4, "+0\tu:ann\tAnn", v1)
    assert (plain.ref, plain.nonce) == (fairness.ballot_ref(SALT, "u:ann", 4), None)
    assert len(plain.ref) == 32


@pytest_asyncio.fixture
async def world(redis: Redis, github: GitHubStandIn) -> AsyncIterator[World]:
    client = GitHubClient(github.url, None, 2.0, ProfileCache(redis, KEYS, 60))
    drawing = DrawingService(DrawStore(redis, KEYS), client)
    store = LotteryStore(redis, KEYS)
    try:
        yield World(redis, store, LotteryService(store, drawing), drawing)
    finally:
        await client.aclose()


async def test_a_ballot_costs_at_most_48_bytes_of_store_memory_and_reads_back(
    world: World,
) -> None:
    """20,000 ballots of 1,000 participants (usernames and display names of 12
    characters) over a whole day: the ledger and the ballot counts together cost at most
    48 bytes per ballot; the receipts' refs and times are what the ledger reads as."""
    count, people = 20_000, 1_000
    lid = await new_lottery(world, "2026-03-01")
    start_ms, end_ms = lotteries.day_bounds(BERLIN, date(2026, 3, 1))
    first = await world.service.cast(lid, person("person-00000"), at_ms=start_ms + 1)
    round_id = first.round_id
    sha = await world.redis.script_load(script_source("cast_ballot"))
    span = end_ms - start_ms - 2
    for batch in range(1, count, 5_000):
        async with world.redis.pipeline(transaction=False) as pipe:
            for n in range(batch, min(batch + 5_000, count)):
                name = f"person-{n % people:05d}"
                round_keys = ballot_keys(KEYS, round_id, name)
                at_ms = start_ms + 1 + n * span // count
                args = [at_ms, start_ms, end_ms, f"u:{name}", "", name.title(), name, "", ""]
                pipe.evalsha(sha, len(round_keys), *round_keys, *args)
            await pipe.execute()
    assert await world.redis.llen(KEYS.ledger(round_id)) == count
    ledger = await world.redis.memory_usage(KEYS.ledger(round_id), samples=0)
    counts = await world.redis.memory_usage(KEYS.entrants(round_id), samples=0)
    assert (ledger + counts) / count <= BALLOT_BYTES_MAX, (ledger / count, counts / count)

    late = await world.service.cast(lid, person("person-00007"), at_ms=end_ms - 1)
    assert (late.number, late.ballots_today) == (count + 1, 21)
    (stored,) = await DrawStore(world.redis, KEYS).entries_at(round_id, [count])
    assert (stored.ref, stored.entered_ms, stored.identity) == (
        late.ref,
        end_ms - 1,
        "u:person-00007",
    )
    again = await world.service.ballot(lid, date(2026, 3, 1), count + 1, 21)
    assert again is not None
    assert (again.ref, again.cast_ms) == (late.ref, late.cast_ms)
