"""The ``fairdraw/1`` selection algorithm: ledger commitments, the random stream, winners.

Everything here is deterministic given its arguments, except the two generators of
secrets (:func:`new_seed`, :func:`new_salt`). ``docs/fairness.md`` is the specification
this module implements, byte for byte; change neither without the other, and never change
``fairdraw/1`` itself (published proofs must stay verifiable) — add ``fairdraw/2``.

Pipeline::

    identities ──entry_ref(salt)──▶ refs ──merkle_root──▶ root (the seal)
    root + seed (+ beacon) ──stream_key──▶ RandomStream ──partial Fisher-Yates──▶ picks
    picks ──select_winners(prize slots, alternates, owners)──▶ Outcome
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

ALGORITHM = "fairdraw/1"
ALGORITHM_V2 = "fairdraw/2"
ALGORITHMS = (ALGORITHM, ALGORITHM_V2)
SEED_BYTES = 32
NONCE_BYTES = 16
SALT_BYTES = 32
REF_BYTES = 16
_HASH_BYTES = 32
WORD_SPACE = 1 << 64

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_STREAM_LABEL = b"stream"
_WORDS_PER_BLOCK = 4
# Leaves are hashed a chunk at a time (a power of two, so every full chunk is a complete
# subtree): memory stays O(chunk + log n) however large the ledger is.
# Leaves hashed per chunk: a complete subtree, so chunks can be hashed independently.
CHUNK_LEAVES = 1 << 16


def new_seed() -> bytes:
    """A fresh 32-byte draw seed from the operating system's CSPRNG."""
    return secrets.token_bytes(SEED_BYTES)


def new_salt() -> bytes:
    """A fresh 32-byte per-draw secret that keys the entries' public references."""
    return secrets.token_bytes(SALT_BYTES)


def new_ballot_ref() -> str:
    """A fresh public reference for one lottery ballot: 16 random bytes as 32 hex
    characters. Random, so that a participant's ballots cannot be linked to each other."""
    return secrets.token_bytes(REF_BYTES).hex()


def commitment(seed: bytes) -> str:
    """The public commitment to ``seed``: lowercase hex of sha256(seed)."""
    return hashlib.sha256(seed).hexdigest()


def entry_ref(salt: bytes, identity: str) -> str:
    """An entry's public reference: the first 16 bytes of HMAC-SHA256(salt, identity),
    as 32 lowercase hex characters. It reveals nothing about the identity without the salt.
    """
    return hmac.digest(salt, identity.encode("utf-8"), "sha256")[:REF_BYTES].hex()


# -- fairdraw/2 references: commitments that an opening binds to one identity ------------

_ENTRY_LABEL = b"fairdraw/2 entry\x00"
_NONCE_LABEL = b"fairdraw/2 nonce\x00"
_CODE_LABEL = b"fairdraw/2 code\x00"


def entry_nonce(salt: bytes, identity: str) -> bytes:
    """The secret 16-byte nonce of ``identity``'s entry in a draw keyed by ``salt``:
    HMAC-SHA256(salt, "fairdraw/2 nonce" || 0x00 || identity)[0:16]. Derived, so nothing
    per entry is stored; secret, because the salt is. Not part of what verifiers check:
    any secret nonce would do."""
    return hmac.digest(salt, _NONCE_LABEL + identity.encode("utf-8"), "sha256")[:NONCE_BYTES]


_BALLOT_NONCE_LABEL = b"fairdraw/2 ballot nonce\x00"


def ballot_nonce(salt: bytes, identity: str, index: int) -> bytes:
    """The secret 16-byte nonce of ballot ``index`` (its place in the round's ledger) of
    ``identity`` in a round keyed by ``salt``: HMAC-SHA256(salt, "fairdraw/2 ballot
    nonce" || 0x00 || decimal(index) || 0x00 || identity)[0:16]. Derived, so nothing per
    ballot is stored; a participant's ballots are not linked to each other without the
    salt. Not part of what verifiers check."""
    message = _BALLOT_NONCE_LABEL + f"{index}\x00{identity}".encode()
    return hmac.digest(salt, message, "sha256")[:NONCE_BYTES]


def ballot_ref(salt: bytes, identity: str, index: int) -> str:
    """A fairdraw/1 lottery ballot's public ref (32 hex digits, as random as the salt):
    HMAC-SHA256(salt, "fairdraw/1 ballot" || 0x00 || decimal(index) || 0x00 ||
    identity)[0:16]. Derived, so nothing per ballot is stored."""
    message = b"fairdraw/1 ballot\x00" + f"{index}\x00{identity}".encode()
    return hmac.digest(salt, message, "sha256")[:REF_BYTES].hex()


def new_nonce() -> bytes:
    """A fresh 16-byte nonce from the OS CSPRNG (one lottery ballot's)."""
    return secrets.token_bytes(NONCE_BYTES)


def entry_ref_v2(identity: str, nonce: bytes) -> str:
    """A ``fairdraw/2`` entry reference: lowercase hex of
    sha256("fairdraw/2 entry" || 0x00 || nonce || UTF-8(identity)), 64 characters.

    The opening ``(identity, nonce)`` shows whose entry it is; without the nonce the
    reference says nothing about the identity.
    """
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"a nonce has {NONCE_BYTES} bytes, got {len(nonce)}")
    return hashlib.sha256(_ENTRY_LABEL + nonce + identity.encode("utf-8")).hexdigest()


def code_commitment(code: bytes) -> str:
    """The public commitment to a raffle ticket's 16-byte verification code:
    lowercase hex of sha256("fairdraw/2 code" || 0x00 || code)."""
    return hashlib.sha256(_CODE_LABEL + code).hexdigest()


def raffle_ref_v2(ticket: int, commitment_hex: str) -> str:
    """A ``fairdraw/2`` raffle claim's reference: ``"{ticket}:{code commitment}"``."""
    return f"{ticket}:{commitment_hex}"


# -- the ledger's Merkle tree (RFC 6962) --------------------------------------------------


def leaf_hash(index: int, ref: str) -> bytes:
    """sha256(0x00 || UTF-8 of ``f"{index}\\t{ref}"``): the tree leaf of one entry."""
    if index < 0:
        raise ValueError(f"entry index must be >= 0, got {index}")
    return hashlib.sha256(_LEAF_PREFIX + f"{index}\t{ref}".encode()).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """sha256(0x01 || left || right): an interior node of the tree."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _complete_root(level: list[bytes]) -> bytes:
    """Root over non-empty ``level`` by bottom-up pairing, the odd last node carried up
    unchanged: equal to RFC 6962's split at the largest power of two below the size."""
    sha = hashlib.sha256
    while len(level) > 1:
        carried = level[-1] if len(level) & 1 else None
        pairs = iter(level)
        level = [sha(b"\x01%b%b" % pair).digest() for pair in zip(pairs, pairs, strict=False)]
        if carried is not None:
            level.append(carried)
    return level[0]


def chunk_root(start: int, chunk: Sequence[str]) -> bytes:
    """Root over the leaves of entries ``start .. start+len(chunk)-1`` (non-empty).

    With ``start`` a multiple of :data:`CHUNK_LEAVES` and a full chunk, this is a complete
    subtree of the ledger's Merkle tree; chunks are independent, so they can be hashed in
    parallel and joined by :func:`join_chunk_roots`.
    """
    sha = hashlib.sha256
    leaves = [sha(f"\x00{i}\t{ref}".encode()).digest() for i, ref in enumerate(chunk, start)]
    return _complete_root(leaves)


def chunk_starts(count: int) -> range:
    """Where the chunks of a ledger of ``count`` entries start."""
    return range(0, count, CHUNK_LEAVES)


def join_chunk_roots(roots: Sequence[bytes], count: int) -> bytes:
    """The ledger's root from :func:`chunk_root` of each of its chunks, in order."""
    if count == 0:
        return hashlib.sha256(b"").digest()
    # (height, hash) of complete subtrees, left to right, strictly decreasing heights.
    stack: list[tuple[int, bytes]] = []
    tail: bytes | None = None
    full_height = CHUNK_LEAVES.bit_length() - 1
    for start, root in zip(chunk_starts(count), roots, strict=True):
        if count - start < CHUNK_LEAVES:
            tail = root  # only the last chunk can be short
            break
        height = full_height
        while stack and stack[-1][0] == height:
            root = node_hash(stack.pop()[1], root)
            height += 1
        stack.append((height, root))
    # RFC 6962 nests the remaining subtrees to the right: h(T1, h(T2, ... h(Tk, tail))).
    acc = tail
    for _, subtree in reversed(stack):
        acc = subtree if acc is None else node_hash(subtree, acc)
    assert acc is not None
    return acc


def _range_root(refs: Sequence[str], start: int, stop: int) -> bytes:
    """RFC 6962 Merkle tree hash of the leaves for indexes ``start..stop-1``."""
    if stop <= start:
        return hashlib.sha256(b"").digest()
    if start == 0:
        roots = [
            chunk_root(lo, refs[lo : min(lo + CHUNK_LEAVES, stop)]) for lo in chunk_starts(stop)
        ]
        return join_chunk_roots(roots, stop)
    # Inner ranges (inclusion proofs) are not chunk-aligned: hash them directly.
    return chunk_root(start, refs[start:stop])


def merkle_root(refs: Sequence[str]) -> bytes:
    """RFC 6962 Merkle tree hash over the leaves ``leaf_hash(i, refs[i])``.

    The empty ledger's root is sha256(b"").
    """
    return _range_root(refs, 0, len(refs))


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(refs: Sequence[str], index: int) -> list[bytes]:
    """RFC 6962 audit path of entry ``index``: sibling hashes from the leaf up to the root."""
    if not 0 <= index < len(refs):
        raise ValueError(f"entry index {index} is outside the ledger of {len(refs)} entries")
    path: list[bytes] = []
    lo, hi = 0, len(refs)
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            path.append(_range_root(refs, mid, hi))
            hi = mid
        else:
            path.append(_range_root(refs, lo, mid))
            lo = mid
    path.reverse()
    return path


def verify_inclusion(
    index: int, ref: str, entry_count: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows entry ``(index, ref)`` in the ledger of ``entry_count``
    entries with ``root`` (RFC 9162, section 2.1.3.2)."""
    if not 0 <= index < entry_count:
        return False
    fn, sn = index, entry_count - 1
    acc = leaf_hash(index, ref)
    for sibling in proof:
        if sn == 0 or len(sibling) != _HASH_BYTES:
            return False
        if fn & 1 or fn == sn:
            acc = node_hash(sibling, acc)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            acc = node_hash(acc, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(acc, root)


# -- randomness ----------------------------------------------------------------------------


def stream_key(root: bytes, seed: bytes, beacon: bytes = b"") -> bytes:
    """sha256(b"fairdraw/1" || root || beacon || seed): the key of the draw's stream."""
    return hashlib.sha256(ALGORITHM.encode() + root + beacon + seed).digest()


def stream_key_v2(root: bytes, entry_count: int, seed: bytes, beacon: bytes | None) -> bytes:
    """The ``fairdraw/2`` stream key: sha256("fairdraw/2" || 0x00 || root ||
    u64be(entry_count) || randomness || seed), where ``randomness`` is the beacon round's
    32 bytes, or nothing for a draw without a beacon (``None``)."""
    if beacon is not None and len(beacon) != _HASH_BYTES:
        raise ValueError(f"beacon randomness has {_HASH_BYTES} bytes, got {len(beacon)}")
    message = b"".join(
        [
            ALGORITHM_V2.encode(),
            b"\x00",
            root,
            entry_count.to_bytes(8, "big"),
            beacon or b"",
            seed,
        ]
    )
    return hashlib.sha256(message).digest()


class RandomStream:
    """The deterministic stream of 64-bit words of one draw.

    ``block_j = HMAC-SHA256(key, b"stream" || u64be(j))`` for j = 0, 1, 2, …; the words
    are consecutive 8-byte big-endian slices of the blocks, consumed in order.
    """

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._block_index = 0
        self._pending: list[int] = []
        self._words_used = 0

    @property
    def words_used(self) -> int:
        """How many 64-bit words have been consumed so far."""
        return self._words_used

    def next_u64(self) -> int:
        """The next word, an integer in [0, 2^64)."""
        if not self._pending:
            message = _STREAM_LABEL + self._block_index.to_bytes(8, "big")
            block = hmac.digest(self._key, message, "sha256")
            self._block_index += 1
            # Reversed so that pop() hands the words out front to back.
            self._pending = [
                int.from_bytes(block[at : at + 8], "big")
                for at in range(8 * (_WORDS_PER_BLOCK - 1), -1, -8)
            ]
        self._words_used += 1
        return self._pending.pop()

    def uniform(self, m: int) -> int:
        """An unbiased integer in [0, m), 1 <= m <= 2^64, by rejection sampling: words
        u >= 2^64 - (2^64 mod m) are discarded. Always consumes at least one word."""
        if not 1 <= m <= WORD_SPACE:
            raise ValueError(f"uniform() needs 1 <= m <= 2**64, got {m}")
        limit = WORD_SPACE - WORD_SPACE % m
        while True:
            word = self.next_u64()
            if word < limit:
                return word % m


def _fisher_yates(n: int, stream: RandomStream) -> Iterator[int]:
    """Successive picks of a partial Fisher-Yates shuffle of the virtual array [0, n).

    Only swapped positions are stored, and position r is dropped once it is final, so
    memory is O(picks taken) however large n is.
    """
    moved: dict[int, int] = {}
    for r in range(n):
        j = r + stream.uniform(n - r)
        at_r = moved.pop(r, r)
        if j == r:
            yield at_r
        else:
            at_j = moved.get(j, j)
            moved[j] = at_r
            yield at_j


def shuffle_prefix(n: int, k: int, stream: RandomStream) -> list[int]:
    """Positions 0..k-1 of [0, n) after a partial Fisher-Yates shuffle: for r = 0..k-1,
    swap position r with r + uniform(n - r)."""
    if not 0 <= k <= n:
        raise ValueError(f"shuffle_prefix needs 0 <= k <= n, got n={n}, k={k}")
    return list(islice(_fisher_yates(n, stream), k))


# -- winners -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Winner:
    """Prize slot ``slot`` (its prize named ``prize``) went to ledger entry ``index``."""

    slot: int
    prize: str
    index: int


@dataclass(frozen=True)
class Outcome:
    """The result of a draw: winners in slot order, ordered alternates (entry indexes),
    and the prize names of slots left without a winner, in slot order."""

    winners: tuple[Winner, ...]
    alternates: tuple[int, ...]
    unawarded: tuple[str, ...]


def prize_slots(prizes: Sequence[tuple[str, int]]) -> list[str]:
    """The prize slots: prizes in listed order, each repeated by its quantity."""
    slots: list[str] = []
    for name, quantity in prizes:
        if quantity < 0:
            raise ValueError(f"prize {name!r} has a negative quantity ({quantity})")
        slots.extend([name] * quantity)
    return slots


def select_winners(
    root: bytes,
    seed: bytes,
    entry_count: int,
    prizes: Sequence[tuple[str, int]],
    alternates: int,
    owners: Sequence[str] | None = None,
    beacon: bytes = b"",
    key: bytes | None = None,
) -> Outcome:
    """Select the winners and alternates of a sealed draw.

    Picks come from one partial Fisher-Yates shuffle of [0, entry_count) driven by
    ``RandomStream(stream_key(root, seed, beacon))`` — or by ``RandomStream(key)`` when
    ``key`` is given (``fairdraw/2``: :func:`stream_key_v2`). Slot r gets the r-th accepted pick;
    the next ``alternates`` accepted picks are the alternates, in order. With ``owners``
    (``owners[i]`` owns entry i), a pick whose owner already won or is already an
    alternate is skipped: it uses up the pick and nothing else. Picking stops when every
    slot and alternate is filled or the entries run out.
    """
    if entry_count < 0:
        raise ValueError(f"entry_count must be >= 0, got {entry_count}")
    if alternates < 0:
        raise ValueError(f"alternates must be >= 0, got {alternates}")
    if owners is not None and len(owners) != entry_count:
        raise ValueError(f"owners has {len(owners)} items for {entry_count} entries")
    slots = prize_slots(prizes)
    wanted = len(slots) + alternates
    if key is None:
        key = stream_key(root, seed, beacon)
    picks = _fisher_yates(entry_count, RandomStream(key))
    chosen: list[int] = []
    seen_owners: set[str] = set()
    # Checking the count before drawing keeps the stream from advancing past the last use.
    while len(chosen) < wanted:
        index = next(picks, None)
        if index is None:
            break
        if owners is not None:
            if owners[index] in seen_owners:
                continue
            seen_owners.add(owners[index])
        chosen.append(index)
    awarded = chosen[: len(slots)]
    return Outcome(
        winners=tuple(Winner(r, slots[r], index) for r, index in enumerate(awarded)),
        alternates=tuple(chosen[len(slots) :]),
        unawarded=tuple(slots[len(awarded) :]),
    )
