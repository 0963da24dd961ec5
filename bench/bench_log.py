"""The public draw log: what an append costs, and what tree heads and proofs cost at 10^5
leaves.

Two parts, chosen with ``--parts`` (both by default), in a private embedded store (the
configuration of ``fairdraw serve``: AOF, ``appendfsync always``):

append  ``DrawLogService.append`` one after another (validation, canonical JSON, hashing,
        the ``log_append`` script), next to two ceilings from the same run: the script
        alone with the same keys and arguments, hashed beforehand (``DrawLogStore.append``),
        and PING; then appends from two clients at once (two connection pools,
        ``--tasks`` tasks each), where a client whose view of the log is stale retries;
proofs the log filled to ``--leaves`` leaves (the script, pipelined), then a signed tree
        head, one at a past size, an inclusion proof, a consistency proof and a bundle's
        ``log`` field, each timed one after another at random positions, next to the
        store reads they make (the head's HMGET; the GETRANGEs of an inclusion proof) and
        Ed25519 signing alone; and the store memory per leaf.

Run from the repository root: .venv/bin/python bench/bench_log.py [--help]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a file (make bench): the repository root makes `bench.*` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Redis

from bench import cpu, harness
from bench.bench_draw import memory_usage, wait_for_persistence
from bench.harness import Stopwatch, print_section, reproduce_command
from bench.machine import describe_machine
from bench.raffle_services import Latencies
from fairdraw.domain import transparency
from fairdraw.domain.proof import canonical_json
from fairdraw.domain.signing import SigningKey
from fairdraw.services.draw_log import DrawLogService, leaf_id
from fairdraw.store.connection import connect
from fairdraw.store.draw_log import DrawLogStore, LogHead
from fairdraw.store.embedded import EmbeddedStore
from fairdraw.store.keys import Keys
from fairdraw.store.scripts import script_source

PARTS = ("append", "proofs")
IDLE_THRESHOLD = 0.10
WARMUP = 200
FILL_BATCH = 1000
TIME = "2026-12-06T22:00:00.000Z"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def draw_id(number: int) -> str:
    return "".join(_ALPHABET[(number >> (5 * k)) & 31] for k in range(12))


def commit_leaf(number: int) -> dict[str, Any]:
    """The ``commit`` leaf of draw ``number``: about 190 bytes of canonical JSON."""
    return {
        "type": "commit",
        "draw_id": draw_id(number),
        "kind": "giveaway",
        "time": TIME,
        "commitment": f"{number:064x}",
    }


@dataclass
class LogStack:
    redis: Redis
    keys: Keys
    store: DrawLogStore
    log: DrawLogService
    url: str


@asynccontextmanager
async def private_log() -> AsyncIterator[LogStack]:
    """A fresh embedded store in a temporary directory, and the draw log over it."""
    with tempfile.TemporaryDirectory(prefix="fdbench-") as tmp:
        server = EmbeddedStore(Path(tmp))
        url = server.start()
        redis = connect(url)
        try:
            keys = Keys()
            store = DrawLogStore(redis, keys)
            yield LogStack(redis, keys, store, DrawLogService(store, SigningKey.generate()), url)
        finally:
            await redis.aclose()
            server.stop()


async def timed(call: Callable[[int], Awaitable[object]], count: int) -> list[float]:
    """Seconds each of ``count`` calls ``call(i)`` took, one after another."""
    took: list[float] = []
    for i in range(count):
        started = time.perf_counter()
        await call(i)
        took.append(time.perf_counter() - started)
    return took


def us_line(name: str, seconds: list[float], unit: str = "calls") -> str:
    lat = Latencies.of(seconds)
    total = sum(seconds)
    return (
        f"{name:<26} {len(seconds) / total:>9,.0f}/s  mean {lat.mean_ms * 1000:>7.1f}"
        f"  p50 {lat.p50_ms * 1000:>7.1f}  p99 {lat.p99_ms * 1000:>7.1f}"
        f"  max {lat.max_ms * 1000:>8.1f} µs  ({lat.count:,} {unit})"
    )


# -- append ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """One append's arguments to ``DrawLogStore.append``, hashed beforehand."""

    leaf_id: str
    text: str
    head: LogHead
    completed: list[bytes]
    frontier: list[bytes]


async def prepare(store: DrawLogStore, first: int, count: int) -> list[Prepared]:
    """The arguments of the next ``count`` appends after the log as it is now."""
    head = await store.head()
    prepared: list[Prepared] = []
    for number in range(first, first + count):
        entry = commit_leaf(number)
        leaf = transparency.leaf_hash(entry)
        completed, grown = transparency.extend_frontier(head.frontier, head.size, leaf)
        text = canonical_json(entry).decode()
        prepared.append(Prepared(leaf_id("commit", entry["draw_id"]), text, head, completed, grown))
        head = LogHead(head.size + 1, tuple(grown))
    return prepared


@dataclass(frozen=True)
class AppendFigures:
    service: list[float]
    script: list[float]
    ping: list[float]
    contended_appends: int
    contended_seconds: float


async def measure_appends(samples: int, tasks: int) -> AppendFigures:
    async with private_log() as stack:
        number = 0
        for _ in range(WARMUP):
            await stack.log.append(commit_leaf(number))
            number += 1
        await wait_for_persistence(stack.redis)

        base = number
        service = await timed(lambda i: stack.log.append(commit_leaf(base + i)), samples)
        number += samples

        prepared = await prepare(stack.store, number, samples)
        number += samples

        async def script_call(i: int) -> None:
            p = prepared[i]
            done = await stack.store.append(p.leaf_id, p.text, p.head, p.completed, p.frontier)
            if not done.created:
                raise harness.BenchError("a prepared append did not append")

        script = await timed(script_call, samples)
        ping = await timed(lambda _: stack.redis.ping(), samples)

        # Two clients, as two processes would be: each one's appends take turns within
        # it, and a stale view of the log costs a retry.
        other = connect(stack.url)
        try:
            second = DrawLogService(DrawLogStore(other, stack.keys), SigningKey.generate())
            per_task = max(1, samples // (2 * tasks))
            first_number = number

            async def run_task(service: DrawLogService, task: int) -> None:
                start = first_number + task * per_task
                for n in range(start, start + per_task):
                    await service.append(commit_leaf(n))

            with Stopwatch() as took:
                await asyncio.gather(
                    *(run_task(stack.log, t) for t in range(tasks)),
                    *(run_task(second, t) for t in range(tasks, 2 * tasks)),
                )
        finally:
            await other.aclose()
        return AppendFigures(service, script, ping, 2 * tasks * per_task, took.seconds)


def print_appends(f: AppendFigures, tasks: int) -> None:
    print(us_line("DrawLogService.append", f.service, "appends"))
    print(us_line("log_append script alone", f.script, "appends"))
    print(us_line("PING", f.ping))
    print(
        f"{'two clients, contended':<26} {f.contended_appends / f.contended_seconds:>9,.0f}/s"
        f"  ({f.contended_appends:,} appends from {tasks} tasks on each of two pools,"
        f" {f.contended_seconds:.2f} s)"
    )
    print(
        "(one after another; the script alone gets the keys and arguments the service"
        " sends, hashed beforehand: the service's own cost is the difference)"
    )


# -- proofs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofFigures:
    leaves: int
    fill_seconds: float
    calls: dict[str, list[float]]
    key_bytes: dict[str, int]


async def fill(stack: LogStack, leaves: int) -> None:
    """Append ``leaves`` commit leaves through the script, pipelined by batches."""
    script = stack.redis.register_script(script_source("log_append"))
    keys = stack.keys
    for first in range(0, leaves, FILL_BATCH):
        prepared = await prepare(stack.store, first, min(FILL_BATCH, leaves - first))
        async with stack.redis.pipeline(transaction=False) as pipe:
            for p in prepared:
                levels = [keys.log_level(level) for level in range(len(p.completed))]
                await script(
                    keys=[keys.log_head(), keys.log_ids(), keys.log_entries(), *levels],
                    args=[
                        p.leaf_id,
                        p.text,
                        p.head.size,
                        p.head.frontier_hex(),
                        b"".join(p.frontier).hex(),
                        *(node.hex() for node in p.completed),
                    ],
                    client=pipe,
                )
            replies = await pipe.execute()
        if any(reply[1] != "appended" for reply in replies):
            raise harness.BenchError("the fill did not append every leaf")


async def measure_proofs(leaves: int, samples: int) -> ProofFigures:
    rng = random.Random(20261206)
    async with private_log() as stack:
        with Stopwatch() as filled:
            await fill(stack, leaves)
        await wait_for_persistence(stack.redis)
        log, store = stack.log, stack.store
        key = SigningKey.generate()
        head = {"type": "tree-head", "tree_size": leaves, "root_hash": "00" * 32}
        indexes = [rng.randrange(leaves) for _ in range(samples)]
        sizes = [rng.randrange(1, leaves + 1) for _ in range(samples)]
        nodes = [
            [
                node
                for span in transparency.inclusion_ranges(i, leaves)
                for node in transparency.subtree_nodes(*span)
            ]
            for i in indexes
        ]
        calls: dict[str, Callable[[int], Awaitable[object]]] = {
            "tree_head": lambda _: log.tree_head(),
            "tree_head_at(random)": lambda i: log.tree_head_at(sizes[i]),
            "inclusion(random, N)": lambda i: log.inclusion(indexes[i], leaves),
            "consistency(random, N)": lambda i: log.consistency(sizes[i], leaves),
            "proof_of(draw, commit)": lambda i: log.proof_of(draw_id(indexes[i]), "commit"),
            "head HMGET alone": lambda _: store.head(),
            "inclusion GETRANGEs alone": lambda i: store.nodes(nodes[i]),
            "Ed25519 sign alone": lambda _: _sign(key, head),
        }
        timings = {name: await timed(call, samples) for name, call in calls.items()}
        names = {
            "head": stack.keys.log_head(),
            "entries": stack.keys.log_entries(),
            "ids": stack.keys.log_ids(),
        }
        names |= {
            f"level:{level}": stack.keys.log_level(level) for level in range(leaves.bit_length())
        }
        sizes_b = {name: await memory_usage(stack.redis, k) for name, k in names.items()}
        return ProofFigures(leaves, filled.seconds, timings, sizes_b)


async def _sign(key: SigningKey, statement: dict[str, Any]) -> None:
    key.sign_statement({**statement, "timestamp": time.time_ns() // 1_000_000})


def print_proofs(f: ProofFigures) -> None:
    print(
        f"log             {f.leaves:,} commit leaves (about 190 B of JSON each), filled through"
        f" log_append.lua pipelined: {f.leaves / f.fill_seconds:,.0f} appends/s"
    )
    for name, seconds in f.calls.items():
        print(us_line(name, seconds))
    levels = sum(v for k, v in f.key_bytes.items() if k.startswith("level:"))
    print(
        f"store B/leaf    entries {f.key_bytes['entries'] / f.leaves:.1f}"
        f" + ids {f.key_bytes['ids'] / f.leaves:.1f} + levels {levels / f.leaves:.1f}"
        f" = {(f.key_bytes['entries'] + f.key_bytes['ids'] + levels) / f.leaves:.1f}"
        f" (MEMORY USAGE SAMPLES 0); head {f.key_bytes['head']:,} B"
    )
    print(
        "(random leaf indexes and past sizes; N is the log's size; each proof reads the"
        " head, then its subtrees in one pipeline, and a tree head is signed per call)"
    )


# -- command line ----------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The public draw log: append cost, tree head and proof cost.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--parts",
        type=harness.parts_parser(PARTS),
        default=",".join(PARTS),
        help="comma-separated parts",
    )
    parser.add_argument("--samples", type=int, default=5000, help="timed calls of each kind")
    parser.add_argument(
        "--tasks", type=int, default=16, help="append: concurrent tasks on each of two clients"
    )
    parser.add_argument("--leaves", type=int, default=100_000, help="proofs: leaves in the log")
    harness.add_wait_idle_option(parser, "each part")
    return parser.parse_args(argv)


def options_of(args: argparse.Namespace) -> list[str]:
    parts: list[str] = args.parts
    options = [f"--parts={','.join(parts)}", f"--samples={args.samples}"]
    if "append" in parts:
        options.append(f"--tasks={args.tasks}")
    if "proofs" in parts:
        options.append(f"--leaves={args.leaves}")
    return [*options, f"--wait-idle={args.wait_idle:g}"]


def run(args: argparse.Namespace) -> int:
    print_section("machine")
    print("\n".join(describe_machine().lines()))
    if "append" in args.parts:
        cpu.settle(args.wait_idle, IDLE_THRESHOLD)
        print_section(f"append: {args.samples:,} appends of each kind, one after another")
        print_appends(asyncio.run(measure_appends(args.samples, args.tasks)), args.tasks)
    if "proofs" in args.parts:
        cpu.settle(args.wait_idle, IDLE_THRESHOLD)
        print_section(f"proofs: {args.samples:,} calls of each kind at {args.leaves:,} leaves")
        print_proofs(asyncio.run(measure_proofs(args.leaves, args.samples)))
    print_section("reproduce (from the repository root)")
    print(reproduce_command("bench_log.py", options_of(args)))
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(parse_args, run))
