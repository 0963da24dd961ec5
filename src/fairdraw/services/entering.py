"""Entering a draw."""

from __future__ import annotations

from dataclasses import dataclass

from fairdraw.domain import fairness
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import EntryIdentity
from fairdraw.domain.errors import AlreadyEntered, NotAuthenticated
from fairdraw.domain.identity import normalize_github_login
from fairdraw.services.drawing import iso
from fairdraw.services.github import GitHubClient
from fairdraw.services.ratelimit import RateLimits
from fairdraw.store.draws import DrawStore, LedgerEntry

ACCOUNT_PREFIX = "u:"
GITHUB_PREFIX = "gh:"


@dataclass(frozen=True)
class Receipt:
    """What an entrant keeps: their place in the ledger and its public reference."""

    draw_id: str
    index: int
    ref: str
    entered_ms: int
    entrant: str
    identity_kind: EntryIdentity

    @property
    def entered_at(self) -> str:
        return iso(self.entered_ms)

    def to_json(self) -> dict[str, object]:
        github = self.entrant if self.identity_kind is EntryIdentity.github else None
        account = self.entrant if self.identity_kind is EntryIdentity.account else None
        return {
            "draw_id": self.draw_id,
            "index": self.index,
            "ref": self.ref,
            "entered_at": self.entered_at,
            "github": github,
            "account": account,
        }


def receipt_of(draw_id: str, entry: LedgerEntry) -> Receipt:
    kind = (
        EntryIdentity.account if entry.identity.startswith(ACCOUNT_PREFIX) else EntryIdentity.github
    )
    return Receipt(draw_id, entry.index, entry.ref, entry.entered_ms, entry.label, kind)


class EnteringService:
    def __init__(self, store: DrawStore, github: GitHubClient, limits: RateLimits) -> None:
        self._store = store
        self._github = github
        self._limits = limits

    async def enter(self, draw_id: str, *, github: str | None, caller: Caller) -> Receipt:
        """Enter a draw as its rules say: with a GitHub username (the numeric GitHub id
        is the identity), or as the caller's account.

        Every attempt counts against the per-address entry limit (RateLimited, nothing
        stored). A malformed handle is InvalidInput before any lookup; GitHub's answers
        become GitHubUserNotFound / GitHubUnavailable; a second entry is AlreadyEntered,
        carrying the original receipt.
        """
        await self._limits.entry(draw_id, caller.address)
        terms = await self._store.entry_terms(draw_id)
        if terms.entry_identity is EntryIdentity.account:
            user = caller.user
            if user is None:
                raise NotAuthenticated("Log in to enter this draw")
            identity = ACCOUNT_PREFIX + user.username
            return await self._append(draw_id, terms.salt, identity, user.username)
        login = normalize_github_login(github or "")
        profile = await self._github.lookup(login)
        return await self._append(draw_id, terms.salt, profile.identity, profile.login)

    async def _append(self, draw_id: str, salt: bytes, identity: str, label: str) -> Receipt:
        ref = fairness.entry_ref(salt, identity)
        outcome = await self._store.enter(draw_id, identity, ref, label)
        receipt = receipt_of(draw_id, outcome.entry)
        if not outcome.created:
            raise AlreadyEntered(
                "You have already entered this draw; here is your original receipt",
                receipt=receipt.to_json(),
            )
        return receipt
