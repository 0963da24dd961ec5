"""Forfeit and promote: the rule (who gets a forfeited prize) and the offline check of a
substitutions record against its bundle."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest

from fairdraw.domain import substitutions
from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.proof import bundle_hash, canonical_json
from fairdraw.domain.substitution_check import CHECKS, check_substitutions
from fairdraw.domain.substitutions import (
    NotAWinner,
    Pick,
    Promotion,
    Standing,
    Substitution,
    holdings,
    standing,
    substitute,
)


def ref(index: int) -> str:
    return hashlib.sha256(f"entry {index}".encode()).hexdigest()


# Slots: Laptop (entry 1), Sticker (entry 2), Sticker (entry 8); alternates 0, 5, 6.
BUNDLE: dict[str, Any] = {
    "algorithm": "fairdraw/2",
    "draw": {"id": "abcdefghijkl", "kind": "giveaway"},
    "winners": [
        {"slot": 0, "prize": "Laptop", "index": 1, "ref": ref(1), "opening": None},
        {"slot": 1, "prize": "Sticker", "index": 2, "ref": ref(2), "opening": None},
        {"slot": 2, "prize": "Sticker", "index": 8, "ref": ref(8), "opening": None},
    ],
    "alternates": [
        {"index": 0, "ref": ref(0), "opening": None},
        {"index": 5, "ref": ref(5), "opening": None},
        {"index": 6, "ref": ref(6), "opening": None},
    ],
    "unawarded": [],
    "log": {"leaf_index": 3},
}
AT = "2026-12-07T10:00:00.000Z"


def forfeit_all(*indexes: int) -> list[Substitution]:
    made: list[Substitution] = []
    for n, index in enumerate(indexes):
        made.append(substitute(BUNDLE, made, index, f"reason {n}", f"2026-12-07T10:0{n}:00.000Z"))
    return made


def promoted_indexes(made: list[Substitution]) -> list[int | None]:
    return [s.promoted.pick.index if s.promoted else None for s in made]


def test_a_forfeited_prize_goes_to_the_first_alternate() -> None:
    (sub,) = forfeit_all(2)
    assert sub == Substitution(
        AT, 1, "Sticker", Pick(2, ref(2)), Promotion(1, Pick(0, ref(0))), "reason 0"
    )
    assert [
        (h.slot, h.holder.index if h.holder else None, h.alternate) for h in holdings(BUNDLE, [sub])
    ] == [(0, 1, None), (1, 0, 1), (2, 8, None)]


def test_later_forfeits_take_the_alternates_in_published_order() -> None:
    made = forfeit_all(8, 1)
    assert promoted_indexes(made) == [0, 5]
    assert [(s.slot, s.prize) for s in made] == [(2, "Sticker"), (0, "Laptop")]


def test_a_promoted_alternate_can_forfeit_and_the_prize_moves_on() -> None:
    made = forfeit_all(1, 0)
    assert promoted_indexes(made) == [0, 5]
    assert (made[1].slot, made[1].prize) == (0, "Laptop")
    assert made[1].forfeited == Pick(0, ref(0))
    assert made[1].promoted == Promotion(2, Pick(5, ref(5)))


def test_with_no_alternate_left_the_prize_is_not_awarded() -> None:
    made = forfeit_all(1, 2, 8, 0)
    assert promoted_indexes(made) == [0, 5, 6, None]
    assert [h.holder.index if h.holder else None for h in holdings(BUNDLE, made)] == [
        None,
        5,
        6,
    ]


def test_only_a_current_winner_can_forfeit() -> None:
    made = forfeit_all(1)
    with pytest.raises(NotAWinner, match="Entry 1 does not hold a prize"):
        substitute(BUNDLE, made, 1, "again", AT)  # forfeited already
    with pytest.raises(NotAWinner, match="Entry 5 does not hold a prize"):
        substitute(BUNDLE, made, 5, "an alternate", AT)
    with pytest.raises(NotAWinner, match="Entry 99 does not hold a prize"):
        substitute(BUNDLE, made, 99, "nobody", AT)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, None, 7])
def test_a_reason_is_one_to_500_characters(reason: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        substitute(BUNDLE, [], 1, reason, AT)  # type: ignore[arg-type]
    assert raised.value.errors == {"reason": "1 to 500 characters"}


def test_a_reason_is_trimmed() -> None:
    assert substitute(BUNDLE, [], 1, "  moved away \n", AT).reason == "moved away"


def test_standing_of_each_entry() -> None:
    made = forfeit_all(1, 0)  # Laptop: 1 → alternate 0 → alternate 5
    assert standing(BUNDLE, made, 2) == Standing("winner", None, "Sticker")
    assert standing(BUNDLE, made, 5) == Standing("promoted", 2, "Laptop")
    assert standing(BUNDLE, made, 6) == Standing("alternate", 3)
    assert standing(BUNDLE, made, 1) == Standing("forfeited")
    assert standing(BUNDLE, made, 0) == Standing("forfeited")
    assert standing(BUNDLE, made, 3) == Standing("none")
    assert standing(BUNDLE, [], 0) == Standing("alternate", 1)


def test_a_substitution_round_trips_through_json() -> None:
    for sub in forfeit_all(1, 2, 8, 0):
        assert Substitution.from_json(sub.to_json()) == sub


def test_the_record_names_the_bundle_core() -> None:
    made = forfeit_all(2)
    document = substitutions.record("abcdefghijkl", BUNDLE, made)
    assert document == {
        "format": "fairdraw/2 substitutions",
        "draw": "abcdefghijkl",
        "bundle": bundle_hash(BUNDLE),
        "substitutions": [made[0].to_json()],
    }
    assert (
        document["bundle"]
        == hashlib.sha256(
            canonical_json({k: v for k, v in BUNDLE.items() if k != "log"})
        ).hexdigest()
    )


# -- the check ---------------------------------------------------------------------------------


def record_bytes(items: list[dict[str, Any]], **changes: Any) -> bytes:
    document = {
        "format": "fairdraw/2 substitutions",
        "draw": "abcdefghijkl",
        "bundle": bundle_hash(BUNDLE),
        "substitutions": items,
    } | changes
    return canonical_json(document)


def verdicts(record: bytes) -> list[tuple[str, bool, str]]:
    return [(c.name, c.ok, c.detail) for c in check_substitutions(canonical_json(BUNDLE), record)]


def test_a_faithful_record_passes() -> None:
    made = [s.to_json() for s in forfeit_all(1, 0, 8)]
    assert verdicts(record_bytes(made)) == [
        ("substitutions_format", True, "3 substitutions, canonical JSON"),
        ("substitutions_bundle", True, f"amends this bundle ({bundle_hash(BUNDLE)})"),
        ("substitutions_order", True, "every substitution followed the published alternate order"),
    ]


def test_an_empty_record_passes() -> None:
    assert verdicts(record_bytes([]))[2] == (
        "substitutions_order",
        True,
        "no substitutions: the drawn winners stand",
    )


def test_a_promotion_out_of_order_fails() -> None:
    made = [s.to_json() for s in forfeit_all(1)]
    made[0]["promoted"] = {"alternate": 2, "index": 5, "ref": ref(5)}
    assert verdicts(record_bytes(made))[2] == (
        "substitutions_order",
        False,
        f"substitution 0: promoted alternate #2 (entry 5, ref {ref(5)}), but the next was "
        f"alternate #1 (entry 0, ref {ref(0)})",
    )


def test_a_prize_left_unawarded_while_an_alternate_was_left_fails() -> None:
    made = [s.to_json() for s in forfeit_all(1)]
    made[0]["promoted"] = None
    assert verdicts(record_bytes(made))[2] == (
        "substitutions_order",
        False,
        f"substitution 0: promoted nobody (not awarded), but the next was alternate #1 "
        f"(entry 0, ref {ref(0)})",
    )


def test_a_reordered_record_fails() -> None:
    made = [s.to_json() for s in forfeit_all(1, 0)]
    made.reverse()
    assert verdicts(record_bytes(made))[2] == (
        "substitutions_order",
        False,
        "substitution 0: entry 0 held no prize then",
    )


def test_a_record_with_times_going_back_fails() -> None:
    made = [s.to_json() for s in forfeit_all(1, 2)]
    made[1]["at"] = "2026-12-07T09:00:00.000Z"
    assert verdicts(record_bytes(made))[2] == (
        "substitutions_order",
        False,
        "substitution 1: its time 2026-12-07T09:00:00.000Z is before the previous one's "
        "(2026-12-07T10:00:00.000Z)",
    )


def test_a_wrong_slot_fails() -> None:
    made = [s.to_json() for s in forfeit_all(2)]
    made[0]["slot"] = 2
    assert verdicts(record_bytes(made))[2] == (
        "substitutions_order",
        False,
        f"substitution 0: entry 2 held slot 1 (Sticker, ref {ref(2)}), the record says "
        f"slot 2 (Sticker, ref {ref(2)})",
    )


def test_a_record_of_another_bundle_fails() -> None:
    other = "0" * 64
    assert verdicts(record_bytes([], bundle=other))[1] == (
        "substitutions_bundle",
        False,
        f"the record amends bundle {other}, this bundle is {bundle_hash(BUNDLE)}",
    )
    changed = copy.deepcopy(BUNDLE)
    changed["winners"][0]["prize"] = "Phone"
    checks = check_substitutions(canonical_json(changed), record_bytes([]))
    assert (checks[1].name, checks[1].ok) == ("substitutions_bundle", False)


def test_a_record_of_another_draw_fails() -> None:
    assert verdicts(record_bytes([], draw="zzzzzzzzzzzz"))[1] == (
        "substitutions_bundle",
        False,
        "the record is of draw zzzzzzzzzzzz, the bundle of abcdefghijkl",
    )


@pytest.mark.parametrize(
    ("record", "detail"),
    [
        (record_bytes([]) + b" ", "is not canonical JSON"),
        (record_bytes([], format="other"), "format must be 'fairdraw/2 substitutions'"),
        (record_bytes([], extra=1), "the record has unknown fields: extra"),
        (record_bytes([{"at": AT}]), "substitutions[0] lacks forfeited, prize, promoted"),
    ],
)
def test_a_malformed_record_fails_format(record: bytes, detail: str) -> None:
    checks = verdicts(record)
    assert checks[0][:2] == ("substitutions_format", False)
    assert detail in checks[0][2]
    assert checks[1:] == [
        (name, False, "not checked: substitutions_format failed") for name in CHECKS[1:]
    ]


def test_a_padded_reason_fails_format() -> None:
    made = [s.to_json() for s in forfeit_all(1)]
    made[0]["reason"] = " padded"
    assert verdicts(record_bytes(made))[0] == (
        "substitutions_format",
        False,
        "substitutions[0].reason must be a trimmed, non-empty string",
    )
