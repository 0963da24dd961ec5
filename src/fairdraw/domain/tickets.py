"""Raffle tickets: a keyed permutation of ticket numbers, and verification codes.

A raffle of N tickets hands them out in an unpredictable order without storing anything
per ticket: claim ``k`` (0-based) gets ticket ``1 + perm(k)``, where ``perm`` is a keyed
pseudorandom permutation of ``[0, N)``; a ticket is traced back to its claim with
``perm⁻¹(number - 1)``. ``docs/fairness.md`` ("Raffle ticket numbers") specifies both
parts with test vectors; change neither without the other. Changing the permutation would
renumber every ticket of every existing raffle, so it is fixed once raffles exist.

The permutation, byte for byte, for a key ``K`` (bytes) and a size ``1 <= N <= 10^9``:

- ``h = max(1, ceil(bitlen(N - 1) / 2))``: the smallest ``h >= 1`` with ``4^h >= N``;
  the Feistel network permutes ``[0, 2^(2h))``, split into two ``h``-bit halves.
- Round function, for round ``r`` in ``0..9`` and a half ``x`` (``0 <= x < 2^h``)::

      F(r, x) = u32be( HMAC-SHA256(K, u8(r) || u32be(x))[0:4] ) mod 2^h

  ``u8``/``u32be`` are 1- and 4-byte big-endian unsigned integers: the message is 5 bytes.
- One encryption ``E(v)``, ``0 <= v < 2^(2h)``: ``L = v >> h``, ``R = v mod 2^h``; for
  ``r = 0..9``: ``(L, R) = (R, L xor F(r, R))``; the result is ``L * 2^h + R``.
- ``perm(k)``: ``v = E(k)``, repeated (``v = E(v)``) while ``v >= N`` (cycle walking).
  ``E`` is a bijection of ``[0, 2^(2h))``, so the walk always returns to ``[0, N)`` and
  ``perm`` is a bijection of ``[0, N)``. Because ``2^(2h) < 4N`` (for ``N >= 2``), the
  average walk over all ``k`` is below 4 passes of ``E``.
- ``perm⁻¹`` walks the decryption ``D``: ``(L, R) = (R xor F(r, L), L)`` for ``r = 9..0``.

Verification codes are 16 random bytes (128 bits), written as 26 characters of the RFC 4648
base32 alphabet (``A-Z``, ``2-7``, no padding) in five groups of 5-5-5-5-6, for example
``AAAQE-AYEAU-DAOCA-JBIFQ-YDIOB4``. Only ``HMAC-SHA256(server secret, code bytes)`` is
stored; a fast keyed hash suits a 128-bit random secret, which cannot be guessed anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Final

from fairdraw.domain.errors import InvalidInput
from fairdraw.i18n import N_, Message

if TYPE_CHECKING:
    from hashlib import _Hash as HashState

MAX_TICKETS: Final = 10**9
KEY_BYTES: Final = 32
ROUNDS: Final = 10
CODE_BYTES: Final = 16
CODE_CHARS: Final = 26
CODE_GROUPS: Final = (5, 5, 5, 5, 6)

_MIN_KEY_BYTES = 16
_HMAC_BLOCK = 64  # SHA-256's block size, which RFC 2104 pads the key to
# XOR with RFC 2104's ipad and opad bytes, as bytes.translate tables.
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
_ROUND_BYTES = tuple(r.to_bytes(1, "big") for r in range(ROUNDS))
_CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# 26 characters carry 130 bits: the last character's two low bits are zero padding.
_CODE_PAD_BITS = CODE_CHARS * 5 - CODE_BYTES * 8
_CODE_SEPARATORS = frozenset(" \t\r\n-")
# Anything longer is not a mistyped code; checked before any per-character work.
CODE_TEXT_MAX: Final = 100


def new_permutation_key() -> bytes:
    """A fresh 32-byte per-raffle secret from the operating system's CSPRNG."""
    return secrets.token_bytes(KEY_BYTES)


def _absorbed(state: HashState, data: bytes) -> HashState:
    """A copy of ``state`` that has also absorbed ``data``."""
    copy = state.copy()
    copy.update(data)
    return copy


def _half_bits(size: int) -> int:
    """The smallest ``h >= 1`` with ``2^(2h) >= size``."""
    return max(1, ((size - 1).bit_length() + 1) // 2)


class TicketPermutation:
    """The keyed pseudorandom permutation of ``[0, size)`` of one raffle.

    A 10-round balanced Feistel network with HMAC-SHA256 round functions, made to fit
    ``size`` exactly by cycle walking; the module docstring gives its exact definition.
    Construction does a constant amount of work whatever the size. The key is not kept
    in a readable attribute.
    """

    __slots__ = ("_half", "_mask", "_outer", "_rounds", "_size")

    def __init__(self, key: bytes, size: int) -> None:
        if not 1 <= size <= MAX_TICKETS:
            raise ValueError(f"a raffle has 1 to {MAX_TICKETS} tickets, got {size}")
        if len(key) < _MIN_KEY_BYTES:
            raise ValueError(f"the permutation key must have at least {_MIN_KEY_BYTES} bytes")
        self._size = size
        self._half = _half_bits(size)
        self._mask = (1 << self._half) - 1
        # HMAC (RFC 2104) precomputed: SHA-256 states that have absorbed the padded key,
        # the inner ones also the round byte. Copying two plain hash states is about twice
        # as fast as copying an OpenSSL HMAC context, and the round function dominates.
        if len(key) > _HMAC_BLOCK:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(_HMAC_BLOCK, b"\x00")
        inner = hashlib.sha256(padded.translate(_IPAD))
        self._outer = hashlib.sha256(padded.translate(_OPAD))
        self._rounds = tuple(_absorbed(inner, r) for r in _ROUND_BYTES)

    @property
    def size(self) -> int:
        """The number of values permuted: ``[0, size)``."""
        return self._size

    def forward(self, index: int) -> int:
        """``perm(index)`` for ``index`` in ``[0, size)``; ValueError outside it."""
        size = self._size
        if not 0 <= index < size:
            raise ValueError(f"index {index} is outside [0, {size})")
        value = self._encrypt(index)
        while value >= size:
            value = self._encrypt(value)
        return value

    def inverse(self, value: int) -> int:
        """``perm⁻¹(value)`` for ``value`` in ``[0, size)``; ValueError outside it."""
        size = self._size
        if not 0 <= value < size:
            raise ValueError(f"value {value} is outside [0, {size})")
        index = self._decrypt(value)
        while index >= size:
            index = self._decrypt(index)
        return index

    # u32be(digest[0:4]) mod 2^h needs only bytes 2 and 3 while h <= 16; MAX_TICKETS keeps
    # h <= 15, and the tests hold this to the definition at MAX_TICKETS.
    def _encrypt(self, value: int) -> int:
        half, mask, outer = self._half, self._mask, self._outer
        left, right = value >> half, value & mask
        for state in self._rounds:
            inner = state.copy()
            inner.update(right.to_bytes(4, "big"))
            mac = outer.copy()
            mac.update(inner.digest())
            digest = mac.digest()
            left, right = right, left ^ (((digest[2] << 8) | digest[3]) & mask)
        return (left << half) | right

    def _decrypt(self, value: int) -> int:
        half, mask, outer = self._half, self._mask, self._outer
        left, right = value >> half, value & mask
        for state in reversed(self._rounds):
            inner = state.copy()
            inner.update(left.to_bytes(4, "big"))
            mac = outer.copy()
            mac.update(inner.digest())
            digest = mac.digest()
            left, right = right ^ (((digest[2] << 8) | digest[3]) & mask), left
        return (left << half) | right


def ticket_number(perm: TicketPermutation, claim_index: int) -> int:
    """The ticket number (1..size) handed out by claim ``claim_index`` (0-based)."""
    return 1 + perm.forward(claim_index)


def claim_index(perm: TicketPermutation, number: int) -> int:
    """The 0-based claim that received ticket ``number``; ValueError unless 1..size."""
    if not 1 <= number <= perm.size:
        raise ValueError(f"ticket number {number} is outside 1..{perm.size}")
    return perm.inverse(number - 1)


# -- verification codes ---------------------------------------------------------------------

_CODE_VALUES: Final[dict[str, int]] = {
    **{c: v for v, c in enumerate(_CODE_ALPHABET)},
    **{c.lower(): v for v, c in enumerate(_CODE_ALPHABET) if c.isalpha()},
    # Digits the alphabet leaves out, read as the letters they resemble; never ambiguous.
    **{d: _CODE_ALPHABET.index(c) for d, c in (("0", "O"), ("1", "I"), ("8", "B"))},
}


def format_code(code: bytes) -> str:
    """The 16 bytes of ``code`` as grouped base32, e.g. ``AAAQE-AYEAU-DAOCA-JBIFQ-YDIOB4``."""
    if len(code) != CODE_BYTES:
        raise ValueError(f"a verification code has {CODE_BYTES} bytes, got {len(code)}")
    bits = int.from_bytes(code, "big") << _CODE_PAD_BITS
    chars = [_CODE_ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(CODE_CHARS))]
    groups: list[str] = []
    start = 0
    for length in CODE_GROUPS:
        groups.append("".join(chars[start : start + length]))
        start += length
    return "-".join(groups)


def new_code() -> str:
    """A fresh verification code: 128 random bits as grouped base32 (5-5-5-5-6).

    Shown once to its holder; :func:`parse_code` reads it back, :func:`code_hash` is what
    is stored.
    """
    return format_code(secrets.token_bytes(CODE_BYTES))


def parse_code(text: str) -> bytes:
    """The 16 bytes of a verification code typed by a person.

    Letters of either case; spaces, tabs, line breaks and hyphens are ignored wherever
    they are; ``0``, ``1`` and ``8`` are read as ``O``, ``I`` and ``B``. Anything that is
    not exactly 26 such characters encoding 128 bits raises ``InvalidInput({"code": ...})``.
    """
    wrong_length = Message(
        N_("a verification code has %(count)s letters and digits"), count=CODE_CHARS
    )
    if len(text) > CODE_TEXT_MAX:
        raise InvalidInput({"code": wrong_length})
    bits = 0
    count = 0
    for char in text:
        value = _CODE_VALUES.get(char)
        if value is None:
            if char in _CODE_SEPARATORS:
                continue
            raise InvalidInput(
                {"code": N_("a verification code has only the letters A-Z and the digits 2-7")}
            )
        bits = (bits << 5) | value
        count += 1
    if count != CODE_CHARS:
        raise InvalidInput({"code": wrong_length})
    if bits & ((1 << _CODE_PAD_BITS) - 1):
        raise InvalidInput(
            {"code": N_("the last character of a verification code is A, E, I, M, Q, U, Y or 4")}
        )
    return (bits >> _CODE_PAD_BITS).to_bytes(CODE_BYTES, "big")


def code_hash(secret: bytes, code: bytes) -> str:
    """What the store keeps of a code: lowercase hex of HMAC-SHA256(secret, code bytes)."""
    if not secret:
        raise ValueError("the server secret must not be empty")
    if len(code) != CODE_BYTES:
        raise ValueError(f"a verification code has {CODE_BYTES} bytes, got {len(code)}")
    return hmac.digest(secret, code, "sha256").hex()


def code_matches(secret: bytes, code: bytes, stored_hash: str) -> bool:
    """Whether ``code`` is the one whose :func:`code_hash` is ``stored_hash``, compared in
    constant time."""
    expected = code_hash(secret, code).encode("ascii")
    return hmac.compare_digest(expected, stored_hash.encode("utf-8", "replace"))


def ticket_numbers(key: bytes, size: int, start: int, stop: int) -> list[int]:
    """The ticket numbers of claims ``start .. stop-1`` of a raffle of ``size`` tickets
    whose permutation key is ``key``."""
    perm = TicketPermutation(key, size)
    return [1 + perm.forward(index) for index in range(start, stop)]
