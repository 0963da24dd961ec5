"""The public draw log: append a draw's leaves, answer signed tree heads and proofs.

Each ``fairdraw/2`` draw puts its leaves in one instance-wide append-only log
(RFC 9162 Merkle tree, ``docs/fairness-v2.md`` "The draw log"): ``commit`` when it opens,
``seal``, ``draw`` and ``cancel``, at most one of each, and one ``forfeit`` per
substitution after the draw (numbered from 0). Anyone can fetch a signed tree head,
check that a leaf is in it (inclusion) and that every later head extends it
(consistency), so a draw run again or a result rewritten cannot go unnoticed.

Appending is safe to repeat and to run from many processes at once: a leaf id
(``type:draw_id``) has one leaf for good, and the store takes an append only if the log
is still the tree its hashes were computed from (else the service retries from the head
the store answered). Within a process, appends take turns, so they do not race each other.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from fairdraw.domain import transparency
from fairdraw.domain.draws import DrawKind
from fairdraw.domain.errors import DrawNotFound, InvalidInput, Unavailable
from fairdraw.domain.moments import now_ms
from fairdraw.domain.proof import canonical_json
from fairdraw.domain.signing import SigningKey
from fairdraw.domain.transparency import Range
from fairdraw.i18n import N_, Message
from fairdraw.store.draw_log import DrawLogStore, LogHead
from fairdraw.store.keys import DRAW_ID_PATTERN

LEAF_TYPES: Final = ("commit", "seal", "draw", "cancel", "forfeit")
# The leaf type a draw has many of, told apart by their "number".
NUMBERED: Final = "forfeit"
# Numbered leaves are looked up this many at a time, until one is missing.
NUMBERED_BATCH: Final = 16
TREE_HEAD: Final = "tree-head"
# The most entries one read returns (GET /api/v1/log/entries).
MAX_ENTRIES: Final = 1000
# Each failed attempt means another process appended meanwhile; this many in a row means
# a flood of appends, not a fault, so the caller is told to try again.
APPEND_ATTEMPTS: Final = 100
# The longest wait (seconds) between two attempts at an append that another process beat.
BACKOFF_CAP: Final = 0.05

_DRAW_ID = re.compile(DRAW_ID_PATTERN)
_HASH_HEX = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
_KINDS = frozenset(kind.value for kind in DrawKind)

Check = Callable[[Any], str | None]


def _hash_hex(value: Any) -> str | None:
    if isinstance(value, str) and _HASH_HEX.fullmatch(value):
        return None
    return "64 lowercase hex characters"


def _hash_hex_or_null(value: Any) -> str | None:
    return None if value is None else _hash_hex(value)


def _draw_id(value: Any) -> str | None:
    ok = isinstance(value, str) and _DRAW_ID.fullmatch(value)
    return None if ok else "a fairdraw draw id"


def _kind(value: Any) -> str | None:
    return None if value in _KINDS else f"one of {', '.join(sorted(_KINDS))}"


def _moment(value: Any) -> str | None:
    rule = "an ISO-8601 UTC time with milliseconds, like 2026-12-06T22:00:00.000Z"
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        return rule
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return rule
    return None


def _count(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return None if ok else "an integer >= 0"


def _beacon(value: Any) -> str | None:
    if value is None:
        return None
    rule = "null or {chain_hash: 64 hex, round: integer >= 1}"
    if not isinstance(value, Mapping) or set(value) != {"chain_hash", "round"}:
        return rule
    chain_round = value["round"]
    if _hash_hex(value["chain_hash"]) or _count(chain_round) or chain_round < 1:
        return rule
    return None


# The fields of each leaf type (all required, no others), and what each must be.
LEAF_FIELDS: Final[Mapping[str, Mapping[str, Check]]] = {
    "commit": {"draw_id": _draw_id, "kind": _kind, "time": _moment, "commitment": _hash_hex},
    "seal": {
        "draw_id": _draw_id,
        "time": _moment,
        "root": _hash_hex,
        "entry_count": _count,
        "sealed_at": _moment,
        "beacon": _beacon,
    },
    "draw": {"draw_id": _draw_id, "time": _moment, "bundle_hash": _hash_hex},
    "cancel": {
        "draw_id": _draw_id,
        "time": _moment,
        "commitment": _hash_hex_or_null,
        "seed": _hash_hex_or_null,
    },
    "forfeit": {
        "draw_id": _draw_id,
        "time": _moment,
        "bundle_hash": _hash_hex,
        "number": _count,
        "substitution": _hash_hex,
    },
}


def validate_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """``entry`` as a leaf of the draw log, or InvalidInput naming each wrong field."""
    kind = entry.get("type")
    if not isinstance(kind, str) or kind not in LEAF_FIELDS:
        raise InvalidInput({"type": _one_of_types()})
    fields = LEAF_FIELDS[kind]
    problems = {
        name: f"not a field of a {kind} leaf"
        for name in entry
        if name != "type" and name not in fields
    }
    for name, check in fields.items():
        if name not in entry:
            problems[name] = "required"
        elif (problem := check(entry[name])) is not None:
            problems[name] = problem
    if problems:
        raise InvalidInput(problems)
    return dict(entry)


def leaf_id(kind: str, draw_id: str, number: int | None = None) -> str:
    """The one leaf a draw has of a kind: ``"type:draw_id"``; a numbered (``forfeit``)
    leaf's is ``"forfeit:draw_id:number"``."""
    return f"{kind}:{draw_id}" if number is None else f"{kind}:{draw_id}:{number}"


def entry_leaf_id(entry: Mapping[str, Any]) -> str:
    """The leaf id of a checked entry."""
    number = entry["number"] if entry["type"] == NUMBERED else None
    return leaf_id(entry["type"], entry["draw_id"], number)


class DrawLogService:
    """The instance's draw log, with its signing key for tree heads."""

    def __init__(
        self, store: DrawLogStore, signing_key: SigningKey, clock: Callable[[], int] = now_ms
    ) -> None:
        self._store = store
        self._key = signing_key
        self._clock = clock
        # The last head this process knows: an append starts from it (one round trip
        # when no other process appended since) and corrects it when the store says so.
        self._head: LogHead | None = None
        self._appending = asyncio.Lock()

    # -- writing -------------------------------------------------------------------------
    async def append(self, entry: Mapping[str, Any]) -> int:
        """Append ``entry`` (a ``commit``, ``seal``, ``draw``, ``cancel`` or ``forfeit``
        leaf) and return its leaf index. A draw has one leaf of each type (of each number,
        for ``forfeit``): appending another (a retry) changes nothing and returns the index
        of the first."""
        checked = validate_entry(entry)
        identifier = entry_leaf_id(checked)
        text = canonical_json(checked).decode()
        leaf = transparency.leaf_hash(checked)
        async with self._appending:
            head = self._head or await self._store.head()
            for attempt in range(APPEND_ATTEMPTS):
                completed, frontier = transparency.extend_frontier(head.frontier, head.size, leaf)
                done = await self._store.append(identifier, text, head, completed, frontier)
                if done.moved is not None:
                    # Another process appended first. It may have a run of appends
                    # queued, each a step ahead of this one's retry: wait a random,
                    # growing moment so the two interleave instead of one always losing.
                    head = done.moved
                    await asyncio.sleep(random.uniform(0, min(BACKOFF_CAP, 0.001 * 2**attempt)))
                    continue
                self._head = LogHead(head.size + 1, tuple(frontier)) if done.created else head
                assert done.index is not None
                return done.index
        raise Unavailable("The draw log is busy; try again")

    # -- tree heads ----------------------------------------------------------------------
    async def tree_head(self) -> dict[str, Any]:
        """The signed ``tree-head`` statement of the log as it is now."""
        head = await self._store.head()
        return self._sign_head(head.size, transparency.fold_subtrees(head.frontier))

    async def tree_head_at(self, size: int) -> dict[str, Any]:
        """The signed ``tree-head`` statement of the log when it had ``size`` leaves."""
        current = await self._store.head()
        _check_size("tree_size", size, current.size)
        if size == 0:
            return self._sign_head(0, transparency.EMPTY_ROOT)
        (root,) = await self._range_hashes([(0, size)])
        return self._sign_head(size, root)

    def _sign_head(self, size: int, root: bytes) -> dict[str, Any]:
        statement = {
            "type": TREE_HEAD,
            "tree_size": size,
            "root_hash": root.hex(),
            "timestamp": self._clock(),
            "key_id": self._key.key_id,
        }
        return self._key.sign_statement(statement)

    # -- proofs --------------------------------------------------------------------------
    async def inclusion(self, leaf_index: int, tree_size: int) -> list[str]:
        """The audit path (hex) of leaf ``leaf_index`` in the tree of ``tree_size``
        leaves, which must not be larger than the log."""
        current = await self._store.head()
        _check_size("tree_size", tree_size, current.size)
        if not 0 <= leaf_index < tree_size:
            raise InvalidInput(
                {"leaf_index": Message(N_("a leaf of the tree: 0 to %(last)s"), last=tree_size - 1)}
            )
        path = await self._range_hashes(transparency.inclusion_ranges(leaf_index, tree_size))
        return [node.hex() for node in path]

    async def consistency(self, first: int, second: int) -> list[str]:
        """The consistency proof (hex) from the tree of ``first`` leaves to the tree of
        ``second``, which must not be larger than the log."""
        current = await self._store.head()
        _check_size("second", second, current.size)
        if not 0 <= first <= second:
            raise InvalidInput(
                {"first": Message(N_("a tree size from 0 to second (%(second)s)"), second=second)}
            )
        proof = await self._range_hashes(transparency.consistency_ranges(first, second))
        return [node.hex() for node in proof]

    async def _range_hashes(self, ranges: Sequence[Range]) -> list[bytes]:
        """The tree hash of each (non-empty, aligned) leaf range, from the stored
        complete subtrees: one round trip."""
        per_range = [transparency.subtree_nodes(start, end) for start, end in ranges]
        wanted = list(dict.fromkeys(node for nodes in per_range for node in nodes))
        found = dict(zip(wanted, await self._store.nodes(wanted), strict=True))
        return [transparency.fold_subtrees([found[node] for node in nodes]) for nodes in per_range]

    # -- reading entries -----------------------------------------------------------------
    async def entries(self, start: int, end: int) -> list[dict[str, Any]]:
        """``{"leaf_index", "entry"}`` of the leaves ``start <= i < end`` that exist, at
        most :data:`MAX_ENTRIES` of them (the first ones): fewer than asked is not the
        end of the log, an empty list is."""
        if start < 0:
            raise InvalidInput({"start": N_("a leaf index >= 0")})
        if end < start:
            raise InvalidInput({"end": N_("at least start")})
        stop = min(end, start + MAX_ENTRIES, (await self._store.head()).size)
        texts = await self._store.entries(start, stop)
        return [_leaf(index, text) for index, text in enumerate(texts, start)]

    async def draw_leaves(self, draw_id: str) -> list[dict[str, Any]]:
        """``{"leaf_index", "entry"}`` of each leaf of the draw, in log order."""
        if _draw_id(draw_id) is not None:
            raise DrawNotFound()
        single = [leaf_id(kind, draw_id) for kind in LEAF_TYPES if kind != NUMBERED]
        found = await self._store.leaves_of(single)
        first = 0
        while True:
            numbers = range(first, first + NUMBERED_BATCH)
            batch = await self._store.leaves_of([leaf_id(NUMBERED, draw_id, n) for n in numbers])
            found += batch
            if len(batch) < NUMBERED_BATCH:
                break
            first += NUMBERED_BATCH
        return [_leaf(index, text) for index, text in sorted(found)]

    async def proof_of(
        self, draw_id: str, kind: str, number: int | None = None
    ) -> dict[str, Any] | None:
        """The draw's ``kind`` leaf (``number`` of a ``forfeit`` leaf) with its audit path
        in the log as it is now and that tree's signed head (a bundle's ``log``); None if
        the draw has no such leaf."""
        if kind not in LEAF_TYPES:
            raise InvalidInput({"type": _one_of_types()})
        if _draw_id(draw_id) is not None:
            raise DrawNotFound()
        found = await self._store.leaves_of([leaf_id(kind, draw_id, number)])
        if not found:
            return None
        index, text = found[0]
        head = await self._store.head()  # read after the leaf, so the leaf is in it
        path = await self._range_hashes(transparency.inclusion_ranges(index, head.size))
        return {
            **_leaf(index, text),
            "path": [node.hex() for node in path],
            "tree_head": self._sign_head(head.size, transparency.fold_subtrees(head.frontier)),
        }


def _check_size(name: str, size: int, current: int) -> None:
    if not 0 <= size <= current:
        raise InvalidInput(
            {name: Message(N_("a tree size from 0 to the log's size (%(size)s)"), size=current)}
        )


def _one_of_types() -> Message:
    return Message(N_("one of %(types)s"), types=", ".join(LEAF_TYPES))


def _leaf(index: int, text: str) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(text)
    return {"leaf_index": index, "entry": entry}
