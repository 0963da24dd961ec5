"""What an operator watches: ``/metrics`` for Prometheus, the request middleware that
counts and times every request and gives it an id, and the sampling of what only a
process itself knows (its store connection pools).

``/metrics`` answers only when ``FAIRDRAW_METRICS_TOKEN`` is set, and only to a request
that carries it as a bearer token; without the setting it does not exist (404). With
several worker processes the answer merges every process's files
(:mod:`fairdraw.metrics`); files of processes that ended are dropped where they hold
per-process state (pool gauges), and their counts kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fairdraw import metrics
from fairdraw.domain.errors import NotFound
from fairdraw.logs import REQUEST_ID, request_id_from
from fairdraw.services.scheduler import Scheduler
from fairdraw.web.deps import ServicesDep

log = logging.getLogger("fairdraw.web")

router = APIRouter(include_in_schema=False)

# A scrape reads the schedule from the store, but does not wait long for it.
STORE_READ_SECONDS = 1.0
# How often each worker process writes what it recorded and its pool usage to its
# metric files, for whichever process answers a scrape.
SAMPLE_SECONDS = 1.0
# Methods outside this set share one label, so a client cannot invent label values.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_REQUEST_ID_HEADER = b"x-request-id"
_EVENT_STREAM = b"text/event-stream"
# Requests no route matched (404s): one label for all of them, never their paths.
UNMATCHED = "unmatched"


class ObservedRequests:
    """Pure ASGI middleware: gives each request an id (``X-Request-ID`` from the client
    when it is sane, else a new one) in the logging context and the response header, and
    counts and times the request by route template and status.

    A request is recorded when it ends; an event stream, which does not end while its
    page is open, is recorded when its response starts.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = None
        for name, value in scope["headers"]:
            if name == _REQUEST_ID_HEADER:
                incoming = value.decode("latin-1")
                break
        request_id = request_id_from(incoming)
        # Not reset when the request ends: the error handler of an unhandled exception
        # runs outside this middleware and still needs the id; each request runs in a
        # context of its own.
        REQUEST_ID.set(request_id)
        id_header = (_REQUEST_ID_HEADER, request_id.encode("latin-1"))
        status = 500
        recorded = False

        async def send_observed(message: Message) -> None:
            nonlocal status, recorded
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                streaming = False
                has_id = False
                for name, value in headers:
                    if name == _REQUEST_ID_HEADER:
                        has_id = True
                    elif name == b"content-type" and value.startswith(_EVENT_STREAM):
                        streaming = True
                if not has_id:
                    headers.append(id_header)
                message["headers"] = headers
                if streaming:
                    recorded = True
                    _record(scope, status, time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            if not recorded:
                _record(scope, status, time.perf_counter() - started)


def _record(scope: Scope, status: int, seconds: float) -> None:
    method: str = scope["method"]
    if method not in _METHODS:
        method = "other"
    route = scope.get("route")
    template = getattr(route, "path", None) if route is not None else None
    if template is None and status != 404:
        template = _api_template(scope)
    metrics.request_answered(method, template or UNMATCHED, status, seconds)


# Per app: (path pattern, methods, template) of each API operation, from its OpenAPI schema.
_OPERATIONS: WeakKeyDictionary[object, list[tuple[re.Pattern[str], frozenset[str], str]]] = (
    WeakKeyDictionary()
)


def _api_template(scope: Scope) -> str | None:
    """The template of the API route a request was meant for, when something answered it
    before routing (a replayed answer, a refused Idempotency-Key, a body over the limit).

    The API's routes are read from the OpenAPI schema, the one public list of them: the
    router's own tables differ between FastAPI versions."""
    app = scope.get("app")
    openapi = getattr(app, "openapi", None)
    if app is None or openapi is None:
        return None
    operations = _OPERATIONS.get(app)
    if operations is None:
        try:
            paths: dict[str, dict[str, object]] = openapi().get("paths", {})
        except Exception:
            log.debug("no OpenAPI schema to name routes by", exc_info=True)
            paths = {}
        operations = [
            (compile_path(path)[0], frozenset(m.upper() for m in item), path)
            for path, item in paths.items()
        ]
        _OPERATIONS[app] = operations
    for pattern, methods, path in operations:
        if scope["method"] in methods and pattern.match(scope["path"]):
            return path
    return None


# -- the scrape ---------------------------------------------------------------------------
@router.get("/metrics")
async def scrape(request: Request, services: ServicesDep) -> Response:
    """The metrics in Prometheus's text format, for a bearer of the metrics token."""
    token = services.settings.metrics_token
    if token is None:
        raise NotFound()
    if not bearer_matches(request.headers.get("authorization"), token.get_secret_value()):
        return PlainTextResponse(
            "a bearer token is required (FAIRDRAW_METRICS_TOKEN)\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="fairdraw metrics"'},
        )
    sampler: ProcessSampler | None = getattr(request.app.state, "process_sampler", None)
    if sampler is not None:
        sampler.sample()
    else:
        metrics.flush()
    await read_schedule(services.scheduler)
    directory = metrics.multiprocess_directory()
    if directory is None:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
    forget_ended_processes(Path(directory))
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


async def read_schedule(scheduler: Scheduler) -> None:
    """The scheduler's last run and how overdue its work is, from the store: the same
    for every process and server, and there even when the scheduler runs apart
    (``fairdraw scheduler``). A store that does not answer leaves them as they were
    (the store's own metrics say why)."""
    try:
        async with asyncio.timeout(STORE_READ_SECONDS):
            status = await scheduler.status()
    except Exception:
        log.debug("could not read the schedule for the metrics", exc_info=True)
        return
    now = time.time() * 1000
    waiting = [_ms(status.get(name)) for name in ("next_due_at", "next_deadline_at")]
    overdue = max([0, *(int(now - due) for due in waiting if due is not None)])
    metrics.schedule_read(_ms(status.get("last_run_at")), overdue)


def _ms(moment: object) -> int | None:
    if not isinstance(moment, str):
        return None
    return int(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp() * 1000)


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``token`` as its bearer token
    (compared in constant time)."""
    if authorization is None:
        return False
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credentials.strip().encode(), token.encode())


def forget_ended_processes(directory: Path) -> None:
    """Drop the per-process gauges of worker processes that no longer run (a worker that
    was killed and replaced), so pool usage counts live processes only. Their counters
    and histograms stay: what they counted happened."""
    pids: set[int] = set()
    for path in directory.glob("*.db"):
        suffix = path.stem.rpartition("_")[2]
        if suffix.isdigit():
            pids.add(int(suffix))
    for pid in pids:
        if pid != os.getpid() and not _running(pid):
            multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# Each store pool's connections by name: in use, idle, and the most it may open
# (Runtime.pool_usage of fairdraw.composition).
PoolReader = Callable[[], Mapping[str, tuple[int, int, int]]]


class ProcessSampler:
    """Brings this process's metrics up to date (:func:`fairdraw.metrics.flush`, and its
    store pools' usage): on each scrape it answers, and every second while several
    processes share the metrics (the one answering a scrape cannot look into the others).
    """

    def __init__(self, pools: PoolReader) -> None:
        self._pools = pools
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        metrics.flush()
        for name, usage in self._pools().items():
            metrics.pool_sampled(name, *usage)

    def start(self) -> None:
        if metrics.multiprocess_directory() is not None:
            self._task = asyncio.create_task(self._sample_forever())

    async def _sample_forever(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_SECONDS)

    async def stop(self) -> None:
        """Stop sampling; a process that stops serving writes what it recorded last and
        takes its gauges with it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            metrics.flush()
            directory = metrics.multiprocess_directory()
            if directory is not None:
                multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]


def observe_process(pools: PoolReader) -> ProcessSampler:
    """Start sampling ``pools`` (name → in use, idle, most) for the metrics."""
    sampler = ProcessSampler(pools)
    sampler.start()
    return sampler
