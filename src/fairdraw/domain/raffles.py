"""Raffles: N numbered tickets, claimed one at a time, each able to win one prize.

A raffle is a draw of kind ``raffle``: its ledger holds one entry per claimed ticket, in
claim order, and the public reference of entry ``i`` is the ticket number that claim
``i`` received (:func:`fairdraw.domain.tickets.ticket_number`). This module checks what an
organiser asks for; the draw engine does the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fairdraw.domain import zones
from fairdraw.domain.draws import (
    Claimants,
    DrawKind,
    EntryIdentity,
    NewDraw,
    RaffleTerms,
    parse_prizes,
    read_heading,
    whole_number,
)
from fairdraw.domain.embedding import parse_embed_origins
from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.tickets import MAX_TICKETS
from fairdraw.i18n import N_, Message

# The most tickets a raffle that may not close early can have: it closes only when its
# last ticket is claimed, and beyond this many claims that day would in practice never
# come, so its prizes would never be drawn.
MAX_TICKETS_WITHOUT_EARLY_CLOSE = 1_000_000


def validate_new_raffle(
    *,
    title: str,
    description: str,
    prizes: Sequence[Mapping[str, Any]],
    ticket_count: object,
    claimants: str = Claimants.anonymous.value,
    per_claimant: object = 1,
    early_close: bool = False,
    embed_origins: Sequence[str] = (),
    time_zone: str | None = None,
) -> NewDraw:
    """Check everything the organiser typed; raise InvalidInput listing every bad field.

    ``ticket_count`` is 1..10^9, and at most ``MAX_TICKETS_WITHOUT_EARLY_CLOSE`` unless
    ``early_close`` (else the raffle could never be drawn); the prizes' total quantity
    may not exceed it (each ticket wins at most one prize); ``per_claimant`` is
    1..``ticket_count``.
    """
    errors: dict[str, str] = {}
    title, description = read_heading(errors, title, description, what="raffle")
    parsed_prizes, prize_errors = parse_prizes(prizes)
    errors.update(prize_errors)
    count = whole_number(ticket_count)
    if count is None or not 1 <= count <= MAX_TICKETS:
        errors["ticket_count"] = Message(
            N_("The number of tickets must be between 1 and %(limit)s"), limit=MAX_TICKETS
        )
        count = None
    elif count > MAX_TICKETS_WITHOUT_EARLY_CLOSE and not early_close:
        errors["ticket_count"] = Message(
            N_(
                "A raffle that may not close early can close only when all %(count)s tickets "
                "are claimed; allow early close or use at most %(limit)s tickets"
            ),
            count=count,
            limit=MAX_TICKETS_WITHOUT_EARLY_CLOSE,
        )
    if count is not None and not prize_errors and sum(p.quantity for p in parsed_prizes) > count:
        errors["prizes"] = Message(
            N_("%(prizes)s prizes but only %(count)s tickets: each ticket wins at most one prize"),
            prizes=sum(p.quantity for p in parsed_prizes),
            count=count,
        )
    try:
        who = Claimants(claimants)
    except ValueError:
        errors["claimants"] = N_("Choose anyone (one per address) or fairdraw accounts")
        who = Claimants.anonymous
    limit = whole_number(per_claimant)
    if limit is None or limit < 1 or (count is not None and limit > count):
        errors["per_claimant"] = N_(
            "Tickets per person must be between 1 and the number of tickets"
        )
        limit = 1
    origins, origins_error = parse_embed_origins(embed_origins)
    if origins_error:
        errors["embed_origins"] = origins_error
    zone = zones.DEFAULT_ZONE
    try:
        zone = zones.read_zone(time_zone)
    except InvalidInput as error:
        errors.update(error.errors)
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
        embed_origins=origins,
        time_zone=zone,
    )
