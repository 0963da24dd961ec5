"""Sealing and drawing a raffle of N claimed tickets (100 prizes), service level, in a
private embedded store.

The raffles are ``fairdraw/2`` raffles made and drawn by a ``DrawingService`` with its
proofs (draw log, signing key, and a beacon client pinned to a test drand chain on
loopback, bound with a margin of 0 s: bench/bench_draw.py's ``draw_stack``). Two raffles
of N tickets each get N - 1 claims (bulk-loaded in the claim script's exact format, with
each code's commitment: sealing and drawing depend on how many claims there are and on
the raffle's permutation, not on who claimed; the second raffle's ledger and claimants
are a server-side ``COPY`` of the first's). The last ticket of each is claimed through
``RaffleService.claim``, which closes the raffle as it sells out; then
``DrawingService.seal_closed`` and ``draw_winners`` are timed, the wait for the bound
beacon round apart (slept before the draw), and the entries file after them
(``DrawingService.entries_file``):

- *chunks numbered while open*: before the last claim, ``TicketLedger.hash_complete_chunk``
  runs for every complete 65,536-claim chunk, as the server does in the background each
  time a chunk fills; timed apart (the first chunk alone, since it also starts the
  worker processes, then the others, one per core at a time);
- *cold*: nothing numbered or hashed before the raffle closed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from bench import cpu
from bench.bench_draw import (
    ACTOR,
    beacon_relay,
    draw_stack,
    sleep_until_round,
    wait_for_persistence,
)
from bench.claims import (
    COMMAND_BATCH,
    COMMANDS_PER_ROUND_TRIP,
    claim_element,
    synthetic_claimant,
    synthetic_code_hash,
)
from bench.harness import BenchError, Stopwatch, refused_tcp_port
from bench.raffle_scale import key_sizes, private_store
from bench.raffle_services import RaffleStack, claimant_address, create_open_raffle
from fairdraw.domain import fairness
from fairdraw.domain.beacon import Chain
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import DrawStatus
from fairdraw.store.keys import Keys
from fairdraw.store.raffles import ClaimRecord, RaffleStore

PROCESS_GROUPS = {"valkey-server": "store", "redis-server": "store"}


@dataclass(frozen=True)
class OpenHashing:
    """Numbering and hashing the complete chunks while a raffle is open."""

    chunks: int
    first_chunk_s: float
    rest_s: float
    cpu_seconds: float

    @property
    def total_s(self) -> float:
        return self.first_chunk_s + self.rest_s

    @property
    def cpu_per_chunk_s(self) -> float:
        return self.cpu_seconds / self.chunks if self.chunks else 0.0


@dataclass(frozen=True)
class SealDrawFigures:
    """Closing claim, seal, draw and entries file of one raffle."""

    label: str
    claims: int
    open_hashing: OpenHashing | None
    last_claim_s: float
    seal_s: float
    wait_s: float
    draw_s: float
    entries_s: float
    entries_bytes: int
    winners: int
    alternates: int
    numbers_bytes: int
    chunks_bytes: int
    other_cores: float
    stolen_cores: float

    @property
    def seal_and_draw_s(self) -> float:
        """Seal and draw, the beacon wait excluded."""
        return self.seal_s + self.draw_s


def synthetic_commitment(number: int) -> str:
    """The public commitment to the code of synthetic claim ``number``."""
    return fairness.code_commitment(hashlib.sha256(b"code %d" % number).digest()[:16])


async def bulk_load_claims_v2(
    redis: Redis, keys: Keys, draw_id: str, count: int, claimed_ms: int
) -> None:
    """Append claims of synthetic claimants 0..count-1 to the empty ledger of an open
    fairdraw/2 raffle (code hash and code commitment), and their counts to its claimants
    hash, as the claim script leaves them."""
    ledger, claimants = keys.ledger(draw_id), keys.claimants(draw_id)
    if await redis.llen(ledger):
        raise BenchError(f"the ledger of {draw_id} is not empty")
    pipe = redis.pipeline(transaction=False)
    for start in range(0, count, COMMAND_BATCH):
        elements: list[str] = []
        held: dict[FieldT, EncodableT] = {}
        for number in range(start, min(start + COMMAND_BATCH, count)):
            claimant = synthetic_claimant(number)
            code = f"{synthetic_code_hash(number)}:{synthetic_commitment(number)}"
            elements.append(claim_element(code, claimed_ms, claimant))
            held[claimant] = 1
        pipe.rpush(ledger, *elements)
        pipe.hset(claimants, mapping=held)
        if len(pipe) >= 2 * COMMANDS_PER_ROUND_TRIP:
            await pipe.execute()
    if len(pipe):
        await pipe.execute()


async def check_claims_v2(raffles: RaffleStore, draw_id: str, numbers: list[int]) -> None:
    """Read synthetic fairdraw/2 claims back through RaffleStore, as the service will."""
    for record in await raffles.claims_at(draw_id, numbers):
        expected = ClaimRecord(
            index=record.index,
            code_hash=synthetic_code_hash(record.index),
            claimed_ms=record.claimed_ms,
            claimant=synthetic_claimant(record.index),
            commitment=synthetic_commitment(record.index),
        )
        if record != expected:
            raise BenchError(f"claim {record.index} reads back as {record!r}")
        if await raffles.claims_held(draw_id, record.claimant) != 1:
            raise BenchError(f"the claimant of claim {record.index} holds no ticket")


def _bench_cpu_seconds(before: cpu.CpuSnapshot, after: cpu.CpuSnapshot) -> float:
    """CPU seconds of this process and its children (the hashing workers), store aside."""
    cores = cpu.usage_by_group(before, after, {os.getpid(): "bench"}, PROCESS_GROUPS)
    wall = (after.total_ticks - before.total_ticks) / cpu.CLOCK_TICKS / (os.cpu_count() or 1)
    return cores.get("bench", 0.0) * wall


async def _hash_while_open(stack: RaffleStack, draw_id: str, claims: int) -> OpenHashing:
    chunks = claims // fairness.CHUNK_LEAVES
    if chunks == 0:
        return OpenHashing(0, 0.0, 0.0, 0.0)
    before = cpu.snapshot()
    with Stopwatch() as first:
        await stack.tickets.hash_complete_chunk(draw_id, 0)
    at_once = asyncio.Semaphore(os.cpu_count() or 1)

    async def one(chunk: int) -> None:
        async with at_once:
            await stack.tickets.hash_complete_chunk(draw_id, chunk)

    with Stopwatch() as rest:
        await asyncio.gather(*map(one, range(1, chunks)))
    after = cpu.snapshot()
    known = await stack.draws.chunk_roots(draw_id)
    if sorted(known) != list(range(chunks)):
        raise BenchError(f"{len(known)} chunk roots kept, expected {chunks}")
    return OpenHashing(chunks, first.seconds, rest.seconds, _bench_cpu_seconds(before, after))


async def _seal_and_draw(
    stack: RaffleStack,
    chain: Chain,
    draw_id: str,
    label: str,
    ticket_count: int,
    hash_first: bool,
) -> SealDrawFigures:
    await wait_for_persistence(stack.redis)
    open_hashing = await _hash_while_open(stack, draw_id, ticket_count - 1) if hash_first else None
    # The claim that sells out closes the raffle; the server would then seal it in the
    # background, the benchmark does it in the open.
    with Stopwatch() as last_claim:
        ticket = await stack.claiming.claim(draw_id, Caller(user=None, address=claimant_address(0)))
    if not ticket.sold_out:
        raise BenchError(f"the last claim of {draw_id} did not sell the raffle out")
    await wait_for_persistence(stack.redis)

    before = cpu.snapshot()
    with Stopwatch() as seal:
        await stack.drawing.seal_closed(draw_id)
    sealed_at = time.time()
    await sleep_until_round(await stack.drawing.get(draw_id), chain)
    wait_s = time.time() - sealed_at
    with Stopwatch() as drawing:
        drawn = await stack.drawing.draw_winners(ACTOR, draw_id)
    after = cpu.snapshot()
    with Stopwatch() as entries:
        text = await stack.drawing.entries_file(draw_id)

    if drawn.status is not DrawStatus.drawn or drawn.result is None or drawn.seal is None:
        raise BenchError(f"the raffle ended {drawn.status.value}, not drawn")
    if drawn.seal.beacon_round is None or drawn.result.bundle.get("beacon") is None:
        raise BenchError("the raffle bound no beacon round")
    if drawn.seal.entry_count != ticket_count or text.count("\n") != ticket_count:
        raise BenchError(
            f"sealed {drawn.seal.entry_count:,} claims, entries file of"
            f" {text.count(chr(10)):,} lines; expected {ticket_count:,}"
        )
    usage = cpu.usage_by_group(before, after, {os.getpid(): "bench"}, PROCESS_GROUPS)
    sizes = await key_sizes(stack, draw_id)
    return SealDrawFigures(
        label=label,
        claims=ticket_count,
        open_hashing=open_hashing,
        last_claim_s=last_claim.seconds,
        seal_s=seal.seconds,
        wait_s=wait_s,
        draw_s=drawing.seconds,
        entries_s=entries.seconds,
        entries_bytes=len(text.encode()),
        winners=len(drawn.result.winners),
        alternates=len(drawn.result.alternates),
        numbers_bytes=sizes["numbers"],
        chunks_bytes=sizes["chunks"],
        other_cores=usage.get("other processes", 0.0),
        stolen_cores=cpu.machine_cores_stolen(before, after),
    )


async def measure_seal_and_draw(ticket_count: int) -> tuple[float, list[SealDrawFigures]]:
    """The bulk-load time, then the figures with chunks hashed while open and cold."""
    if ticket_count < 2:
        raise BenchError("a raffle to draw needs at least 2 tickets")
    async with private_store() as (_store, plain):
        with refused_tcp_port() as github_port, beacon_relay() as beacon:
            github_url = f"http://127.0.0.1:{github_port}"
            async with draw_stack(
                plain.redis, plain.keys, github_url, beacon, tickets=plain.tickets
            ) as proven:
                stack = dataclasses.replace(plain, drawing=proven.service)
                return await _measure(stack, beacon.test_chain.chain, ticket_count)


async def _measure(
    stack: RaffleStack, chain: Chain, ticket_count: int
) -> tuple[float, list[SealDrawFigures]]:
    warm = await create_open_raffle(stack, ticket_count, "bench: chunks hashed while open")
    cold = await create_open_raffle(stack, ticket_count, "bench: cold seal")
    with Stopwatch() as load:
        await bulk_load_claims_v2(
            stack.redis, stack.keys, warm.id, ticket_count - 1, int(time.time() * 1000)
        )
        for key in (stack.keys.ledger, stack.keys.claimants):
            await stack.redis.copy(key(warm.id), key(cold.id))
    await check_claims_v2(stack.raffles, warm.id, [0, ticket_count - 2])
    await check_claims_v2(stack.raffles, cold.id, [0, ticket_count - 2])
    return load.seconds, [
        await _seal_and_draw(
            stack, chain, warm.id, "chunks numbered while open", ticket_count, True
        ),
        await _seal_and_draw(stack, chain, cold.id, "cold", ticket_count, False),
    ]


def print_seal_and_draw(load_s: float, results: list[SealDrawFigures]) -> None:
    claims = results[0].claims
    print(
        f"raffles         2 of {claims:,} tickets, 100 prizes (1 + 9 + 90) and 100 alternates;"
        f" {claims - 1:,} claims bulk-loaded in {load_s:.0f} s, the last one claimed"
        " through RaffleService.claim"
    )
    for f in results:
        print(f"-- {f.label}")
        hashing = f.open_hashing
        if hashing is not None:
            print(
                f"while open      {hashing.chunks} chunks in {hashing.total_s:.1f} s"
                f" (first {hashing.first_chunk_s:.2f} s, it starts the workers; the rest"
                f" {os.cpu_count()} at a time); {hashing.cpu_per_chunk_s:.2f} s of CPU"
                " per chunk (TicketLedger.hash_complete_chunk; spread over the claiming)"
            )
        print(f"last claim      {f.last_claim_s * 1000:8.1f} ms  (sells out, closes)")
        print(f"seal            {f.seal_s:8.3f} s  (DrawingService.seal_closed)")
        print(f"beacon wait     {f.wait_s:8.3f} s  (seal to the bound round's time)")
        print(f"draw            {f.draw_s:8.3f} s  (DrawingService.draw_winners, no wait)")
        print(f"seal + draw     {f.seal_and_draw_s:8.3f} s  (beacon wait excluded)")
        print(
            f"entries file    {f.entries_s:8.3f} s  ({f.entries_bytes / 2**20:.0f} MiB,"
            " DrawingService.entries_file after the draw)"
        )
        print(
            f"kept numbers    {f.numbers_bytes / claims:.1f} B per claim"
            f" ({f.numbers_bytes / 2**20:.0f} MiB), chunk roots {f.chunks_bytes:,} B"
        )
        print(f"result          {f.winners} winners, {f.alternates} alternates")
        print(
            f"other processes {f.other_cores:.2f} cores busy during seal + draw"
            f" (+ {f.stolen_cores:.2f} stolen by the host)"
        )
