"""A draw's entrants for its manager: a paginated, searchable list, and exports of the
entrants, of the winners and alternates, and of a lottery's winners by date.

Only a draw's manager (for a lottery and its rounds the lottery's creator) and
administrators see who entered, from a manager network when those are configured. The
list pages by ledger index and a search reads the name search buckets the entry script
keeps, so neither walks the ledger; an export reads it EXPORT_CHUNK elements at a time,
so a million rows cost no more memory than a thousand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from fairdraw.domain import fairness, tickets
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import ACCOUNT_PREFIX, Draw, DrawKind, WinnerView, account_holder
from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.networks import IPNetwork
from fairdraw.domain.substitutions import Substitution
from fairdraw.i18n import N_, Message
from fairdraw.services.dashboard_views import check_query, is_number
from fairdraw.services.forfeits import SubstitutionsOf
from fairdraw.services.lotteries import HISTORY_MAX, LotteryService
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.services.viewing import require_draw_viewer
from fairdraw.store.draws import DrawStore, LedgerEntry
from fairdraw.store.keys import NAME_BUCKET_CHARS
from fairdraw.store.live_stats import LiveStats
from fairdraw.store.raffles import ClaimRecord

PAGE_DEFAULT = 50
PAGE_MAX = 500
# A search lists at most this many matches, however far it is paged.
SEARCH_MAX = 1000
# Ledger elements an export reads per LRANGE.
EXPORT_CHUNK = 2000
ANONYMOUS = "anonymous"


class Outcome(StrEnum):
    """What the draw made of an entry: nothing yet (not drawn), or after the draw a win,
    an alternate's place, a prize forfeited (it went on to an alternate), or none."""

    pending = "pending"
    winner = "winner"
    alternate = "alternate"
    forfeited = "forfeited"
    none = "none"


@dataclass(frozen=True)
class Placing:
    """A winner's prize and slot (from 0), with its rank (from 1) when it holds the
    prize as a promoted alternate; an alternate's rank; or the prize and slot that a
    forfeit gave up."""

    outcome: Outcome
    prize: str = ""
    slot: int | None = None
    rank: int | None = None


NO_PLACING = Placing(Outcome.none)
PENDING = Placing(Outcome.pending)


@dataclass(frozen=True)
class EntrantRow:
    """One entry as its manager sees it: ledger ``index``, the ``number`` people see
    (entry number index + 1, or a raffle's ticket number), when, who (GitHub login,
    account name, or "anonymous" for a raffle claim without an account), the public
    reference and the outcome."""

    index: int
    number: int
    at_ms: int
    label: str
    ref: str
    placing: Placing


@dataclass(frozen=True)
class EntrantsPage:
    """Rows ``offset ..`` of the list (ledger order), or of a search's matches (newest
    first); ``more`` when rows follow; ``total`` is the number of entries in the draw."""

    draw: Draw
    rows: list[EntrantRow]
    offset: int
    limit: int
    total: int
    more: bool
    query: str = ""


@dataclass(frozen=True)
class PickRow:
    """A winner or an alternate, as exported: prize and slot, or rank."""

    placing: Placing
    index: int
    number: int
    ref: str
    label: str


@dataclass(frozen=True)
class LotteryWinnerRow:
    """One winner of one day's round of a lottery."""

    day: date
    round_id: str
    prize: str
    ballot: int
    ref: str
    name: str


def placings(draw: Draw, subs: Sequence[Substitution] = ()) -> dict[int, Placing]:
    """Ledger index → placing of every winner and alternate after the substitutions
    ``subs`` (empty before the draw)."""
    if draw.result is None:
        return {}
    found: dict[int, Placing] = {}
    for rank, alternate in enumerate(draw.result.alternates, start=1):
        found[alternate.index] = Placing(Outcome.alternate, rank=rank)
    for winner in draw.result.winners:
        found[winner.index] = Placing(Outcome.winner, prize=winner.prize, slot=winner.slot)
    for sub in subs:
        found[sub.forfeited.index] = Placing(Outcome.forfeited, prize=sub.prize, slot=sub.slot)
        if sub.promoted is not None:
            found[sub.promoted.pick.index] = Placing(
                Outcome.winner, prize=sub.prize, slot=sub.slot, rank=sub.promoted.alternate
            )
    return found


def _holder(claim: ClaimRecord) -> str:
    if claim.claimant.startswith(ACCOUNT_PREFIX):
        return claim.claimant.removeprefix(ACCOUNT_PREFIX)
    return ANONYMOUS


def _pick_label(pick: WinnerView, kind: DrawKind) -> str:
    if kind is DrawKind.raffle:
        return pick.login or ANONYMOUS
    return pick.login or pick.name


class EntrantsService:
    """The entrant list and exports; every use case checks who is asking first."""

    def __init__(
        self,
        draws: DrawStore,
        stats: LiveStats,
        tickets: TicketLedger,
        lotteries: LotteryService,
        manager_networks: Sequence[IPNetwork] = (),
        substitutions: SubstitutionsOf | None = None,
    ) -> None:
        self._draws = draws
        self._stats = stats
        self._tickets = tickets
        self._lotteries = lotteries
        self._networks = tuple(manager_networks)
        self._substitutions = substitutions

    async def _subs(self, draw: Draw) -> list[Substitution]:
        """The draw's forfeits and promotions, in order (none before the draw)."""
        if draw.result is None or self._substitutions is None:
            return []
        return await self._substitutions(draw.id)

    async def _viewable(self, caller: Caller, draw_id: str) -> Draw:
        draw = await self._draws.get(draw_id)
        require_draw_viewer(caller, draw, self._networks)
        return draw

    # -- the list ------------------------------------------------------------------------
    async def page(
        self,
        caller: Caller,
        draw_id: str,
        offset: int = 0,
        limit: int = PAGE_DEFAULT,
        query: str = "",
    ) -> EntrantsPage:
        """Entries ``offset .. offset+limit-1`` in ledger order; with a ``query``, the
        entrants whose name starts with it (a raffle's ticket number finds its ticket,
        listed first), newest first, at most SEARCH_MAX in all."""
        draw = await self._viewable(caller, draw_id)
        if offset < 0 or not 1 <= limit <= PAGE_MAX:
            raise InvalidInput(
                {
                    "limit": Message(
                        N_("Ask for 1 to %(limit)s rows from offset 0 or more"), limit=PAGE_MAX
                    )
                }
            )
        total = await self._draws.ledger_length(draw.id)
        rowify = await self._rowifier(draw)
        if query.strip():
            clean = check_query(query, tickets_too=draw.kind is DrawKind.raffle)
            found = await self._search(draw, clean, min(offset + limit + 1, SEARCH_MAX), total)
            wanted = found[offset : offset + limit]
            elements = await self._stats.elements(draw.id, wanted)
            rows = [rowify(i, e) for i, e in zip(wanted, elements, strict=True)]
            more = len(found) > offset + limit and offset + limit < SEARCH_MAX
            return EntrantsPage(draw, rows, offset, limit, total, more, clean)
        stop = min(offset + limit, total)
        elements = await self._draws.ledger_slice(draw.id, offset, stop) if offset < stop else []
        rows = [rowify(offset + n, e) for n, e in enumerate(elements)]
        return EntrantsPage(draw, rows, offset, limit, total, stop < total)

    async def _search(self, draw: Draw, query: str, limit: int, total: int) -> list[int]:
        indexes: list[int] = []
        if draw.kind is DrawKind.raffle and is_number(query):
            perm = await self._tickets.permutation(draw.id)
            number = int(query)
            if 1 <= number <= perm.size:
                index = tickets.claim_index(perm, number)
                if index < total:
                    indexes.append(index)
        if len(query) >= NAME_BUCKET_CHARS:
            hits = await self._stats.search_names(draw.id, query, limit)
            indexes.extend(h.index for h in hits if h.index not in indexes)
        return indexes[:limit]

    async def _rowifier(self, draw: Draw) -> Callable[[int, str], EntrantRow]:
        """A function from (ledger index, ledger element) to the row, for this draw."""
        known = placings(draw, await self._subs(draw))
        default = PENDING if draw.result is None else NO_PLACING
        if draw.kind is DrawKind.raffle:
            perm = await self._tickets.permutation(draw.id)
            v1 = draw.algorithm == fairness.ALGORITHM

            def claim_row(index: int, element: str) -> EntrantRow:
                claim = ClaimRecord.parse(index, element)
                number = tickets.ticket_number(perm, index)
                ref = str(number) if v1 else fairness.raffle_ref_v2(number, claim.commitment or "")
                placing = known.get(index, default)
                return EntrantRow(index, number, claim.claimed_ms, _holder(claim), ref, placing)

            return claim_row
        lottery = draw.kind is DrawKind.lottery
        terms = await self._draws.ledger_terms(draw.id)

        def entry_row(index: int, element: str) -> EntrantRow:
            entry = LedgerEntry.parse(index, element, terms)
            label = (account_holder(entry.identity) or entry.label) if lottery else entry.label
            placing = known.get(index, default)
            return EntrantRow(index, index + 1, entry.entered_ms, label, entry.ref, placing)

        return entry_row

    # -- exports -------------------------------------------------------------------------
    async def open_export(self, caller: Caller, draw_id: str) -> AsyncIterator[list[EntrantRow]]:
        """The draw's entrants in ledger order, EXPORT_CHUNK rows at a time (the
        caller is checked now, before anything is sent; the entries are those made by
        now)."""
        draw = await self._viewable(caller, draw_id)
        total = await self._draws.ledger_length(draw.id)
        rowify = await self._rowifier(draw)

        async def chunks() -> AsyncIterator[list[EntrantRow]]:
            for start in range(0, total, EXPORT_CHUNK):
                stop = min(start + EXPORT_CHUNK, total)
                elements = await self._draws.ledger_slice(draw.id, start, stop)
                yield [rowify(start + n, e) for n, e in enumerate(elements)]

        return chunks()

    async def picks(self, caller: Caller, draw_id: str) -> list[PickRow]:
        """Who holds each prize now, in slot order (a promoted alternate with its rank);
        then the entries that forfeited, in the order they did; then the alternates
        still waiting, in rank order. None before the draw."""
        draw = await self._viewable(caller, draw_id)
        if draw.result is None:
            return []
        views = {p.index: p for p in (*draw.result.alternates, *draw.result.winners)}
        numbers: dict[int, int] = {}
        if draw.kind is DrawKind.raffle:
            numbers = await self._tickets.numbers_of(draw.id, list(views))
        subs = await self._subs(draw)
        known = placings(draw, subs)
        held = [i for i, p in known.items() if p.outcome is Outcome.winner]
        held.sort(key=lambda i: known[i].slot or 0)
        forfeited = [s.forfeited.index for s in subs]
        waiting = [p.index for p in draw.result.alternates]
        waiting = [i for i in waiting if known[i].outcome is Outcome.alternate]
        return [
            PickRow(
                known[i],
                i,
                numbers.get(i, i + 1),
                views[i].ref,
                _pick_label(views[i], draw.kind),
            )
            for i in (*held, *forfeited, *waiting)
        ]

    async def lottery_winners(self, caller: Caller, lottery_id: str) -> list[LotteryWinnerRow]:
        """Every winner of the lottery's drawn rounds, by date (oldest first)."""
        lottery = await self._lotteries.get(lottery_id)
        require_draw_viewer(caller, lottery, self._networks)
        rounds = await self._lotteries.history(lottery_id, HISTORY_MAX)
        return [
            LotteryWinnerRow(r.day, r.round_id, w.prize, w.number, w.ref, w.name)
            for r in reversed(rounds)
            for w in r.winners
        ]
