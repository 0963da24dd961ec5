"""The drand beacon: round arithmetic, the bound round, BLS verification of real quicknet
rounds and of tampered ones, and the strict JSON of chains and bundle beacons."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from py_arkworks_bls12381 import G1Point

from fairdraw.domain.beacon import (
    DST,
    QUICKNET,
    SCHEME,
    BeaconError,
    BeaconRound,
    Chain,
    bound_round,
    iso_seconds,
    round_message,
    verify_round,
)
from tests.support.drand_relay import QUICKNET_ROUNDS_FILE, TestChain, quicknet_rounds, sign_round

RECORDED = json.loads(QUICKNET_ROUNDS_FILE.read_text())
ROUNDS = quicknet_rounds()
G = QUICKNET.genesis_time
ROUND_1000 = ROUNDS[1000]
# x = 4 is on the curve (4³ + 4 = 68 is a square mod p), but this point is not in G1's
# prime-order subgroup: a signature must never be accepted from there.
OFF_SUBGROUP = bytes([0x80]) + bytes(46) + bytes([0x04])
G1_IDENTITY = bytes([0xC0]) + bytes(47)
G2_IDENTITY = bytes([0xC0]) + bytes(95)


def utc(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp())  # type: ignore[misc]


# -- the quicknet chain ----------------------------------------------------------------


def test_quicknet_is_the_chain_drand_publishes() -> None:
    assert Chain.from_json(RECORDED["info"]) == QUICKNET
    assert QUICKNET.chain_hash == "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
    assert QUICKNET.period == 3
    assert QUICKNET.genesis_time == 1692803367
    assert QUICKNET.scheme == SCHEME == "bls-unchained-g1-rfc9380"
    assert DST == b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"


# -- round arithmetic --------------------------------------------------------------------


def test_round_times() -> None:
    assert QUICKNET.round_time(1) == G
    assert QUICKNET.round_time(2) == G + 3
    assert QUICKNET.round_time(1000) == G + 999 * 3
    assert QUICKNET.round_time(2**64 - 1) == G + (2**64 - 2) * 3


def test_round_at_boundaries() -> None:
    assert QUICKNET.round_at(0) == 0
    assert QUICKNET.round_at(G - 1) == 0
    assert QUICKNET.round_at(G) == 1
    assert QUICKNET.round_at(G + 2) == 1
    assert QUICKNET.round_at(G + 3) == 2
    for round in (1, 2, 3, 1000, 27946612):
        start = QUICKNET.round_time(round)
        assert QUICKNET.round_at(start) == round
        assert QUICKNET.round_at(start - 1) == round - 1
        assert QUICKNET.round_at(start + 2) == round


def test_round_at_agrees_with_other_drand_clients() -> None:
    # Published examples of quicknet's round at a wall-clock time.
    assert QUICKNET.round_at(utc(2026, 4, 20)) == 27946612
    assert QUICKNET.round_at(utc(2026, 4, 20, 12, 30, 45)) == 27961627
    assert iso_seconds(QUICKNET.round_time(27946612)) == "2026-04-20T00:00:00Z"


@pytest.mark.parametrize("round", [0, -1, 2**64, True, 1.0, "1"])
def test_round_numbers_outside_u64_are_refused(round: Any) -> None:
    with pytest.raises(BeaconError, match="a round is a whole number from 1 to 2\\^64 - 1"):
        QUICKNET.round_time(round)
    with pytest.raises(BeaconError):
        round_message(round)


def test_round_message_is_sha256_of_the_big_endian_round() -> None:
    assert round_message(1) == hashlib.sha256(bytes(7) + b"\x01").digest()
    assert round_message(1000) == hashlib.sha256(bytes.fromhex("00000000000003e8")).digest()
    assert round_message(2**64 - 1) == hashlib.sha256(b"\xff" * 8).digest()


def test_iso_seconds() -> None:
    assert iso_seconds(G) == "2023-08-23T15:09:27Z"
    assert iso_seconds(0) == "1970-01-01T00:00:00Z"


# -- the bound round ---------------------------------------------------------------------


def test_bound_round_is_the_first_round_after_seal_plus_margin() -> None:
    # Sealed at G + 30.999 s with a 5 s margin: the first round after G + 35 is at G + 36.
    assert bound_round(QUICKNET, (G + 30) * 1000 + 999, 5) == 13
    assert QUICKNET.round_time(13) == G + 36
    # Milliseconds are floored: G + 30.000 s binds the same round, G + 31.000 s the next
    # (round 13 at G + 36 is not after G + 31 + 5).
    assert bound_round(QUICKNET, (G + 30) * 1000, 5) == 13
    assert bound_round(QUICKNET, (G + 31) * 1000, 5) == 14


def test_bound_round_when_seal_plus_margin_is_exactly_a_round_time() -> None:
    # A round published exactly at seal + margin is not after it: the next one is bound.
    t = QUICKNET.round_time(500)
    assert bound_round(QUICKNET, (t - 5) * 1000, 5) == 501
    assert bound_round(QUICKNET, t * 1000, 0) == 501
    assert bound_round(QUICKNET, t * 1000 - 1, 0) == 500


def test_bound_round_before_genesis_is_round_one() -> None:
    assert bound_round(QUICKNET, (G - 100) * 1000, 5) == 1
    assert bound_round(QUICKNET, (G - 1) * 1000, 0) == 1


@pytest.mark.parametrize("margin", [0, 1, 5, 3600])
def test_bound_round_is_always_strictly_after_the_seal_and_the_first_such(margin: int) -> None:
    start = utc(2026, 12, 6, 22) * 1000
    for sealed_ms in range(start, start + 7_000, 137):
        round = bound_round(QUICKNET, sealed_ms, margin)
        deadline = sealed_ms // 1000 + margin
        assert QUICKNET.round_time(round) > deadline
        assert QUICKNET.round_time(round - 1) <= deadline


def test_bound_round_refuses_negative_inputs() -> None:
    with pytest.raises(ValueError, match="seal time"):
        bound_round(QUICKNET, -1, 5)
    with pytest.raises(ValueError, match="margin"):
        bound_round(QUICKNET, 0, -1)


# -- verification of real quicknet rounds ------------------------------------------------


@pytest.mark.parametrize("entry", RECORDED["rounds"], ids=lambda entry: f"round-{entry['round']}")
def test_real_quicknet_rounds_verify(entry: dict[str, Any]) -> None:
    signature = bytes.fromhex(entry["signature"])
    randomness = verify_round(QUICKNET, entry["round"], signature)
    assert randomness.hex() == entry["randomness"]
    assert randomness == hashlib.sha256(signature).digest()


def test_at_least_three_real_rounds_are_recorded() -> None:
    assert len(ROUNDS) >= 3
    assert len({signature for signature in ROUNDS.values()}) == len(ROUNDS)


# -- tampering -------------------------------------------------------------------------


@pytest.mark.parametrize("position", [0, 1, 10, 24, 47])
def test_a_flipped_bit_is_rejected(position: int) -> None:
    tampered = bytearray(ROUND_1000)
    tampered[position] ^= 0x01
    with pytest.raises(BeaconError, match="round 1000: the signature"):
        verify_round(QUICKNET, 1000, bytes(tampered))


def test_a_signature_for_another_round_is_rejected() -> None:
    for round in (999, 1001, 123, 2**64 - 1):
        with pytest.raises(BeaconError, match=f"round {round}: the signature does not verify"):
            verify_round(QUICKNET, round, ROUND_1000)
    with pytest.raises(BeaconError, match="round 1000: the signature does not verify"):
        verify_round(QUICKNET, 1000, ROUNDS[123])


def test_a_round_is_rejected_under_another_public_key() -> None:
    other = TestChain(genesis_time=G, period=3)
    with pytest.raises(
        BeaconError, match=f"under the public key of chain {other.chain.chain_hash}"
    ):
        verify_round(other.chain, 1000, ROUND_1000)
    # And the other chain's own signature of the round does not pass for quicknet's.
    forged = sign_round(other, 1000)
    assert verify_round(other.chain, 1000, forged) == hashlib.sha256(forged).digest()
    with pytest.raises(BeaconError, match="does not verify"):
        verify_round(QUICKNET, 1000, forged)


def test_a_test_chain_signs_the_way_quicknet_does() -> None:
    chain = TestChain(genesis_time=0)
    for round in (1, 2, 1000, 2**64 - 1):
        signature = sign_round(chain, round)
        assert verify_round(chain.chain, round, signature) == hashlib.sha256(signature).digest()
    # Deterministic: the same seed makes the same key and signatures in every run.
    assert TestChain(genesis_time=0).chain == chain.chain
    assert sign_round(TestChain(genesis_time=0), 7) == sign_round(chain, 7)
    assert TestChain(genesis_time=0, seed=b"another").chain.public_key != chain.chain.public_key


@pytest.mark.parametrize("size", [0, 47, 49, 96])
def test_a_signature_of_the_wrong_size_is_rejected(size: int) -> None:
    with pytest.raises(BeaconError, match=f"round 1000: a signature is 48 bytes .*got {size}"):
        verify_round(QUICKNET, 1000, (ROUND_1000 * 2)[:size])


def test_a_point_outside_the_subgroup_is_rejected() -> None:
    assert not G1Point.from_compressed_bytes_unchecked(OFF_SUBGROUP).is_in_subgroup()
    with pytest.raises(BeaconError, match="not a point of the G1 subgroup"):
        verify_round(QUICKNET, 1000, OFF_SUBGROUP)


@pytest.mark.parametrize(
    "encoding",
    [
        G1_IDENTITY,
        b"\xff" * 48,  # the identity flag with junk after it
        bytes([0xE0]) + bytes(47),  # the identity with the sign flag
        bytes(48),  # no compression flag
        bytes([0x80]) + bytes(46) + b"\x02",  # x = 2 is not on the curve
        b"\x9f" + b"\xff" * 47,  # x ≥ p
        bytes([ROUND_1000[0] & 0x7F]) + ROUND_1000[1:],  # the same x, not flagged compressed
        bytes([ROUND_1000[0] ^ 0x20]) + ROUND_1000[1:],  # the other y
    ],
)
def test_invalid_or_non_canonical_encodings_are_rejected(encoding: bytes) -> None:
    with pytest.raises(BeaconError, match="round 1000: the signature"):
        verify_round(QUICKNET, 1000, encoding)


# -- chains ----------------------------------------------------------------------------


def chain_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "chain_hash": QUICKNET.chain_hash,
        "public_key": QUICKNET.public_key,
        "period": 3,
        "genesis_time": G,
        "scheme": SCHEME,
    }
    return {**fields, **changes}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"chain_hash": "52DB" + QUICKNET.chain_hash[4:]}, "a chain hash is 64 lowercase hex"),
        ({"chain_hash": QUICKNET.chain_hash[:62]}, "a chain hash is 64 lowercase hex"),
        ({"public_key": QUICKNET.public_key[:95]}, "a chain public key is 96 bytes"),
        ({"public_key": QUICKNET.public_key.hex()}, "a chain public key is bytes"),
        ({"public_key": bytes([0x80]) + bytes(95)}, "not a G2 point of the group"),
        ({"public_key": G2_IDENTITY}, "the identity or not canonically encoded"),
        ({"period": 0}, "a chain period is a whole number of seconds ≥ 1"),
        ({"period": True}, "a chain period is a whole number of seconds ≥ 1"),
        ({"period": 3.0}, "a chain period is a whole number of seconds ≥ 1"),
        ({"genesis_time": -1}, "a chain genesis time is Unix seconds ≥ 0"),
        ({"scheme": "pedersen-bls-chained"}, "unsupported beacon scheme 'pedersen-bls-chained'"),
        ({"scheme": "bls-unchained-on-g1"}, "unsupported beacon scheme"),
    ],
)
def test_a_malformed_chain_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(BeaconError, match=message):
        Chain(**chain_fields(**changes))


def test_chain_json_round_trip() -> None:
    assert QUICKNET.to_json() == {
        "chain_hash": QUICKNET.chain_hash,
        "public_key": QUICKNET.public_key.hex(),
        "period": 3,
        "genesis_time": G,
        "scheme": SCHEME,
    }
    assert Chain.from_json(QUICKNET.to_json()) == QUICKNET
    assert Chain.from_json(json.loads(json.dumps(QUICKNET.to_json()))) == QUICKNET


def test_chain_from_drand_info_ignores_drand_only_fields_and_accepts_both_names() -> None:
    info = dict(RECORDED["info"])
    assert Chain.from_json({**info, "genesis_seed": "ab" * 32, "beacon_id": "quicknet"}) == QUICKNET
    both = {**info, "chain_hash": info["hash"], "scheme": info["schemeID"]}
    assert Chain.from_json(both) == QUICKNET


@pytest.mark.parametrize(
    ("info", "message"),
    [
        ([], "chain info is a JSON object"),
        ({"public_key": "00"}, "chain info has no chain_hash or hash"),
        ({**RECORDED["info"], "schemeID": None}, "scheme: a string, got None"),
        (
            {key: value for key, value in RECORDED["info"].items() if key != "schemeID"},
            "chain info has no scheme or schemeID",
        ),
        (
            {**RECORDED["info"], "chain_hash": "00" * 32},
            "chain info: chain_hash and hash differ",
        ),
        (
            {**RECORDED["info"], "public_key": RECORDED["info"]["public_key"].upper()},
            "public_key: 192 lowercase hex digits",
        ),
        ({**RECORDED["info"], "period": "3"}, "a chain period is a whole number"),
    ],
)
def test_chain_from_json_refuses_what_is_not_a_chain(info: Any, message: str) -> None:
    with pytest.raises(BeaconError, match=message):
        Chain.from_json(info)


# -- the bundle's beacon object --------------------------------------------------------


def beacon_1000() -> dict[str, Any]:
    return BeaconRound.verified(QUICKNET, 1000, ROUND_1000).to_json()


def test_beacon_round_json_is_the_bundles_beacon_object() -> None:
    assert beacon_1000() == {
        "chain_hash": "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
        "public_key": QUICKNET.public_key.hex(),
        "scheme": "bls-unchained-g1-rfc9380",
        "period": 3,
        "genesis_time": 1692803367,
        "round": 1000,
        "round_time": "2023-08-23T15:59:24Z",
        "signature": ROUND_1000.hex(),
        "randomness": "fe290beca10872ef2fb164d2aa4442de4566183ec51c56ff3cd603d930e54fdd",
    }
    assert QUICKNET.round_time(1000) == utc(2023, 8, 23, 15, 59, 24)


def test_beacon_round_from_json_round_trip() -> None:
    beacon = BeaconRound.from_json(beacon_1000())
    assert beacon == BeaconRound.verified(QUICKNET, 1000, ROUND_1000)
    assert beacon.chain == QUICKNET
    assert beacon.round_time == QUICKNET.round_time(1000)
    assert beacon.to_json() == beacon_1000()


def test_beacon_round_from_json_does_not_check_the_bls_signature() -> None:
    # Well-formed but forged: reading it succeeds, verifying it is a separate step.
    forged = sign_round(TestChain(genesis_time=0), 1000)
    value = {
        **beacon_1000(),
        "signature": forged.hex(),
        "randomness": hashlib.sha256(forged).hexdigest(),
    }
    beacon = BeaconRound.from_json(value)
    with pytest.raises(BeaconError, match="does not verify"):
        verify_round(beacon.chain, beacon.round, beacon.signature)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"round": "1000"}, "beacon.round: an integer, got '1000'"),
        ({"round": 1000.0}, "beacon.round: an integer, got 1000.0"),
        ({"round": True}, "beacon.round: an integer, got True"),
        ({"round": 0}, "a round is a whole number from 1"),
        ({"period": "3"}, "beacon.period: an integer"),
        ({"genesis_time": None}, "beacon.genesis_time: an integer"),
        ({"scheme": "pedersen-bls-chained"}, "unsupported beacon scheme"),
        ({"chain_hash": 5}, "beacon.chain_hash: a string"),
        (
            {"round_time": "2023-08-23T15:59:27Z"},
            "round 1000 of this chain is at 2023-08-23T15:59:24Z",
        ),
        ({"round_time": "2023-08-23T15:59:24.000Z"}, "beacon.round_time"),
        ({"round_time": "2023-08-23T15:59:24+00:00"}, "beacon.round_time"),
        ({"round": 1001}, "beacon.round_time: round 1001"),
        ({"signature": ROUND_1000.hex().upper()}, "beacon.signature: 96 lowercase hex digits"),
        ({"signature": ROUND_1000.hex()[:94]}, "beacon.signature: 96 lowercase hex digits"),
        ({"randomness": "00" * 32}, "round 1000: the randomness is not sha256"),
        ({"randomness": "fe29"}, "beacon.randomness: 64 lowercase hex digits"),
        ({"public_key": QUICKNET.public_key.hex()[:190]}, "beacon.public_key: 192 lowercase"),
    ],
)
def test_beacon_round_from_json_is_strict(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(BeaconError, match=message):
        BeaconRound.from_json({**beacon_1000(), **changes})


def test_beacon_round_from_json_wants_exactly_its_fields() -> None:
    with pytest.raises(BeaconError, match=r"missing fields \['round_time'\], unknown fields \[\]"):
        BeaconRound.from_json({k: v for k, v in beacon_1000().items() if k != "round_time"})
    with pytest.raises(BeaconError, match=r"missing fields \[\], unknown fields \['previous'\]"):
        BeaconRound.from_json({**beacon_1000(), "previous": None})
    with pytest.raises(BeaconError, match="beacon: not a JSON object"):
        BeaconRound.from_json([beacon_1000()])


def test_a_beacon_round_is_consistent_by_construction() -> None:
    with pytest.raises(BeaconError, match="the randomness is not sha256"):
        BeaconRound(QUICKNET, 1000, ROUND_1000, bytes(32))
    with pytest.raises(BeaconError, match="signature is 48 bytes"):
        BeaconRound(QUICKNET, 1000, ROUND_1000[:47], hashlib.sha256(ROUND_1000[:47]).digest())
    with pytest.raises(BeaconError, match="does not verify"):
        BeaconRound.verified(QUICKNET, 1001, ROUND_1000)
