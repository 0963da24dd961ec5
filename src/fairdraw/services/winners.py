"""Who a draw picked, as its results show them and as they are stored with the result:
for a giveaway the entrant's GitHub name and avatar (looked up once, at the draw, so
that the results page keeps working when GitHub is down later), for a raffle the ticket
number and, for account raffles, the account that holds it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from fairdraw.domain.draws import GITHUB_PREFIX, Draw, DrawKind, account_holder
from fairdraw.domain.errors import FairdrawError, WrongDrawKind
from fairdraw.domain.identity import GitHubProfile
from fairdraw.services.github import GitHubClient
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.store.draws import DrawStore, LedgerEntry


class PickedPeople:
    """The people behind picked ledger indexes."""

    def __init__(
        self, store: DrawStore, github: GitHubClient, tickets: TicketLedger | None
    ) -> None:
        self._store = store
        self._github = github
        self._tickets = tickets
        # Winners' profiles are looked up concurrently, a few at a time (GitHub's limits).
        self._lookups = asyncio.Semaphore(8)

    async def of_picks(self, draw: Draw, picks: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Each picked index's person: index, public ref, login, name, avatar and
        profile URLs (None where there are none)."""
        if draw.kind is DrawKind.raffle:
            return await self._ticket_holders(draw, picks)
        entries = await self._store.entries_at(draw.id, picks)
        profiles = await asyncio.gather(*map(self._profile_of, entries))
        return {entry.index: person for entry, person in zip(entries, profiles, strict=True)}

    async def _ticket_holders(self, draw: Draw, picks: Sequence[int]) -> dict[int, dict[str, Any]]:
        """What the results page shows of picked raffle tickets: the number, and the
        account that holds it when the raffle is for accounts."""
        if self._tickets is None:
            raise WrongDrawKind("Raffles are not available here")
        holders = await self._tickets.holders(draw.id, picks)
        refs = await self._tickets.refs_of(draw.id, picks)
        people: dict[int, dict[str, Any]] = {}
        for index, (number, claimant) in holders.items():
            people[index] = {
                "index": index,
                "ref": refs[index],
                "login": account_holder(claimant) or "",
                "name": f"Ticket {number}",
                "avatar_url": None,
                "html_url": None,
            }
        return people

    async def _profile_of(self, entry: LedgerEntry) -> dict[str, Any]:
        """What the results page shows of an entrant, kept with the result so that it
        keeps working when GitHub is down later."""
        async with self._lookups:
            return await self._lookup_profile(entry)

    async def _lookup_profile(self, entry: LedgerEntry) -> dict[str, Any]:
        person: dict[str, Any] = {
            "index": entry.index,
            "ref": entry.ref,
            "login": entry.label,
            "name": entry.label,
            "avatar_url": None,
            "html_url": None,
        }
        if not entry.identity.startswith(GITHUB_PREFIX):
            return person
        profile: GitHubProfile | None = None
        try:
            profile = await self._github.lookup(entry.label)
            if profile.identity != entry.identity:
                # The login was renamed since the entry; the numeric id is the entrant.
                github_id = int(entry.identity.removeprefix(GITHUB_PREFIX))
                profile = await self._github.lookup_by_id(github_id)
        except (FairdrawError, ValueError):
            profile = None
        if profile is not None and profile.identity == entry.identity:
            person.update(
                login=profile.login,
                name=profile.display_name,
                avatar_url=profile.avatar_url,
                html_url=profile.html_url,
            )
        return person
