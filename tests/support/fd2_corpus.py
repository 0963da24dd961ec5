"""``fairdraw/2`` test vectors and a tamper corpus, generated deterministically.

Every input is fixed (the Ed25519 key's seed, the test chain's key, the draw seed, the
salt, ballot nonces and ticket codes; quicknet rounds are the real ones recorded in
``tests/data/quicknet_rounds.json``), so every run builds the same bytes.

- :func:`vectors` builds the valid draws: a giveaway bound to a real quicknet round, the
  same giveaway without a beacon, a raffle and a lottery bound to a test chain, an empty
  ledger. Each is a complete bundle with its log: a few leaves before and after the
  draw's own, a signed tree head, and the draw leaf's inclusion path.
- :func:`cases` derives the corpus from them: the valid bundles (and a ``fairdraw/1``
  one), then every field of a bundle removed, retyped and changed, non-canonical bytes,
  broken entries files, forgeries that are consistent except for one thing. Each case
  says whether it verifies and, if not, which check fails first.
- :func:`write_corpus` writes the cases as files, for verifiers in other languages.
- :func:`vectors_markdown` is the "Test vectors" section of ``docs/fairness-v2.md``.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fairdraw.domain import fairness, proof, transparency
from fairdraw.domain.beacon import QUICKNET, Chain, bound_round, iso_seconds
from fairdraw.domain.fairness import Outcome
from fairdraw.domain.moments import iso
from fairdraw.domain.signing import SigningKey
from fairdraw.domain.verification import VerifyReport, verify_bundle_bytes
from tests.support.drand_relay import TestChain, quicknet_rounds, sign_round

SEED = bytes(range(32))
SALT = bytes(32)
SIGNING_SEED = bytes(range(32, 64))
FORGER_SIGNING_SEED = bytes(range(64, 96))
MARGIN_SECONDS = 5
TEST_CHAIN = TestChain(genesis_time=1764979200, period=3)
FORGER_CHAIN = TestChain(genesis_time=1764979200, period=3, seed=b"fairdraw forger chain")
# Real quicknet rounds, as recorded: the giveaway's, the empty ledger's, and two others.
GIVEAWAY_ROUND = 12040883
EMPTY_ROUND = 1000000
EARLY_ROUND = 5358915
OTHER_ROUND = 657413


@dataclass(frozen=True)
class Case:
    """One verification: the bundle's and entries file's bytes, the chains the verifier
    pins (``Chain.to_json()`` objects, the complete list), and what it must find."""

    name: str
    bundle: bytes
    entries: bytes
    chains: list[dict[str, Any]]
    expect_ok: bool
    expect_first_failure: str | None


def verify_case(case: Case) -> VerifyReport:
    """What :func:`verify_bundle_bytes` says about ``case``."""
    chains = [Chain.from_json(chain) for chain in case.chains]
    return verify_bundle_bytes(case.bundle, case.entries, chains)


# -- building a draw -----------------------------------------------------------------------------


def signing_key(seed: bytes = SIGNING_SEED) -> SigningKey:
    """The instance key of the vectors (or a forger's), from a fixed 32-byte seed."""
    return SigningKey(Ed25519PrivateKey.from_private_bytes(seed))


@dataclass(frozen=True)
class Entry:
    """One ledger entry: its ref and, for giveaways and lotteries, its opening; for a
    raffle, the ticket's verification code."""

    ref: str
    opening: dict[str, str] | None = None
    code: bytes | None = None


def identity_entry(identity: str, nonce: bytes) -> Entry:
    opening = {"identity": identity, "nonce": nonce.hex()}
    return Entry(fairness.entry_ref_v2(identity, nonce), opening)


def ticket_entry(ticket: int, code: bytes) -> Entry:
    return Entry(fairness.raffle_ref_v2(ticket, fairness.code_commitment(code)), None, code)


@dataclass(frozen=True)
class Beacon:
    """The chain a draw binds and how its rounds are signed (``sign(round)``)."""

    chain: Chain
    sign: Callable[[int], bytes]


def quicknet_signature(round: int) -> bytes:
    return quicknet_rounds()[round]


QUICKNET_BEACON = Beacon(QUICKNET, quicknet_signature)
TEST_BEACON = Beacon(TEST_CHAIN.chain, functools.partial(sign_round, TEST_CHAIN))


@dataclass(frozen=True)
class DrawSpec:
    """Everything a draw's bundle is made from. ``round``/``signature``/``randomness``
    default to the bound round, the chain's signature of it and its hash; forgeries
    set them."""

    draw_id: str
    kind: str
    title: str
    prizes: tuple[tuple[str, int], ...]
    entries: tuple[Entry, ...]
    opened_ms: int
    sealed_ms: int
    deadline: str | None
    beacon: Beacon | None
    ticket_count: int | None = None
    signer: bytes = SIGNING_SEED
    round: int | None = None
    signature: bytes | None = None
    randomness: bytes | None = None


@dataclass(frozen=True)
class Vector:
    """A built draw with every intermediate value."""

    name: str
    spec: DrawSpec
    refs: list[str]
    root: bytes
    round: int | None
    signature: bytes | None
    randomness: bytes | None
    stream_key: bytes
    outcome: Outcome
    bundle: dict[str, Any]
    log_entries: list[dict[str, Any]]
    leaf_hashes: list[bytes]
    leaf_index: int
    receipt: dict[str, Any] = field(default_factory=dict)

    @property
    def bundle_bytes(self) -> bytes:
        return proof.canonical_json(self.bundle)

    @property
    def entries(self) -> bytes:
        return proof.entries_file(self.refs).encode()

    @property
    def chains(self) -> list[dict[str, Any]]:
        """What a verifier pins for this draw: quicknet, and the test chain if bound."""
        pinned = [QUICKNET.to_json()]
        if self.spec.beacon is not None and self.spec.beacon.chain != QUICKNET:
            pinned.append(self.spec.beacon.chain.to_json())
        return pinned

    def case(self, name: str | None = None) -> Case:
        return Case(name or self.name, self.bundle_bytes, self.entries, self.chains, True, None)


def _beacon_object(chain: Chain, round: int, signature: bytes, randomness: bytes) -> dict[str, Any]:
    return {
        **chain.to_json(),
        "round": round,
        "round_time": iso_seconds(chain.round_time(round)),
        "signature": signature.hex(),
        "randomness": randomness.hex(),
    }


def build(name: str, spec: DrawSpec) -> Vector:
    """Seal, bind the beacon, draw, bundle and log ``spec`` as fairdraw does."""
    refs = [entry.ref for entry in spec.entries]
    root = fairness.merkle_root(refs)
    beacon_json: dict[str, Any] | None = None
    round = signature = randomness = None
    if spec.beacon is not None:
        chain = spec.beacon.chain
        round = spec.round or bound_round(chain, spec.sealed_ms, MARGIN_SECONDS)
        signature = spec.signature or spec.beacon.sign(round)
        randomness = spec.randomness or hashlib.sha256(signature).digest()
        beacon_json = _beacon_object(chain, round, signature, randomness)
    key = fairness.stream_key_v2(root, len(refs), SEED, randomness)
    slots = len(fairness.prize_slots(spec.prizes))
    outcome = fairness.select_winners(root, SEED, len(refs), spec.prizes, slots, key=key)
    signer = signing_key(spec.signer)
    core = proof.build_bundle_v2(
        draw={
            "id": spec.draw_id,
            "kind": spec.kind,
            "title": spec.title,
            "prizes": [{"name": n, "quantity": q} for n, q in spec.prizes],
            "opened_at": iso(spec.opened_ms),
            "deadline": spec.deadline,
            "ticket_count": spec.ticket_count,
        },
        root=root,
        entry_count=len(refs),
        sealed_at=iso(spec.sealed_ms),
        commitment=fairness.commitment(SEED),
        seed=SEED,
        beacon=beacon_json,
        outcome=outcome,
        picks={i: (e.ref, e.opening) for i, e in enumerate(spec.entries)},
        signer=signer.signer(),
    )
    drawn_ms = spec.sealed_ms + 2000
    if round is not None and spec.beacon is not None:
        drawn_ms = max(drawn_ms, spec.beacon.chain.round_time(round) * 1000 + 1500)
    log_entries = _log_entries(spec, root, round, proof.bundle_hash(core), drawn_ms)
    leaf_hashes = [transparency.leaf_hash(entry) for entry in log_entries]
    leaf_index = 3
    tree_head = signer.sign_statement(
        {
            "type": "tree-head",
            "tree_size": len(leaf_hashes),
            "root_hash": transparency.tree_hash(leaf_hashes).hex(),
            "timestamp": drawn_ms + 1000,
            "key_id": signer.key_id,
        }
    )
    path = transparency.inclusion_path(leaf_hashes, leaf_index, len(leaf_hashes))
    bundle = {
        **core,
        "log": {
            "leaf_index": leaf_index,
            "entry": log_entries[leaf_index],
            "path": [p.hex() for p in path],
            "tree_head": tree_head,
        },
    }
    receipt = {}
    if refs:
        receipt = signer.sign_statement(
            {
                "type": "receipt",
                "algorithm": fairness.ALGORITHM_V2,
                "draw_id": spec.draw_id,
                "index": 0,
                "ref": refs[0],
                "entered_at": iso(spec.opened_ms + 60_000),
                "key_id": signer.key_id,
            }
        )
    return Vector(
        name=name,
        spec=spec,
        refs=refs,
        root=root,
        round=round,
        signature=signature,
        randomness=randomness,
        stream_key=key,
        outcome=outcome,
        bundle=bundle,
        log_entries=log_entries,
        leaf_hashes=leaf_hashes,
        leaf_index=leaf_index,
        receipt=receipt,
    )


def _log_entries(
    spec: DrawSpec, root: bytes, round: int | None, bundle_hash: str, drawn_ms: int
) -> list[dict[str, Any]]:
    """The log around the draw: another draw's commit, this draw's commit, seal and draw
    leaves (index 3), and a later draw's cancel."""
    bound = None
    if spec.beacon is not None:
        bound = {"chain_hash": spec.beacon.chain.chain_hash, "round": round}
    return [
        {
            "type": "commit",
            "draw_id": "d_before",
            "kind": "raffle",
            "time": iso(spec.opened_ms - 60_000),
            "commitment": fairness.commitment(b"another draw's seed"),
        },
        {
            "type": "commit",
            "draw_id": spec.draw_id,
            "kind": spec.kind,
            "time": iso(spec.opened_ms),
            "commitment": fairness.commitment(SEED),
        },
        {
            "type": "seal",
            "draw_id": spec.draw_id,
            "time": iso(spec.sealed_ms),
            "root": root.hex(),
            "entry_count": len(spec.entries),
            "sealed_at": iso(spec.sealed_ms),
            "beacon": bound,
        },
        {
            "type": "draw",
            "draw_id": spec.draw_id,
            "time": iso(drawn_ms),
            "bundle_hash": bundle_hash,
        },
        {
            "type": "cancel",
            "draw_id": "d_after",
            "time": iso(drawn_ms + 500),
            "commitment": None,
            "seed": None,
        },
    ]


# -- the vectors -----------------------------------------------------------------------------------


def _sealed_before(chain: Chain, round: int) -> int:
    """A seal time (ms) whose bound round is ``round``: 7 s before it is published."""
    return (chain.round_time(round) - 7) * 1000 + 123


GIVEAWAY_IDENTITIES = tuple(f"gh:{i}" for i in range(1, 11))
LOTTERY_BALLOTS = ("acct:alice", "acct:bob", "acct:alice", "acct:carol", "acct:bob", "acct:alice")
RAFFLE_TICKETS = (7, 3, 10, 1, 9, 4)


def ballot_nonce(i: int) -> bytes:
    """Ballot ``i``'s nonce in the lottery vector (fairdraw draws these from the CSPRNG)."""
    return hashlib.sha256(b"ballot %d" % i).digest()[: fairness.NONCE_BYTES]


def ticket_code(ticket: int) -> bytes:
    """Ticket ``ticket``'s verification code in the raffle vector."""
    return bytes([ticket]) * 16


def giveaway_spec(beacon: Beacon | None = QUICKNET_BEACON) -> DrawSpec:
    sealed_ms = _sealed_before(QUICKNET, GIVEAWAY_ROUND)
    return DrawSpec(
        draw_id="d_v2_giveaway",
        kind="giveaway",
        title="Zoë's giveaway",
        prizes=(("Laptop", 1), ("Sticker", 2)),
        entries=tuple(
            identity_entry(who, fairness.entry_nonce(SALT, who)) for who in GIVEAWAY_IDENTITIES
        ),
        opened_ms=sealed_ms - 3_600_000,
        sealed_ms=sealed_ms,
        deadline=iso(sealed_ms - 123),
        beacon=beacon,
    )


def raffle_spec() -> DrawSpec:
    sealed_ms = _sealed_before(TEST_CHAIN.chain, 10_519_000)
    return DrawSpec(
        draw_id="d_v2_raffle",
        kind="raffle",
        title="Raffle",
        prizes=(("Hamper", 1), ("Voucher", 2)),
        entries=tuple(ticket_entry(t, ticket_code(t)) for t in RAFFLE_TICKETS),
        opened_ms=sealed_ms - 86_400_000,
        sealed_ms=sealed_ms,
        deadline=None,
        beacon=TEST_BEACON,
        ticket_count=10,
    )


def lottery_spec() -> DrawSpec:
    sealed_ms = _sealed_before(TEST_CHAIN.chain, 10_520_000)
    return DrawSpec(
        draw_id="d_v2_lottery",
        kind="lottery",
        title="Daily lottery, 2026-12-05",
        prizes=(("Daily prize", 1),),
        entries=tuple(
            identity_entry(who, ballot_nonce(i)) for i, who in enumerate(LOTTERY_BALLOTS)
        ),
        opened_ms=sealed_ms - 86_400_000,
        sealed_ms=sealed_ms,
        deadline=iso(sealed_ms - 123),
        beacon=TEST_BEACON,
    )


def empty_spec() -> DrawSpec:
    sealed_ms = _sealed_before(QUICKNET, EMPTY_ROUND)
    return DrawSpec(
        draw_id="d_v2_empty",
        kind="giveaway",
        title="Nobody came",
        prizes=(("Mug", 2),),
        entries=(),
        opened_ms=sealed_ms - 600_000,
        sealed_ms=sealed_ms,
        deadline=None,
        beacon=QUICKNET_BEACON,
    )


@functools.cache
def vectors() -> dict[str, Vector]:
    """The valid ``fairdraw/2`` draws, by name."""
    specs = {
        "giveaway-quicknet": giveaway_spec(),
        "giveaway-no-beacon": giveaway_spec(beacon=None),
        "raffle-test-chain": raffle_spec(),
        "lottery-test-chain": lottery_spec(),
        "empty-quicknet": empty_spec(),
    }
    return {name: build(name, spec) for name, spec in specs.items()}


V1_REFS = [fairness.entry_ref(SALT, f"gh:{i}") for i in range(1, 11)]


def v1_bundle() -> dict[str, Any]:
    """The ``fairdraw/1`` test vector of ``docs/fairness.md``."""
    root = fairness.merkle_root(V1_REFS)
    prizes = [("Laptop", 1), ("Sticker", 2)]
    outcome = fairness.select_winners(root, SEED, len(V1_REFS), prizes, 2)
    return proof.build_bundle(
        draw={
            "id": "d_vector",
            "kind": "giveaway",
            "title": "Vector draw",
            "prizes": [{"name": n, "quantity": q} for n, q in prizes],
            "alternates": 2,
            "one_prize_per_entrant": False,
        },
        root=root,
        entry_count=len(V1_REFS),
        sealed_at="2026-01-02T03:04:05Z",
        commitment=fairness.commitment(SEED),
        seed=SEED,
        outcome=outcome,
        refs_of_picks=dict(enumerate(V1_REFS)),
        alternates=2,
    )


# -- the corpus ------------------------------------------------------------------------------------


@functools.cache
def _all_cases() -> tuple[Case, ...]:
    built = vectors()
    found: list[Case] = [vector.case() for vector in built.values()]
    found += list(_valid_variants(built))
    giveaway = built["giveaway-quicknet"]
    found += list(_field_cases(giveaway))
    found += list(_byte_cases(giveaway))
    found += list(_entries_cases(giveaway))
    found += list(_forgeries(built))
    found += list(_kind_cases(built))
    found += list(_v1_cases())
    names = [case.name for case in found]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise AssertionError(f"case names repeat: {sorted(duplicates)}")
    return tuple(found)


def cases() -> list[Case]:
    """Every case of the corpus: valid ones first, then the tampered ones."""
    return list(_all_cases())


def write_corpus(directory: Path | str) -> list[Path]:
    """Write each case to ``directory/<name>/``: ``bundle.json``, ``entries.txt``,
    ``chains.json`` and ``expected.json`` (``{"ok", "first_failure"}``). Returns the
    case directories, in order."""
    written = []
    for case in cases():
        where = Path(directory) / case.name
        where.mkdir(parents=True, exist_ok=True)
        (where / "bundle.json").write_bytes(case.bundle)
        (where / "entries.txt").write_bytes(case.entries)
        (where / "chains.json").write_text(json.dumps(case.chains, indent=2) + "\n")
        expected = {"ok": case.expect_ok, "first_failure": case.expect_first_failure}
        (where / "expected.json").write_text(json.dumps(expected) + "\n")
        written.append(where)
    return written


def _tampered(
    name: str,
    base: Vector,
    failure: str,
    *,
    bundle: Any = None,
    bundle_bytes: bytes | None = None,
    entries: bytes | None = None,
    chains: list[dict[str, Any]] | None = None,
) -> Case:
    data = bundle_bytes if bundle_bytes is not None else base.bundle_bytes
    if bundle is not None:
        data = proof.canonical_json(bundle)
    return Case(
        f"{base.name}.{name}",
        data,
        base.entries if entries is None else entries,
        base.chains if chains is None else chains,
        False,
        failure,
    )


def _valid_variants(built: dict[str, Vector]) -> Iterator[Case]:
    giveaway = built["giveaway-quicknet"]
    yield Case(
        "giveaway-quicknet.trailing-lf",
        giveaway.bundle_bytes + b"\n",
        giveaway.entries,
        giveaway.chains,
        True,
        None,
    )
    raffle = built["raffle-test-chain"]
    yield Case(
        "raffle-test-chain.only-its-chain-pinned",
        raffle.bundle_bytes,
        raffle.entries,
        [TEST_CHAIN.chain.to_json()],
        True,
        None,
    )
    v1 = v1_bundle()
    v1_entries = proof.entries_file(V1_REFS).encode()
    yield Case("v1-vector", proof.canonical_json(v1), v1_entries, [QUICKNET.to_json()], True, None)
    yield Case(
        "v1-vector.pretty-printed",
        json.dumps(v1, indent=2).encode(),
        v1_entries,
        [QUICKNET.to_json()],
        True,
        None,
    )
    yield Case(
        "v1-vector.no-final-lf",
        proof.canonical_json(v1),
        v1_entries.rstrip(b"\n"),
        [QUICKNET.to_json()],
        True,
        None,
    )


# Every field of a bundle: removed (format), given another JSON type (format), and given
# another value of its type (the check that catches it). Paths use "*" for list indexes.
_CHANGED_FIELD_FAILS = {
    "algorithm": "format",
    "draw.id": "log",
    "draw.kind": "log",
    "draw.title": "log",
    "draw.prizes.*.name": "slots",
    "draw.prizes.*.quantity": "slots",
    "draw.alternates": "slots",
    "draw.one_prize_per_entrant": "format",
    "draw.opened_at": "log",
    "draw.deadline": "log",
    "draw.ticket_count": "format",
    "seal.root": "merkle_root",
    "seal.entry_count": "entry_count",
    "seal.sealed_at": "log",
    "seal.slots.*": "slots",
    "commitment": "commitment",
    "seed": "commitment",
    "beacon.chain_hash": "beacon",
    "beacon.public_key": "beacon",
    "beacon.scheme": "beacon",
    "beacon.period": "beacon",
    "beacon.genesis_time": "beacon",
    "beacon.round": "beacon",
    "beacon.round_time": "beacon",
    "beacon.signature": "beacon",
    "beacon.randomness": "beacon",
    "winners.*.slot": "winners",
    "winners.*.prize": "winners",
    "winners.*.index": "winners",
    "winners.*.ref": "openings",
    "winners.*.opening.identity": "openings",
    "winners.*.opening.nonce": "openings",
    "alternates.*.index": "alternates",
    "alternates.*.ref": "openings",
    "alternates.*.opening.identity": "openings",
    "alternates.*.opening.nonce": "openings",
    "unawarded": "unawarded",
    "signer.algorithm": "format",
    "signer.public_key": "log",
    "signer.key_id": "log",
    "log.leaf_index": "log",
    "log.entry.type": "log",
    "log.entry.draw_id": "log",
    "log.entry.time": "log",
    "log.entry.bundle_hash": "log",
    "log.path.*": "log",
    "log.tree_head.statement.type": "log",
    "log.tree_head.statement.tree_size": "log",
    "log.tree_head.statement.root_hash": "log",
    "log.tree_head.statement.timestamp": "log",
    "log.tree_head.statement.key_id": "log",
    "log.tree_head.signature": "log",
}
# Another value of the same type, by path; anything else by its type (_other_value).
_CHANGED_VALUES: dict[str, Any] = {
    "algorithm": "fairdraw/3",
    "draw.kind": "lottery",
    "draw.one_prize_per_entrant": True,
    "draw.ticket_count": 10,
    "draw.deadline": "2024-10-14T17:00:00.000Z",
    "beacon.scheme": "bls-unchained-on-g1",
    "unawarded": ["Laptop"],
    "signer.algorithm": "ed448",
    "log.entry.type": "seal",
    "log.tree_head.statement.type": "entry-proof",
}


def _walk(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every member path of every object in ``value``, and every list item's path, in
    document order (parents before children)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for at, item in enumerate(value):
            if not isinstance(item, dict | list):
                yield (*path, at)
            yield from _walk(item, (*path, at))


def _pattern(path: Sequence[str | int]) -> str:
    return ".".join("*" if isinstance(part, int) else part for part in path)


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path)


def _get(document: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        document = document[part]
    return document


def _set(document: Any, path: Sequence[str | int], value: Any) -> None:
    _get(document, path[:-1])[path[-1]] = value


def _other_type(value: Any) -> Any:
    """A JSON value of another type: booleans where counts go (a classic slip), 0 where
    a boolean goes, a number where a string or null goes."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return True
    if isinstance(value, str) or value is None:
        return 7
    if isinstance(value, list):
        return {}
    return []


def _other_value(value: Any) -> Any:
    """Another value of the same type and shape: hex with its last digit changed, a time
    a millisecond or second later, a count plus one, a name with a letter added."""
    if isinstance(value, int):
        return value + 1
    if value.endswith("Z") and "T" in value:
        if value[-5] == ".":
            return value[:-5] + f".{(int(value[-4:-1]) + 1) % 1000:03d}Z"
        return value[:-3] + f"{(int(value[-3:-1]) + 3) % 60:02d}Z"
    if value and all(c in "0123456789abcdef" for c in value[-8:]):
        return value[:-1] + ("0" if value[-1] != "0" else "1")
    return value + "x"


def _field_cases(vector: Vector) -> Iterator[Case]:
    for path in _walk(vector.bundle):
        pattern, dotted = _pattern(path), _dotted(path)
        value = _get(vector.bundle, path)
        # The log leaf is any object to the format check; the log check wants a draw leaf.
        malformed = "log" if path[:2] == ("log", "entry") and len(path) > 2 else "format"
        if isinstance(path[-1], str):
            removed = copy.deepcopy(vector.bundle)
            del _get(removed, path[:-1])[path[-1]]
            yield _tampered(f"removed.{dotted}", vector, malformed, bundle=removed)
        retyped = copy.deepcopy(vector.bundle)
        _set(retyped, path, _other_type(value))
        yield _tampered(f"retyped.{dotted}", vector, malformed, bundle=retyped)
        if pattern in _CHANGED_FIELD_FAILS:
            changed = copy.deepcopy(vector.bundle)
            new = _CHANGED_VALUES[pattern] if pattern in _CHANGED_VALUES else _other_value(value)
            _set(changed, path, new)
            failure = _CHANGED_FIELD_FAILS[pattern]
            yield _tampered(f"changed.{dotted}", vector, failure, bundle=changed)
    for name in ("winners", "alternates", "draw.prizes", "seal.slots", "log.path"):
        where = tuple(name.split("."))
        shorter = copy.deepcopy(vector.bundle)
        _get(shorter, where).pop()
        failure = {"draw.prizes": "slots", "seal.slots": "slots", "log.path": "log"}.get(name, name)
        yield _tampered(f"dropped-last.{name}", vector, failure, bundle=shorter)
        longer = copy.deepcopy(vector.bundle)
        _get(longer, where).append(copy.deepcopy(_get(longer, where)[0]))
        yield _tampered(f"repeated-first.{name}", vector, failure, bundle=longer)
    extra = copy.deepcopy(vector.bundle)
    extra["note"] = "added"
    yield _tampered("added-field.top", vector, "format", bundle=extra)
    extra = copy.deepcopy(vector.bundle)
    extra["draw"]["rules"] = "none"
    yield _tampered("added-field.draw", vector, "format", bundle=extra)


def _byte_cases(vector: Vector) -> Iterator[Case]:
    """The bundle's bytes made non-canonical, or not JSON, or not UTF-8."""
    data = vector.bundle_bytes
    title = json.dumps(vector.spec.title, ensure_ascii=False).encode()
    variants: dict[str, bytes] = {
        "pretty-printed": json.dumps(vector.bundle, indent=1, sort_keys=True).encode(),
        "space-after-colon": data.replace(b'":', b'": ', 1),
        "space-after-comma": data.replace(b",", b", ", 1),
        "leading-space": b" " + data,
        "trailing-space": data + b" ",
        "two-final-lfs": data + b"\n\n",
        "final-crlf": data + b"\r\n",
        "bom": b"\xef\xbb\xbf" + data,
        "keys-unsorted": json.dumps(
            dict(reversed(list(vector.bundle.items()))), separators=(",", ":"), ensure_ascii=False
        ).encode(),
        "duplicate-key": data[:-1] + b',"seed":"' + SEED.hex().encode() + b'"}',
        "escaped-ascii": data.replace(b'"Laptop"', b'"\\u004captop"'),
        "escaped-slash": data.replace(b"fairdraw/2", b"fairdraw\\/2", 1),
        "escaped-non-ascii": data.replace(title, json.dumps(vector.spec.title).encode()),
        "lone-surrogate": data.replace(title, b'"\\ud800"'),
        "float-count": data.replace(b'"entry_count":10', b'"entry_count":10.0'),
        "exponent-count": data.replace(b'"entry_count":10', b'"entry_count":1e1'),
        "negative-zero": data.replace(b'"leaf_index":3', b'"leaf_index":-0', 1),
        "nan": data.replace(b'"entry_count":10', b'"entry_count":NaN'),
        "leading-zero": data.replace(b'"entry_count":10', b'"entry_count":010'),
        "invalid-utf8": data.replace("ë".encode(), b"\xc3\x28"),
        "overlong-utf8": data.replace(b"Zo", b"Z\xc1\xaf"),
        "truncated": data[:-1],
        "not-an-object": b"[]",
        "empty": b"",
    }
    for name, variant in variants.items():
        if variant == data:
            raise AssertionError(f"byte variant {name} changed nothing")
        yield _tampered(f"bytes.{name}", vector, "format", bundle_bytes=variant)


def _entries_cases(vector: Vector) -> Iterator[Case]:
    """The giveaway's entries file broken, or changed in ways its bundle does not match."""
    data = vector.entries
    lines = data.split(b"\n")[:-1]
    refs = vector.refs
    other_ref = fairness.entry_ref_v2("gh:666", bytes(16)).encode()
    swapped = list(refs)
    swapped[2], swapped[5] = swapped[5], swapped[2]
    variants: dict[str, tuple[bytes, str]] = {
        "crlf": (data.replace(b"\n", b"\r\n"), "format"),
        "bom": (b"\xef\xbb\xbf" + data, "format"),
        "no-final-lf": (data[:-1], "format"),
        "invalid-utf8": (data.replace(b"\t", b"\t\xff", 1), "format"),
        "blank-line-at-end": (data + b"\n", "format"),
        "blank-line-inside": (b"\n".join([*lines[:3], b"", *lines[3:]]) + b"\n", "format"),
        "trailing-space": (data.replace(b"\n", b" \n", 1), "format"),
        "space-for-tab": (data.replace(b"\t", b" ", 1), "format"),
        "uppercase-ref": (data.replace(refs[0].encode(), refs[0].upper().encode()), "format"),
        "v1-ref": (data.replace(refs[0].encode(), refs[0][:32].encode()), "format"),
        "index-leading-zero": (data.replace(b"\n1\t", b"\n01\t"), "format"),
        "extra-column": (data.replace(b"\n", b"\tx\n", 1), "format"),
        "dropped-last": (b"".join(line + b"\n" for line in lines[:-1]), "entry_count"),
        "dropped-middle": (proof.entries_file(refs[:4] + refs[5:]).encode(), "entry_count"),
        "added": (data + f"{len(refs)}\t".encode() + other_ref + b"\n", "entry_count"),
        "reordered": (proof.entries_file(swapped).encode(), "merkle_root"),
        "ref-replaced": (data.replace(refs[4].encode(), other_ref), "merkle_root"),
    }
    for name, (variant, failure) in variants.items():
        yield _tampered(f"entries.{name}", vector, failure, entries=variant)


def _forgeries(built: dict[str, Vector]) -> Iterator[Case]:
    """Bundles consistent in everything but one thing, which one check must catch."""
    genuine = built["giveaway-quicknet"]
    spec = genuine.spec

    # Entries changed and everything derived again; only the log remembers.
    forged_entries = list(spec.entries)
    forged_entries[4] = identity_entry("gh:666", bytes(16))
    forged = build("forged", replace(spec, entries=tuple(forged_entries)))
    yield _tampered(
        "forgery.entry-replaced-root-rederived",
        genuine,
        "log",
        bundle={**forged.bundle, "log": genuine.bundle["log"]},
        entries=forged.entries,
    )
    dropped = build("forged", replace(spec, entries=spec.entries[:4] + spec.entries[5:]))
    yield _tampered(
        "forgery.entry-dropped-root-rederived",
        genuine,
        "log",
        bundle={**dropped.bundle, "log": genuine.bundle["log"]},
        entries=dropped.entries,
    )

    # Winner 0 relabelled with someone else's opening; then with their ref too.
    winner = genuine.outcome.winners[0].index
    someone = next(i for i in range(len(spec.entries)) if i != winner)
    relabelled = copy.deepcopy(genuine.bundle)
    relabelled["winners"][0]["opening"] = spec.entries[someone].opening
    yield _tampered("forgery.winner-relabelled", genuine, "openings", bundle=relabelled)
    relabelled["winners"][0]["ref"] = spec.entries[someone].ref
    yield _tampered("forgery.winner-relabelled-with-ref", genuine, "winners", bundle=relabelled)

    # The beacon: a round published before the seal, a seal moved after the round, a
    # signature of another round, randomness that is not the signature's hash.
    yield _rebuilt("forgery.round-before-seal", genuine, "beacon", round=EARLY_ROUND)
    round_ms = QUICKNET.round_time(GIVEAWAY_ROUND) * 1000
    late = build("late", replace(spec, sealed_ms=round_ms, round=GIVEAWAY_ROUND))
    yield _tampered("forgery.sealed-at-the-round", genuine, "beacon", bundle=late.bundle)
    yield _rebuilt(
        "forgery.signature-of-another-round",
        genuine,
        "beacon",
        signature=quicknet_signature(OTHER_ROUND),
    )
    yield _rebuilt(
        "forgery.randomness-not-from-signature",
        genuine,
        "beacon",
        randomness=hashlib.sha256(b"chosen randomness").digest(),
    )
    no_beacon = copy.deepcopy(genuine.bundle)
    no_beacon["beacon"] = None
    yield _tampered("forgery.beacon-removed", genuine, "winners", bundle=no_beacon)
    added = copy.deepcopy(built["giveaway-no-beacon"].bundle)
    added["beacon"] = genuine.bundle["beacon"]
    yield _tampered("forgery.beacon-added", built["giveaway-no-beacon"], "winners", bundle=added)

    # The chain: not pinned, pinned with another key, or claimed under a forger's key.
    raffle = built["raffle-test-chain"]
    yield _tampered("chain.not-pinned", raffle, "beacon", chains=[QUICKNET.to_json()])
    other_key = replace(TEST_CHAIN.chain, public_key=FORGER_CHAIN.chain.public_key)
    yield _tampered(
        "chain.pinned-with-another-key",
        raffle,
        "beacon",
        chains=[QUICKNET.to_json(), other_key.to_json()],
    )
    forger = Beacon(other_key, functools.partial(sign_round, FORGER_CHAIN))
    claimed = build("claimed", replace(raffle.spec, beacon=forger))
    yield _tampered("chain.forger-key-in-bundle", raffle, "beacon", bundle=claimed.bundle)
    signed_by_forger = build(
        "forger-signed", replace(raffle.spec, signature=sign_round(FORGER_CHAIN, 10_519_000))
    )
    yield _tampered("chain.signed-by-another-key", raffle, "beacon", bundle=signed_by_forger.bundle)

    # The log: a tree head signed by another key, or for another tree; the draw's leaf
    # swapped for its seal leaf; a bundle signed by another key whose tree head is not.
    yield from _log_forgeries(genuine)


def _rebuilt(name: str, genuine: Vector, failure: str, **changes: Any) -> Case:
    forged = build("forged", replace(genuine.spec, **changes))
    return _tampered(name, genuine, failure, bundle=forged.bundle)


def _log_forgeries(genuine: Vector) -> Iterator[Case]:
    forger = signing_key(FORGER_SIGNING_SEED)
    head = genuine.bundle["log"]["tree_head"]["statement"]
    resigned = copy.deepcopy(genuine.bundle)
    resigned["log"]["tree_head"] = forger.sign_statement(head)
    yield _tampered("log.tree-head-signed-by-another-key", genuine, "log", bundle=resigned)
    other_tree = copy.deepcopy(genuine.bundle)
    bigger = [*genuine.leaf_hashes, transparency.leaf_hash({"type": "extra"})]
    other_tree["log"]["tree_head"] = signing_key().sign_statement(
        {**head, "tree_size": len(bigger), "root_hash": transparency.tree_hash(bigger).hex()}
    )
    yield _tampered("log.tree-head-of-another-tree", genuine, "log", bundle=other_tree)
    seal_leaf = copy.deepcopy(genuine.bundle)
    seal_leaf["log"]["leaf_index"] = 2
    seal_leaf["log"]["entry"] = genuine.log_entries[2]
    seal_leaf["log"]["path"] = [
        p.hex() for p in transparency.inclusion_path(genuine.leaf_hashes, 2, 5)
    ]
    yield _tampered("log.seal-leaf-instead", genuine, "log", bundle=seal_leaf)
    other_signer = copy.deepcopy(genuine.bundle)
    other_signer["signer"] = forger.signer()
    yield _tampered("log.signer-replaced", genuine, "log", bundle=other_signer)


def _kind_cases(built: dict[str, Vector]) -> Iterator[Case]:
    """Rules of one kind of draw: raffle picks have no opening, other picks have one,
    raffle tickets are within the raffle and distinct."""
    raffle = built["raffle-test-chain"]
    opened = copy.deepcopy(raffle.bundle)
    opened["winners"][0]["opening"] = {"identity": "acct:alice", "nonce": "00" * 16}
    yield _tampered("raffle-pick-with-opening", raffle, "openings", bundle=opened)
    fewer = copy.deepcopy(raffle.bundle)
    fewer["draw"]["ticket_count"] = 9
    yield _tampered("ticket-count-below-a-ticket", raffle, "entry_count", bundle=fewer)
    fewer["draw"]["ticket_count"] = 5
    yield _tampered("ticket-count-below-the-claims", raffle, "entry_count", bundle=fewer)
    refs = list(raffle.refs)
    above = refs[1].replace("3:", "11:", 1)
    yield _tampered(
        "entries.ticket-above-count",
        raffle,
        "entry_count",
        entries=proof.entries_file([*refs[:1], above, *refs[2:]]).encode(),
    )
    repeated = refs[1].replace("3:", "7:", 1)
    yield _tampered(
        "entries.ticket-repeated",
        raffle,
        "entry_count",
        entries=proof.entries_file([*refs[:1], repeated, *refs[2:]]).encode(),
    )
    for name, bad in (("ticket-zero", "0:"), ("ticket-leading-zero", "03:")):
        ref = "0" + refs[1][: refs[1].index(":")] if bad == "03:" else "0"
        ref += refs[1][refs[1].index(":") :]
        yield _tampered(
            f"entries.{name}",
            raffle,
            "format",
            entries=proof.entries_file([*refs[:1], ref, *refs[2:]]).encode(),
        )
    yield _tampered(
        "entries.v1-ticket",
        raffle,
        "format",
        entries=proof.entries_file([refs[0].partition(":")[0], *refs[1:]]).encode(),
    )
    relabelled = copy.deepcopy(raffle.bundle)
    relabelled["winners"][0]["ref"] = raffle.refs[raffle.outcome.alternates[0]]
    yield _tampered("winner-ref-of-another-ticket", raffle, "winners", bundle=relabelled)

    giveaway = built["giveaway-no-beacon"]
    unopened = copy.deepcopy(giveaway.bundle)
    unopened["alternates"][1]["opening"] = None
    yield _tampered("pick-without-opening", giveaway, "openings", bundle=unopened)
    raffle_rules = copy.deepcopy(giveaway.bundle)
    raffle_rules["draw"]["kind"] = "raffle"
    yield _tampered("giveaway-called-raffle", giveaway, "format", bundle=raffle_rules)

    lottery = built["lottery-test-chain"]
    wrong_ballot = copy.deepcopy(lottery.bundle)
    picks = [("winners", w.index) for w in lottery.outcome.winners]
    picks += [("alternates", i) for i in lottery.outcome.alternates]
    for at, (where, index) in enumerate(picks):
        owner = LOTTERY_BALLOTS[index]
        others = [i for i, who in enumerate(LOTTERY_BALLOTS) if who == owner and i != index]
        if others:
            position = at if where == "winners" else at - len(lottery.outcome.winners)
            wrong_ballot[where][position]["opening"] = lottery.spec.entries[others[0]].opening
            break
    yield _tampered("opening-of-the-owners-other-ballot", lottery, "openings", bundle=wrong_ballot)

    empty = built["empty-quicknet"]
    one = fairness.entry_ref_v2("gh:1", bytes(16))
    yield _tampered("entries.one-line", empty, "entry_count", entries=f"0\t{one}\n".encode())
    awarded = copy.deepcopy(empty.bundle)
    awarded["unawarded"] = ["Mug"]
    yield _tampered("unawarded-shortened", empty, "unawarded", bundle=awarded)


def _v1_cases() -> Iterator[Case]:
    """``fairdraw/1`` read strictly: the entries file and the bundle as bytes."""
    bundle = v1_bundle()
    data = proof.canonical_json(bundle)
    entries = proof.entries_file(V1_REFS).encode()
    pinned = [QUICKNET.to_json()]

    def case(name: str, failure: str, **parts: bytes) -> Case:
        return Case(
            f"v1-vector.{name}",
            parts.get("bundle", data),
            parts.get("entries", entries),
            pinned,
            False,
            failure,
        )

    yield case("entries-crlf", "format", entries=entries.replace(b"\n", b"\r\n"))
    yield case("entries-invalid-utf8", "format", entries=entries.replace(b"\t", b"\t\xff", 1))
    yield case("bundle-invalid-utf8", "format", bundle=data.replace(b"Vector", b"V\xffctor"))
    yield case("bundle-bom", "format", bundle=b"\xef\xbb\xbf" + data)
    yield case("duplicate-key", "format", bundle=data[:-1] + b',"seed":"' + b"00" * 32 + b'"}')
    yield case("nan", "format", bundle=data.replace(b'"entry_count":10', b'"entry_count":NaN'))
    for name, where, value in (
        ("kind-unknown", ("draw", "kind"), "contest"),
        ("kind-number", ("draw", "kind"), 1),
        ("id-number", ("draw", "id"), 7),
        ("title-null", ("draw", "title"), None),
        ("sealed-at-number", ("seal", "sealed_at"), 1767323045),
        ("sealed-at-words", ("seal", "sealed_at"), "yesterday"),
        ("sealed-at-local-time", ("seal", "sealed_at"), "2026-01-02T03:04:05+01:00"),
        ("sealed-at-month-13", ("seal", "sealed_at"), "2026-13-02T03:04:05Z"),
        ("beacon-field", ("beacon",), None),
    ):
        changed = copy.deepcopy(bundle)
        _set(changed, where, value)
        yield case(name, "format", bundle=proof.canonical_json(changed))
    reseeded = copy.deepcopy(bundle)
    reseeded["seed"] = "ff" * 32
    yield case("seed-changed", "commitment", bundle=proof.canonical_json(reseeded))


# -- the documentation's vectors ----------------------------------------------------------------


def vectors_markdown() -> str:
    """The "Test vectors" section of ``docs/fairness-v2.md``, from the vectors."""
    built = vectors()
    giveaway = built["giveaway-quicknet"]
    signer = signing_key()
    lines = [
        "## Test vectors",
        "",
        "Generated by `tests/support/fd2_corpus.py` and asserted, text and all, by",
        "`tests/unit/test_corpus.py`. Inputs common to every vector:",
        "",
        "- seed = bytes `00 01 … 1f` (`bytes(range(32))`), so the commitment is",
        f"  `{fairness.commitment(SEED)}`",
        "- salt (giveaway nonces) = 32 zero bytes",
        "- the instance's Ed25519 key: RFC 8032 private key (seed) = bytes `20 21 … 3f`",
        f"  (`bytes(range(32, 64))`); public key `{signer.public_key.hex()}`,",
        f"  key id `{signer.key_id}`",
        f"- margin = {MARGIN_SECONDS} seconds",
        "",
        "### A giveaway bound to quicknet",
        "",
        f"Draw `{giveaway.spec.draw_id}`, title `{giveaway.spec.title}`, prizes 1 Laptop and",
        "2 Stickers (3 slots, 3 alternates). Entry `i` is the identity `gh:{i+1}` with its",
        'nonce `HMAC-SHA256(salt, label("fairdraw/2 nonce") ‖ identity)[0:16]`:',
        "",
        *_refs_table(giveaway),
        "",
        *_derived(giveaway),
        "",
        f"Round {GIVEAWAY_ROUND} is quicknet's own: its signature verifies under the pinned",
        "quicknet key.",
        "",
        "The receipt of entry 0 (its statement, canonical, then the signature):",
        "",
        "```",
        proof.canonical_json(giveaway.receipt["statement"]).decode(),
        giveaway.receipt["signature"],
        "```",
        "",
        *_log_section(giveaway),
        "",
        f"The canonical bundle is {len(giveaway.bundle_bytes)} bytes with SHA-256",
        f"`{hashlib.sha256(giveaway.bundle_bytes).hexdigest()}`; its core hashes to",
        f"`{proof.bundle_hash(giveaway.bundle)}`:",
        "",
        "```",
        giveaway.bundle_bytes.decode(),
        "```",
        "",
        "### The same giveaway without a beacon",
        "",
        "`beacon` is `null` and the stream key has no randomness:",
        "",
        *_derived(built["giveaway-no-beacon"]),
        "",
        "`fairdraw verify` prints `PASS (trusts its operator: no beacon)`.",
        "",
        "### A raffle bound to a test chain",
        "",
        *_test_chain_section(),
        "",
        "Ten tickets; six claims in this order, ticket `t` with the code of 16 bytes `t`",
        "(`bytes([t]) * 16`); no openings in the bundle:",
        "",
        *_raffle_table(built["raffle-test-chain"]),
        "",
        *_derived(built["raffle-test-chain"]),
        "",
        "### A lottery bound to the test chain",
        "",
        'Six ballots; ballot `i` has the nonce `sha256("ballot " ‖ decimal(i))[0:16]`:',
        "",
        *_refs_table(built["lottery-test-chain"]),
        "",
        *_derived(built["lottery-test-chain"]),
        "",
        "### The empty ledger",
        "",
        *_derived(built["empty-quicknet"]),
        "",
        "### The tamper corpus",
        "",
        "`cases()` in the same module derives, from these draws and the `fairdraw/1` vector",
        "of `docs/fairness.md`, one case per way a bundle can be wrong: every field of the",
        "giveaway's bundle removed, given another JSON type, and given another value of its",
        "type; non-canonical bytes (whitespace, key order, duplicate keys, escapes, floats,",
        "BOM, invalid UTF-8); broken entries files (CRLF, BOM, no final LF, invalid UTF-8,",
        "dropped, added and reordered entries); forgeries consistent in all but one thing",
        "(entries changed and the root derived again, a relabelled winner, a round before",
        "the seal, a signature of another round or another key, an unpinned chain, a tree",
        "head of another tree or key). Each case names the check that must fail first;",
        "`write_corpus(directory)` writes them as `bundle.json`, `entries.txt`,",
        "`chains.json` (the chains to pin) and `expected.json` for verifiers in other",
        "languages.",
        "",
    ]
    return "\n".join(lines)


def _refs_table(vector: Vector) -> list[str]:
    rows = ["| index | identity | nonce | ref |", "|---|---|---|---|"]
    for i, entry in enumerate(vector.spec.entries):
        assert entry.opening is not None
        identity, nonce = entry.opening["identity"], entry.opening["nonce"]
        rows.append(f"| {i} | `{identity}` | `{nonce}` | `{entry.ref}` |")
    return rows


def _raffle_table(vector: Vector) -> list[str]:
    rows = ["| index | ticket | code commitment | ref |", "|---|---|---|---|"]
    for i, (ticket, entry) in enumerate(zip(RAFFLE_TICKETS, vector.spec.entries, strict=True)):
        assert entry.code is not None
        rows.append(
            f"| {i} | {ticket} | `{fairness.code_commitment(entry.code)}` | `{entry.ref}` |"
        )
    return rows


def _derived(vector: Vector) -> list[str]:
    """The values every draw derives: root, beacon round, stream key, picks."""
    rows = ["| value | |", "|---|---|"]
    rows.append(f"| sealed_at | `{vector.bundle['seal']['sealed_at']}` |")
    rows.append(f"| entry_count | {len(vector.refs)} |")
    rows.append(f"| root | `{vector.root.hex()}` |")
    if vector.round is not None and vector.spec.beacon is not None:
        chain = vector.spec.beacon.chain
        name = "quicknet" if chain == QUICKNET else "test chain"
        rows.append(f"| bound round ({name}) | {vector.round} |")
        rows.append(f"| round_time | `{iso_seconds(chain.round_time(vector.round))}` |")
        assert vector.signature is not None
        assert vector.randomness is not None
        rows.append(f"| signature | `{vector.signature.hex()}` |")
        rows.append(f"| randomness | `{vector.randomness.hex()}` |")
    rows.append(f"| stream key | `{vector.stream_key.hex()}` |")
    for w in vector.outcome.winners:
        rows.append(f"| slot {w.slot} ({w.prize}) | entry {w.index} |")
    for at, index in enumerate(vector.outcome.alternates):
        rows.append(f"| alternate {at} | entry {index} |")
    if vector.outcome.unawarded:
        rows.append(f"| unawarded | {', '.join(vector.outcome.unawarded)} |")
    return rows


def _log_section(vector: Vector) -> list[str]:
    lines = [
        "The draw log around it: five leaves, the draw's own at index 3. Each leaf,",
        "canonical, and its leaf hash:",
        "",
        "```",
    ]
    for entry, leaf in zip(vector.log_entries, vector.leaf_hashes, strict=True):
        lines += [proof.canonical_json(entry).decode(), f"  -> {leaf.hex()}"]
    head = vector.bundle["log"]["tree_head"]
    lines += [
        "```",
        "",
        "Inclusion path of leaf 3 in the tree of 5 (leaf level first):",
        "",
        "```",
        *vector.bundle["log"]["path"],
        "```",
        "",
        "The signed tree head (statement, canonical, then the signature):",
        "",
        "```",
        proof.canonical_json(head["statement"]).decode(),
        head["signature"],
        "```",
    ]
    return lines


def _test_chain_section() -> list[str]:
    chain = TEST_CHAIN.chain
    return [
        "The test chain (`tests/support/drand_relay.py`: secret key",
        '`sha256("fairdraw test chain")` mod r) has',
        "",
        "| fact | |",
        "|---|---|",
        f"| `chain_hash` | `{chain.chain_hash}` |",
        f"| `public_key` | `{chain.public_key.hex()}` |",
        f"| `period` | {chain.period} seconds |",
        f"| `genesis_time` | {chain.genesis_time} |",
        "",
        "A verifier pins it as it pins quicknet (`--beacon-chain`).",
    ]


def by_name() -> Mapping[str, Case]:
    """The corpus, by case name."""
    return {case.name: case for case in cases()}
