"""Raffle claims over HTTP: how many tickets per second ``fairdraw serve`` hands out.

``fairdraw serve --workers 2`` (embedded store, temporary directory) trusts 127.0.0.1 as
its reverse proxy (``FAIRDRAW_TRUSTED_PROXIES``), so the address in ``X-Forwarded-For``
is the client address; wrk (entry_load.lua, load "claims") sends every request from a
different one, 64 connections, to ``POST /api/v1/draws/{id}/tickets`` of an anonymous
raffle (one ticket per address) created through the JSON API. The entry rate limit,
which also counts claims, is out of reach; the limiter runs and its cost is included.
In the same run, each one layer less than the one before:

1. a bare FastAPI endpoint doing the one ``claim_ticket`` script call (bench/bare_app.py);
2. ``RaffleService.claim`` called from one Python process, 64 at a time (no HTTP);
3. ``claim_ticket.lua`` alone from redis-benchmark (EVALSHA over the unix socket);
4. PING from redis-benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass

import redis

from bench.bench_entries import HttpFigures, drive, print_http, print_store, script_ceilings
from bench.client_ceiling import ClientRun
from bench.harness import print_section, refused_tcp_port, require_tool
from bench.raffle_services import PRIZES, claim_concurrently, raffle_stack
from bench.redis_benchmark import StoreRun
from bench.server import AdminApi, BareAppServer, FairdrawServer
from fairdraw.store.keys import Keys
from fairdraw.store.raffles import claim_keys
from fairdraw.store.scripts import script_source

TRUSTED_PROXY = "127.0.0.1/32"
# Tickets in every raffle of this part: more than any run claims.
HTTP_TICKETS = 10_000_000


@dataclass(frozen=True)
class HttpClaimsResult:
    """Everything the HTTP part measured."""

    fairdraw: HttpFigures
    distinct_claimants: int
    bare: HttpFigures | None
    service: ClientRun
    script: StoreRun
    script_claims: int
    ping: StoreRun


async def _service_ceiling(store_url: str, draw_id: str, calls: int, concurrency: int) -> ClientRun:
    async with raffle_stack(store_url) as stack:
        return await claim_concurrently(stack, draw_id, 0, calls, concurrency)


def measure_http_claims(args: argparse.Namespace) -> HttpClaimsResult:
    wrk = require_tool("wrk", "wrk")
    redis_benchmark = require_tool("redis-benchmark", "redis-tools")
    settings = {"FAIRDRAW_TRUSTED_PROXIES": TRUSTED_PROXY}
    with (
        refused_tcp_port() as github_port,
        FairdrawServer(
            args.workers, f"http://127.0.0.1:{github_port}", settings=settings
        ) as server,
        redis.Redis(unix_socket_path=str(server.socket_path), decode_responses=True) as store,
    ):
        with AdminApi(server.base_url, server.admin_password) as api:
            raffles = {
                name: api.create_open_raffle(f"bench: {name}", PRIZES, HTTP_TICKETS)
                for name in ("http", "bare", "service", "script")
            }
        keys = Keys()
        http = drive(
            wrk,
            server,
            f"/api/v1/draws/{raffles['http']}/tickets",
            args,
            store,
            keys.ledger(raffles["http"]),
            load="claims",
        )
        distinct = int(store.hlen(keys.claimants(raffles["http"])))
        print_http(
            f"fairdraw serve --workers {args.workers}: POST /api/v1/draws/ID/tickets",
            http,
            "claims",
            "claim",
        )
        print(f"claimants        {distinct:,} distinct (one per X-Forwarded-For address)")

        bare: HttpFigures | None = None
        if not args.no_bare_app:
            with BareAppServer(args.workers, server.store_url, server.data_dir) as app:
                bare = drive(
                    wrk,
                    app,
                    f"/claim/{raffles['bare']}",
                    args,
                    store,
                    keys.ledger(raffles["bare"]),
                    load="claims",
                )
            print_http(
                f"ceiling: bare FastAPI, one claim_ticket call, {args.workers} workers",
                bare,
                "claims",
                "claim",
            )

        service = asyncio.run(
            _service_ceiling(
                server.store_url, raffles["service"], args.client_calls, args.connections
            )
        )
        print_section(
            f"ceiling: RaffleService.claim from one Python process, {args.connections} at a time"
        )
        print(f"calls/s          {service.calls_per_second:,.0f}  ({service.created:,} tickets)")
        print(f"CPU/call         {service.cpu_ms_per_call:.2f} ms of this process")

        sha = str(store.script_load(script_source("claim_ticket")))
        script_raffle = raffles["script"]
        # Same arguments as the service sends: claimant, 64-hex-digit code hash.
        script_keys = claim_keys(keys, script_raffle)
        words = ["EVALSHA", sha, str(len(script_keys)), *script_keys]
        words += ["a:__rand_int__", "0" * 64, ""]
        script, made, ping = script_ceilings(
            redis_benchmark, server, store, keys.ledger(script_raffle), words, args, True
        )
        print_store(
            f"ceiling: claim_ticket.lua alone, EVALSHA, {args.connections} clients, unix socket",
            script,
            f"  ({made:,} tickets claimed by {args.store_requests:,} calls)",
        )
        print_store(f"ceiling: PING, {args.connections} clients, unix socket", ping)
    return HttpClaimsResult(http, distinct, bare, service, script, made, ping)


def print_http_reading(result: HttpClaimsResult) -> None:
    measured = result.fairdraw.measured
    print_section("reading: claims over HTTP")
    if result.bare is not None:
        share = measured.requests_per_second / result.bare.measured.requests_per_second
        print(f"fairdraw / bare app              {share:.0%}")
    print(
        "fairdraw / RaffleService alone   "
        f"{measured.requests_per_second / result.service.calls_per_second:.0%}"
    )
    print(
        "fairdraw / claim_ticket.lua      "
        f"{measured.requests_per_second / result.script.requests_per_second:.1%}"
    )
