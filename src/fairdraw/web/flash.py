"""One-time confirmations ("Signed in as maria") carried across a redirect.

A POST that ends in a redirect cannot show anything itself, so it leaves a short-lived
``fairdraw_flash`` cookie naming what happened; the next page rendered shows it once
(base.html, ``role="status"``) and deletes the cookie. The cookie holds only a kind from
:data:`KINDS` and a name, HMAC-signed with the server secret, so another site or a
script cannot make the page say something else; base.html writes the words, in the
reader's language.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from fairdraw.web.security import cookie_secure

FLASH_COOKIE = "fairdraw_flash"
# Long enough to survive the redirect it rides on, short enough never to surprise later.
FLASH_SECONDS = 60
KINDS = frozenset({"signed_in", "signed_out", "account_created"})


@dataclass(frozen=True)
class Flash:
    """What base.html confirms: ``kind`` (one of :data:`KINDS`) and the user it names."""

    kind: str
    name: str = ""


def _signature(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, b"flash:" + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def set_flash(
    response: Response, request: Request, secret: bytes, flash: Flash, forced_secure: bool | None
) -> None:
    """Have the next page rendered in this browser confirm ``flash`` (``Secure`` as the
    session cookie is: ``forced_secure``, or by the request's scheme)."""
    if flash.kind not in KINDS:
        raise ValueError(f"unknown flash kind {flash.kind!r}")
    payload = base64.urlsafe_b64encode(f"{flash.kind}\n{flash.name}".encode()).decode()
    response.set_cookie(
        FLASH_COOKIE,
        f"{payload}.{_signature(secret, payload)}",
        max_age=FLASH_SECONDS,
        path="/",
        httponly=True,
        secure=cookie_secure(request, forced_secure),
        samesite="lax",
    )


def read_flash(request: Request, secret: bytes) -> Flash | None:
    """The confirmation this browser carries, if its cookie is present and genuine."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return None
    payload, signature = raw.rsplit(".", 1)
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        return None
    try:
        kind, name = base64.urlsafe_b64decode(payload.encode()).decode().split("\n", 1)
    except (ValueError, UnicodeDecodeError):
        return None
    return Flash(kind, name) if kind in KINDS else None


def clear_flash(response: Response, request: Request, forced_secure: bool | None) -> None:
    """Forget the confirmation once a page has shown it."""
    secure = cookie_secure(request, forced_secure)
    response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, secure=secure, samesite="lax")
