"""``/metrics`` and ``/readyz``: what an operator sees of a real server on the real store.

Counters live for the whole test process (several apps share them), so each test reads
them before and after what it does and checks the difference.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from fairdraw.config import Settings
from fairdraw.domain import lotteries
from fairdraw.web.app import create_app
from tests.integration.test_lottery_api import BERLIN, services_of, stored_lottery, today_in
from tests.support.app import ADMIN, MANAGER, create_accounts, login, make_settings, serve
from tests.support.github_server import GitHubStandIn
from tests.support.live import reading
from tests.support.processes import free_port, start_serve

TOKEN = "scrape-" + "m" * 24
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DRAW_ROUTE = "/api/v1/draws/{draw_id}"


@pytest.fixture
def app_settings(store_url: str, github: GitHubStandIn) -> Settings:
    """The app of ``app_client``, with /metrics turned on."""
    return make_settings(store_url, github.url, metrics_token=SecretStr(TOKEN))


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


# -- who may scrape ------------------------------------------------------------------------
async def test_no_metrics_without_a_token(store_url: str, github: GitHubStandIn) -> None:
    app = create_app(make_settings(store_url, github.url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 404
    assert "fairdraw_" not in response.text


async def test_scraping_needs_the_bearer_token(app_client: httpx.AsyncClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer " + "m" * len(TOKEN)},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ):
        refused = await app_client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"] == 'Bearer realm="fairdraw metrics"'
        assert "fairdraw_http" not in refused.text
    text = await scrape(app_client)
    assert "# TYPE fairdraw_http_requests_total counter" in text
    assert "# TYPE fairdraw_store_command_duration_seconds histogram" in text


def test_a_short_token_is_refused() -> None:
    with pytest.raises(ValueError, match="metrics_token"):
        Settings(metrics_token=SecretStr("too-short"))


# -- requests --------------------------------------------------------------------------------
async def test_requests_are_counted_by_route_template_and_status(
    app_client: httpx.AsyncClient,
) -> None:
    before = await scrape(app_client)
    for draw_id in ("aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"):
        assert (await app_client.get(f"/api/v1/draws/{draw_id}")).status_code == 404
    assert (await app_client.get("/api/v1/draws")).status_code == 200
    assert (await app_client.get("/no/such/page/zzzzzz")).status_code == 404
    assert (await app_client.request("BREW", "/api/v1/draws")).status_code == 405
    after = await scrape(app_client)

    def grew(**labels: str) -> float:
        name = "fairdraw_http_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew(method="GET", route=DRAW_ROUTE, status="404") == 3
    assert grew(method="GET", route="/api/v1/draws", status="200") == 1
    assert grew(method="GET", route="unmatched", status="404") == 1
    # An invented method is "other": clients cannot add label values.
    assert grew(method="other", route="/api/v1/draws", status="405") == 1
    # The scrape before this one is counted too, once it ended.
    assert grew(method="GET", route="/metrics", status="200") == 1
    # Paths never become labels: one series per route template, whatever the ids.
    for raw in ("aaaaaaaaaaaa", "zzzzzz", "BREW"):
        assert raw not in after
    duration = "fairdraw_http_request_duration_seconds_count"
    assert value(after, duration, route=DRAW_ROUTE) - value(before, duration, route=DRAW_ROUTE) == 3
    buckets = [
        s
        for f in text_string_to_metric_families(after)
        for s in f.samples
        if s.name == "fairdraw_http_request_duration_seconds_bucket"
        and s.labels["route"] == DRAW_ROUTE
        and s.labels["method"] == "GET"
    ]
    assert {s.labels["le"] for s in buckets} >= {"0.005", "0.1", "1.0", "+Inf"}


async def test_an_event_stream_is_counted_when_it_starts(
    store_url: str, github: GitHubStandIn, redis: Any
) -> None:
    """A live feed stays open as long as its page: it is counted once its response
    starts, not when it ends, and the scrape does not wait for it."""
    settings = make_settings(store_url, github.url, metrics_token=SecretStr(TOKEN))
    await create_accounts(settings)
    events = "/api/v1/draws/{draw_id}/events"
    with serve(settings) as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
            csrf = await login(client, MANAGER)
            body = {"title": "Live", "prizes": [{"name": "Mug"}], "open": True}
            created = await client.post("/api/v1/draws", json=body, headers={"X-CSRF-Token": csrf})
            assert created.status_code == 201, created.text
            draw_id = created.json()["id"]
            before = await scrape(client)
            with reading(f"{served.url}/api/v1/draws/{draw_id}/events") as feed:
                assert feed.status == 200
                assert feed.next().event == "snapshot"
                during = await scrape(client)
                name = "fairdraw_http_requests_total"
                opened = value(during, name, route=events, status="200")
                assert opened - value(before, name, route=events, status="200") == 1
                seconds = "fairdraw_http_request_duration_seconds_count"
                assert (
                    value(during, seconds, route=events) - value(before, seconds, route=events) == 1
                )
            await asyncio.sleep(0.2)  # the feed ends on the server's side
            after = await scrape(client)
            # Ending it counts nothing more.
            assert value(after, name, route=events, status="200") == opened


# -- entries, claims and ballots ----------------------------------------------------------------
async def test_entries_claims_and_ballots_accepted_and_refused_by_reason(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, ADMIN)
    headers = {"X-CSRF-Token": csrf}
    giveaway = {
        "title": "Staff",
        "prizes": [{"name": "Day off"}],
        "open": True,
        "entry_identity": "account",
    }
    draw_id = (await app_client.post("/api/v1/draws", json=giveaway, headers=headers)).json()["id"]
    raffle = {"title": "Raffle", "prizes": [{"name": "Mug"}], "ticket_count": 3, "open": True}
    raffle_id = (await app_client.post("/api/v1/raffles", json=raffle, headers=headers)).json()[
        "id"
    ]
    today = datetime.now(UTC).date().isoformat()
    lottery = {"name": "Daily", "prize": "Coffee", "start": today}
    lottery_id = (await app_client.post("/api/v1/lotteries", json=lottery, headers=headers)).json()[
        "id"
    ]
    before = await scrape(app_client)

    # Nobody is logged in on the other client.
    assert (await anon_client.post(f"/api/v1/draws/{draw_id}/entries", json={})).status_code == 401
    keyed = {"Idempotency-Key": "claim-once-0000000001"}
    ticket = await anon_client.post(f"/api/v1/draws/{raffle_id}/tickets", headers=keyed)
    assert ticket.status_code == 201
    # A retry that gets the same ticket back is not a second claim.
    retried = await anon_client.post(f"/api/v1/draws/{raffle_id}/tickets", headers=keyed)
    assert retried.json() == ticket.json()
    assert (await anon_client.post(f"/api/v1/draws/{raffle_id}/tickets")).status_code == 409
    assert (await anon_client.post(f"/api/v1/lotteries/{lottery_id}/ballots")).status_code == 401
    entry = await app_client.post(f"/api/v1/draws/{draw_id}/entries", json={}, headers=headers)
    assert entry.status_code == 201
    again = await app_client.post(f"/api/v1/draws/{draw_id}/entries", json={}, headers=headers)
    assert again.json()["code"] == "already_entered"
    for _ in range(2):
        ballot = await app_client.post(f"/api/v1/lotteries/{lottery_id}/ballots", headers=headers)
        assert ballot.status_code == 201
    # A giveaway entered by the raffle's route is refused by the service too.
    wrong = await app_client.post(f"/api/v1/draws/{draw_id}/tickets", headers=headers)
    assert wrong.json()["code"] == "wrong_draw_kind"
    after = await scrape(app_client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    accepted, refused = "fairdraw_entries_accepted_total", "fairdraw_entries_refused_total"
    assert grew(accepted, kind="entry") == 1
    assert grew(accepted, kind="claim") == 1
    assert grew(accepted, kind="ballot") == 2
    assert grew(refused, kind="entry", reason="not_authenticated") == 1
    assert grew(refused, kind="entry", reason="already_entered") == 1
    assert grew(refused, kind="claim", reason="ticket_limit_reached") == 1
    assert grew(refused, kind="claim", reason="wrong_draw_kind") == 1
    assert grew(refused, kind="ballot", reason="not_authenticated") == 1
    assert grew(refused) == 5
    # The retry was answered before routing, from the kept answer: still its route's.
    requests = "fairdraw_http_requests_total"
    assert grew(requests, route="/api/v1/draws/{draw_id}/tickets", status="201") == 2
    assert grew(requests, route="unmatched") == 0


# -- the store ---------------------------------------------------------------------------------
async def test_store_round_trips_and_pool_usage(app_client: httpx.AsyncClient) -> None:
    before = await scrape(app_client)
    csrf = await login(app_client, MANAGER)
    body = {"title": "Pipes", "prizes": [{"name": "Mug"}], "open": True}
    headers = {"X-CSRF-Token": csrf}
    assert (await app_client.post("/api/v1/draws", json=body, headers=headers)).status_code == 201
    assert (await app_client.get("/api/v1/draws")).status_code == 200
    after = await scrape(app_client)
    count = "fairdraw_store_command_duration_seconds_count"
    # Scripts run by SHA; list reads go through a pipeline.
    assert value(after, count, command="EVALSHA") > value(before, count, command="EVALSHA")
    assert value(after, count, command="PIPELINE") > value(before, count, command="PIPELINE")
    assert value(after, "fairdraw_store_command_duration_seconds_sum", command="EVALSHA") > 0
    # This process's pools, sampled for the scrape: the main pool holds a connection.
    assert value(after, "fairdraw_store_pool_max_connections", pool="main") == 64
    state = "fairdraw_store_pool_connections"
    assert (
        value(after, state, pool="main", state="in_use")
        + value(after, state, pool="main", state="idle")
        >= 1
    )
    # A script loaded on first use (NOSCRIPT, then loaded) is not a store error.
    assert value(after, "fairdraw_store_errors_total", command="EVALSHA") == value(
        before, "fairdraw_store_errors_total", command="EVALSHA"
    )


async def test_store_errors_are_counted_and_readiness_says_why(github: GitHubStandIn) -> None:
    settings = make_settings(
        "redis://127.0.0.1:1/0", github.url, metrics_token=SecretStr(TOKEN), scheduler=True
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            before = await scrape(client)
            assert (await client.get("/api/v1/draws/aaaaaaaaaaaa")).status_code == 503
            ready = await client.get("/readyz", headers={"X-Request-ID": "probe-1"})
            after = await scrape(client)
    errors = "fairdraw_store_errors_total"
    assert value(after, errors, error="ConnectionError") > value(
        before, errors, error="ConnectionError"
    )
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    problem = ready.json()
    assert problem["code"] == "not_ready"
    assert problem["request_id"] == "probe-1" == ready.headers["x-request-id"]
    assert problem["checks"] == {
        "store": "the store did not answer within 1 s",
        "scheduler": "the scheduler loop has not completed a pass recently",
    }
    assert problem["detail"].startswith("store: the store did not answer")


# -- readiness and the scheduler ------------------------------------------------------------------
async def test_ready_when_the_store_answers_and_the_scheduler_is_off(
    app_client: httpx.AsyncClient,
) -> None:
    response = await app_client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"store": "ok", "scheduler": "disabled"},
    }


async def test_scheduler_passes_make_the_server_ready_and_are_counted(
    store_url: str, github: GitHubStandIn, redis: Any
) -> None:
    settings = make_settings(
        store_url,
        github.url,
        metrics_token=SecretStr(TOKEN),
        scheduler=True,
        scheduler_interval_seconds=0.05,
    )
    started = time.time()
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            before = await scrape(client)
            deadline = time.monotonic() + 10
            while (ready := await client.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, ready.text
                await asyncio.sleep(0.05)
            assert ready.json()["checks"] == {"store": "ok", "scheduler": "ok"}
            await asyncio.sleep(0.3)
            after = await scrape(client)
    passes = "fairdraw_scheduler_passes_total"
    assert value(after, passes, role="leader") - value(before, passes, role="leader") >= 2
    last = value(after, "fairdraw_scheduler_last_success_timestamp_seconds")
    assert started <= last <= time.time()
    # Nothing due: the store's record of the schedule says so too.
    assert value(after, "fairdraw_scheduler_overdue_seconds") == 0
    assert value(after, "fairdraw_scheduler_last_run_timestamp_seconds") >= started - 1


async def test_the_schedule_is_read_from_the_store(
    app: FastAPI, app_client: httpx.AsyncClient, redis: Any
) -> None:
    """Whichever scheduler leads, here or in a process of its own, the scrape reads its
    last run and how late its work is from the store."""
    yesterday = today_in(BERLIN) - timedelta(days=1)
    await stored_lottery(redis, yesterday)
    waiting_since = lotteries.day_bounds(BERLIN, yesterday)[1] / 1000
    text = await scrape(app_client)
    overdue = value(text, "fairdraw_scheduler_overdue_seconds")
    assert abs(overdue - (time.time() - waiting_since)) < 5
    started = time.time()
    # This server's loop is off: a scheduler elsewhere (here, its object) does the work.
    report = await services_of(app).scheduler.run_once()
    assert report.led
    assert report.drawn
    text = await scrape(app_client)
    assert value(text, "fairdraw_scheduler_overdue_seconds") == 0
    last_run = value(text, "fairdraw_scheduler_last_run_timestamp_seconds")
    assert started - 1 <= last_run <= time.time() + 1


# -- several worker processes ---------------------------------------------------------------
def _workers_of(parent: int) -> set[int]:
    """The worker processes of a ``fairdraw serve --workers N`` (spawned children)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == parent and b"spawn_main" in cmdline:
            found.add(int(entry.name))
    return found


def _metrics_directory(pid: int) -> Path:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    for item in environ:
        name, _, setting = item.partition(b"=")
        if name == b"PROMETHEUS_MULTIPROC_DIR":
            return Path(setting.decode())
    raise AssertionError("the worker has no metrics directory")


def _requests_served_by(directory: Path, pid: int, route: str) -> float:
    """What one worker's own file says it counted for ``route``."""
    path = directory / f"counter_{pid}.db"
    if not path.exists():
        return 0.0
    return sum(
        v
        for key, v, _, _ in MmapedDict.read_all_values_from_file(str(path))
        if '"fairdraw_http_requests_total"' in key and route in key
    )


def _scrape_sync(base: str) -> str:
    # A new connection each time: the kernel hands it to either worker.
    response = httpx.get(f"{base}/metrics", headers=AUTH, timeout=10)
    assert response.status_code == 200, response.text
    return response.text


@pytest.fixture
def serve_env(tmp_path: Path, store_url: str, redis_sync: Any) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FAIRDRAW_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    env |= {
        "FAIRDRAW_REDIS_URL": store_url,
        "FAIRDRAW_SECRET_KEY": secrets.token_urlsafe(48),
        "FAIRDRAW_METRICS_TOKEN": TOKEN,
        "FAIRDRAW_SCHEDULER": "false",
        "FAIRDRAW_DATA_DIR": str(tmp_path / "var"),
    }
    return env


def test_every_worker_is_in_every_scrape(tmp_path: Path, serve_env: dict[str, str]) -> None:
    """With two workers, any scrape reports both: their counts add up, their pools add
    up, a killed worker's counts stay while its pools leave with it, and the metric files
    go when the server stops."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_serve(tmp_path / "var", port, serve_env, "--workers", "2")
    try:
        workers = _workers_of(server.pid)
        assert len(workers) == 2, workers
        directory = _metrics_directory(next(iter(workers)))
        assert directory.is_dir()

        pools = "fairdraw_store_pool_max_connections"
        deadline = time.monotonic() + 10
        while value(_scrape_sync(base), pools, pool="main") != 128:  # 2 x 64
            assert time.monotonic() < deadline
            time.sleep(0.1)

        for n in range(30):
            response = httpx.get(f"{base}/api/v1/draws/missing{n:05d}", timeout=10)
            assert response.status_code == 404
        name = "fairdraw_http_requests_total"
        labels = {"route": DRAW_ROUTE, "status": "404"}
        # Each worker writes what it counted every second.
        deadline = time.monotonic() + 10
        while value(_scrape_sync(base), name, **labels) != 30:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        for _ in range(6):
            assert value(_scrape_sync(base), name, **labels) == 30

        # Kill a worker that served some of them; the supervisor replaces it.
        served = {pid: _requests_served_by(directory, pid, DRAW_ROUTE) for pid in workers}
        assert sum(served.values()) == 30, served
        victim = max(served, key=lambda pid: served[pid])
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:
            now = _workers_of(server.pid)
            if len(now) == 2 and victim not in now:
                text = _scrape_sync(base)
                if value(text, pools, pool="main") == 128:
                    break
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.2)
        for _ in range(4):
            text = _scrape_sync(base)
            assert value(text, name, **labels) == 30  # what it counted happened
            assert value(text, pools, pool="main") == 128  # its pool is gone with it
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "Traceback" not in output
    assert not directory.exists()


def test_one_worker_keeps_its_metrics_in_memory(tmp_path: Path, serve_env: dict[str, str]) -> None:
    port = free_port()
    server = start_serve(tmp_path / "var", port, serve_env)
    try:
        # The command sets no metrics directory for a single process.
        with pytest.raises(AssertionError, match="no metrics directory"):
            _metrics_directory(server.pid)
        text = _scrape_sync(f"http://127.0.0.1:{port}")
        assert value(text, "fairdraw_store_pool_max_connections", pool="main") == 64
        # The process collectors exist only in single-process mode.
        assert "process_resident_memory_bytes" in text
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
