"""What both benchmarks need: external tools, free ports, timing and the reproduce line."""

from __future__ import annotations

import argparse
import shlex
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


class BenchError(Exception):
    """A benchmark cannot run (a missing tool, a server that does not start, ...)."""


def require_tool(name: str, debian_package: str) -> str:
    """The absolute path of ``name`` on PATH, or BenchError saying how to install it."""
    found = shutil.which(name)
    if found is None:
        raise BenchError(
            f"{name} is not installed; on Debian/Ubuntu: apt-get install -y {debian_package}"
        )
    return found


def free_tcp_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def refused_tcp_port() -> Iterator[int]:
    """A loopback port that refuses every connection for as long as the block runs.

    The socket is bound but never listens: nobody else can take the port, and a
    connection attempt is answered with a reset at once.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


@dataclass
class Stopwatch:
    """Wall-clock seconds of a ``with`` block (``time.perf_counter``)."""

    seconds: float = 0.0
    _start: float = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.seconds = time.perf_counter() - self._start


def reproduce_command(script: str, options: Sequence[str]) -> str:
    """The shell command, run from the repository root, that repeats this benchmark."""
    words = [".venv/bin/python", f"bench/{script}", *options]
    return shlex.join(words)


def print_section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def fail(error: BenchError) -> int:
    """Report ``error`` on stderr; the exit status for it."""
    print(f"{Path(sys.argv[0]).name}: {error}", file=sys.stderr)
    return 2


def parts_parser(known: Sequence[str]) -> Callable[[str], list[str]]:
    """An argparse type for ``--parts``: a comma-separated subset of ``known``, returned
    in ``known``'s order."""

    def parse(text: str) -> list[str]:
        parts = [word.strip() for word in text.split(",") if word.strip()]
        unknown = sorted(set(parts) - set(known))
        if unknown or not parts:
            raise argparse.ArgumentTypeError(f"parts are {', '.join(known)}; got {text!r}")
        return [part for part in known if part in parts]

    return parse


def main(
    parse_args: Callable[[list[str]], argparse.Namespace],
    run: Callable[[argparse.Namespace], int],
    argv: list[str] | None = None,
) -> int:
    """Parse the command line, run the benchmark, and report a BenchError in one line;
    the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except BenchError as error:
        return fail(error)


def add_load_options(
    parser: argparse.ArgumentParser,
    script: str,
    client_calls: str | None = None,
    part: str = "",
) -> None:
    """The options of a load over HTTP and its store ceilings: measured and warm-up
    seconds, wrk connections and threads, server workers, ``script`` calls and PING calls
    from redis-benchmark, and (if ``client_calls`` names what is called) calls from one
    Python process. ``part`` prefixes the help of a benchmark with parts."""
    where = f"{part}: " if part else ""
    parser.add_argument("--duration", type=float, default=20.0, help=f"{where}seconds measured")
    parser.add_argument("--warmup", type=float, default=5.0, help=f"{where}seconds before it")
    parser.add_argument(
        "--connections", type=int, default=64, help=f"{where}concurrent HTTP clients"
    )
    parser.add_argument("--threads", type=int, default=2, help=f"{where}wrk threads")
    parser.add_argument("--workers", type=int, default=2, help=f"{where}fairdraw serve --workers")
    parser.add_argument(
        "--store-requests",
        type=int,
        default=300_000,
        help=f"{where}EVALSHA {script} calls (ceiling)",
    )
    if client_calls is not None:
        parser.add_argument(
            "--client-calls",
            type=int,
            default=30_000,
            help=f"{where}{client_calls} calls from one Python process (ceiling)",
        )
    parser.add_argument(
        "--ping-requests", type=int, default=500_000, help=f"{where}PING calls (ceiling)"
    )


def load_options(args: argparse.Namespace) -> list[str]:
    """The options of :func:`add_load_options`, spelled out as this run used them."""
    options = [
        f"--duration={args.duration:g}",
        f"--warmup={args.warmup:g}",
        f"--connections={args.connections}",
        f"--threads={args.threads}",
        f"--workers={args.workers}",
        f"--store-requests={args.store_requests}",
    ]
    if getattr(args, "client_calls", None) is not None:
        options.append(f"--client-calls={args.client_calls}")
    return [*options, f"--ping-requests={args.ping_requests}"]


def add_wait_idle_option(parser: argparse.ArgumentParser, when: str) -> None:
    """``--wait-idle``: how long to wait for a quiet machine before ``when``."""
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=60.0,
        help=f"seconds to wait for other processes to leave the CPU idle before {when}",
    )
