"""Offline verification of fairdraw/2 bundles: every check, its exact details, and the
order in which failures block the checks that depend on them."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from fairdraw.domain import fairness
from fairdraw.domain.beacon import QUICKNET
from fairdraw.domain.proof import bundle_hash, canonical_json
from fairdraw.domain.verification import (
    V2_CHECKS,
    Check,
    VerifyReport,
    verify_bundle,
    verify_bundle_bytes,
)
from tests.support import fd2_corpus
from tests.support.fd2_corpus import TEST_CHAIN, Vector

QUICKNET_HASH = QUICKNET.chain_hash
PINNED = (QUICKNET, TEST_CHAIN.chain)


def vector(name: str) -> Vector:
    return fd2_corpus.vectors()[name]


def verify(bundle: dict[str, Any], base: Vector, entries: bytes | None = None) -> VerifyReport:
    return verify_bundle_bytes(
        canonical_json(bundle), base.entries if entries is None else entries, PINNED
    )


def failure(report: VerifyReport) -> Check:
    assert report.first_failure is not None
    return report.first_failure


def details(report: VerifyReport) -> dict[str, str]:
    return {check.name: check.detail for check in report.checks}


def tampered(name: str) -> dict[str, Any]:
    return copy.deepcopy(vector(name).bundle)


# -- bundles that verify ---------------------------------------------------------------------


def test_the_quicknet_giveaway_passes_every_check_with_these_details() -> None:
    v = vector("giveaway-quicknet")
    report = verify_bundle_bytes(v.bundle_bytes, v.entries)  # quicknet is pinned by default
    assert [c.name for c in report.checks] == list(V2_CHECKS)
    assert report.ok
    assert report.algorithm == "fairdraw/2"
    assert not report.trusts_operator
    assert report.verdict == "PASS"
    key_id = fd2_corpus.signing_key().key_id
    assert details(report) == {
        "format": "fairdraw/2 bundle and 10 entries",
        "entry_count": "10 entries",
        "merkle_root": f"root {v.root.hex()}",
        "commitment": "sha256(seed) matches the commitment",
        "slots": "3 prize slots",
        "beacon": f"quicknet {QUICKNET_HASH} round 12040883 at 2024-10-14T17:13:33Z, after "
        "the seal; its signature is valid and gives the randomness",
        "openings": "6 openings match their refs",
        "winners": "3 winners match",
        "alternates": "3 alternates match",
        "unawarded": "0 slots unawarded",
        "log": f"the draw leaf 3 is in the log's tree of 5 leaves, whose head is signed by "
        f"key {key_id}",
    }


def test_a_draw_without_a_beacon_says_it_trusts_its_operator() -> None:
    v = vector("giveaway-no-beacon")
    report = verify_bundle_bytes(v.bundle_bytes, v.entries)
    assert report.ok
    assert report.trusts_operator
    assert report.verdict == "PASS (trusts its operator: no beacon)"
    assert details(report)["beacon"] == (
        "no beacon: the operator's seed alone decides the winners, so this draw trusts its "
        "operator (who could have known the seed before the seal)"
    )


def test_a_raffle_checks_its_tickets_and_has_no_openings() -> None:
    v = vector("raffle-test-chain")
    report = verify_bundle_bytes(v.bundle_bytes, v.entries, PINNED)
    assert report.ok
    assert details(report)["entry_count"] == "6 entries, distinct tickets of 10"
    assert details(report)["openings"] == "6 raffle picks, each opened by its ticket's code"
    assert details(report)["beacon"].startswith(f"chain {TEST_CHAIN.chain.chain_hash} round ")
    assert all(pick["opening"] is None for pick in v.bundle["winners"] + v.bundle["alternates"])


def test_the_empty_ledger_awards_nothing() -> None:
    v = vector("empty-quicknet")
    report = verify_bundle_bytes(v.bundle_bytes, b"")
    assert report.ok
    assert details(report)["unawarded"] == "2 slots unawarded"
    assert details(report)["merkle_root"] == f"root {hashlib.sha256(b'').hexdigest()}"


def test_one_final_lf_is_allowed() -> None:
    v = vector("giveaway-quicknet")
    assert verify_bundle_bytes(v.bundle_bytes + b"\n", v.entries).ok


def test_verify_bundle_takes_a_parsed_v2_bundle() -> None:
    v = vector("lottery-test-chain")
    report = verify_bundle(v.bundle, v.entries.decode(), PINNED)
    assert report.ok
    assert [c.name for c in report.checks] == list(V2_CHECKS)
    broken = verify_bundle({**v.bundle, "seed": b"bytes"}, v.entries.decode(), PINNED)
    assert failure(broken).detail.startswith("the bundle is not JSON: ")


# -- the dependency rule -----------------------------------------------------------------------


def test_a_format_failure_checks_nothing_else() -> None:
    bundle = tampered("giveaway-quicknet")
    bundle["draw"]["one_prize_per_entrant"] = True
    report = verify(bundle, vector("giveaway-quicknet"))
    assert [c.name for c in report.checks] == list(V2_CHECKS)
    assert failure(report).detail == "draw.one_prize_per_entrant must be false in fairdraw/2"
    assert [c.detail for c in report.checks[1:]] == ["not checked: format failed"] * 10


def test_the_results_wait_for_the_beacon_but_the_log_does_not() -> None:
    bundle = tampered("giveaway-quicknet")
    bundle["beacon"]["randomness"] = "00" * 32
    report = verify(bundle, vector("giveaway-quicknet"))
    assert [(c.name, c.ok) for c in report.checks] == [
        ("format", True),
        ("entry_count", True),
        ("merkle_root", True),
        ("commitment", True),
        ("slots", True),
        ("beacon", False),
        ("openings", True),
        ("winners", False),
        ("alternates", False),
        ("unawarded", False),
        ("log", False),
    ]
    assert [c.detail for c in report.checks[7:10]] == ["not checked: beacon failed"] * 3
    assert report.checks[10].detail.startswith("log.entry.bundle_hash is ")


def test_the_results_wait_for_the_openings() -> None:
    bundle = tampered("giveaway-quicknet")
    bundle["alternates"][2]["opening"]["identity"] = "gh:666"
    report = verify(bundle, vector("giveaway-quicknet"))
    assert failure(report).name == "openings"
    assert [c.detail for c in report.checks[7:10]] == ["not checked: openings failed"] * 3


def test_the_log_is_checked_even_when_the_entries_do_not_match() -> None:
    v = vector("giveaway-quicknet")
    swapped = fairness.merkle_root([*v.refs[:9], v.refs[0]])
    entries = b"".join(f"{i}\t{r}\n".encode() for i, r in enumerate([*v.refs[:9], v.refs[0]]))
    report = verify_bundle_bytes(v.bundle_bytes, entries)
    assert failure(report).detail == (
        f"the seal's root is {v.root.hex()} but the entries give {swapped.hex()}"
    )
    assert details(report)["winners"] == "not checked: merkle_root failed"
    assert report.checks[-1].ok


# -- entry_count for a raffle ----------------------------------------------------------------


def test_raffle_tickets_are_within_the_raffle_and_distinct() -> None:
    v = vector("raffle-test-chain")
    bundle = tampered("raffle-test-chain")
    bundle["draw"]["ticket_count"] = 5
    assert failure(verify(bundle, v)).detail == (
        "the seal says 6 entries but the raffle has 5 tickets"
    )
    bundle["draw"]["ticket_count"] = 9
    assert failure(verify(bundle, v)).detail == "entry 2: ticket 10 is above the raffle's 9 tickets"
    refs = list(v.refs)
    refs[3] = refs[3].replace("1:", "7:", 1)
    entries = "".join(f"{i}\t{r}\n" for i, r in enumerate(refs)).encode()
    report = verify(v.bundle, v, entries)
    assert failure(report).name == "entry_count"
    assert failure(report).detail == "entry 3: ticket 7 is also entry 0"


# -- slots -----------------------------------------------------------------------------------


def test_a_draw_has_as_many_alternates_as_slots() -> None:
    bundle = tampered("giveaway-quicknet")
    bundle["draw"]["alternates"] = 2
    assert failure(verify(bundle, vector("giveaway-quicknet"))).detail == (
        "draw.alternates is 2 but a draw has as many alternates as slots (3)"
    )


# -- the beacon ------------------------------------------------------------------------------


def beacon_failure(change: Any, chains: Any = PINNED) -> str:
    v = vector("giveaway-quicknet")
    bundle = tampered("giveaway-quicknet")
    change(bundle["beacon"])
    report = verify_bundle_bytes(canonical_json(bundle), v.entries, chains)
    assert failure(report).name == "beacon"
    return failure(report).detail


def test_the_beacon_chain_must_be_pinned() -> None:
    def unchanged(beacon: dict[str, Any]) -> None:
        pass

    assert beacon_failure(unchanged, chains=[TEST_CHAIN.chain]) == (
        f"chain {QUICKNET_HASH} is not pinned by this verifier "
        f"(pinned: {TEST_CHAIN.chain.chain_hash})"
    )
    assert beacon_failure(unchanged, chains=[]) == (
        f"chain {QUICKNET_HASH} is not pinned by this verifier (pinned: none)"
    )


def test_the_bundle_cannot_bring_its_own_chain_key() -> None:
    other = TEST_CHAIN.chain.public_key.hex()

    def rekeyed(beacon: dict[str, Any]) -> None:
        beacon["public_key"] = other

    assert beacon_failure(rekeyed) == (
        f"the bundle gives chain {QUICKNET_HASH} the public key {other}, but it is "
        f"{QUICKNET.public_key.hex()}"
    )


@pytest.mark.parametrize(
    ("field", "value", "detail"),
    [
        ("period", 30, f"the bundle gives chain {QUICKNET_HASH} the period 30, but it is 3"),
        (
            "genesis_time",
            0,
            f"the bundle gives chain {QUICKNET_HASH} the genesis_time 0, but it is 1692803367",
        ),
        (
            "scheme",
            "pedersen-bls-chained",
            f"the bundle gives chain {QUICKNET_HASH} the scheme pedersen-bls-chained, but it is "
            "bls-unchained-g1-rfc9380",
        ),
        (
            "round_time",
            "2024-10-14T17:13:30Z",
            "round 12040883 is at 2024-10-14T17:13:33Z, but the bundle says 2024-10-14T17:13:30Z",
        ),
        (
            "randomness",
            "00" * 32,
            f"the randomness is {'00' * 32} but sha256(signature) is "
            "173df1f57805453a8d2015268205d68147de12cafc2f451f7bc6adadca3571b3",
        ),
    ],
)
def test_the_beacon_must_be_the_pinned_chains(field: str, value: Any, detail: str) -> None:
    def change(beacon: dict[str, Any]) -> None:
        beacon[field] = value

    assert beacon_failure(change) == detail


def test_the_round_must_come_after_the_seal() -> None:
    sealed_at = vector("giveaway-quicknet").bundle["seal"]["sealed_at"]

    def earlier(beacon: dict[str, Any]) -> None:
        beacon["round"] = fd2_corpus.EARLY_ROUND
        beacon["round_time"] = "2024-02-25T16:55:09Z"

    assert beacon_failure(earlier) == (
        f"round 5358915 (2024-02-25T16:55:09Z) is not after the seal ({sealed_at}): its "
        "randomness may have been known before the entries were fixed"
    )


def test_the_round_signature_must_verify() -> None:
    other = fd2_corpus.quicknet_signature(fd2_corpus.OTHER_ROUND)

    def resigned(beacon: dict[str, Any]) -> None:
        beacon["signature"] = other.hex()
        beacon["randomness"] = hashlib.sha256(other).hexdigest()

    assert beacon_failure(resigned) == (
        "the signature of round 12040883 is not valid: round 12040883: the signature does "
        f"not verify under the public key of chain {QUICKNET_HASH}"
    )


# -- openings --------------------------------------------------------------------------------


def test_an_opening_must_give_its_picks_ref() -> None:
    v = vector("giveaway-quicknet")
    bundle = tampered("giveaway-quicknet")
    winner = bundle["winners"][1]
    winner["opening"] = copy.deepcopy(bundle["winners"][0]["opening"])
    wrong = fairness.entry_ref_v2(
        winner["opening"]["identity"], bytes.fromhex(winner["opening"]["nonce"])
    )
    assert failure(verify(bundle, v)).detail == (
        f"winner 1 (entry {winner['index']}): the opening of "
        f"{winner['opening']['identity']!r} gives ref {wrong}, not {winner['ref']}"
    )


def test_giveaway_picks_are_opened_and_raffle_picks_are_not() -> None:
    giveaway = tampered("giveaway-quicknet")
    giveaway["alternates"][0]["opening"] = None
    index = giveaway["alternates"][0]["index"]
    assert failure(verify(giveaway, vector("giveaway-quicknet"))).detail == (
        f"alternate 0 (entry {index}): the opening is missing"
    )
    raffle = tampered("raffle-test-chain")
    raffle["winners"][2]["opening"] = {"identity": "acct:x", "nonce": "00" * 16}
    index = raffle["winners"][2]["index"]
    assert failure(verify(raffle, vector("raffle-test-chain"))).detail == (
        f"winner 2 (entry {index}): a raffle pick has no opening in the bundle"
    )


def test_more_than_five_problems_are_summed_up() -> None:
    bundle = tampered("giveaway-quicknet")
    for pick in bundle["winners"] + bundle["alternates"]:
        pick["opening"] = None
    detail = failure(verify(bundle, vector("giveaway-quicknet"))).detail
    assert detail.endswith("the opening is missing; and 1 more")
    assert detail.count("the opening is missing") == 5


# -- the log ---------------------------------------------------------------------------------


def log_failure(change: Any) -> str:
    bundle = tampered("giveaway-quicknet")
    change(bundle)
    report = verify(bundle, vector("giveaway-quicknet"))
    assert failure(report).name == "log"
    return failure(report).detail


def test_the_signer_key_id_is_the_hash_of_its_key() -> None:
    def change(bundle: dict[str, Any]) -> None:
        bundle["signer"]["key_id"] = "ab" * 32

    key = fd2_corpus.signing_key()
    assert (
        log_failure(change)
        == f"signer.key_id is {'ab' * 32} but sha256(public_key) is {key.key_id}"
    )


def test_the_log_entry_must_be_this_draws_draw_leaf() -> None:
    v = vector("giveaway-quicknet")

    def seal_leaf(bundle: dict[str, Any]) -> None:
        bundle["log"]["entry"] = v.log_entries[2]

    assert log_failure(seal_leaf) == "log.entry is a 'seal' leaf, not a 'draw' leaf"

    def other_draw(bundle: dict[str, Any]) -> None:
        bundle["log"]["entry"]["draw_id"] = "d_other"

    assert log_failure(other_draw) == (
        "log.entry is the draw leaf of 'd_other', not of 'd_v2_giveaway'"
    )

    def extra_field(bundle: dict[str, Any]) -> None:
        bundle["log"]["entry"]["note"] = "x"

    assert log_failure(extra_field) == (
        "log.entry has the fields bundle_hash, draw_id, note, time, type; a draw leaf has "
        "bundle_hash, draw_id, time, type"
    )

    def untyped(bundle: dict[str, Any]) -> None:
        del bundle["log"]["entry"]["type"]

    assert log_failure(untyped) == "log.entry has no type; the draw's leaf is of type 'draw'"


def test_the_draw_leaf_commits_to_the_bundles_core() -> None:
    def retitled(bundle: dict[str, Any]) -> None:
        bundle["draw"]["title"] = "Another title"

    expected = tampered("giveaway-quicknet")
    expected["draw"]["title"] = "Another title"
    logged = vector("giveaway-quicknet").bundle["log"]["entry"]["bundle_hash"]
    assert logged == bundle_hash(vector("giveaway-quicknet").bundle)
    assert log_failure(retitled) == (
        f"log.entry.bundle_hash is {logged} but the bundle's core hashes to {bundle_hash(expected)}"
    )


def test_the_tree_head_is_a_tree_head_by_the_signer() -> None:
    def other_type(bundle: dict[str, Any]) -> None:
        bundle["log"]["tree_head"]["statement"]["type"] = "receipt"

    assert log_failure(other_type) == "log.tree_head is a 'receipt' statement, not a 'tree-head'"
    forger = fd2_corpus.signing_key(fd2_corpus.FORGER_SIGNING_SEED)

    def other_key(bundle: dict[str, Any]) -> None:
        statement = {**bundle["log"]["tree_head"]["statement"], "key_id": forger.key_id}
        bundle["log"]["tree_head"] = forger.sign_statement(statement)

    key = fd2_corpus.signing_key()
    assert log_failure(other_key) == (
        f"the tree head names key {forger.key_id}, but the bundle's signer is {key.key_id}"
    )

    def forged_signature(bundle: dict[str, Any]) -> None:
        bundle["log"]["tree_head"] = forger.sign_statement(bundle["log"]["tree_head"]["statement"])

    assert log_failure(forged_signature) == (
        "the tree head's signature is not valid under signer.public_key"
    )


def test_the_path_proves_the_leaf_in_the_signed_tree() -> None:
    v = vector("giveaway-quicknet")
    leaf = v.leaf_hashes[3].hex()
    root = v.bundle["log"]["tree_head"]["statement"]["root_hash"]

    def elsewhere(bundle: dict[str, Any]) -> None:
        bundle["log"]["leaf_index"] = 2

    assert log_failure(elsewhere) == (
        f"the path does not prove leaf 2 (hash {leaf}) in the tree of 5 leaves with root {root}"
    )

    def outside(bundle: dict[str, Any]) -> None:
        bundle["log"]["leaf_index"] = 5

    assert log_failure(outside).startswith("the path does not prove leaf 5 ")


# -- format ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "detail"),
    [
        (
            ("draw", "opened_at"),
            "2024-10-14T16:13:26Z",
            "draw.opened_at must be an ISO-8601 UTC time like 2026-12-06T21:00:00.000Z",
        ),
        (("draw", "deadline"), "soon", "draw.deadline must be an ISO-8601 UTC time like"),
        (("seal", "sealed_at"), "2024-10-14T17:13:26.1234Z", "seal.sealed_at must be an ISO-8601"),
        (
            ("draw", "ticket_count"),
            10,
            "draw.ticket_count must be null for a draw that is no raffle",
        ),
        (("beacon", "round"), 0, "beacon.round must be an integer >= 1"),
        (("beacon", "period"), 0, "beacon.period must be an integer >= 1"),
        (
            ("beacon", "round_time"),
            "2024-10-14T17:13:33.000Z",
            "beacon.round_time must be an ISO-8601 UTC time like 2026-12-06T22:00:03Z",
        ),
        (
            ("beacon", "signature"),
            "00" * 96,
            "beacon.signature must be 96 lowercase hex characters",
        ),
        (
            ("beacon", "public_key"),
            "00" * 48,
            "beacon.public_key must be 192 lowercase hex characters",
        ),
        (
            ("winners", 0, "opening", "nonce"),
            "00" * 32,
            "winners[0].opening.nonce must be 32 lowercase hex characters",
        ),
        (("winners", 0, "ref"), "00" * 16, "winners[0].ref must be 64 lowercase hex characters"),
        (("signer", "algorithm"), "rsa", "signer.algorithm must be 'ed25519'"),
        (("log", "path", 0), "00", "log.path must be a list of 64 lowercase hex characters each"),
        (
            ("log", "tree_head", "signature"),
            "00" * 32,
            "log.tree_head.signature must be 128 lowercase hex",
        ),
        (("log", "entry"), "draw", "log.entry must be an object"),
        (("draw", "prizes", 0, "colour"), "red", "draw.prizes[0]: unknown fields colour"),
    ],
)
def test_every_field_has_its_type(path: tuple[Any, ...], value: Any, detail: str) -> None:
    bundle = tampered("giveaway-quicknet")
    target: Any = bundle
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    report = verify(bundle, vector("giveaway-quicknet"))
    assert failure(report).name == "format"
    assert failure(report).detail.startswith(detail)


def test_a_raffle_has_a_ticket_count() -> None:
    bundle = tampered("raffle-test-chain")
    bundle["draw"]["ticket_count"] = None
    assert failure(verify(bundle, vector("raffle-test-chain"))).detail == (
        "draw.ticket_count must be an integer from 1 to 1000000000 for a raffle"
    )


def test_the_bundle_is_checked_before_the_entries_file() -> None:
    bundle = tampered("giveaway-quicknet")
    bundle["seed"] = "XX"
    report = verify(bundle, vector("giveaway-quicknet"), entries=b"\xff")
    assert failure(report).detail == "bundle.seed must be 64 lowercase hex characters"
