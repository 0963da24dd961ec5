"""Signed receipts checked against signed entry proofs: the API, the service, and
``fairdraw verify-receipt`` talking to a real server. A censoring operator is played by
changing the stored ledger directly, before the seal."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from typer.testing import CliRunner

from fairdraw.cli import app as cli
from fairdraw.domain import fairness, tickets
from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.receipts import (
    CheckResult,
    Verdict,
    audit_path,
    check_receipt,
    complaint_problem,
    signed_receipt,
)
from fairdraw.domain.signing import SigningKey, key_id, verify_statement
from fairdraw.services.receipts import ReceiptService
from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, LiveServer, login
from tests.support.forms import FormBrowser, field_error, text_of
from tests.support.github_server import GitHubStandIn
from tests.support.ledgers import stored_entries, stored_entry_sync

KEYS = Keys()
PRIZES = [{"name": "Mug", "quantity": 1}]
ENTRANTS = [("alice", 101), ("bob", 102), ("carol", 103)]
runner = CliRunner()


# -- helpers ------------------------------------------------------------------------------


async def open_giveaway(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """A new open fairdraw/2 giveaway; its id and the admin's CSRF header."""
    headers = {"X-CSRF-Token": await login(client, ADMIN)}
    body = {"title": "Receipts", "prizes": PRIZES, "open": True}
    created = await client.post("/api/v1/draws", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()["id"], headers


async def enter_all(
    client: httpx.AsyncClient, github: GitHubStandIn, draw_id: str, people: list[tuple[str, int]]
) -> list[dict[str, Any]]:
    receipts = []
    for handle, user_id in people:
        github.add_user(handle, user_id)
        response = await client.post(f"/api/v1/draws/{draw_id}/entries", json={"github": handle})
        assert response.status_code == 201, response.text
        receipts.append(response.json())
    return receipts


async def close(client: httpx.AsyncClient, draw_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post(f"/api/v1/draws/{draw_id}/close", headers=headers)
    assert response.status_code == 200, response.text
    closed: dict[str, Any] = response.json()
    return closed


async def proof_of(client: httpx.AsyncClient, draw_id: str, index: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/draws/{draw_id}/entries/{index}/proof")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def service(application: FastAPI) -> ReceiptService:
    receipts: ReceiptService = application.state.services.receipts
    return receipts


def public_key(application: FastAPI) -> bytes:
    signing: SigningKey = application.state.services.signing
    return signing.public_key


def stolen_entry(identity: str, entered_ms: str, label: str) -> str:
    """A ledger element for ``identity`` in the full layout (a ref of the operator's
    choosing, which the compact layout cannot hold)."""
    ref = fairness.entry_ref_v2(identity, fairness.new_nonce())
    return f"{ref}\t{entered_ms}\t{identity}\t{label}"


def outcome_of(page: httpx.Response) -> str:
    """The text of the check page's outcome (empty when it shows none): what comes
    between its opening tag and the form's error summary or the form."""
    after = page.text.split('id="outcome"', 1)[1].split(">", 1)[1]
    return text_of(
        re.split(
            r'<div[^>]*id="error-summary"|<form method="post" action="/check-entry" class="box',
            after,
        )[0]
    )


def verifies(answer: dict[str, Any]) -> bool:
    stated = answer["statement"]
    path = [bytes.fromhex(h) for h in stated["path"]]
    root = bytes.fromhex(stated["root"])
    return fairness.verify_inclusion(
        stated["index"], stated["ref"], stated["entry_count"], path, root
    )


# -- the entry proof API ----------------------------------------------------------------------


async def test_receipts_are_included_once_the_draw_is_sealed(
    app: FastAPI, app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: Any
) -> None:
    draw_id, headers = await open_giveaway(app_client)
    receipts = await enter_all(anon_client, github, draw_id, ENTRANTS)
    early = await app_client.get(f"/api/v1/draws/{draw_id}/entries/0/proof")
    assert early.status_code == 404
    assert early.headers["content-type"] == "application/problem+json"
    assert early.json()["code"] == "not_sealed"
    before = await service(app).check(receipts[0])
    assert before.verdict is Verdict.not_sealed

    sealed = (await close(app_client, draw_id, headers))["seal"]
    key = public_key(app)
    entries = (await app_client.get(f"/api/v1/draws/{draw_id}/entries.txt")).text
    refs = [line.split("\t")[1] for line in entries.splitlines()]
    for receipt in receipts:
        answer = await proof_of(app_client, draw_id, receipt["index"])
        assert set(answer) == {"statement", "signature"}
        assert answer["statement"] == {
            "type": "entry-proof",
            "draw_id": draw_id,
            "index": receipt["index"],
            "ref": receipt["ref"],
            "root": sealed["root"],
            "entry_count": 3,
            "sealed_at": sealed["sealed_at"],
            "path": [h.hex() for h in fairness.inclusion_proof(refs, receipt["index"])],
            "key_id": key_id(key),
        }
        assert verify_statement(answer, key)
        result = check_receipt(receipt, answer, key)
        assert result == CheckResult(
            Verdict.included,
            f"Entry {receipt['index']} is in the ledger of 3 entries sealed at "
            f"{sealed['sealed_at']} with root {sealed['root']}",
            answer,
        )
        assert await service(app).check(receipt) == result


async def test_an_index_past_the_ledger_has_no_ref_and_bad_indexes_are_refused(
    app: FastAPI, app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: Any
) -> None:
    draw_id, headers = await open_giveaway(app_client)
    await enter_all(anon_client, github, draw_id, ENTRANTS[:2])
    sealed = (await close(app_client, draw_id, headers))["seal"]
    for index in (2, 10**12):
        answer = await proof_of(app_client, draw_id, index)
        assert answer["statement"]["index"] == index
        assert answer["statement"]["ref"] is None
        assert answer["statement"]["path"] == []
        assert answer["statement"]["root"] == sealed["root"]
        assert answer["statement"]["entry_count"] == 2
        assert verify_statement(answer, public_key(app))
    for path, status, code in [
        (f"/api/v1/draws/{draw_id}/entries/-1/proof", 422, "invalid_input"),
        (f"/api/v1/draws/{draw_id}/entries/one/proof", 422, "invalid_input"),
        ("/api/v1/draws/nosuchdraw/entries/0/proof", 404, "draw_not_found"),
    ]:
        refused = await app_client.get(path)
        assert refused.status_code == status, path
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == code
    assert (await app_client.get(f"/api/v1/draws/{draw_id}/entries/-1/proof")).json()["errors"] == {
        "index": "Input should be greater than or equal to 0"
    }
    with pytest.raises(InvalidInput, match="An entry index is 0 or more"):
        await service(app).entry_proof(draw_id, -1)


async def test_fairdraw1_draws_have_no_entry_proofs(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: Any, redis: Redis
) -> None:
    draw_id, headers = await open_giveaway(app_client)
    # A draw made before fairdraw/2 has no algorithm field.
    await redis.hdel(KEYS.draw_meta(draw_id), "algorithm")
    await close(app_client, draw_id, headers)
    refused = await app_client.get(f"/api/v1/draws/{draw_id}/entries/0/proof")
    assert refused.status_code == 409
    assert refused.json()["code"] == "no_entry_proofs"
    assert refused.json()["detail"] == (
        "This is a fairdraw/1 draw: check your entry against its published entries file"
    )


# -- a censoring operator ---------------------------------------------------------------------


async def test_an_entry_replaced_before_the_seal_yields_a_complaint(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: Any,
    redis: Redis,
) -> None:
    draw_id, headers = await open_giveaway(app_client)
    alice, bob, carol = await enter_all(anon_client, github, draw_id, ENTRANTS)
    # The operator swaps bob's entry for an identity of its own: every index stays put.
    entered_ms = str((await stored_entries(redis, draw_id))[1].entered_ms)
    await redis.lset(KEYS.ledger(draw_id), 1, stolen_entry("gh:666", entered_ms, "mallory"))
    await close(app_client, draw_id, headers)
    key = public_key(app)

    result = await service(app).check(bob)
    assert result.verdict is Verdict.not_included
    assert result.detail == (
        "The sealed ledger holds another reference at index 1: your receipted entry was replaced"
    )
    complaint = result.complaint
    assert complaint is not None
    assert set(complaint) == {"type", "public_key", "receipt", "answer"}
    assert complaint["type"] == "complaint"
    assert complaint["public_key"] == key.hex()
    assert complaint["receipt"] == bob["signed"]  # the opening stays with bob
    assert complaint["answer"] == await proof_of(app_client, draw_id, 1)
    assert verify_statement(complaint["receipt"], key)
    assert verify_statement(complaint["answer"], key)
    assert complaint["answer"]["statement"]["ref"] != bob["ref"]
    assert verifies(complaint["answer"])  # the server proves what it sealed instead
    assert complaint_problem(complaint, key) is None
    # A complaint needs both signatures and the disagreement.
    other = SigningKey.generate().public_key
    assert complaint_problem(complaint, other) == (
        f"The receipt was signed by key {key_id(key)}, not by the instance's key {key_id(other)}"
    )
    agreeing = {**complaint, "answer": await proof_of(app_client, draw_id, 0)}
    assert complaint_problem(agreeing, key) == (
        "The server's entry proof is about another entry than the receipt"
    )
    for receipt in (alice, carol):
        assert (await service(app).check(receipt)).verdict is Verdict.included


async def test_an_entry_cut_off_the_end_yields_a_complaint(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: Any,
    redis: Redis,
) -> None:
    draw_id, headers = await open_giveaway(app_client)
    receipts = await enter_all(anon_client, github, draw_id, ENTRANTS)
    await redis.rpop(KEYS.ledger(draw_id))  # carol's, the last entry
    await close(app_client, draw_id, headers)

    result = await service(app).check(receipts[2])
    assert result.verdict is Verdict.not_included
    assert result.detail == (
        "The ledger was sealed with 2 entries, so it has no entry 2: your receipted entry "
        "was left out"
    )
    assert result.complaint is not None
    assert result.complaint["answer"]["statement"]["ref"] is None
    assert complaint_problem(result.complaint, public_key(app)) is None


async def test_forged_and_foreign_receipts_are_invalid(
    app: FastAPI, app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: Any
) -> None:
    draw_id, headers = await open_giveaway(app_client)
    (receipt,) = await enter_all(anon_client, github, draw_id, ENTRANTS[:1])
    await close(app_client, draw_id, headers)
    key = public_key(app)
    answer = await proof_of(app_client, draw_id, 0)
    signed = receipt["signed"]

    forged = {**signed, "statement": {**signed["statement"], "ref": "0" * 64}}
    impostor = SigningKey.generate()
    foreign = impostor.sign_statement({**signed["statement"], "key_id": impostor.key_id})
    tampered_answer = {**answer, "statement": {**answer["statement"], "ref": "0" * 64}}
    cases: list[tuple[dict[str, Any], dict[str, Any], str]] = [
        (
            forged,
            answer,
            "The receipt's signature is not valid: the instance did not sign it, or it was "
            "changed after it was signed",
        ),
        (
            foreign,
            answer,
            f"The receipt was signed by key {impostor.key_id}, not by the instance's key "
            f"{key_id(key)}",
        ),
        (
            {**receipt, "signed": None},
            answer,
            "This receipt carries no signature: its draw is not a fairdraw/2 draw, or its "
            "server had no signing key",
        ),
        (
            {"statement": {**signed["statement"], "index": -1}, "signature": "00"},
            answer,
            "This is not a fairdraw/2 receipt: the receipt's statement has an invalid index",
        ),
        (
            signed,
            tampered_answer,
            "The server's entry proof is not signed by the key that signed the receipt",
        ),
        (
            signed,
            {"statement": {"type": "entry-proof"}, "signature": ""},
            "The server's answer is not an entry proof: the answer's statement has no "
            "'draw_id', no 'entry_count', no 'index', no 'key_id', no 'path', no 'ref', no "
            "'root', no 'sealed_at'",
        ),
    ]
    for given, served, reason in cases:
        assert check_receipt(given, served, key) == CheckResult.invalid(reason)
    assert await service(app).check(forged) == CheckResult.invalid(cases[0][2])
    # The receipt's specification form (statement and signature beside the opening) and
    # the API's form are the same receipt.
    spec_form = {**signed, "opening": receipt["opening"]}
    assert signed_receipt(spec_form) == signed_receipt(receipt) == signed


# -- raffles and large ledgers ------------------------------------------------------------------


async def test_raffle_claims_are_proved_with_their_code_commitments(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fairness, "CHUNK_LEAVES", 4)
    headers = {"X-CSRF-Token": await login(app_client, ADMIN)}
    body = {
        "title": "Raffle",
        "prizes": PRIZES,
        "ticket_count": 20,
        "per_claimant": 20,
        "early_close": True,
        "open": True,
    }
    created = await app_client.post("/api/v1/raffles", json=body, headers=headers)
    draw_id = created.json()["id"]
    held = []
    for _ in range(10):
        ticket = (await anon_client.post(f"/api/v1/draws/{draw_id}/tickets")).json()
        commitment = fairness.code_commitment(tickets.parse_code(ticket["code"]))
        held.append(fairness.raffle_ref_v2(ticket["number"], commitment))
    sealed = (await close(app_client, draw_id, headers))["seal"]
    proved = []
    for index in range(10):
        answer = await proof_of(app_client, draw_id, index)
        assert answer["statement"]["root"] == sealed["root"]
        assert verify_statement(answer, public_key(app))
        assert verifies(answer)
        proved.append(answer["statement"]["ref"])
    assert proved == held  # claim order: the ledger index is the claim index
    entries = (await app_client.get(f"/api/v1/draws/{draw_id}/entries.txt")).text
    assert [line.split("\t")[1] for line in entries.splitlines()] == held


@pytest.mark.parametrize("chunk_leaves", [1, 2, 4, 8])
def test_audit_paths_from_chunk_roots_are_the_ledger_audit_paths(
    chunk_leaves: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fairness, "CHUNK_LEAVES", chunk_leaves)
    for count in range(1, 41):
        refs = [f"{i:064x}" for i in range(count)]
        starts = fairness.chunk_starts(count)
        roots = {
            k: fairness.chunk_root(s, refs[s : s + chunk_leaves]) for k, s in enumerate(starts)
        }
        for index in range(count):
            chunk = index // chunk_leaves
            own = refs[chunk * chunk_leaves : (chunk + 1) * chunk_leaves]
            others = {k: root for k, root in roots.items() if k != chunk}
            assert audit_path(index, count, own, others) == fairness.inclusion_proof(refs, index)


async def test_proofs_read_the_kept_chunk_roots_and_keep_missing_ones(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: Any,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fairness, "CHUNK_LEAVES", 4)
    draw_id, headers = await open_giveaway(app_client)
    people = [(f"chunk{i}", 500 + i) for i in range(14)]
    await enter_all(anon_client, github, draw_id, people)
    for _ in range(200):  # complete chunks are hashed after the entries are answered
        if await redis.hlen(KEYS.chunk_roots(draw_id)) == 3:
            break
        await asyncio.sleep(0.05)
    await redis.hdel(KEYS.chunk_roots(draw_id), "1")  # as if its hashing had died
    await close(app_client, draw_id, headers)
    entries = (await app_client.get(f"/api/v1/draws/{draw_id}/entries.txt")).text
    refs = [line.split("\t")[1] for line in entries.splitlines()]
    for index in range(14):
        answer = await proof_of(app_client, draw_id, index)
        assert answer["statement"]["ref"] == refs[index]
        assert answer["statement"]["path"] == [
            h.hex() for h in fairness.inclusion_proof(refs, index)
        ]
    assert sorted(await redis.hkeys(KEYS.chunk_roots(draw_id))) == ["0", "1", "2"]
    assert await redis.hget(KEYS.chunk_roots(draw_id), "1") == (
        fairness.chunk_root(4, refs[4:8]).hex()
    )


async def test_a_ledger_changed_after_the_seal_gets_no_signed_proof(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: Any, redis: Redis
) -> None:
    draw_id, headers = await open_giveaway(app_client)
    await enter_all(anon_client, github, draw_id, ENTRANTS)
    await close(app_client, draw_id, headers)
    await redis.lset(KEYS.ledger(draw_id), 1, stolen_entry("gh:666", "0", "mallory"))
    refused = await app_client.get(f"/api/v1/draws/{draw_id}/entries/1/proof")
    assert refused.status_code == 500
    assert refused.json()["code"] == "ledger_mismatch"


# -- fairdraw verify-receipt against a real server -----------------------------------------


def sync_open_giveaway(client: httpx.Client) -> tuple[str, dict[str, str]]:
    session = client.post("/api/v1/session", json={"username": ADMIN[0], "password": ADMIN[1]})
    headers = {"X-CSRF-Token": session.json()["csrf_token"]}
    body = {"title": "CLI receipts", "prizes": PRIZES, "open": True}
    return client.post("/api/v1/draws", json=body, headers=headers).json()["id"], headers


def sync_enter(server: LiveServer, draw_id: str) -> list[dict[str, Any]]:
    """The entrants enter from a browser of their own; their receipts."""
    receipts = []
    with httpx.Client(base_url=server.url) as entrant:
        for handle, user_id in ENTRANTS:
            server.github.add_user(handle, user_id)
            entered = entrant.post(f"/api/v1/draws/{draw_id}/entries", json={"github": handle})
            assert entered.status_code == 201, entered.text
            receipts.append(entered.json())
    return receipts


def saved(tmp_path: Path, name: str, receipt: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(receipt, indent=2))
    return str(path)


def test_verify_receipt_says_included_or_not_and_writes_the_complaint(
    live_server: LiveServer, redis_sync: SyncRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with httpx.Client(base_url=live_server.url) as client:
        draw_id, headers = sync_open_giveaway(client)
        alice, bob, _ = sync_enter(live_server, draw_id)
        early = runner.invoke(
            cli, ["verify-receipt", saved(tmp_path, "a.json", alice), "--server", live_server.url]
        )
        assert early.exit_code == 2
        assert "The draw is not sealed yet" in early.output
        entered_ms = stored_entry_sync(redis_sync, draw_id, 1).entered_ms
        stolen = stolen_entry("gh:666", str(entered_ms), "mallory")
        redis_sync.lset(KEYS.ledger(draw_id), 1, stolen)
        assert client.post(f"/api/v1/draws/{draw_id}/close", headers=headers).status_code == 200
        served_key = client.get("/.well-known/fairdraw-signing-key").json()

    included = runner.invoke(
        cli, ["verify-receipt", saved(tmp_path, "a.json", alice), "--server", live_server.url]
    )
    assert included.exit_code == 0, included.output
    assert included.output.startswith("INCLUDED: Entry 0 is in the ledger of 3 entries sealed at")

    dropped = runner.invoke(
        cli, ["verify-receipt", saved(tmp_path, "b.json", bob), "--server", live_server.url + "/"]
    )
    assert dropped.exit_code == 1, dropped.output
    name = f"fairdraw-complaint-{draw_id}-1.json"
    assert dropped.output.splitlines() == [
        "NOT INCLUDED: The sealed ledger holds another reference at index 1: your receipted "
        "entry was replaced",
        f"Complaint written to {name}: your receipt and the server's signed answer, which "
        "contradict each other. Anyone can check it with the instance's public key.",
    ]
    written = (tmp_path / name).read_bytes()
    complaint = json.loads(written)
    assert written == json.dumps(complaint, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    assert complaint["receipt"] == bob["signed"]
    assert complaint_problem(complaint, bytes.fromhex(served_key["public_key"])) is None

    chosen = tmp_path / "mine.json"
    with_key = runner.invoke(
        cli,
        [
            "verify-receipt",
            saved(tmp_path, "b.json", bob),
            "--server",
            live_server.url,
            "--key",
            served_key["public_key"],
            "--complaint",
            str(chosen),
        ],
    )
    assert with_key.exit_code == 1
    assert json.loads(chosen.read_bytes()) == complaint


def test_verify_receipt_refuses_forged_receipts_and_unreachable_servers(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        draw_id, headers = sync_open_giveaway(client)
        alice = sync_enter(live_server, draw_id)[0]
        client.post(f"/api/v1/draws/{draw_id}/close", headers=headers)
    signed = alice["signed"]
    forged = {**alice, "signed": {**signed, "statement": {**signed["statement"], "index": 1}}}
    other = SigningKey.generate().public_key.hex()

    def run(*args: str) -> Any:
        return runner.invoke(cli, ["verify-receipt", *args])

    refusals = [
        (
            run(saved(tmp_path, "f.json", forged), "--server", live_server.url),
            "The receipt's signature is not valid",
        ),
        (
            run(saved(tmp_path, "a.json", alice), "--server", live_server.url, "--key", other),
            f"The receipt was signed by key {signed['statement']['key_id']}, not by the "
            f"instance's key {key_id(bytes.fromhex(other))}",
        ),
        (
            run(saved(tmp_path, "a.json", alice), "--server", "http://127.0.0.1:9"),
            "could not reach http://127.0.0.1:9/.well-known/fairdraw-signing-key",
        ),
        (
            run(saved(tmp_path, "a.json", alice), "--server", live_server.url + "/nothing"),
            "/nothing/.well-known/fairdraw-signing-key answered 404",
        ),
        (
            run(saved(tmp_path, "a.json", alice), "--server", live_server.url, "--key", "abc"),
            "--key: an Ed25519 public key is 64 hex characters",
        ),
    ]
    not_json = tmp_path / "not.json"
    not_json.write_text("receipt: yes")
    refusals.append((run(str(not_json), "--server", live_server.url), "The receipt is not JSON"))
    for result, message in refusals:
        assert result.exit_code == 2, result.output
        assert message in result.output
    assert not list(tmp_path.glob("fairdraw-complaint-*"))


# -- the "Check my entry" page without JavaScript --------------------------------------------


async def test_the_check_page_shows_each_outcome_and_serves_the_complaint(
    app: FastAPI,
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: Any,
    redis: Redis,
) -> None:
    draw_id, headers = await open_giveaway(app_client)
    alice, bob = await enter_all(anon_client, github, draw_id, ENTRANTS[:2])
    browser = FormBrowser(anon_client)
    token = await browser.csrf("/check-entry")

    async def check(receipt: str, path: str = "/check-entry") -> httpx.Response:
        return await browser.post(path, {"receipt": receipt}, csrf=token)

    waiting = await check(json.dumps(alice))
    assert waiting.status_code == 200
    assert outcome_of(waiting) == (
        "Not sealed yet The draw is not sealed yet: entries can be checked once it is closed. "
        "Draw: Receipts"
    )

    entered_ms = (await stored_entries(redis, draw_id))[1].entered_ms
    stolen = stolen_entry("gh:666", str(entered_ms), "mallory")
    await redis.lset(KEYS.ledger(draw_id), 1, stolen)
    sealed = (await close(app_client, draw_id, headers))["seal"]

    included = await check(json.dumps(alice))
    assert outcome_of(included) == (
        "Your entry is in the sealed ledger This server's signed proof leads from your entry "
        "to the root it sealed: your entry is in the list the winners are drawn from. "
        "Draw: Receipts What this server signed "
        "Index in the entries file (from 0) 0 Reference sealed there "
        f"{alice['ref']} Entries sealed 2 Merkle root {sealed['root']} Sealed at "
        f"{sealed['sealed_at']}"
    )

    dropped = await check(json.dumps(bob["signed"]))
    answer = await proof_of(app_client, draw_id, 1)
    assert outcome_of(dropped).startswith(
        "Your entry is not in the sealed ledger The sealed ledger holds another reference at "
        "index 1: your receipted entry was replaced. Draw: Receipts What this server signed "
        "Index in the entries file (from 0) 1 Reference sealed there "
        f"{answer['statement']['ref']} Entries sealed 2 "
        f"Merkle root {sealed['root']} Sealed at {sealed['sealed_at']} Your complaint Your "
        "receipt and this server's signed answer contradict each other."
    )
    download = await check(json.dumps(bob["signed"]), "/check-entry/complaint")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/json"
    assert download.headers["content-disposition"] == (
        f'attachment; filename="fairdraw-complaint-{draw_id}-1.json"'
    )
    complaint = json.loads(download.content)
    assert complaint_problem(complaint, public_key(app)) is None
    assert complaint == {
        "type": "complaint",
        "public_key": public_key(app).hex(),
        "receipt": bob["signed"],
        "answer": answer,
    }
    shown_complaint = json.dumps(complaint, sort_keys=True, separators=(",", ":"))
    assert shown_complaint in outcome_of(dropped)

    forged = {**bob["signed"], "signature": "0" * 128}
    assert outcome_of(await check(json.dumps(forged))) == (
        "This receipt cannot be checked The receipt's signature is not valid: the instance "
        "did not sign it, or it was changed after it was signed"
    )
    for typed, message in [
        ("", "Paste your receipt: the JSON you got when you entered"),
        (
            "{oops",
            "The receipt is not JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        ),
        ("[1]", "The receipt is not a JSON object"),
    ]:
        refused = await check(typed)
        assert refused.status_code == 422
        assert field_error(refused.text, "receipt") == message
    assert (await anon_client.post("/check-entry", data={"receipt": "{}"})).status_code == 403
