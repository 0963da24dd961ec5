"""fairdraw/1 selection: test vectors, the Merkle tree, the stream, uniformity, edge cases.

The slow ``reference_*`` functions restate the specification (docs/fairness.md) as
directly as possible; the fast implementation must agree with them.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections import Counter
from collections.abc import Sequence

import pytest

from fairdraw.domain import fairness
from fairdraw.domain.fairness import (
    Outcome,
    RandomStream,
    Winner,
    commitment,
    entry_ref,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    node_hash,
    prize_slots,
    select_winners,
    shuffle_prefix,
    stream_key,
    verify_inclusion,
)

# -- the published test vectors (docs/fairness.md, "Test vectors") -------------------------

VECTOR_SEED = bytes(range(32))
VECTOR_SALT = bytes(32)
VECTOR_IDENTITIES = [f"gh:{i}" for i in range(1, 11)]
VECTOR_PRIZES = [("Laptop", 1), ("Sticker", 2)]
VECTOR_REFS = [
    "dcf77dd71cb3b10dc5e1a1a76d13c6f4",
    "52200bb69e618401841ae78f6fd1189a",
    "a32ec07232cf98ad6071078379e0dc7d",
    "928daa3c811ae6d9c2ea2d41af109e1e",
    "0d93b444e4e508ff8827cb3ee86c2e8f",
    "61f4f0bbb095ba0a1cca3adbda145b63",
    "9c8c757540db03af8acfc048edbcb81f",
    "347f41f7880e13233c5eee640f9a98a3",
    "b5971849613e489e47509f86b67fcae1",
    "70a465357c434da039e6c666caa44bd8",
]
VECTOR_COMMITMENT = "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd"
VECTOR_ROOT = "c142141020b95da2164f6968276a53bb45960d2416905fea86d7e6414d9766e3"
VECTOR_LEAF_0 = "5cacf24e96086fe0d5fe130833b7842651fa2ce7b904c18f981ff22ab7467f45"
VECTOR_PROOF_3 = [
    "928f1d58919db3d98e63135708494f8e6b169493d8b2a8f4d310a923e7307267",
    "483f278ba652da26594df65bda70531ec443d497202e3a09f49bb69c96a1d154",
    "da0d0370f730e53e0b09447e68ee7167787f9999e857698aa5773b3fbafb3471",
    "50fe963b16137553d1f9020b572d3f7e09f2b7735dd80a8b2e579e42d8de2889",
]
VECTOR_KEY = "dafa947b5cb8e57edd0d1a1e65e91112868715f9818633dc10db709b6037c8b3"
VECTOR_WORDS = [
    14488360645914378868,
    7789083103018836010,
    14282047390887803497,
    8155398231207622732,
]
VECTOR_BLOCK_0 = "c910ff3ead79c2746c1861d0596f602ac634066eb7297a69712dcb7b6cfab84c"
VECTOR_WORD_4 = 15188163922148769346  # the first word of block 1, used at r = 4
VECTOR_OUTCOME = Outcome(
    winners=(Winner(0, "Laptop", 8), Winner(1, "Sticker", 2), Winner(2, "Sticker", 3)),
    alternates=(4, 0),
    unawarded=(),
)


# -- reference implementations, written straight from the definitions ---------------------


def reference_ref(salt: bytes, identity: str) -> str:
    return hmac.new(salt, identity.encode("utf-8"), hashlib.sha256).digest()[:16].hex()


def reference_root(refs: Sequence[str], offset: int = 0) -> bytes:
    """RFC 6962 section 2.1 MTH, recursively."""
    n = len(refs)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + f"{offset}\t{refs[0]}".encode()).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    left = reference_root(refs[:k], offset)
    right = reference_root(refs[k:], offset + k)
    return hashlib.sha256(b"\x01" + left + right).digest()


def reference_path(refs: Sequence[str], m: int, offset: int = 0) -> list[bytes]:
    """RFC 6962 section 2.1.1 PATH(m, D[n]), recursively."""
    n = len(refs)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*reference_path(refs[:k], m, offset), reference_root(refs[k:], offset + k)]
    return [*reference_path(refs[k:], m - k, offset + k), reference_root(refs[:k], offset)]


def reference_words(key: bytes, count: int) -> list[int]:
    blocks = b"".join(
        hmac.new(key, b"stream" + struct.pack(">Q", j), hashlib.sha256).digest()
        for j in range((count + 3) // 4)
    )
    return list(struct.unpack(f">{len(blocks) // 8}Q", blocks))[:count]


def reference_shuffle(n: int, words: list[int]) -> list[int]:
    """A full Fisher-Yates over a real list, drawing uniform(m) by rejection from words."""
    supply = iter(words)

    def uniform(m: int) -> int:
        while True:
            u = next(supply)
            if u < 2**64 - 2**64 % m:
                return u % m

    array = list(range(n))
    for r in range(n):
        j = r + uniform(n - r)
        array[r], array[j] = array[j], array[r]
    return array


class ScriptedStream(RandomStream):
    """A stream that hands out given words, to reach the rejection branch on purpose."""

    def __init__(self, words: Sequence[int]) -> None:
        super().__init__(b"")
        self._script = list(words)
        self.calls = 0

    def next_u64(self) -> int:
        self.calls += 1
        return self._script.pop(0)


def seeded(t: int) -> bytes:
    return hashlib.sha256(str(t).encode()).digest()


# -- vectors -----------------------------------------------------------------------------


def test_vector_refs_match_the_definition() -> None:
    refs = [entry_ref(VECTOR_SALT, identity) for identity in VECTOR_IDENTITIES]
    assert refs == VECTOR_REFS
    assert refs == [reference_ref(VECTOR_SALT, identity) for identity in VECTOR_IDENTITIES]


def test_vector_commitment_root_and_key() -> None:
    assert commitment(VECTOR_SEED) == VECTOR_COMMITMENT
    root = merkle_root(VECTOR_REFS)
    assert root.hex() == VECTOR_ROOT
    assert reference_root(VECTOR_REFS).hex() == VECTOR_ROOT
    key = stream_key(root, VECTOR_SEED)
    assert key.hex() == VECTOR_KEY
    assert key == hashlib.sha256(b"fairdraw/1" + root + VECTOR_SEED).digest()


def test_vector_leaf_and_inclusion_proof() -> None:
    assert leaf_hash(0, VECTOR_REFS[0]).hex() == VECTOR_LEAF_0
    proof = inclusion_proof(VECTOR_REFS, 3)
    assert [p.hex() for p in proof] == VECTOR_PROOF_3
    assert proof == reference_path(VECTOR_REFS, 3)
    assert verify_inclusion(3, VECTOR_REFS[3], 10, proof, bytes.fromhex(VECTOR_ROOT))


def test_vector_stream_words() -> None:
    stream = RandomStream(bytes.fromhex(VECTOR_KEY))
    assert [stream.next_u64() for _ in range(4)] == VECTOR_WORDS
    assert reference_words(bytes.fromhex(VECTOR_KEY), 4) == VECTOR_WORDS
    assert stream.words_used == 4
    block_0 = hmac.digest(bytes.fromhex(VECTOR_KEY), b"stream" + bytes(8), "sha256")
    assert block_0.hex() == VECTOR_BLOCK_0
    assert stream.next_u64() == VECTOR_WORD_4


def test_vector_winners() -> None:
    outcome = select_winners(bytes.fromhex(VECTOR_ROOT), VECTOR_SEED, 10, VECTOR_PRIZES, 2)
    assert outcome == VECTOR_OUTCOME
    full = reference_shuffle(10, reference_words(bytes.fromhex(VECTOR_KEY), 40))
    assert full[:5] == [8, 2, 3, 4, 0]


# -- primitives ----------------------------------------------------------------------------


def test_new_seed_and_salt_are_fresh_32_bytes() -> None:
    seeds = {fairness.new_seed() for _ in range(8)}
    salts = {fairness.new_salt() for _ in range(8)}
    assert len(seeds) == 8
    assert len(salts) == 8
    assert {len(s) for s in seeds | salts} == {32}


def test_entry_ref_is_32_lowercase_hex_and_depends_on_salt_and_identity() -> None:
    ref = entry_ref(b"salt", "gh:583231")
    assert len(ref) == 32
    assert set(ref) <= set("0123456789abcdef")
    assert entry_ref(b"salt", "gh:583231") == ref
    assert entry_ref(b"salt2", "gh:583231") != ref
    assert entry_ref(b"salt", "gh:583232") != ref
    # Non-ASCII identities are hashed as UTF-8.
    assert entry_ref(b"s", "acct:zoë") == reference_ref(b"s", "acct:zoë")


def test_leaf_and_node_hash_prefixes() -> None:
    assert leaf_hash(12, "ab") == hashlib.sha256(b"\x0012\tab").digest()
    left, right = b"L" * 32, b"R" * 32
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    with pytest.raises(ValueError, match="index"):
        leaf_hash(-1, "ab")


# -- Merkle tree ---------------------------------------------------------------------------

REFS_70 = [reference_ref(b"merkle", f"id:{i}") for i in range(70)]


@pytest.mark.parametrize("chunk", [1, 4, 16, 1 << 16])
def test_merkle_root_equals_rfc6962_recursion(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small chunks push the same sizes through the chunk-merging path as huge ledgers do.
    monkeypatch.setattr(fairness, "CHUNK_LEAVES", chunk)
    for n in range(71):
        assert merkle_root(REFS_70[:n]) == reference_root(REFS_70[:n]), n


def test_empty_ledger_root_is_sha256_of_nothing() -> None:
    assert merkle_root([]).hex() == hashlib.sha256(b"").hexdigest()


def test_root_binds_index_and_order() -> None:
    refs = REFS_70[:4]
    assert merkle_root(refs) != merkle_root([refs[1], refs[0], *refs[2:]])
    assert merkle_root(refs[:1]) == leaf_hash(0, refs[0])


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 70])
def test_inclusion_proofs_verify_for_every_index(n: int) -> None:
    refs = REFS_70[:n]
    root = merkle_root(refs)
    for i in range(n):
        proof = inclusion_proof(refs, i)
        assert proof == reference_path(refs, i), (n, i)
        assert verify_inclusion(i, refs[i], n, proof, root)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 13])
def test_inclusion_proofs_fail_when_anything_differs(n: int) -> None:
    refs = REFS_70[:n]
    root = merkle_root(refs)
    other_root = merkle_root(REFS_70[1 : n + 1])
    for i in range(n):
        proof = inclusion_proof(refs, i)
        assert not verify_inclusion(i, REFS_70[n], n, proof, root)
        assert not verify_inclusion((i + 1) % n, refs[i], n, proof, root)
        assert not verify_inclusion(i, refs[i], n, proof, other_root)
        # The size enters only through the path's shape; a deeper tree needs a longer path.
        assert not verify_inclusion(i, refs[i], 2 * n + 1, proof, root)
        assert not verify_inclusion(i, refs[i], i, proof, root)
        assert not verify_inclusion(i, refs[i], n, [*proof, root], root)
        assert not verify_inclusion(i, refs[i], n, proof[:-1], root)
        assert not verify_inclusion(i, refs[i], n, [p[:31] for p in proof], root)


def test_inclusion_edge_cases() -> None:
    assert verify_inclusion(0, REFS_70[0], 1, [], leaf_hash(0, REFS_70[0]))
    assert not verify_inclusion(0, REFS_70[0], 0, [], merkle_root([]))
    assert not verify_inclusion(-1, REFS_70[0], 3, [], merkle_root(REFS_70[:3]))
    with pytest.raises(ValueError, match="outside the ledger"):
        inclusion_proof(REFS_70[:3], 3)
    with pytest.raises(ValueError, match="outside the ledger"):
        inclusion_proof([], 0)


# -- the stream and uniform() ---------------------------------------------------------------


def test_stream_words_follow_the_blocks_across_boundaries() -> None:
    key = seeded(7)
    stream = RandomStream(key)
    assert [stream.next_u64() for _ in range(13)] == reference_words(key, 13)
    assert stream.words_used == 13


def test_uniform_accepts_the_whole_range_of_m() -> None:
    key = seeded(1)
    words = reference_words(key, 3)
    stream = RandomStream(key)
    assert stream.uniform(1) == 0
    # 2^64 mod m is 0 for m = 2^64, so every word is accepted as is.
    assert stream.uniform(2**64) == words[1]
    assert stream.uniform(3) == words[2] % 3
    assert stream.words_used == 3
    for m in (0, -1, 2**64 + 1):
        with pytest.raises(ValueError, match="uniform"):
            stream.uniform(m)


def test_uniform_rejects_exactly_the_biased_tail() -> None:
    # 2^64 mod 3 == 1: only the top word 2^64 - 1 is rejected.
    stream = ScriptedStream([2**64 - 1, 2**64 - 2])
    assert stream.uniform(3) == (2**64 - 2) % 3
    assert stream.calls == 2
    # For m = 2^63 + 1 the limit is 2^63 + 1: words from there up are rejected.
    m = 2**63 + 1
    stream = ScriptedStream([m, 2**64 - 1, m - 1])
    assert stream.uniform(m) == m - 1
    assert stream.calls == 3
    stream = ScriptedStream([m - 1])
    assert stream.uniform(m) == m - 1


def test_uniform_rejection_on_a_real_stream() -> None:
    m = 2**63 + 1
    # The first seed whose first word falls in the rejected tail and whose second does not.
    t = next(t for t in range(200) if (w := reference_words(seeded(t), 2))[0] >= m > w[1])
    stream = RandomStream(seeded(t))
    assert stream.uniform(m) == reference_words(seeded(t), 2)[1]
    assert stream.words_used == 2


def test_uniform_2_pow_63_plus_1_spans_both_halves() -> None:
    m = 2**63 + 1
    stream = RandomStream(seeded(3))
    values = [stream.uniform(m) for _ in range(64)]
    assert all(0 <= v < m for v in values)
    assert any(v < 2**62 for v in values)
    assert any(v >= 2**62 for v in values)


# -- partial Fisher-Yates ------------------------------------------------------------------


@pytest.mark.parametrize(("n", "k"), [(0, 0), (1, 1), (5, 2), (10, 10), (50, 7), (1000, 30)])
def test_shuffle_prefix_equals_a_full_fisher_yates(n: int, k: int) -> None:
    key = seeded(n * 1000 + k)
    stream = RandomStream(key)
    prefix = shuffle_prefix(n, k, stream)
    assert prefix == reference_shuffle(n, reference_words(key, 4 * n + 64))[:k]
    assert len(set(prefix)) == k


def test_shuffle_prefix_of_a_huge_array_stays_small() -> None:
    stream = RandomStream(seeded(11))
    picks = shuffle_prefix(10**18, 5, stream)
    assert len(set(picks)) == 5
    assert all(0 <= p < 10**18 for p in picks)


def test_shuffle_prefix_rejects_k_beyond_n() -> None:
    with pytest.raises(ValueError, match="k <= n"):
        shuffle_prefix(3, 4, RandomStream(b"k"))


def test_all_orders_of_three_are_equally_likely() -> None:
    orders = Counter(tuple(shuffle_prefix(3, 3, RandomStream(seeded(t)))) for t in range(6000))
    assert len(orders) == 6
    for order, count in orders.items():
        assert abs(count / 6000 - 1 / 6) < 0.02, order


# -- selection -------------------------------------------------------------------------------

ROOT_4 = merkle_root(REFS_70[:4])


def test_prize_slots_repeat_each_prize_by_quantity_in_order() -> None:
    assert prize_slots([("A", 2), ("B", 0), ("C", 1)]) == ["A", "A", "C"]
    assert prize_slots([]) == []
    with pytest.raises(ValueError, match="negative"):
        prize_slots([("A", -1)])


def test_one_prize_among_four_is_uniform() -> None:
    wins = Counter(
        select_winners(ROOT_4, seeded(t), 4, [("Prize", 1)], 0).winners[0].index
        for t in range(20_000)
    )
    assert sorted(wins) == [0, 1, 2, 3]
    for index, count in wins.items():
        assert abs(count / 20_000 - 0.25) < 0.02, index


def test_three_prizes_among_four_never_go_to_one_entry_twice() -> None:
    for t in range(2000):
        outcome = select_winners(ROOT_4, seeded(t), 4, [("A", 1), ("B", 2)], 1)
        picked = [w.index for w in outcome.winners] + list(outcome.alternates)
        assert len(picked) == 4
        assert sorted(picked) == [0, 1, 2, 3]
        assert [(w.slot, w.prize) for w in outcome.winners] == [(0, "A"), (1, "B"), (2, "B")]


def test_selection_is_the_shuffle_prefix_of_the_draws_stream() -> None:
    seed = seeded(5)
    outcome = select_winners(ROOT_4, seed, 40, [("A", 3), ("B", 1)], 5)
    expected = shuffle_prefix(40, 9, RandomStream(stream_key(ROOT_4, seed)))
    assert [w.index for w in outcome.winners] == expected[:4]
    assert list(outcome.alternates) == expected[4:]
    assert [w.prize for w in outcome.winners] == ["A", "A", "A", "B"]


def test_beacon_enters_the_stream_key() -> None:
    seed = seeded(9)
    assert (
        stream_key(ROOT_4, seed, b"B")
        == hashlib.sha256(b"fairdraw/1" + ROOT_4 + b"B" + seed).digest()
    )
    plain = select_winners(ROOT_4, seed, 1000, [("A", 3)], 0)
    with_beacon = select_winners(ROOT_4, seed, 1000, [("A", 3)], 0, beacon=b"round 1")
    assert plain != with_beacon


def test_owners_win_at_most_once() -> None:
    owners = ["big"] * 15 + ["mid"] * 3 + ["c", "d"]
    for t in range(300):
        seed = seeded(t)
        outcome = select_winners(ROOT_4, seed, 20, [("A", 2)], 5, owners=owners)
        picked = [w.index for w in outcome.winners] + list(outcome.alternates)
        assert len({owners[i] for i in picked}) == len(picked) == 4
        # Exactly the shuffle with picks of an already chosen owner dropped.
        full = shuffle_prefix(20, 20, RandomStream(stream_key(ROOT_4, seed)))
        first_of_owner = [
            i for n, i in enumerate(full) if owners[i] not in {owners[j] for j in full[:n]}
        ]
        assert picked == first_of_owner


def test_owners_must_cover_every_entry() -> None:
    with pytest.raises(ValueError, match="owners"):
        select_winners(ROOT_4, VECTOR_SEED, 3, [("A", 1)], 0, owners=["a", "b"])


def test_more_slots_than_entries_leaves_slots_unawarded_in_slot_order() -> None:
    outcome = select_winners(ROOT_4, VECTOR_SEED, 3, [("A", 2), ("B", 2), ("C", 1)], 4)
    assert [(w.slot, w.prize) for w in outcome.winners] == [(0, "A"), (1, "A"), (2, "B")]
    assert sorted(w.index for w in outcome.winners) == [0, 1, 2]
    assert outcome.unawarded == ("B", "C")
    assert outcome.alternates == ()


def test_zero_entries_award_nothing() -> None:
    empty = merkle_root([])
    outcome = select_winners(empty, VECTOR_SEED, 0, [("A", 1), ("B", 2)], 3)
    assert outcome == Outcome(winners=(), alternates=(), unawarded=("A", "B", "B"))


def test_alternates_are_capped_by_the_remaining_entries() -> None:
    outcome = select_winners(ROOT_4, VECTOR_SEED, 5, [("A", 2)], 10)
    assert len(outcome.winners) == 2
    assert len(outcome.alternates) == 3
    assert sorted([w.index for w in outcome.winners] + list(outcome.alternates)) == [0, 1, 2, 3, 4]
    assert outcome.unawarded == ()


def test_no_slots_and_no_alternates_pick_nothing() -> None:
    assert select_winners(ROOT_4, VECTOR_SEED, 5, [], 0) == Outcome((), (), ())
    only_alternates = select_winners(ROOT_4, VECTOR_SEED, 5, [("A", 0)], 2)
    assert only_alternates.winners == ()
    assert len(only_alternates.alternates) == 2


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="alternates"):
        select_winners(ROOT_4, VECTOR_SEED, 5, [("A", 1)], -1)
    with pytest.raises(ValueError, match="entry_count"):
        select_winners(ROOT_4, VECTOR_SEED, -1, [("A", 1)], 0)
