"""Pytest plugin: the fairdraw app wired to the test store and the GitHub stand-in,
both in-process (``app_client``) and served over real HTTP by uvicorn (``live_server``)."""

from __future__ import annotations

import asyncio
import atexit
import functools
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from pydantic import SecretStr

from fairdraw.config import Settings
from fairdraw.domain.accounts import Role, User
from fairdraw.store.accounts import AccountStore
from fairdraw.store.connection import connect
from fairdraw.store.keys import Keys
from fairdraw.web.app import create_app
from tests.support.github_server import GitHubStandIn

ADMIN = ("admin", "correct horse battery staple")
MANAGER = ("maria", "manager password 123")
PARTICIPANT = ("pat", "participant password 1")


@functools.cache
def signing_key_dir() -> Path:
    """A temporary directory for the test session's signing key (removed at exit), so
    that no test writes a key into the working directory."""
    directory = Path(tempfile.mkdtemp(prefix="fairdraw-test-signing-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def make_settings(store_url: str, github_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": store_url,
        "signing_key_file": signing_key_dir() / "signing_key",
        "secret_key": SecretStr(secrets.token_urlsafe(48)),
        "github_api_url": github_url,
        "github_timeout": 2.0,
        # Tests send everything from one address; the rate-limit tests set their own.
        "rate_limit_login_user": "10000/minute",
        "rate_limit_login_address": "10000/minute",
        "rate_limit_registration": "10000/minute",
        "rate_limit_entries": "10000/minute",
        "rate_limit_token_refresh": "10000/minute",
        "rate_limit_ticket_codes": "10000/minute",
        # The scheduler writes its lease into the store; tests that want it turn it on.
        "scheduler": False,
        # No internet: draws trust their operator unless a test binds the loopback
        # beacon relay (tests/support/drand_relay.py).
        "beacon": "none",
    }
    values.update(overrides)
    return Settings(**values)


@functools.cache
def password_hash(password: str) -> str:
    """argon2id hashes are slow on purpose; hash each test password once per session."""
    return PasswordHasher().hash(password)


async def create_accounts(settings: Settings) -> None:
    """The admin, a manager and a participant every app test can log in as."""
    assert settings.redis_url
    redis = connect(settings.redis_url)
    try:
        store = AccountStore(redis, Keys(settings.key_prefix), settings.secret_bytes())
        for (name, password), role in [
            (ADMIN, Role.admin),
            (MANAGER, Role.manager),
            (PARTICIPANT, Role.participant),
        ]:
            user = User(username=name, display_name=name, role=role, created_ms=0)
            await store.create_user(user, password_hash(password))
    finally:
        await redis.aclose()


@pytest.fixture
def admin_credentials() -> tuple[str, str]:
    return ADMIN


@pytest.fixture
def app_settings(store_url: str, github: GitHubStandIn) -> Settings:
    return make_settings(store_url, github.url)


@pytest_asyncio.fixture
async def app(app_settings: Settings, redis: Any) -> AsyncIterator[FastAPI]:
    """The app with its lifespan running, on a flushed store with the test accounts."""
    await create_accounts(app_settings)
    application = create_app(app_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest_asyncio.fixture
async def anon_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A second, never logged-in client on the same app (an entrant's browser)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass
class LiveServer:
    url: str
    settings: Settings
    github: GitHubStandIn


@dataclass
class Served:
    """A running test server: its URL, its port and the app (to look at its services)."""

    url: str
    app: FastAPI
    port: int


@contextmanager
def serve(settings: Settings, port: int | None = None, http: str = "auto") -> Iterator[Served]:
    """``create_app(settings)`` served over real HTTP by uvicorn on 127.0.0.1 (``port``,
    or a free one) in a background thread, until the block ends. ``http`` picks uvicorn's
    protocol implementation ("auto": httptools, as ``fairdraw serve`` runs; or "h11")."""
    application = create_app(settings)
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port or 0,
        log_level="warning",
        lifespan="on",
        http=http,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Served(f"http://127.0.0.1:{bound}", application, bound)
    finally:
        # As the signal handlers do for a real server: live feeds end at once.
        application.state.services.live.close_soon()
        server.should_exit = True
        thread.join(timeout=15)


def live_server_of(settings: Settings, github: GitHubStandIn) -> Iterator[LiveServer]:
    """A LiveServer for ``settings``, with the test accounts."""
    asyncio.run(create_accounts(settings))
    with serve(settings) as served:
        yield LiveServer(served.url, settings, github)


@pytest.fixture
def live_server(store_url: str, github: GitHubStandIn, redis_sync: Any) -> Iterator[LiveServer]:
    """The app served over real HTTP by uvicorn on 127.0.0.1, in a background thread."""
    yield from live_server_of(make_settings(store_url, github.url), github)


async def login(client: httpx.AsyncClient, credentials: tuple[str, str]) -> str:
    """Log ``client`` in through the API; returns the CSRF token for later calls."""
    response = await client.post(
        "/api/v1/session", json={"username": credentials[0], "password": credentials[1]}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token
