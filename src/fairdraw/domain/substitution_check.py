"""Verifying a draw's substitutions record against its proof bundle, offline.

A record (``docs/fairness-v2.md``, "Substitutions") amends one bundle: it names the
bundle's draw and the hash of its core, and lists each forfeit in order. These checks
say whether every substitution followed the published rule — the prize of a forfeited
winner goes to the first alternate, in the bundle's order, who is not a current winner,
was not promoted and did not forfeit — by replaying the record with
:mod:`fairdraw.domain.substitutions`. Whether the bundle itself is right is
:mod:`fairdraw.domain.verification`'s question; run both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fairdraw.domain import substitutions
from fairdraw.domain.errors import FairdrawError
from fairdraw.domain.proof import ProofFormatError, bundle_hash, parse_canonical, parse_json
from fairdraw.domain.substitutions import Pick, Promotion, Substitution
from fairdraw.domain.verification import Check

CHECKS: Final = ("substitutions_format", "substitutions_bundle", "substitutions_order")

_RECORD_FIELDS = frozenset({"format", "draw", "bundle", "substitutions"})
_FIELDS = frozenset({"at", "slot", "prize", "forfeited", "promoted", "reason"})
_PICK_FIELDS = frozenset({"index", "ref"})
_PROMOTED_FIELDS = frozenset({"alternate", "index", "ref"})
_BLOCKED = "not checked: substitutions_format failed"
_HASH = re.compile(r"[0-9a-f]{64}")
_ISO_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


class _Malformed(ValueError):
    pass


def check_substitutions(bundle: bytes, record: bytes) -> tuple[Check, ...]:
    """The checks :data:`CHECKS`, in order, of the substitutions ``record`` (bytes)
    against the proof ``bundle`` (bytes); a check whose inputs failed is reported
    ``not checked: <check> failed``."""
    try:
        parsed_bundle = _bundle(bundle)
        document = parse_canonical(record, "the substitutions record")
        made = _record(document)
    except (ProofFormatError, _Malformed) as exc:
        blocked = [
            Check(name, False, "not checked: substitutions_format failed") for name in CHECKS[1:]
        ]
        return (Check(CHECKS[0], False, str(exc)), *blocked)
    count = len(made)
    described = f"{count} substitution{'' if count == 1 else 's'}, canonical JSON"
    return (
        Check(CHECKS[0], True, described),
        _check_bundle(parsed_bundle, document),
        _check_order(parsed_bundle, made),
    )


def _check_bundle(bundle: Mapping[str, Any], record: Mapping[str, Any]) -> Check:
    name = CHECKS[1]
    draw_id = bundle["draw"]["id"]
    if record["draw"] != draw_id:
        return Check(
            name, False, f"the record is of draw {record['draw']}, the bundle of {draw_id}"
        )
    expected = bundle_hash(bundle)
    if record["bundle"] != expected:
        return Check(
            name, False, f"the record amends bundle {record['bundle']}, this bundle is {expected}"
        )
    return Check(name, True, f"amends this bundle ({expected})")


def _check_order(bundle: Mapping[str, Any], made: Sequence[Substitution]) -> Check:
    name = CHECKS[2]
    replayed: list[Substitution] = []
    for number, sub in enumerate(made):
        problem = _problem(bundle, replayed, sub)
        if problem is None and replayed and sub.at < replayed[-1].at:
            problem = f"its time {sub.at} is before the previous one's ({replayed[-1].at})"
        if problem is not None:
            return Check(name, False, f"substitution {number}: {problem}")
        replayed.append(sub)
    if not made:
        return Check(name, True, "no substitutions: the drawn winners stand")
    return Check(name, True, "every substitution followed the published alternate order")


def _problem(
    bundle: Mapping[str, Any], before: Sequence[Substitution], sub: Substitution
) -> str | None:
    """What is wrong with ``sub`` after the substitutions ``before``, or None."""
    try:
        expected = substitutions.substitute(bundle, before, sub.forfeited.index, sub.reason, sub.at)
    except FairdrawError:
        return f"entry {sub.forfeited.index} held no prize then"
    if (sub.slot, sub.prize, sub.forfeited) != (expected.slot, expected.prize, expected.forfeited):
        return (
            f"entry {sub.forfeited.index} held slot {expected.slot} ({expected.prize}, ref "
            f"{expected.forfeited.ref}), the record says slot {sub.slot} ({sub.prize}, ref "
            f"{sub.forfeited.ref})"
        )
    if sub.promoted != expected.promoted:
        return (
            f"promoted {_promotion(sub.promoted)}, but the next was {_promotion(expected.promoted)}"
        )
    return None


def _promotion(promotion: Promotion | None) -> str:
    if promotion is None:
        return "nobody (not awarded)"
    pick = promotion.pick
    return f"alternate #{promotion.alternate} (entry {pick.index}, ref {pick.ref})"


# -- reading -----------------------------------------------------------------------------------


def _bundle(data: bytes) -> Mapping[str, Any]:
    """The parts of the bundle the replay reads, checked for shape."""
    bundle = parse_json(data, "the bundle")
    if not isinstance(bundle, dict):
        raise _Malformed("the bundle must be a JSON object")
    draw = bundle.get("draw")
    if not isinstance(draw, dict) or not isinstance(draw.get("id"), str):
        raise _Malformed("the bundle has no draw.id")
    for name in ("winners", "alternates"):
        items = bundle.get(name)
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _Malformed(f"the bundle's {name} must be a list of objects")
    try:
        substitutions.winners_of(bundle)
        substitutions.alternates_of(bundle)
    except (KeyError, TypeError, ValueError) as exc:
        raise _Malformed(f"the bundle's winners or alternates are malformed ({exc})") from exc
    return bundle


def _record(document: Any) -> list[Substitution]:
    _exact(document, _RECORD_FIELDS, "the record")
    if document["format"] != substitutions.RECORD_FORMAT:
        raise _Malformed(f"format must be {substitutions.RECORD_FORMAT!r}")
    if not isinstance(document["draw"], str):
        raise _Malformed("draw must be a string")
    if not isinstance(document["bundle"], str) or not _HASH.fullmatch(document["bundle"]):
        raise _Malformed("bundle must be 64 lowercase hex characters")
    items = document["substitutions"]
    if not isinstance(items, list):
        raise _Malformed("substitutions must be a list")
    return [_substitution(item, f"substitutions[{n}]") for n, item in enumerate(items)]


def _substitution(item: Any, where: str) -> Substitution:
    _exact(item, _FIELDS, where)
    at, reason, prize = item["at"], item["reason"], item["prize"]
    if not isinstance(at, str) or not _ISO_MS.fullmatch(at):
        raise _Malformed(f"{where}.at must be ISO-8601 UTC with milliseconds")
    if not isinstance(prize, str):
        raise _Malformed(f"{where}.prize must be a string")
    if not isinstance(reason, str) or not reason or reason != reason.strip():
        raise _Malformed(f"{where}.reason must be a trimmed, non-empty string")
    if len(reason) > substitutions.REASON_MAX:
        raise _Malformed(f"{where}.reason is longer than {substitutions.REASON_MAX} characters")
    forfeited = _pick(item["forfeited"], _PICK_FIELDS, f"{where}.forfeited")
    promoted = None
    if item["promoted"] is not None:
        where_promoted = f"{where}.promoted"
        pick = _pick(item["promoted"], _PROMOTED_FIELDS, where_promoted)
        rank = _count(item["promoted"]["alternate"], f"{where_promoted}.alternate")
        if rank < 1:
            raise _Malformed(f"{where_promoted}.alternate must be at least 1")
        promoted = Promotion(rank, pick)
    slot = _count(item["slot"], f"{where}.slot")
    return Substitution(at, slot, prize, forfeited, promoted, reason)


def _pick(value: Any, fields: frozenset[str], where: str) -> Pick:
    _exact(value, fields, where)
    if not isinstance(value["ref"], str):
        raise _Malformed(f"{where}.ref must be a string")
    return Pick(_count(value["index"], f"{where}.index"), value["ref"])


def _count(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _Malformed(f"{where} must be an integer >= 0")
    return value


def _exact(value: Any, fields: frozenset[str], where: str) -> None:
    if not isinstance(value, dict):
        raise _Malformed(f"{where} must be a JSON object")
    missing, extra = sorted(fields - set(value)), sorted(set(value) - fields)
    if missing:
        raise _Malformed(f"{where} lacks {', '.join(missing)}")
    if extra:
        raise _Malformed(f"{where} has unknown fields: {', '.join(extra)}")
