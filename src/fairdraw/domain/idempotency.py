"""Idempotency keys: what makes a state change safe to send twice.

A client names one operation with an ``Idempotency-Key`` (the IETF httpapi draft); the
server keeps the operation's result under a name derived from that key, so a retry gets
the first answer back instead of acting again. Nothing here does I/O.

For a key ``K`` sent by the caller ``scope`` (see ``services/idempotency.caller_scope``),
with the server secret ``S``:

- ``name = hex(HMAC-SHA256(S, "fairdraw/idempotency/name" 0x00 scope 0x00 K))[:32]``:
  the record's name. Neither ``K`` nor the scope can be read back from it, and the same
  ``K`` from another caller names another record, so nobody replays someone else's answer.
- ``cipher key = HKDF-SHA256(ikm=K, salt=S, info="fairdraw/idempotency/aead" 0x00 name)``:
  a kept result is sealed with AES-256-GCM under it (a random 96-bit nonce, the name as
  associated data). Opening it needs ``K``, which only the client holds, and ``S``, which
  only the server holds: a dump of the store reveals no kept result, a ticket's
  verification code included.
- ``fingerprint = hex(SHA-256(method 0x00 target 0x00 scope 0x00 body))``: the same key
  with another fingerprint is a reuse of the key for another request (422).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fairdraw.domain.errors import FairdrawError, IdempotencyKeyInvalid

HEADER: Final = "Idempotency-Key"
FORM_FIELD: Final = "idempotency_key"
KEY_MIN_LENGTH: Final = 16
KEY_MAX_LENGTH: Final = 255
# Enough for UUIDs, ULIDs, hex and both base64 alphabets; nothing that needs quoting in
# a header, a cookie or a structured-field string.
KEY_PATTERN: Final = re.compile(
    rf"[A-Za-z0-9._~:+/=-]{{{KEY_MIN_LENGTH},{KEY_MAX_LENGTH}}}", re.ASCII
)
NAME_HEX: Final = 32
NAME_PATTERN: Final = re.compile(rf"[0-9a-f]{{{NAME_HEX}}}")
_NONCE_BYTES = 12
_NAME_LABEL = b"fairdraw/idempotency/name"
_CIPHER_LABEL = b"fairdraw/idempotency/aead"


class SealBroken(FairdrawError):
    """A kept result that does not open under this key (never with the right key)."""


def parse_key(raw: str) -> str:
    """The key of an ``Idempotency-Key`` header or form field: 16 to 255 characters of
    ``A-Z a-z 0-9 . _ ~ : + / = -``; a structured-field string's quotes (``"…"``) are
    taken off first. IdempotencyKeyInvalid otherwise."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not KEY_PATTERN.fullmatch(value):
        raise IdempotencyKeyInvalid(
            f"An {HEADER} is {KEY_MIN_LENGTH} to {KEY_MAX_LENGTH} characters of "
            "A-Z, a-z, 0-9 and . _ ~ : + / = -; a random UUID is a good key"
        )
    return value


def new_key() -> str:
    """A fresh key with 128 random bits, for a form to carry."""
    return secrets.token_urlsafe(16)


def record_name(secret: bytes, scope: str, key: str) -> str:
    """The name the result of ``key`` sent by ``scope`` is kept under."""
    message = b"\x00".join((_NAME_LABEL, scope.encode(), key.encode()))
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:NAME_HEX]


def cipher_key(secret: bytes, key: str, name: str) -> bytes:
    """The AES-256 key that seals the result kept under ``name`` for ``key``."""
    derive = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=secret,
        info=_CIPHER_LABEL + b"\x00" + name.encode(),
    )
    return derive.derive(key.encode())


def fingerprint(method: str, target: str, scope: str, body: bytes, content_type: str = "") -> str:
    """What identifies one request: method, path with query, caller, the body and its
    media type (the same bytes sent again as JSON are another request than as text)."""
    digest = hashlib.sha256()
    media = content_type.split(";", 1)[0].strip().lower()
    for part in (method.upper().encode(), target.encode(), scope.encode(), media.encode()):
        digest.update(part + b"\x00")
    digest.update(body)
    return digest.hexdigest()


@dataclass(frozen=True)
class RetryKey:
    """One keyed request: the ``name`` its result is kept under, its ``fingerprint``,
    the key that seals what is kept, and how long it is kept (``ttl_ms``)."""

    name: str
    fingerprint: str
    cipher: bytes = field(repr=False)
    ttl_ms: int

    def seal(self, plaintext: bytes) -> str:
        """``plaintext`` sealed for this key: base64url of nonce and ciphertext."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = AESGCM(self.cipher).encrypt(nonce, plaintext, self.name.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, sealed: str) -> bytes:
        """What :meth:`seal` sealed; SealBroken if it was sealed under another key."""
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
            nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
            return AESGCM(self.cipher).decrypt(nonce, body, self.name.encode())
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise SealBroken("A kept result could not be opened") from exc


def retry_key(secret: bytes, scope: str, key: str, fingerprint: str, ttl_ms: int) -> RetryKey:
    """The RetryKey of a request with the (parsed) ``key`` from ``scope``."""
    name = record_name(secret, scope, key)
    return RetryKey(name, fingerprint, cipher_key(secret, key, name), ttl_ms)


def opener(secret: bytes, key: str, name: str) -> RetryKey:
    """A RetryKey that only opens the result kept under ``name`` (a browser that holds
    ``key`` and ``name`` reads its own ticket without being the same caller again)."""
    if not NAME_PATTERN.fullmatch(name):
        raise SealBroken("Not a record name")
    return RetryKey(name, "", cipher_key(secret, key, name), 0)
