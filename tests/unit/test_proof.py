"""Proof bundles and their bytes; offline verification of fairdraw/1 draws."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fairdraw.cli import app
from fairdraw.domain import fairness
from fairdraw.domain.proof import (
    ProofFormatError,
    build_bundle,
    build_bundle_v2,
    bundle_core,
    bundle_hash,
    canonical_json,
    entries_file,
    parse_canonical,
    parse_entries_bytes,
    parse_entries_file,
    parse_json,
)
from fairdraw.domain.verification import (
    V2_CHECKS,
    Check,
    VerifyReport,
    verify_bundle,
    verify_bundle_bytes,
)

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


# -- fairdraw/1 read strictly, as bytes ----------------------------------------------------------

VECTOR_BYTES = canonical_json(VECTOR_BUNDLE)
VECTOR_ENTRIES = entries_file(REFS).encode()


def format_failure(bundle: bytes, entries: bytes = VECTOR_ENTRIES) -> str:
    report = verify_bundle_bytes(bundle, entries)
    assert names(report) == CHECK_NAMES
    assert failure(report).name == "format"
    assert [c.detail for c in report.checks[1:]] == ["not checked: format failed"] * 7
    return failure(report).detail


def test_the_vector_verifies_from_its_bytes() -> None:
    report = verify_bundle_bytes(VECTOR_BYTES, VECTOR_ENTRIES)
    assert report.ok
    assert report.algorithm == "fairdraw/1"
    # fairdraw/1 has no beacon: the operator's seed alone decides.
    assert report.trusts_operator
    assert report.verdict == "PASS (trusts its operator: no beacon)"


def test_fairdraw_1_bytes_need_not_be_canonical() -> None:
    pretty = json.dumps(VECTOR_BUNDLE, indent=2).encode()
    assert verify_bundle_bytes(pretty, VECTOR_ENTRIES).ok
    assert verify_bundle_bytes(VECTOR_BYTES, VECTOR_ENTRIES.rstrip(b"\n")).ok


def test_an_entries_file_with_crlf_fails_format() -> None:
    assert format_failure(VECTOR_BYTES, VECTOR_ENTRIES.replace(b"\n", b"\r\n")) == (
        "entries file line 1: carriage return found (lines must end with LF only)"
    )


def test_invalid_utf8_is_a_format_failure() -> None:
    broken_entries = VECTOR_ENTRIES.replace(b"\t", b"\t\xff", 1)
    assert format_failure(VECTOR_BYTES, broken_entries) == (
        "the entries file is not UTF-8: invalid byte 0xff at offset 2"
    )
    broken_bundle = VECTOR_BYTES.replace(b"Vector draw", b"Vector dr\xe1w")
    at = broken_bundle.index(b"\xe1")
    assert format_failure(broken_bundle) == (
        f"the bundle is not UTF-8: invalid byte 0xe1 at offset {at}"
    )


def test_duplicate_keys_are_a_format_failure() -> None:
    twice = VECTOR_BYTES[:-1] + b',"seed":"' + b"00" * 32 + b'"}'
    assert format_failure(twice) == "the bundle has the key 'seed' twice in one object"
    nested = VECTOR_BYTES.replace(b'"entry_count":10', b'"entry_count":10,"entry_count":9')
    assert format_failure(nested) == "the bundle has the key 'entry_count' twice in one object"


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"\xef\xbb\xbf" + VECTOR_BYTES, "the bundle starts with a byte order mark"),
        (VECTOR_BYTES.replace(b":10,", b":NaN,", 1), "the bundle is not JSON: NaN is not a JSON"),
    ],
)
def test_bundle_bytes_that_are_not_json(data: bytes, detail: str) -> None:
    assert format_failure(data).startswith(detail)


@pytest.mark.parametrize(
    ("field", "value", "detail"),
    [
        ("kind", "contest", "draw.kind must be one of giveaway, raffle, lottery"),
        ("kind", None, "draw.kind must be one of giveaway, raffle, lottery"),
        ("id", 7, "draw.id must be of type str"),
        ("title", ["Vector draw"], "draw.title must be of type str"),
    ],
)
def test_the_draw_is_described_with_the_right_types(field: str, value: Any, detail: str) -> None:
    bundle = copy.deepcopy(VECTOR_BUNDLE)
    bundle["draw"][field] = value
    assert format_failure(canonical_json(bundle)) == detail
    assert failure(verify_bundle(bundle, entries_file(REFS))).detail == detail


@pytest.mark.parametrize(
    "sealed_at",
    [
        1767323045,
        "yesterday",
        "2026-01-02 03:04:05Z",
        "2026-01-02T03:04:05",
        "2026-01-02T03:04:05+00:00",
        "2026-13-02T03:04:05Z",
        "2026-01-02T03:04:05.1Z",
    ],
)
def test_sealed_at_is_an_iso_utc_time(sealed_at: Any) -> None:
    bundle = copy.deepcopy(VECTOR_BUNDLE)
    bundle["seal"]["sealed_at"] = sealed_at
    assert format_failure(canonical_json(bundle)) == (
        "seal.sealed_at must be an ISO-8601 UTC time like 2026-01-02T03:04:05Z"
    )


def test_sealed_at_may_carry_milliseconds() -> None:
    # What fairdraw published for every fairdraw/1 draw.
    bundle = copy.deepcopy(VECTOR_BUNDLE)
    bundle["seal"]["sealed_at"] = "2026-01-02T03:04:05.123Z"
    assert verify_bundle_bytes(canonical_json(bundle), VECTOR_ENTRIES).ok


def test_the_cli_reads_crlf_entries_as_they_are(tmp_path: Path) -> None:
    bundle, entries = tmp_path / "proof.json", tmp_path / "entries.txt"
    bundle.write_bytes(VECTOR_BYTES)
    entries.write_bytes(VECTOR_ENTRIES.replace(b"\n", b"\r\n"))
    result = CliRunner().invoke(app, ["verify", str(bundle), str(entries)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "FAIL format: entries file line 1: carriage return found (lines must end with LF only)"
    )


def test_an_unknown_algorithm_is_named() -> None:
    bundle = copy.deepcopy(VECTOR_BUNDLE)
    bundle["algorithm"] = "fairdraw/9"
    for report in (
        verify_bundle(bundle, entries_file(REFS)),
        verify_bundle_bytes(canonical_json(bundle), VECTOR_ENTRIES),
    ):
        assert report.algorithm is None
        assert names(report) == list(V2_CHECKS)
        assert failure(report).detail == (
            "algorithm is 'fairdraw/9'; this verifier implements 'fairdraw/1' and 'fairdraw/2'"
        )
    assert failure(verify_bundle_bytes(b"[]", b"")).detail == "the bundle must be a JSON object"
    unreadable = verify_bundle_bytes(b"not json", b"")
    assert names(unreadable) == list(V2_CHECKS)
    assert failure(unreadable).detail == (
        "the bundle is not JSON: Expecting value: line 1 column 1 (char 0)"
    )


# -- canonical JSON, strictly --------------------------------------------------------------------


def test_parse_canonical_takes_canonical_bytes_and_one_final_lf() -> None:
    document = {"b": [1, {"y": None, "x": "zoë"}], "a": -2}
    data = canonical_json(document)
    assert parse_canonical(data) == document
    assert parse_canonical(data + b"\n") == document


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a":1}\n\n', "the document is not canonical JSON: byte 7 is '\\n', canonical JSON"),
        (b'{"a":1} ', "the document is not canonical JSON: byte 7 is ' ', canonical JSON"),
        (b'{"a":1}\r\n', "the document is not canonical JSON: byte 7 is '\\r', canonical"),
        (
            b'{"a": 1}',
            "the document is not canonical JSON: byte 5 is ' 1}', canonical JSON has '1}'",
        ),
        (b'{"b":1,"a":2}', 'the document is not canonical JSON: byte 2 is \'b":1,"a":2}\''),
        (b'{"a":"\\u0041"}', "the document is not canonical JSON: byte 6 is '\\\\u0041\"}'"),
        (b'{"a":"\\u00e9"}', "the document is not canonical JSON: byte 6 is '\\\\u00e9\"}'"),
        (b'{"a":"\\/"}', "the document is not canonical JSON: byte 6 is '\\\\/\"}'"),
        (b'{"a":"\\ud800"}', "the document is not canonical JSON: a \\u escape encodes a lone"),
        (b'{"a":1.0}', "the document is not canonical JSON: 1.0 is not an integer"),
        (b'{"a":1e3}', "the document is not canonical JSON: 1e3 is not an integer"),
        (b'{"a":-0}', "the document is not canonical JSON: byte 5 is '-0}'"),
        (b'{"a":1,"a":1}', "the document has the key 'a' twice in one object"),
        (b'{"a":Infinity}', "the document is not JSON: Infinity is not a JSON number"),
        (b'{"a":01}', "the document is not JSON: Expecting ',' delimiter"),
        (b'{"a":"\xff"}', "the document is not UTF-8: invalid byte 0xff at offset 6"),
        (b'\xef\xbb\xbf{"a":1}', "the document starts with a byte order mark"),
    ],
)
def test_parse_canonical_refuses_everything_else(data: bytes, message: str) -> None:
    with pytest.raises(ProofFormatError) as caught:
        parse_canonical(data)
    assert str(caught.value).startswith(message)


def test_parse_json_is_strict_but_not_canonical() -> None:
    assert parse_json(b'{ "b": 1.5, "a": [] }\r\n') == {"a": [], "b": 1.5}
    with pytest.raises(ProofFormatError, match=r"^the file has the key 'a' twice"):
        parse_json(b'{"a":1,"a":2}', "the file")


def test_bundle_core_and_hash() -> None:
    bundle = {"algorithm": "fairdraw/2", "seed": "00", "log": {"leaf_index": 3}}
    assert bundle_core(bundle) == {"algorithm": "fairdraw/2", "seed": "00"}
    assert (
        bundle_hash(bundle) == hashlib.sha256(b'{"algorithm":"fairdraw/2","seed":"00"}').hexdigest()
    )


# -- fairdraw/2 entries files --------------------------------------------------------------------

V2_REFS = [fairness.entry_ref_v2(f"gh:{i}", bytes([i]) * 16) for i in range(3)]
RAFFLE_REFS = [f"{t}:{fairness.code_commitment(bytes([t]) * 16)}" for t in (7, 3, 10)]


def test_v2_entries_files_round_trip() -> None:
    data = entries_file(V2_REFS).encode()
    assert parse_entries_bytes(data, "giveaway") == V2_REFS
    assert parse_entries_bytes(data, "lottery") == V2_REFS
    assert parse_entries_bytes(entries_file(RAFFLE_REFS).encode(), "raffle") == RAFFLE_REFS
    assert parse_entries_bytes(b"", "giveaway") == []


@pytest.mark.parametrize(
    ("data", "kind", "message"),
    [
        (entries_file(V2_REFS).encode()[:-1], "giveaway", "entries file line 3: no LF at the end"),
        (b"0\tzz\n1\tyy", "giveaway", "entries file line 1: the ref must be 64 lowercase hex"),
        (b"0\tzz", "giveaway", "entries file line 1: the ref must be 64 lowercase hex"),
        (b"\n", "giveaway", "entries file line 1: expected '<index><TAB><ref>', got ''"),
        (f"0\t{V2_REFS[0]}\r\n".encode(), "giveaway", "entries file line 1: carriage return"),
        (b"\xef\xbb\xbf", "giveaway", "the entries file starts with a byte order mark"),
        (b"0\t\xc3\n", "giveaway", "the entries file is not UTF-8: invalid byte 0xc3 at offset 2"),
        (f"0\t{REFS[0]}\n".encode(), "giveaway", "entries file line 1: the ref must be 64"),
        (f"0\t{V2_REFS[0]}\n".encode(), "raffle", "entries file line 1: the ref must be a ticket"),
        (b"0\t7\n", "raffle", "entries file line 1: the ref must be a ticket number, ':' and 64"),
        (
            f"0\t0{RAFFLE_REFS[0]}\n".encode(),
            "raffle",
            "entries file line 1: the ref must be a ticket",
        ),
        (
            f"0\t12345678901{RAFFLE_REFS[0][1:]}\n".encode(),
            "raffle",
            "entries file line 1: the ref must be a ticket",
        ),
    ],
)
def test_v2_entries_files_are_strict(data: bytes, kind: str, message: str) -> None:
    with pytest.raises(ProofFormatError) as caught:
        parse_entries_bytes(data, kind)
    assert str(caught.value).startswith(message)


# -- building fairdraw/2 bundles -----------------------------------------------------------------

V2_RULES: dict[str, Any] = {
    "id": "d_v2",
    "kind": "giveaway",
    "title": "V2",
    "prizes": [{"name": "Mug", "quantity": 1}],
    "opened_at": "2026-12-06T21:00:00.000Z",
    "deadline": None,
    "ticket_count": None,
}
SIGNER = {"algorithm": "ed25519", "public_key": "11" * 32, "key_id": "22" * 32}


def build_v2(draw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    root = fairness.merkle_root(V2_REFS)
    outcome = fairness.select_winners(
        root, SEED, 3, [("Mug", 1)], 1, key=fairness.stream_key_v2(root, 3, SEED, None)
    )
    arguments: dict[str, Any] = {
        "draw": draw,
        "root": root,
        "entry_count": 3,
        "sealed_at": "2026-12-06T22:00:00.000Z",
        "commitment": fairness.commitment(SEED),
        "seed": SEED,
        "beacon": None,
        "outcome": outcome,
        "picks": {
            i: (ref, {"identity": f"gh:{i}", "nonce": f"{i:02x}" * 16})
            for i, ref in enumerate(V2_REFS)
        },
        "signer": SIGNER,
    }
    arguments.update(changes)
    return build_bundle_v2(**arguments)


def test_build_bundle_v2_fixes_the_rules_fairdraw_2_fixes() -> None:
    core = build_v2(V2_RULES)
    assert core["draw"] == {**V2_RULES, "alternates": 1, "one_prize_per_entrant": False}
    assert list(core) == [
        "algorithm",
        "draw",
        "seal",
        "commitment",
        "seed",
        "beacon",
        "winners",
        "alternates",
        "unawarded",
        "signer",
    ]
    assert core["seal"] == {
        "root": fairness.merkle_root(V2_REFS).hex(),
        "entry_count": 3,
        "sealed_at": "2026-12-06T22:00:00.000Z",
        "slots": ["Mug"],
    }
    winner = core["winners"][0]
    assert winner["ref"] == V2_REFS[winner["index"]]
    assert winner["opening"] == {
        "identity": f"gh:{winner['index']}",
        "nonce": f"{winner['index']:02x}" * 16,
    }
    assert bundle_core(core) == core
    # The same rules with the values fairdraw/2 fixes are accepted as well.
    assert build_v2({**V2_RULES, "alternates": 1, "one_prize_per_entrant": False}) == core


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"alternates": 2}, r"as many alternates as slots \(1\)"),
        ({"one_prize_per_entrant": True}, "no one-prize-per-entrant rule"),
        ({"ticket_count": 10}, "ticket_count is given for a raffle and only for a raffle"),
        ({"kind": "raffle"}, "ticket_count is given for a raffle and only for a raffle"),
        ({"colour": "red"}, r"unknown draw fields \['colour'\]"),
    ],
)
def test_build_bundle_v2_refuses_other_rules(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_v2({**V2_RULES, **changes})


def test_build_bundle_v2_needs_every_pick_and_a_whole_beacon() -> None:
    with pytest.raises(ValueError, match=r"picks lacks the refs of entries \["):
        build_v2(V2_RULES, picks={})
    with pytest.raises(ValueError, match="a beacon object has the fields"):
        build_v2(V2_RULES, beacon={"round": 1})


def test_unreasonable_json_is_a_format_failure() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ProofFormatError, match=r"^the document is not JSON this reader takes"):
        parse_json(deep)
    huge = b'{"a":' + b"9" * 5000 + b"}"
    with pytest.raises(ProofFormatError, match=r"^the document is not JSON: Exceeds the limit"):
        parse_canonical(huge)


def test_a_huge_prize_quantity_is_counted_not_listed() -> None:
    bundle = copy.deepcopy(VECTOR_BUNDLE)
    bundle["draw"]["prizes"][1]["quantity"] = 10**15
    report = verify_bundle_bytes(canonical_json(bundle), VECTOR_ENTRIES)
    assert failure(report).detail == f"the seal lists 3 slots but the prizes give {10**15 + 1}"
