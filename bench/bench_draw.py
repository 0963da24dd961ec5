"""Seal and draw at scale: close + seal and draw of 10^5 and 10^6 entries (10^7 on request).

For each size, a private embedded store (the configuration ``fairdraw serve`` runs: AOF,
``appendfsync always``) in a temporary directory gets one open giveaway, created and
opened through ``DrawingService``; its ledger and entrants hash are bulk-loaded in the
exact format of enter.lua. The chunk hashing a running server does while entries arrive
(``seal_complete_chunks``: every complete 65,536-entry chunk) is timed on its own; then
the real ``DrawingService.close()`` (close script, the rest of the ledger read and
hashed, seal script) and ``draw_winners()`` are timed separately, beside the ledger read
alone, ``fairness.merkle_root`` alone on one core (the CPU floor of a seal from scratch),
and a whole seal from scratch at close with warm hashing workers.
Store memory per entry is ``MEMORY USAGE ... SAMPLES 0`` of the two keys and
the ``used_memory`` delta, each divided by the entry count.

GitHub is a refusing port; the winners' profiles are put in the cache before the draw
(as they are when a draw follows its entries within the cache's hour), and a lookup that
missed would show in the output.

Run from the repository root: .venv/bin/python bench/bench_draw.py [--help]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file (make bench): the repository root makes `bench.*` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Redis

from bench import cpu, harness
from bench.harness import (
    BenchError,
    Stopwatch,
    print_section,
    refused_tcp_port,
    reproduce_command,
)
from bench.ledger import bulk_load, check_loaded
from bench.machine import describe_machine
from bench.profiles import PROFILE_TTL_SECONDS, prefill_profiles
from fairdraw.domain import fairness
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import DrawStatus
from fairdraw.services import sealing
from fairdraw.services.drawing import DrawingService
from fairdraw.services.github import GitHubClient
from fairdraw.store.connection import connect
from fairdraw.store.draws import DrawStore
from fairdraw.store.embedded import EmbeddedStore
from fairdraw.store.keys import Keys
from fairdraw.store.profiles import ProfileCache

DEFAULT_SIZES = "100000,1000000"
TARGET_SECONDS_AT_1M = 2.0
TARGET_BYTES_PER_ENTRY = 80.0
IDLE_THRESHOLD = 0.10
PRIZES = [
    {"name": "Grand prize", "quantity": 1},
    {"name": "Runner-up", "quantity": 2},
    {"name": "Sticker pack", "quantity": 7},
]
ACTOR = Caller(user=User(username="bench", display_name="bench", role=Role.admin, created_ms=0))


@dataclass(frozen=True)
class SizeFigures:
    """Everything measured for one ledger size."""

    entries: int
    load_s: float
    read_s: float
    merkle_s: float
    open_hash_s: float
    close_s: float
    warm_root_s: float
    draw_s: float
    ledger_bytes: int
    entrants_bytes: int
    used_memory_delta: int
    profile_misses: int
    other_cores: float
    stolen_cores: float

    @property
    def seal_and_draw_s(self) -> float:
        return self.close_s + self.draw_s

    def per_entry(self, size: int) -> float:
        return size / self.entries if self.entries else 0.0


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(word.replace("_", "")) for word in text.split(",") if word.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from exc
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Close + seal and draw of large ledgers, and store memory per entry.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=DEFAULT_SIZES,
        help="comma-separated entry counts, e.g. 100000,1000000,10000000",
    )
    harness.add_wait_idle_option(parser, "each size")
    return parser.parse_args(argv)


def options_of(args: argparse.Namespace) -> list[str]:
    return [f"--sizes={','.join(str(s) for s in args.sizes)}", f"--wait-idle={args.wait_idle:g}"]


async def info_int(redis: Redis, section: str, field: str) -> int:
    info = await redis.info(section)
    return int(info[field])


async def wait_for_persistence(redis: Redis) -> None:
    """Wait until no AOF rewrite runs: a rewrite forks the store and competes for the
    two cores with whatever is being timed."""
    while True:
        info = await redis.info("persistence")
        if not int(info["aof_rewrite_in_progress"]) and not int(info["aof_rewrite_scheduled"]):
            return
        await asyncio.sleep(0.2)


async def memory_usage(redis: Redis, key: str) -> int:
    # SAMPLES 0 measures every element, not an estimate from a sample.
    size = await redis.memory_usage(key, samples=0)
    if size is None:
        raise BenchError(f"{key} does not exist")
    return size


async def measure_size(entries: int, github_url: str) -> SizeFigures:
    with tempfile.TemporaryDirectory(prefix="fdbench-") as tmp:
        store = EmbeddedStore(Path(tmp))
        url = store.start()
        try:
            return await _measure(connect(url), entries, github_url)
        finally:
            store.stop()


async def _measure(redis: Redis, entries: int, github_url: str) -> SizeFigures:
    keys = Keys()
    draws = DrawStore(redis, keys)
    github = GitHubClient(github_url, None, 5.0, ProfileCache(redis, keys, PROFILE_TTL_SECONDS))
    service = DrawingService(draws, github)
    try:
        draw = await service.create(
            ACTOR, title=f"bench: {entries:,} entries", prizes=PRIZES, open_now=True
        )
        salt = (await draws.entry_terms(draw.id)).salt
        memory_before = await info_int(redis, "memory", "used_memory")
        with Stopwatch() as load:
            refs = await bulk_load(redis, keys, draw.id, salt, entries, int(time.time() * 1000))
        await check_loaded(draws, draw.id, salt, entries)
        await wait_for_persistence(redis)
        used_memory_delta = await info_int(redis, "memory", "used_memory") - memory_before
        ledger_bytes = await memory_usage(redis, keys.ledger(draw.id))
        entrants_bytes = await memory_usage(redis, keys.entrants(draw.id))

        timed_from = cpu.snapshot()
        with Stopwatch() as read:
            read_refs = await draws.ledger_refs(draw.id, entries)
        with Stopwatch() as merkle:
            root = fairness.merkle_root(refs).hex()
        if read_refs != refs:
            raise BenchError("the ledger read back differs from what was loaded")
        del read_refs

        # While a draw is open, each complete 65,536-entry chunk is hashed in the
        # background as it fills; the bulk load skipped that, so do it here, timed apart.
        with Stopwatch() as open_hash:
            await service.seal_complete_chunks(draw.id)
        with Stopwatch() as close:
            closed = await service.close(ACTOR, draw.id)
        if closed.seal is None or closed.seal.root != root or closed.seal.entry_count != entries:
            raise BenchError(f"unexpected seal after close: {closed.seal!r}")
        del refs
        # A seal with no chunk hashed beforehand (all of it at the close, in worker
        # processes that are already running).

        async def read_slice(start: int, stop: int) -> list[str]:
            return await draws.refs_slice(draw.id, start, stop)

        with Stopwatch() as warm_root:
            again = await sealing.ledger_root(entries, read_slice, {})
        if again.hex() != root:
            raise BenchError("sealing.ledger_root disagrees with fairness.merkle_root")

        seed = await draws.seed(draw.id)
        assert seed is not None
        outcome = fairness.select_winners(
            bytes.fromhex(root),
            seed,
            entries,
            [(p.name, p.quantity) for p in closed.prizes],
            closed.slot_count,
        )
        picks = [w.index for w in outcome.winners] + list(outcome.alternates)
        await prefill_profiles(redis, keys, picks)
        await wait_for_persistence(redis)

        with Stopwatch() as drawing:
            drawn = await service.draw_winners(ACTOR, draw.id)
        # The store is a child of this process: everything else is a neighbour.
        timed_to = cpu.snapshot()
        usage = cpu.usage_by_group(timed_from, timed_to, {os.getpid(): "bench"}, {})
        if drawn.status is not DrawStatus.drawn or drawn.result is None:
            raise BenchError(f"the draw ended {drawn.status.value}, not drawn")
        people = drawn.result.winners + drawn.result.alternates
        return SizeFigures(
            entries=entries,
            load_s=load.seconds,
            read_s=read.seconds,
            merkle_s=merkle.seconds,
            open_hash_s=open_hash.seconds,
            close_s=close.seconds,
            warm_root_s=warm_root.seconds,
            draw_s=drawing.seconds,
            ledger_bytes=ledger_bytes,
            entrants_bytes=entrants_bytes,
            used_memory_delta=used_memory_delta,
            # Without a cached profile the service falls back to the bare login.
            profile_misses=sum(1 for person in people if person.html_url is None),
            other_cores=usage.get("other processes", 0.0),
            stolen_cores=cpu.machine_cores_stolen(timed_from, timed_to),
        )
    finally:
        await github.aclose()
        await redis.aclose()


def print_figures(figures: SizeFigures) -> None:
    f = figures
    print_section(f"{f.entries:,} entries")
    print(f"bulk load              {f.load_s:8.2f} s  (setup, not a product path)")
    print(f"chunks while open      {f.open_hash_s:8.3f} s  (background as entries arrive)")
    print(f"close + seal           {f.close_s:8.3f} s  (DrawingService.close)")
    print(f"  ledger read alone    {f.read_s:8.3f} s  (DrawStore.ledger_refs)")
    print(f"  merkle_root alone    {f.merkle_s:8.3f} s  (fairness.merkle_root, one core)")
    print(f"  whole seal at close  {f.warm_root_s:8.3f} s  (no chunk hashed before, workers warm)")
    print(f"draw                   {f.draw_s:8.3f} s  (DrawingService.draw_winners)")
    print(f"close + seal + draw    {f.seal_and_draw_s:8.3f} s")
    print(
        f"store bytes/entry      ledger {f.per_entry(f.ledger_bytes):.1f} + entrants "
        f"{f.per_entry(f.entrants_bytes):.1f} = "
        f"{f.per_entry(f.ledger_bytes + f.entrants_bytes):.1f} (MEMORY USAGE SAMPLES 0)"
    )
    print(f"used_memory delta      {f.per_entry(f.used_memory_delta):.1f} bytes/entry")
    print(
        f"other processes        {f.other_cores:.2f} cores busy during the timed steps"
        f" (+ {f.stolen_cores:.2f} stolen by the host)"
    )
    if f.profile_misses:
        print(f"WARNING: {f.profile_misses} winner profiles missed the cache (GitHub refused)")


def print_table(results: list[SizeFigures]) -> None:
    print_section("summary")
    print(
        f"{'entries':>12} {'open s':>7} {'close+seal s':>12} {'whole s':>7} {'read s':>7}"
        f" {'merkle s':>9}"
        f" {'draw s':>7}"
        f" {'total s':>8} {'ledger B':>9} {'entrants B':>10} {'used B':>7}"
    )
    for f in results:
        print(
            f"{f.entries:>12,} {f.open_hash_s:>7.3f} {f.close_s:>12.3f} {f.warm_root_s:>7.3f}"
            f" {f.read_s:>7.3f}"
            f" {f.merkle_s:>9.3f} {f.draw_s:>7.3f} {f.seal_and_draw_s:>8.3f}"
            f" {f.per_entry(f.ledger_bytes):>9.1f} {f.per_entry(f.entrants_bytes):>10.1f}"
            f" {f.per_entry(f.used_memory_delta):>7.1f}"
        )
    print("(B = store bytes per entry)")


def print_targets(results: list[SizeFigures]) -> None:
    million = [f for f in results if f.entries == 1_000_000]
    if million:
        f = million[0]
        time_ok = f.seal_and_draw_s < TARGET_SECONDS_AT_1M
        per_entry = f.per_entry(f.ledger_bytes + f.entrants_bytes)
        memory_ok = per_entry < TARGET_BYTES_PER_ENTRY
        print(
            f"target: seal + draw of 10^6 < {TARGET_SECONDS_AT_1M:g} s: "
            f"{'met' if time_ok else 'NOT met'} ({f.seal_and_draw_s:.2f} s); "
            f"< {TARGET_BYTES_PER_ENTRY:g} store bytes/entry: "
            f"{'met' if memory_ok else 'NOT met'} ({per_entry:.1f})"
        )


def run(args: argparse.Namespace) -> int:
    print_section("machine")
    print("\n".join(describe_machine().lines()))
    results: list[SizeFigures] = []
    with refused_tcp_port() as github_port:
        for entries in args.sizes:
            cpu.settle(args.wait_idle, IDLE_THRESHOLD)
            figures = asyncio.run(measure_size(entries, f"http://127.0.0.1:{github_port}"))
            print_figures(figures)
            results.append(figures)
    print_table(results)
    print_targets(results)
    print_section("reproduce (from the repository root)")
    print(reproduce_command("bench_draw.py", options_of(args)))
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(parse_args, run))
