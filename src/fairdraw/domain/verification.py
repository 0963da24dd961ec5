"""Verifying a ``fairdraw/1`` proof bundle against its entries file, offline.

:func:`verify_bundle` checks the bundle's shape, then recomputes the seal's Merkle root,
the seed's commitment, the prize slots and the winners, alternates and unawarded slots,
and names the first check that fails. ``docs/fairness.md`` specifies the formats;
:mod:`fairdraw.domain.proof` builds the bundles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fairdraw.domain import fairness
from fairdraw.domain.fairness import ALGORITHM, Outcome
from fairdraw.domain.proof import ProofFormatError, parse_entries_file, ref_pattern, ref_rule

_HASH_HEX = re.compile(r"[0-9a-f]{64}")
_REF_HEX = re.compile(r"[0-9a-f]{32}")
_HASH_BYTES = 32
_BUNDLE_FIELDS = frozenset(
    {"algorithm", "draw", "seal", "commitment", "seed", "winners", "alternates", "unawarded"}
)
_SEAL_FIELDS = frozenset({"root", "entry_count", "sealed_at", "slots"})
_DRAW_FIELDS = ("id", "kind", "title", "prizes", "alternates", "one_prize_per_entrant")
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
    """Every check of a verification, in order."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(check.ok for check in self.checks)

    @property
    def first_failure(self) -> Check | None:
        """The first check that failed, or None when the bundle verified."""
        return next((check for check in self.checks if not check.ok), None)


@dataclass(frozen=True)
class _Parsed:
    """A bundle whose shape and types have been checked."""

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
    unawarded: list[str]
    refs: list[str]


def verify_bundle(bundle: Mapping[str, Any], entries_text: str) -> VerifyReport:
    """Recompute a draw from its bundle and entries file, offline.

    The checks, in order: ``format``, ``entry_count``, ``merkle_root``, ``commitment``,
    ``slots``, ``winners``, ``alternates``, ``unawarded``. A check whose inputs failed an
    earlier check is reported failed with ``"not checked: <earlier> failed"``.
    """
    try:
        parsed = _parse(bundle, entries_text)
    except ProofFormatError as exc:
        return _report([Check("format", False, str(exc))], _AFTER_FORMAT, "format")
    checks = [Check("format", True, f"{ALGORITHM} bundle and {len(parsed.refs)} entries")]
    checks.append(_check_entry_count(parsed))
    checks.append(_check_root(parsed))
    checks.append(_check_commitment(parsed))
    checks.append(_check_slots(parsed))
    blocker = next((c.name for c in checks if not c.ok), None)
    if blocker is not None:
        return _report(checks, _RESULT_CHECKS, blocker)
    outcome = fairness.select_winners(
        parsed.root,
        parsed.seed,
        parsed.entry_count,
        parsed.prizes,
        parsed.alternates,
        owners=parsed.refs if parsed.one_per_entrant else None,
    )
    checks.append(_check_winners(parsed, outcome))
    checks.append(_check_alternates(parsed, outcome))
    checks.append(_check_unawarded(parsed, outcome))
    return VerifyReport(tuple(checks))


_RESULT_CHECKS = ("winners", "alternates", "unawarded")
_AFTER_FORMAT = ("entry_count", "merkle_root", "commitment", "slots", *_RESULT_CHECKS)


def _report(checks: list[Check], skipped: Sequence[str], blocker: str) -> VerifyReport:
    blocked = [Check(name, False, f"not checked: {blocker} failed") for name in skipped]
    return VerifyReport((*checks, *blocked))


def _check_entry_count(p: _Parsed) -> Check:
    if len(p.refs) == p.entry_count:
        return Check("entry_count", True, f"{p.entry_count} entries")
    return Check(
        "entry_count",
        False,
        f"the entries file has {len(p.refs)} entries but the seal says {p.entry_count}",
    )


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


def _check_slots(p: _Parsed) -> Check:
    computed = fairness.prize_slots(p.prizes)
    if computed == p.slots:
        return Check("slots", True, f"{len(computed)} prize slots")
    if len(computed) != len(p.slots):
        detail = f"the seal lists {len(p.slots)} slots but the prizes give {len(computed)}"
    else:
        r = next(r for r, (a, b) in enumerate(zip(p.slots, computed, strict=True)) if a != b)
        detail = f"slot {r}: the seal says {p.slots[r]!r} but the prizes give {computed[r]!r}"
    return Check("slots", False, detail)


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


def _join(problems: list[str]) -> str:
    shown = "; ".join(problems[:_MAX_DIFFERENCES])
    more = len(problems) - _MAX_DIFFERENCES
    return f"{shown}; and {more} more" if more > 0 else shown


# -- shape checks ----------------------------------------------------------------------------


def _parse(bundle: Mapping[str, Any], entries_text: str) -> _Parsed:
    """Check every field's presence and type; raise ProofFormatError naming the first
    bad one."""
    if not isinstance(bundle, Mapping):
        raise ProofFormatError("the bundle must be a JSON object")
    if bundle.get("algorithm") != ALGORITHM:
        raise ProofFormatError(
            f"algorithm is {bundle.get('algorithm')!r}; this verifier implements {ALGORITHM!r}"
        )
    _exact_fields(bundle, _BUNDLE_FIELDS, "bundle")
    draw = _object(bundle, "draw", "bundle")
    missing = [name for name in _DRAW_FIELDS if name not in draw]
    if missing:
        raise ProofFormatError(f"draw: missing {', '.join(missing)}")
    kind = _field(draw, "kind", str, "draw")
    prizes_json = _field(draw, "prizes", list, "draw")
    prizes: list[tuple[str, int]] = []
    for at, prize in enumerate(prizes_json):
        where = f"draw.prizes[{at}]"
        if not isinstance(prize, Mapping):
            raise ProofFormatError(f"{where} must be an object")
        prizes.append((_field(prize, "name", str, where), _count(prize, "quantity", where)))
    seal = _object(bundle, "seal", "bundle")
    _exact_fields(seal, _SEAL_FIELDS, "seal")
    _field(seal, "sealed_at", str, "seal")
    slots = _field(seal, "slots", list, "seal")
    if not all(isinstance(slot, str) for slot in slots):
        raise ProofFormatError("seal.slots must be a list of prize names")
    winners = []
    for at, item in enumerate(_field(bundle, "winners", list, "bundle")):
        where = f"winners[{at}]"
        _exact_fields(item, {"slot", "prize", "index", "ref"}, where)
        winners.append(
            (
                _count(item, "slot", where),
                _field(item, "prize", str, where),
                _count(item, "index", where),
                _ref(item, where, kind),
            )
        )
    picked_alternates = []
    for at, item in enumerate(_field(bundle, "alternates", list, "bundle")):
        where = f"alternates[{at}]"
        _exact_fields(item, {"index", "ref"}, where)
        picked_alternates.append((_count(item, "index", where), _ref(item, where, kind)))
    unawarded = _field(bundle, "unawarded", list, "bundle")
    if not all(isinstance(name, str) for name in unawarded):
        raise ProofFormatError("unawarded must be a list of prize names")
    return _Parsed(
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
        unawarded=list(unawarded),
        refs=parse_entries_file(entries_text, kind),
    )


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


def _count(obj: Mapping[str, Any], name: str, where: str) -> int:
    value = obj.get(name)
    # bool is an int subclass; JSON true is not a count.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofFormatError(f"{where}.{name} must be a non-negative integer")
    return value


def _ref(obj: Mapping[str, Any], where: str, kind: str) -> str:
    value = obj.get("ref")
    if not isinstance(value, str) or not ref_pattern(kind).fullmatch(value):
        raise ProofFormatError(f"{where}.ref must be {ref_rule(kind)}")
    return value


def _hex(obj: Mapping[str, Any], name: str, where: str, nbytes: int) -> str:
    value = obj.get(name)
    pattern = _HASH_HEX if nbytes == _HASH_BYTES else _REF_HEX
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ProofFormatError(f"{where}.{name} must be {2 * nbytes} lowercase hex characters")
    return value
