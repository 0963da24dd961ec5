"""The instance's Ed25519 key and fairdraw/2 signed statements."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from fairdraw.domain.signing import (
    SigningKey,
    SigningKeyError,
    key_id,
    signed_message,
    verify_statement,
)
from fairdraw.keyfiles import load_or_create_signing_key

# RFC 8032 section 7.1, TEST 1.
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_KEY_ID = "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"


def pem_of(private: Any) -> bytes:
    return bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture
def rfc_key() -> SigningKey:
    return SigningKey.from_pem(pem_of(Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)))


def tree_head(**changes: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "type": "tree-head",
        "tree_size": 3,
        "root_hash": "ab" * 32,
        "timestamp": 1796594400000,
        "key_id": RFC8032_KEY_ID,
    }
    statement.update(changes)
    return statement


def test_the_rfc8032_key_and_its_id(rfc_key: SigningKey) -> None:
    assert rfc_key.public_key == RFC8032_PUBLIC
    assert rfc_key.key_id == RFC8032_KEY_ID == hashlib.sha256(RFC8032_PUBLIC).hexdigest()
    assert key_id(RFC8032_PUBLIC) == RFC8032_KEY_ID
    assert rfc_key.signer() == {
        "algorithm": "ed25519",
        "public_key": RFC8032_PUBLIC.hex(),
        "key_id": RFC8032_KEY_ID,
    }
    assert repr(rfc_key) == f"SigningKey(key_id={RFC8032_KEY_ID!r})"
    with pytest.raises(ValueError, match="32 bytes"):
        key_id(RFC8032_PUBLIC[:31])


def test_a_statement_is_signed_over_its_label_and_canonical_json(rfc_key: SigningKey) -> None:
    message = (
        b"fairdraw/2 tree-head\x00"
        b'{"key_id":"' + RFC8032_KEY_ID.encode() + b'","root_hash":"' + b"ab" * 32 + b'",'
        b'"timestamp":1796594400000,"tree_size":3,"type":"tree-head"}'
    )
    assert signed_message(tree_head()) == message
    signed = rfc_key.sign_statement(tree_head())
    assert signed == {
        "statement": tree_head(),
        "signature": "4588a4d0f23f98486230bff55b0f712cc289a1154a8c412ea49f26a69ffbac79"
        "faf40c6653d8df583616ecac53ae9c8bada7a19cf4b2578250c56dbb4540c90f",
    }
    # Plain Ed25519 over those bytes, as any verifier checks it.
    Ed25519PublicKey.from_public_bytes(RFC8032_PUBLIC).verify(
        bytes.fromhex(signed["signature"]), message
    )
    assert verify_statement(signed, RFC8032_PUBLIC)


def test_non_ascii_text_is_signed_as_utf8(rfc_key: SigningKey) -> None:
    statement = {"type": "receipt", "ref": "Zoë ✓"}
    assert signed_message(statement) == (
        b'fairdraw/2 receipt\x00{"ref":"Zo\xc3\xab \xe2\x9c\x93","type":"receipt"}'
    )
    assert verify_statement(rfc_key.sign_statement(statement), RFC8032_PUBLIC)


def test_any_change_breaks_the_signature(rfc_key: SigningKey) -> None:
    signed = rfc_key.sign_statement(tree_head())
    other = SigningKey.generate()
    assert not verify_statement(signed, other.public_key)
    for change in [
        {"tree_size": 4},
        {"root_hash": "ac" * 32},
        {"timestamp": 1796594400001},
        {"extra": None},
    ]:
        assert not verify_statement({**signed, "statement": tree_head(**change)}, RFC8032_PUBLIC)
    flipped = f"{int(signed['signature'][0], 16) ^ 1:x}" + signed["signature"][1:]
    assert not verify_statement({**signed, "signature": flipped}, RFC8032_PUBLIC)


def test_the_type_is_part_of_the_signed_message(rfc_key: SigningKey) -> None:
    """A signature over one type of statement is not one over another with the same
    fields: the label differs, not only the JSON."""
    receipt = {"type": "receipt", "index": 1}
    signed = rfc_key.sign_statement(receipt)
    relabelled = {**signed, "statement": {"type": "entry-proof", "index": 1}}
    assert not verify_statement(relabelled, RFC8032_PUBLIC)


def test_unsigned_fields_beside_the_statement_are_ignored(rfc_key: SigningKey) -> None:
    signed = rfc_key.sign_statement({"type": "receipt", "index": 0})
    with_opening = {**signed, "opening": {"identity": "gh:1", "nonce": "00" * 16}}
    assert verify_statement(with_opening, RFC8032_PUBLIC)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: {"statement": s["statement"]},
        lambda s: {"signature": s["signature"]},
        lambda s: {**s, "signature": s["signature"].upper()},
        lambda s: {**s, "signature": s["signature"][:-2]},
        lambda s: {**s, "signature": s["signature"] + "00"},
        lambda s: {**s, "signature": "zz" * 64},
        lambda s: {**s, "signature": bytes.fromhex(s["signature"])},
        lambda s: {**s, "signature": None},
        lambda s: {**s, "statement": [s["statement"]]},
        lambda s: {**s, "statement": "{}"},
        lambda s: {**s, "statement": {**s["statement"], "type": 7}},
        lambda s: {**s, "statement": {**s["statement"], "type": ""}},
        lambda s: {**s, "statement": {**s["statement"], "type": "tree\x00head"}},
        lambda s: {**s, "statement": {k: v for k, v in s["statement"].items() if k != "type"}},
        lambda s: {**s, "statement": {**s["statement"], "bad": {1, 2}}},
        lambda s: {**s, "statement": {**s["statement"], "bad": "\ud800"}},
        lambda s: None,
        lambda s: [s],
        lambda s: "statement",
    ],
)
def test_malformed_input_is_false_never_an_exception(rfc_key: SigningKey, mangle: Any) -> None:
    assert not verify_statement(mangle(rfc_key.sign_statement(tree_head())), RFC8032_PUBLIC)


def test_a_malformed_public_key_is_false(rfc_key: SigningKey) -> None:
    signed = rfc_key.sign_statement(tree_head())
    for public_key in [b"", RFC8032_PUBLIC[:31], RFC8032_PUBLIC + b"\x00"]:
        assert not verify_statement(signed, public_key)


def test_signing_needs_a_type_and_no_floats(rfc_key: SigningKey) -> None:
    for statement in [{}, {"type": 1}, {"type": ""}, {"type": "é"}, {"type": "a b"}]:
        with pytest.raises(ValueError, match="'type'"):
            rfc_key.sign_statement(statement)
    for value in [1.0, [1, 2.5], {"x": 1e3}]:
        with pytest.raises(ValueError, match="no floats"):
            rfc_key.sign_statement({"type": "receipt", "value": value})


def test_pem_round_trip() -> None:
    key = SigningKey.generate()
    pem = key.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    again = SigningKey.from_pem(pem)
    assert again.public_key == key.public_key
    assert again.key_id == key.key_id
    assert SigningKey.generate().key_id != key.key_id


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        (b"", "not an unencrypted PEM private key"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not an unencrypted"),
        (pem_of(ec.generate_private_key(ec.SECP256R1())), "holds a .*, not an Ed25519 private key"),
        (
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"passphrase"),
            ),
            "not an unencrypted",
        ),
        (
            Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "not an unencrypted",
        ),
    ],
)
def test_anything_but_an_ed25519_private_key_is_refused(pem: bytes, message: str) -> None:
    with pytest.raises(SigningKeyError, match=message):
        SigningKey.from_pem(pem)


def test_load_or_create_makes_a_private_file_once(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "signing_key"
    created = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert SigningKey.from_pem(path.read_bytes()).key_id == created.key_id
    assert load_or_create_signing_key(str(path)).key_id == created.key_id
    assert os.listdir(path.parent) == ["signing_key"]  # no temporary file left


def test_an_existing_key_file_is_used_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "signing_key"
    pem = pem_of(Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET))
    path.write_bytes(pem)
    assert load_or_create_signing_key(path).key_id == RFC8032_KEY_ID
    assert path.read_bytes() == pem


def test_a_file_that_is_not_a_key_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "signing_key"
    path.write_text("not a key\n")
    with pytest.raises(SigningKeyError, match=f"{path}: not an unencrypted PEM private key"):
        load_or_create_signing_key(path)
    assert path.read_text() == "not a key\n"


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "signing_key"
    found: list[str] = []
    start = threading.Barrier(8)

    def load() -> None:
        start.wait()
        found.append(load_or_create_signing_key(path).key_id)

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [SigningKey.from_pem(path.read_bytes()).key_id] * 8
    assert os.listdir(tmp_path) == ["signing_key"]
