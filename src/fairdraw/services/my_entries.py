"""The "My entries" list: what a logged-in user entered, claimed and cast, newest first.

The entry, claim and ballot services add each item to the user's index
(:mod:`fairdraw.store.my_entries`) right after the draw's script stored it; this module
reads the index back with what each item's draw says now (title, state, whether it won).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from fairdraw.domain.callers import Caller
from fairdraw.domain.errors import NotAuthenticated, StoreError
from fairdraw.domain.moments import iso
from fairdraw.domain.substitutions import Substitution
from fairdraw.services.forfeits import SubstitutionsOf
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.store.ledger import LedgerEntry, LedgerTerms
from fairdraw.store.my_entries import IndexedItem, ItemDetails, MyEntriesStore

log = logging.getLogger("fairdraw.my_entries")

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class EntryKind(StrEnum):
    """What an item is; the value is the index's one-letter code's long name."""

    entry = "entry"
    ticket = "ticket"
    ballot = "ballot"


_CODES = {EntryKind.entry: "e", EntryKind.ticket: "t", EntryKind.ballot: "b"}
_KINDS = {code: kind for kind, code in _CODES.items()}


async def remember(
    store: MyEntriesStore | None,
    caller: Caller,
    kind: EntryKind,
    draw_id: str,
    index: int,
    at_ms: int,
) -> None:
    """Add what a logged-in caller just did to their list. The draw's script already
    stored it: a store failure here only leaves it off the list (a keyed retry writes it
    again), so it is logged rather than turned into a failed request."""
    if store is None or caller.user is None:
        return
    item = IndexedItem(_CODES[kind], draw_id, index, at_ms)
    try:
        await store.add(caller.user.username, item)
    except StoreError as error:
        log.warning("could not list %s %s:%d for its user: %s", kind, draw_id, index, error)


@dataclass(frozen=True)
class MyEntry:
    """One item of the list. ``number`` is what its receipt calls it, counted from 1: the
    entry number of a giveaway entry (its index + 1), the ticket number, the ballot
    number; ``prize`` is set once it won."""

    kind: EntryKind
    draw_id: str
    index: int
    at_ms: int
    title: str
    status: str
    number: int
    ref: str | None = None
    label: str | None = None
    lottery_id: str | None = None
    day: str | None = None
    prize: str | None = None

    @property
    def at(self) -> str:
        return iso(self.at_ms)

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "draw_id": self.draw_id,
            "title": self.title,
            "status": self.status,
            "at": self.at,
            "index": self.index,
            "number": self.number,
            "ref": self.ref,
            "entrant": self.label,
            "lottery_id": self.lottery_id,
            "date": self.day,
            "won": self.prize is not None,
            "prize": self.prize,
        }


@dataclass(frozen=True)
class MyEntriesPage:
    items: tuple[MyEntry, ...]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + self.limit < self.total


def _prizes_of(winners_json: str | None, subs: Sequence[Substitution]) -> dict[int, str]:
    """Ledger index → the prize it holds now: the drawn winners', then each substitution
    in order (a forfeit gives the prize up, a promotion takes it)."""
    prizes: dict[int, str] = {}
    if winners_json:
        for winner in json.loads(winners_json).get("winners", []):
            prizes[int(winner.get("index", -1))] = str(winner.get("prize", ""))
    for sub in subs:
        prizes.pop(sub.forfeited.index, None)
        if sub.promoted is not None:
            prizes[sub.promoted.pick.index] = sub.prize
    return prizes


class MyEntriesService:
    """Reads a user's list of entries, tickets and ballots."""

    def __init__(
        self,
        store: MyEntriesStore,
        tickets: TicketLedger,
        substitutions: SubstitutionsOf | None = None,
    ) -> None:
        self._store = store
        self._tickets = tickets
        self._substitutions = substitutions

    async def page(self, caller: Caller, offset: int = 0, limit: int = PAGE_SIZE) -> MyEntriesPage:
        """The caller's items ``offset ..`` (at most ``limit``), newest first; items whose
        draw is gone are left out. NotAuthenticated without an account."""
        if caller.user is None:
            raise NotAuthenticated("Log in to see your entries")
        offset = max(0, offset)
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        total, items = await self._store.page(caller.user.username, offset, limit)
        found = [d for d in await self._store.details(items) if d.meta and d.element]
        ticket = _CODES[EntryKind.ticket]
        claims: dict[str, list[int]] = {}
        for details in found:
            if details.item.kind == ticket:
                claims.setdefault(details.item.draw_id, []).append(details.item.index)
        numbers = {
            draw_id: await self._tickets.numbers_of(draw_id, indexes)
            for draw_id, indexes in claims.items()
        }
        prizes: dict[str, dict[int, str]] = {}
        for details in found:
            draw_id = details.item.draw_id
            if draw_id not in prizes and details.meta.get("winners"):
                subs = await self._substitutions(draw_id) if self._substitutions else []
                prizes[draw_id] = _prizes_of(details.meta.get("winners"), subs)
        shown = tuple(_entry_of(d, numbers, prizes.get(d.item.draw_id, {})) for d in found)
        return MyEntriesPage(shown, total, offset, limit)


def _entry_of(
    details: ItemDetails, numbers: dict[str, dict[int, int]], prizes: dict[int, str]
) -> MyEntry:
    item, meta = details.item, details.meta
    kind = _KINDS[item.kind]
    element = details.element or ""
    at_ms = item.at_ms
    ref = label = lottery_id = day = None
    if kind is EntryKind.ticket:
        # A claim's line: "code hash, ms, claimant".
        fields = element.split("\t")
        at_ms = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else item.at_ms
        number = numbers[item.draw_id][item.index]
    else:
        entry = LedgerEntry.parse(item.index, element, LedgerTerms.from_fields(meta))
        at_ms, ref = entry.entered_ms, entry.ref
        number = item.index + 1  # counted from 1, as its receipt says
        if kind is EntryKind.ballot:
            lottery_id, day = meta.get("lottery_id"), meta.get("round_date")
        else:
            label = entry.label
    return MyEntry(
        kind=kind,
        draw_id=item.draw_id,
        index=item.index,
        at_ms=at_ms,
        title=meta.get("title", ""),
        status=meta.get("status", ""),
        number=number,
        ref=ref,
        label=label,
        lottery_id=lottery_id,
        day=day,
        prize=prizes.get(item.index),
    )
