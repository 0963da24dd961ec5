"""What FAIRDRAW_STORE_REPLICA_ACKS costs and what it buys, on a real Valkey cluster.

For each setting (0: writes acknowledged when the master has them; 1: when one replica
has them too), a fresh cluster of three masters with a replica each is started from the
embedded valkey-server (tests/support/cluster.py), fairdraw is served over real HTTP
(uvicorn, one process) and several clients enter distinct GitHub entrants at once:

1. steady load: acknowledged entries per second, and the p50/p99 answer time of a 201;
   and, without HTTP, one client's writes (HSET) one after another: their p50/p99 round
   trip, the cost of the WAIT alone;
2. failover: the same load on a new draw; its master is killed (SIGKILL) a little way in,
   its replica takes over, the killed node is started again (it rejoins as the new
   master's replica) and the load goes on until entries flow again. Then every entry
   answered 201 is looked up in the store: the ones missing are acknowledged entries
   lost across the failover.

The entrants' GitHub profiles are cached in the store beforehand (bench/profiles.py) and
GitHub itself is a refusing port, so no entry waits for GitHub. The load runs in the same
Python process as the server (uvicorn in a thread): the figures compare the two settings
with each other, they are not fairdraw's ceiling (bench/bench_entries.py measures that).

Run from the repository root: .venv/bin/python bench/bench_replica_acks.py [--help]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file: the repository root makes `bench.*` and `tests.*` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import main, print_section, refused_tcp_port, reproduce_command
from bench.machine import describe_machine
from bench.profiles import prefill_profiles
from fairdraw.store.connection import connect
from fairdraw.store.keys import Keys
from tests.support.app import create_accounts, make_settings, serve
from tests.support.cluster import running_cluster
from tests.support.failover_load import LoadRun, run_entry_load


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="steady load per setting")
    parser.add_argument("--workers", type=int, default=8, help="clients entering at once")
    parser.add_argument(
        "--kill-after", type=float, default=2.0, help="seconds into the failover load"
    )
    parser.add_argument(
        "--timeout-ms", type=int, default=1000, help="FAIRDRAW_STORE_REPLICA_ACKS_TIMEOUT_MS"
    )
    parser.add_argument("--writes", type=int, default=2000, help="HSETs timed without HTTP")
    parser.add_argument(
        "--entrants", type=int, default=60_000, help="GitHub profiles cached beforehand"
    )
    return parser.parse_args(argv)


def options(args: argparse.Namespace) -> list[str]:
    return [
        f"--seconds={args.seconds:g}",
        f"--workers={args.workers}",
        f"--kill-after={args.kill_after:g}",
        f"--timeout-ms={args.timeout_ms}",
        f"--writes={args.writes}",
        f"--entrants={args.entrants}",
    ]


async def cache_profiles(store_url: str, prefix: str, count: int) -> None:
    client = connect(store_url)
    try:
        await prefill_profiles(client, Keys(prefix), range(count))
    finally:
        await client.aclose()


async def store_writes(store_url: str, acks: int, timeout_ms: int, count: int) -> list[float]:
    """Milliseconds each of ``count`` HSETs took, one after another, on one client."""
    client = connect(store_url, replica_acks=acks, replica_acks_timeout_ms=timeout_ms)
    took: list[float] = []
    try:
        for n in range(count):
            started = time.perf_counter()
            await client.hset("{bench-acks}:hash", str(n % 100), n)
            took.append((time.perf_counter() - started) * 1000)
    finally:
        await client.aclose()
    return took


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(
    args: argparse.Namespace, acks: int, github_url: str
) -> tuple[LoadRun, LoadRun, list[float]]:
    """The steady and the failover load with FAIRDRAW_STORE_REPLICA_ACKS=``acks``."""
    with (
        tempfile.TemporaryDirectory(prefix="fairdraw-bench-acks-") as root,
        running_cluster(Path(root) / "cluster") as cluster,
    ):
        settings = make_settings(
            cluster.url,
            github_url,
            store_replica_acks=acks,
            store_replica_acks_timeout_ms=args.timeout_ms,
        )
        asyncio.run(create_accounts(settings))
        asyncio.run(cache_profiles(cluster.url, settings.key_prefix, args.entrants))
        writes = asyncio.run(store_writes(cluster.url, acks, args.timeout_ms, args.writes))
        numbers = itertools.count()
        with serve(settings) as server:
            steady = asyncio.run(
                run_entry_load(
                    server.url, cluster, numbers, workers=args.workers, seconds=args.seconds
                )
            )
            failover = asyncio.run(
                run_entry_load(
                    server.url,
                    cluster,
                    numbers,
                    workers=args.workers,
                    seconds=args.kill_after + 0.5,
                    kill_after=args.kill_after,
                )
            )
    return steady, failover, writes


def run(args: argparse.Namespace) -> int:
    print_section("machine")
    for line in describe_machine().lines():
        print(line)
    print(f"command {reproduce_command('bench_replica_acks.py', options(args))}", flush=True)
    rows = []
    with refused_tcp_port() as port:
        for acks in (0, 1):
            print_section(f"FAIRDRAW_STORE_REPLICA_ACKS={acks}")
            steady, failover, writes = measure(args, acks, f"http://127.0.0.1:{port}")
            refused = sum(1 for answer in failover.answers if answer.status != 201)
            row = (
                acks,
                steady.entries_per_second(),
                steady.latency_ms(0.5),
                steady.latency_ms(0.99),
                len(failover.acknowledged),
                len(failover.lost),
                refused,
                failover.paused_seconds(),
                quantile(writes, 0.5),
                quantile(writes, 0.99),
            )
            rows.append(row)
            print(
                f"steady   {row[1]:.0f} entries/s, p50 {row[2]:.1f} ms, p99 {row[3]:.1f} ms "
                f"({len(steady.acknowledged)} entries in {args.seconds:g} s)\n"
                f"failover {row[4]} acknowledged, {row[5]} of them lost, {row[6]} refused "
                f"(503), paused {row[7]:.1f} s\n"
                f"store    {args.writes} HSETs one by one: p50 {row[8]:.2f} ms, "
                f"p99 {row[9]:.2f} ms",
                flush=True,
            )
    print_section("summary")
    print(
        "| acks | entries/s | p50 ms | p99 ms | acknowledged in failover | lost | 503s "
        "| paused s | HSET p50 ms | HSET p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for acks, rate, p50, p99, acked, lost, refused, paused, w50, w99 in rows:
        print(
            f"| {acks} | {rate:.0f} | {p50:.1f} | {p99:.1f} | {acked} | {lost} | {refused} | "
            f"{paused:.1f} | {w50:.2f} | {w99:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(parse_args, run))
