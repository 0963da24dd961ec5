"""Proof bundles and offline verification of fairdraw/1 draws."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from fairdraw.domain import fairness
from fairdraw.domain.proof import (
    ProofFormatError,
    build_bundle,
    canonical_json,
    entries_file,
    parse_entries_file,
)
from fairdraw.domain.verification import Check, VerifyReport, verify_bundle

SEED = bytes(range(32))
SALT = bytes(32)
REFS = [fairness.entry_ref(SALT, f"gh:{i}") for i in range(1, 11)]
CHECK_NAMES = [
    "format",
    "entry_count",
    "merkle_root",
    "commitment",
    "slots",
    "winners",
    "alternates",
    "unawarded",
]


def vector_rules(**changes: Any) -> dict[str, Any]:
    rules: dict[str, Any] = {
        "id": "d_vector",
        "kind": "giveaway",
        "title": "Vector draw",
        "prizes": [{"name": "Laptop", "quantity": 1}, {"name": "Sticker", "quantity": 2}],
        "alternates": 2,
        "one_prize_per_entrant": False,
    }
    rules.update(changes)
    return rules


def make_bundle(refs: list[str], rules: dict[str, Any], owners: bool = False) -> dict[str, Any]:
    """What the drawing service does: seal, select, bundle."""
    root = fairness.merkle_root(refs)
    prizes = [(p["name"], p["quantity"]) for p in rules["prizes"]]
    outcome = fairness.select_winners(
        root, SEED, len(refs), prizes, rules["alternates"], owners=refs if owners else None
    )
    return build_bundle(
        draw=rules,
        root=root,
        entry_count=len(refs),
        sealed_at="2026-01-02T03:04:05Z",
        commitment=fairness.commitment(SEED),
        seed=SEED,
        outcome=outcome,
        refs_of_picks=dict(enumerate(refs)),
        alternates=rules["alternates"],
    )


VECTOR_BUNDLE: dict[str, Any] = {
    "algorithm": "fairdraw/1",
    "draw": vector_rules(),
    "seal": {
        "root": "c142141020b95da2164f6968276a53bb45960d2416905fea86d7e6414d9766e3",
        "entry_count": 10,
        "sealed_at": "2026-01-02T03:04:05Z",
        "slots": ["Laptop", "Sticker", "Sticker"],
    },
    "commitment": "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd",
    "seed": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    "winners": [
        {"slot": 0, "prize": "Laptop", "index": 8, "ref": "b5971849613e489e47509f86b67fcae1"},
        {"slot": 1, "prize": "Sticker", "index": 2, "ref": "a32ec07232cf98ad6071078379e0dc7d"},
        {"slot": 2, "prize": "Sticker", "index": 3, "ref": "928daa3c811ae6d9c2ea2d41af109e1e"},
    ],
    "alternates": [
        {"index": 4, "ref": "0d93b444e4e508ff8827cb3ee86c2e8f"},
        {"index": 0, "ref": "dcf77dd71cb3b10dc5e1a1a76d13c6f4"},
    ],
    "unawarded": [],
}


def names(report: VerifyReport) -> list[str]:
    return [check.name for check in report.checks]


def failure(report: VerifyReport) -> Check:
    assert report.first_failure is not None
    return report.first_failure


# -- canonical JSON and the entries file ------------------------------------------------------


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": [1, {"y": 2, "x": None}], "a": "zoë"}) == (
        '{"a":"zoë","b":[1,{"x":null,"y":2}]}'.encode()
    )


def test_entries_file_lines() -> None:
    assert entries_file(REFS[:2]) == f"0\t{REFS[0]}\n1\t{REFS[1]}\n"
    assert entries_file([]) == ""


def test_entries_file_round_trips() -> None:
    assert parse_entries_file(entries_file(REFS)) == REFS
    assert parse_entries_file("") == []
    # A lost final newline is harmless.
    assert parse_entries_file(entries_file(REFS).rstrip("\n")) == REFS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"1\t{REFS[0]}\n", "line 1: the index must be 0, got '1'"),
        (f"0\t{REFS[0]}\n2\t{REFS[1]}\n", "line 2: the index must be 1, got '2'"),
        (f"0\t{REFS[0]}\n01\t{REFS[1]}\n", "line 2: the index must be 1, got '01'"),
        (f"0\t{REFS[0]}\n\n", "line 2: expected '<index><TAB><ref>', got ''"),
        (f"0 {REFS[0]}\n", "line 1: expected '<index><TAB><ref>'"),
        (f"0\t{REFS[0]}\r\n", "line 1: carriage return found"),
        (f"0\t{REFS[0]}\n1\t{REFS[1]}\r\n", "line 2: carriage return found"),
        (f"0\t{REFS[0].upper()}\n", "line 1: the ref must be 32 lowercase hex characters"),
        (f"0\t{REFS[0][:-1]}\n", "line 1: the ref must be 32 lowercase hex characters"),
        (f"0\t{REFS[0]}\tx\n", "line 1: the ref must be 32 lowercase hex characters"),
        (f"0\t{REFS[0]}\n\n1\t{REFS[1]}\n", "line 2: expected '<index><TAB><ref>'"),
        (f"\r\n0\t{REFS[0]}\n", "line 1: carriage return found"),
    ],
)
def test_parse_entries_file_names_the_bad_line(text: str, message: str) -> None:
    with pytest.raises(ProofFormatError, match="^entries file " + message.replace("(", r"\(")):
        parse_entries_file(text)
    assert issubclass(ProofFormatError, ValueError)


# -- building ----------------------------------------------------------------------------------


def test_vector_bundle() -> None:
    bundle = make_bundle(REFS, vector_rules())
    assert bundle == VECTOR_BUNDLE
    served = canonical_json(bundle)
    assert len(served) == 925
    assert served.startswith(b'{"algorithm":"fairdraw/1","alternates":[{"index":4,')
    assert hashlib.sha256(served).hexdigest() == (
        "5cd36bdfd688c9b9483518e2722b4df31f761e857f940e2d71acac94c0b252a1"
    )


def test_bundle_copies_the_rules_instead_of_sharing_them() -> None:
    rules = vector_rules()
    bundle = make_bundle(REFS, rules)
    rules["prizes"][0]["name"] = "Changed later"
    assert bundle["draw"]["prizes"][0]["name"] == "Laptop"


def test_bundle_needs_the_ref_of_every_pick() -> None:
    outcome = fairness.select_winners(
        bytes.fromhex(VECTOR_BUNDLE["seal"]["root"]), SEED, 10, [("Laptop", 1)], 0
    )
    with pytest.raises(ValueError, match=r"lacks the refs of entries \[8\]"):
        build_bundle(
            draw=vector_rules(),
            root=fairness.merkle_root(REFS),
            entry_count=10,
            sealed_at="2026-01-02T03:04:05Z",
            commitment=fairness.commitment(SEED),
            seed=SEED,
            outcome=outcome,
            refs_of_picks={2: REFS[2]},
            alternates=2,
        )


def test_bundle_refuses_conflicting_alternate_counts() -> None:
    with pytest.raises(ValueError, match="alternates"):
        build_bundle(
            draw=vector_rules(alternates=3),
            root=fairness.merkle_root(REFS),
            entry_count=10,
            sealed_at="2026-01-02T03:04:05Z",
            commitment=fairness.commitment(SEED),
            seed=SEED,
            outcome=fairness.Outcome((), (), ()),
            refs_of_picks={},
            alternates=2,
        )


# -- verification of genuine bundles -----------------------------------------------------------


def test_genuine_bundle_passes_every_check() -> None:
    report = verify_bundle(VECTOR_BUNDLE, entries_file(REFS))
    assert names(report) == CHECK_NAMES
    assert [c.ok for c in report.checks] == [True] * 8
    assert report.ok
    assert report.first_failure is None
    assert report.checks[2].detail == f"root {VECTOR_BUNDLE['seal']['root']}"


def test_bundle_survives_its_canonical_serialisation() -> None:
    served = json.loads(canonical_json(make_bundle(REFS, vector_rules())))
    assert verify_bundle(served, entries_file(REFS)).ok


def test_empty_draw_verifies() -> None:
    bundle = make_bundle([], vector_rules())
    assert bundle["winners"] == []
    assert bundle["unawarded"] == ["Laptop", "Sticker", "Sticker"]
    assert verify_bundle(bundle, "").ok


def test_undersubscribed_draw_verifies() -> None:
    bundle = make_bundle(REFS[:2], vector_rules())
    assert bundle["unawarded"] == ["Sticker"]
    assert bundle["alternates"] == []
    assert verify_bundle(bundle, entries_file(REFS[:2])).ok


def test_one_prize_per_entrant_uses_the_refs_as_owners() -> None:
    # Several ballots of one account share the account's ref.
    refs = [fairness.entry_ref(SALT, f"acct:{name}") for name in "aaaaaaaabbbc"]
    rules = vector_rules(one_prize_per_entrant=True)
    bundle = make_bundle(refs, rules, owners=True)
    picked = [w["ref"] for w in bundle["winners"]] + [a["ref"] for a in bundle["alternates"]]
    assert sorted(picked) == sorted(set(refs))
    assert verify_bundle(bundle, entries_file(refs)).ok
    # The same entries drawn without the rule would give some account a second pick.
    unrestricted = make_bundle(refs, vector_rules(), owners=False)
    unrestricted["draw"]["one_prize_per_entrant"] = True
    assert failure(verify_bundle(unrestricted, entries_file(refs))).name in {
        "winners",
        "alternates",
    }


# -- verification of tampered bundles ------------------------------------------------------------

Tamper = Callable[[dict[str, Any], list[str]], str | None]


def set_in(path: str, value: Any) -> Tamper:
    """Change one bundle field; entries unchanged."""

    def tamper(bundle: dict[str, Any], refs: list[str]) -> None:
        *parents, last = path.split(".")
        target: Any = bundle
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value

    return tamper


def entries_ref(index: int, ref: str) -> Tamper:
    def tamper(bundle: dict[str, Any], refs: list[str]) -> None:
        refs[index] = ref

    return tamper


def extra_line(bundle: dict[str, Any], refs: list[str]) -> None:
    refs.append("0" * 32)


def raw_entries(text: str) -> Tamper:
    def tamper(bundle: dict[str, Any], refs: list[str]) -> str:
        return text

    return tamper


OTHER_REF = "00112233445566778899aabbccddeeff"
FF_SEED_HASH = hashlib.sha256(bytes([0xFF]) * 32).hexdigest()


@pytest.mark.parametrize(
    ("tamper", "first", "detail"),
    [
        (
            entries_ref(3, OTHER_REF),
            "merkle_root",
            "the seal's root is c142141020b95da2164f6968276a53bb45960d2416905fea86d7e6414d9766e3"
            " but the entries give ",
        ),
        (
            set_in("seed", "ff" * 32),
            "commitment",
            f"sha256(seed) is {FF_SEED_HASH} but the commitment is {VECTOR_BUNDLE['commitment']}",
        ),
        (
            set_in("winners.0.index", 2),
            "winners",
            "slot 0 (Laptop): bundle says entry 2, the algorithm gives entry 8",
        ),
        (
            set_in("winners.1.ref", OTHER_REF),
            "winners",
            "slot 1: entry 2: ref differs from the sealed ledger",
        ),
        (
            set_in("winners.2.prize", "Laptop"),
            "winners",
            "slot 2: the bundle says prize 'Laptop', the slot is 'Sticker'",
        ),
        (
            set_in("seal.root", "ab" * 32),
            "merkle_root",
            f"the seal's root is {'ab' * 32} but the entries give "
            "c142141020b95da2164f6968276a53bb45960d2416905fea86d7e6414d9766e3",
        ),
        (
            set_in("seal.entry_count", 9),
            "entry_count",
            "the entries file has 10 entries but the seal says 9",
        ),
        (
            set_in("draw.prizes.1.quantity", 3),
            "slots",
            "the seal lists 3 slots but the prizes give 4",
        ),
        (
            set_in("draw.prizes.1.name", "Mug"),
            "slots",
            "slot 1: the seal says 'Sticker' but the prizes give 'Mug'",
        ),
        (extra_line, "entry_count", "the entries file has 11 entries but the seal says 10"),
        (
            set_in("alternates.1.index", 5),
            "alternates",
            "alternate 1: bundle says entry 5, the algorithm gives entry 0",
        ),
        (
            set_in("alternates.0.ref", OTHER_REF),
            "alternates",
            "alternate 0: entry 4: ref differs from the sealed ledger",
        ),
        (
            set_in("draw.alternates", 1),
            "alternates",
            "the bundle lists 2 alternates, the algorithm gives 1",
        ),
        (set_in("unawarded", ["Sticker"]), "unawarded", "the bundle says ['Sticker']"),
        (set_in("commitment", "00" * 32), "commitment", "sha256(seed) is 630dcd"),
        (set_in("algorithm", "fairdraw/2"), "format", "algorithm is 'fairdraw/2'"),
        (set_in("seed", "AB" * 32), "format", "bundle.seed must be 64 lowercase hex"),
        (set_in("seal.entry_count", True), "format", "seal.entry_count must be a non-negative"),
        (set_in("winners.0.index", -1), "format", "winners[0].index must be a non-negative"),
        (set_in("seal.beacon", "x"), "format", "seal: unknown fields beacon"),
        (set_in("beacon", "x"), "format", "bundle: unknown fields beacon"),
        (set_in("draw", []), "format", "bundle.draw must be an object"),
        (set_in("winners.0", {"slot": 0}), "format", "winners[0]: missing index, prize, ref"),
        (raw_entries(f"0\t{OTHER_REF}\n0\t{OTHER_REF}\n"), "format", "entries file line 2"),
    ],
)
def test_tampering_fails_the_expected_check(tamper: Tamper, first: str, detail: str) -> None:
    bundle = copy.deepcopy(VECTOR_BUNDLE)
    refs = list(REFS)
    text = tamper(bundle, refs)
    report = verify_bundle(bundle, entries_file(refs) if text is None else text)
    assert names(report) == CHECK_NAMES
    assert not report.ok
    assert failure(report).name == first
    assert failure(report).detail.startswith(detail)


def test_a_failure_marks_the_checks_that_depend_on_it() -> None:
    bundle = copy.deepcopy(VECTOR_BUNDLE)
    bundle["seed"] = "ff" * 32
    report = verify_bundle(bundle, entries_file(REFS))
    assert [(c.name, c.ok) for c in report.checks] == [
        ("format", True),
        ("entry_count", True),
        ("merkle_root", True),
        ("commitment", False),
        ("slots", True),
        ("winners", False),
        ("alternates", False),
        ("unawarded", False),
    ]
    assert [c.detail for c in report.checks[5:]] == ["not checked: commitment failed"] * 3


def test_a_format_failure_checks_nothing_else() -> None:
    report = verify_bundle({"algorithm": "fairdraw/1"}, entries_file(REFS))
    assert failure(report).detail.startswith("bundle: missing alternates, commitment, draw")
    assert names(report) == CHECK_NAMES
    assert [c.detail for c in report.checks[1:]] == ["not checked: format failed"] * 7


def test_independent_checks_still_run_after_a_failure() -> None:
    refs = list(REFS)
    refs.append(OTHER_REF)
    bundle = copy.deepcopy(VECTOR_BUNDLE)
    bundle["seed"] = "ff" * 32
    report = verify_bundle(bundle, entries_file(refs))
    assert [c.ok for c in report.checks[:5]] == [True, False, False, False, True]
    assert report.checks[5].detail == "not checked: entry_count failed"


def test_winner_lists_of_the_wrong_length_are_named() -> None:
    bundle = copy.deepcopy(VECTOR_BUNDLE)
    bundle["winners"].pop()
    detail = failure(verify_bundle(bundle, entries_file(REFS))).detail
    assert detail == "the bundle lists 2 winners, the algorithm gives 3"


# -- raffles: ticket numbers as references -----------------------------------------------------

TICKET_REFS = ["7", "3", "10", "1", "1000000000"]


def test_raffle_proofs_carry_ticket_numbers() -> None:
    rules = vector_rules(kind="raffle")
    bundle = make_bundle(TICKET_REFS, rules)
    assert {w["ref"] for w in bundle["winners"]} <= set(TICKET_REFS)
    assert parse_entries_file(entries_file(TICKET_REFS), "raffle") == TICKET_REFS
    assert verify_bundle(bundle, entries_file(TICKET_REFS)).ok


@pytest.mark.parametrize("ref", ["0", "07", "1000000001", "-1", "1e3", REFS[0]])
def test_a_raffle_entries_file_takes_only_ticket_numbers(ref: str) -> None:
    with pytest.raises(ProofFormatError, match=r"^entries file line 1: the ref must be a ticket"):
        parse_entries_file(f"0\t{ref}\n", "raffle")


def test_ticket_numbers_are_not_references_of_other_draws() -> None:
    with pytest.raises(ProofFormatError, match="must be 32 lowercase hex characters"):
        parse_entries_file("0\t7\n")
    giveaway = make_bundle(TICKET_REFS, vector_rules())
    report = verify_bundle(giveaway, entries_file(TICKET_REFS))
    assert failure(report).name == "format"
    assert "must be 32 lowercase hex characters" in failure(report).detail
