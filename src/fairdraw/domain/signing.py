"""The instance's Ed25519 signing key and ``fairdraw/2`` signed statements.

One key per instance (RFC 8032 Ed25519) signs what fairdraw says to the public: entry
receipts, entry proofs and the draw log's tree heads. A statement ``S`` is a JSON object
with a string ``type``; it is signed over ``label("fairdraw/2 " + S.type) || canonical(S)``,
so a signature over one type can never be read as another. Two statements signed by one
key that contradict each other are a proof without further trust. ``docs/fairness-v2.md``
("Signatures") is the specification.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from fairdraw.domain.errors import FairdrawError
from fairdraw.domain.proof import canonical_json
from fairdraw.i18n import N_

ALGORITHM: Final = "ed25519"
PUBLIC_KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64
_SIGNATURE_HEX: Final = re.compile(rf"[0-9a-f]{{{2 * SIGNATURE_BYTES}}}")
# label() takes ASCII; a NUL would end it early, so a type is printable ASCII.
_TYPE: Final = re.compile(r"[\x21-\x7e]+")
_LABEL_PREFIX: Final = "fairdraw/2 "


class SigningKeyError(FairdrawError):
    """The configured signing key file does not hold an Ed25519 private key."""

    code = "signing_key_invalid"
    title = N_("The signing key file is not an Ed25519 private key")


def key_id(public_key: bytes) -> str:
    """A public key's id: lowercase hex of sha256 of its 32 raw bytes."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError(f"an Ed25519 public key has {PUBLIC_KEY_BYTES} bytes")
    return hashlib.sha256(public_key).hexdigest()


def signed_message(statement: Mapping[str, Any]) -> bytes:
    """The bytes a statement's signature covers:
    ``"fairdraw/2 " + type || 0x00 || canonical(statement)``.

    Raises ValueError when the statement has no ``type`` of printable ASCII, TypeError
    when it is not JSON.
    """
    kind = statement.get("type")
    if not isinstance(kind, str) or not _TYPE.fullmatch(kind):
        raise ValueError("a statement has a 'type': a non-empty string of printable ASCII")
    return (_LABEL_PREFIX + kind).encode("ascii") + b"\x00" + canonical_json(statement)


def verify_statement(signed: Mapping[str, Any], public_key: bytes) -> bool:
    """Whether ``signed`` (``{"statement", "signature", ...}``) carries a valid signature
    of ``public_key`` over its statement. Other fields (a receipt's ``opening``) are not
    signed and not looked at. False for anything malformed; never raises."""
    try:
        statement = signed["statement"]
        signature = signed["signature"]
        if not isinstance(statement, Mapping) or not isinstance(signature, str):
            return False
        if not _SIGNATURE_HEX.fullmatch(signature) or len(public_key) != PUBLIC_KEY_BYTES:
            return False
        message = signed_message(statement)
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(
            bytes.fromhex(signature), message
        )
    except (InvalidSignature, KeyError, TypeError, ValueError, RecursionError):
        return False
    return True


class SigningKey:
    """The instance's Ed25519 private key. Its ``repr`` shows the key id only."""

    __slots__ = ("_private", "key_id", "public_key")

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_key: bytes = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id: str = key_id(self.public_key)

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.key_id!r})"

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh key from the operating system's CSPRNG."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        """The key in an unencrypted PKCS#8 PEM document (as :meth:`to_pem` writes it).

        Raises :class:`SigningKeyError` for anything that is not an Ed25519 private key.
        """
        try:
            private = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SigningKeyError("not an unencrypted PEM private key (PKCS#8, Ed25519)") from exc
        if not isinstance(private, Ed25519PrivateKey):
            raise SigningKeyError(
                f"the PEM holds a {type(private).__name__}, not an Ed25519 private key"
            )
        return cls(private)

    def to_pem(self) -> bytes:
        """The key as an unencrypted PKCS#8 PEM document (secret: keep it mode 0600)."""
        return self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def signer(self) -> dict[str, str]:
        """The public description of this key, as ``/.well-known/fairdraw-signing-key``
        serves it and a bundle's ``signer`` states it."""
        return {"algorithm": ALGORITHM, "public_key": self.public_key.hex(), "key_id": self.key_id}

    def sign_statement(self, statement: Mapping[str, Any]) -> dict[str, Any]:
        """``{"statement": statement, "signature": hex(Ed25519(signed_message(statement)))}``.

        The statement must have a string ``type`` (ValueError otherwise) and be JSON
        without floats (canonical JSON has none; ValueError otherwise).
        """
        statement = dict(statement)
        _reject_floats(statement)
        return self.sign_flat(statement)

    def sign_flat(self, statement: dict[str, str | int]) -> dict[str, Any]:
        """:meth:`sign_statement` of a statement of strings and integers only (a receipt),
        which holds no float by its type: signed as it is, neither copied nor walked."""
        signature = self._private.sign(signed_message(statement))
        return {"statement": statement, "signature": signature.hex()}


def _reject_floats(value: Any) -> None:
    """Canonical JSON has integers only: a float would not survive a verifier's parse."""
    if isinstance(value, float):
        raise ValueError("a statement holds no floats")
    if isinstance(value, Mapping):
        for item in value.values():
            _reject_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_floats(item)
