"""Receipts, entry proofs and complaints of ``fairdraw/2``: their shapes, and the checks
anyone can make of them without trusting the instance that signed them.

A receipt is the instance's signed promise that entry ``index`` of a draw has the
reference ``ref``; an entry proof is its signed statement, after the seal, of the
reference its sealed ledger holds at ``index``, with the audit path to the sealed root.
A receipt and an entry proof of the same entry that disagree, both signed by the one key,
are a *complaint*: proof that a receipted entry was dropped. ``docs/fairness-v2.md``
("Signatures") specifies the statements. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from fairdraw.domain import errors, fairness, transparency
from fairdraw.domain.moments import iso
from fairdraw.domain.proof import ProofFormatError, canonical_json, parse_json
from fairdraw.domain.signing import SigningKey, key_id, verify_statement
from fairdraw.i18n import N_

RECEIPT: Final = "receipt"
ENTRY_PROOF: Final = "entry-proof"
COMPLAINT: Final = "complaint"
# A pasted receipt is well under a kilobyte; anything this long is something else.
RECEIPT_TEXT_MAX: Final = 20_000
# A complaint holds two statements and an audit path of at most 64 hashes.
COMPLAINT_TEXT_MAX: Final = 40_000
_COMPLAINT_KEYS: Final = frozenset({"type", "public_key", "receipt", "answer"})

_HASH_HEX: Final = re.compile(r"[0-9a-f]{64}")


class NotSealed(errors.NotFound):
    code = "not_sealed"
    title = N_("Entry proofs are published once the draw is closed and sealed")


class NoEntryProofs(errors.Conflict):
    code = "no_entry_proofs"
    title = N_("This draw has no signed entry proofs")


class LedgerMismatch(errors.FairdrawError):
    """The stored ledger no longer hashes to the root it was sealed with: something
    changed it after the seal. Nothing is signed."""

    code = "ledger_mismatch"
    title = N_("The stored ledger no longer matches its seal")


class ReceiptError(ValueError):
    """A receipt, entry proof or complaint that is malformed or not validly signed; the
    message says why, as a sentence for the person checking."""


# -- the statements' shapes ---------------------------------------------------------------


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, str) and _HASH_HEX.fullmatch(value) is not None


def _is_ref_or_null(value: object) -> bool:
    return value is None or isinstance(value, str)


def _is_path(value: object) -> bool:
    return isinstance(value, list) and all(map(_is_hash, value))


Fields = Mapping[str, Callable[[object], bool]]

RECEIPT_FIELDS: Final[Fields] = {
    "type": lambda v: v == RECEIPT,
    "algorithm": lambda v: v == fairness.ALGORITHM_V2,
    "draw_id": _is_text,
    "index": _is_count,
    "ref": _is_text,
    "entered_at": _is_text,
    "key_id": _is_hash,
}
ENTRY_PROOF_FIELDS: Final[Fields] = {
    "type": lambda v: v == ENTRY_PROOF,
    "draw_id": _is_text,
    "index": _is_count,
    "ref": _is_ref_or_null,
    "root": _is_hash,
    "entry_count": _is_count,
    "sealed_at": _is_text,
    "path": _is_path,
    "key_id": _is_hash,
}


def _signed(value: object, fields: Fields, what: str) -> dict[str, Any]:
    """``value`` as ``{"statement", "signature"}`` whose statement has exactly
    ``fields``, each of the right form; ReceiptError naming what is wrong."""
    if not isinstance(value, Mapping):
        raise ReceiptError(f"{what} is not a JSON object")
    statement, signature = value.get("statement"), value.get("signature")
    if not isinstance(statement, Mapping) or not isinstance(signature, str):
        raise ReceiptError(f"{what} has no signed statement")
    missing = sorted(set(fields) - set(statement))
    extra = sorted(set(statement) - set(fields))
    if missing or extra:
        named = ", ".join([*(f"no {k!r}" for k in missing), *(f"an extra {k!r}" for k in extra)])
        raise ReceiptError(f"{what}'s statement has {named}")
    wrong = [name for name, valid in fields.items() if not valid(statement[name])]
    if wrong:
        raise ReceiptError(f"{what}'s statement has an invalid {', '.join(wrong)}")
    return {"statement": dict(statement), "signature": signature}


def receipt_statement(
    draw_id: str, index: int, ref: str, entered_at: str, key_id: str
) -> dict[str, str | int]:
    """The ``receipt`` statement the instance signs for entry ``index`` of a fairdraw/2
    draw: its promise that the entry, with this ref, is in the ledger."""
    return {
        "type": "receipt",
        "algorithm": fairness.ALGORITHM_V2,
        "draw_id": draw_id,
        "index": index,
        "ref": ref,
        "entered_at": entered_at,
        "key_id": key_id,
    }


def sign_receipt(
    signing: SigningKey, draw_id: str, index: int, ref: str, entered_ms: int
) -> dict[str, Any]:
    """The instance's signed receipt of entry ``index`` (an entry, a claim or a ballot).
    Ed25519 signatures are deterministic: the same entry always gets the same receipt."""
    statement = receipt_statement(draw_id, index, ref, iso(entered_ms), signing.key_id)
    return signing.sign_flat(statement)


def signed_receipt(receipt: object) -> dict[str, Any]:
    """The signed part ``{"statement", "signature"}`` of a receipt, as the API and the
    receipt page give it (with ``signed``) or as the specification writes it (the
    statement and signature beside the ``opening``). The opening is left out: a check or
    a complaint never needs the entrant's secret nonce.

    Raises ReceiptError when there is no well-formed ``receipt`` statement.
    """
    if not isinstance(receipt, Mapping):
        raise ReceiptError("This is not a fairdraw/2 receipt: it is not a JSON object")
    signed = receipt.get("signed", receipt)
    if signed is None:
        raise ReceiptError(
            "This receipt carries no signature: its draw is not a fairdraw/2 draw, or its "
            "server had no signing key"
        )
    try:
        return _signed(signed, RECEIPT_FIELDS, "the receipt")
    except ReceiptError as exc:
        raise ReceiptError(f"This is not a fairdraw/2 receipt: {exc}") from None


def checked_receipt(receipt: object, public_key: bytes) -> dict[str, Any]:
    """The signed part of ``receipt`` (:func:`signed_receipt`), checked to carry a valid
    signature of ``public_key``; ReceiptError saying why not."""
    signed = signed_receipt(receipt)
    problem = _receipt_problem(signed, public_key)
    if problem is not None:
        raise ReceiptError(problem)
    return signed


def signed_entry_proof(answer: object) -> dict[str, Any]:
    """``answer`` checked to be a well-formed signed ``entry-proof`` (ReceiptError
    otherwise)."""
    try:
        return _signed(answer, ENTRY_PROOF_FIELDS, "the answer")
    except ReceiptError as exc:
        raise ReceiptError(f"The server's answer is not an entry proof: {exc}") from None


def public_key_from_hex(text: str) -> bytes:
    """An Ed25519 public key written as 64 hex characters (ValueError otherwise)."""
    if not _HASH_HEX.fullmatch(text.strip().lower()):
        raise ValueError("an Ed25519 public key is 64 hex characters")
    return bytes.fromhex(text.strip())


def parse_receipt_text(text: str) -> dict[str, Any]:
    """A receipt pasted or read from a file: a JSON object (strict: no duplicate keys)."""
    return _json_object(text, "receipt", RECEIPT_TEXT_MAX)


def _json_object(text: str, what: str, most: int) -> dict[str, Any]:
    """``text`` as a JSON object (strict: no duplicate keys), ReceiptError naming
    ``what`` otherwise, or when it is longer than ``most`` characters."""
    if len(text) > most:
        raise ReceiptError(f"A {what} is at most {most:,} characters")
    try:
        parsed = parse_json(text.strip().encode("utf-8", "surrogatepass"), f"the {what}")
    except ProofFormatError as exc:
        message = str(exc)
        raise ReceiptError(message[:1].upper() + message[1:]) from exc
    if not isinstance(parsed, dict):
        raise ReceiptError(f"The {what} is not a JSON object")
    return parsed


# -- checking -----------------------------------------------------------------------------


class Verdict(StrEnum):
    included = "included"
    not_included = "not_included"
    not_sealed = "not_sealed"
    invalid = "invalid"


@dataclass(frozen=True)
class CheckResult:
    """What checking a receipt came to: ``detail`` says it in a sentence; ``answer`` is
    the server's signed entry proof (when there was one to check) and ``complaint`` the
    portable proof of a dropped entry (``not_included`` only)."""

    verdict: Verdict
    detail: str
    answer: dict[str, Any] | None = None
    complaint: dict[str, Any] | None = None

    @classmethod
    def invalid(cls, detail: str) -> CheckResult:
        return cls(Verdict.invalid, detail)


def _receipt_problem(signed: Mapping[str, Any], public_key: bytes) -> str | None:
    """Why the signed receipt ``signed`` is not one of the key ``public_key``'s, or None."""
    named = signed["statement"]["key_id"]
    if named != key_id(public_key):
        expected = key_id(public_key)
        return f"The receipt was signed by key {named}, not by the instance's key {expected}"
    if not verify_statement(signed, public_key):
        return (
            "The receipt's signature is not valid: the instance did not sign it, or it "
            "was changed after it was signed"
        )
    return None


def _answer_problem(
    receipt: Mapping[str, Any], answer: Mapping[str, Any], key: bytes
) -> str | None:
    """Why ``answer`` is no signed entry proof of ``key`` about ``receipt``'s entry."""
    promised, stated = receipt["statement"], answer["statement"]
    if stated["key_id"] != promised["key_id"] or not verify_statement(answer, key):
        return "The server's entry proof is not signed by the key that signed the receipt"
    if (stated["draw_id"], stated["index"]) != (promised["draw_id"], promised["index"]):
        return "The server's entry proof is about another entry than the receipt"
    return None


def check_receipt(
    receipt: Mapping[str, Any], answer: Mapping[str, Any], public_key: bytes
) -> CheckResult:
    """Check a receipt against the server's answer for its entry, both under the
    instance's ``public_key``; pure.

    ``included`` when both signatures hold, the answer names the receipt's reference and
    its path leads from that entry to its signed root; ``not_included`` with a complaint
    when the answer names another reference or none; ``invalid`` with the reason
    otherwise (a forged or altered receipt, an answer that proves nothing).
    """
    try:
        signed = checked_receipt(receipt, public_key)
        proof = signed_entry_proof(answer)
    except ReceiptError as exc:
        return CheckResult.invalid(str(exc))
    problem = _answer_problem(signed, proof, public_key)
    if problem is not None:
        return CheckResult.invalid(problem)
    promised, stated = signed["statement"], proof["statement"]
    if stated["ref"] != promised["ref"]:
        return CheckResult(
            Verdict.not_included,
            _dropped(stated),
            proof,
            make_complaint(signed, proof, public_key),
        )
    path = [bytes.fromhex(h) for h in stated["path"]]
    root = bytes.fromhex(stated["root"])
    if not fairness.verify_inclusion(
        stated["index"], stated["ref"], stated["entry_count"], path, root
    ):
        return CheckResult.invalid(
            "The server's entry proof names your entry, but its path does not lead to the "
            "root it signed: it proves nothing"
        )
    return CheckResult(
        Verdict.included,
        f"Entry {stated['index']} is in the ledger of {stated['entry_count']:,} entries "
        f"sealed at {stated['sealed_at']} with root {stated['root']}",
        proof,
    )


def _dropped(stated: Mapping[str, Any]) -> str:
    if stated["ref"] is None:
        return (
            f"The ledger was sealed with {stated['entry_count']:,} entries, so it has no entry "
            f"{stated['index']}: your receipted entry was left out"
        )
    return (
        f"The sealed ledger holds another reference at index {stated['index']}: your "
        "receipted entry was replaced"
    )


def make_complaint(
    receipt: Mapping[str, Any], answer: Mapping[str, Any], public_key: bytes
) -> dict[str, Any]:
    """The complaint of a signed receipt and the entry proof that contradicts it, with
    the public key both were checked under (so a third party has it at hand; whether it
    is the instance's key is theirs to confirm)."""
    return {"type": COMPLAINT, "public_key": public_key.hex(), "receipt": receipt, "answer": answer}


def parse_complaint_text(text: str) -> dict[str, Any]:
    """A complaint read from a file: a JSON object (strict: no duplicate keys)."""
    return _json_object(text, "complaint", COMPLAINT_TEXT_MAX)


def complaint_key(complaint: Mapping[str, Any]) -> bytes | None:
    """The public key a complaint carries (None for one made before complaints carried
    it); ReceiptError when it is there but not 64 hex characters."""
    carried = complaint.get("public_key")
    if carried is None:
        return None
    if not isinstance(carried, str) or _HASH_HEX.fullmatch(carried) is None:
        raise ReceiptError("The complaint's public_key is not an Ed25519 key (64 hex characters)")
    return bytes.fromhex(carried)


def complaint_problem(complaint: Mapping[str, Any], public_key: bytes) -> str | None:
    """Why ``complaint`` does not prove, under ``public_key``, that a receipted entry was
    dropped; None when it does: a receipt and an entry proof of the same entry, both
    validly signed by that key, with different references, and no other key named."""
    if (
        not {"type", "receipt", "answer"} <= set(complaint) <= _COMPLAINT_KEYS
        or complaint["type"] != COMPLAINT
    ):
        return (
            "This is not a complaint: one has 'type' \"complaint\", 'public_key', 'receipt' "
            "and 'answer'"
        )
    try:
        carried = complaint_key(complaint)
        signed = checked_receipt(complaint["receipt"], public_key)
        proof = signed_entry_proof(complaint["answer"])
    except ReceiptError as exc:
        return str(exc)
    problem = _answer_problem(signed, proof, public_key)
    if problem is not None:
        return problem
    if proof["statement"]["ref"] == signed["statement"]["ref"]:
        return "The entry proof names the receipt's reference: nothing was dropped"
    if carried is not None and carried != public_key:
        return (
            f"The complaint names the public key {carried.hex()}, but its statements are "
            f"signed by {public_key.hex()}"
        )
    return None


def complaint_proves(complaint: Mapping[str, Any]) -> str:
    """What a complaint that :func:`complaint_problem` accepts proves, in a sentence."""
    promised = complaint["receipt"]["statement"]
    stated = complaint["answer"]["statement"]
    where = f"entry {promised['index']} of draw {promised['draw_id']}"
    if stated["ref"] is None:
        holds = f"has only {stated['entry_count']:,} entries, so no entry {stated['index']}"
    else:
        holds = f"holds another reference there, {stated['ref']}"
    return (
        f"The holder of key {promised['key_id']} signed a receipt for {where} (reference "
        f"{promised['ref']}, entered at {promised['entered_at']}), and later signed that "
        f"the ledger of that draw sealed at {stated['sealed_at']} (root {stated['root']}) "
        f"{holds}: the receipted entry was dropped."
    )


def complaint_file(complaint: Mapping[str, Any]) -> bytes:
    """A complaint as a file: canonical JSON and a line feed, as fairdraw writes every
    ``fairdraw/2`` document."""
    return canonical_json(complaint) + b"\n"


def complaint_file_name(complaint: Mapping[str, Any]) -> str:
    """``fairdraw-complaint-<draw>-<index>.json`` for a complaint (the draw id reduced to
    characters that are safe in a file name)."""
    return _file_name("complaint", complaint["receipt"]["statement"])


def receipt_file(signed: Mapping[str, Any]) -> bytes:
    """The signed part of a receipt as a file to keep (what ``fairdraw verify-receipt``
    and ``/check-entry`` read): canonical JSON and a line feed."""
    return canonical_json(signed_receipt(signed)) + b"\n"


def receipt_file_name(signed: Mapping[str, Any]) -> str:
    """``fairdraw-receipt-<draw>-<index>.json`` for a signed receipt, named as its
    complaint would be."""
    return _file_name("receipt", signed_receipt(signed)["statement"])


def _file_name(what: str, statement: Mapping[str, Any]) -> str:
    draw = re.sub(r"[^A-Za-z0-9_-]", "_", str(statement["draw_id"]))
    return f"fairdraw-{what}-{draw}-{statement['index']}.json"


# -- audit paths from chunk roots --------------------------------------------------------


def audit_path(
    index: int, count: int, chunk_refs: Sequence[str], other_roots: Mapping[int, bytes]
) -> list[bytes]:
    """The RFC 6962 audit path of entry ``index`` in a ledger of ``count`` entries, from
    the references of the chunk that holds it (``chunk_refs``) and the roots of the other
    chunks (``other_roots``, by chunk number).

    Each subtree on the path lies inside the entry's chunk, or is a run of whole chunks
    (the last of them possibly partial) whose tree over the chunks' roots is the tree
    over their leaves, as the sealed root is joined from chunk roots.
    """
    size = fairness.CHUNK_LEAVES
    first = index // size * size
    path: list[bytes] = []
    for start, end in transparency.inclusion_ranges(index, count):
        if first <= start and end <= first + size:
            path.append(fairness.chunk_root(start, chunk_refs[start - first : end - first]))
        else:
            chunks = range(start // size, -(-end // size))
            path.append(transparency.tree_hash([other_roots[k] for k in chunks]))
    return path
