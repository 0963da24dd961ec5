"""Proof bundles and entries files of ``fairdraw/1`` and ``fairdraw/2`` draws: their bytes.

A bundle (canonical JSON) states the draw's rules, the seal, the commitment and the
revealed seed, and the result; a ``fairdraw/2`` bundle adds the beacon round, the winners'
openings, the signer and the draw's place in the public log. Together with the public
entries file (one ``index<TAB>ref`` line per entry) anyone can recompute the root, the
stream and the winners; :mod:`fairdraw.domain.verification` does exactly that and names
the first check that fails. This module reads and writes the bytes: canonical JSON, the
entries file, building a bundle. ``docs/fairness.md`` and ``docs/fairness-v2.md`` specify
the formats.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from fairdraw.domain import fairness
from fairdraw.domain.fairness import ALGORITHM, ALGORITHM_V2, Outcome

_REF = re.compile(r"[0-9a-f]{32}")
# A raffle's refs are its ticket numbers: 1 .. 10^9 in decimal, without leading zeros.
_TICKET_REF = re.compile(r"[1-9][0-9]{0,8}|1000000000")
_REF_V2 = re.compile(r"[0-9a-f]{64}")
# At most ten digits, so that parsing a ticket number stays cheap; the bound itself
# (draw.ticket_count) is the entry_count check's.
_RAFFLE_REF_V2 = re.compile(r"([1-9][0-9]{0,9}):[0-9a-f]{64}")
_BOM = b"\xef\xbb\xbf"
RAFFLE_KIND = "raffle"
DRAW_KINDS = ("giveaway", RAFFLE_KIND, "lottery")
LOG_FIELD = "log"


class ProofFormatError(ValueError):
    """A bundle, statement or entries file is not in its ``fairdraw`` format."""


# -- JSON ----------------------------------------------------------------------------------


def canonical_json(obj: Any) -> bytes:
    """The one serialisation bundles and statements are stored, served and signed in:
    sorted keys, no spaces, UTF-8, no ``\\u`` escapes of printable characters."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_json(data: bytes, what: str = "the document") -> Any:
    """Parse JSON bytes strictly: UTF-8 (no BOM), no duplicate keys, no ``NaN`` or
    ``Infinity``. Byte-canonical form is not required (``fairdraw/1`` bundles).

    Raises :class:`ProofFormatError` saying what is wrong with ``what``, and where.
    """
    return _parse(data, what, allow_floats=True)


def parse_canonical(data: bytes, what: str = "the document") -> Any:
    """Parse a ``fairdraw/2`` document: exactly :func:`canonical_json` of what it parses
    to, optionally followed by one LF, with no floats.

    Raises :class:`ProofFormatError`: not UTF-8, not JSON, a duplicate key, a float, or
    bytes that differ from the canonical form (named by the offset of the first difference).
    """
    parsed = _parse(data, what, allow_floats=False)
    try:
        canonical = canonical_json(parsed)
    except UnicodeEncodeError as exc:
        raise ProofFormatError(
            f"{what} is not canonical JSON: a \\u escape encodes a lone surrogate"
        ) from exc
    body = data[:-1] if data.endswith(b"\n") else data
    if body != canonical:
        at = next(
            (i for i, (a, b) in enumerate(zip(body, canonical, strict=False)) if a != b),
            min(len(body), len(canonical)),
        )
        raise ProofFormatError(
            f"{what} is not canonical JSON: byte {at} is {_excerpt(body, at)}, "
            f"canonical JSON has {_excerpt(canonical, at)}"
        )
    return parsed


def _parse(data: bytes, what: str, *, allow_floats: bool) -> Any:
    if data.startswith(_BOM):
        raise ProofFormatError(f"{what} starts with a byte order mark (UTF-8 without BOM)")
    text = decode_utf8(data, what)

    def refuse_float(literal: str) -> NoReturn:
        raise ProofFormatError(f"{what} is not canonical JSON: {literal} is not an integer")

    def refuse_constant(name: str) -> NoReturn:
        raise ProofFormatError(f"{what} is not JSON: {name} is not a JSON number")

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                raise ProofFormatError(f"{what} has the key {key!r} twice in one object")
            obj[key] = value
        return obj

    try:
        return json.loads(
            text,
            object_pairs_hook=unique_keys,
            parse_constant=refuse_constant,
            parse_float=None if allow_floats else refuse_float,
        )
    except ProofFormatError:
        raise
    except RecursionError as exc:
        raise ProofFormatError(f"{what} is not JSON this reader takes: nested too deeply") from exc
    except ValueError as exc:  # a decoding error, or an integer of more than 4300 digits
        raise ProofFormatError(f"{what} is not JSON: {exc}") from exc


def decode_utf8(data: bytes, what: str) -> str:
    """``data`` as UTF-8 text; :class:`ProofFormatError` naming the first invalid byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProofFormatError(
            f"{what} is not UTF-8: invalid byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from exc


def _excerpt(data: bytes, at: int) -> str:
    piece = data[at : at + 12]
    return repr(piece.decode("utf-8", "replace")) if piece else "the end"


# -- the bundle's core ------------------------------------------------------------------------


def bundle_core(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """The bundle without its ``log``: what the draw's log leaf commits to."""
    return {name: value for name, value in bundle.items() if name != LOG_FIELD}


def bundle_hash(bundle: Mapping[str, Any]) -> str:
    """Lowercase hex sha256 of the canonical core: the ``bundle_hash`` of the ``draw`` leaf."""
    return hashlib.sha256(canonical_json(bundle_core(bundle))).hexdigest()


# -- the entries file ------------------------------------------------------------------------


def entries_file(refs: Sequence[str]) -> str:
    """The public entries file: ``f"{i}\\t{ref}\\n"`` per entry, in index order."""
    return entries_lines(refs, 0)


def entries_lines(refs: Sequence[str], first: int) -> str:
    """The lines of the entries file for entries ``first``, ``first + 1``, ... whose
    references are ``refs``: a piece of the file, for writing it out a chunk at a time.
    Both versions' files are these lines, UTF-8 encoded."""
    return "".join([f"{i}\t{ref}\n" for i, ref in enumerate(refs, first)])


def ref_pattern(kind: str, algorithm: str = ALGORITHM) -> re.Pattern[str]:
    """What a public reference of a draw of ``kind`` looks like under ``algorithm``."""
    if algorithm == ALGORITHM_V2:
        return _RAFFLE_REF_V2 if kind == RAFFLE_KIND else _REF_V2
    return _TICKET_REF if kind == RAFFLE_KIND else _REF


def ref_rule(kind: str, algorithm: str = ALGORITHM) -> str:
    """:func:`ref_pattern` in words, for error messages."""
    if algorithm == ALGORITHM_V2:
        if kind == RAFFLE_KIND:
            return "a ticket number, ':' and 64 lowercase hex characters"
        return "64 lowercase hex characters"
    if kind == RAFFLE_KIND:
        return "a ticket number from 1 to 1000000000 without leading zeros"
    return "32 lowercase hex characters"


def raffle_ticket(ref: str) -> int:
    """The ticket number of a ``fairdraw/2`` raffle reference ``"ticket:commitment"``."""
    return int(ref.partition(":")[0])


def parse_entries_file(text: str, kind: str = "giveaway") -> list[str]:
    """The refs of a ``fairdraw/1`` entries file of a draw of ``kind``, by index: 32
    lowercase hex characters, or for a raffle the decimal ticket number. A missing final
    newline is tolerated.

    Raises :class:`ProofFormatError` naming the first malformed line.
    """
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return _refs_of_lines(lines, kind, ALGORITHM)


def parse_entries_bytes(data: bytes, kind: str) -> list[str]:
    """The refs of a ``fairdraw/2`` entries file, by index: UTF-8 without BOM, one
    ``index TAB ref LF`` line per entry, the last line too; nothing else.

    Only the syntax is checked here; a raffle's ticket bounds and repeats are the
    verifier's ``entry_count`` check. Raises :class:`ProofFormatError` naming the first
    malformed line.
    """
    if data.startswith(_BOM):
        raise ProofFormatError("the entries file starts with a byte order mark (UTF-8 without BOM)")
    text = decode_utf8(data, "the entries file")
    if not text:
        return []
    lines = text.split("\n")
    last = lines.pop()
    refs = _refs_of_lines(lines, kind, ALGORITHM_V2)
    if last:
        # A last line without its LF: still named by its own problem if it has one.
        _refs_of_lines([last], kind, ALGORITHM_V2, first=len(lines))
        raise ProofFormatError(f"entries file line {len(lines) + 1}: no LF at the end")
    return refs


def _refs_of_lines(lines: list[str], kind: str, algorithm: str, first: int = 0) -> list[str]:
    pattern = ref_pattern(kind, algorithm)
    refs: list[str] = []
    for i, line in enumerate(lines, first):
        index, _, ref = line.partition("\t")
        if index != str(i) or not pattern.fullmatch(ref):
            problem = _line_problem(i, line, kind, algorithm)
            raise ProofFormatError(f"entries file line {i + 1}: {problem}")
        refs.append(ref)
    return refs


def _line_problem(i: int, line: str, kind: str, algorithm: str) -> str:
    index, tab, ref = line.partition("\t")
    if "\r" in line:
        return "carriage return found (lines must end with LF only)"
    if not tab:
        return f"expected '<index><TAB><ref>', got {line!r}"
    if index != str(i):
        return f"the index must be {i}, got {index!r}"
    return f"the ref must be {ref_rule(kind, algorithm)}, got {ref!r}"


# -- building ----------------------------------------------------------------------------------


def build_bundle(
    *,
    draw: Mapping[str, Any],
    root: bytes,
    entry_count: int,
    sealed_at: str,
    commitment: str,
    seed: bytes,
    outcome: Outcome,
    refs_of_picks: Mapping[int, str],
    alternates: int,
) -> dict[str, Any]:
    """The ``fairdraw/1`` proof bundle of a drawn draw.

    ``draw`` is the rules object (id, kind, title, prizes, alternates,
    one_prize_per_entrant), copied through; ``refs_of_picks`` maps every winning and
    alternate entry index to its ref.
    """
    rules = copy.deepcopy(dict(draw))
    if rules.setdefault("alternates", alternates) != alternates:
        raise ValueError(
            f"draw says {rules['alternates']} alternates, but {alternates} were asked for"
        )
    _require_picks(outcome, refs_of_picks, "refs_of_picks")
    slots = fairness.prize_slots([(p["name"], p["quantity"]) for p in rules["prizes"]])
    return {
        "algorithm": ALGORITHM,
        "draw": rules,
        "seal": {
            "root": root.hex(),
            "entry_count": entry_count,
            "sealed_at": sealed_at,
            "slots": slots,
        },
        "commitment": commitment,
        "seed": seed.hex(),
        "winners": [
            {"slot": w.slot, "prize": w.prize, "index": w.index, "ref": refs_of_picks[w.index]}
            for w in outcome.winners
        ],
        "alternates": [{"index": i, "ref": refs_of_picks[i]} for i in outcome.alternates],
        "unawarded": list(outcome.unawarded),
    }


_V2_DRAW_INPUTS = frozenset({"id", "kind", "title", "prizes", "opened_at", "deadline"})
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


def build_bundle_v2(
    *,
    draw: Mapping[str, Any],
    root: bytes,
    entry_count: int,
    sealed_at: str,
    commitment: str,
    seed: bytes,
    beacon: Mapping[str, Any] | None,
    outcome: Outcome,
    picks: Mapping[int, tuple[str, Mapping[str, str] | None]],
    signer: Mapping[str, str],
) -> dict[str, Any]:
    """The core of a ``fairdraw/2`` bundle (everything but ``log``, which the caller adds
    once the core's hash is in the draw log).

    ``draw`` gives id, kind, title, prizes (``{name, quantity}`` objects), opened_at,
    deadline and, for a raffle, ticket_count; the bundle's ``alternates`` is the number
    of slots and ``one_prize_per_entrant`` is false (a ``draw`` that says otherwise is
    refused). ``beacon`` is the bundle's beacon object or None; ``picks`` maps every
    winning and alternate index to ``(ref, opening)``; ``signer`` is
    ``{algorithm, public_key, key_id}``.
    """
    prizes = [{"name": p["name"], "quantity": p["quantity"]} for p in draw["prizes"]]
    slots = fairness.prize_slots([(p["name"], p["quantity"]) for p in prizes])
    rules = _v2_rules(draw, prizes, len(slots))
    if beacon is not None and set(beacon) != _BEACON_FIELDS:
        raise ValueError(f"a beacon object has the fields {sorted(_BEACON_FIELDS)}")
    _require_picks(outcome, picks, "picks")

    def pick(index: int) -> dict[str, Any]:
        ref, opening = picks[index]
        return {"index": index, "ref": ref, "opening": dict(opening) if opening else None}

    return {
        "algorithm": ALGORITHM_V2,
        "draw": rules,
        "seal": {
            "root": root.hex(),
            "entry_count": entry_count,
            "sealed_at": sealed_at,
            "slots": slots,
        },
        "commitment": commitment,
        "seed": seed.hex(),
        "beacon": dict(beacon) if beacon is not None else None,
        "winners": [{"slot": w.slot, "prize": w.prize, **pick(w.index)} for w in outcome.winners],
        "alternates": [pick(i) for i in outcome.alternates],
        "unawarded": list(outcome.unawarded),
        "signer": dict(signer),
    }


def _v2_rules(draw: Mapping[str, Any], prizes: list[dict[str, Any]], slots: int) -> dict[str, Any]:
    """The bundle's ``draw`` object; ``alternates`` and ``one_prize_per_entrant`` may be
    given, but only with the values ``fairdraw/2`` fixes."""
    unknown = set(draw) - _V2_DRAW_INPUTS - {"ticket_count", "alternates", "one_prize_per_entrant"}
    if unknown:
        raise ValueError(f"unknown draw fields {sorted(unknown)}")
    if draw.get("alternates", slots) != slots:
        raise ValueError(f"a fairdraw/2 draw has as many alternates as slots ({slots})")
    if draw.get("one_prize_per_entrant", False) is not False:
        raise ValueError("fairdraw/2 has no one-prize-per-entrant rule")
    ticket_count = draw.get("ticket_count")
    if (draw["kind"] == RAFFLE_KIND) != (ticket_count is not None):
        raise ValueError("ticket_count is given for a raffle and only for a raffle")
    return {
        "id": draw["id"],
        "kind": draw["kind"],
        "title": draw["title"],
        "prizes": prizes,
        "alternates": slots,
        "one_prize_per_entrant": False,
        "opened_at": draw["opened_at"],
        "deadline": draw["deadline"],
        "ticket_count": ticket_count,
    }


def _require_picks(outcome: Outcome, known: Mapping[int, object], name: str) -> None:
    picks = [w.index for w in outcome.winners] + list(outcome.alternates)
    missing = [i for i in picks if i not in known]
    if missing:
        raise ValueError(f"{name} lacks the refs of entries {missing}")
