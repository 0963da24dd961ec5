"""Verifying a proof bundle against its entries file, offline: ``fairdraw/1`` and
``fairdraw/2``.

:func:`verify_bundle_bytes` reads both files as bytes, strictly, and runs the checks of
the bundle's version in order: its shape, then the seal's Merkle root, the seed's
commitment, the prize slots and (version 2) the beacon round and the winners' openings,
then the winners, alternates and unawarded slots, and (version 2) the draw's place in the
signed public log. It names the first check that fails. ``docs/fairness.md`` and
``docs/fairness-v2.md`` specify the formats and the checks; :mod:`fairdraw.domain.proof`
reads and builds the bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fairdraw.domain import fairness, signing, transparency
from fairdraw.domain.beacon import QUICKNET, BeaconError, Chain, iso_seconds, verify_round
from fairdraw.domain.fairness import ALGORITHM, ALGORITHM_V2, ALGORITHMS, Outcome
from fairdraw.domain.proof import (
    DRAW_KINDS,
    RAFFLE_KIND,
    ProofFormatError,
    bundle_hash,
    canonical_json,
    decode_utf8,
    parse_canonical,
    parse_entries_bytes,
    parse_entries_file,
    parse_json,
    raffle_ticket,
    ref_pattern,
    ref_rule,
)

V1_CHECKS = (
    "format",
    "entry_count",
    "merkle_root",
    "commitment",
    "slots",
    "winners",
    "alternates",
    "unawarded",
)
V2_CHECKS = (
    "format",
    "entry_count",
    "merkle_root",
    "commitment",
    "slots",
    "beacon",
    "openings",
    "winners",
    "alternates",
    "unawarded",
    "log",
)
_RESULT_CHECKS = ("winners", "alternates", "unawarded")

_HEX = {n: re.compile(f"[0-9a-f]{{{2 * n}}}") for n in (16, 32, 48, 64, 96)}
_HASH_BYTES = 32
_NONCE_BYTES = fairness.NONCE_BYTES
_BEACON_SIGNATURE_BYTES = 48
_BEACON_KEY_BYTES = 96
_ED25519_KEY_BYTES = signing.PUBLIC_KEY_BYTES
_ED25519_SIGNATURE_BYTES = signing.SIGNATURE_BYTES
_MAX_TICKETS = 1_000_000_000
# fairdraw/1 published times with and without milliseconds; fairdraw/2 always with.
_ISO_V1 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z")
_ISO_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_ISO_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_V1_BUNDLE_FIELDS = frozenset(
    {"algorithm", "draw", "seal", "commitment", "seed", "winners", "alternates", "unawarded"}
)
_V2_BUNDLE_FIELDS = _V1_BUNDLE_FIELDS | {"beacon", "signer", "log"}
_SEAL_FIELDS = frozenset({"root", "entry_count", "sealed_at", "slots"})
_V1_DRAW_FIELDS = ("id", "kind", "title", "prizes", "alternates", "one_prize_per_entrant")
_V2_DRAW_FIELDS = frozenset({*_V1_DRAW_FIELDS, "opened_at", "deadline", "ticket_count"})
_BEACON_FIELDS = frozenset(
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
_DRAW_LEAF_FIELDS = frozenset({"type", "draw_id", "time", "bundle_hash"})
_TREE_HEAD_FIELDS = frozenset({"type", "tree_size", "root_hash", "timestamp", "key_id"})
_NO_BEACON = (
    "no beacon: the operator's seed alone decides the winners, so this draw trusts its "
    "operator (who could have known the seed before the seal)"
)
# A list of differences is cut short here so that one report stays readable.
_MAX_DIFFERENCES = 5

_T = TypeVar("_T")


@dataclass(frozen=True)
class Check:
    """One named verification step and what it found."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    """Every check of a verification, in order.

    ``algorithm`` is the bundle's version (None when it could not be read);
    ``trusts_operator`` is true for a draw whose randomness is the operator's seed alone
    (no beacon: every ``fairdraw/1`` draw, and ``fairdraw/2`` with ``beacon: null``).
    """

    checks: tuple[Check, ...]
    algorithm: str | None = None
    trusts_operator: bool = False

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(check.ok for check in self.checks)

    @property
    def first_failure(self) -> Check | None:
        """The first check that failed, or None when the bundle verified."""
        return next((check for check in self.checks if not check.ok), None)

    @property
    def verdict(self) -> str:
        """``PASS``, ``PASS (trusts its operator: no beacon)``, or ``FAIL <check>: <detail>``
        for the first failure."""
        failed = self.first_failure
        if failed is not None:
            return f"FAIL {failed.name}: {failed.detail}"
        return "PASS (trusts its operator: no beacon)" if self.trusts_operator else "PASS"


# -- entry points ------------------------------------------------------------------------------


def verify_bundle_bytes(
    bundle: bytes, entries: bytes, chains: Sequence[Chain] = (QUICKNET,)
) -> VerifyReport:
    """Recompute a draw from the bytes of its bundle and entries file, offline.

    Both versions are read strictly (UTF-8, no duplicate keys; ``fairdraw/2`` bundles are
    byte-canonical). ``chains`` are the beacon chains a ``fairdraw/2`` bundle may name:
    their public keys are pinned here, never taken from the bundle. The checks are
    :data:`V1_CHECKS` or :data:`V2_CHECKS`; one whose inputs failed an earlier check is
    reported failed with ``"not checked: <earlier> failed"``.
    """
    try:
        document = parse_json(bundle, "the bundle")
    except ProofFormatError as exc:
        claimed = _claimed_algorithm(bundle)
        names = V1_CHECKS if claimed == ALGORITHM else V2_CHECKS
        return _format_failure(names, claimed if claimed in ALGORITHMS else None, str(exc))
    algorithm = document.get("algorithm") if isinstance(document, dict) else None
    if algorithm == ALGORITHM:
        try:
            text = decode_utf8(entries, "the entries file")
        except ProofFormatError as exc:
            return _format_failure(V1_CHECKS, ALGORITHM, str(exc))
        return _verify_v1(document, text)
    if algorithm == ALGORITHM_V2:
        return _verify_v2(bundle, entries, chains)
    return _format_failure(V2_CHECKS, None, _unknown_algorithm(document))


def verify_bundle(
    bundle: Mapping[str, Any], entries_text: str, chains: Sequence[Chain] = (QUICKNET,)
) -> VerifyReport:
    """:func:`verify_bundle_bytes` of a parsed bundle and the entries file's text.

    A ``fairdraw/1`` bundle is checked as it is; any other is checked as its canonical
    JSON bytes.
    """
    if isinstance(bundle, Mapping) and bundle.get("algorithm") == ALGORITHM:
        return _verify_v1(bundle, entries_text)
    try:
        data = canonical_json(bundle)
    except (TypeError, ValueError) as exc:
        return _format_failure(V2_CHECKS, None, f"the bundle is not JSON: {exc}")
    return verify_bundle_bytes(data, entries_text.encode("utf-8", "surrogatepass"), chains)


def _claimed_algorithm(data: bytes) -> Any:
    """The algorithm a bundle that is not strictly JSON says it follows, read leniently,
    so that its report lists the checks of its version."""
    try:
        document = json.loads(data.decode("utf-8-sig", "replace"))
    except (ValueError, RecursionError):
        return None
    return document.get("algorithm") if isinstance(document, dict) else None


def _unknown_algorithm(document: Any) -> str:
    if not isinstance(document, dict):
        return "the bundle must be a JSON object"
    return (
        f"algorithm is {document.get('algorithm')!r}; this verifier implements "
        f"{ALGORITHM!r} and {ALGORITHM_V2!r}"
    )


def _format_failure(names: Sequence[str], algorithm: str | None, detail: str) -> VerifyReport:
    blocked = [Check(name, False, "not checked: format failed") for name in names[1:]]
    return VerifyReport((Check("format", False, detail), *blocked), algorithm)


def _blocked(names: Sequence[str], blocker: str) -> list[Check]:
    return [Check(name, False, f"not checked: {blocker} failed") for name in names]


# -- what a bundle says, once its shape is checked -------------------------------------------


@dataclass(frozen=True)
class _Opening:
    identity: str
    nonce: bytes


@dataclass(frozen=True)
class _Pick:
    """A winner or alternate, named for messages (``winner 0``, ``alternate 1``)."""

    label: str
    index: int
    ref: str
    opening: _Opening | None


@dataclass(frozen=True)
class _Beacon:
    chain_hash: str
    public_key: bytes
    scheme: str
    period: int
    genesis_time: int
    round: int
    round_time: str
    signature: bytes
    randomness: bytes


@dataclass(frozen=True)
class _LogProof:
    leaf_index: int
    entry: Mapping[str, Any]
    path: list[bytes]
    tree_head: Mapping[str, Any]
    tree_size: int
    root_hash: bytes


@dataclass(frozen=True)
class _Parsed:
    """A bundle whose shape and types have been checked, and its entries."""

    kind: str
    prizes: list[tuple[str, int]]
    alternates: int
    one_per_entrant: bool
    root: bytes
    entry_count: int
    slots: list[str]
    commitment: str
    seed: bytes
    winners: list[tuple[int, str, int, str]]
    picked_alternates: list[tuple[int, str]]
    # Winners, then alternates, with their openings (fairdraw/2; None in fairdraw/1).
    picks: list[_Pick]
    unawarded: list[str]
    refs: list[str]


@dataclass(frozen=True)
class _Version2:
    """What only a ``fairdraw/2`` bundle says."""

    draw_id: str
    ticket_count: int | None
    sealed_at: str
    sealed_ms: int
    beacon: _Beacon | None
    signer_key: bytes
    signer_key_id: str
    log: _LogProof
    core_hash: str


# -- fairdraw/1 --------------------------------------------------------------------------------


def _verify_v1(bundle: Mapping[str, Any], entries_text: str) -> VerifyReport:
    try:
        parsed = _parse_v1(bundle, entries_text)
    except ProofFormatError as exc:
        return _format_failure(V1_CHECKS, ALGORITHM, str(exc))
    checks = [Check("format", True, f"{ALGORITHM} bundle and {len(parsed.refs)} entries")]
    checks += [
        _check_entry_count(parsed, None),
        _check_root(parsed),
        _check_commitment(parsed),
        _check_slots(parsed, require_alternates=False),
    ]
    blocker = next((c.name for c in checks if not c.ok), None)
    if blocker is not None:
        return VerifyReport((*checks, *_blocked(_RESULT_CHECKS, blocker)), ALGORITHM, True)
    outcome = fairness.select_winners(
        parsed.root,
        parsed.seed,
        parsed.entry_count,
        parsed.prizes,
        parsed.alternates,
        owners=parsed.refs if parsed.one_per_entrant else None,
    )
    checks += _result_checks(parsed, outcome)
    return VerifyReport(tuple(checks), ALGORITHM, trusts_operator=True)


def _parse_v1(bundle: Mapping[str, Any], entries_text: str) -> _Parsed:
    """Check every field's presence and type; raise ProofFormatError naming the first
    bad one."""
    _exact_fields(bundle, _V1_BUNDLE_FIELDS, "bundle")
    draw = _object(bundle, "draw", "bundle")
    missing = [name for name in _V1_DRAW_FIELDS if name not in draw]
    if missing:
        raise ProofFormatError(f"draw: missing {', '.join(missing)}")
    _field(draw, "id", str, "draw")
    _field(draw, "title", str, "draw")
    kind = _kind(draw)
    seal = _object(bundle, "seal", "bundle")
    _exact_fields(seal, _SEAL_FIELDS, "seal")
    _time(seal, "sealed_at", "seal", _ISO_V1, "2026-01-02T03:04:05Z")
    return _parse_common(
        bundle, kind, ALGORITHM, refs=lambda: parse_entries_file(entries_text, kind)
    )


# -- fairdraw/2 --------------------------------------------------------------------------------


def _verify_v2(data: bytes, entries: bytes, chains: Sequence[Chain]) -> VerifyReport:
    try:
        bundle = parse_canonical(data, "the bundle")
        parsed, v2 = _parse_v2(bundle, entries)
    except ProofFormatError as exc:
        return _format_failure(V2_CHECKS, ALGORITHM_V2, str(exc))
    trusts = v2.beacon is None
    checks = [Check("format", True, f"{ALGORITHM_V2} bundle and {len(parsed.refs)} entries")]
    checks += [
        _check_entry_count(parsed, v2.ticket_count),
        _check_root(parsed),
        _check_commitment(parsed),
        _check_slots(parsed, require_alternates=True),
        _check_beacon(v2, chains),
        _check_openings(parsed.kind, parsed.picks),
    ]
    blocker = next((c.name for c in checks if not c.ok), None)
    if blocker is not None:
        checks += _blocked(_RESULT_CHECKS, blocker)
    else:
        key = fairness.stream_key_v2(
            parsed.root,
            parsed.entry_count,
            parsed.seed,
            v2.beacon.randomness if v2.beacon is not None else None,
        )
        outcome = fairness.select_winners(
            parsed.root, parsed.seed, parsed.entry_count, parsed.prizes, parsed.alternates, key=key
        )
        checks += _result_checks(parsed, outcome)
    checks.append(_check_log(v2))
    return VerifyReport(tuple(checks), ALGORITHM_V2, trusts_operator=trusts)


def _parse_v2(bundle: Any, entries: bytes) -> tuple[_Parsed, _Version2]:
    _exact_fields(bundle, _V2_BUNDLE_FIELDS, "bundle")
    draw = _object(bundle, "draw", "bundle")
    _exact_fields(draw, _V2_DRAW_FIELDS, "draw")
    draw_id = _field(draw, "id", str, "draw")
    _field(draw, "title", str, "draw")
    kind = _kind(draw)
    if _field(draw, "one_prize_per_entrant", bool, "draw"):
        raise ProofFormatError("draw.one_prize_per_entrant must be false in fairdraw/2")
    _time(draw, "opened_at", "draw", _ISO_MS, "2026-12-06T21:00:00.000Z")
    if draw["deadline"] is not None:
        _time(draw, "deadline", "draw", _ISO_MS, "2026-12-06T21:00:00.000Z")
    ticket_count = _ticket_count(draw, kind)
    seal = _object(bundle, "seal", "bundle")
    _exact_fields(seal, _SEAL_FIELDS, "seal")
    sealed_at = _time(seal, "sealed_at", "seal", _ISO_MS, "2026-12-06T21:00:00.000Z")
    beacon = _beacon(bundle["beacon"])
    signer = _object(bundle, "signer", "bundle")
    _exact_fields(signer, {"algorithm", "public_key", "key_id"}, "signer")
    if signer["algorithm"] != signing.ALGORITHM:
        raise ProofFormatError(f"signer.algorithm must be {signing.ALGORITHM!r}")
    log = _log(_object(bundle, "log", "bundle"))
    parsed = _parse_common(
        bundle, kind, ALGORITHM_V2, refs=lambda: parse_entries_bytes(entries, kind)
    )
    v2 = _Version2(
        draw_id=draw_id,
        ticket_count=ticket_count,
        sealed_at=sealed_at,
        sealed_ms=_epoch_ms(sealed_at),
        beacon=beacon,
        signer_key=bytes.fromhex(_hex(signer, "public_key", "signer", _ED25519_KEY_BYTES)),
        signer_key_id=_hex(signer, "key_id", "signer", _HASH_BYTES),
        log=log,
        core_hash=bundle_hash(bundle),
    )
    return parsed, v2


def _ticket_count(draw: Mapping[str, Any], kind: str) -> int | None:
    if kind != RAFFLE_KIND:
        if draw["ticket_count"] is not None:
            raise ProofFormatError("draw.ticket_count must be null for a draw that is no raffle")
        return None
    count = draw["ticket_count"]
    if isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= _MAX_TICKETS:
        return count
    raise ProofFormatError(
        f"draw.ticket_count must be an integer from 1 to {_MAX_TICKETS} for a raffle"
    )


def _beacon(value: Any) -> _Beacon | None:
    if value is None:
        return None
    _exact_fields(value, _BEACON_FIELDS, "beacon")
    return _Beacon(
        chain_hash=_hex(value, "chain_hash", "beacon", _HASH_BYTES),
        public_key=bytes.fromhex(_hex(value, "public_key", "beacon", _BEACON_KEY_BYTES)),
        scheme=_field(value, "scheme", str, "beacon"),
        period=_count(value, "period", "beacon", minimum=1),
        genesis_time=_count(value, "genesis_time", "beacon"),
        round=_count(value, "round", "beacon", minimum=1),
        round_time=_time(value, "round_time", "beacon", _ISO_SECONDS, "2026-12-06T22:00:03Z"),
        signature=bytes.fromhex(_hex(value, "signature", "beacon", _BEACON_SIGNATURE_BYTES)),
        randomness=bytes.fromhex(_hex(value, "randomness", "beacon", _HASH_BYTES)),
    )


def _opening(item: Mapping[str, Any], where: str) -> _Opening | None:
    value = item["opening"]
    if value is None:
        return None
    _exact_fields(value, {"identity", "nonce"}, f"{where}.opening")
    return _Opening(
        identity=_field(value, "identity", str, f"{where}.opening"),
        nonce=bytes.fromhex(_hex(value, "nonce", f"{where}.opening", _NONCE_BYTES)),
    )


def _log(log: Mapping[str, Any]) -> _LogProof:
    _exact_fields(log, {"leaf_index", "entry", "path", "tree_head"}, "log")
    # Any log leaf is an object; whether it is this draw's draw leaf is the log check's.
    entry = _object(log, "entry", "log")
    path = _field(log, "path", list, "log")
    if not all(isinstance(p, str) and _HEX[_HASH_BYTES].fullmatch(p) for p in path):
        raise ProofFormatError("log.path must be a list of 64 lowercase hex characters each")
    head = _object(log, "tree_head", "log")
    _exact_fields(head, {"statement", "signature"}, "log.tree_head")
    statement = _object(head, "statement", "log.tree_head")
    where = "log.tree_head.statement"
    _exact_fields(statement, _TREE_HEAD_FIELDS, where)
    _field(statement, "type", str, where)
    _count(statement, "timestamp", where)
    _hex(statement, "key_id", where, _HASH_BYTES)
    _hex(head, "signature", "log.tree_head", _ED25519_SIGNATURE_BYTES)
    return _LogProof(
        leaf_index=_count(log, "leaf_index", "log"),
        entry=entry,
        path=[bytes.fromhex(p) for p in path],
        tree_head=head,
        tree_size=_count(statement, "tree_size", where),
        root_hash=bytes.fromhex(_hex(statement, "root_hash", where, _HASH_BYTES)),
    )


# -- shape checks common to both versions ----------------------------------------------------


def _parse_common(
    bundle: Mapping[str, Any], kind: str, algorithm: str, refs: Callable[[], list[str]]
) -> _Parsed:
    """The fields both versions share, then the entries file (``refs``)."""
    draw = bundle["draw"]
    prizes: list[tuple[str, int]] = []
    for at, prize in enumerate(_field(draw, "prizes", list, "draw")):
        where = f"draw.prizes[{at}]"
        if algorithm == ALGORITHM_V2:
            _exact_fields(prize, {"name", "quantity"}, where)
        elif not isinstance(prize, Mapping):
            raise ProofFormatError(f"{where} must be an object")
        prizes.append((_field(prize, "name", str, where), _count(prize, "quantity", where)))
    seal = bundle["seal"]
    slots = _field(seal, "slots", list, "seal")
    if not all(isinstance(slot, str) for slot in slots):
        raise ProofFormatError("seal.slots must be a list of prize names")
    opening = {"opening"} if algorithm == ALGORITHM_V2 else set()
    winners = []
    picks: list[_Pick] = []
    for at, item in enumerate(_field(bundle, "winners", list, "bundle")):
        where = f"winners[{at}]"
        _exact_fields(item, {"slot", "prize", "index", "ref", *opening}, where)
        slot, prize = _count(item, "slot", where), _field(item, "prize", str, where)
        picks.append(_pick(item, f"winner {at}", where, kind, algorithm))
        winners.append((slot, prize, picks[-1].index, picks[-1].ref))
    picked_alternates = []
    for at, item in enumerate(_field(bundle, "alternates", list, "bundle")):
        where = f"alternates[{at}]"
        _exact_fields(item, {"index", "ref", *opening}, where)
        picks.append(_pick(item, f"alternate {at}", where, kind, algorithm))
        picked_alternates.append((picks[-1].index, picks[-1].ref))
    unawarded = _field(bundle, "unawarded", list, "bundle")
    if not all(isinstance(name, str) for name in unawarded):
        raise ProofFormatError("unawarded must be a list of prize names")
    return _Parsed(
        kind=kind,
        prizes=prizes,
        alternates=_count(draw, "alternates", "draw"),
        one_per_entrant=_field(draw, "one_prize_per_entrant", bool, "draw"),
        root=bytes.fromhex(_hex(seal, "root", "seal", _HASH_BYTES)),
        entry_count=_count(seal, "entry_count", "seal"),
        slots=list(slots),
        commitment=_hex(bundle, "commitment", "bundle", _HASH_BYTES),
        seed=bytes.fromhex(_hex(bundle, "seed", "bundle", _HASH_BYTES)),
        winners=winners,
        picked_alternates=picked_alternates,
        picks=picks,
        unawarded=list(unawarded),
        refs=refs(),
    )


def _pick(item: Mapping[str, Any], label: str, where: str, kind: str, algorithm: str) -> _Pick:
    index = _count(item, "index", where)
    ref = _ref(item, where, kind, algorithm)
    opening = _opening(item, where) if algorithm == ALGORITHM_V2 else None
    return _Pick(label, index, ref, opening)


def _exact_fields(obj: Any, fields: frozenset[str] | set[str], where: str) -> None:
    if not isinstance(obj, Mapping):
        raise ProofFormatError(f"{where} must be an object")
    missing = sorted(fields - obj.keys())
    if missing:
        raise ProofFormatError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(str(k) for k in obj.keys() - fields)
    if unknown:
        raise ProofFormatError(f"{where}: unknown fields {', '.join(unknown)}")


def _field(obj: Mapping[str, Any], name: str, kind: type[_T], where: str) -> _T:
    value = obj.get(name)
    if not isinstance(value, kind):
        raise ProofFormatError(f"{where}.{name} must be of type {kind.__name__}")
    return value


def _object(obj: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = obj.get(name)
    if not isinstance(value, Mapping):
        raise ProofFormatError(f"{where}.{name} must be an object")
    return value


def _count(obj: Mapping[str, Any], name: str, where: str, minimum: int = 0) -> int:
    value = obj.get(name)
    # bool is an int subclass; JSON true is not a count.
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    wanted = "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
    raise ProofFormatError(f"{where}.{name} must be {wanted}")


def _kind(draw: Mapping[str, Any]) -> str:
    kind = draw.get("kind")
    if kind not in DRAW_KINDS:
        raise ProofFormatError(f"draw.kind must be one of {', '.join(DRAW_KINDS)}")
    return str(kind)


def _time(obj: Mapping[str, Any], name: str, where: str, form: re.Pattern[str], like: str) -> str:
    value = obj.get(name)
    if isinstance(value, str) and form.fullmatch(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise ProofFormatError(f"{where}.{name} must be an ISO-8601 UTC time like {like}")


def _epoch_ms(value: str) -> int:
    return round(datetime.fromisoformat(value).timestamp() * 1000)


def _ref(obj: Mapping[str, Any], where: str, kind: str, algorithm: str) -> str:
    value = obj.get("ref")
    if not isinstance(value, str) or not ref_pattern(kind, algorithm).fullmatch(value):
        raise ProofFormatError(f"{where}.ref must be {ref_rule(kind, algorithm)}")
    return value


def _hex(obj: Mapping[str, Any], name: str, where: str, nbytes: int) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not _HEX[nbytes].fullmatch(value):
        raise ProofFormatError(f"{where}.{name} must be {2 * nbytes} lowercase hex characters")
    return value


# -- the checks ----------------------------------------------------------------------------------


def _check_entry_count(p: _Parsed, ticket_count: int | None) -> Check:
    if len(p.refs) != p.entry_count:
        return Check(
            "entry_count",
            False,
            f"the entries file has {len(p.refs)} entries but the seal says {p.entry_count}",
        )
    if ticket_count is not None:
        problem = _ticket_problem(p, ticket_count)
        if problem is not None:
            return Check("entry_count", False, problem)
        return Check(
            "entry_count", True, f"{p.entry_count} entries, distinct tickets of {ticket_count}"
        )
    return Check("entry_count", True, f"{p.entry_count} entries")


def _ticket_problem(p: _Parsed, ticket_count: int) -> str | None:
    if p.entry_count > ticket_count:
        return f"the seal says {p.entry_count} entries but the raffle has {ticket_count} tickets"
    claimed: dict[int, int] = {}
    for index, ref in enumerate(p.refs):
        ticket = raffle_ticket(ref)
        if ticket > ticket_count:
            return f"entry {index}: ticket {ticket} is above the raffle's {ticket_count} tickets"
        if ticket in claimed:
            return f"entry {index}: ticket {ticket} is also entry {claimed[ticket]}"
        claimed[ticket] = index
    return None


def _check_root(p: _Parsed) -> Check:
    computed = fairness.merkle_root(p.refs)
    if computed == p.root:
        return Check("merkle_root", True, f"root {computed.hex()}")
    return Check(
        "merkle_root",
        False,
        f"the seal's root is {p.root.hex()} but the entries give {computed.hex()}",
    )


def _check_commitment(p: _Parsed) -> Check:
    computed = fairness.commitment(p.seed)
    if computed == p.commitment:
        return Check("commitment", True, "sha256(seed) matches the commitment")
    return Check(
        "commitment",
        False,
        f"sha256(seed) is {computed} but the commitment is {p.commitment}",
    )


def _check_slots(p: _Parsed, *, require_alternates: bool) -> Check:
    # Counted before the slots are listed, so that a bundle cannot make the list huge.
    count = sum(quantity for _, quantity in p.prizes)
    if count != len(p.slots):
        return Check(
            "slots", False, f"the seal lists {len(p.slots)} slots but the prizes give {count}"
        )
    computed = fairness.prize_slots(p.prizes)
    if computed != p.slots:
        r = next(r for r, (a, b) in enumerate(zip(p.slots, computed, strict=True)) if a != b)
        detail = f"slot {r}: the seal says {p.slots[r]!r} but the prizes give {computed[r]!r}"
        return Check("slots", False, detail)
    if require_alternates and p.alternates != len(computed):
        return Check(
            "slots",
            False,
            f"draw.alternates is {p.alternates} but a draw has as many alternates as "
            f"slots ({len(computed)})",
        )
    return Check("slots", True, f"{len(computed)} prize slots")


def _check_beacon(v2: _Version2, chains: Sequence[Chain]) -> Check:
    beacon = v2.beacon
    if beacon is None:
        return Check("beacon", True, _NO_BEACON)
    problem = _beacon_problem(beacon, v2, chains)
    if problem is not None:
        return Check("beacon", False, problem)
    name = "quicknet" if beacon.chain_hash == QUICKNET.chain_hash else "chain"
    return Check(
        "beacon",
        True,
        f"{name} {beacon.chain_hash} round {beacon.round} at {beacon.round_time}, after "
        f"the seal; its signature is valid and gives the randomness",
    )


def _beacon_problem(beacon: _Beacon, v2: _Version2, chains: Sequence[Chain]) -> str | None:
    chain = next((c for c in chains if c.chain_hash == beacon.chain_hash), None)
    if chain is None:
        pinned = ", ".join(c.chain_hash for c in chains) or "none"
        return f"chain {beacon.chain_hash} is not pinned by this verifier (pinned: {pinned})"
    stated: list[tuple[str, object, object]] = [
        ("public key", beacon.public_key.hex(), chain.public_key.hex()),
        ("scheme", beacon.scheme, chain.scheme),
        ("period", beacon.period, chain.period),
        ("genesis_time", beacon.genesis_time, chain.genesis_time),
    ]
    for what, said, pinned_value in stated:
        if said != pinned_value:
            return (
                f"the bundle gives chain {chain.chain_hash} the {what} {said}, "
                f"but it is {pinned_value}"
            )
    try:
        published = chain.round_time(beacon.round)
    except BeaconError as exc:
        return str(exc)
    if beacon.round_time != iso_seconds(published):
        return (
            f"round {beacon.round} is at {iso_seconds(published)}, but the bundle says "
            f"{beacon.round_time}"
        )
    if published * 1000 <= v2.sealed_ms:
        return (
            f"round {beacon.round} ({beacon.round_time}) is not after the seal "
            f"({v2.sealed_at}): its randomness may have been known before the entries were fixed"
        )
    try:
        randomness = verify_round(chain, beacon.round, beacon.signature)
    except BeaconError as exc:
        return f"the signature of round {beacon.round} is not valid: {exc}"
    if randomness != beacon.randomness:
        return (
            f"the randomness is {beacon.randomness.hex()} but sha256(signature) is "
            f"{randomness.hex()}"
        )
    return None


def _check_openings(kind: str, picks: list[_Pick]) -> Check:
    problems: list[str] = []
    for pick in picks:
        named = f"{pick.label} (entry {pick.index})"
        if kind == RAFFLE_KIND:
            if pick.opening is not None:
                problems.append(f"{named}: a raffle pick has no opening in the bundle")
        elif pick.opening is None:
            problems.append(f"{named}: the opening is missing")
        else:
            ref = fairness.entry_ref_v2(pick.opening.identity, pick.opening.nonce)
            if ref != pick.ref:
                problems.append(
                    f"{named}: the opening of {pick.opening.identity!r} gives ref {ref}, "
                    f"not {pick.ref}"
                )
    if problems:
        return Check("openings", False, _join(problems))
    if kind == RAFFLE_KIND:
        return Check(
            "openings", True, f"{len(picks)} raffle picks, each opened by its ticket's code"
        )
    return Check("openings", True, f"{len(picks)} openings match their refs")


def _result_checks(p: _Parsed, outcome: Outcome) -> list[Check]:
    return [_check_winners(p, outcome), _check_alternates(p, outcome), _check_unawarded(p, outcome)]


def _check_winners(p: _Parsed, outcome: Outcome) -> Check:
    problems: list[str] = []
    if len(p.winners) != len(outcome.winners):
        problems.append(
            f"the bundle lists {len(p.winners)} winners, the algorithm gives {len(outcome.winners)}"
        )
    for at, ((slot, prize, index, ref), want) in enumerate(
        zip(p.winners, outcome.winners, strict=False)
    ):
        if slot != want.slot:
            problems.append(f"winner {at}: the bundle says slot {slot}, expected {want.slot}")
        elif prize != want.prize:
            problems.append(
                f"slot {slot}: the bundle says prize {prize!r}, the slot is {want.prize!r}"
            )
        elif index != want.index:
            problems.append(
                f"slot {slot} ({want.prize}): bundle says entry {index}, "
                f"the algorithm gives entry {want.index}"
            )
        elif ref != p.refs[index]:
            problems.append(f"slot {slot}: entry {index}: ref differs from the sealed ledger")
    if problems:
        return Check("winners", False, _join(problems))
    return Check("winners", True, f"{len(outcome.winners)} winners match")


def _check_alternates(p: _Parsed, outcome: Outcome) -> Check:
    problems: list[str] = []
    if len(p.picked_alternates) != len(outcome.alternates):
        problems.append(
            f"the bundle lists {len(p.picked_alternates)} alternates, the algorithm gives "
            f"{len(outcome.alternates)}"
        )
    for at, ((index, ref), want) in enumerate(
        zip(p.picked_alternates, outcome.alternates, strict=False)
    ):
        if index != want:
            problems.append(
                f"alternate {at}: bundle says entry {index}, the algorithm gives entry {want}"
            )
        elif ref != p.refs[index]:
            problems.append(f"alternate {at}: entry {index}: ref differs from the sealed ledger")
    if problems:
        return Check("alternates", False, _join(problems))
    return Check("alternates", True, f"{len(outcome.alternates)} alternates match")


def _check_unawarded(p: _Parsed, outcome: Outcome) -> Check:
    if p.unawarded == list(outcome.unawarded):
        return Check("unawarded", True, f"{len(p.unawarded)} slots unawarded")
    return Check(
        "unawarded",
        False,
        f"the bundle says {p.unawarded} but the algorithm gives {list(outcome.unawarded)}",
    )


def _check_log(v2: _Version2) -> Check:
    problem = _log_problem(v2)
    if problem is not None:
        return Check("log", False, problem)
    log = v2.log
    return Check(
        "log",
        True,
        f"the draw leaf {log.leaf_index} is in the log's tree of {log.tree_size} leaves, "
        f"whose head is signed by key {v2.signer_key_id}",
    )


def _log_problem(v2: _Version2) -> str | None:
    log = v2.log
    computed_id = hashlib.sha256(v2.signer_key).hexdigest()
    if computed_id != v2.signer_key_id:
        return f"signer.key_id is {v2.signer_key_id} but sha256(public_key) is {computed_id}"
    entry = log.entry
    if "type" not in entry:
        return "log.entry has no type; the draw's leaf is of type 'draw'"
    if entry["type"] != "draw":
        return f"log.entry is a {entry['type']!r} leaf, not a 'draw' leaf"
    if entry.keys() != _DRAW_LEAF_FIELDS:
        return (
            f"log.entry has the fields {', '.join(sorted(entry))}; a draw leaf has "
            f"{', '.join(sorted(_DRAW_LEAF_FIELDS))}"
        )
    if entry["draw_id"] != v2.draw_id:
        return f"log.entry is the draw leaf of {entry['draw_id']!r}, not of {v2.draw_id!r}"
    if entry["bundle_hash"] != v2.core_hash:
        return (
            f"log.entry.bundle_hash is {entry['bundle_hash']} but the bundle's core "
            f"hashes to {v2.core_hash}"
        )
    statement = log.tree_head["statement"]
    if statement["type"] != "tree-head":
        return f"log.tree_head is a {statement['type']!r} statement, not a 'tree-head'"
    if statement["key_id"] != v2.signer_key_id:
        return (
            f"the tree head names key {statement['key_id']}, but the bundle's signer is "
            f"{v2.signer_key_id}"
        )
    leaf = transparency.leaf_hash(entry)
    if not transparency.verify_inclusion(
        leaf, log.leaf_index, log.tree_size, log.path, log.root_hash
    ):
        return (
            f"the path does not prove leaf {log.leaf_index} (hash {leaf.hex()}) in the tree "
            f"of {log.tree_size} leaves with root {log.root_hash.hex()}"
        )
    if not signing.verify_statement(log.tree_head, v2.signer_key):
        return "the tree head's signature is not valid under signer.public_key"
    return None


def _join(problems: list[str]) -> str:
    shown = "; ".join(problems[:_MAX_DIFFERENCES])
    more = len(problems) - _MAX_DIFFERENCES
    return f"{shown}; and {more} more" if more > 0 else shown
