"""``fairdraw verify-complaint``: a third party checks a complaint that ``fairdraw
verify-receipt`` wrote against a real server, with the key it carries, a pinned key or
the key the instance publishes; tampered, misdirected and unreadable complaints are
refused with a sentence and an exit code, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis as SyncRedis
from typer.testing import CliRunner

from fairdraw.cli import app as cli
from fairdraw.domain import fairness
from fairdraw.domain.receipts import complaint_file
from fairdraw.domain.signing import SigningKey, key_id
from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, LiveServer
from tests.support.ledgers import stored_entry_sync

KEYS = Keys()
runner = CliRunner()


def verify(*args: str) -> Any:
    return runner.invoke(cli, ["verify-complaint", *args])


def written(tmp_path: Path, name: str, complaint: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_bytes(complaint_file(complaint))
    return str(path)


def dropped_entry_complaint(server: LiveServer, redis_sync: SyncRedis, tmp_path: Path) -> Path:
    """A giveaway of three whose second entry the operator replaced before the seal; the
    complaint ``fairdraw verify-receipt`` writes for it."""
    with httpx.Client(base_url=server.url) as client:
        session = client.post("/api/v1/session", json={"username": ADMIN[0], "password": ADMIN[1]})
        headers = {"X-CSRF-Token": session.json()["csrf_token"]}
        body = {"title": "Complaints", "prizes": [{"name": "Mug", "quantity": 1}], "open": True}
        draw_id = client.post("/api/v1/draws", json=body, headers=headers).json()["id"]
        receipts = []
        with httpx.Client(base_url=server.url) as entrant:
            for handle, user_id in [("alice", 101), ("bob", 102), ("carol", 103)]:
                server.github.add_user(handle, user_id)
                path = f"/api/v1/draws/{draw_id}/entries"
                entered = entrant.post(path, json={"github": handle})
                assert entered.status_code == 201, entered.text
                receipts.append(entered.json())
        entered_ms = stored_entry_sync(redis_sync, draw_id, 1).entered_ms
        ref = fairness.entry_ref_v2("gh:666", fairness.new_nonce())
        redis_sync.lset(KEYS.ledger(draw_id), 1, f"{ref}\t{entered_ms}\tgh:666\tmallory")
        assert client.post(f"/api/v1/draws/{draw_id}/close", headers=headers).status_code == 200
    receipt = tmp_path / "bob.json"
    receipt.write_text(json.dumps(receipts[1]))
    complaint = tmp_path / "complaint.json"
    checked = runner.invoke(
        cli,
        ["verify-receipt", str(receipt), "--server", server.url, "--complaint", str(complaint)],
    )
    assert checked.exit_code == 1, checked.output
    return complaint


def test_a_complaint_is_checked_with_its_own_a_pinned_or_the_published_key(
    live_server: LiveServer, redis_sync: SyncRedis, tmp_path: Path
) -> None:
    path = dropped_entry_complaint(live_server, redis_sync, tmp_path)
    complaint = json.loads(path.read_bytes())
    key = complaint["public_key"]
    served = httpx.get(live_server.url + "/.well-known/fairdraw-signing-key").json()
    assert key == served["public_key"]
    receipt, answer = complaint["receipt"]["statement"], complaint["answer"]["statement"]
    proves = (
        f"VALID: The holder of key {key_id(bytes.fromhex(key))} signed a receipt for entry 1 "
        f"of draw {receipt['draw_id']} (reference {receipt['ref']}, entered at "
        f"{receipt['entered_at']}), and later signed that the ledger of that draw sealed at "
        f"{answer['sealed_at']} (root {answer['root']}) holds another reference there, "
        f"{answer['ref']}: the receipted entry was dropped."
    )

    carried = verify(str(path))
    assert carried.exit_code == 0, carried.output
    assert carried.output.splitlines() == [
        proves,
        f"Checked with the key the complaint carries, {key}: it proves something about an "
        "instance only if that is the instance's key (see its "
        "/.well-known/fairdraw-signing-key, or check with --server or --public-key).",
    ]
    pinned = verify(str(path), "--public-key", key.upper())
    assert pinned.exit_code == 0, pinned.output
    assert pinned.output.splitlines() == [proves, f"Checked with the key {key}."]
    published = verify(str(path), "--server", live_server.url + "/")
    assert published.exit_code == 0, published.output
    assert published.output.splitlines() == [proves, f"Checked with the key {key}."]

    unreachable = verify(str(path), "--server", "http://127.0.0.1:9")
    assert unreachable.exit_code == 2
    assert "could not reach http://127.0.0.1:9/.well-known/fairdraw-signing-key" in (
        unreachable.output
    )


# -- complaints made here, signed with a key of the test's own -------------------------------

KEY = SigningKey.generate()
DRAW = "abcdefghijkl"


def made_complaint(key: SigningKey = KEY) -> dict[str, Any]:
    receipt = {
        "type": "receipt",
        "algorithm": "fairdraw/2",
        "draw_id": DRAW,
        "index": 2,
        "ref": "cd" * 32,
        "entered_at": "2026-05-01T10:00:00.000Z",
        "key_id": key.key_id,
    }
    answer = {
        "type": "entry-proof",
        "draw_id": DRAW,
        "index": 2,
        "ref": None,
        "root": "ab" * 32,
        "entry_count": 2,
        "sealed_at": "2026-05-02T10:00:00.000Z",
        "path": [],
        "key_id": key.key_id,
    }
    return {
        "type": "complaint",
        "public_key": key.public_key.hex(),
        "receipt": key.sign_statement(receipt),
        "answer": key.sign_statement(answer),
    }


def test_a_left_out_entry_is_said_so(tmp_path: Path) -> None:
    result = verify(written(tmp_path, "c.json", made_complaint()))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].endswith(
        f"(root {'ab' * 32}) has only 2 entries, so no entry 2: the receipted entry was dropped."
    )


def test_tampered_complaints_are_not_valid(tmp_path: Path) -> None:
    good = made_complaint()
    receipt, answer = good["receipt"], good["answer"]
    later = {**receipt["statement"], "entered_at": "2026-05-01T11:00:00.000Z"}
    larger = {**answer["statement"], "entry_count": 3}
    forger = SigningKey.generate()
    tampered = {
        "receipt statement": (
            {**good, "receipt": {**receipt, "statement": later}},
            "The receipt's signature is not valid: the instance did not sign it, or it was "
            "changed after it was signed",
        ),
        "receipt signature": (
            {**good, "receipt": {**receipt, "signature": "00" * 64}},
            "The receipt's signature is not valid: the instance did not sign it, or it was "
            "changed after it was signed",
        ),
        "answer statement": (
            {**good, "answer": {**answer, "statement": larger}},
            "The server's entry proof is not signed by the key that signed the receipt",
        ),
        "answer signature": (
            {**good, "answer": {**answer, "signature": "00" * 64}},
            "The server's entry proof is not signed by the key that signed the receipt",
        ),
        "carried key": (
            {**good, "public_key": forger.public_key.hex()},
            f"The receipt was signed by key {KEY.key_id}, not by the instance's key "
            f"{forger.key_id}",
        ),
    }
    for what, (complaint, message) in tampered.items():
        result = verify(written(tmp_path, "t.json", complaint))
        assert result.exit_code == 1, what
        assert result.output == f"NOT VALID: {message}\n", what
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        )


def test_a_wrong_pinned_key_is_named(tmp_path: Path) -> None:
    other = SigningKey.generate()
    path = written(tmp_path, "c.json", made_complaint())
    result = verify(path, "--public-key", other.public_key.hex())
    assert result.exit_code == 1
    assert result.output == (
        f"NOT VALID: The receipt was signed by key {KEY.key_id}, not by the instance's key "
        f"{other.key_id}\n"
    )
    # A complaint re-signed by a forger under the forger's key is valid only for the
    # forger's key: pinned to the instance's, it is refused.
    forged = written(tmp_path, "f.json", made_complaint(other))
    assert verify(forged).exit_code == 0
    assert verify(forged, "--key", KEY.public_key.hex()).exit_code == 1


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"{not json", (), "The complaint is not JSON"),
        (b"\xff\xfe", (), "c.json: 'utf-8' codec can't decode"),
        (b"[]", (), "The complaint is not a JSON object"),
        (b'{"public_key": "xyz"}', (), "The complaint's public_key is not an Ed25519 key"),
        (b'{"type": "complaint"}', (), "c.json carries no public key: give the instance's"),
        (b"{}", ("--public-key", "abc"), "--public-key: an Ed25519 public key is 64 hex"),
        (b"{}", ("--public-key", "ab" * 32, "--server", "http://x"), "not both"),
    ],
)
def test_unreadable_complaints_are_refused_cleanly(
    tmp_path: Path, content: bytes, args: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(content)
    result = verify(str(path), *args)
    assert result.exit_code == 2
    assert message in result.output
    assert result.output.startswith("fairdraw: ")
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_complaint_that_is_no_complaint_is_not_valid(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"type": "receipt", "public_key": KEY.public_key.hex()}))
    result = verify(str(path))
    assert result.exit_code == 1
    assert result.output.startswith("NOT VALID: This is not a complaint")


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    result = verify(str(tmp_path / "absent.json"))
    assert result.exit_code == 2
    assert "cannot read the complaint" in result.output
