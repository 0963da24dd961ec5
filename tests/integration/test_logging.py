"""Request ids and logs: the id a request gets (or brings), where it is echoed, and the
JSON lines of ``FAIRDRAW_LOG_FORMAT=json`` from a real ``fairdraw serve``."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fairdraw.logs import JsonFormatter
from fairdraw.web.app import create_app
from tests.support.app import make_settings
from tests.support.github_server import GitHubStandIn
from tests.support.processes import free_port, start_serve

GENERATED = re.compile(r"[0-9a-f]{32}")
XFF_WARNING = "ignoring X-Forwarded-For"


# -- the id -----------------------------------------------------------------------------------
async def test_a_sane_request_id_is_echoed(app_client: httpx.AsyncClient) -> None:
    for given in ("req-123.abc:9", "3f2b8c1e-5d7a-4c1b-9e2f-0a1b2c3d4e5f", "a" * 128, "Root=1-5e"):
        response = await app_client.get("/api/v1/draws", headers={"X-Request-ID": given})
        assert response.status_code == 200
        assert response.headers["x-request-id"] == given
    page = await app_client.get("/", headers={"X-Request-ID": "page-1"})
    assert page.headers["x-request-id"] == "page-1"


async def test_a_missing_or_insane_request_id_is_replaced(app_client: httpx.AsyncClient) -> None:
    seen = set()
    for given in (None, "", "a" * 129, "two words", "<script>", "ünïcode".encode(), "a;b", "a/b"):
        headers = {} if given is None else {"X-Request-ID": given}
        response = await app_client.get("/api/v1/draws", headers=headers)
        echoed = response.headers["x-request-id"]
        assert GENERATED.fullmatch(echoed), (given, echoed)
        seen.add(echoed)
    assert len(seen) == 8  # a new one each time


async def test_problems_carry_the_request_id(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/api/v1/draws/aaaaaaaaaaaa", headers={"X-Request-ID": "t-7"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == "t-7"
    assert response.headers.get_list("x-request-id") == ["t-7"]  # once, not twice
    invalid = await app_client.post("/api/v1/draws", json={"title": ""})
    assert invalid.json()["request_id"] == invalid.headers["x-request-id"]
    assert GENERATED.fullmatch(invalid.headers["x-request-id"])


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """fairdraw's records as the JSON formatter writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("fairdraw")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


async def test_an_unexpected_error_is_one_json_line_with_its_request_id(
    store_url: str, github: GitHubStandIn, redis: Any, captured: io.StringIO
) -> None:
    app = create_app(make_settings(store_url, github.url))

    async def fail() -> None:
        raise RuntimeError("kaboom\nsecond line")

    app.add_api_route("/api/v1/test-failure", fail)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/api/v1/test-failure", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    # The 500 is answered outside the request middleware; the problem still names the id.
    assert response.json()["request_id"] == "boom-1"
    assert response.headers["x-request-id"] == "boom-1"
    # The traceback and the summary of the answer: one line each, both with the id.
    lines = captured.getvalue().splitlines()
    records = [json.loads(line) for line in lines if "test-failure" in line]
    assert [r["level"] for r in records] == ["ERROR", "WARNING"]
    assert {r["request_id"] for r in records} == {"boom-1"}
    record = records[0]
    assert record["level"] == "ERROR"
    assert record["logger"] == "fairdraw.web"
    assert record["message"] == "unhandled error on GET /api/v1/test-failure"
    assert record["request_id"] == "boom-1"
    assert record["exception"].startswith("Traceback (most recent call last):")
    assert "RuntimeError: kaboom\nsecond line" in record["exception"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"])


def test_records_outside_a_request_have_no_request_id(captured: io.StringIO) -> None:
    logging.getLogger("fairdraw.test").warning("outside %s", "any request")
    record = json.loads(captured.getvalue().splitlines()[-1])
    assert record == {
        "time": record["time"],
        "level": "WARNING",
        "logger": "fairdraw.test",
        "message": "outside any request",
    }


# -- a real server ----------------------------------------------------------------------------
def _env(tmp_path: Path, store_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDRAW_")}
    env |= {
        "FAIRDRAW_REDIS_URL": store_url,
        "FAIRDRAW_SECRET_KEY": secrets.token_urlsafe(48),
        "FAIRDRAW_SCHEDULER": "false",
        "FAIRDRAW_DATA_DIR": str(tmp_path / "var"),
        **extra,
    }
    return env


def _send_forwarded(base: str, count: int) -> None:
    """Requests from a local peer with an untrusted X-Forwarded-For: each worker that
    gets one warns once, inside that request. New connections, so both workers get some."""
    for n in range(count):
        response = httpx.get(
            f"{base}/api/v1/session",
            headers={"X-Forwarded-For": "203.0.113.9", "X-Request-ID": f"xff-{n}"},
            timeout=10,
        )
        assert response.status_code == 401
        assert response.headers["x-request-id"] == f"xff-{n}"


def test_json_lines_from_every_worker(tmp_path: Path, store_url: str, redis_sync: Any) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(tmp_path, store_url, FAIRDRAW_LOG_FORMAT="json")
    (tmp_path / "var").mkdir()
    server = subprocess.Popen(
        [sys.executable, "-m", "fairdraw", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "serve stopped"
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        _send_forwarded(base, 20)
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr
    records = []
    for line in stderr.splitlines():
        record = json.loads(line)  # every line is one JSON object
        assert {"time", "level", "logger", "message"} <= record.keys(), line
        records.append(record)
    # uvicorn's own records, from the supervisor and from each worker, are JSON too.
    started = [r for r in records if r["message"] == "Application startup complete."]
    assert len(started) == 2
    access = {
        r["request_id"]: r
        for r in records
        if r["logger"] == "uvicorn.access" and r.get("path") == "/api/v1/session"
    }
    assert set(access) == {f"xff-{n}" for n in range(20)}
    assert {(r["method"], r["status"]) for r in access.values()} == {("GET", 401)}
    # fairdraw's own warning, logged inside a request by a worker process, carries its id.
    warnings = [r for r in records if r["message"].startswith(XFF_WARNING)]
    assert 1 <= len(warnings) <= 2
    for warning in warnings:
        assert warning["level"] == "WARNING"
        assert warning["logger"] == "fairdraw.web"
        assert warning["request_id"] in access
    assert all("Traceback" not in r.get("exception", "") for r in records)


def test_text_lines_from_every_worker(tmp_path: Path, store_url: str, redis_sync: Any) -> None:
    """Without the setting, lines stay text, and fairdraw's records in worker processes
    are not lost."""
    port = free_port()
    server = start_serve(tmp_path / "var", port, _env(tmp_path, store_url), "--workers", "2")
    try:
        _send_forwarded(f"http://127.0.0.1:{port}", 20)
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert f"WARNING fairdraw.web: {XFF_WARNING} from 127.0.0.1" in output
    assert "Application startup complete." in output
    assert not any(line.startswith("{") for line in output.splitlines())
