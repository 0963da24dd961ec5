"""Entering a draw."""

from __future__ import annotations

from dataclasses import dataclass

from fairdraw.domain import fairness
from fairdraw.domain.accounts import User
from fairdraw.domain.draws import EntryIdentity
from fairdraw.domain.errors import AlreadyEntered, InvalidInput, NotAuthenticated
from fairdraw.domain.identity import normalize_github_login
from fairdraw.services.drawing import iso
from fairdraw.services.github import GitHubClient
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
    def __init__(self, store: DrawStore, github: GitHubClient) -> None:
        self._store = store
        self._github = github

    async def enter(self, draw_id: str, *, github: str | None, user: User | None) -> Receipt:
        """Enter a draw as its rules say: with a GitHub username, or as the logged-in
        account. Raises AlreadyEntered (carrying the original receipt) for a second entry."""
        terms = await self._store.entry_terms(draw_id)
        if terms.entry_identity is EntryIdentity.account:
            if user is None:
                raise NotAuthenticated("Log in to enter this draw")
            return await self._append(
                draw_id, terms.salt, ACCOUNT_PREFIX + user.username, user.username
            )
        if github is None:
            raise InvalidInput({"github": "Enter a GitHub username"})
        return await self.enter_with_github(draw_id, github)

    async def enter_with_github(self, draw_id: str, raw_handle: str) -> Receipt:
        """Enter the GitHub user ``raw_handle``; the numeric GitHub id is the identity.

        Raises InvalidInput before anything else for a malformed handle,
        GitHubUserNotFound / GitHubUnavailable when GitHub cannot confirm the user, and
        AlreadyEntered (carrying the original receipt) for a second entry.
        """
        login = normalize_github_login(raw_handle)
        terms = await self._store.entry_terms(draw_id)
        if terms.entry_identity is not EntryIdentity.github:
            raise InvalidInput({"github": "This draw is entered with a fairdraw account"})
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
