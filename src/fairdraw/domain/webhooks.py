"""Webhooks: what an endpoint may hear, how a message is signed, how its secret is kept.

Deliveries follow Standard Webhooks (https://www.standardwebhooks.com/): each message has
an id (``webhook-id``, the same on every retry, so a receiver can drop repeats), the time
of the attempt in Unix seconds (``webhook-timestamp``) and ``webhook-signature``:
``v1,`` and the base64 HMAC-SHA256, under the endpoint's secret, of
``"{id}.{timestamp}.{body}"``. The body is JSON ``{type, timestamp, data}``.

An endpoint's secret is ``whsec_`` and the base64 of 32 random bytes. It is shown once,
when the endpoint is registered. Signing needs the secret itself (HMAC is symmetric), so
it cannot be kept as a hash; it is kept sealed instead: AES-256-GCM under
``HKDF-SHA256(ikm=S, salt=None, info="fairdraw/webhooks/secret")`` with the server secret
``S``, a random 96-bit nonce and the endpoint id as associated data. Whoever reads the
store without ``S`` can neither sign as the instance nor move a sealed secret to another
endpoint. Nothing here does I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fairdraw.domain.errors import InvalidInput
from fairdraw.i18n import N_, Message

# What an endpoint may subscribe to.
ENTRY_MILESTONE: Final = "entry_milestone"
CLOSED: Final = "closed"
SEALED: Final = "sealed"
DRAWN: Final = "drawn"
CANCELLED: Final = "cancelled"
# A drawn winner forfeited and the prize moved on (one message per substitution).
FORFEIT: Final = "forfeit"
EVENTS: Final = (ENTRY_MILESTONE, CLOSED, SEALED, DRAWN, CANCELLED, FORFEIT)
# Message types are namespaced, as Standard Webhooks suggests: "draw.closed" …
TYPE_PREFIX: Final = "draw."

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES: Final = 32
SIGNATURE_VERSION: Final = "v1"
MAX_URL_LENGTH: Final = 2048
# A port number, 0 to 65535.
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
# What a webhook URL looks like: a host name or IPv4 address (no user name or password,
# no brackets), an optional port, a path and query without spaces or controls, no
# fragment. The API's schema states it for https, so clients can check a URL first.
_URL_REST = rf"[^\x00-\x20\x7f/?#@\[\]:\\]+(?::{_PORT})?(?:[/?][^\x00-\x20\x7f#]*)?"
URL_PATTERN: Final = rf"^https://{_URL_REST}$"
_HTTPS_URL = re.compile(URL_PATTERN)
_HTTP_URL = re.compile(rf"^http://{_URL_REST}$")
# Endpoint ids: 16 random base32 characters (80 bits).
ENDPOINT_ID_PATTERN: Final = r"[a-z2-7]{16}"
_ENDPOINT_ID = re.compile(ENDPOINT_ID_PATTERN)
MESSAGE_ID_PATTERN: Final = r"msg_[0-9a-f]{32}"
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_NONCE_BYTES = 12
_SEAL_INFO = b"fairdraw/webhooks/secret"
_MESSAGE_LABEL = b"fairdraw/webhooks/message"

# Retries: the n-th failed attempt waits about BASE·2^(n-1), at most CAP, with jitter
# (half to all of it, so endpoints that failed together do not retry together), and
# after MAX_ATTEMPTS attempts (about two days) the message is given up ("failed").
BACKOFF_BASE_MS: Final = 10_000
BACKOFF_CAP_MS: Final = 24 * 3600 * 1000
MAX_ATTEMPTS: Final = 15


def is_milestone(entry_count: int) -> bool:
    """Whether ``entry_count`` is a milestone: 10, 100, 1,000, 10,000 …"""
    if entry_count < 10:
        return False
    while entry_count % 10 == 0:
        entry_count //= 10
    return entry_count == 1


def new_endpoint_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def valid_endpoint_id(endpoint_id: str) -> bool:
    return bool(_ENDPOINT_ID.fullmatch(endpoint_id))


def new_secret() -> str:
    """A fresh endpoint secret, ``whsec_`` + base64 of 32 CSPRNG bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret: the bytes its base64 stands for."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("not a webhook secret")
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def _sealing_key(server_secret: bytes) -> bytes:
    derive = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO)
    return derive.derive(server_secret)


def seal_secret(server_secret: bytes, endpoint_id: str, secret: str) -> str:
    """``secret`` sealed for keeping: base64 of nonce ‖ AES-GCM ciphertext."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(_sealing_key(server_secret)).encrypt(
        nonce, secret.encode(), endpoint_id.encode()
    )
    return base64.b64encode(nonce + sealed).decode()


def open_secret(server_secret: bytes, endpoint_id: str, sealed: str) -> str:
    """The secret :func:`seal_secret` sealed for ``endpoint_id``."""
    try:
        raw = base64.b64decode(sealed, validate=True)
    except binascii.Error as exc:
        raise ValueError("not a sealed webhook secret") from exc
    nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    return AESGCM(_sealing_key(server_secret)).decrypt(nonce, body, endpoint_id.encode()).decode()


def message_id(server_secret: bytes, endpoint_id: str, event: str, subject: str) -> str:
    """The id of the one message ``endpoint_id`` gets for ``event`` about ``subject``
    (a draw id, with the milestone for entry milestones): the same however often the
    event is announced, so announcing it again enqueues nothing."""
    data = b"\x00".join((_MESSAGE_LABEL, endpoint_id.encode(), event.encode(), subject.encode()))
    return "msg_" + hmac.new(server_secret, data, hashlib.sha256).hexdigest()[:32]


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header of one attempt."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery attempt at ``timestamp`` (Unix seconds)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def payload(event: str, timestamp: str, data: Mapping[str, Any]) -> bytes:
    """A message body: ``{type, timestamp, data}`` as compact JSON."""
    body = {"type": TYPE_PREFIX + event, "timestamp": timestamp, "data": dict(data)}
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def backoff_ms(attempts: int, base_ms: int = BACKOFF_BASE_MS, cap_ms: int = BACKOFF_CAP_MS) -> int:
    """How long to wait after the ``attempts``-th failed attempt (1 or more)."""
    full: int = min(cap_ms, base_ms << min(attempts - 1, 40))
    return full // 2 + secrets.randbelow(full // 2 + 1)


def check_events(events: Sequence[str]) -> list[str]:
    """The subscribed events, in the canonical order; InvalidInput if none or unknown."""
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise InvalidInput(
            {
                "events": Message(
                    N_("unknown event %(event)s; one of %(events)s"),
                    event=repr(unknown[0]),
                    events=", ".join(EVENTS),
                )
            }
        )
    if not events:
        raise InvalidInput({"events": N_("subscribe to at least one event")})
    return [e for e in EVENTS if e in events]


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def literal_address(url: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a URL's host is written as (``https://10.0.0.7/…``,
    ``https://[fd00::1]/…``), or None when the host is a name."""
    try:
        return ipaddress.ip_address(urlsplit(url).hostname or "")
    except ValueError:
        return None


def check_url(url: str, *, allow_http: bool) -> str:
    """A webhook URL, or InvalidInput: https (see :data:`URL_PATTERN`); http only to a
    loopback host, and only when ``allow_http`` (tests, local use)."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(
            {"url": Message(N_("at most %(limit)s characters"), limit=MAX_URL_LENGTH)}
        )
    if _HTTPS_URL.fullmatch(url):
        return url
    if allow_http and _HTTP_URL.fullmatch(url) and _is_loopback(urlsplit(url).hostname or ""):
        return url
    raise InvalidInput(
        {"url": "use an https:// URL with a host, and no user name, password or fragment"}
    )
