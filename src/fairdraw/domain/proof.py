"""Proof bundles of ``fairdraw/1`` draws and their offline verification.

A bundle (canonical JSON) states the draw's rules, the seal, the commitment and the
revealed seed, and the result. Together with the public entries file (one ``index<TAB>ref``
line per entry) anyone can recompute the root, the stream and the winners;
:func:`fairdraw.domain.verification.verify_bundle` does exactly that and names the
first check that fails.
``docs/fairness.md`` specifies both formats.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fairdraw.domain import fairness
from fairdraw.domain.fairness import ALGORITHM, Outcome

_REF = re.compile(r"[0-9a-f]{32}")
# A raffle's refs are its ticket numbers: 1 .. 10^9 in decimal, without leading zeros.
_TICKET_REF = re.compile(r"[1-9][0-9]{0,8}|1000000000")
RAFFLE_KIND = "raffle"


class ProofFormatError(ValueError):
    """A bundle or entries file is not in the ``fairdraw/1`` format."""


def canonical_json(obj: Any) -> bytes:
    """The one serialisation bundles are stored and served in: sorted keys, no spaces,
    UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# -- the entries file ------------------------------------------------------------------------


def entries_file(refs: Sequence[str]) -> str:
    """The public entries file: ``f"{i}\\t{ref}\\n"`` per entry, in index order."""
    return entries_lines(refs, 0)


def entries_lines(refs: Sequence[str], first: int) -> str:
    """The lines of the entries file for entries ``first``, ``first + 1``, ... whose
    references are ``refs``: a piece of the file, for writing it out a chunk at a time."""
    return "".join([f"{i}\t{ref}\n" for i, ref in enumerate(refs, first)])


def ref_pattern(kind: str) -> re.Pattern[str]:
    """What a public reference of a draw of ``kind`` looks like."""
    return _TICKET_REF if kind == RAFFLE_KIND else _REF


def ref_rule(kind: str) -> str:
    """:func:`ref_pattern` in words, for error messages."""
    if kind == RAFFLE_KIND:
        return "a ticket number from 1 to 1000000000 without leading zeros"
    return "32 lowercase hex characters"


def parse_entries_file(text: str, kind: str = "giveaway") -> list[str]:
    """The refs of an entries file of a draw of ``kind``, by index: 32 lowercase hex
    characters, or for a raffle the decimal ticket number. A missing final newline is
    tolerated.

    Raises :class:`ProofFormatError` naming the first malformed line.
    """
    pattern = ref_pattern(kind)
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    refs: list[str] = []
    for i, line in enumerate(lines):
        index, _, ref = line.partition("\t")
        if index != str(i) or not pattern.fullmatch(ref):
            raise ProofFormatError(f"entries file line {i + 1}: {_line_problem(i, line, kind)}")
        refs.append(ref)
    return refs


def _line_problem(i: int, line: str, kind: str) -> str:
    index, tab, ref = line.partition("\t")
    if "\r" in line:
        return "carriage return found (lines must end with LF only)"
    if not tab:
        return f"expected '<index><TAB><ref>', got {line!r}"
    if index != str(i):
        return f"the index must be {i}, got {index!r}"
    return f"the ref must be {ref_rule(kind)}, got {ref!r}"


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
    """The proof bundle of a drawn draw.

    ``draw`` is the rules object (id, kind, title, prizes, alternates,
    one_prize_per_entrant), copied through; ``refs_of_picks`` maps every winning and
    alternate entry index to its ref.
    """
    rules = copy.deepcopy(dict(draw))
    if rules.setdefault("alternates", alternates) != alternates:
        raise ValueError(
            f"draw says {rules['alternates']} alternates, but {alternates} were asked for"
        )
    picks = [w.index for w in outcome.winners] + list(outcome.alternates)
    missing = [i for i in picks if i not in refs_of_picks]
    if missing:
        raise ValueError(f"refs_of_picks lacks the refs of entries {missing}")
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
