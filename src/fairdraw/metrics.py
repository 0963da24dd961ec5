"""What fairdraw counts for Prometheus: every metric, defined once, and the small
functions the rest of the code calls to feed them.

``/metrics`` (``web/metrics.py``) exposes them. With several server processes
(``fairdraw serve --workers N``) each process writes its values to memory-mapped files in
a directory the command creates for the run (``PROMETHEUS_MULTIPROC_DIR``, prometheus
client's multiprocess mode), so that whichever process answers a scrape reports the
whole server. The mode is chosen when ``prometheus_client`` is first imported, which is
why the command sets the directory before it starts the worker processes; a single
process keeps its values in memory.

Labels are bounded: HTTP routes are route templates (``/api/v1/draws/{draw_id}``), never
raw paths; refusal reasons are the problem ``code`` of the error; store commands are the
commands fairdraw sends.

Every request and every store command is counted and timed, so those two are kept in
plain numbers first (:class:`Buffered`) and added to the metrics by :func:`flush`: before
each scrape, and every second in each worker process (``web/metrics.py``). The client
library's own bookkeeping (a lock per value, and in multiprocess mode a write to the
mapped file and a ``getpid``) costs microseconds per observation; the buffer costs a
dictionary lookup and two additions.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from prometheus_client import Counter, Gauge, Histogram

from fairdraw.domain.errors import FairdrawError, StoreError

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# A request is answered in milliseconds to seconds; a store command in tens of
# microseconds to milliseconds (anything slower is the problem worth seeing).
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STORE_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    1.0,
    5.0,
)

HTTP_REQUESTS = Counter(
    "fairdraw_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "fairdraw_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template (event streams: "
    "until their response starts).",
    ["method", "route"],
    buckets=HTTP_BUCKETS,
)
ENTRIES_ACCEPTED = Counter(
    "fairdraw_entries_accepted",
    "Entries accepted, by kind: entry (giveaway), claim (raffle ticket), ballot (lottery).",
    ["kind"],
)
ENTRIES_REFUSED = Counter(
    "fairdraw_entries_refused",
    "Entries refused, by kind and reason (the problem code the caller got).",
    ["kind", "reason"],
)
STORE_DURATION = Histogram(
    "fairdraw_store_command_duration_seconds",
    "Store round trips (a command, a script or a pipeline), by command, including any "
    "wait for a free pooled connection.",
    ["command"],
    buckets=STORE_BUCKETS,
)
STORE_ERRORS = Counter(
    "fairdraw_store_errors",
    "Store round trips that failed, by command and error class.",
    ["command", "error"],
)
STORE_POOL_CONNECTIONS = Gauge(
    "fairdraw_store_pool_connections",
    "Open store connections of the server's pools, by pool (main; live: the live feeds' "
    "blocking reads) and state (in_use, idle).",
    ["pool", "state"],
    multiprocess_mode="livesum",
)
STORE_POOL_MAX = Gauge(
    "fairdraw_store_pool_max_connections",
    "Most store connections the server's pools may open, by pool.",
    ["pool"],
    multiprocess_mode="livesum",
)
SCHEDULER_PASSES = Counter(
    "fairdraw_scheduler_passes",
    "Scheduler passes completed, by role (leader: held the lease and did the due work; "
    "follower: another process holds it).",
    ["role"],
)
SCHEDULER_LAST_SUCCESS = Gauge(
    "fairdraw_scheduler_last_success_timestamp_seconds",
    "When a scheduler last completed a pass as the leader (Unix time).",
    multiprocess_mode="max",
)
SCHEDULER_LAG = Gauge(
    "fairdraw_scheduler_lag_seconds",
    "How long after its day ended the last drawn lottery round was drawn.",
    multiprocess_mode="mostrecent",
)
SCHEDULER_LAST_RUN = Gauge(
    "fairdraw_scheduler_last_run_timestamp_seconds",
    "When the leading scheduler, in this server or elsewhere, last recorded a pass (Unix "
    "time; read from the store at each scrape).",
    multiprocess_mode="mostrecent",
)
SCHEDULER_OVERDUE = Gauge(
    "fairdraw_scheduler_overdue_seconds",
    "How long the most overdue lottery round or draw deadline has waited for the "
    "scheduler (0: nothing overdue; read from the store at each scrape).",
    multiprocess_mode="mostrecent",
)
BACKGROUND_JOBS = Gauge(
    "fairdraw_background_jobs",
    "Background jobs (ledger chunk hashing, sealing a sold-out raffle) started and not "
    "yet finished.",
    multiprocess_mode="livesum",
)
BACKGROUND_FAILURES = Counter(
    "fairdraw_background_job_failures",
    "Background jobs that failed (sealing or drawing does their work later).",
)


def multiprocess_directory() -> str | None:
    """The directory shared by the server's processes, or None in single-process mode."""
    return os.environ.get(MULTIPROCESS_VARIABLE) or None


@contextmanager
def shared_between_workers(workers: int) -> Iterator[None]:
    """With more than one worker, a fresh directory for the run's metric files, named
    in the environment the workers inherit and removed when the block ends."""
    if workers <= 1:
        yield
        return
    directory = tempfile.mkdtemp(prefix="fairdraw-metrics-")
    previous = os.environ.get(MULTIPROCESS_VARIABLE)
    os.environ[MULTIPROCESS_VARIABLE] = directory
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_VARIABLE, None)
        else:
            os.environ[MULTIPROCESS_VARIABLE] = previous
        shutil.rmtree(directory, ignore_errors=True)


# -- buffered observations -------------------------------------------------------------------
class Buffered:
    """Counts and observations of one counter or histogram, by label values, kept in
    plain numbers until :meth:`flush` adds them to the metric.

    Only the event loop's thread records; a flush swaps the pending numbers out before it
    adds them, so it never counts an observation twice.
    """

    def __init__(self, metric: Counter | Histogram, buckets: Sequence[float] = ()) -> None:
        self._metric = metric
        self._bounds = list(buckets)
        # label values → [count in each bucket (the last: +Inf), sum], or [count] for a counter
        self._pending: dict[tuple[Hashable, ...], list[float]] = {}

    def count(self, labels: tuple[Hashable, ...]) -> None:
        pending = self._pending.get(labels)
        if pending is None:
            pending = self._pending[labels] = [0.0]
        pending[0] += 1

    def observe(self, labels: tuple[Hashable, ...], amount: float) -> None:
        pending = self._pending.get(labels)
        if pending is None:
            pending = self._pending[labels] = [0.0] * (len(self._bounds) + 2)
        # The first bucket whose bound is at least ``amount`` ("le"), as the library does.
        pending[bisect_left(self._bounds, amount)] += 1
        pending[-1] += amount

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for labels, numbers in pending.items():
            child = self._metric.labels(*labels)
            if isinstance(child, Counter):
                child.inc(numbers[0])
                continue
            # The client library adds observations one at a time only; its histogram keeps
            # one value per bucket (not cumulative) and one for the sum.
            child._sum.inc(numbers[-1])
            for bucket, count in zip(child._buckets, numbers[:-1], strict=True):
                if count:
                    bucket.inc(count)


_HTTP_COUNTS = Buffered(HTTP_REQUESTS)
_HTTP_SECONDS = Buffered(HTTP_DURATION, HTTP_BUCKETS)
_STORE_SECONDS = Buffered(STORE_DURATION, STORE_BUCKETS)
_ACCEPTED = Buffered(ENTRIES_ACCEPTED)
_REFUSED = Buffered(ENTRIES_REFUSED)
_BUFFERS = (_HTTP_COUNTS, _HTTP_SECONDS, _STORE_SECONDS, _ACCEPTED, _REFUSED)


def flush() -> None:
    """Add what this process recorded since the last flush to its metrics."""
    for buffered in _BUFFERS:
        buffered.flush()


# -- HTTP --------------------------------------------------------------------------------
def request_answered(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    _HTTP_COUNTS.count((method, route, status))
    _HTTP_SECONDS.observe((method, route), seconds)


# -- entries, claims and ballots -----------------------------------------------------------
P = ParamSpec("P")
R = TypeVar("R")


def refusal_reason(error: BaseException) -> str:
    """The problem code a caller gets for ``error``."""
    if isinstance(error, FairdrawError):
        return error.code
    # Imported here: the store's connection module imports this one.
    from fairdraw.store.connection import STORE_UNAVAILABLE_ERRORS

    if isinstance(error, STORE_UNAVAILABLE_ERRORS):
        return StoreError.code
    return FairdrawError.code


def counts_entries(
    kind: str,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Decorate the service method that takes an entry of ``kind``: each call that
    returns a new entry counts as accepted (not one that answers a retry with the entry
    its first attempt made, ``replayed``: that one was counted then), each that raises as
    refused with the error's code."""
    accepted = (kind,)

    def decorate(method: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(method)
        async def counted(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                result = await method(*args, **kwargs)
            except Exception as error:
                _REFUSED.count((kind, refusal_reason(error)))
                raise
            if not getattr(result, "replayed", False):
                _ACCEPTED.count(accepted)
            return result

        return counted

    return decorate


# -- the store ---------------------------------------------------------------------------
def store_answered(command: str, seconds: float) -> None:
    """Record one store round trip of ``command``."""
    _STORE_SECONDS.observe((command,), seconds)


def store_failed(command: str, error: BaseException) -> None:
    """Count one failed store round trip."""
    STORE_ERRORS.labels(command, type(error).__name__).inc()


def pool_sampled(pool: str, in_use: int, idle: int, maximum: int) -> None:
    """Record what one connection pool of this process holds now."""
    STORE_POOL_CONNECTIONS.labels(pool, "in_use").set(in_use)
    STORE_POOL_CONNECTIONS.labels(pool, "idle").set(idle)
    STORE_POOL_MAX.labels(pool).set(maximum)


# -- scheduler and background work -----------------------------------------------------------
def scheduler_passed(led: bool, lag_ms: int | None = None) -> None:
    """Record a completed scheduler pass (and, when it drew rounds, their lag)."""
    SCHEDULER_PASSES.labels("leader" if led else "follower").inc()
    if led:
        SCHEDULER_LAST_SUCCESS.set(time.time())
    if lag_ms is not None:
        SCHEDULER_LAG.set(lag_ms / 1000)


def schedule_read(last_run_ms: int | None, overdue_ms: int) -> None:
    """Record the schedule as the store holds it, whichever process leads."""
    if last_run_ms is not None:
        SCHEDULER_LAST_RUN.set(last_run_ms / 1000)
    SCHEDULER_OVERDUE.set(overdue_ms / 1000)


def background_started() -> None:
    BACKGROUND_JOBS.inc()


def background_ended(failed: bool) -> None:
    BACKGROUND_JOBS.dec()
    if failed:
        BACKGROUND_FAILURES.inc()
