"""Raffle use cases: claiming a ticket and checking one.

Creating, closing and drawing a raffle are the draw lifecycle of
:class:`~fairdraw.services.drawing.DrawingService`; what only raffles do is here.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from fairdraw.domain import fairness, tickets
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import ACCOUNT_PREFIX, Claimants, Draw, DrawKind, DrawStatus
from fairdraw.domain.errors import (
    InvalidCode,
    NotAuthenticated,
    TicketNotFound,
    WrongDrawKind,
)
from fairdraw.domain.idempotency import RetryKey, SealBroken
from fairdraw.domain.moments import iso
from fairdraw.domain.receipts import sign_receipt
from fairdraw.domain.signing import SigningKey
from fairdraw.domain.substitutions import Standing
from fairdraw.metrics import counts_entries
from fairdraw.services.background import Background
from fairdraw.services.my_entries import EntryKind, remember
from fairdraw.services.ratelimit import Address, RateLimits, address_identifier
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.store.draws import DrawStore
from fairdraw.store.live_stats import LiveStats
from fairdraw.store.my_entries import MyEntriesStore
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
    # True when a keyed request got back the ticket its first attempt claimed.
    replayed: bool = False
    # fairdraw/2: the claim's place in the ledger, its public ref ("number:commitment to
    # the code") and the instance's signed promise that it is in the ledger.
    index: int | None = None
    ref: str | None = None
    signed: dict[str, object] | None = None

    @property
    def claimed_at(self) -> str:
        return iso(self.claimed_ms)

    def to_json(self) -> dict[str, object]:
        return {
            "draw_id": self.draw_id,
            "number": self.number,
            "code": self.code,
            "claimed_at": self.claimed_at,
            "index": self.index,
            "ref": self.ref,
            "signed": self.signed,
        }


@dataclass(frozen=True)
class KeptTicket:
    """A ticket as its claimant's browser can show it again: ``code`` is None once the
    claim's record has expired (or the key does not open it)."""

    draw_id: str
    number: int
    claimed_ms: int
    code: str | None
    # This ticket was the raffle's last: its claim sold the raffle out.
    last: bool = False
    # fairdraw/2: the claim's public ref and the instance's signed receipt of it, the
    # same the claim answered (made again from the stored claim: the signature is
    # deterministic, so every showing is the same receipt).
    ref: str | None = None
    signed: dict[str, object] | None = None


class TicketStatus(StrEnum):
    not_drawn = "not_drawn"
    won = "won"
    not_won = "not_won"
    cancelled = "cancelled"
    # Won, and forfeited the prize.
    forfeited = "forfeited"


# standing(draw, index): where a ledger entry of a drawn draw stands after forfeits.
StandingOf = Callable[[Draw, int], Awaitable[Standing]]


@dataclass(frozen=True)
class TicketCheck:
    """The outcome of checking a ticket whose code matched."""

    draw_id: str
    number: int
    status: TicketStatus
    prize: str | None = None
    # The ticket's rank among the alternates, when it was drawn as one: not won (yet),
    # or won as a promoted alternate after a forfeit.
    alternate: int | None = None

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
            "alternate": self.alternate,
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
        mine: MyEntriesStore | None = None,
        signing: SigningKey | None = None,
        standing: StandingOf | None = None,
    ) -> None:
        self._standing = standing
        self._mine = mine
        self._signing = signing
        self._draws = draws
        self._raffles = raffles
        self._ledger = ledger
        self._limits = limits
        self._secret = secret
        self._seal = seal
        self._activity = activity
        self._background = Background(log)

    @counts_entries("claim")
    async def claim(self, draw_id: str, caller: Caller, retry: RetryKey | None = None) -> Ticket:
        """Claim the next ticket of an open raffle for the caller.

        The claimant is the caller's account (``account`` raffles; NotAuthenticated
        without one) or their client address (``anonymous``), counted like the entry
        rate limit counts it. Refusals store nothing: SoldOut, TicketLimitReached,
        DrawNotOpen, WrongDrawKind, DrawNotFound, RateLimited.

        With ``retry`` (a keyed request), the claim and the request's record (the code
        sealed under the client's key: the store cannot read it) are stored in one step.
        A retry of the same request gets the same ticket with its code (``replayed``),
        even after the raffle sold out, and never claims twice.
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
        code_bytes = tickets.parse_code(code)
        code_hash = tickets.code_hash(self._secret, code_bytes)
        if terms.algorithm != fairness.ALGORITHM:
            # fairdraw/2: the ledger commits to the code, so who holds the ticket is
            # fixed before any randomness exists (the holder opens it with the code).
            code_hash += ":" + fairness.code_commitment(code_bytes)
        # Only the client's key opens the sealed code: the store never holds it readably.
        sealed = retry.seal(code.encode()) if retry is not None else ""
        claim = await self._raffles.claim(draw_id, claimant, code_hash, name, retry, sealed)
        if claim.replayed and retry is not None:
            code = retry.open(claim.sealed_code).decode()
        else:
            await self._after_new_claim(draw_id, claim.index, claim.claimed_ms, claim.sold_out)
        perm = await self._ledger.permutation(draw_id)
        ticket = Ticket(
            draw_id=draw_id,
            number=tickets.ticket_number(perm, claim.index),
            code=code,
            claimed_ms=claim.claimed_ms,
            sold_out=claim.sold_out,
            replayed=claim.replayed,
            index=claim.index,
        )
        if terms.algorithm != fairness.ALGORITHM:
            ticket = self._with_receipt(ticket)
        # Also on a replay: the attempt that made the claim may have died before this.
        await remember(self._mine, caller, EntryKind.ticket, draw_id, claim.index, claim.claimed_ms)
        return ticket

    def _with_receipt(self, ticket: Ticket) -> Ticket:
        """The fairdraw/2 ticket with its ref and, with a signing key, its signed
        receipt: the code it carries opens the ref's commitment."""
        commitment = fairness.code_commitment(tickets.parse_code(ticket.code))
        ref = fairness.raffle_ref_v2(ticket.number, commitment)
        signed = None
        if ticket.index is not None:
            signed = self._signed_receipt(ticket.draw_id, ticket.index, ref, ticket.claimed_ms)
        return dataclasses.replace(ticket, ref=ref, signed=signed)

    def _signed_receipt(
        self, draw_id: str, index: int, ref: str, claimed_ms: int
    ) -> dict[str, object] | None:
        """The signed receipt of claim ``index`` (None without a signing key). Ed25519
        signatures are deterministic: the same claim always gets the same receipt."""
        if self._signing is None:
            return None
        return sign_receipt(self._signing, draw_id, index, ref, claimed_ms)

    async def _after_new_claim(
        self, draw_id: str, index: int, claimed_ms: int, sold_out: bool
    ) -> None:
        """Count the claim for the dashboard; number and hash a chunk it completed, and
        seal a raffle it sold out, after the claimant has their answer."""
        if self._activity is not None:
            await self._activity.record_activity(draw_id, claimed_ms)
        if (index + 1) % fairness.CHUNK_LEAVES == 0:
            chunk = index // fairness.CHUNK_LEAVES
            self._background.soon(
                self._ledger.hash_complete_chunk(draw_id, chunk),
                f"numbering chunk {chunk} of raffle {draw_id}",
            )
        if sold_out and self._seal is not None:
            self._background.soon(self._seal(draw_id), f"sealing sold-out raffle {draw_id}")

    async def kept_ticket(self, draw_id: str, number: int, opener: RetryKey) -> KeptTicket | None:
        """Ticket ``number`` as the claimant's browser shows it again, with its code,
        while the claim's record (named ``opener.name``) lasts; ``code`` None if the
        record does not open under the browser's key. None if there is no such record
        (it expired) or it is not the claim of this ticket."""
        perm = await self._ledger.permutation(draw_id)
        if not 1 <= number <= perm.size:
            return None
        index = tickets.claim_index(perm, number)
        record = await self._raffles.claim_at(draw_id, index)
        if record is None:
            return None
        last = index + 1 == perm.size
        kept = await self._raffles.kept_claim(draw_id, opener.name)
        # Expired, or not a claim of this ticket: nothing to show beyond the number.
        if kept is None or kept.index != index:
            return None
        try:
            code: str | None = opener.open(kept.extra).decode()
        except SealBroken:
            code = None
        if record.commitment is None:  # fairdraw/1: no ref to receipt
            return KeptTicket(draw_id, number, record.claimed_ms, code, last)
        ref = fairness.raffle_ref_v2(number, record.commitment)
        signed = self._signed_receipt(draw_id, index, ref, record.claimed_ms)
        return KeptTicket(draw_id, number, record.claimed_ms, code, last, ref, signed)

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
        if self._standing is not None:
            return _checked(draw_id, number, await self._standing(draw, record.index))
        for winner in draw.result.winners:
            if winner.index == record.index:
                return TicketCheck(draw_id, number, TicketStatus.won, winner.prize)
        return TicketCheck(draw_id, number, TicketStatus.not_won)


def _checked(draw_id: str, number: int, standing: Standing) -> TicketCheck:
    """The check of a drawn ticket, from where it stands after any forfeits."""
    if standing.state in ("winner", "promoted"):
        return TicketCheck(draw_id, number, TicketStatus.won, standing.prize, standing.rank)
    if standing.state == "alternate":
        return TicketCheck(draw_id, number, TicketStatus.not_won, alternate=standing.rank)
    if standing.state == "forfeited":
        return TicketCheck(draw_id, number, TicketStatus.forfeited)
    return TicketCheck(draw_id, number, TicketStatus.not_won)
