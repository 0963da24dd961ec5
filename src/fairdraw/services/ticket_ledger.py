"""A raffle's ledger as the fairness algorithm sees it: claim ``i`` has the public
reference ``str(ticket number)``.

Ticket numbers follow from the raffle's secret permutation alone, but computing one costs
tens of microseconds, so they are computed a ledger chunk at a time in worker processes:
while the raffle is open, as each chunk of 65,536 claims fills (numbers and chunk root are
kept together); the rest when the raffle is sealed. The entries file then reads the kept
numbers instead of computing ten million permutations on request.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterable

from fairdraw.domain import fairness, tickets
from fairdraw.domain.errors import WrongDrawKind
from fairdraw.services import sealing
from fairdraw.store.draws import DrawStore
from fairdraw.store.raffles import RaffleStore, claim_commitment

# Numbering fewer claims than this runs in a thread; more go to worker processes.
POOL_FROM = 4096


class TicketLedger:
    """Ticket numbers, chunk roots and the entries file of raffles."""

    def __init__(self, draws: DrawStore, raffles: RaffleStore) -> None:
        self._draws = draws
        self._raffles = raffles

    async def permutation(self, draw_id: str) -> tickets.TicketPermutation:
        """The raffle's ticket permutation (WrongDrawKind for other draws)."""
        terms = await self._draws.entry_terms(draw_id)
        if terms.raffle is None or terms.perm_key is None:
            raise WrongDrawKind("Only raffles have tickets")
        return tickets.TicketPermutation(terms.perm_key, terms.raffle.ticket_count)

    async def numbering(self, draw_id: str) -> Callable[[int], int]:
        """Ledger index → the number people see: a raffle's ticket number, else the
        entry number (index + 1)."""
        terms = await self._draws.entry_terms(draw_id)
        if terms.raffle is None or terms.perm_key is None:
            return _entry_number
        perm = tickets.TicketPermutation(terms.perm_key, terms.raffle.ticket_count)
        return functools.partial(tickets.ticket_number, perm)

    async def numbers_of(self, draw_id: str, indexes: Iterable[int]) -> dict[int, int]:
        """The ticket numbers of a few claims, by claim index."""
        perm = await self.permutation(draw_id)
        return {i: tickets.ticket_number(perm, i) for i in indexes}

    async def holders(self, draw_id: str, indexes: Iterable[int]) -> dict[int, tuple[int, str]]:
        """Ticket number and claimant of a few claims, by claim index."""
        wanted = sorted(set(indexes))
        numbers = await self.numbers_of(draw_id, wanted)
        claims = await self._raffles.claims_at(draw_id, wanted)
        return {c.index: (numbers[c.index], c.claimant) for c in claims}

    async def hash_complete_chunk(self, draw_id: str, chunk: int) -> None:
        """Number and hash complete ledger chunk ``chunk`` now, keeping both, so that the
        seal and the entries file have less to do. Harmless to repeat."""
        size = fairness.CHUNK_LEAVES
        start = chunk * size
        if await self._draws.ledger_length(draw_id) < start + size:
            raise ValueError(f"ledger chunk {chunk} of raffle {draw_id} is not complete")
        await self._number_chunk(draw_id, chunk, start, start + size, in_pool=True)

    async def root(self, draw_id: str, count: int) -> bytes:
        """The Merkle root of the first ``count`` claims, for the seal: chunks hashed
        while the raffle was open are reused; the others are numbered, hashed and kept."""
        known = await self._draws.chunk_roots(draw_id)
        missing = sealing.missing_chunks(count, known)
        in_pool = _claims_in(missing, count) >= POOL_FROM

        async def hash_chunk(chunk: int, start: int, stop: int) -> bytes:
            _, root = await self._number_chunk(draw_id, chunk, start, stop, in_pool=in_pool)
            return root

        return await sealing.root_from_chunks(count, known, hash_chunk, parallel=in_pool)

    async def iter_refs(self, draw_id: str, count: int) -> AsyncIterator[list[str]]:
        """The public references (ticket numbers; ``number:code commitment`` in a
        fairdraw/2 raffle) of the first ``count`` claims of a sealed ledger, a chunk at a
        time, in claim order."""
        for chunk in range(len(fairness.chunk_starts(count))):
            yield await self.chunk_refs(draw_id, chunk, count)

    async def chunk_refs(self, draw_id: str, chunk: int, count: int) -> list[str]:
        """The public references of the claims in ledger chunk ``chunk`` of a sealed
        ledger of ``count`` claims, from the kept ticket numbers when there are some."""
        size = fairness.CHUNK_LEAVES
        start = chunk * size
        stop = min(start + size, count)
        numbers = await self._raffles.chunk_numbers(draw_id, chunk)
        if numbers is None or len(numbers) < stop - start:
            in_pool = stop - start >= POOL_FROM
            numbers, _ = await self._number_chunk(draw_id, chunk, start, stop, in_pool=in_pool)
        v2 = (await self._draws.entry_terms(draw_id)).algorithm != fairness.ALGORITHM
        commitments = await self._commitments(draw_id, start, stop) if v2 else None
        return sealing.raffle_refs(numbers[: stop - start], commitments)

    async def refs_of(self, draw_id: str, indexes: Iterable[int]) -> dict[int, str]:
        """The public references of a few claims, by claim index."""
        wanted = sorted(set(indexes))
        numbers = await self.numbers_of(draw_id, wanted)
        if (await self._draws.entry_terms(draw_id)).algorithm == fairness.ALGORITHM:
            return {i: str(n) for i, n in numbers.items()}
        claims = await self._raffles.claims_at(draw_id, wanted)
        return {
            c.index: fairness.raffle_ref_v2(numbers[c.index], c.commitment or "") for c in claims
        }

    async def _commitments(self, draw_id: str, start: int, stop: int) -> list[str]:
        """The code commitments of claims ``start .. stop-1`` of a fairdraw/2 raffle."""
        elements = await self._draws.ledger_slice(draw_id, start, stop)
        return [claim_commitment(e) for e in elements]

    async def _number_chunk(
        self, draw_id: str, chunk: int, start: int, stop: int, *, in_pool: bool
    ) -> tuple[list[int], bytes]:
        """Numbers and root of claims ``start .. stop-1``, computed and kept. Only called
        for a complete chunk or a sealed ledger, whose claims no longer change."""
        terms = await self._draws.entry_terms(draw_id)
        if terms.raffle is None or terms.perm_key is None:
            raise WrongDrawKind("Only raffles have tickets")
        commitments = None
        if terms.algorithm != fairness.ALGORITHM:
            commitments = await self._commitments(draw_id, start, stop)
        numbers, root = await sealing.compute(
            sealing.ticket_chunk,
            terms.perm_key,
            terms.raffle.ticket_count,
            start,
            stop,
            commitments,
            in_pool=in_pool,
        )
        complete = stop - start == fairness.CHUNK_LEAVES
        await self._raffles.save_chunk(draw_id, chunk, numbers, root if complete else None)
        return numbers, root


def _claims_in(chunks: Iterable[int], count: int) -> int:
    """How many of ``count`` claims lie in ``chunks``."""
    size = fairness.CHUNK_LEAVES
    return sum(min(size, count - k * size) for k in chunks)


def _entry_number(index: int) -> int:
    return index + 1
