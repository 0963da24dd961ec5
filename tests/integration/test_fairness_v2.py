"""fairdraw/2 end to end, as a dishonest operator would try it: real app, real store, a
real loopback drand relay serving a test chain whose rounds it signs when they are due.

Each attack on fairdraw/1 that the audit carried out is tried again here and must now fail
or be detected: grinding with the stored seed and salt, predicting a raffle's winning
claims from creation data, relabelling the winner, forging a self-consistent bundle,
deleting a draw, cancelling and re-running one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.domain import fairness, proof, transparency
from fairdraw.domain.beacon import Chain
from fairdraw.domain.signing import verify_statement
from fairdraw.domain.verification import verify_bundle_bytes
from fairdraw.keyfiles import load_or_create_signing_key
from fairdraw.store.keys import Keys
from tests.integration.test_lottery_api import API as LOTTERIES
from tests.integration.test_lottery_api import past_rounds
from tests.support.app import ADMIN, MANAGER, login, make_settings
from tests.support.drand_relay import DrandRelays, chain_file_content
from tests.support.github_server import GitHubStandIn
from tests.support.ledgers import stored_entries

KEYS = Keys()
PRIZES = [{"name": "Keyboard", "quantity": 1}]


def beacon_settings(
    store_url: str, github: GitHubStandIn, drand: DrandRelays, tmp_path: Path, margin: int
) -> Settings:
    """The test chain through one healthy loopback relay; the bound round is the first
    one more than ``margin`` seconds after the seal."""
    chain_file = tmp_path / "chain.json"
    chain_file.write_text(chain_file_content(drand.test_chain.chain))
    return make_settings(
        store_url,
        github.url,
        beacon="quicknet",
        beacon_chain_file=chain_file,
        beacon_relays=[drand.add_relay("ok")],
        beacon_margin_seconds=margin,
        signing_key_file=tmp_path / "signing_key",
    )


@pytest.fixture
def app_settings(
    store_url: str, github: GitHubStandIn, drand: DrandRelays, tmp_path: Path
) -> Settings:
    """The app binds the test chain with no margin: the bound round is the next one,
    published within a second or two."""
    return beacon_settings(store_url, github, drand, tmp_path, margin=0)


def chain_of(drand: DrandRelays) -> Chain:
    return drand.test_chain.chain


async def create(client: httpx.AsyncClient, csrf: str, **body: Any) -> dict[str, Any]:
    payload = {"title": "Honest giveaway", "prizes": PRIZES, "open": True} | body
    response = await client.post("/api/v1/draws", json=payload, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def act(client: httpx.AsyncClient, csrf: str, draw_id: str, action: str) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/draws/{draw_id}/{action}", headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def enter_all(
    client: httpx.AsyncClient, github: GitHubStandIn, draw_id: str, ids: range
) -> list[dict[str, Any]]:
    receipts = []
    for user_id in ids:
        github.add_user(f"user{user_id}", user_id, f"User {user_id}")
        response = await client.post(
            f"/api/v1/draws/{draw_id}/entries", json={"github": f"user{user_id}"}
        )
        assert response.status_code == 201, response.text
        receipts.append(response.json())
    return receipts


async def published(client: httpx.AsyncClient, draw_id: str) -> tuple[bytes, bytes]:
    bundle = await client.get(f"/api/v1/draws/{draw_id}/proof")
    entries = await client.get(f"/api/v1/draws/{draw_id}/entries.txt")
    assert bundle.status_code == entries.status_code == 200
    return bundle.content, entries.content


async def test_a_draw_binds_a_round_published_after_its_seal_and_verifies(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    drand: DrandRelays,
) -> None:
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    assert draw["algorithm"] == "fairdraw/2"
    assert draw["trusts_operator"] is False
    receipts = await enter_all(anon_client, github, draw["id"], range(100, 105))
    closed = await act(app_client, csrf, draw["id"], "close")
    bound = closed["seal"]["beacon"]
    assert bound["chain_hash"] == chain_of(drand).chain_hash
    sealed_s = fairness_time(closed["seal"]["sealed_at"])
    # The bound round is the first one after the seal: nobody had it when the seal was made.
    assert chain_of(drand).round_time(bound["round"]) > sealed_s
    assert chain_of(drand).round_time(bound["round"] - 1) <= sealed_s
    drawn = await act(app_client, csrf, draw["id"], "draw")
    assert drawn["status"] == "drawn"
    bundle_bytes, entries = await published(app_client, draw["id"])
    bundle = json.loads(bundle_bytes)
    assert bundle["beacon"]["round"] == bound["round"]
    report = verify_bundle_bytes(bundle_bytes, entries, chains=(chain_of(drand),))
    assert report.ok, report.first_failure
    # The winner's opening names the entrant whose receipt holds the same ref and nonce.
    winner = bundle["winners"][0]
    receipt = receipts[winner["index"]]
    assert receipt["ref"] == winner["ref"]
    assert receipt["opening"] == winner["opening"]
    assert winner["opening"]["identity"] == f"gh:{100 + winner['index']}"


def fairness_time(iso_text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp()


async def grind(redis: Redis, draw_id: str, count: int, start_id: int) -> int:
    """The audit's attack: read the seed and salt, then find the GitHub id whose entry,
    added last, wins under everything the store holds. Returns that id."""
    meta = await redis.hgetall(KEYS.draw_meta(draw_id))
    seed, salt = bytes.fromhex(meta["seed"]), bytes.fromhex(meta["salt"])
    refs = [entry.ref for entry in await stored_entries(redis, draw_id)]
    assert len(refs) == count
    for candidate in range(start_id, start_id + 10_000):
        identity = f"gh:{candidate}"
        mine = fairness.entry_ref_v2(identity, fairness.entry_nonce(salt, identity))
        ledger = [*refs, mine]
        root = fairness.merkle_root(ledger)
        # All the operator can know before the seal: everything but the beacon round.
        key = fairness.stream_key_v2(root, len(ledger), seed, None)
        outcome = fairness.select_winners(root, seed, len(ledger), [("Keyboard", 1)], 0, key=key)
        if outcome.winners[0].index == count:
            return candidate
    raise AssertionError("no winning entry found")


async def test_grinding_with_the_stored_seed_and_salt_no_longer_picks_the_winner(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    drand: DrandRelays,
    redis: Redis,
) -> None:
    csrf = await login(app_client, ADMIN)
    ground_wins = 0
    for attempt in range(4):
        draw = await create(app_client, csrf, title=f"Ground {attempt}")
        await enter_all(anon_client, github, draw["id"], range(200, 230))
        chosen = await grind(redis, draw["id"], 30, 5000 + 1000 * attempt)
        await enter_all(anon_client, github, draw["id"], range(chosen, chosen + 1))
        await act(app_client, csrf, draw["id"], "close")
        drawn = await act(app_client, csrf, draw["id"], "draw")
        bundle_bytes, entries = await published(app_client, draw["id"])
        assert verify_bundle_bytes(bundle_bytes, entries, chains=(chain_of(drand),)).ok
        ground_wins += drawn["result"]["winners"][0]["index"] == 30
    # Each ground entry wins with probability 1/31 now: all four would be chance (1e-6).
    assert ground_wins < 4


async def test_a_relabelled_winner_fails_verification(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    drand: DrandRelays,
    redis: Redis,
) -> None:
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    await enter_all(anon_client, github, draw["id"], range(300, 306))
    await act(app_client, csrf, draw["id"], "close")
    # The operator rewrites who every entry belongs to, keeping the refs: the results
    # page would name someone who never entered.
    ledger = KEYS.ledger(draw["id"])
    for entry in await stored_entries(redis, draw["id"]):
        # The full layout: the ref is kept as written (store/ledger.py).
        stolen = f"{entry.ref}\t{entry.entered_ms}\tgh:999999\tmallory"
        await redis.lset(ledger, entry.index, stolen)
    await act(app_client, csrf, draw["id"], "draw")
    bundle_bytes, entries = await published(app_client, draw["id"])
    report = verify_bundle_bytes(bundle_bytes, entries, chains=(chain_of(drand),))
    assert report.first_failure is not None
    assert report.first_failure.name == "openings"


async def test_a_self_consistent_forgery_is_caught_by_the_log(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    drand: DrandRelays,
    app_settings: Settings,
) -> None:
    """The operator re-derives everything for a changed entry list and even signs a
    fresh log with the instance key: the bundle then checks on its own, but not against
    a tree head that anyone saw before."""
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    await enter_all(anon_client, github, draw["id"], range(400, 406))
    await act(app_client, csrf, draw["id"], "close")
    await act(app_client, csrf, draw["id"], "draw")
    seen = (await anon_client.get("/api/v1/log/tree-head")).json()["statement"]
    bundle_bytes, entries = await published(app_client, draw["id"])
    bundle = json.loads(bundle_bytes)

    # Forge: drop entry 0's line and keep the rest as they were, re-deriving root and
    # winners; the core then no longer matches the logged bundle hash.
    lines = entries.decode().splitlines()[1:]
    refs = [line.split("\t")[1] for line in lines]
    forged_entries = "".join(f"{i}\t{ref}\n" for i, ref in enumerate(refs)).encode()
    root = fairness.merkle_root(refs)
    seed = bytes.fromhex(bundle["seed"])
    randomness = bytes.fromhex(bundle["beacon"]["randomness"])
    key = fairness.stream_key_v2(root, len(refs), seed, randomness)
    outcome = fairness.select_winners(root, seed, len(refs), [("Keyboard", 1)], 1, key=key)
    forged = dict(bundle)
    forged["seal"] = {**bundle["seal"], "root": root.hex(), "entry_count": len(refs)}
    forged["winners"] = [
        {
            **bundle["winners"][0],
            "index": outcome.winners[0].index,
            "ref": refs[outcome.winners[0].index],
            "opening": None,
        }
    ]
    forged["alternates"] = [
        {"index": i, "ref": refs[i], "opening": None} for i in outcome.alternates
    ]
    forged_bytes = proof.canonical_json(forged)
    report = verify_bundle_bytes(forged_bytes, forged_entries, chains=(chain_of(drand),))
    assert report.first_failure is not None

    # Even a rewritten log, signed with the stolen instance key, cannot extend the tree
    # head seen before the forgery.
    signing = load_or_create_signing_key(app_settings.signing_key_file or Path("unused"))
    leaves = [
        item["entry"]
        for item in (
            await anon_client.get(f"/api/v1/log/entries?start=0&end={seen['tree_size']}")
        ).json()["entries"]
    ]
    draw_leaf = next(i for i, leaf in enumerate(leaves) if leaf["type"] == "draw")
    core = {k: v for k, v in forged.items() if k != "log"}
    leaves[draw_leaf] = {
        **leaves[draw_leaf],
        "bundle_hash": hashlib.sha256(proof.canonical_json(core)).hexdigest(),
    }
    hashes = [transparency.leaf_hash(leaf) for leaf in leaves]
    rewritten_root = transparency.tree_hash(hashes)
    assert rewritten_root.hex() != seen["root_hash"]
    for size in range(draw_leaf + 1, len(hashes) + 1):
        path = (
            transparency.consistency_path(hashes, size, len(hashes)) if size < len(hashes) else []
        )
        assert (
            not transparency.verify_consistency(
                seen["tree_size"],
                len(hashes),
                bytes.fromhex(seen["root_hash"]),
                rewritten_root,
                path,
            )
            or rewritten_root.hex() == seen["root_hash"]
        )
    assert signing.key_id == bundle["signer"]["key_id"]


async def test_deleted_and_cancelled_draws_stay_in_the_log(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    csrf = await login(app_client, ADMIN)
    cancelled = await create(app_client, csrf, title="Re-run me")
    await enter_all(anon_client, github, cancelled["id"], range(500, 503))
    await act(app_client, csrf, cancelled["id"], "close")
    await act(app_client, csrf, cancelled["id"], "cancel")
    leaves = (await anon_client.get(f"/api/v1/draws/{cancelled['id']}/log")).json()
    kinds = [leaf["entry"]["type"] for leaf in leaves]
    assert kinds == ["commit", "seal", "cancel"]
    cancel = leaves[2]["entry"]
    # The cancelled draw's seed is revealed: anyone can run it and see what it would
    # have given, so re-running until the result pleases is plain to see.
    assert hashlib.sha256(bytes.fromhex(cancel["seed"])).hexdigest() == cancelled["commitment"]

    deleted = await create(app_client, csrf, title="Delete me")
    await enter_all(anon_client, github, deleted["id"], range(600, 602))
    await act(app_client, csrf, deleted["id"], "close")
    await redis.delete(*KEYS.draw_keys(deleted["id"]))
    assert (await anon_client.get(f"/api/v1/draws/{deleted['id']}")).status_code == 404
    logged = (await anon_client.get(f"/api/v1/draws/{deleted['id']}/log")).json()
    assert [leaf["entry"]["type"] for leaf in logged] == ["commit", "seal"]


async def test_the_draw_waits_for_its_round_and_never_falls_back(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    drand: DrandRelays,
    app: Any,
) -> None:
    """With every relay failing the draw is not made: the manager hears which round it
    waits for (503 beacon_pending), nothing is recorded, and the draw is made once a
    relay answers."""
    relay = app.state.services.settings.beacon_relays[0]
    drand.set_mode(relay, "bad_signature")
    app.state.services.drawing._beacon_wait = 2.0
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    await enter_all(anon_client, github, draw["id"], range(700, 703))
    assert draw["waiting_for_beacon"] is False  # open: nothing bound yet
    closed = await act(app_client, csrf, draw["id"], "close")
    assert closed["waiting_for_beacon"] is True
    pending = await app_client.post(
        f"/api/v1/draws/{draw['id']}/draw", headers={"X-CSRF-Token": csrf}
    )
    assert pending.status_code == 503
    problem = pending.json()
    assert problem["code"] == "beacon_pending"
    assert str(closed["seal"]["beacon"]["round"]) in problem["detail"]
    still = (await anon_client.get(f"/api/v1/draws/{draw['id']}")).json()
    assert still["status"] == "closed"
    assert still["result"] is None
    assert still["waiting_for_beacon"] is True
    drand.set_mode(relay, "ok")
    drawn = await act(app_client, csrf, draw["id"], "draw")
    assert drawn["status"] == "drawn"
    assert drawn["waiting_for_beacon"] is False


async def test_without_a_beacon_every_output_says_the_operator_is_trusted(
    store_url: str, github: GitHubStandIn, tmp_path: Path, redis: Redis
) -> None:
    from fairdraw.web.app import create_app
    from tests.support.app import create_accounts

    settings = make_settings(store_url, github.url, signing_key_file=tmp_path / "key")
    await create_accounts(settings)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        base = "http://testserver"
        async with (
            httpx.AsyncClient(transport=transport, base_url=base) as client,
            httpx.AsyncClient(transport=transport, base_url=base) as entrant,
        ):
            csrf = await login(client, ADMIN)
            draw = await create(client, csrf)
            assert draw["trusts_operator"] is True
            await enter_all(entrant, github, draw["id"], range(800, 803))
            await act(client, csrf, draw["id"], "close")
            drawn = await act(client, csrf, draw["id"], "draw")
            assert drawn["seal"]["beacon"] is None
            bundle_bytes, entries = await published(client, draw["id"])
            assert json.loads(bundle_bytes)["beacon"] is None
            report = verify_bundle_bytes(bundle_bytes, entries)
            assert report.ok
            beacon_check = next(c for c in report.checks if c.name == "beacon")
            assert "trusts its operator" in beacon_check.detail
            page = await client.get(f"/draws/{draw['id']}")
            assert "trusts its operator" in page.text


async def test_raffle_claims_commit_to_their_codes_and_winners_cannot_be_precomputed(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    drand: DrandRelays,
    redis: Redis,
) -> None:
    csrf = await login(app_client, ADMIN)
    predicted_right = 0
    for attempt in range(4):
        response = await app_client.post(
            "/api/v1/raffles",
            json={
                "title": f"Raffle {attempt}",
                "prizes": PRIZES,
                "ticket_count": 20,
                "per_claimant": 20,
                "open": True,
            },
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 201, response.text
        raffle = response.json()
        # What creation fixes: the seed and the ticket order. A claim position chosen
        # from them is a lottery ticket like any other.
        meta = await redis.hgetall(KEYS.draw_meta(raffle["id"]))
        seed = bytes.fromhex(meta["seed"])
        tickets = []
        for _ in range(20):
            claim = await anon_client.post(f"/api/v1/draws/{raffle['id']}/tickets")
            assert claim.status_code == 201, claim.text
            tickets.append(claim.json())
        drawn = await act(app_client, csrf, raffle["id"], "draw")
        bundle_bytes, entries = await published(app_client, raffle["id"])
        report = verify_bundle_bytes(bundle_bytes, entries, chains=(chain_of(drand),))
        assert report.ok, report.first_failure
        refs = [line.split("\t")[1] for line in entries.decode().splitlines()]
        root = fairness.merkle_root(refs)
        guess = fairness.select_winners(
            root, seed, 20, [("Keyboard", 1)], 1, key=fairness.stream_key_v2(root, 20, seed, None)
        )
        predicted_right += guess.winners[0].index == drawn["result"]["winners"][0]["index"]
        # Each claim's ref commits to its code: the holder can show the ticket is theirs.
        for index, ticket in enumerate(tickets):
            number, commitment = refs[index].split(":")
            assert int(number) == ticket["number"]
            code = ticket["code"].replace("-", "")
            assert fairness.code_commitment(_code_bytes(code)) == commitment
    assert predicted_right < 4


def _code_bytes(code: str) -> bytes:
    from fairdraw.domain import tickets

    return tickets.parse_code(code)


async def test_concurrent_draws_of_one_beacon_draw_record_one_result(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    drand: DrandRelays,
) -> None:
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    await enter_all(anon_client, github, draw["id"], range(900, 910))
    await act(app_client, csrf, draw["id"], "close")
    results = await asyncio.gather(*(act(app_client, csrf, draw["id"], "draw") for _ in range(5)))
    assert len({json.dumps(r["result"], sort_keys=True) for r in results}) == 1
    leaves = (await anon_client.get(f"/api/v1/draws/{draw['id']}/log")).json()
    assert [leaf["entry"]["type"] for leaf in leaves] == ["commit", "seal", "draw"]


async def test_a_lottery_round_binds_the_beacon_and_opens_its_winning_ballot(
    app: Any, app_client: httpx.AsyncClient, redis: Redis, drand: DrandRelays
) -> None:
    """Each round of a daily lottery is a fairdraw/2 draw too: sealed when its day ends,
    decided by the next beacon round, its winning ballot opened to its participant."""
    past = await past_rounds(app, redis)
    csrf = await login(app_client, MANAGER)
    url = f"{LOTTERIES}/{past.lottery_id}/rounds/{past.yesterday}/draw"
    drawn = await app_client.post(url, headers={"X-CSRF-Token": csrf})
    assert drawn.status_code == 200, drawn.text
    links = drawn.json()["links"]
    bundle_bytes = (await app_client.get(links["proof"])).content
    entries = (await app_client.get(links["entries"])).content
    report = verify_bundle_bytes(bundle_bytes, entries, chains=(chain_of(drand),))
    assert report.ok, report.first_failure
    bundle = json.loads(bundle_bytes)
    assert bundle["draw"]["kind"] == "lottery"
    assert bundle["beacon"] is not None
    # Yesterday's only ballot was Pat's: the opening names Pat's account.
    assert bundle["winners"][0]["opening"]["identity"] == "u:pat"
    # The days the scheduler drew are fairdraw/2 as well, and verify the same way.
    first = f"{LOTTERIES}/{past.lottery_id}/rounds/{past.first}"
    view = (await app_client.get(first)).json()
    first_bundle = (await app_client.get(view["links"]["proof"])).content
    first_entries = (await app_client.get(view["links"]["entries"])).content
    assert verify_bundle_bytes(first_bundle, first_entries, chains=(chain_of(drand),)).ok


async def test_a_draw_stored_before_fairdraw_2_stays_a_fairdraw_1_draw(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    redis: Redis,
) -> None:
    """A draw an older version created has no proof fields: it keeps its refs, is drawn
    without a beacon and publishes a fairdraw/1 bundle that still verifies."""
    csrf = await login(app_client, ADMIN)
    response = await app_client.post(
        "/api/v1/draws",
        json={"title": "Older draw", "prizes": PRIZES},
        headers={"X-CSRF-Token": csrf},
    )
    draft = response.json()
    await redis.hdel(KEYS.draw_meta(draft["id"]), "algorithm", "beacon")
    await act(app_client, csrf, draft["id"], "open")
    receipts = await enter_all(anon_client, github, draft["id"], range(950, 953))
    assert {len(r["ref"]) for r in receipts} == {32}
    assert {r["algorithm"] for r in receipts} == {"fairdraw/1"}
    assert all(r["opening"] is None and r["signed"] is None for r in receipts)
    await act(app_client, csrf, draft["id"], "close")
    drawn = await act(app_client, csrf, draft["id"], "draw")
    assert drawn["algorithm"] == "fairdraw/1"
    assert drawn["trusts_operator"] is True
    bundle_bytes, entries = await published(app_client, draft["id"])
    assert json.loads(bundle_bytes)["algorithm"] == "fairdraw/1"
    assert verify_bundle_bytes(bundle_bytes, entries).ok
    assert (await anon_client.get(f"/api/v1/draws/{draft['id']}/log")).json() == []


async def test_a_raffle_ticket_comes_with_a_signed_receipt_its_code_opens(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    csrf = await login(app_client, ADMIN)
    response = await app_client.post(
        "/api/v1/raffles",
        json={"title": "Receipts", "prizes": PRIZES, "ticket_count": 3, "open": True},
        headers={"X-CSRF-Token": csrf},
    )
    raffle = response.json()
    ticket = (await anon_client.post(f"/api/v1/draws/{raffle['id']}/tickets")).json()
    key = (await anon_client.get("/.well-known/fairdraw-signing-key")).json()
    statement = ticket["signed"]["statement"]
    assert statement == {
        "type": "receipt",
        "algorithm": "fairdraw/2",
        "draw_id": raffle["id"],
        "index": 0,
        "ref": ticket["ref"],
        "entered_at": ticket["claimed_at"],
        "key_id": key["key_id"],
    }
    assert verify_statement(ticket["signed"], bytes.fromhex(key["public_key"]))
    number, commitment = ticket["ref"].split(":")
    assert int(number) == ticket["number"]
    assert fairness.code_commitment(_code_bytes(ticket["code"])) == commitment


async def test_the_scheduler_finishes_a_draw_that_waited_for_its_round(
    app_client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    github: GitHubStandIn,
    drand: DrandRelays,
    app: Any,
) -> None:
    """A manager's draw that met no relay is finished by the scheduler, with no one
    asking again, once a relay serves the round."""
    services = app.state.services
    relay = services.settings.beacon_relays[0]
    drand.set_mode(relay, "error")
    services.drawing._beacon_wait = 2.0  # keep the test short
    csrf = await login(app_client, ADMIN)
    draw = await create(app_client, csrf)
    await enter_all(anon_client, github, draw["id"], range(1000, 1004))
    await act(app_client, csrf, draw["id"], "close")
    pending = await app_client.post(
        f"/api/v1/draws/{draw['id']}/draw", headers={"X-CSRF-Token": csrf}
    )
    assert pending.status_code == 503
    # Still failing: the scheduler leaves it closed and keeps it scheduled.
    await services.scheduler.run_once()
    assert (await anon_client.get(f"/api/v1/draws/{draw['id']}")).json()["status"] == "closed"
    drand.set_mode(relay, "ok")
    await services.scheduler.run_once()
    done = (await anon_client.get(f"/api/v1/draws/{draw['id']}")).json()
    assert done["status"] == "drawn"
    bundle_bytes, entries = await published(anon_client, draw["id"])
    assert verify_bundle_bytes(bundle_bytes, entries, chains=(chain_of(drand),)).ok
