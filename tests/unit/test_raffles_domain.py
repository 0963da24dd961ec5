"""Validating what an organiser asks of a raffle."""

from __future__ import annotations

from typing import Any

import pytest

from fairdraw.domain.draws import Claimants, DrawKind, EntryIdentity, Prize, RaffleTerms
from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.raffles import validate_new_raffle

PRIZES = [{"name": "Bike", "quantity": 1}, {"name": "Mug", "quantity": 2}]


def raffle(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": " Charity ",
        "description": "",
        "prizes": PRIZES,
        "ticket_count": 100,
    }
    fields.update(changes)
    return fields


def errors_of(**changes: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        validate_new_raffle(**raffle(**changes))
    return refused.value.errors


def test_a_valid_raffle() -> None:
    new = validate_new_raffle(
        **raffle(ticket_count="1_000", claimants="account", per_claimant="3", early_close=True)
    )
    assert new.kind is DrawKind.raffle
    assert new.title == "Charity"
    assert new.prizes == (Prize("Bike", 1), Prize("Mug", 2))
    assert new.entry_identity is EntryIdentity.account
    assert new.raffle == RaffleTerms(1000, Claimants.account, 3, early_close=True)


def test_defaults_are_anonymous_one_ticket_each_no_early_close() -> None:
    new = validate_new_raffle(**raffle())
    assert new.raffle == RaffleTerms(100, Claimants.anonymous, 1, early_close=False)


@pytest.mark.parametrize(
    ("count", "early_close"), [(1, False), (3, False), (10**6, False), (10**9, True)]
)
def test_ticket_counts_at_the_bounds(count: int, early_close: bool) -> None:
    prizes = [{"name": "Bike", "quantity": 1}]
    new = validate_new_raffle(**raffle(ticket_count=count, prizes=prizes, early_close=early_close))
    assert new.raffle is not None
    assert new.raffle.ticket_count == count


@pytest.mark.parametrize("count", [10**6 + 1, 10**9])
def test_a_raffle_that_could_never_sell_out_must_close_early(count: int) -> None:
    assert errors_of(ticket_count=count) == {
        "ticket_count": (
            f"A raffle that may not close early can close only when all {count:,} tickets "
            "are claimed; allow early close or use at most 1,000,000 tickets"
        )
    }


@pytest.mark.parametrize("count", [0, -5, 10**9 + 1, "", "ten", "1.5", 2.0, True, None, "9" * 13])
def test_ticket_counts_out_of_range_or_not_whole(count: object) -> None:
    assert errors_of(ticket_count=count) == {
        "ticket_count": "The number of tickets must be between 1 and 1,000,000,000"
    }


def test_more_prizes_than_tickets() -> None:
    assert errors_of(ticket_count=2) == {
        "prizes": "3 prizes but only 2 tickets: each ticket wins at most one prize"
    }


def test_every_bad_field_is_named() -> None:
    assert set(errors_of(title=" ", claimants="bots", per_claimant=0, prizes=[])) == {
        "title",
        "claimants",
        "per_claimant",
        "prizes",
    }


def test_per_claimant_may_not_exceed_the_tickets() -> None:
    assert set(errors_of(per_claimant=101)) == {"per_claimant"}
    assert validate_new_raffle(**raffle(per_claimant=100)).raffle is not None


def test_terms_round_trip_through_stored_fields() -> None:
    terms = RaffleTerms(10**9, Claimants.account, 7, early_close=True)
    assert RaffleTerms.from_fields(terms.to_fields()) == terms
