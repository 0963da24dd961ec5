"""A stand-in for GitHub's users API: a real HTTP server on loopback, for tests.

fairdraw's GitHub client talks to it unchanged (only the base URL differs), so tests
exercise the real HTTP stack: headers, status codes, timeouts, bad bodies.

Fixtures: ``github_server`` (session; started once) and ``github`` (per test; users,
mode and recorded requests reset).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest

Mode = Literal["ok", "rate_limited", "error", "slow", "garbage"]

_USER_BY_LOGIN = re.compile(r"/users/([^/]+)")
_USER_BY_ID = re.compile(r"/user/([0-9]+)")


class GitHubStandIn:
    """GitHub's ``/users/{login}`` and ``/user/{id}`` on ``127.0.0.1``, on a free port.

    ``mode`` decides how every request is answered:

    - ``"ok"``: like GitHub (the user JSON, or 404 ``{"message": "Not Found"}``)
    - ``"rate_limited"``: 403 with ``x-ratelimit-remaining: 0``, as GitHub does
    - ``"error"``: 502
    - ``"slow"``: an answer only after ``slow_seconds`` (longer than a client timeout)
    - ``"garbage"``: 200 with a body that is not JSON

    ``requests`` records ``(method, path, headers)`` of every request, header names
    lower-cased.
    """

    def __init__(self, slow_seconds: float = 5.0) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.mode: Mode = "ok"
        self.slow_seconds = slow_seconds
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        # OAuth access tokens (tests/support/github_oauth.py issues them) → user id:
        # ``GET /user`` with ``Authorization: Bearer <token>`` answers that user.
        self.tokens: dict[str, int] = {}
        self._lock = threading.Lock()
        # Set to let requests that are sleeping in "slow" mode finish early.
        self._wake = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:40123``."""
        if self._server is None:
            raise RuntimeError("the GitHub stand-in is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_user(self, login: str, id: int, name: str | None = None) -> dict[str, Any]:
        """Add a user and return its JSON; change the dict to change what is served."""
        user: dict[str, Any] = {
            "login": login,
            "id": id,
            "node_id": f"U_{id}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{id}?v=4",
            "url": f"https://api.github.com/users/{login}",
            "html_url": f"https://github.com/{login}",
            "type": "User",
            "site_admin": False,
            "name": name,
            "company": None,
            "blog": "",
            "location": None,
            "bio": None,
            "public_repos": 8,
            "followers": 1,
            "following": 0,
            "created_at": "2011-01-25T18:44:36Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }
        self.users[login.lower()] = user
        return user

    def reset(self) -> None:
        """Forget users and requests, back to mode ``"ok"``; release sleeping requests."""
        self._wake.set()
        self.users.clear()
        self.tokens.clear()
        self.mode = "ok"
        with self._lock:
            self.requests.clear()
        self._wake.clear()

    def start(self) -> GitHubStandIn:
        """Start serving in a daemon thread."""
        if self._server is not None:
            return self
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="github-stand-in", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is None:
            return
        self._wake.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> GitHubStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- called from the handler threads --------------------------------------------
    def _record(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((method, path, headers))

    def _answer(self, path: str, authorization: str = "") -> tuple[int, dict[str, str], bytes]:
        """Status, extra headers and body for a GET of ``path`` (``authorization``: the
        request's Authorization header, which ``/user`` reads)."""
        mode = self.mode
        if mode == "slow":
            self._wake.wait(self.slow_seconds)
        elif mode == "rate_limited":
            reset = int(time.time()) + 3600
            headers = {
                "x-ratelimit-limit": "60",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": "60",
                "x-ratelimit-reset": str(reset),
                "x-ratelimit-resource": "core",
            }
            return 403, headers, _json(_RATE_LIMIT_MESSAGE)
        elif mode == "error":
            return 502, {}, _json({"message": "Server Error"})
        elif mode == "garbage":
            return 200, {}, b"<html><body>Unicorn!</body></html>"

        if path == "/user":
            return self._signed_in_user(authorization)
        user = self._find(path)
        if user is None:
            return 404, {}, _json(_NOT_FOUND_MESSAGE)
        return 200, {}, _json(user)

    def _signed_in_user(self, authorization: str) -> tuple[int, dict[str, str], bytes]:
        """``GET /user``: the user an OAuth token belongs to, or 401 as GitHub says it."""
        scheme, _, token = authorization.partition(" ")
        user_id = self.tokens.get(token) if scheme.lower() in ("bearer", "token") else None
        user = next((u for u in list(self.users.values()) if u.get("id") == user_id), None)
        if user is None:
            return 401, {}, _json(_BAD_CREDENTIALS_MESSAGE)
        return 200, {}, _json(user)

    def _find(self, path: str) -> dict[str, Any] | None:
        if match := _USER_BY_LOGIN.fullmatch(path):
            return self.users.get(match[1].lower())
        if match := _USER_BY_ID.fullmatch(path):
            wanted = int(match[1])
            return next((u for u in list(self.users.values()) if u.get("id") == wanted), None)
        return None


_NOT_FOUND_MESSAGE = {
    "message": "Not Found",
    "documentation_url": "https://docs.github.com/rest/users/users#get-a-user",
    "status": "404",
}
_BAD_CREDENTIALS_MESSAGE = {
    "message": "Bad credentials",
    "documentation_url": "https://docs.github.com/rest",
    "status": "401",
}
_RATE_LIMIT_MESSAGE = {
    "message": "API rate limit exceeded for 127.0.0.1. (But here's the good news: "
    "Authenticated requests get a higher rate limit. Check out the documentation "
    "for more details.)",
    "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api"
    "#rate-limiting",
}


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Bursts of concurrent lookups must queue, not be refused at the socket.
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        stand_in: GitHubStandIn,
    ) -> None:
        self.stand_in = stand_in
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout) closes its socket before a slow answer is
        # written; that is the expected end of such a request, not a failure.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        stand_in = self.server.stand_in
        path = urlsplit(self.path).path
        stand_in._record("GET", path, {k.lower(): v for k, v in self.headers.items()})
        status, headers, body = stand_in._answer(path, self.headers.get("Authorization", ""))
        self.send_response(status)
        content_type = "text/html" if body.startswith(b"<") else "application/json"
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def github_server() -> Iterator[GitHubStandIn]:
    """The GitHub stand-in, started once for the test session."""
    with GitHubStandIn() as server:
        yield server


@pytest.fixture
def github(github_server: GitHubStandIn) -> Iterator[GitHubStandIn]:
    """The GitHub stand-in with no users, mode ``"ok"`` and no recorded requests."""
    github_server.reset()
    yield github_server
    github_server.reset()
