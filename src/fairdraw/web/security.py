"""Browser security: the session cookie, CSRF tokens and response headers.

CSRF tokens are bound to the browser: logged in, to the session's own CSRF secret;
anonymous, to a random ``fairdraw_csrf`` cookie. The token is an HMAC of that value with
the server secret, so a page from another site can neither read nor forge it.

The session cookie slides with the session: the store renews a session's idle timeout
whenever a request uses it, and :class:`SessionCookieRenewal` then sends the cookie
again with a fresh ``Max-Age`` (:func:`renew_session_cookie`) on a successful response,
so an active browser is not logged out while the server still honours its session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fairdraw.domain.accounts import Session

SESSION_COOKIE = "fairdraw_session"
CSRF_COOKIE = "fairdraw_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' https://avatars.githubusercontent.com data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# FastAPI's Swagger UI page (/docs/swagger) loads its assets inline and from a CDN unless
# told otherwise; fairdraw serves them itself, but they still need inline script to start.
DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'", "script-src 'self' 'unsafe-inline'"
).replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def framable_policy(origins: Sequence[str]) -> str:
    """The Content-Security-Policy of a page that ``origins`` (already validated, see
    fairdraw.domain.embedding) may frame; no origins: nobody may.

    A response that sets it gets no ``X-Frame-Options`` from :class:`SecurityHeaders`."""
    ancestors = " ".join(origins) if origins else "'none'"
    return CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")


def sign_in_policy(oauth_url: str) -> str:
    """The Content-Security-Policy of a page with an "Enter with GitHub" form: its answer
    redirects to GitHub's sign-in at ``oauth_url``, and form-action covers redirects."""
    parts = urlsplit(oauth_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {origin}")


def csrf_token(secret: bytes, binding: str) -> str:
    return hmac.new(secret, b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_binding(request: Request, session: Session | None) -> str:
    """The value a CSRF token is bound to for this browser."""
    if session is not None:
        return "s:" + session.csrf_secret
    anon = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_cookie", None)
    if not anon:
        anon = secrets.token_urlsafe(24)
        request.state.new_csrf_cookie = anon
    return "a:" + anon


def csrf_valid(secret: bytes, request: Request, session: Session | None, token: str | None) -> bool:
    if not token:
        return False
    if session is None and not request.cookies.get(CSRF_COOKIE):
        return False
    expected = csrf_token(secret, csrf_binding(request, session))
    return hmac.compare_digest(expected, token)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


_POLICY = (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())
_DOCS_POLICY = (b"content-security-policy", DOCS_CONTENT_SECURITY_POLICY.encode())
_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))
_NO_FRAMES = (b"x-frame-options", b"DENY")


class SecurityHeaders:
    """Adds the security headers to every response (pure ASGI, no body buffering).

    ``X-Frame-Options: DENY`` goes with every policy that refuses all frame ancestors; a
    response that sets a policy of its own naming some (:func:`framable_policy`) lets
    that policy decide alone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        policy = _DOCS_POLICY if path in ("/docs/swagger", "/redoc") else _POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The raw headers, scanned once (this runs on every response): what the
                # response set itself stands, the rest is added.
                raw = message["headers"] = list(message.get("headers", ()))
                present = {name.lower(): value for name, value in raw}
                own = present.get(b"content-security-policy")
                if own is None:
                    raw.append(policy)
                raw.extend(header for header in _ALWAYS if header[0] not in present)
                if b"x-frame-options" not in present and (
                    own is None or b"frame-ancestors 'none'" in own
                ):
                    raw.append(_NO_FRAMES)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cookie_secure(request: Request, forced: bool | None) -> bool:
    return forced if forced is not None else is_https(request)


def set_session_cookie(
    response: Response, request: Request, token: str, max_age: int, forced_secure: bool | None
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request, forced_secure),
        path="/",
    )


def renew_session_cookie(
    request: Request, token: str, max_age: int, forced_secure: bool | None
) -> None:
    """Send the session cookie of ``token`` again, with ``max_age``, on the response to
    ``request`` (:class:`SessionCookieRenewal` adds it), unless that response sets or
    clears the session cookie itself (a login, a logout, a password change)."""
    carrier = Response()
    set_session_cookie(carrier, request, token, max_age, forced_secure)
    request.state.renewed_session_cookie = carrier.headers["set-cookie"]


_SESSION_COOKIE_PREFIX = (SESSION_COOKIE + "=").encode("latin-1")


class SessionCookieRenewal:
    """Adds the cookie of :func:`renew_session_cookie` to the response (pure ASGI).

    Only a response below 400 carries it: a refused request (a forged form, a rate
    limit, an error) makes the browser store nothing. At worst the cookie then ends a
    little before the session, never after it. A response that carries a renewed cookie
    is marked ``Cache-Control: private`` unless it says otherwise already: a shared cache
    must never hand one browser's session cookie to another.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Request.state writes into this dict; creating it here makes sure it is the one
        # every copy of the scope further in shares.
        state: dict[str, object] = scope.setdefault("state", {})

        async def send_with_cookie(message: Message) -> None:
            cookie = state.get("renewed_session_cookie")
            if (
                message["type"] == "http.response.start"
                and message["status"] < 400
                and isinstance(cookie, str)
            ):
                raw: list[tuple[bytes, bytes]] = message.get("headers", [])
                if not any(
                    name.lower() == b"set-cookie" and value.startswith(_SESSION_COOKIE_PREFIX)
                    for name, value in raw
                ):
                    headers = MutableHeaders(scope=message)
                    headers.append("set-cookie", cookie)
                    headers.setdefault("cache-control", "private")
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def set_csrf_cookie_if_new(
    response: Response, request: Request, forced_secure: bool | None
) -> None:
    value = getattr(request.state, "new_csrf_cookie", None)
    if value:
        response.set_cookie(
            CSRF_COOKIE,
            value,
            httponly=True,
            samesite="lax",
            secure=cookie_secure(request, forced_secure),
            path="/",
        )
