"""HTTP servers under test, as subprocesses: ``fairdraw serve`` on a temporary data
directory (with its JSON API for the administrator's calls), and the bare app."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import redis

from bench.bare_app import STORE_URL_VARIABLE
from bench.harness import REPO_ROOT, BenchError, free_tcp_port

ADMIN_USERNAME = "admin"
ENTRY_RATE_LIMIT = "1000000000/minute"
_READY_TIMEOUT = 60.0
_STOP_TIMEOUT = 20.0


class HttpServer:
    """A server process on a free loopback port, started by ``with`` and stopped with
    Ctrl-C (SIGINT) as an operator would; its output goes to ``log_path``."""

    name = "server"

    def __init__(self, log_path: Path, ready_path: str) -> None:
        self.port = free_tcp_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._ready_path = ready_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's main process id (it must be running)."""
        if self._process is None:
            raise BenchError(f"{self.name} is not running")
        return self._process.pid

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> Mapping[str, str]:
        return os.environ

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self.command(),
                env=dict(self.environment()),
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_ready(self._process)

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise BenchError(f"{self.name} exited while starting:\n{self.log_tail()}")
                try:
                    if client.get(self._ready_path).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        raise BenchError(f"{self.name} did not answer in {_READY_TIMEOUT:g} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.strip().splitlines()[-lines:]) or "(the log is empty)"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class FairdrawServer(HttpServer):
    """``fairdraw serve --workers N`` with the embedded store in a temporary directory.

    GitHub lookups go to ``github_api_url``; the benchmark points it at a port that
    refuses connections, so any profile-cache miss fails loudly. No other ``FAIRDRAW_*``
    variable of the caller's environment reaches the server, except those the benchmark
    passes in ``settings`` (e.g. ``{"FAIRDRAW_TRUSTED_PROXIES": "127.0.0.1/32"}``).
    """

    name = "fairdraw serve"

    def __init__(
        self,
        workers: int,
        github_api_url: str,
        log_level: str = "warning",
        settings: Mapping[str, str] | None = None,
    ) -> None:
        # Short path: the store's unix socket must fit in sun_path.
        self._tmp = tempfile.TemporaryDirectory(prefix="fdbench-")
        self.data_dir = Path(self._tmp.name)
        super().__init__(self.data_dir / "serve.log", "/api/v1/draws")
        self.workers = workers
        self.admin_password = secrets.token_urlsafe(18)
        self.socket_path = self.data_dir / "store" / "valkey.sock"
        self._github_api_url = github_api_url
        self._log_level = log_level
        self._settings = dict(settings or {})

    @property
    def store_url(self) -> str:
        return f"unix://{self.socket_path}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "fairdraw",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]

    def environment(self) -> Mapping[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDRAW_")}
        env |= {
            "FAIRDRAW_DATA_DIR": str(self.data_dir),
            "FAIRDRAW_SECRET_KEY": secrets.token_urlsafe(48),
            "FAIRDRAW_ADMIN_PASSWORD": self.admin_password,
            "FAIRDRAW_GITHUB_API_URL": self._github_api_url,
            "FAIRDRAW_LOG_LEVEL": self._log_level,
            # Every entry comes from 127.0.0.1: a limit no run reaches keeps the limiter
            # (and its cost) in the path without refusing the load.
            "FAIRDRAW_RATE_LIMIT_ENTRIES": ENTRY_RATE_LIMIT,
        }
        return env | self._settings

    def stop(self) -> None:
        """Stop the server (uvicorn stops its workers, then fairdraw its store)."""
        try:
            super().stop()
        finally:
            # A store left behind by a killed fairdraw runs in a session of its own.
            _shut_down_store(self.socket_path)
            self._tmp.cleanup()


class BareAppServer(HttpServer):
    """``bench/bare_app.py`` under uvicorn with the same worker count and server options
    as ``fairdraw serve``, talking to the given store."""

    name = "the bare app"

    def __init__(self, workers: int, store_url: str, log_dir: Path) -> None:
        super().__init__(log_dir / "bare_app.log", "/ready")
        self.workers = workers
        self._store_url = store_url

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            "--no-proxy-headers",
        ]

    def environment(self) -> Mapping[str, str]:
        return {**os.environ, STORE_URL_VARIABLE: self._store_url}


class SeedAppServer(HttpServer):
    """``bench/seed_app.py`` (Flask) under gunicorn: ``workers`` processes of ``threads``
    threads each, talking to the given store."""

    name = "the seed app"

    def __init__(self, workers: int, threads: int, store_url: str, log_dir: Path) -> None:
        super().__init__(log_dir / "seed_app.log", "/ready")
        self.workers = workers
        self.threads = threads
        self._store_url = store_url

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.seed_app:create_app()",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--log-level",
            "warning",
        ]

    def environment(self) -> Mapping[str, str]:
        return {**os.environ, STORE_URL_VARIABLE: self._store_url}


class AdminApi:
    """The calls the benchmark makes as the administrator, through the public JSON API."""

    def __init__(self, base_url: str, password: str) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=30.0)
        reply = self._client.post(
            "/api/v1/session", json={"username": ADMIN_USERNAME, "password": password}
        )
        _expect(reply, 200)
        self._client.headers["X-CSRF-Token"] = reply.json()["csrf_token"]

    def create_open_draw(self, title: str, prizes: list[dict[str, Any]]) -> str:
        """Create a giveaway, opened at once; its id."""
        reply = self._client.post(
            "/api/v1/draws", json={"title": title, "prizes": prizes, "open": True}
        )
        _expect(reply, 201)
        draw_id: str = reply.json()["id"]
        return draw_id

    def create_open_raffle(
        self, title: str, prizes: list[dict[str, Any]], ticket_count: int, per_claimant: int = 1
    ) -> str:
        """Create an anonymous raffle (``per_claimant`` tickets per address), opened at
        once; its id."""
        reply = self._client.post(
            "/api/v1/raffles",
            json={
                "title": title,
                "prizes": prizes,
                "ticket_count": ticket_count,
                "claimants": "anonymous",
                "per_claimant": per_claimant,
                "early_close": True,
                "open": True,
            },
        )
        _expect(reply, 201)
        draw_id: str = reply.json()["id"]
        return draw_id

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _shut_down_store(socket_path: Path) -> None:
    if not socket_path.exists():
        return
    client = redis.Redis(unix_socket_path=str(socket_path), socket_timeout=5)
    try:
        client.shutdown(nosave=True)
    except redis.RedisError:
        pass  # SHUTDOWN closes the connection on success; a stale socket refuses
    finally:
        client.close()


def _expect(reply: httpx.Response, status: int) -> None:
    if reply.status_code != status:
        raise BenchError(
            f"{reply.request.method} {reply.request.url.path} answered {reply.status_code} "
            f"(expected {status}): {reply.text[:500]}"
        )
