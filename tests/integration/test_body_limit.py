"""What one request may make the server hold: a body over ``FAIRDRAW_MAX_BODY_BYTES`` is
refused as it streams in, a request head over 32 KiB or slower than its timeout is
refused, a stalled body times out, and live feeds stay open through all of it.

In-process over the real app, and over real sockets against ``fairdraw serve`` (the CLI's
uvicorn options) where streaming and the server's memory matter."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.store.keys import Keys
from fairdraw.web import limits
from fairdraw.web.app import create_app
from fairdraw.web.bounded_http import BoundedHttpToolsProtocol
from tests.support.app import ADMIN, create_accounts, login, make_settings
from tests.support.github_server import GitHubStandIn
from tests.support.live import reading
from tests.support.processes import embedded_env, free_port, start_serve, stop_serve

KEYS = Keys()
LIMIT = 2**20  # the default FAIRDRAW_MAX_BODY_BYTES
MiB = 2**20
CHUNK = b" " * 65536  # JSON allows any amount of whitespace after a value


def draw_json() -> bytes:
    body = {"title": "Meetup", "prizes": [{"name": "Mug", "quantity": 1}]}
    return json.dumps(body).encode()


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    found: dict[str, Any] = response.json()
    assert found["code"] == code
    return found


# -- in-process: the limit, counted before anything is buffered ---------------------------


async def test_a_body_whose_length_is_over_the_limit_is_refused_before_the_app_runs(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    headers = {"X-CSRF-Token": await login(app_client, ADMIN), "Content-Type": "application/json"}
    padded = draw_json() + b" " * (LIMIT + 1 - len(draw_json()))

    refused = await app_client.post("/api/v1/draws", content=padded, headers=headers)

    found = assert_problem(refused, 413, "content_too_large")
    assert found["detail"] == "A request body may hold at most 1,048,576 bytes."
    assert refused.headers["connection"] == "close"
    assert await redis.zcard(KEYS.draws_index()) == 0
    # One byte less is a body like any other: the limit counts bytes, not fields.
    accepted = await app_client.post("/api/v1/draws", content=padded[:-1], headers=headers)
    assert accepted.status_code == 201, accepted.text


async def test_a_streamed_body_is_refused_at_the_chunk_that_crosses_the_limit(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    headers = {"X-CSRF-Token": await login(app_client, ADMIN), "Content-Type": "application/json"}
    pulled = 0

    async def three_hundred_megabytes() -> AsyncIterator[bytes]:
        nonlocal pulled
        yield draw_json()
        for _ in range(300 * MiB // len(CHUNK)):
            pulled += 1
            yield CHUNK

    refused = await app_client.post(
        "/api/v1/draws", content=three_hundred_megabytes(), headers=headers
    )

    assert_problem(refused, 413, "content_too_large")
    assert refused.headers["connection"] == "close"
    assert pulled == LIMIT // len(CHUNK)  # the chunk that crossed the limit, and no further
    assert await redis.zcard(KEYS.draws_index()) == 0


async def test_the_limit_holds_for_a_call_with_an_idempotency_key(
    app_client: httpx.AsyncClient, redis: Redis
) -> None:
    # A keyed call's body is read by the idempotency layer before the route: the limit
    # sits in front of it, so the refusal comes at the same chunk.
    headers = {
        "X-CSRF-Token": await login(app_client, ADMIN),
        "Content-Type": "application/json",
        "Idempotency-Key": "limits-test-key-0001",
    }
    pulled = 0

    async def two_megabytes() -> AsyncIterator[bytes]:
        nonlocal pulled
        yield draw_json()
        for _ in range(2 * MiB // len(CHUNK)):
            pulled += 1
            yield CHUNK

    refused = await app_client.post("/api/v1/draws", content=two_megabytes(), headers=headers)

    assert_problem(refused, 413, "content_too_large")
    assert pulled == LIMIT // len(CHUNK)
    assert await redis.zcard(KEYS.draws_index()) == 0


@pytest_asyncio.fixture
async def impatient_client(
    store_url: str, github: GitHubStandIn, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app whose bodies must arrive within 0.3 s instead of 30 s."""
    monkeypatch.setattr(limits, "BODY_TIMEOUT_SECONDS", 0.3)
    settings = make_settings(store_url, github.url)
    await create_accounts(settings)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_a_body_that_stops_arriving_is_408(
    impatient_client: httpx.AsyncClient, redis: Redis
) -> None:
    headers = {"X-CSRF-Token": await login(impatient_client, ADMIN)}

    async def stalls() -> AsyncIterator[bytes]:
        yield draw_json()[:10]
        await asyncio.sleep(30)
        yield draw_json()[10:]

    started = time.monotonic()
    refused = await impatient_client.post("/api/v1/draws", content=stalls(), headers=headers)

    assert time.monotonic() - started < 5
    found = assert_problem(refused, 408, "request_timeout")
    assert found["detail"] == "The body must arrive within 0.3 seconds."
    assert await redis.zcard(KEYS.draws_index()) == 0


# -- fairdraw serve: real sockets, the server's own memory --------------------------------


@dataclass
class Serving:
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    """``fairdraw serve`` with its embedded store, as an operator starts it."""
    data_dir = tmp_path_factory.mktemp("limits") / "var"
    env = embedded_env(data_dir, rate_limit_login_address="10000/minute")
    port = free_port()
    process = start_serve(data_dir, port, env)
    try:
        yield Serving(port, process.pid)
    finally:
        stop_serve(process)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_answer(sock: socket.socket, timeout: float = 10) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(timeout)
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass  # it closed with our unread bytes still arriving: what it said is kept
    return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def problem_of(answer: bytes) -> dict[str, Any]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower()
    found: dict[str, Any] = json.loads(body)
    return found


def send_chunked(port: int, total: int) -> tuple[bytes, int]:
    """POST ``total`` bytes of chunked body to the login call, reading as it sends; the
    answer and how much had been sent when it came."""
    sock = connect(port)
    frame = b"%x\r\n%b\r\n" % (len(CHUNK), CHUNK)
    sock.sendall(
        b"POST /api/v1/session HTTP/1.1\r\nHost: fairdraw\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    sock.setblocking(False)
    sent, answer, pending = 0, b"", memoryview(frame)
    try:
        while sent < total and b"\r\n\r\n" not in answer:
            with suppress(BlockingIOError):
                answer += sock.recv(65536)
            try:
                written = sock.send(pending)
            except BlockingIOError:
                time.sleep(0.001)
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += written
            pending = pending[written:] or memoryview(frame)
        sock.setblocking(True)
        return answer + read_answer(sock), sent
    finally:
        sock.close()


def test_four_300_mb_chunked_bodies_are_refused_long_before_their_end_and_memory_stays_flat(
    serving: Serving,
) -> None:
    before = rss_bytes(serving.pid)
    peak = before
    done = threading.Event()

    def watch_memory() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_bytes(serving.pid))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch_memory)
    watcher.start()
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: send_chunked(serving.port, 300 * MiB), range(4)))
    finally:
        done.set()
        watcher.join()

    for answer, sent in results:
        assert status_of(answer) == 413, answer[:300]
        assert problem_of(answer)["code"] == "content_too_large"
        # What the kernels' socket buffers took before the answer came back, no more.
        assert sent < 32 * MiB
    assert peak - before < 40 * MiB
    assert rss_bytes(serving.pid) - before < 40 * MiB
    assert httpx.get(f"{serving.url}/healthz", timeout=5).status_code == 200


def test_a_content_length_over_the_limit_is_refused_before_the_body_is_sent(
    serving: Serving,
) -> None:
    with connect(serving.port) as sock:
        sock.sendall(
            b"POST /api/v1/session HTTP/1.1\r\nHost: fairdraw\r\n"
            b"Content-Type: application/json\r\nContent-Length: 314572800\r\n\r\n"
        )
        answer = read_answer(sock, timeout=5)  # no body byte sent: the answer comes anyway

    assert status_of(answer) == 413
    assert b"connection: close" in answer.lower()
    assert problem_of(answer)["code"] == "content_too_large"


@pytest.mark.parametrize("finished", [True, False])
def test_a_request_head_over_32_kib_is_431(serving: Serving, finished: bool) -> None:
    head = b"GET /api/v1/draws HTTP/1.1\r\nHost: fairdraw\r\nX-Padding: " + b"a" * 33_000
    with connect(serving.port) as sock:
        sock.sendall(head + (b"\r\n\r\n" if finished else b""))
        answer = read_answer(sock, timeout=5)

    assert status_of(answer) == 431
    assert problem_of(answer)["code"] == "headers_too_large"


def test_a_head_under_32_kib_is_served(serving: Serving) -> None:
    padding = "a" * 30_000
    response = httpx.get(f"{serving.url}/api/v1/draws", headers={"X-Padding": padding})
    assert response.status_code == 200


# -- the head timeout, against a server whose clock is shortened -------------------------


class QuickHeads(BoundedHttpToolsProtocol):
    head_timeout = 0.5


@contextmanager
def served(settings: Settings) -> Iterator[int]:
    """The app served by uvicorn in a thread with ``fairdraw serve``'s options, but heads
    due within 0.5 s; yields the port."""
    application = create_app(settings)
    options = {**limits.server_options(), "http": QuickHeads}
    config = uvicorn.Config(
        application, host="127.0.0.1", port=0, log_level="warning", lifespan="on", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        assert thread.is_alive(), "the server stopped"
        time.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        application.state.services.live.close_soon()
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def quick_port(
    store_url: str, github: GitHubStandIn, redis_sync: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[int]:
    monkeypatch.setattr(limits, "BODY_TIMEOUT_SECONDS", 0.5)
    settings = make_settings(store_url, github.url)
    asyncio.run(create_accounts(settings))
    with served(settings) as port:
        yield port


def test_a_head_that_stops_arriving_is_408_and_an_idle_connection_is_closed(
    quick_port: int,
) -> None:
    with connect(quick_port) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /api/v1/draws HTTP/1.1\r\nHost: fairdraw\r\n")
        answer = read_answer(sock)
    assert 0.4 < time.monotonic() - started < 5
    assert status_of(answer) == 408
    assert problem_of(answer)["code"] == "request_timeout"

    with connect(quick_port) as sock:
        started = time.monotonic()
        assert read_answer(sock) == b""  # closed, without a word to nobody
    assert 0.4 < time.monotonic() - started < 5


def test_a_body_that_stops_arriving_is_408_over_http(quick_port: int) -> None:
    with connect(quick_port) as sock:
        sock.sendall(
            b"POST /api/v1/session HTTP/1.1\r\nHost: fairdraw\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"username"'
        )
        answer = read_answer(sock)
    assert status_of(answer) == 408
    assert b"connection: close" in answer.lower()


def test_a_live_feed_outlives_every_timeout(quick_port: int) -> None:
    base = f"http://127.0.0.1:{quick_port}"
    admin = httpx.Client(base_url=base, timeout=10)
    csrf = admin.post("/api/v1/session", json={"username": ADMIN[0], "password": ADMIN[1]})
    created = admin.post(
        "/api/v1/raffles",
        json={"title": "Feed", "prizes": [{"name": "Mug"}], "ticket_count": 10, "open": True},
        headers={"X-CSRF-Token": csrf.json()["csrf_token"]},
    )
    assert created.status_code == 201, created.text
    draw_id = created.json()["id"]

    with reading(f"{base}/api/v1/draws/{draw_id}/events") as feed:
        assert feed.next().event == "snapshot"
        time.sleep(2.0)  # four head timeouts and four body timeouts go by
        claimed = httpx.post(f"{base}/api/v1/draws/{draw_id}/tickets", timeout=10)
        assert claimed.status_code == 201, claimed.text
        assert feed.until("count").data["count"] == 1  # "the feed ended" if it was cut
