"""The drand randomness beacon a ``fairdraw/2`` draw binds: chains, rounds, verification.

A drand chain with scheme ``bls-unchained-g1-rfc9380`` (quicknet is the default) publishes
round ``R`` at ``genesis_time + (R - 1) * period``: a BLS signature by the chain's group
key over ``sha256(u64be(R))``, whose sha256 is the round's randomness. Nobody can know a
round's randomness before the League of Entropy's nodes sign it, and nobody can choose
it: the signature is unique for the pinned key. A draw binds the first round after its
seal (:func:`bound_round`), so the randomness did not exist when the entries were fixed.

The curve arithmetic (RFC 9380 hash-to-curve, point decoding with subgroup checks, the
pairing) is arkworks' through ``py_arkworks_bls12381``. Pure: no I/O, no clock.
``docs/fairness-v2.md`` ("The beacon") is the specification.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from py_arkworks_bls12381 import GT, G1Point, G2Point

SCHEME: Final = "bls-unchained-g1-rfc9380"
# RFC 9380 hash_to_curve to G1 with the "basic" (NUL) BLS ciphersuite's tag.
DST: Final = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
SIGNATURE_BYTES: Final = 48  # a compressed G1 point
PUBLIC_KEY_BYTES: Final = 96  # a compressed G2 point
RANDOMNESS_BYTES: Final = 32
_CHAIN_HASH: Final = re.compile(r"[0-9a-f]{64}")
_MAX_ROUND: Final = (1 << 64) - 1
_NEGATED_G2: Final = -G2Point()


class BeaconError(ValueError):
    """A chain, a round or a signature that is malformed or does not verify."""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_round(round: object) -> None:
    if not isinstance(round, int) or isinstance(round, bool) or not 1 <= round <= _MAX_ROUND:
        raise BeaconError(f"a round is a whole number from 1 to 2^64 - 1, got {round!r}")


def _strict_int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BeaconError(f"{name}: an integer, got {value!r}")
    return value


def _string(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise BeaconError(f"{name}: a string, got {value!r}")
    return value


def _hex(value: object, name: str, size: int) -> bytes:
    """``size`` bytes from exactly ``2 * size`` lowercase hex digits."""
    if not isinstance(value, str) or not re.fullmatch(rf"[0-9a-f]{{{2 * size}}}", value):
        raise BeaconError(f"{name}: {2 * size} lowercase hex digits ({size} bytes), got {value!r}")
    return bytes.fromhex(value)


@functools.lru_cache(maxsize=16)
def _public_key_point(public_key: bytes) -> G2Point:
    """The chain key as a G2 point: on the curve, in the subgroup, not the identity."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise BeaconError(
            f"a chain public key is {PUBLIC_KEY_BYTES} bytes (a compressed G2 point), "
            f"got {len(public_key)}"
        )
    try:
        point = G2Point.from_compressed_bytes(public_key)
    except ValueError as exc:
        raise BeaconError(f"the chain public key is not a G2 point of the group: {exc}") from exc
    if point == G2Point.identity() or point.to_compressed_bytes() != public_key:
        raise BeaconError("the chain public key is the identity or not canonically encoded")
    return point


@dataclass(frozen=True)
class Chain:
    """A drand chain fairdraw can bind: its hash (the relays' name for it), its group
    public key (96 bytes, compressed G2), its period and genesis time (Unix seconds) and
    its scheme, which must be ``bls-unchained-g1-rfc9380``. Raises BeaconError when any
    of these is malformed."""

    chain_hash: str
    public_key: bytes
    period: int
    genesis_time: int
    scheme: str

    def __post_init__(self) -> None:
        if not isinstance(self.chain_hash, str) or not _CHAIN_HASH.fullmatch(self.chain_hash):
            raise BeaconError(f"a chain hash is 64 lowercase hex digits, got {self.chain_hash!r}")
        if not isinstance(self.public_key, bytes):
            raise BeaconError("a chain public key is bytes")
        _public_key_point(self.public_key)
        if not _is_int(self.period) or self.period < 1:
            raise BeaconError(
                f"a chain period is a whole number of seconds ≥ 1, got {self.period!r}"
            )
        if not _is_int(self.genesis_time) or self.genesis_time < 0:
            raise BeaconError(
                f"a chain genesis time is Unix seconds ≥ 0, got {self.genesis_time!r}"
            )
        if self.scheme != SCHEME:
            raise BeaconError(
                f"unsupported beacon scheme {self.scheme!r}: fairdraw verifies {SCHEME}"
            )

    def round_time(self, round: int) -> int:
        """When round ``round`` (≥ 1) is published: ``genesis_time + (round - 1) * period``."""
        _check_round(round)
        return self.genesis_time + (round - 1) * self.period

    def round_at(self, t: int) -> int:
        """The latest round published at Unix second ``t`` or before (round 1 at genesis);
        0 before genesis, when there is none."""
        if t < self.genesis_time:
            return 0
        return (t - self.genesis_time) // self.period + 1

    def to_json(self) -> dict[str, Any]:
        """The chain as JSON: ``chain_hash, public_key (hex), period, genesis_time, scheme``."""
        return {
            "chain_hash": self.chain_hash,
            "public_key": self.public_key.hex(),
            "period": self.period,
            "genesis_time": self.genesis_time,
            "scheme": self.scheme,
        }

    @classmethod
    def from_json(cls, value: Any) -> Chain:
        """A chain from :meth:`to_json`'s object, or from a drand relay's ``/info`` answer
        (``hash``, ``public_key``, ``period``, ``genesis_time``, ``schemeID``). Other
        fields (``groupHash``, ``metadata``, ...) are ignored; a field given under both
        names must agree. Raises BeaconError."""
        if not isinstance(value, Mapping):
            raise BeaconError("chain info is a JSON object")
        fields = {
            name: _field_by_any_name(value, names) for name, names in _CHAIN_FIELD_NAMES.items()
        }
        return cls(
            chain_hash=_string(fields["chain_hash"], "chain_hash"),
            public_key=_hex(fields["public_key"], "public_key", PUBLIC_KEY_BYTES),
            period=fields["period"],
            genesis_time=fields["genesis_time"],
            scheme=_string(fields["scheme"], "scheme"),
        )


_CHAIN_FIELD_NAMES: Final = {
    "chain_hash": ("chain_hash", "hash"),
    "public_key": ("public_key",),
    "period": ("period",),
    "genesis_time": ("genesis_time",),
    "scheme": ("scheme", "schemeID"),
}

QUICKNET: Final = Chain(
    chain_hash="52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
    public_key=bytes.fromhex(
        "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c"
        "8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb"
        "5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a"
    ),
    period=3,
    genesis_time=1692803367,
    scheme=SCHEME,
)


def bound_round(chain: Chain, sealed_ms: int, margin_s: int) -> int:
    """The round a draw sealed at ``sealed_ms`` (epoch ms) binds:
    ``round_at(floor(sealed_ms / 1000) + margin_s) + 1``, the first round published more
    than ``margin_s`` seconds after the seal."""
    if not _is_int(sealed_ms) or sealed_ms < 0:
        raise ValueError(f"a seal time is epoch milliseconds ≥ 0, got {sealed_ms!r}")
    if not _is_int(margin_s) or margin_s < 0:
        raise ValueError(f"a margin is whole seconds ≥ 0, got {margin_s!r}")
    return chain.round_at(sealed_ms // 1000 + margin_s) + 1


def round_message(round: int) -> bytes:
    """What the chain signs for round ``round``: ``sha256(u64be(round))``."""
    _check_round(round)
    return hashlib.sha256(round.to_bytes(8, "big")).digest()


def verify_round(chain: Chain, round: int, signature: bytes) -> bytes:
    """The randomness of round ``round`` (``sha256(signature)``, 32 bytes) if
    ``signature`` is the chain's signature of it; BeaconError otherwise.

    Valid means: 48 bytes, the canonical compressed encoding of a G1 point in the
    prime-order subgroup other than the identity, and ``e(sig, g2) = e(H(msg), pk)``
    with ``H`` the RFC 9380 hash to G1 under :data:`DST`.
    """
    message = round_message(round)
    point = _signature_point(round, signature)
    hashed = G1Point.hash_to_curve(message, DST)
    if not GT.pairing_check([point, hashed], [_NEGATED_G2, _public_key_point(chain.public_key)]):
        raise BeaconError(
            f"round {round}: the signature does not verify under the public key of chain "
            f"{chain.chain_hash}"
        )
    return hashlib.sha256(signature).digest()


def _signature_point(round: int, signature: bytes) -> G1Point:
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_BYTES:
        size = len(signature) if isinstance(signature, bytes) else type(signature).__name__
        raise BeaconError(
            f"round {round}: a signature is {SIGNATURE_BYTES} bytes (a compressed G1 point), "
            f"got {size}"
        )
    try:
        point = G1Point.from_compressed_bytes(signature)
    except ValueError as exc:
        raise BeaconError(
            f"round {round}: the signature is not a point of the G1 subgroup: {exc}"
        ) from exc
    # The decoder tolerates junk after an identity flag; only one encoding per point is valid.
    if point == G1Point.identity() or point.to_compressed_bytes() != signature:
        raise BeaconError(
            f"round {round}: the signature is the identity or not canonically encoded"
        )
    return point


def iso_seconds(unix_seconds: int) -> str:
    """Unix seconds as ISO-8601 UTC to the second, e.g. ``2026-12-06T22:00:03Z``."""
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class BeaconRound:
    """One round of a chain: its number, signature (48 bytes) and randomness
    (``sha256(signature)``). Construction checks the shapes and that the randomness is
    the signature's hash; :meth:`verified` also checks the BLS signature."""

    chain: Chain
    round: int
    signature: bytes
    randomness: bytes

    def __post_init__(self) -> None:
        _check_round(self.round)
        if not isinstance(self.signature, bytes) or len(self.signature) != SIGNATURE_BYTES:
            raise BeaconError(f"a round's signature is {SIGNATURE_BYTES} bytes")
        if self.randomness != hashlib.sha256(self.signature).digest():
            raise BeaconError(f"round {self.round}: the randomness is not sha256(signature)")

    @classmethod
    def verified(cls, chain: Chain, round: int, signature: bytes) -> BeaconRound:
        """Round ``round`` of ``chain`` after :func:`verify_round` accepted ``signature``."""
        return cls(chain, round, signature, verify_round(chain, round, signature))

    @property
    def round_time(self) -> int:
        """When this round was published, Unix seconds."""
        return self.chain.round_time(self.round)

    def to_json(self) -> dict[str, Any]:
        """The bundle's ``beacon`` object."""
        return {
            **self.chain.to_json(),
            "round": self.round,
            "round_time": iso_seconds(self.round_time),
            "signature": self.signature.hex(),
            "randomness": self.randomness.hex(),
        }

    @classmethod
    def from_json(cls, value: Any) -> BeaconRound:
        """A bundle's ``beacon`` object, read strictly: exactly :meth:`to_json`'s fields,
        each of its type, a valid chain, ``round_time`` equal to the chain's time of
        ``round`` and ``randomness`` equal to ``sha256(signature)``. The BLS signature
        itself is not checked here (:func:`verify_round`). Raises BeaconError."""
        if not isinstance(value, Mapping):
            raise BeaconError("beacon: not a JSON object")
        missing = sorted(_ROUND_FIELDS - value.keys())
        extra = sorted(value.keys() - _ROUND_FIELDS)
        if missing or extra:
            raise BeaconError(f"beacon: missing fields {missing}, unknown fields {extra}")
        chain = Chain(
            chain_hash=_string(value["chain_hash"], "beacon.chain_hash"),
            public_key=_hex(value["public_key"], "beacon.public_key", PUBLIC_KEY_BYTES),
            period=_strict_int(value["period"], "beacon.period"),
            genesis_time=_strict_int(value["genesis_time"], "beacon.genesis_time"),
            scheme=_string(value["scheme"], "beacon.scheme"),
        )
        round = _strict_int(value["round"], "beacon.round")
        _check_round(round)
        expected_time = iso_seconds(chain.round_time(round))
        if value["round_time"] != expected_time:
            raise BeaconError(
                f"beacon.round_time: round {round} of this chain is at {expected_time}, "
                f"not {value['round_time']!r}"
            )
        signature = _hex(value["signature"], "beacon.signature", SIGNATURE_BYTES)
        randomness = _hex(value["randomness"], "beacon.randomness", RANDOMNESS_BYTES)
        return cls(chain, round, signature, randomness)


_ROUND_FIELDS: Final = frozenset(
    {
        "chain_hash",
        "public_key",
        "scheme",
        "period",
        "genesis_time",
        "round",
        "round_time",
        "signature",
        "randomness",
    }
)


def _field_by_any_name(value: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    present = [name for name in names if name in value]
    if not present:
        raise BeaconError(f"chain info has no {' or '.join(names)}")
    first = value[present[0]]
    for other in present[1:]:
        if value[other] != first:
            raise BeaconError(f"chain info: {present[0]} and {other} differ")
    return first
