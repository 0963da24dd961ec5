"""A giveaway receipt kept as a file: the bytes the entry API answered with, which the
entrant later gives to "Check my entry" or ``fairdraw verify-receipt``.

The receipt page offers it as a download by sending the receipt back to the server,
which echoes it only when it is one of its own: the signature holds under the
instance's key, every field has its form, the fields outside the signature repeat the
signed ones, and the opening commits to the signed reference. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from fairdraw.domain import fairness
from fairdraw.domain.draws import ACCOUNT_PREFIX
from fairdraw.domain.receipts import (
    ReceiptError,
    checked_receipt,
    parse_receipt_text,
    receipt_statement,
)

# A receipt's fields in the order the entry API answers with them.
RECEIPT_FILE_FIELDS: Final = (
    "draw_id",
    "index",
    "ref",
    "entered_at",
    "github",
    "account",
    "algorithm",
    "opening",
    "signed",
)
# The signed fields a receipt repeats outside its signature.
_REPEATED: Final = ("draw_id", "index", "ref", "entered_at", "algorithm")
_NONCE_HEX: Final = re.compile(f"[0-9a-f]{{{2 * fairness.NONCE_BYTES}}}")


def api_receipt_bytes(receipt: Mapping[str, Any]) -> bytes:
    """A receipt (as :meth:`Receipt.to_json` gives it) in the bytes the entry API answers
    with: its fields in the API's order, no spaces, UTF-8."""
    fields = {name: receipt[name] for name in RECEIPT_FILE_FIELDS}
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def _same(one: object, other: object) -> bool:
    return type(one) is type(other) and one == other


def _label_problem(receipt: Mapping[str, Any], identity: str) -> str | None:
    github, account = receipt["github"], receipt["account"]
    if account is None and isinstance(github, str) and github:
        return None if not identity.startswith(ACCOUNT_PREFIX) else "an account's opening"
    if github is None and isinstance(account, str) and account:
        return None if identity.startswith(ACCOUNT_PREFIX) else "a GitHub user's opening"
    return "no entrant (one of 'github' and 'account')"


def echoed_receipt(text: str, public_key: bytes) -> tuple[bytes, dict[str, Any]]:
    """The receipt ``text`` (JSON) in the API's bytes (:func:`api_receipt_bytes`), and
    its signed part, once it is shown to be a giveaway receipt signed with
    ``public_key`` and carrying its opening.

    Raises ReceiptError saying what is wrong.
    """
    receipt = parse_receipt_text(text)
    missing = sorted(set(RECEIPT_FILE_FIELDS) - set(receipt))
    extra = sorted(set(receipt) - set(RECEIPT_FILE_FIELDS))
    if missing or extra:
        named = ", ".join([*(f"no {k!r}" for k in missing), *(f"an extra {k!r}" for k in extra)])
        raise ReceiptError(f"This is not a receipt as the entry API gives it: it has {named}")
    signed = checked_receipt(receipt, public_key)
    statement = signed["statement"]
    differing = [name for name in _REPEATED if not _same(receipt[name], statement[name])]
    if differing:
        verb = "does" if len(differing) == 1 else "do"
        raise ReceiptError(
            f"The receipt's {', '.join(differing)} {verb} not match what its signature covers"
        )
    opening = receipt["opening"]
    if (
        not isinstance(opening, Mapping)
        or set(opening) != {"identity", "nonce"}
        or not isinstance(opening["identity"], str)
        or not isinstance(opening["nonce"], str)
        or _NONCE_HEX.fullmatch(opening["nonce"]) is None
    ):
        raise ReceiptError("The receipt's opening is not an identity and a 32-hex nonce")
    nonce = bytes.fromhex(opening["nonce"])
    if fairness.entry_ref_v2(opening["identity"], nonce) != statement["ref"]:
        raise ReceiptError("The receipt's opening does not lead to its reference")
    problem = _label_problem(receipt, opening["identity"])
    if problem is not None:
        raise ReceiptError(f"The receipt names {problem}")
    # Rebuilt in the API's order: a page or a browser may have sorted the keys.
    ordered = receipt_statement(
        statement["draw_id"],
        statement["index"],
        statement["ref"],
        statement["entered_at"],
        statement["key_id"],
    )
    signed = {"statement": ordered, "signature": signed["signature"]}
    opened = {"identity": opening["identity"], "nonce": opening["nonce"]}
    return api_receipt_bytes({**receipt, "opening": opened, "signed": signed}), signed
