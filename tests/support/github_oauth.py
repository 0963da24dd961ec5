"""A stand-in for GitHub's OAuth web flow: a real HTTP server on loopback, for tests.

It serves what ``https://github.com`` serves of the flow — ``GET /login/oauth/authorize``
(approves at once as :attr:`GitHubOAuthStandIn.user`, or is refused, and sends the
browser back to ``redirect_uri`` with a code or an error, and the state) and ``POST
/login/oauth/access_token`` (checks the client id and secret, the code and its
``redirect_uri``; each code works once). The token it issues belongs to the user in the
GitHub API stand-in (tests/support/github_server.py), whose ``GET /user`` answers it, so
fairdraw's OAuth client runs unchanged against the pair.

Fixtures: ``github_oauth_server`` (session) and ``github_oauth`` (per test; reset, with
the API stand-in reset too).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.support.github_server import GitHubStandIn

CLIENT_ID = "Iv1.fairdrawtest0001"
CLIENT_SECRET = "test-oauth-client-secret-" + "0" * 15

Mode = Literal["approve", "deny", "down"]


@dataclass
class IssuedCode:
    user_id: int
    redirect_uri: str


class GitHubOAuthStandIn:
    """GitHub's OAuth endpoints on ``127.0.0.1``, on a free port, for ``api`` users.

    ``mode``: ``"approve"`` (the signed-in user allows the app), ``"deny"`` (they cancel:
    back with ``error=access_denied``) or ``"down"`` (the token exchange answers 502).
    ``tokens`` lists every access token issued, to look for it where it must not be.
    """

    def __init__(self, api: GitHubStandIn) -> None:
        self.api = api
        self.user: str | None = None
        self.mode: Mode = "approve"
        self.codes: dict[str, IssuedCode] = {}
        self.issued_codes: list[str] = []
        self.tokens: list[str] = []
        self.exchanges = 0
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the GitHub OAuth stand-in is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def sign_in_as(self, login: str, id: int) -> None:
        """The GitHub user who is signed in at GitHub and approves (added to the API)."""
        self.api.add_user(login, id)
        self.user = login

    def reset(self) -> None:
        self.user = None
        self.mode = "approve"
        self.exchanges = 0
        with self._lock:
            self.codes.clear()
            self.issued_codes.clear()
            self.tokens.clear()

    def start(self) -> GitHubOAuthStandIn:
        if self._server is None:
            self._server = _Server(("127.0.0.1", 0), _Handler, self)
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="github-oauth-stand-in", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    # -- called from the handler threads --------------------------------------------
    def _authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or not redirect_uri.startswith("http"):
            return 404, {}, b"<html><body>Not Found</body></html>"
        back: dict[str, str] = {}
        if self.mode == "deny":
            back["error"] = "access_denied"
            back["error_description"] = "The user has denied your application access."
        else:
            user = self.api.users.get((self.user or "").lower())
            if user is None:
                return 500, {}, b"<html><body>no user is signed in at GitHub</body></html>"
            code = secrets.token_hex(10)
            with self._lock:
                self.codes[code] = IssuedCode(int(user["id"]), redirect_uri)
                self.issued_codes.append(code)
            back["code"] = code
        if "state" in query:
            back["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": f"{redirect_uri}{separator}{urlencode(back)}"}, b""

    def _access_token(self, form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.exchanges += 1
        if self.mode == "down":
            return 502, {}, b"<html><body>Unicorn!</body></html>"
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 200, {}, _json(_error("incorrect_client_credentials"))
        with self._lock:
            issued = self.codes.pop(form.get("code", ""), None)
        if issued is None:
            return 200, {}, _json(_error("bad_verification_code"))
        if form.get("redirect_uri", issued.redirect_uri) != issued.redirect_uri:
            return 200, {}, _json(_error("redirect_uri_mismatch"))
        token = "gho_" + secrets.token_urlsafe(27)
        with self._lock:
            self.tokens.append(token)
        self.api.tokens[token] = issued.user_id
        return 200, {}, _json({"access_token": token, "token_type": "bearer", "scope": ""})


def _error(code: str) -> dict[str, str]:
    return {
        "error": code,
        "error_description": code.replace("_", " "),
        "error_uri": "https://docs.github.com/apps/troubleshooting",
    }


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        stand_in: GitHubOAuthStandIn,
    ) -> None:
        self.stand_in = stand_in
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != "/login/oauth/authorize":
            self._send(404, {}, b"<html><body>Not Found</body></html>")
            return
        self._send(*self.server.stand_in._authorize(dict(parse_qsl(parts.query))))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        if urlsplit(self.path).path != "/login/oauth/access_token":
            self._send(404, {}, b"<html><body>Not Found</body></html>")
            return
        self._send(*self.server.stand_in._access_token(dict(parse_qsl(body))))

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        content_type = "application/json" if body.startswith(b"{") else "text/html"
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def github_oauth_server(github_server: GitHubStandIn) -> Iterator[GitHubOAuthStandIn]:
    """The OAuth stand-in, started once for the test session."""
    server = GitHubOAuthStandIn(github_server).start()
    yield server
    server.stop()


@pytest.fixture
def github_oauth(
    github_oauth_server: GitHubOAuthStandIn, github: GitHubStandIn
) -> Iterator[GitHubOAuthStandIn]:
    """The OAuth stand-in approving, with nobody signed in and no codes issued."""
    github_oauth_server.reset()
    yield github_oauth_server
    github_oauth_server.reset()


def oauth_settings(stand_in: GitHubOAuthStandIn) -> dict[str, Any]:
    """The settings that point fairdraw's GitHub sign-in at ``stand_in``."""
    return {
        "github_client_id": CLIENT_ID,
        "github_client_secret": CLIENT_SECRET,
        "github_oauth_url": stand_in.url,
    }
