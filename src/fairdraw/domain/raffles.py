"""Raffles: N numbered tickets, claimed one at a time, each able to win one prize.

A raffle is a draw of kind ``raffle``: its ledger holds one entry per claimed ticket, in
claim order, and the public reference of entry ``i`` is the ticket number that claim
``i`` received (:func:`fairdraw.domain.tickets.ticket_number`). This module checks what an
organiser asks for; the draw engine does the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fairdraw.domain.draws import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    Claimants,
    DrawKind,
    EntryIdentity,
    NewDraw,
    RaffleTerms,
    parse_prizes,
)
from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.tickets import MAX_TICKETS


def _whole_number(raw: object) -> int | None:
    """``raw`` as an int if it is one (or a string of digits); None otherwise."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    text = str(raw if raw is not None else "").strip().replace("_", "")
    if not text.isdecimal() or len(text) > 12:
        return None
    return int(text)


def validate_new_raffle(
    *,
    title: str,
    description: str,
    prizes: Sequence[Mapping[str, Any]],
    ticket_count: object,
    claimants: str = Claimants.anonymous.value,
    per_claimant: object = 1,
    early_close: bool = False,
) -> NewDraw:
    """Check everything the organiser typed; raise InvalidInput listing every bad field.

    ``ticket_count`` is 1..10^9; the prizes' total quantity may not exceed it (each
    ticket wins at most one prize); ``per_claimant`` is 1..``ticket_count``.
    """
    errors: dict[str, str] = {}
    title = title.strip()
    description = description.strip()
    if not title:
        errors["title"] = "Give the raffle a title"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"At most {TITLE_MAX} characters"
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"At most {DESCRIPTION_MAX} characters"
    parsed_prizes, prize_errors = parse_prizes(prizes)
    errors.update(prize_errors)
    count = _whole_number(ticket_count)
    if count is None or not 1 <= count <= MAX_TICKETS:
        errors["ticket_count"] = f"The number of tickets must be between 1 and {MAX_TICKETS:,}"
        count = None
    elif not prize_errors and sum(p.quantity for p in parsed_prizes) > count:
        errors["prizes"] = (
            f"{sum(p.quantity for p in parsed_prizes)} prizes but only {count} tickets: "
            "each ticket wins at most one prize"
        )
    try:
        who = Claimants(claimants)
    except ValueError:
        errors["claimants"] = "Choose anyone (one per address) or fairdraw accounts"
        who = Claimants.anonymous
    limit = _whole_number(per_claimant)
    if limit is None or limit < 1 or (count is not None and limit > count):
        errors["per_claimant"] = "Tickets per person must be between 1 and the number of tickets"
        limit = 1
    if errors or count is None:
        raise InvalidInput(errors)
    return NewDraw(
        kind=DrawKind.raffle,
        entry_identity=(
            EntryIdentity.account if who is Claimants.account else EntryIdentity.github
        ),
        title=title,
        description=description,
        prizes=parsed_prizes,
        raffle=RaffleTerms(
            ticket_count=count, claimants=who, per_claimant=limit, early_close=early_close
        ),
    )
