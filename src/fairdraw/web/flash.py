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
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from fairdraw.web.security import cookie_secure

if TYPE_CHECKING:
    from fairdraw.web.pages.time_format import Moment

FLASH_COOKIE = "fairdraw_flash"
# Long enough to survive the redirect it rides on, short enough never to surprise later.
FLASH_SECONDS = 60
KINDS = frozenset({"signed_in", "signed_out", "account_created", "beacon_pending"})


@dataclass(frozen=True)
class Flash:
    """What base.html confirms: ``kind`` (one of :data:`KINDS`) and the user it names
    (for ``beacon_pending``: the round, when it is due and the draw's zone)."""

    kind: str
    name: str = ""

    @property
    def beacon_round(self) -> str:
        """A ``beacon_pending`` flash's round (see :func:`beacon_pending`)."""
        return self.name.split(" ")[0]

    @property
    def beacon_due(self) -> Moment | None:
        """When a ``beacon_pending`` flash's round is due, in its draw's zone."""
        # Imported here: the pages package imports this module.
        from fairdraw.web.pages.time_format import moment_in

        parts = self.name.split(" ")
        if len(parts) != 3 or not parts[1].isdecimal():
            return None
        return moment_in(int(parts[1]), parts[2])


def beacon_pending(beacon_round: int, due_ms: int, zone: str) -> Flash:
    """The draw asked for waits for beacon round ``beacon_round``, due at ``due_ms``
    (shown in ``zone``, the draw's); the scheduler draws it when the round is out."""
    return Flash("beacon_pending", f"{beacon_round} {due_ms} {zone}")


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
