"""The JSON API under Schemathesis, the full run: at least ``--requests`` requests (20,000
by default) against ``fairdraw serve --workers 2``, and what they found.

The same fuzzing as tests/integration/test_api_fuzz.py (tests/support/fuzzing.py: every
check, every phase, real draw, raffle and lottery ids, live feeds left out), on a bigger
budget: rounds of two runs, one as an anonymous client and one with the administrator's
bearer token, each with ``--max-examples`` per operation, seeded ``--seed``,
``--seed + 1``, … until the requests reach ``--requests``. The server is ``fairdraw
serve`` on a temporary data directory with its embedded store; GitHub is a loopback
stand-in that knows every well-formed login; rate limits are out of reach (every request
comes from 127.0.0.1) and the access token lasts the whole run.

Prints the requests made by status class, the failures by check, the failures the hooks
explained (rules no schema can state, tests/support/fuzz_hooks.py), the time taken, where
the reports are, and the command that repeats the run. Exits 1 on any 5xx or failure.
Needs the dev extras (Schemathesis): pip install -e '.[dev]'.
Run from the repository root: .venv/bin/python bench/bench_fuzz.py [--help]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file (make bench): the repository root makes `bench.*` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench import harness
from bench.harness import REPO_ROOT, BenchError, Stopwatch, print_section, reproduce_command
from bench.machine import describe_machine
from bench.server import ADMIN_USERNAME, ENTRY_RATE_LIMIT, FairdrawServer
from tests.support.fuzzing import (
    EveryLoginOnGitHub,
    FuzzRun,
    access_token,
    create_targets,
    run_fuzzer,
    shell_command,
    write_config,
)

PARTICIPANT = ("pat", "participant password 1")
# Every limit of the server out of the fuzzer's reach: all of it comes from one address.
SETTINGS = {
    "FAIRDRAW_RATE_LIMIT_LOGIN_USER": ENTRY_RATE_LIMIT,
    "FAIRDRAW_RATE_LIMIT_LOGIN_ADDRESS": ENTRY_RATE_LIMIT,
    "FAIRDRAW_RATE_LIMIT_REGISTRATION": ENTRY_RATE_LIMIT,
    "FAIRDRAW_RATE_LIMIT_TOKEN_REFRESH": ENTRY_RATE_LIMIT,
    "FAIRDRAW_RATE_LIMIT_TICKET_CODES": ENTRY_RATE_LIMIT,
    "FAIRDRAW_ACCESS_TOKEN_SECONDS": str(24 * 3600),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The JSON API fuzzed by Schemathesis: requests by status, failures by check.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--requests", type=int, default=20_000, help="run rounds until this many requests"
    )
    parser.add_argument(
        "--max-examples", type=int, default=400, help="test cases per operation and run"
    )
    parser.add_argument("--seed", type=int, default=1, help="the first round's seed")
    parser.add_argument("--workers", type=int, default=2, help="fairdraw serve --workers")
    parser.add_argument(
        "--reports",
        type=Path,
        default=REPO_ROOT / "build" / "fuzz",
        help="directory for each run's HAR and JSON reports",
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or args.max_examples < 1 or args.workers < 1:
        parser.error("--requests, --max-examples and --workers must be positive")
    return args


def options_of(args: argparse.Namespace) -> list[str]:
    return [
        f"--requests={args.requests}",
        f"--max-examples={args.max_examples}",
        f"--seed={args.seed}",
        f"--workers={args.workers}",
    ]


def fuzz(args: argparse.Namespace) -> list[FuzzRun]:
    runs: list[FuzzRun] = []
    with (
        EveryLoginOnGitHub() as github,
        FairdrawServer(args.workers, github.url, settings=SETTINGS) as server,
    ):
        admin = (ADMIN_USERNAME, server.admin_password)
        with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
            reply = client.post(
                "/api/v1/users", json={"username": PARTICIPANT[0], "password": PARTICIPANT[1]}
            )
            if reply.status_code != 201:
                raise BenchError(f"registering {PARTICIPANT[0]}: {reply.status_code} {reply.text}")
            token = access_token(client, admin)
        targets = create_targets(server.base_url, admin, PARTICIPANT[0])
        args.reports.mkdir(parents=True, exist_ok=True)
        config = write_config(args.reports / "schemathesis.toml", targets)
        schema_url = f"{server.base_url}/openapi.json"
        seed = args.seed
        while sum(run.requests for run in runs) < args.requests:
            for identity, bearer in (("anonymous", None), ("admin", token)):
                run = run_fuzzer(
                    identity,
                    schema_url,
                    config,
                    args.reports / f"seed-{seed}-{identity}",
                    max_examples=args.max_examples,
                    seed=seed,
                    token=bearer,
                )
                runs.append(run)
                print_run(seed, run)
            seed += 1
    return runs


def print_run(seed: int, run: FuzzRun) -> None:
    classes = ", ".join(f"{name} {count:,}" for name, count in run.by_class().items())
    found = sum(run.failures.values()) + sum(run.errors.values())
    print(
        f"seed {seed:<3} {run.identity:<9} {run.requests:>7,} requests in {run.seconds:6.1f} s"
        f" ({classes}); {found} failures, {run.dropped} explained",
        flush=True,
    )
    if found:
        print(run.report())


def print_totals(args: argparse.Namespace, runs: list[FuzzRun], seconds: float) -> int:
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    for run in runs:
        statuses.update(run.statuses)
        failures.update(run.failures)
        failures.update({f"error: {title}": count for title, count in run.errors.items()})
    total = sum(statuses.values())
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    print_section("totals")
    print(
        f"requests        {total:,} in {len(runs)} runs, {seconds:.0f} s ({total / seconds:.0f}/s)"
    )
    by_class: Counter[str] = Counter()
    for status, count in statuses.items():
        by_class[f"{status // 100}xx" if status else "no answer"] += count
    for name, count in sorted(by_class.items()):
        print(f"  {name:<13} {count:>7,}  {100 * count / total:5.1f} %")
    print(f"responses 5xx   {server_errors}")
    print(f"failures        {sum(failures.values())}")
    for name, count in sorted(failures.items()):
        print(f"  {name}: {count}")
    dropped = sum(run.dropped for run in runs)
    print(f"explained       {dropped} refusals of rules no schema can state (fuzz_hooks.py)")
    explained: Counter[str] = Counter()
    for run in runs:
        explained.update(run.explained)
    for rule, count in explained.most_common():
        print(f"  {count:>6,}  {rule}")
    print(f"reports         {args.reports}")
    print_section("reproduce (from the repository root)")
    print(reproduce_command("bench_fuzz.py", options_of(args)))
    print("one run of it, against a server of your own (token elided):")
    print(shell_command(runs[-1].command))
    return 0 if server_errors == 0 and not failures else 1


def run(args: argparse.Namespace) -> int:
    print_section("machine")
    print("\n".join(describe_machine().lines()))
    print_section(
        f"fuzzing: at least {args.requests:,} requests, {args.max_examples} per operation"
    )
    with Stopwatch() as watch:
        runs = fuzz(args)
    return print_totals(args, runs, watch.seconds)


if __name__ == "__main__":
    sys.exit(harness.main(parse_args, run))
