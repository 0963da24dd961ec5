"""The draw log's Merkle tree: RFC 9162 section 2.1, over leaf hashes.

The public draw log is an append-only list of JSON objects; its leaf hash is
``sha256(0x00 || canonical(entry))`` and interior nodes are
``sha256(0x01 || left || right)``. Audit paths (inclusion proofs) and consistency proofs
are RFC 9162's ``PATH`` and ``PROOF``, and their verification is sections 2.1.3.2 and
2.1.4.2 step by step. ``docs/fairness-v2.md`` ("The draw log") is the specification.

Every subtree a proof names is aligned: it starts at a multiple of a power of two at
least its size. So a log that keeps the hash of each complete aligned subtree (level
``h``, index ``j``: leaves ``j * 2**h`` up to ``(j + 1) * 2**h``) answers any proof with
a few stored hashes (:func:`subtree_nodes`, :func:`fold_subtrees`) instead of every
leaf, and appends a leaf knowing only its *frontier*, the complete subtrees that make up
the tree (:func:`extend_frontier`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from fairdraw.domain.fairness import node_hash
from fairdraw.domain.proof import canonical_json

HASH_BYTES: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()
_LEAF_PREFIX: Final = b"\x00"

Range = tuple[int, int]
Node = tuple[int, int]


def leaf_hash(entry: Mapping[str, Any]) -> bytes:
    """sha256(0x00 || canonical(entry)): the leaf of one log entry."""
    return hashlib.sha256(_LEAF_PREFIX + canonical_json(entry)).digest()


def tree_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 9162 ``MTH`` of the tree whose leaves have these hashes (sha256 of nothing
    for the empty tree)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # Bottom-up pairing with the odd last node carried up equals the split at the
    # largest power of two below the size, without recursion.
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (> 1)."""
    return 1 << ((size - 1).bit_length() - 1)


# -- which subtrees a proof is made of -------------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The leaf ranges ``[start, end)`` whose tree hashes are ``PATH(index, D[size])``,
    in the path's order (the leaf's sibling first). ValueError unless
    ``0 <= index < size``."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start = middle
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The leaf ranges whose tree hashes are ``PROOF(first, D[second])``, in the proof's
    order; empty when ``first`` is 0 or equals ``second``. ValueError unless
    ``0 <= first <= second``."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    ranges: list[Range] = []
    start, end, whole = 0, second, True  # whole: RFC 9162's b, "first is a whole subtree"
    remaining = first
    while remaining != end - start:
        middle = start + _split(end - start)
        if remaining <= middle - start:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            remaining -= middle - start
            start = middle
            whole = False
    if not whole:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def subtree_nodes(start: int, end: int) -> list[Node]:
    """The complete aligned subtrees ``(level, index)``, left to right, whose
    :func:`fold_subtrees` is the tree hash of leaves ``start .. end - 1``.

    Only for the ranges proofs and tree heads use: non-empty, and ``start`` a multiple
    of the smallest power of two not below ``end - start`` (ValueError otherwise).
    """
    size = end - start
    if size < 1 or start % (1 << (size - 1).bit_length()):
        raise ValueError(f"leaves {start} to {end} are not an aligned subtree")
    nodes: list[Node] = []
    position = start
    while position < end:
        level = (end - position).bit_length() - 1
        nodes.append((level, position >> level))
        position += 1 << level
    return nodes


def fold_subtrees(hashes: Sequence[bytes]) -> bytes:
    """The tree hash over consecutive complete subtrees of decreasing size (as
    :func:`subtree_nodes` lists them): RFC 9162 nests them to the right,
    ``h(T1, h(T2, ... h(Tk-1, Tk)))``."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for subtree in reversed(hashes[:-1]):
        acc = node_hash(subtree, acc)
    return acc


def extend_frontier(
    frontier: Sequence[bytes], size: int, leaf: bytes
) -> tuple[list[bytes], list[bytes]]:
    """Append ``leaf`` to a tree of ``size`` leaves whose frontier (the hashes of
    ``subtree_nodes(0, size)``) is ``frontier``.

    Returns ``(completed, new_frontier)``: ``completed[h]`` is the complete subtree at
    level ``h`` that the new leaf finishes (index ``((size + 1) >> h) - 1``; level 0 is
    the leaf itself), and the frontier of the tree of ``size + 1`` leaves.
    """
    if len(frontier) != size.bit_count():
        raise ValueError(f"a tree of {size} leaves has {size.bit_count()} frontier subtrees")
    merged = (~size & (size + 1)).bit_length() - 1  # trailing one bits of size
    completed = [leaf]
    acc = leaf
    for level in range(merged):
        acc = node_hash(frontier[-1 - level], acc)
        completed.append(acc)
    return completed, [*frontier[: len(frontier) - merged], acc]


# -- proofs over a list of leaf hashes -------------------------------------------------------


def _range_hasher(leaf_hashes: Sequence[bytes], size: int) -> Callable[[Range], bytes]:
    if not 0 <= size <= len(leaf_hashes):
        raise ValueError(f"a tree of size {size} needs that many of {len(leaf_hashes)} leaves")
    return lambda span: tree_hash(leaf_hashes[span[0] : span[1]])


def inclusion_path(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """RFC 9162 ``PATH(index, D[size])``: the audit path of leaf ``index`` in the tree
    of the first ``size`` leaves."""
    subtree_hash = _range_hasher(leaf_hashes, size)
    return [subtree_hash(span) for span in inclusion_ranges(index, size)]


def consistency_path(leaf_hashes: Sequence[bytes], first: int, second: int) -> list[bytes]:
    """RFC 9162 ``PROOF(first, D[second])``: that the tree of the first ``first`` leaves
    is a prefix of the tree of the first ``second``. Empty when ``first`` is 0 or equals
    ``second``."""
    subtree_hash = _range_hasher(leaf_hashes, second)
    return [subtree_hash(span) for span in consistency_ranges(first, second)]


# -- verification (RFC 9162 2.1.3.2 and 2.1.4.2) ---------------------------------------------


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_BYTES


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``path`` proves the leaf ``leaf_hash`` at ``index`` in the tree of ``size``
    leaves with hash ``root`` (RFC 9162 section 2.1.3.2)."""
    if not (_is_hash(leaf_hash) and _is_hash(root) and all(map(_is_hash, path))):
        return False
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """Whether ``path`` proves that the tree of ``first`` leaves with hash ``first_root``
    is a prefix of the tree of ``second`` leaves with hash ``second_root`` (RFC 9162
    section 2.1.4.2). Equal sizes need an empty path and equal roots; the empty tree
    (hash sha256 of nothing) is a prefix of every tree, with an empty path."""
    hashes = (first_root, second_root, *path)
    if not all(map(_is_hash, hashes)) or not 0 <= first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path and first_root == EMPTY_ROOT
    if not path:
        return False
    proof = list(path)
    if first & (first - 1) == 0:  # an exact power of two: its root is the first node
        proof.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0
