"""Raffles at scale, service level, each part in a private embedded store (the
configuration ``fairdraw serve`` runs: AOF, ``appendfsync always``):

- :func:`measure_creation`: creating (and opening) raffles of a few sizes, timed, with
  the store memory each creation added;
- :func:`measure_claims`: claim latency through ``RaffleService.claim``, through the
  claim script alone (``RaffleStore.claim``) and of the entry rate-limit check alone,
  with about 10^3 and about N claims in the ledger, the ledger filled between the two
  through the claim script itself; the store memory per claimed ticket at N.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import cpu
from bench.bench_draw import info_int, memory_usage, wait_for_persistence
from bench.claims import ScriptFill, check_claims, claim_through_script
from bench.harness import BenchError, Stopwatch
from bench.raffle_services import (
    Latencies,
    RaffleStack,
    create_open_raffle,
    permutation_cost_us,
    raffle_stack,
    time_rate_limit,
    time_service_claims,
    time_store_claims,
)
from fairdraw.store.embedded import EmbeddedStore

# Ledger length at which the "about 10^3" latencies are taken.
SMALL_LEDGER = 1_000
# Claims made and thrown away before each timed series (connections, caches, scripts).
WARMUP_CLAIMS = 200


@asynccontextmanager
async def private_store() -> AsyncIterator[tuple[EmbeddedStore, RaffleStack]]:
    """A fresh embedded store in a temporary directory, and the services over it."""
    with tempfile.TemporaryDirectory(prefix="fdbench-") as tmp:
        store = EmbeddedStore(Path(tmp))
        url = store.start()
        try:
            async with raffle_stack(url) as stack:
                yield store, stack
        finally:
            store.stop()


def _raffle_keys(stack: RaffleStack, draw_id: str) -> dict[str, str]:
    keys = stack.keys
    return {
        "meta": keys.draw_meta(draw_id),
        "ledger": keys.ledger(draw_id),
        "claimants": keys.claimants(draw_id),
        "chunks": keys.chunk_roots(draw_id),
        "numbers": keys.chunk_numbers(draw_id),
    }


async def key_sizes(stack: RaffleStack, draw_id: str) -> dict[str, int]:
    """``MEMORY USAGE ... SAMPLES 0`` of each key of a raffle; 0 for a key that does not
    exist."""
    sizes: dict[str, int] = {}
    for name, key in _raffle_keys(stack, draw_id).items():
        sizes[name] = await memory_usage(stack.redis, key) if await stack.redis.exists(key) else 0
    return sizes


# -- creating ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateFigures:
    """Creating and opening raffles of one size, repeated."""

    ticket_count: int
    seconds: list[float]
    used_memory_deltas: list[int]
    key_bytes: dict[str, int]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def median_delta(self) -> float:
        return statistics.median(self.used_memory_deltas)


async def measure_creation(sizes: list[int], repeats: int) -> list[CreateFigures]:
    """Each size ``repeats`` times, sizes interleaved, all in one store."""
    seconds: dict[int, list[float]] = {size: [] for size in sizes}
    deltas: dict[int, list[int]] = {size: [] for size in sizes}
    last: dict[int, str] = {}
    async with private_store() as (_store, stack):
        await create_open_raffle(stack, sizes[0], "bench: warm-up")
        for round_number in range(repeats):
            for size in sizes:
                before = await info_int(stack.redis, "memory", "used_memory")
                with Stopwatch() as took:
                    draw = await create_open_raffle(stack, size, f"bench: {round_number}")
                after = await info_int(stack.redis, "memory", "used_memory")
                seconds[size].append(took.seconds)
                deltas[size].append(after - before)
                last[size] = draw.id
        return [
            CreateFigures(size, seconds[size], deltas[size], await key_sizes(stack, last[size]))
            for size in sizes
        ]


def print_creation(results: list[CreateFigures]) -> None:
    print(
        f"{'tickets':>14} {'create+open ms':>15} {'used_memory Δ B':>16}"
        f" {'meta B':>7} {'other keys B':>13}"
    )
    for f in results:
        others = sum(v for k, v in f.key_bytes.items() if k != "meta")
        print(
            f"{f.ticket_count:>14,} {f.median_ms:>15.2f} {f.median_delta:>16,.0f}"
            f" {f.key_bytes['meta']:>7,} {others:>13,}"
        )
    print(
        "(medians of the repeats; used_memory Δ is the INFO memory difference around one"
        " creation, the global draws index included; other keys: ledger, claimants,"
        " chunks, numbers — none exists before the first claim)"
    )


# -- claiming ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelFigures:
    """Claims timed one after another at one ledger length."""

    ledger_length: int
    service: Latencies
    store: Latencies
    rate_limit: Latencies
    other_cores: float
    stolen_cores: float


@dataclass(frozen=True)
class ClaimsFigures:
    """Claim latency at two ledger lengths and the memory of a full ledger."""

    ticket_count: int
    small_fill: ScriptFill
    large_fill: ScriptFill
    small: LevelFigures
    large: LevelFigures
    claims: int
    key_bytes: dict[str, int]
    used_memory_delta: int
    permutation_us: float

    def per_claim(self, size: float) -> float:
        return size / self.claims if self.claims else 0.0


async def _time_level(stack: RaffleStack, draw_id: str, samples: int, base: int) -> LevelFigures:
    """Warm-up, then ``samples`` service claims and ``samples`` store claims; ``base``
    keeps their addresses and claimants apart from those of other levels."""
    await wait_for_persistence(stack.redis)
    await time_service_claims(stack, draw_id, base, WARMUP_CLAIMS)
    length = await stack.draws.ledger_length(draw_id)
    before = cpu.snapshot()
    service, _tickets = await time_service_claims(stack, draw_id, base + WARMUP_CLAIMS, samples)
    store = await time_store_claims(stack, draw_id, base, samples)
    # Addresses past the claims': a limiter check of a fresh address, as each claim makes.
    rate_limit = await time_rate_limit(stack, draw_id, base + (1 << 22), samples)
    after = cpu.snapshot()
    usage = cpu.usage_by_group(
        before, after, {os.getpid(): "bench"}, {"valkey-server": "store", "redis-server": "store"}
    )
    return LevelFigures(
        ledger_length=length,
        service=Latencies.of(service),
        store=Latencies.of(store),
        rate_limit=Latencies.of(rate_limit),
        other_cores=usage.get("other processes", 0.0),
        stolen_cores=cpu.machine_cores_stolen(before, after),
    )


def timed_claims_per_level(samples: int) -> int:
    return WARMUP_CLAIMS + 2 * samples


async def measure_claims(ticket_count: int, samples: int) -> ClaimsFigures:
    """One raffle of ``ticket_count`` tickets, filled to all but one ticket."""
    per_level = timed_claims_per_level(samples)
    if ticket_count < SMALL_LEDGER + 2 * per_level + 1:
        raise BenchError(
            f"--claims must be at least {SMALL_LEDGER + 2 * per_level + 1:,} with"
            f" --samples={samples}"
        )
    async with private_store() as (store, stack):
        draw = await create_open_raffle(stack, ticket_count, f"bench: {ticket_count:,} claims")
        small_fill = claim_through_script(store.socket_path, stack.keys, draw.id, SMALL_LEDGER)
        small = await _time_level(stack, draw.id, samples, base=0)

        # Fill so that the second timed series ends one ticket short of selling out.
        fill = ticket_count - 1 - per_level - await stack.draws.ledger_length(draw.id)
        await wait_for_persistence(stack.redis)
        memory_before = await info_int(stack.redis, "memory", "used_memory")
        large_fill = claim_through_script(store.socket_path, stack.keys, draw.id, fill)
        await wait_for_persistence(stack.redis)
        used_memory_delta = await info_int(stack.redis, "memory", "used_memory") - memory_before
        filled = await stack.draws.ledger_length(draw.id)
        await check_claims(stack.raffles, draw.id, [0, SMALL_LEDGER - 1, filled - 1])
        sizes = await key_sizes(stack, draw.id)

        large = await _time_level(stack, draw.id, samples, base=1 << 23)
        claims = await stack.draws.ledger_length(draw.id)
        if claims != ticket_count - 1:
            raise BenchError(f"the ledger holds {claims:,} claims, expected {ticket_count - 1:,}")
        return ClaimsFigures(
            ticket_count=ticket_count,
            small_fill=small_fill,
            large_fill=large_fill,
            small=small,
            large=large,
            claims=filled,
            key_bytes=sizes,
            used_memory_delta=used_memory_delta,
            permutation_us=permutation_cost_us(ticket_count),
        )


def print_claims(f: ClaimsFigures) -> None:
    print(
        f"raffle          {f.ticket_count:,} tickets, anonymous (one ticket per address),"
        " every claimant distinct"
    )
    print(
        f"fill            {f.small_fill.claims:,} + {f.large_fill.claims:,} claims through"
        f" claim_ticket.lua (pipelined EVALSHA): {f.large_fill.claims_per_second:,.0f}"
        f" claims/s, {f.small_fill.seconds + f.large_fill.seconds:.0f} s"
    )
    for name, level in (("about 10^3", f.small), (f"about {f.ticket_count:,}", f.large)):
        print(f"-- {name}: timed claims start at ledger length {level.ledger_length:,}")
        print(f"RaffleService   {level.service.line()}")
        print(f"RaffleStore     {level.store.line()}")
        print(f"RateLimits      {level.rate_limit.line()}")
        print(
            f"other processes {level.other_cores:.2f} cores busy"
            f" (+ {level.stolen_cores:.2f} stolen by the host)"
        )
    print(f"ticket number   {f.permutation_us:.1f} µs of CPU each (TicketPermutation, in process)")
    ledger = f.per_claim(f.key_bytes["ledger"])
    claimants = f.per_claim(f.key_bytes["claimants"])
    print(
        f"store B/claim   ledger {ledger:.1f} + claimants {claimants:.1f} ="
        f" {ledger + claimants:.1f} at {f.claims:,} claims (MEMORY USAGE SAMPLES 0);"
        f" meta {f.key_bytes['meta']:,} B in all"
    )
    print(
        f"used_memory Δ   {f.used_memory_delta / max(1, f.large_fill.claims):.1f} B per claim"
        f" across the fill of {f.large_fill.claims:,}"
        f" ({f.used_memory_delta / 2**30:.2f} GiB)"
    )
