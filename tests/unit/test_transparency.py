"""The draw log's Merkle tree: RFC 9162 section 2.1, checked against the reference test
vectors of the Go implementations (certificate-transparency-go, transparency-dev/merkle)
and against a literal transcription of the RFC's recursive definitions."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence

import pytest

from fairdraw.domain import transparency as t
from fairdraw.domain.proof import canonical_json


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# -- the reference vectors (transparency-dev/merkle proof/verify_test.go) ---------------------

EMPTY_TREE = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")
LEAF_DATA = [
    b"",
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]
LEAVES = [sha(b"\x00" + data) for data in LEAF_DATA]
ROOTS = [
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
# (leaf index, tree size, audit path); the Go vectors count leaves from 1.
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]


def test_tree_hashes_are_the_reference_roots() -> None:
    assert t.tree_hash([]) == EMPTY_TREE == t.EMPTY_ROOT
    assert [t.tree_hash(LEAVES[:size]) for size in range(1, 9)] == ROOTS


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_paths_are_the_reference_paths(index: int, size: int, path: list[bytes]) -> None:
    assert t.inclusion_path(LEAVES, index, size) == path
    assert t.verify_inclusion(LEAVES[index], index, size, path, ROOTS[size - 1])


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_proofs_are_the_reference_proofs(
    first: int, second: int, path: list[bytes]
) -> None:
    assert t.consistency_path(LEAVES, first, second) == path
    assert t.verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], path)


def inclusion_probes(
    index: int, size: int, path: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[int, int, list[bytes], bytes, bytes]]:
    """The reference implementation's corruptions of a good inclusion proof: each must
    fail (leaf index, size, path, root, leaf hash)."""
    probes = [
        (index - 1, size, path, root, leaf),
        (index + 1, size, path, root, leaf),
        (index ^ 2, size, path, root, leaf),
        (index, size * 2, path, root, leaf),
        (index, size // 2, path, root, leaf),
        (index, size, path, root, b"WrongLeaf"),
        (index, size, path, EMPTY_TREE, leaf),
        (index, size, path, SOME_HASH, leaf),
        (index, size, [*path, b""], root, leaf),
        (index, size, [*path, root], root, leaf),
        (index, size, [b"", *path], root, leaf),
        (index, size, [root, *path], root, leaf),
    ]
    for i in range(len(path)):
        flipped = list(path)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((index, size, flipped, root, leaf))
    if path:
        probes.append((index, size, path[:-1], root, leaf))
    if len(path) > 1:
        probes.append((index, size, [SOME_HASH, path[0], *path[1:]], root, leaf))
    return probes


def consistency_probes(
    first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]
) -> list[tuple[int, int, bytes, bytes, list[bytes]]]:
    """The reference implementation's corruptions of a good consistency proof."""
    probes = [
        (first - 1, second, first_root, second_root, path),
        (first + 1, second, first_root, second_root, path),
        (first ^ 2, second, first_root, second_root, path),
        (first, second * 2, first_root, second_root, path),
        (first, second // 2, first_root, second_root, path),
        (first, second, b"WrongRoot", second_root, path),
        (first, second, first_root, b"WrongRoot", path),
        (first, second, second_root, first_root, path),
        (first, second, first_root, second_root, []),
        (first, second, first_root, second_root, [*path, b""]),
        (first, second, first_root, second_root, [*path, first_root]),
        (first, second, first_root, second_root, [*path, second_root]),
        (first, second, first_root, second_root, [b"", *path]),
        (first, second, first_root, second_root, [first_root, *path]),
        (first, second, first_root, second_root, [second_root, *path]),
        (first, second, first_root, second_root, [path[0], *path]),
        (first, second, first_root, second_root, path[:-1]),
    ]
    for i in range(len(path)):
        flipped = list(path)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((first, second, first_root, second_root, flipped))
    return probes


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION[1:])
def test_corrupted_reference_inclusion_proofs_fail(
    index: int, size: int, path: list[bytes]
) -> None:
    probes = inclusion_probes(index, size, path, ROOTS[size - 1], LEAVES[index])
    assert [probe for probe in probes if t.verify_inclusion(probe[4], *probe[:3], probe[3])] == []


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY[1:])
def test_corrupted_reference_consistency_proofs_fail(
    first: int, second: int, path: list[bytes]
) -> None:
    probes = consistency_probes(first, second, ROOTS[first - 1], ROOTS[second - 1], path)
    assert [probe for probe in probes if t.verify_consistency(*probe)] == []


def test_trivial_inclusion_cases() -> None:
    # A one-leaf tree: the root is the leaf, the path empty; nothing is in the empty tree.
    assert t.verify_inclusion(SOME_HASH, 0, 1, [], SOME_HASH)
    assert not t.verify_inclusion(SOME_HASH, 0, 1, [], EMPTY_TREE)
    assert not t.verify_inclusion(b"", 0, 1, [], b"")
    for index, size in [(0, 0), (1, 0), (2, 1), (-1, 1)]:
        assert not t.verify_inclusion(SOME_HASH, index, size, [], EMPTY_TREE)
        assert not t.verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)


def test_trivial_consistency_cases() -> None:
    # Equal sizes: equal roots and no proof. The empty tree precedes every tree.
    assert t.verify_consistency(0, 0, EMPTY_TREE, EMPTY_TREE, [])
    assert t.verify_consistency(1, 1, SOME_HASH, SOME_HASH, [])
    assert t.verify_consistency(0, 5, EMPTY_TREE, ROOTS[4], [])
    assert not t.verify_consistency(1, 1, SOME_HASH, EMPTY_TREE, [])
    assert not t.verify_consistency(0, 1, EMPTY_TREE, ROOTS[0], [EMPTY_TREE])
    assert not t.verify_consistency(1, 1, SOME_HASH, SOME_HASH, [EMPTY_TREE])
    # The tree of no leaves has one hash: a claimed other root is not a prefix.
    assert not t.verify_consistency(0, 5, SOME_HASH, ROOTS[4], [])
    # Back in time, and a proof needed but missing.
    assert not t.verify_consistency(1, 0, ROOTS[0], EMPTY_TREE, [])
    assert not t.verify_consistency(2, 1, ROOTS[1], ROOTS[0], [])
    assert not t.verify_consistency(1, 2, ROOTS[0], ROOTS[1], [])
    assert t.consistency_path(LEAVES, 0, 8) == []
    assert t.consistency_path(LEAVES, 8, 8) == []


# -- RFC 9162 section 2.1, transcribed literally ----------------------------------------------


def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_tree(
    leaves: Sequence[bytes],
) -> tuple[Callable[[int, int], bytes], Callable[[int, int, int], list[bytes]]]:
    """MTH(D[start:end]) and PATH(m, D[start:end]) of RFC 9162 2.1.1 and 2.1.3.1."""

    @functools.cache
    def mth(start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return sha(b"")
        if n == 1:
            return leaves[start]
        k = split(n)
        return sha(b"\x01" + mth(start, start + k) + mth(start + k, end))

    @functools.cache
    def path(m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = split(n)
        if m < k:
            return [*path(m, start, start + k), mth(start + k, end)]
        return [*path(m - k, start + k, end), mth(start, start + k)]

    return mth, path


def rfc_proof(leaves: Sequence[bytes], m: int, n: int) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 2.1.4.1."""
    mth, _ = rfc_tree(leaves)

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [mth(start, end)]
        k = split(n)
        if m <= k:
            return [*subproof(m, start, start + k, whole), mth(start + k, end)]
        return [*subproof(m - k, start + k, end, False), mth(start, start + k)]

    return subproof(m, 0, n, True)


SIZES = range(1, 65)
MANY = [sha(b"\x00" + i.to_bytes(2, "big")) for i in range(max(SIZES))]


def test_every_inclusion_proof_up_to_64_leaves() -> None:
    mth, path = rfc_tree(MANY)
    for size in SIZES:
        root = t.tree_hash(MANY[:size])
        assert root == mth(0, size)
        for index in range(size):
            proof = t.inclusion_path(MANY, index, size)
            assert proof == path(index, 0, size)
            assert t.verify_inclusion(MANY[index], index, size, proof, root)
            # Another leaf, another position, another tree: never.
            assert not t.verify_inclusion(SOME_HASH, index, size, proof, root)
            for wrong in {index ^ 1, index + 1, index - 1} - {index}:
                assert not t.verify_inclusion(MANY[index], wrong, size, proof, root)
            for other in {size - 1, size + 1} - {size, 0}:
                other_root = t.tree_hash(MANY[:other])
                assert not t.verify_inclusion(MANY[index], index, other, proof, other_root)
            for i in range(len(proof)):
                tampered = [*proof[:i], bytes([proof[i][0] ^ 1]) + proof[i][1:], *proof[i + 1 :]]
                assert not t.verify_inclusion(MANY[index], index, size, tampered, root)


def test_every_consistency_proof_up_to_64_leaves() -> None:
    roots = [t.tree_hash(MANY[:size]) for size in range(max(SIZES) + 1)]
    for second in SIZES:
        for first in range(1, second + 1):
            proof = t.consistency_path(MANY, first, second)
            assert proof == rfc_proof(MANY, first, second)
            assert t.verify_consistency(first, second, roots[first], roots[second], proof)
            if first == second:
                continue
            assert not t.verify_consistency(first, second, roots[first - 1], roots[second], proof)
            assert not t.verify_consistency(first, second, roots[first], roots[second - 1], proof)
            for i in range(len(proof)):
                tampered = [*proof[:i], bytes([proof[i][0] ^ 1]) + proof[i][1:], *proof[i + 1 :]]
                assert not t.verify_consistency(
                    first, second, roots[first], roots[second], tampered
                )


def test_a_rewritten_prefix_is_never_consistent() -> None:
    """Change any one leaf of the first tree: no proof from the new log links the old
    head to it."""
    for second in (5, 8, 13, 33):
        for first in range(1, second):
            old_root = t.tree_hash(MANY[:first])
            for changed in range(first):
                rewritten = list(MANY[:second])
                rewritten[changed] = SOME_HASH
                proof = t.consistency_path(rewritten, first, second)
                new_root = t.tree_hash(rewritten)
                assert not t.verify_consistency(first, second, old_root, new_root, proof)


# -- leaves, stored subtrees and the frontier ----------------------------------------------


def test_leaf_hash_is_sha256_of_zero_and_canonical_json() -> None:
    entry = {"type": "draw", "time": "2026-12-06T22:00:00.000Z", "draw_id": "abcdefghijkl"}
    canonical = b'{"draw_id":"abcdefghijkl","time":"2026-12-06T22:00:00.000Z","type":"draw"}'
    assert canonical_json(entry) == canonical
    assert t.leaf_hash(entry) == sha(b"\x00" + canonical)


def test_proof_ranges_fold_from_complete_subtrees() -> None:
    """What a log that keeps only complete subtrees computes equals the proofs."""

    def from_nodes(start: int, end: int) -> bytes:
        nodes = t.subtree_nodes(start, end)
        hashes = [t.tree_hash(MANY[i << level : (i + 1) << level]) for level, i in nodes]
        return t.fold_subtrees(hashes)

    for size in SIZES:
        assert from_nodes(0, size) == t.tree_hash(MANY[:size])
        for index in range(size):
            ranges = t.inclusion_ranges(index, size)
            assert [from_nodes(*span) for span in ranges] == t.inclusion_path(MANY, index, size)
        for first in range(size + 1):
            ranges = t.consistency_ranges(first, size)
            assert [from_nodes(*span) for span in ranges] == t.consistency_path(MANY, first, size)


def test_subtree_nodes() -> None:
    assert t.subtree_nodes(0, 1) == [(0, 0)]
    assert t.subtree_nodes(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert t.subtree_nodes(8, 13) == [(2, 2), (0, 12)]
    assert t.subtree_nodes(12, 16) == [(2, 3)]
    for start, end in [(0, 0), (3, 5), (4, 9), (6, 8 + 6)]:
        with pytest.raises(ValueError, match="not an aligned subtree"):
            t.subtree_nodes(start, end)
    assert t.fold_subtrees([]) == EMPTY_TREE


def test_the_frontier_grows_with_each_leaf() -> None:
    frontier: list[bytes] = []
    for size in range(max(SIZES)):
        completed, frontier = t.extend_frontier(frontier, size, MANY[size])
        grown = size + 1
        assert frontier == [
            t.tree_hash(MANY[i << level : (i + 1) << level])
            for level, i in t.subtree_nodes(0, grown)
        ]
        assert t.fold_subtrees(frontier) == t.tree_hash(MANY[:grown])
        # completed[h]: the subtree of 2**h leaves that ends with the new leaf.
        assert completed == [
            t.tree_hash(MANY[grown - (1 << level) : grown])
            for level in range((grown & -grown).bit_length())
        ]
    with pytest.raises(ValueError, match="frontier subtrees"):
        t.extend_frontier([SOME_HASH], 3, SOME_HASH)


def test_proofs_refuse_impossible_sizes() -> None:
    with pytest.raises(ValueError, match="not in a tree of size"):
        t.inclusion_path(LEAVES, 8, 8)
    with pytest.raises(ValueError, match="not in a tree of size"):
        t.inclusion_path(LEAVES, -1, 8)
    with pytest.raises(ValueError, match="needs that many"):
        t.inclusion_path(LEAVES, 0, 9)
    with pytest.raises(ValueError, match="no consistency proof"):
        t.consistency_path(LEAVES, 5, 4)
    with pytest.raises(ValueError, match="needs that many"):
        t.consistency_path(LEAVES, 1, 9)
