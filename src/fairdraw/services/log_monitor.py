"""Watching an instance's public draw log from outside: ``fairdraw log monitor``.

The draw log protects people only if someone outside keeps its signed tree heads
(``docs/fairness-v2.md``, "Threat model"). Each run of a monitor pins the instance's public
key, fetches the current signed tree head and holds it against the head kept from the last
run: the server's consistency proof must verify, and every new leaf is fetched, whose hashes
must rebuild the new root from the kept tree's frontier. So the monitor sees every leaf and
notes, by its own clock, when it first saw it: a seal leaf that shows up only after the
beacon round it binds was published is what a seal dated back looks like.

A run ends in one of:

- :class:`Checked`: the log only grew; the new state is saved (atomically) for the next run.
- :class:`Alarm`: a key change, a head not signed by the key, a rollback, a fork, a failed
  consistency proof, or leaves that do not rebuild the signed root. The state is left as it
  was, so every later run compares with the same kept head; when two statements signed by
  the instance contradict each other, the evidence is written to a file anyone can check
  (:func:`evidence_problem`).
- :class:`LogUnreachable` or :class:`MonitorStateError` (raised): nothing was checked and the
  state is untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx

from fairdraw.domain import transparency
from fairdraw.domain.beacon import QUICKNET, Chain
from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.moments import iso, now_ms
from fairdraw.domain.proof import ProofFormatError, canonical_json, parse_json
from fairdraw.domain.signing import key_id, verify_statement
from fairdraw.services.draw_log import (
    LEAF_TYPES,
    MAX_ENTRIES,
    NUMBERED,
    TREE_HEAD,
    validate_entry,
)
from fairdraw.services.outbound import get_bounded
from fairdraw.services.receipts import SIGNING_KEY_PATH

STATE_FORMAT: Final = "fairdraw-log-monitor/1"
EVIDENCE_TYPE: Final = "log-alarm"
# How long each request may take (connecting, or between two reads), seconds.
REQUEST_TIMEOUT: Final = 15.0
# The largest answer read: a page of MAX_ENTRIES leaves is about 0.5 MB; more is not an
# answer fairdraw gives, and reading without a bound would let a server exhaust memory.
MAX_ANSWER_BYTES: Final = 16 * 1024 * 1024
# A seal leaf warns when its round was out this long before a run that did not see it:
# room for the monitor's clock to be off.
DEFAULT_MARGIN_SECONDS: Final = 10
# Alarms whose evidence is two statements signed by the instance: written to a file.
PROVABLE: Final = frozenset({"key_changed", "rollback", "fork", "inconsistent"})
LEAF_WORDS: Final = {
    "commit": "opened",
    "seal": "sealed",
    "draw": "drawn",
    "cancel": "cancelled",
    "forfeit": "forfeited",
}

_HASH_HEX: Final = re.compile(r"[0-9a-f]{64}")
_SIGNATURE_HEX: Final = re.compile(r"[0-9a-f]{128}")
_TREE_HEAD_FIELDS: Final = frozenset({"type", "tree_size", "root_hash", "timestamp", "key_id"})
_EVIDENCE_FIELDS: Final = frozenset(
    {
        "type",
        "kind",
        "detail",
        "server",
        "observed_at",
        "public_key",
        "kept",
        "served",
        "served_key",
        "proof",
    }
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

Clock = Callable[[], int]


class LogUnreachable(Exception):
    """The instance could not be asked, or did not answer as a fairdraw instance does."""


class MonitorStateError(Exception):
    """The state file cannot be used: unreadable, not a monitor's state, or kept for
    another instance or key."""


# -- the shapes of what is signed -----------------------------------------------------------


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def tree_head_problem(value: object) -> str | None:
    """Why ``value`` is not a signed ``tree-head`` statement in form (the signature is
    not checked), or None."""
    if not isinstance(value, Mapping) or set(value) != {"statement", "signature"}:
        return "not a signed statement: an object with 'statement' and 'signature'"
    statement, signature = value["statement"], value["signature"]
    if not isinstance(statement, Mapping) or set(statement) != _TREE_HEAD_FIELDS:
        return f"its statement has not exactly the fields {', '.join(sorted(_TREE_HEAD_FIELDS))}"
    if statement["type"] != TREE_HEAD:
        return f"its statement is not of type {TREE_HEAD!r}"
    if not (_is_count(statement["tree_size"]) and _is_count(statement["timestamp"])):
        return "its tree_size and timestamp are not integers >= 0"
    hashes = (statement["root_hash"], statement["key_id"])
    if not all(isinstance(h, str) and _HASH_HEX.fullmatch(h) for h in hashes):
        return "its root_hash and key_id are not 64 lowercase hex characters"
    if not isinstance(signature, str) or not _SIGNATURE_HEX.fullmatch(signature):
        return "its signature is not 128 lowercase hex characters"
    return None


def _signed_by(head: Mapping[str, Any], public_key: bytes) -> bool:
    return head["statement"]["key_id"] == key_id(public_key) and verify_statement(head, public_key)


def _size(head: Mapping[str, Any]) -> int:
    size: int = head["statement"]["tree_size"]
    return size


def _root(head: Mapping[str, Any]) -> bytes:
    return bytes.fromhex(head["statement"]["root_hash"])


def _described(head: Mapping[str, Any]) -> str:
    statement = head["statement"]
    return (
        f"{statement['tree_size']:,} leaves, root {statement['root_hash']}, "
        f"signed at {iso(statement['timestamp'])}"
    )


# -- the state kept between runs -----------------------------------------------------------


@dataclass(frozen=True)
class MonitorState:
    """What a monitor keeps between runs: the instance, its pinned key, the last signed
    tree head it checked (``checked_ms``: its own clock when it asked for it), that tree's
    frontier (the hashes :func:`transparency.subtree_nodes` lists), and per draw, per leaf
    type, the leaf's index, when the monitor first saw it and when it last saw the log
    without it (``absent_at``: null when the leaf was there at the first run)."""

    server: str
    public_key: bytes
    tree_head: dict[str, Any]
    checked_ms: int
    frontier: tuple[bytes, ...]
    draws: dict[str, dict[str, dict[str, Any]]]

    @property
    def tree_size(self) -> int:
        return _size(self.tree_head)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "server": self.server,
            "public_key": self.public_key.hex(),
            "key_id": key_id(self.public_key),
            "tree_head": self.tree_head,
            "checked_at": iso(self.checked_ms),
            "frontier": [node.hex() for node in self.frontier],
            "draws": self.draws,
        }

    @classmethod
    def from_json(cls, value: Any) -> MonitorState:
        """The state in a state file's document; ValueError saying what is wrong."""
        fields = {"format", "server", "public_key", "key_id", "tree_head", "checked_at"}
        if not isinstance(value, dict) or set(value) != fields | {"frontier", "draws"}:
            raise ValueError("it is not a log monitor's state")
        if value["format"] != STATE_FORMAT:
            raise ValueError(f"its format is not {STATE_FORMAT}")
        if not isinstance(value["server"], str) or not isinstance(value["public_key"], str):
            raise ValueError("its server or public key is not text")
        if not _HASH_HEX.fullmatch(value["public_key"]):
            raise ValueError("its public key is not 64 lowercase hex characters")
        public_key = bytes.fromhex(value["public_key"])
        head = value["tree_head"]
        if tree_head_problem(head) is not None or not _signed_by(head, public_key):
            raise ValueError("its tree head is not a tree head signed by its key")
        frontier = value["frontier"]
        if not isinstance(frontier, list) or not all(
            isinstance(node, str) and _HASH_HEX.fullmatch(node) for node in frontier
        ):
            raise ValueError("its frontier is not a list of hashes")
        nodes = tuple(bytes.fromhex(node) for node in frontier)
        if len(nodes) != _size(head).bit_count() or (
            transparency.fold_subtrees(nodes) != _root(head)
        ):
            raise ValueError("its frontier is not the frontier of its tree head")
        draws = value["draws"]
        if not isinstance(draws, dict) or not all(
            isinstance(leaves, dict) and all(isinstance(seen, dict) for seen in leaves.values())
            for leaves in draws.values()
        ):
            raise ValueError("its draws are not an object of objects")
        return cls(value["server"], public_key, head, _ms(value["checked_at"]), nodes, draws)


def _ms(text: object) -> int:
    """An ISO-8601 UTC time as epoch milliseconds (ValueError otherwise)."""
    if not isinstance(text, str):
        raise ValueError("a time is ISO-8601 text")
    moment = datetime.fromisoformat(text)
    if moment.utcoffset() != timedelta(0):
        raise ValueError(f"{text!r} is not a UTC time")
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def load_state(path: Path) -> MonitorState | None:
    """The state kept at ``path``; None when there is no file yet (the first run).
    MonitorStateError for a file that cannot be read or is not a monitor's state: it is
    never overwritten then."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MonitorStateError(f"cannot read the state file {path}: {exc.strerror}") from exc
    try:
        return MonitorState.from_json(parse_json(data, "the state file"))
    except (ValueError, TypeError) as exc:
        raise MonitorStateError(
            f"{path} is not a usable log monitor state ({exc}); it was left as it is"
        ) from exc


def save_state(path: Path, state: MonitorState) -> None:
    """Write ``state`` to ``path`` so that the file is always either the old state or
    the new one, complete (a temporary file renamed over it). MonitorStateError when it
    cannot be written."""
    try:
        text = json.dumps(state.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        _write_atomically(path, text.encode(), replace=True)
    except OSError as exc:
        raise MonitorStateError(f"cannot write the state file {path}: {exc.strerror}") from exc


def _write_atomically(path: Path, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk and move it
    into place: over ``path`` (``replace``), or only if ``path`` does not exist yet (an
    existing file is left as it is)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        with temporary.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            temporary.replace(path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


# -- the instance's log over HTTP ---------------------------------------------------------


class _InstanceLog:
    """The public log endpoints of the instance at ``base``; each answer is checked to
    have the shape fairdraw gives it (LogUnreachable otherwise)."""

    def __init__(self, client: httpx.Client, base: str) -> None:
        self._client = client
        self._base = base

    def _get(self, path: str, **params: int) -> Any:
        url = self._base + path
        try:
            response = get_bounded(self._client, url, MAX_ANSWER_BYTES, params=params)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise LogUnreachable(f"could not reach {url}: {exc}") from exc
        where = str(response.url)
        if response.status_code != 200:
            raise LogUnreachable(f"{where} answered {response.status_code}")
        try:
            return parse_json(response.content, "its answer")
        except ProofFormatError as exc:
            raise LogUnreachable(f"{where} did not answer valid JSON ({exc})") from exc

    def signing_key(self) -> dict[str, str]:
        """The key description at ``/.well-known/fairdraw-signing-key``, checked."""
        served = self._get(SIGNING_KEY_PATH)
        where = self._base + SIGNING_KEY_PATH
        if not isinstance(served, dict) or set(served) != {"algorithm", "public_key", "key_id"}:
            raise LogUnreachable(f"{where} does not describe a signing key")
        public_key = served["public_key"]
        if served["algorithm"] != "ed25519" or not (
            isinstance(public_key, str) and _HASH_HEX.fullmatch(public_key)
        ):
            raise LogUnreachable(f"{where} does not describe an Ed25519 key")
        if served["key_id"] != key_id(bytes.fromhex(public_key)):
            raise LogUnreachable(f"{where}: its key_id is not the sha256 of its public key")
        return dict(served)

    def tree_head(self) -> dict[str, Any]:
        head = self._get("/api/v1/log/tree-head")
        problem = tree_head_problem(head)
        if problem is not None:
            raise LogUnreachable(f"{self._base}/api/v1/log/tree-head: {problem}")
        return dict(head)

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        proof = self._get("/api/v1/log/consistency", first=first, second=second)
        if not (
            isinstance(proof, dict)
            and set(proof) == {"first", "second", "path"}
            and (proof["first"], proof["second"]) == (first, second)
            and isinstance(proof["path"], list)
            and all(isinstance(h, str) and _HASH_HEX.fullmatch(h) for h in proof["path"])
        ):
            raise LogUnreachable(
                f"{self._base}/api/v1/log/consistency did not answer a consistency proof "
                f"from {first} to {second} leaves"
            )
        return dict(proof)

    def leaves(self, start: int, end: int) -> Iterator[dict[str, Any]]:
        """The entries of leaves ``start .. end - 1``, in order, :data:`MAX_ENTRIES`
        per request."""
        index = start
        while index < end:
            page = self._get("/api/v1/log/entries", start=index, end=min(end, index + MAX_ENTRIES))
            leaves = page.get("entries") if isinstance(page, dict) else None
            if not isinstance(leaves, list) or not leaves:
                raise LogUnreachable(
                    f"{self._base}/api/v1/log/entries gave no leaf {index}, though its tree "
                    f"head has {end:,} leaves"
                )
            for leaf in leaves:
                if not (
                    isinstance(leaf, dict)
                    and set(leaf) == {"leaf_index", "entry"}
                    and leaf["leaf_index"] == index < end
                    and isinstance(leaf["entry"], dict)
                ):
                    raise LogUnreachable(
                        f"{self._base}/api/v1/log/entries did not answer leaf {index} as a log leaf"
                    )
                yield leaf["entry"]
                index += 1


# -- what a run comes to -----------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """The log only grew: ``state`` is what to keep; ``counts`` are the new leaves by
    type, ``warnings`` what deserves a look without proving anything."""

    state: MonitorState
    previous_size: int | None
    counts: Mapping[str, int]
    warnings: Sequence[str]

    @property
    def new_leaves(self) -> int:
        return self.state.tree_size - (self.previous_size or 0)

    def summary(self) -> str:
        """One line: the tree's size, the new leaves by what they record, the root."""
        # Forfeits are rare: named only when there are some.
        shown = [k for k in LEAF_TYPES if k != NUMBERED or self.counts.get(k, 0)]
        kinds = ", ".join(f"{self.counts.get(kind, 0):,} {LEAF_WORDS[kind]}" for kind in shown)
        size = self.state.tree_size
        root = self.state.tree_head["statement"]["root_hash"]
        if self.previous_size is None:
            pinned = key_id(self.state.public_key)
            return (
                f"OK: {size:,} leaves, {self.new_leaves:,} new on the first run ({kinds}); "
                f"key {pinned} pinned; root {root}"
            )
        return f"OK: {size:,} leaves, {self.new_leaves:,} new ({kinds}); root {root}"


@dataclass(frozen=True)
class Alarm:
    """The log or its key is not what the monitor kept: ``evidence`` holds what was seen
    (the document written to ``evidence_file`` for a :data:`PROVABLE` kind)."""

    kind: str
    detail: str
    evidence: dict[str, Any]
    evidence_file: Path | None = None
    write_error: str | None = None

    def lines(self) -> list[str]:
        """The alarm as the command prints it: what happened, the statements it rests
        on, and where the evidence is."""
        lines = [f"ALARM ({self.kind}): {self.detail}"]
        shown = [
            ("kept tree head", "kept"),
            ("served tree head", "served"),
            ("served key", "served_key"),
            ("consistency proof", "proof"),
        ]
        for label, field in shown:
            if self.evidence[field] is not None:
                lines.append(f"  {label}: {canonical_json(self.evidence[field]).decode()}")
        if self.evidence_file is not None:
            lines.append(
                f"Evidence written to {self.evidence_file}: anyone can check it by its "
                f"signatures with fairdraw log check-evidence {self.evidence_file}"
            )
        if self.write_error is not None:
            lines.append(f"The evidence could not be written: {self.write_error}")
        lines.append("The state file is unchanged: the next run compares with the same kept head.")
        return lines


def check_log(
    client: httpx.Client,
    server: str,
    state: MonitorState | None,
    key: bytes | None = None,
    *,
    chains: Sequence[Chain] = (QUICKNET,),
    margin_seconds: int = DEFAULT_MARGIN_SECONDS,
    clock: Clock = now_ms,
) -> Checked | Alarm:
    """One run against the instance at ``server`` (its base URL), from ``state`` (None on
    the first run, which pins ``key`` or else the key the instance publishes).
    LogUnreachable when the instance cannot be asked or answers what fairdraw never does."""
    base = server.rstrip("/")
    log = _InstanceLog(client, base)
    served_key = log.signing_key()
    served_public = bytes.fromhex(served_key["public_key"])
    pinned = state.public_key if state is not None else (key or served_public)
    kept = state.tree_head if state is not None else None
    checked_ms = clock()
    head = log.tree_head()
    seen_ms = clock()

    def alarm(kind: str, detail: str, **evidence: Any) -> Alarm:
        document = {
            "type": EVIDENCE_TYPE,
            "kind": kind,
            "detail": detail,
            "server": base,
            "observed_at": iso(seen_ms),
            "public_key": pinned.hex(),
            "kept": kept,
            "served": head,
            "served_key": None,
            "proof": None,
        }
        return Alarm(kind, detail, document | evidence)

    if served_public != pinned:
        return alarm(
            "key_changed",
            f"the instance now publishes the key {served_key['key_id']}, not the pinned key "
            f"{key_id(pinned)}",
            served_key=served_key,
            served=head if _signed_by(head, served_public) else None,
        )
    if not _signed_by(head, pinned):
        return alarm(
            "bad_signature",
            f"the tree head the instance served ({_described(head)}) is not signed by the "
            f"pinned key {key_id(pinned)}",
        )
    previous = state.tree_size if state is not None else 0
    size, root = _size(head), _root(head)
    if kept is not None:
        found = _compare(log, kept, head, alarm)
        if found is not None:
            return found
    draws = {draw: dict(leaves) for draw, leaves in (state.draws if state else {}).items()}
    notes = _LeafNotes(draws, state.checked_ms if state else None, seen_ms, chains, margin_seconds)
    frontier = list(state.frontier) if state is not None else []
    for index, entry in enumerate(log.leaves(previous, size), previous):
        try:
            leaf = transparency.leaf_hash(entry)
        except (TypeError, ValueError) as exc:
            raise LogUnreachable(f"leaf {index} the instance served is not JSON: {exc}") from exc
        frontier = transparency.extend_frontier(frontier, index, leaf)[1]
        notes.note(index, entry)
    rebuilt = transparency.fold_subtrees(frontier)
    if rebuilt != root:
        return alarm(
            "leaves_mismatch",
            f"the leaves {previous} to {size - 1} the instance served rebuild the root "
            f"{rebuilt.hex()}, not the root of its signed tree head ({_described(head)})",
        )
    new_state = MonitorState(base, pinned, head, checked_ms, tuple(frontier), draws)
    return Checked(new_state, previous if state is not None else None, notes.counts, notes.warnings)


def _compare(
    log: _InstanceLog,
    kept: Mapping[str, Any],
    head: Mapping[str, Any],
    alarm: Callable[..., Alarm],
) -> Alarm | None:
    """The alarm that ``head`` raises against the ``kept`` head, or None when it extends
    it (the instance's consistency proof verifies)."""
    previous, size = _size(kept), _size(head)
    if size < previous:
        if head["statement"]["timestamp"] <= kept["statement"]["timestamp"]:
            raise LogUnreachable(
                f"the instance served a tree head ({_described(head)}) signed before the one "
                f"kept ({_described(kept)}): an old answer, from a cache?"
            )
        return alarm(
            "rollback",
            f"the log shrank: a tree head of {previous:,} leaves was kept, and a later one "
            f"of {size:,} leaves is served, both signed by the pinned key",
        )
    if size == previous:
        if _root(head) == _root(kept):
            return None
        return alarm(
            "fork",
            f"two tree heads of {size:,} leaves, both signed by the pinned key, have different "
            "roots: the log was rewritten, or is shown differently to different people",
        )
    proof = log.consistency(previous, size)
    path = [bytes.fromhex(node) for node in proof["path"]]
    if transparency.verify_consistency(previous, size, _root(kept), _root(head), path):
        return None
    return alarm(
        "inconsistent",
        f"the instance's proof that the kept tree of {previous:,} leaves is a prefix of its "
        f"tree of {size:,} leaves does not verify: the log was rewritten, or is shown "
        "differently to different people",
        proof=proof,
    )


class _LeafNotes:
    """Records each new leaf in the per-draw state, counts them by type, and warns about
    malformed leaves, a second leaf of one type for a draw, and seals logged late."""

    def __init__(
        self,
        draws: dict[str, dict[str, dict[str, Any]]],
        absent_ms: int | None,
        seen_ms: int,
        chains: Sequence[Chain],
        margin_seconds: int,
    ) -> None:
        self._draws = draws
        self._absent_ms = absent_ms
        self._seen_ms = seen_ms
        self._chains = {chain.chain_hash: chain for chain in chains}
        self._margin_ms = margin_seconds * 1000
        self.counts: dict[str, int] = dict.fromkeys(LEAF_TYPES, 0)
        self.warnings: list[str] = []

    def note(self, index: int, entry: Mapping[str, Any]) -> None:
        try:
            leaf = validate_entry(entry)
        except InvalidInput as exc:
            self.warnings.append(f"leaf {index} is not a well-formed draw log leaf ({exc.detail})")
            return
        kind, draw = leaf["type"], leaf["draw_id"]
        self.counts[kind] += 1
        if kind == NUMBERED:
            # Many per draw, one per number: seen under "forfeit:number".
            kind = f"{kind}:{leaf['number']}"
        seen = self._draws.setdefault(draw, {})
        if kind in seen:
            self.warnings.append(
                f"leaf {index} is a second {kind} leaf of draw {draw} (the first is leaf "
                f"{seen[kind].get('leaf_index')}): a draw has one leaf of each type"
            )
            return
        absent = iso(self._absent_ms) if self._absent_ms is not None else None
        seen[kind] = {"leaf_index": index, "first_seen": iso(self._seen_ms), "absent_at": absent}
        if kind == "seal" and leaf["beacon"] is not None:
            self._check_seal_time(index, draw, leaf["beacon"])

    def _check_seal_time(self, index: int, draw: str, beacon: Mapping[str, Any]) -> None:
        """Warn when the round a seal binds was out (by more than the margin) at a run
        whose tree head did not hold the seal yet."""
        chain = self._chains.get(beacon["chain_hash"])
        if chain is None or self._absent_ms is None:
            return  # a chain this monitor does not know, or a leaf there at the first run
        try:
            published_ms = chain.round_time(beacon["round"]) * 1000
        except ValueError:
            return  # past the last round a chain can have: no time to compare
        if published_ms + self._margin_ms > self._absent_ms:
            return
        late = (self._absent_ms - published_ms) // 1000
        self.warnings.append(
            f"the seal of draw {draw} (leaf {index}) binds beacon round {beacon['round']}, "
            f"published at {iso(published_ms)}, but the log did not hold it at "
            f"{iso(self._absent_ms)}, {late:,} s later: it was logged after its round was "
            "out, so whoever sealed it could know the round (by this monitor's clock)"
        )


# -- a run, with its files -----------------------------------------------------------------


def monitor_once(
    server: str,
    state_file: Path,
    key: bytes | None = None,
    *,
    chains: Sequence[Chain] = (QUICKNET,),
    margin_seconds: int = DEFAULT_MARGIN_SECONDS,
    clock: Clock = now_ms,
    timeout: float = REQUEST_TIMEOUT,
) -> Checked | Alarm:
    """``fairdraw log monitor``: one run against ``server`` with the state kept in
    ``state_file``. A :class:`Checked` run saves its state; an :class:`Alarm` of a
    :data:`PROVABLE` kind writes its evidence beside the state file (once per kept head:
    a later run finding the same names that file). Raises LogUnreachable or
    MonitorStateError, with the state file untouched."""
    base = server.rstrip("/")
    state = load_state(state_file)
    if state is not None and state.server != base:
        raise MonitorStateError(
            f"{state_file} watches {state.server}, not {base}: keep one state file per instance"
        )
    if state is not None and key is not None and key != state.public_key:
        raise MonitorStateError(
            f"{state_file} pins the key {key_id(state.public_key)}, not the key given "
            f"({key_id(key)})"
        )
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        result = check_log(
            client, base, state, key, chains=chains, margin_seconds=margin_seconds, clock=clock
        )
    if isinstance(result, Checked):
        save_state(state_file, result.state)
        return result
    if result.kind not in PROVABLE:
        return result
    path = state_file.parent / evidence_file_name(result.evidence)
    try:
        _write_atomically(path, canonical_json(result.evidence) + b"\n", replace=False)
    except OSError as exc:
        return dataclasses.replace(result, write_error=f"{path}: {exc.strerror}")
    return dataclasses.replace(result, evidence_file=path)


def evidence_file_name(evidence: Mapping[str, Any]) -> str:
    """``fairdraw-log-<kind>-<digest>.json``: one name per kind of alarm, pinned key and
    kept head, so an alarm raised run after run is written once."""
    about = {key: evidence[key] for key in ("kind", "public_key", "kept")}
    digest = hashlib.sha256(canonical_json(about)).hexdigest()[:16]
    return f"fairdraw-log-{evidence['kind']}-{digest}.json"


# -- checking evidence -----------------------------------------------------------------------


def evidence_problem(evidence: object) -> str | None:
    """Why ``evidence`` (an evidence file's document) does not prove what its ``kind``
    says, or None when it does, by signatures alone: ``fork``, two heads of one size with
    different roots; ``rollback``, a head with fewer leaves signed after the kept one;
    ``inconsistent``, a larger head and the instance's consistency proof, which fails;
    ``key_changed``, another key published, with the heads each key signed."""
    if not isinstance(evidence, Mapping) or set(evidence) != _EVIDENCE_FIELDS:
        return "this is not a log alarm's evidence"
    if evidence["type"] != EVIDENCE_TYPE or evidence["kind"] not in PROVABLE:
        return f"this is not the evidence of one of: {', '.join(sorted(PROVABLE))}"
    public_key = evidence["public_key"]
    if not isinstance(public_key, str) or not _HASH_HEX.fullmatch(public_key):
        return "its public key is not 64 lowercase hex characters"
    pinned = bytes.fromhex(public_key)
    kept, served = evidence["kept"], evidence["served"]
    for name, head in (("kept", kept), ("served", served)):
        if head is not None and tree_head_problem(head) is not None:
            return f"its {name} tree head is not a tree head: {tree_head_problem(head)}"
    if evidence["kind"] == "key_changed":
        return _key_change_problem(evidence, pinned)
    if kept is None or served is None:
        return "it needs the kept and the served tree head"
    if not (_signed_by(kept, pinned) and _signed_by(served, pinned)):
        return "its tree heads are not both signed by its public key"
    return _heads_problem(evidence["kind"], kept, served, evidence["proof"])


def _key_change_problem(evidence: Mapping[str, Any], pinned: bytes) -> str | None:
    described = evidence["served_key"]
    if not (
        isinstance(described, Mapping)
        and isinstance(described.get("public_key"), str)
        and _HASH_HEX.fullmatch(described["public_key"])
        and described.get("key_id") == key_id(bytes.fromhex(described["public_key"]))
    ):
        return "its served key is not a key description"
    served_public = bytes.fromhex(described["public_key"])
    if served_public == pinned:
        return "the served key is the pinned key: nothing changed"
    if evidence["kept"] is not None and not _signed_by(evidence["kept"], pinned):
        return "its kept tree head is not signed by the pinned key"
    if evidence["served"] is not None and not _signed_by(evidence["served"], served_public):
        return "its served tree head is not signed by the served key"
    return None


def _heads_problem(
    kind: str, kept: Mapping[str, Any], served: Mapping[str, Any], proof: Any
) -> str | None:
    previous, size = _size(kept), _size(served)
    if kind == "fork":
        if size != previous or _root(kept) == _root(served):
            return "its tree heads are not of one size with different roots"
        return None
    if kind == "rollback":
        later = served["statement"]["timestamp"] > kept["statement"]["timestamp"]
        if size >= previous or not later:
            return "its served tree head is not smaller than the kept one and signed after it"
        return None
    if not (
        isinstance(proof, Mapping)
        and (proof.get("first"), proof.get("second")) == (previous, size)
        and isinstance(proof.get("path"), list)
        and all(isinstance(h, str) and _HASH_HEX.fullmatch(h) for h in proof["path"])
    ):
        return "it has no consistency proof between its two tree heads"
    if size <= previous:
        return "its served tree head is not larger than the kept one"
    path = [bytes.fromhex(node) for node in proof["path"]]
    if transparency.verify_consistency(previous, size, _root(kept), _root(served), path):
        return "its consistency proof verifies: the served tree extends the kept one"
    return None
