"""Raffle use cases: claiming a ticket and checking one.

Creating, closing and drawing a raffle are the draw lifecycle of
:class:`~fairdraw.services.drawing.DrawingService`; what only raffles do is here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from fairdraw.domain import fairness, tickets
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import ACCOUNT_PREFIX, Claimants, DrawKind, DrawStatus
from fairdraw.domain.errors import (
    InvalidCode,
    NotAuthenticated,
    TicketNotFound,
    WrongDrawKind,
)
from fairdraw.services.background import Background
from fairdraw.services.drawing import iso
from fairdraw.services.ratelimit import Address, RateLimits, address_identifier
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.store.draws import DrawStore
from fairdraw.store.live_stats import LiveStats
from fairdraw.store.raffles import RaffleStore

log = logging.getLogger("fairdraw.raffles")

ADDRESS_PREFIX = "a:"

# seal(draw_id): seal a raffle that has just sold out.
Sealer = Callable[[str], Awaitable[object]]


@dataclass(frozen=True)
class Ticket:
    """A claimed ticket, as its holder receives it once: the code is never stored."""

    draw_id: str
    number: int
    code: str
    claimed_ms: int
    sold_out: bool

    @property
    def claimed_at(self) -> str:
        return iso(self.claimed_ms)

    def to_json(self) -> dict[str, object]:
        return {
            "draw_id": self.draw_id,
            "number": self.number,
            "code": self.code,
            "claimed_at": self.claimed_at,
        }


class TicketStatus(StrEnum):
    not_drawn = "not_drawn"
    won = "won"
    not_won = "not_won"
    cancelled = "cancelled"


@dataclass(frozen=True)
class TicketCheck:
    """The outcome of checking a ticket whose code matched."""

    draw_id: str
    number: int
    status: TicketStatus
    prize: str | None = None

    @property
    def has_won(self) -> bool:
        return self.status is TicketStatus.won

    def to_json(self) -> dict[str, object]:
        return {
            "draw_id": self.draw_id,
            "number": self.number,
            "valid": True,
            "status": self.status.value,
            "has_won": self.has_won,
            "prize": self.prize,
        }


class RaffleService:
    """Claims and checks of raffle tickets."""

    def __init__(
        self,
        draws: DrawStore,
        raffles: RaffleStore,
        ledger: TicketLedger,
        limits: RateLimits,
        secret: bytes,
        seal: Sealer | None = None,
        activity: LiveStats | None = None,
    ) -> None:
        self._draws = draws
        self._raffles = raffles
        self._ledger = ledger
        self._limits = limits
        self._secret = secret
        self._seal = seal
        self._activity = activity
        self._background = Background(log)

    async def claim(self, draw_id: str, caller: Caller) -> Ticket:
        """Claim the next ticket of an open raffle for the caller.

        The claimant is the caller's account (``account`` raffles; NotAuthenticated
        without one) or their client address (``anonymous``), counted like the entry
        rate limit counts it. Refusals store nothing: SoldOut, TicketLimitReached,
        DrawNotOpen, WrongDrawKind, DrawNotFound, RateLimited.
        """
        await self._limits.entry(draw_id, caller.address)
        terms = await self._draws.entry_terms(draw_id)
        if terms.raffle is None:
            raise WrongDrawKind("Only raffles have tickets to claim")
        name = ""
        if terms.raffle.claimants is Claimants.account:
            if caller.user is None:
                raise NotAuthenticated("Log in to claim a ticket in this raffle")
            claimant = ACCOUNT_PREFIX + caller.user.username
            name = caller.user.username
        else:
            # A keyed hash: no client address is stored in the clear.
            where = address_identifier(caller.address)
            claimant = ADDRESS_PREFIX + fairness.entry_ref(terms.salt, "address:" + where)
        code = tickets.new_code()
        claim = await self._raffles.claim(
            draw_id, claimant, tickets.code_hash(self._secret, tickets.parse_code(code)), name
        )
        if self._activity is not None:
            await self._activity.record_activity(draw_id, claim.claimed_ms)
        perm = await self._ledger.permutation(draw_id)
        if (claim.index + 1) % fairness.CHUNK_LEAVES == 0:
            chunk = claim.index // fairness.CHUNK_LEAVES
            self._background.soon(
                self._ledger.hash_complete_chunk(draw_id, chunk),
                f"numbering chunk {chunk} of raffle {draw_id}",
            )
        if claim.sold_out and self._seal is not None:
            self._background.soon(self._seal(draw_id), f"sealing sold-out raffle {draw_id}")
        return Ticket(
            draw_id=draw_id,
            number=tickets.ticket_number(perm, claim.index),
            code=code,
            claimed_ms=claim.claimed_ms,
            sold_out=claim.sold_out,
        )

    async def check(self, draw_id: str, number: int, code: str, address: Address) -> TicketCheck:
        """Whether ticket ``number`` won, for whoever holds its ``code``.

        A malformed code is InvalidInput; a number outside 1..N or not claimed is
        TicketNotFound; a wrong code is InvalidCode and counts against the wrong-code
        limit of this ticket from the client ``address`` (RateLimited once spent, even
        for the right code).
        """
        code_bytes = tickets.parse_code(code)
        draw = await self._draws.get(draw_id)
        if draw.kind is not DrawKind.raffle or draw.raffle is None:
            raise WrongDrawKind("Only raffles have tickets")
        if not 1 <= number <= draw.raffle.ticket_count:
            raise TicketNotFound(
                f"This raffle's tickets are numbered 1 to {draw.raffle.ticket_count}"
            )
        await self._limits.check_codes(draw_id, number, address)
        perm = await self._ledger.permutation(draw_id)
        record = await self._raffles.claim_at(draw_id, tickets.claim_index(perm, number))
        if record is None:
            raise TicketNotFound(f"Ticket {number} has not been claimed")
        if not tickets.code_matches(self._secret, code_bytes, record.code_hash):
            await self._limits.wrong_code(draw_id, number, address)
            raise InvalidCode()
        if draw.status is DrawStatus.cancelled:
            return TicketCheck(draw_id, number, TicketStatus.cancelled)
        if draw.result is None:
            return TicketCheck(draw_id, number, TicketStatus.not_drawn)
        for winner in draw.result.winners:
            if winner.index == record.index:
                return TicketCheck(draw_id, number, TicketStatus.won, winner.prize)
        return TicketCheck(draw_id, number, TicketStatus.not_won)
