"""Complaints checked without the instance that signed them: the key they carry, a key
pinned by the reader, and every way a complaint can fail to prove anything."""

from __future__ import annotations

from typing import Any

import pytest

from fairdraw.domain import fairness
from fairdraw.domain.receipts import (
    ReceiptError,
    check_receipt,
    complaint_key,
    complaint_problem,
    complaint_proves,
    parse_complaint_text,
    receipt_statement,
)
from fairdraw.domain.signing import SigningKey, key_id

KEY = SigningKey.generate()
DRAW = "abcdefghijkl"
ENTERED = "2026-05-01T10:00:00.000Z"
SEALED = "2026-05-02T10:00:00.000Z"
ROOT = "ab" * 32


def ref_of(identity: str) -> str:
    return fairness.entry_ref_v2(identity, fairness.new_nonce())


def receipt(key: SigningKey = KEY, index: int = 1, ref: str | None = None) -> dict[str, Any]:
    statement = receipt_statement(DRAW, index, ref or ref_of("gh:102"), ENTERED, key.key_id)
    return key.sign_statement(statement)


def answer(key: SigningKey, index: int, ref: str | None, entry_count: int = 3) -> dict[str, Any]:
    statement = {
        "type": "entry-proof",
        "draw_id": DRAW,
        "index": index,
        "ref": ref,
        "root": ROOT,
        "entry_count": entry_count,
        "sealed_at": SEALED,
        "path": [],
        "key_id": key.key_id,
    }
    return key.sign_statement(statement)


def complaint(
    signed: dict[str, Any] | None = None, proof: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A complaint as fairdraw makes one: by checking the receipt against the answer."""
    signed = signed or receipt()
    proof = proof or answer(KEY, 1, ref_of("gh:666"))
    made = check_receipt(signed, proof, KEY.public_key).complaint
    assert made is not None
    return made


def test_a_complaint_carries_the_key_that_signed_it() -> None:
    made = complaint()
    assert set(made) == {"type", "public_key", "receipt", "answer"}
    assert made["public_key"] == KEY.public_key.hex()
    assert complaint_key(made) == KEY.public_key
    assert complaint_problem(made, KEY.public_key) is None


def test_what_a_valid_complaint_proves() -> None:
    signed = receipt(ref="cd" * 32)
    replaced = complaint(signed, answer(KEY, 1, "ef" * 32))
    assert complaint_proves(replaced) == (
        f"The holder of key {KEY.key_id} signed a receipt for entry 1 of draw {DRAW} "
        f"(reference {'cd' * 32}, entered at {ENTERED}), and later signed that the ledger of "
        f"that draw sealed at {SEALED} (root {ROOT}) holds another reference there, "
        f"{'ef' * 32}: the receipted entry was dropped."
    )
    left_out = complaint(signed, answer(KEY, 1, None, entry_count=1))
    assert complaint_problem(left_out, KEY.public_key) is None
    assert complaint_proves(left_out).endswith(
        f"(root {ROOT}) has only 1 entries, so no entry 1: the receipted entry was dropped."
    )


def test_a_tampered_receipt_signature_proves_nothing() -> None:
    made = complaint()
    statement = {**made["receipt"]["statement"], "entered_at": "2026-05-01T09:00:00.000Z"}
    changed = {**made, "receipt": {**made["receipt"], "statement": statement}}
    assert complaint_problem(changed, KEY.public_key) == (
        "The receipt's signature is not valid: the instance did not sign it, or it was "
        "changed after it was signed"
    )
    flipped = {**made, "receipt": {**made["receipt"], "signature": "00" * 64}}
    assert complaint_problem(flipped, KEY.public_key) == complaint_problem(changed, KEY.public_key)


def test_a_tampered_answer_signature_proves_nothing() -> None:
    made = complaint()
    statement = {**made["answer"]["statement"], "entry_count": 2}
    changed = {**made, "answer": {**made["answer"], "statement": statement}}
    message = "The server's entry proof is not signed by the key that signed the receipt"
    assert complaint_problem(changed, KEY.public_key) == message
    # An answer signed by another key, naming the instance's key id, fails the same way.
    forger = SigningKey.generate()
    forged = answer(forger, 1, ref_of("gh:666"))
    forged["statement"]["key_id"] = KEY.key_id
    assert complaint_problem({**made, "answer": forged}, KEY.public_key) == message


def test_a_pinned_key_that_did_not_sign_is_named() -> None:
    made = complaint()
    other = SigningKey.generate().public_key
    assert complaint_problem(made, other) == (
        f"The receipt was signed by key {KEY.key_id}, not by the instance's key {key_id(other)}"
    )


def test_a_complaint_signed_by_one_key_naming_another_proves_nothing() -> None:
    other = SigningKey.generate().public_key
    made = {**complaint(), "public_key": other.hex()}
    assert complaint_problem(made, KEY.public_key) == (
        f"The complaint names the public key {other.hex()}, but its statements are signed "
        f"by {KEY.public_key.hex()}"
    )


def test_an_agreeing_answer_or_another_entry_is_no_complaint() -> None:
    signed = receipt()
    agreeing = {**complaint(), "answer": answer(KEY, 1, signed["statement"]["ref"])}
    agreeing["receipt"] = signed
    assert complaint_problem(agreeing, KEY.public_key) == (
        "The entry proof names the receipt's reference: nothing was dropped"
    )
    elsewhere = {**complaint(), "answer": answer(KEY, 2, ref_of("gh:666"))}
    assert complaint_problem(elsewhere, KEY.public_key) == (
        "The server's entry proof is about another entry than the receipt"
    )


def test_a_complaint_without_a_key_is_checked_with_the_given_one() -> None:
    made = complaint()
    del made["public_key"]
    assert complaint_key(made) is None
    assert complaint_problem(made, KEY.public_key) is None


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ({"type": "receipt"}, "This is not a complaint"),
        ({"extra": 1}, "This is not a complaint"),
        ({"public_key": "abc"}, "The complaint's public_key is not an Ed25519 key"),
        ({"public_key": 7}, "The complaint's public_key is not an Ed25519 key"),
        ({"receipt": []}, "This is not a fairdraw/2 receipt: it is not a JSON object"),
        ({"answer": {"statement": {}}}, "The server's answer is not an entry proof"),
    ],
)
def test_malformed_complaints_are_named(shape: dict[str, Any], message: str) -> None:
    problem = complaint_problem({**complaint(), **shape}, KEY.public_key)
    assert problem is not None
    assert problem.startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "The complaint is not JSON"),
        ("[1, 2]", "The complaint is not a JSON object"),
        ('{"type": 1, "type": 2}', "The complaint has the key 'type' twice in one object"),
        ("x" * 40_001, "A complaint is at most 40,000 characters"),
    ],
)
def test_unreadable_complaints_are_refused(text: str, message: str) -> None:
    with pytest.raises(ReceiptError) as caught:
        parse_complaint_text(text)
    assert str(caught.value).startswith(message)
