"""A giveaway receipt echoed back as a file: only this instance's own, well-formed
receipts, in the bytes the entry API gives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fairdraw.domain import fairness
from fairdraw.domain.receipt_files import api_receipt_bytes, echoed_receipt
from fairdraw.domain.receipts import ReceiptError, receipt_statement
from fairdraw.domain.signing import SigningKey, key_id

KEY = SigningKey.generate()
NONCE = fairness.new_nonce()
IDENTITY = "gh:101"
REF = fairness.entry_ref_v2(IDENTITY, NONCE)


def api_receipt(key: SigningKey = KEY) -> dict[str, Any]:
    """A receipt as the entry API answers (the fields of ``Receipt.to_json``)."""
    statement = receipt_statement("abcdefghijkl", 0, REF, "2026-05-01T10:00:00.000Z", key.key_id)
    return {
        "draw_id": "abcdefghijkl",
        "index": 0,
        "ref": REF,
        "entered_at": "2026-05-01T10:00:00.000Z",
        "github": "älice",
        "account": None,
        "algorithm": "fairdraw/2",
        "opening": {"identity": IDENTITY, "nonce": NONCE.hex()},
        "signed": key.sign_statement(statement),
    }


def test_a_receipt_comes_back_in_the_apis_bytes_whatever_its_key_order() -> None:
    receipt = api_receipt()
    expected = json.dumps(receipt, ensure_ascii=False, separators=(",", ":")).encode()
    assert api_receipt_bytes(receipt) == expected
    for text in (expected.decode(), json.dumps(receipt, sort_keys=True, indent=2)):
        body, signed = echoed_receipt(text, KEY.public_key)
        assert body == expected
        assert signed == receipt["signed"]


def changed(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    receipt: dict[str, Any] = json.loads(json.dumps(api_receipt()))
    target = receipt
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    return receipt


OTHER = SigningKey.generate()


@pytest.mark.parametrize(
    ("receipt", "message"),
    [
        (
            changed(("signed", "signature"), "00" * 64),
            "The receipt's signature is not valid: the instance did not sign it, or it was "
            "changed after it was signed",
        ),
        (
            changed(("signed", "statement", "index"), 1),
            "The receipt's signature is not valid",
        ),
        (
            api_receipt(OTHER),
            f"The receipt was signed by key {OTHER.key_id}, not by the instance's key "
            f"{key_id(KEY.public_key)}",
        ),
        (changed(("index",), 1), "The receipt's index does not match what its signature covers"),
        (changed(("index",), True), "The receipt's index does not match"),
        (changed(("algorithm",), "fairdraw/1"), "The receipt's algorithm does not match"),
        (
            changed(("opening", "nonce"), fairness.new_nonce().hex()),
            "The receipt's opening does not lead to its reference",
        ),
        (
            changed(("opening", "identity"), "gh:666"),
            "The receipt's opening does not lead to its reference",
        ),
        (changed(("opening",), None), "The receipt's opening is not an identity"),
        (changed(("opening", "nonce"), "AB" * 16), "The receipt's opening is not an identity"),
        (changed(("opening", "extra"), 1), "The receipt's opening is not an identity"),
        (changed(("github",), None), "The receipt names no entrant"),
        (changed(("account",), "alice"), "The receipt names no entrant"),
        (changed(("signed",), None), "This receipt carries no signature"),
        (changed(("extra",), 1), "This is not a receipt as the entry API gives it: it has an"),
    ],
)
def test_anything_but_an_own_well_formed_receipt_is_refused(
    receipt: dict[str, Any], message: str
) -> None:
    with pytest.raises(ReceiptError) as caught:
        echoed_receipt(json.dumps(receipt), KEY.public_key)
    assert str(caught.value).startswith(message)


def test_an_opening_of_the_wrong_kind_is_refused() -> None:
    receipt = api_receipt()
    nonce = fairness.new_nonce()
    identity = "u:alice"
    ref = fairness.entry_ref_v2(identity, nonce)
    statement = receipt_statement("abcdefghijkl", 0, ref, receipt["entered_at"], KEY.key_id)
    mixed = {
        **receipt,
        "ref": ref,
        "opening": {"identity": identity, "nonce": nonce.hex()},
        "signed": KEY.sign_statement(statement),
    }
    with pytest.raises(ReceiptError, match="The receipt names an account's opening"):
        echoed_receipt(json.dumps(mixed), KEY.public_key)
    as_account = {**mixed, "github": None, "account": "alice"}
    assert echoed_receipt(json.dumps(as_account), KEY.public_key)[1] == mixed["signed"]


@pytest.mark.parametrize("text", ["", "{", "[]", "x" * 20_001])
def test_unreadable_text_is_refused(text: str) -> None:
    with pytest.raises(ReceiptError):
        echoed_receipt(text, KEY.public_key)
