"""The raffle use cases wired as ``fairdraw serve`` wires them, for benchmarks that call
the services directly (no HTTP), and the timed claims those benchmarks make.

The one difference from the server: :class:`RaffleService` gets no sealer, so a claim
that takes the last ticket closes the raffle but leaves the seal to the benchmark, which
times it. The entry rate limit is raised out of reach (every claim comes from a new
address anyway); the limiter still runs and its cost is included.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any

from redis.asyncio import Redis

from bench.bench_draw import ACTOR
from bench.client_ceiling import ClientRun, run_concurrently
from bench.harness import refused_tcp_port
from bench.profiles import PROFILE_TTL_SECONDS
from bench.server import ENTRY_RATE_LIMIT
from fairdraw.config import Settings
from fairdraw.domain import tickets
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import Draw
from fairdraw.services.drawing import DrawingService
from fairdraw.services.github import GitHubClient
from fairdraw.services.raffles import RaffleService, Ticket
from fairdraw.services.ratelimit import RateLimits
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.store.connection import connect
from fairdraw.store.draws import DrawStore
from fairdraw.store.keys import Keys
from fairdraw.store.profiles import ProfileCache
from fairdraw.store.raffles import RaffleStore

# 100 prizes: what "draw 100 prizes" means in every raffle these benchmarks create.
PRIZES: list[dict[str, Any]] = [
    {"name": "Grand prize", "quantity": 1},
    {"name": "Runner-up", "quantity": 9},
    {"name": "Voucher", "quantity": 90},
]
# Claimant n of the timed claims comes from 10.0.0.0 + n (distinct up to 2^24 claims).
FIRST_ADDRESS = int(IPv4Address("10.0.0.0"))


@dataclass(frozen=True)
class RaffleStack:
    """One store and the services over it."""

    redis: Redis
    keys: Keys
    draws: DrawStore
    raffles: RaffleStore
    tickets: TicketLedger
    drawing: DrawingService
    claiming: RaffleService
    limits: RateLimits


@asynccontextmanager
async def raffle_stack(store_url: str) -> AsyncIterator[RaffleStack]:
    """The services on the store at ``store_url``; GitHub is a refusing port."""
    with refused_tcp_port() as github_port:
        redis = connect(store_url)
        keys = Keys()
        github = GitHubClient(
            f"http://127.0.0.1:{github_port}",
            None,
            5.0,
            ProfileCache(redis, keys, PROFILE_TTL_SECONDS),
        )
        limits = RateLimits.open(Settings(rate_limit_entries=ENTRY_RATE_LIMIT), store_url, keys)
        draws = DrawStore(redis, keys)
        raffles = RaffleStore(redis, keys)
        ledger = TicketLedger(draws, raffles)
        try:
            yield RaffleStack(
                redis=redis,
                keys=keys,
                draws=draws,
                raffles=raffles,
                tickets=ledger,
                drawing=DrawingService(draws, github, tickets=ledger),
                claiming=RaffleService(draws, raffles, ledger, limits, secrets.token_bytes(32)),
                limits=limits,
            )
        finally:
            await limits.aclose()
            await github.aclose()
            await redis.aclose()


async def create_open_raffle(stack: RaffleStack, ticket_count: int, title: str) -> Draw:
    """An open anonymous raffle of ``ticket_count`` tickets, one per address, 100 prizes."""
    return await stack.drawing.create_raffle(
        ACTOR,
        title=title,
        prizes=PRIZES,
        ticket_count=ticket_count,
        claimants="anonymous",
        per_claimant=1,
        early_close=True,
        open_now=True,
    )


def claimant_address(number: int) -> IPv4Address:
    """The client address of timed claim ``number``."""
    return IPv4Address(FIRST_ADDRESS + number)


@dataclass(frozen=True)
class Latencies:
    """Percentiles of a series of timings, in milliseconds."""

    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latencies:
        ordered = sorted(seconds)
        if not ordered:
            raise ValueError("no timings")

        def rank(share: float) -> float:
            # Nearest rank: the smallest timing that ``share`` of all timings do not exceed.
            return ordered[max(0, math.ceil(share * len(ordered)) - 1)] * 1000

        return cls(
            count=len(ordered),
            p50_ms=rank(0.50),
            p90_ms=rank(0.90),
            p99_ms=rank(0.99),
            max_ms=ordered[-1] * 1000,
            mean_ms=sum(ordered) / len(ordered) * 1000,
        )

    def line(self) -> str:
        return (
            f"p50 {self.p50_ms:.3f}  p90 {self.p90_ms:.3f}  p99 {self.p99_ms:.3f}"
            f"  max {self.max_ms:.3f}  mean {self.mean_ms:.3f} ms  ({self.count:,} claims)"
        )


async def time_service_claims(
    stack: RaffleStack, draw_id: str, first_address: int, count: int
) -> tuple[list[float], list[Ticket]]:
    """``count`` claims through ``RaffleService.claim``, one after another, each from a
    new address; the seconds each took, and the tickets."""
    took: list[float] = []
    issued: list[Ticket] = []
    for number in range(first_address, first_address + count):
        caller = Caller(user=None, address=claimant_address(number))
        started = time.perf_counter()
        ticket = await stack.claiming.claim(draw_id, caller)
        took.append(time.perf_counter() - started)
        issued.append(ticket)
    return took, issued


async def time_store_claims(
    stack: RaffleStack, draw_id: str, first_claimant: int, count: int
) -> list[float]:
    """``count`` claims through ``RaffleStore.claim`` (the claim script and nothing
    else), one after another; the seconds each took."""
    took: list[float] = []
    for number in range(first_claimant, first_claimant + count):
        claimant = f"a:{number:032x}"
        started = time.perf_counter()
        await stack.raffles.claim(draw_id, claimant, f"{number:064x}")
        took.append(time.perf_counter() - started)
    return took


async def time_rate_limit(
    stack: RaffleStack, draw_id: str, first_address: int, count: int
) -> list[float]:
    """``count`` entry rate-limit checks (``RateLimits.entry``, the first step of every
    claim), one after another, each for a new address; the seconds each took."""
    took: list[float] = []
    for number in range(first_address, first_address + count):
        started = time.perf_counter()
        await stack.limits.entry(draw_id, claimant_address(number))
        took.append(time.perf_counter() - started)
    return took


async def claim_concurrently(
    stack: RaffleStack, draw_id: str, first_address: int, calls: int, concurrency: int
) -> ClientRun:
    """``calls`` claims through ``RaffleService.claim`` from this one process,
    ``concurrency`` at a time, each from a new address."""

    async def claim(number: int) -> bool:
        address = claimant_address(number)
        await stack.claiming.claim(draw_id, Caller(user=None, address=address))
        return True

    await stack.redis.ping()
    return await run_concurrently(claim, range(first_address, first_address + calls), concurrency)


def permutation_cost_us(ticket_count: int, samples: int = 20_000) -> float:
    """Microseconds of CPU that one ticket number (``tickets.ticket_number``) costs in a
    raffle of ``ticket_count`` tickets, averaged over the first ``samples`` claims."""
    perm = tickets.TicketPermutation(tickets.new_permutation_key(), ticket_count)
    count = min(samples, ticket_count)
    started = time.process_time()
    for index in range(count):
        tickets.ticket_number(perm, index)
    return (time.process_time() - started) / count * 1e6
