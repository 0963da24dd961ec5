"""Importing a list of entrants: a CSV file of N rows made a sealed giveaway's ledger.

Service level (``ImportingService.import_list``, as the route calls it), in a private
embedded store (the configuration of ``fairdraw serve``: AOF, ``appendfsync always``),
without a beacon: reading and checking the file, staging it a ledger chunk at a time with
each chunk's Merkle root, and the script that seals it; then drawing it and checking
the bundle with the verifier. Reports the wall time of each step, the peak memory of
the process (``ru_maxrss``) before and after the import, and the store memory the
ledger takes. Names are ``Entrant <i>``, the de-duplication column a member number.
Run from the repository root: .venv/bin/python bench/bench_import.py [--rows N]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file (make bench): the repository root makes `bench.*` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import cpu, harness
from bench.harness import BenchError, Stopwatch, print_section, reproduce_command
from bench.machine import describe_machine
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.callers import Caller
from fairdraw.domain.imports import ImportOptions
from fairdraw.domain.proof import canonical_json
from fairdraw.domain.signing import SigningKey
from fairdraw.domain.verification import verify_bundle_bytes
from fairdraw.services.draw_log import DrawLogService
from fairdraw.services.drawing import DrawingService
from fairdraw.services.github import GitHubClient
from fairdraw.services.importing import ImportingService
from fairdraw.services.proofs import DrawProofs
from fairdraw.store.connection import connect
from fairdraw.store.draw_log import DrawLogStore
from fairdraw.store.draws import DrawStore
from fairdraw.store.embedded import EmbeddedStore
from fairdraw.store.imports import ImportStore
from fairdraw.store.keys import Keys
from fairdraw.store.profiles import ProfileCache

ACTOR = Caller(user=User(username="bench", display_name="bench", role=Role.admin, created_ms=0))
PRIZES = [{"name": "Grand prize", "quantity": 1}, {"name": "Runner-up", "quantity": 9}]
IDLE_THRESHOLD = 0.10


@dataclass(frozen=True)
class ImportFigures:
    rows: int
    file_bytes: int
    import_seconds: float
    draw_seconds: float
    verify_seconds: float
    rss_before_mb: float
    rss_peak_mb: float
    ledger_mb: float
    verdict: str


def csv_file(rows: int) -> bytes:
    """A file of ``rows`` entrants: a name and a member number each."""
    lines = "".join(f"Entrant {i},{100_000 + i}\n" for i in range(rows))
    return ("name,member\n" + lines).encode()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(rows: int) -> ImportFigures:
    data = csv_file(rows)
    with tempfile.TemporaryDirectory(prefix="fdbench-") as tmp:
        store = EmbeddedStore(Path(tmp))
        url = store.start()
        redis = connect(url)
        keys = Keys()
        github = GitHubClient("http://127.0.0.1:9", None, 1.0, ProfileCache(redis, keys, 60))
        signing = SigningKey.generate()
        proofs = DrawProofs(DrawLogService(DrawLogStore(redis, keys), signing), signing, None, 5)
        draws = DrawStore(redis, keys)
        drawing = DrawingService(draws, github, proofs=proofs)
        importing = ImportingService(
            draws,
            ImportStore(redis, keys),
            drawing,
            proofs,
            max_rows=max(rows, 1),
            max_bytes=len(data),
        )
        try:
            draft = await drawing.create(ACTOR, title=f"bench: {rows:,} rows", prizes=PRIZES)
            before = peak_rss_mb()
            options = ImportOptions(name_column="name", dedupe_column="member")
            with Stopwatch() as importing_time:
                result = await importing.import_list(ACTOR, draft.id, data, options)
            peak = peak_rss_mb()
            if result.draw.seal is None or result.draw.seal.entry_count != rows:
                raise BenchError(f"the import sealed {result.draw.seal!r}")
            ledger_bytes = int(await redis.memory_usage(keys.ledger(draft.id)) or 0)
            with Stopwatch() as drawing_time:
                drawn = await drawing.draw_winners(ACTOR, draft.id)
            if drawn.result is None:
                raise BenchError("the draw recorded no result")
            with Stopwatch() as verifying_time:
                entries = (await drawing.entries_file(draft.id)).encode()
                report = verify_bundle_bytes(canonical_json(drawn.result.bundle), entries)
            if not report.ok:
                raise BenchError(f"the bundle does not verify: {report.verdict}")
        finally:
            await proofs.aclose()
            await github.aclose()
            await redis.aclose()
            store.stop()
    return ImportFigures(
        rows=rows,
        file_bytes=len(data),
        import_seconds=importing_time.seconds,
        draw_seconds=drawing_time.seconds,
        verify_seconds=verifying_time.seconds,
        rss_before_mb=before,
        rss_peak_mb=peak,
        ledger_mb=ledger_bytes / 2**20,
        verdict=report.verdict,
    )


def print_figures(f: ImportFigures) -> None:
    print(f"rows                 {f.rows:,} ({f.file_bytes / 2**20:.1f} MiB of CSV)")
    print(f"import (read, check, stage, seal)  {f.import_seconds:.2f} s")
    print(f"  rows per second    {f.rows / f.import_seconds:,.0f}")
    print(f"peak RSS             {f.rss_before_mb:.0f} MB before, {f.rss_peak_mb:.0f} MB after")
    print(f"ledger in the store  {f.ledger_mb:.1f} MiB (MEMORY USAGE)")
    print(f"draw (10 prizes)     {f.draw_seconds:.2f} s")
    print(f"verify (in process)  {f.verify_seconds:.2f} s: {f.verdict}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Import a CSV list of entrants, draw it and verify it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of entrants")
    harness.add_wait_idle_option(parser, "the import")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    print_section("machine")
    print("\n".join(describe_machine().lines()))
    cpu.settle(args.wait_idle, IDLE_THRESHOLD)
    print_section(f"import: {args.rows:,} rows, then draw and verify")
    print_figures(asyncio.run(measure(args.rows)))
    print_section("reproduce (from the repository root)")
    options = [f"--rows={args.rows}", f"--wait-idle={args.wait_idle:g}"]
    print(reproduce_command("bench_import.py", options))
    return 0


if __name__ == "__main__":
    sys.exit(harness.main(parse_args, run))
