"""The fairdraw/2 test vectors and tamper corpus: every valid draw verifies, every tampered
one fails at the check its case names, and docs/fairness-v2.md shows these very vectors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fairdraw.domain import fairness, proof, signing, transparency
from fairdraw.domain.beacon import QUICKNET, verify_round
from tests.support import fd2_corpus
from tests.support.fd2_corpus import Case, cases, vectors, verify_case

DOC = Path(__file__).resolve().parents[2] / "docs" / "fairness-v2.md"
CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_case_finds_what_it_expects(case: Case) -> None:
    report = verify_case(case)
    failed = report.first_failure
    assert (report.ok, failed.name if failed else None) == (
        case.expect_ok,
        case.expect_first_failure,
    ), failed


def test_the_corpus_has_valid_and_tampered_cases_with_usable_names() -> None:
    valid = [case.name for case in CASES if case.expect_ok]
    assert valid == [
        "giveaway-quicknet",
        "giveaway-no-beacon",
        "raffle-test-chain",
        "lottery-test-chain",
        "empty-quicknet",
        "giveaway-quicknet.trailing-lf",
        "raffle-test-chain.only-its-chain-pinned",
        "v1-vector",
        "v1-vector.pretty-printed",
        "v1-vector.no-final-lf",
    ]
    assert all(case.expect_first_failure is None for case in CASES if case.expect_ok)
    tampered = [case for case in CASES if not case.expect_ok]
    assert len(tampered) > 300
    failing = {case.expect_first_failure for case in tampered}
    assert failing == {
        "format",
        "entry_count",
        "merkle_root",
        "commitment",
        "slots",
        "beacon",
        "openings",
        "winners",
        "alternates",
        "unawarded",
        "log",
    }
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9._-]*", case.name) for case in CASES)
    assert len({case.name for case in CASES}) == len(CASES)


def test_every_field_of_the_giveaway_is_removed_retyped_and_changed() -> None:
    names = {case.name for case in CASES}
    bundle = vectors()["giveaway-quicknet"].bundle
    for path in fd2_corpus._walk(bundle):
        dotted = ".".join(str(part) for part in path)
        assert f"giveaway-quicknet.retyped.{dotted}" in names
        if isinstance(path[-1], str):
            assert f"giveaway-quicknet.removed.{dotted}" in names
    changed = {name.split(".changed.")[1] for name in names if ".changed." in name}
    scalars = {
        ".".join(str(part) for part in path)
        for path in fd2_corpus._walk(bundle)
        if not isinstance(fd2_corpus._get(bundle, path), dict | list)
    }
    assert scalars - changed == set()


def test_the_corpus_is_the_same_every_time() -> None:
    built = vectors()["raffle-test-chain"]
    again = fd2_corpus.build("again", fd2_corpus.raffle_spec())
    assert again.bundle_bytes == built.bundle_bytes
    assert again.entries == built.entries


def test_the_vectors_intermediate_values_agree_with_each_other() -> None:
    v = vectors()["giveaway-quicknet"]
    assert v.round is not None
    assert v.signature is not None
    assert verify_round(QUICKNET, v.round, v.signature) == v.randomness
    assert v.stream_key == fairness.stream_key_v2(v.root, 10, fd2_corpus.SEED, v.randomness)
    key = fd2_corpus.signing_key()
    assert signing.verify_statement(v.receipt, key.public_key)
    log = v.bundle["log"]
    assert transparency.verify_inclusion(
        transparency.leaf_hash(log["entry"]),
        3,
        5,
        [bytes.fromhex(p) for p in log["path"]],
        transparency.tree_hash(v.leaf_hashes),
    )
    assert log["entry"]["bundle_hash"] == proof.bundle_hash(v.bundle)
    for pick in v.bundle["winners"] + v.bundle["alternates"]:
        nonce = bytes.fromhex(pick["opening"]["nonce"])
        assert fairness.entry_ref_v2(pick["opening"]["identity"], nonce) == pick["ref"]
        assert nonce == fairness.entry_nonce(fd2_corpus.SALT, pick["opening"]["identity"])


def test_write_corpus_writes_every_case(tmp_path: Path) -> None:
    written = fd2_corpus.write_corpus(tmp_path)
    assert [path.name for path in written] == [case.name for case in CASES]
    for case, where in zip(CASES, written, strict=True):
        assert (where / "bundle.json").read_bytes() == case.bundle
        assert (where / "entries.txt").read_bytes() == case.entries
        assert json.loads((where / "chains.json").read_text()) == case.chains
        assert json.loads((where / "expected.json").read_text()) == {
            "ok": case.expect_ok,
            "first_failure": case.expect_first_failure,
        }


def test_the_documentation_shows_these_vectors() -> None:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Test vectors\n")
    end = text.find("\n## ", start + 1)
    section = text[start:] if end == -1 else text[start : end + 1]
    assert section == fd2_corpus.vectors_markdown()
