"""Giveaway entries over HTTP: how many entries per second ``fairdraw serve`` takes.

Starts ``fairdraw serve --workers 2`` with the embedded store in a temporary directory,
fills the GitHub profile cache for N synthetic entrants (GitHub itself is a refusing
port, so every lookup must hit the cache), opens a draw through the JSON API and drives
it with wrk: 64 connections, every request a distinct entrant. In the same run it
measures the ceilings the figure is read against, each one layer less than the last:

1. a bare FastAPI endpoint doing the one ``enter`` script call (bench/bare_app.py),
   run in turn with fairdraw (``--rounds`` pairs, both servers up throughout), so each
   round's share of the ceiling compares two runs a minute apart, and the share read is
   the median of the rounds: the host's speed drifts by more than the figure's margin;
2. ``DrawStore.enter`` called from one Python process, 64 at a time (no HTTP);
3. the ``enter`` script alone from redis-benchmark (EVALSHA over the unix socket);
4. PING from redis-benchmark.

Beside them, in the same rounds, the seed app (bench/seed_app.py): the same job as the
small Flask + redis-py app fairdraw replaces, three round trips per entry and no proof,
under gunicorn on the same store (fsync on every write for both).

Needs wrk and redis-benchmark: apt-get install -y wrk redis-tools.
Run from the repository root: .venv/bin/python bench/bench_entries.py [--help]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file (make bench): the repository root makes `bench.*` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis

from bench import cpu, harness
from bench.client_ceiling import run_client_ceiling
from bench.harness import (
    Stopwatch,
    print_section,
    refused_tcp_port,
    reproduce_command,
    require_tool,
)
from bench.machine import describe_machine
from bench.profiles import bench_login, prefill_profiles
from bench.redis_benchmark import StoreRun, run_store_benchmark
from bench.seed_app import key as seed_key
from bench.seed_app import open_draw as open_seed_draw
from bench.server import AdminApi, BareAppServer, FairdrawServer, HttpServer, SeedAppServer
from bench.wrk import Load, WrkRun, run_entry_load
from fairdraw.store.connection import connect
from fairdraw.store.draws import enter_keys
from fairdraw.store.keys import Keys
from fairdraw.store.scripts import script_source

TARGET_ENTRIES_PER_SECOND = 3000
TARGET_P99_MS = 50.0
# fairdraw's entries/s against the seed app's, both stores fsyncing every write.
TARGET_TIMES_SEED = 1.5
PRIZES = [{"name": "Sticker pack", "quantity": 3}]
IDLE_THRESHOLD = 0.10
# The seed app's entries: a set (the "ledger length" printed for its runs is its size).
SEED_ENTRANTS = seed_key("entrants")
PROCESS_GROUPS = {"valkey-server": "store", "redis-server": "store"}


@dataclass(frozen=True)
class HttpFigures:
    """A warm-up and a measured wrk run against one endpoint, the entries they left, and
    the cores each group of processes used during the measured run."""

    warmup: WrkRun
    measured: WrkRun
    ledger_length: int
    cores_used: dict[str, float]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Giveaway entries over HTTP, with the store's ceilings measured alongside.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--entrants", type=int, default=600_000, help="profiles pre-filled in the cache"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="runs of fairdraw, each followed by one of the bare app",
    )
    harness.add_load_options(parser, "enter", client_calls="DrawStore.enter")
    harness.add_wait_idle_option(parser, "starting")
    parser.add_argument("--no-bare-app", action="store_true", help="skip the bare FastAPI ceiling")
    parser.add_argument(
        "--seed-entrants",
        type=int,
        default=300_000,
        help="profiles pre-filled in the seed app's cache",
    )
    parser.add_argument(
        "--seed-threads", type=int, default=16, help="gunicorn threads per seed app worker"
    )
    parser.add_argument("--no-seed-app", action="store_true", help="skip the seed app")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def options_of(args: argparse.Namespace) -> list[str]:
    """Every option spelled out, so the printed command repeats this exact run."""
    options = [
        f"--entrants={args.entrants}",
        f"--rounds={args.rounds}",
        *harness.load_options(args),
        f"--wait-idle={args.wait_idle:g}",
    ]
    if args.no_bare_app:
        options.append("--no-bare-app")
    if args.no_seed_app:
        options.append("--no-seed-app")
    else:
        options += [f"--seed-entrants={args.seed_entrants}", f"--seed-threads={args.seed_threads}"]
    return options


def drive(
    wrk: str,
    server: HttpServer,
    path: str,
    args: argparse.Namespace,
    store: redis.Redis,
    ledger: str,
    load: Load = "entries",
    base: int = 0,
) -> HttpFigures:
    """A warm-up run, then the measured run, on fresh entrants (or claimants) from
    number ``base`` on."""
    common = {"threads": args.threads, "connections": args.connections, "load": load}
    warmup = run_entry_load(wrk, server.base_url, path, base=base, seconds=args.warmup, **common)
    measured, cores = measure_load(
        server,
        lambda: run_entry_load(
            wrk, server.base_url, path, base=warmup.next_base, seconds=args.duration, **common
        ),
    )
    # The seed app's entries are a set's members, the others' a ledger list's items.
    length = store.scard(ledger) if load == "seed" else store.llen(ledger)
    return HttpFigures(warmup, measured, int(length), cores)


def measure_load(server: HttpServer, load: Callable[[], WrkRun]) -> tuple[WrkRun, dict[str, float]]:
    """Run ``load`` against ``server``; its run and the cores each group of processes
    used meanwhile (web server, store, wrk, this script, the machine, the host's steal)."""
    before = cpu.snapshot()
    measured = load()
    after = cpu.snapshot()
    cores = cpu.usage_by_group(
        before,
        after,
        roots={server.pid: "web server", os.getpid(): "benchmark script"},
        by_name=PROCESS_GROUPS,
    )
    cores["wrk"] = measured.cpu_seconds / measured.duration_s
    cores["machine total"] = cpu.machine_cores_busy(before, after)
    cores["stolen"] = cpu.machine_cores_stolen(before, after)
    return measured, cores


def script_ceilings(
    redis_benchmark: str,
    server: FairdrawServer,
    store: redis.Redis,
    ledger: str,
    words: list[str],
    args: argparse.Namespace,
    random_keys: bool = False,
) -> tuple[StoreRun, int, StoreRun]:
    """One script call (``words``) alone from redis-benchmark, and how many elements it
    added to ``ledger``; then PING. ``args`` gives the clients and the calls."""
    before = int(store.llen(ledger))
    script = run_store_benchmark(
        redis_benchmark,
        server.socket_path,
        words,
        clients=args.connections,
        requests=args.store_requests,
        random_keys=random_keys,
    )
    added = int(store.llen(ledger)) - before
    ping = run_store_benchmark(
        redis_benchmark,
        server.socket_path,
        ["PING"],
        clients=args.connections,
        requests=args.ping_requests,
    )
    return script, added, ping


def print_http(
    title: str, figures: HttpFigures, units: str = "entries", unit: str = "entry"
) -> None:
    run = figures.measured
    print_section(title)
    print(f"{units + '/s':<17}{run.requests_per_second:,.0f}")
    print(
        f"latency ms       p50 {run.p50_ms:.1f}  p90 {run.p90_ms:.1f}  p99 {run.p99_ms:.1f}"
        f"  p99.9 {run.p999_ms:.1f}  max {run.max_ms:.1f}"
    )
    print(
        f"errors           {run.errors}  (non-201 {run.non_201}, socket {run.socket_errors},"
        f" timeouts {run.timeouts})"
    )
    warm = figures.warmup
    if run.first_unexpected or warm.first_unexpected:
        print(f"first non-201    {run.first_unexpected or warm.first_unexpected}")
    print(
        f"requests         {run.completed:,} answered in {run.duration_s:.1f} s"
        f" (+ {warm.completed:,} in the warm-up, {warm.errors} errors)"
    )
    print(f"ledger length    {figures.ledger_length:,} {units} after both runs")
    totals = ("machine total", "stolen")
    used = {k: v for k, v in figures.cores_used.items() if k not in totals}
    ranked = sorted(used.items(), key=lambda item: -item[1])
    print(
        "cores used       "
        + ", ".join(f"{group} {cores:.2f}" for group, cores in ranked)
        + f"; machine total {figures.cores_used.get('machine total', 0.0):.2f}"
        + f" (+ {figures.cores_used.get('stolen', 0.0):.2f} stolen by the host)"
    )
    web = figures.cores_used.get("web server", 0.0)
    if run.requests_per_second:
        print(f"{'web CPU/' + unit:<17}{web / run.requests_per_second * 1000:.2f} ms")
    print(f"wrk command      {' '.join(run.command)}")


def print_store(title: str, run: StoreRun, note: str = "") -> None:
    print_section(title)
    print(f"calls/s          {run.requests_per_second:,.0f}{note}")
    print(f"latency ms       p50 {run.p50_ms:.3f}  p99 {run.p99_ms:.3f}  max {run.max_ms:.3f}")
    print(f"command          {' '.join(run.command)}")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def run(args: argparse.Namespace) -> int:
    wrk = require_tool("wrk", "wrk")
    redis_benchmark = require_tool("redis-benchmark", "redis-tools")
    machine = describe_machine()
    print_section("machine")
    print("\n".join(machine.lines()))
    busy = cpu.wait_until_idle(args.wait_idle, IDLE_THRESHOLD)
    print(f"busy    {busy:.0%} of all cores before the start (other processes)")
    if busy >= IDLE_THRESHOLD:
        print("WARNING: the machine is not idle; every figure below is lower than it should be")

    with (
        refused_tcp_port() as github_port,
        FairdrawServer(args.workers, f"http://127.0.0.1:{github_port}") as server,
        redis.Redis(unix_socket_path=str(server.socket_path), decode_responses=True) as store,
    ):
        with Stopwatch() as prefill:
            asyncio.run(_prefill(server.store_url, args.entrants))
        print(f"\nprofile cache: {args.entrants:,} profiles in {prefill.seconds:.1f} s")
        if not args.no_seed_app:
            with Stopwatch() as seed_prefill:
                open_seed_draw(store, ((bench_login(n), n) for n in range(args.seed_entrants)))
            print(
                f"seed app cache: {args.seed_entrants:,} profiles in {seed_prefill.seconds:.1f} s"
            )
        with AdminApi(server.base_url, server.admin_password) as api:
            http_draw = api.create_open_draw("bench: entries over HTTP", PRIZES)
            bare_draw = api.create_open_draw("bench: bare app ceiling", PRIZES)
            store_draw = api.create_open_draw("bench: store ceiling", PRIZES)
            client_draw = api.create_open_draw("bench: store layer ceiling", PRIZES)

        keys = Keys()
        runs: list[HttpFigures] = []
        bares: list[HttpFigures] = []
        seeds: list[HttpFigures] = []
        with contextlib.ExitStack() as stack:
            app = None
            if not args.no_bare_app:
                app = stack.enter_context(
                    BareAppServer(args.workers, server.store_url, server.data_dir)
                )
            seed = None
            if not args.no_seed_app:
                seed = stack.enter_context(
                    SeedAppServer(
                        args.workers, args.seed_threads, server.store_url, server.data_dir
                    )
                )
            for round_ in range(1, args.rounds + 1):
                base = runs[-1].measured.next_base if runs else 0
                http = drive(
                    wrk,
                    server,
                    f"/api/v1/draws/{http_draw}/entries",
                    args,
                    store,
                    keys.ledger(http_draw),
                    base=base,
                )
                runs.append(http)
                print_http(
                    f"fairdraw serve --workers {args.workers}: POST /api/v1/draws/ID/entries"
                    f" (round {round_})",
                    http,
                )
                if http.measured.next_base > args.entrants:
                    print(
                        f"WARNING: the run needed {http.measured.next_base:,} entrants but "
                        f"only {args.entrants:,} were cached; raise --entrants"
                    )
                if app is not None:
                    base = bares[-1].measured.next_base if bares else 0
                    ledger = keys.ledger(bare_draw)
                    bare = drive(wrk, app, f"/enter/{bare_draw}", args, store, ledger, base=base)
                    bares.append(bare)
                    print_http(
                        f"ceiling: bare FastAPI, one enter script call, {args.workers} workers"
                        f" (round {round_})",
                        bare,
                    )
                if seed is not None:
                    base = seeds[-1].measured.next_base if seeds else 0
                    figures = drive(
                        wrk, seed, "/enter/", args, store, SEED_ENTRANTS, "seed", base=base
                    )
                    seeds.append(figures)
                    print_http(
                        f"the seed app: Flask + redis-py under gunicorn, {args.workers} workers"
                        f" x {args.seed_threads} threads, GET /enter/LOGIN (round {round_})",
                        figures,
                    )
                    if figures.measured.next_base > args.seed_entrants:
                        print(
                            f"WARNING: the seed app needed {figures.measured.next_base:,} "
                            f"entrants but only {args.seed_entrants:,} were cached; raise "
                            "--seed-entrants"
                        )

        client = run_client_ceiling(
            server.store_url, client_draw, args.client_calls, args.connections
        )
        print_section(
            f"ceiling: DrawStore.enter from one Python process, {args.connections} at a time"
        )
        print(f"calls/s          {client.calls_per_second:,.0f}  ({client.created:,} created)")
        print(f"CPU/call         {client.cpu_ms_per_call:.2f} ms of this process")

        sha = str(store.script_load(script_source("enter")))
        # Same arguments as the service sends: identity, login, and the
        # entry limit the server counts too (its setting in FairdrawServer), one address.
        script_keys = enter_keys(keys, store_draw, "b__rand_int__", "127.0.0.1")
        words = ["EVALSHA", sha, str(len(script_keys)), *script_keys]
        words += ["gh:__rand_int__", "b__rand_int__", "1000000000", "60000"]
        enter, created, ping = script_ceilings(
            redis_benchmark, server, store, keys.ledger(store_draw), words, args, random_keys=True
        )
        print_store(
            f"ceiling: enter.lua alone, EVALSHA, {args.connections} clients, unix socket",
            enter,
            f"  ({created:,} entries created by {args.store_requests:,} calls)",
        )
        print_store(f"ceiling: PING, {args.connections} clients, unix socket", ping)

    # The round of the median rate stands for the run; every round must be clean.
    http = sorted(runs, key=lambda r: r.measured.requests_per_second)[(len(runs) - 1) // 2]
    measured = http.measured
    print_section("reading")
    rates = ", ".join(f"{r.measured.requests_per_second:,.0f}" for r in runs)
    print(f"fairdraw entries/s         {measured.requests_per_second:,.0f}, the median of {rates}")
    if bares:
        shares = [
            r.measured.requests_per_second / b.measured.requests_per_second
            for r, b in zip(runs, bares, strict=True)
        ]
        print(
            f"fairdraw / bare app        {statistics.median(shares):.0%}, the median of the "
            f"rounds' {', '.join(f'{s:.0%}' for s in shares)} (bare: "
            f"{', '.join(f'{b.measured.requests_per_second:,.0f}' for b in bares)} entries/s)"
        )
    times_seed: float | None = None
    if seeds:
        ratios = [
            r.measured.requests_per_second / s.measured.requests_per_second
            for r, s in zip(runs, seeds, strict=True)
        ]
        times_seed = statistics.median(ratios)
        print(
            f"fairdraw / seed app        {times_seed:.2f}x, the median of the rounds' "
            f"{', '.join(f'{x:.2f}x' for x in ratios)} (seed app: "
            f"{', '.join(f'{s.measured.requests_per_second:,.0f}' for s in seeds)} entries/s,"
            f" p99 {', '.join(f'{s.measured.p99_ms:.0f}' for s in seeds)} ms)"
        )
    print(
        f"fairdraw / enter.lua alone {measured.requests_per_second / enter.requests_per_second:.1%}"
    )
    clean = all(r.measured.errors == 0 and r.warmup.errors == 0 for r in runs)
    print(
        f"target >= {TARGET_ENTRIES_PER_SECOND:,} entries/s: "
        f"{verdict(measured.requests_per_second >= TARGET_ENTRIES_PER_SECOND)}; "
        f"p99 < {TARGET_P99_MS:g} ms: {verdict(measured.p99_ms < TARGET_P99_MS)}; "
        f"0 errors: {verdict(clean)}"
        + (
            f"; >= {TARGET_TIMES_SEED:g}x the seed app: {verdict(times_seed >= TARGET_TIMES_SEED)}"
            if times_seed is not None
            else ""
        )
    )
    print_section("reproduce (from the repository root)")
    print(reproduce_command("bench_entries.py", options_of(args)))
    return 0 if clean else 1


async def _prefill(store_url: str, entrants: int) -> None:
    client = connect(store_url)
    try:
        await prefill_profiles(client, Keys(), range(entrants))
    finally:
        await client.aclose()


if __name__ == "__main__":
    sys.exit(harness.main(parse_args, run))
