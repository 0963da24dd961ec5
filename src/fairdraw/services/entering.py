"""Entering a draw."""

from __future__ import annotations

from dataclasses import dataclass

from fairdraw.domain import fairness
from fairdraw.domain.errors import AlreadyEntered
from fairdraw.domain.identity import normalize_github_login
from fairdraw.services.drawing import iso
from fairdraw.services.github import GitHubClient
from fairdraw.store.draws import DrawStore, LedgerEntry


@dataclass(frozen=True)
class Receipt:
    """What an entrant keeps: their place in the ledger and its public reference."""

    draw_id: str
    index: int
    ref: str
    entered_ms: int
    login: str

    @property
    def entered_at(self) -> str:
        return iso(self.entered_ms)

    def to_json(self) -> dict[str, object]:
        return {
            "draw_id": self.draw_id,
            "index": self.index,
            "ref": self.ref,
            "entered_at": self.entered_at,
            "github": self.login,
        }


def receipt_of(draw_id: str, entry: LedgerEntry) -> Receipt:
    return Receipt(draw_id, entry.index, entry.ref, entry.entered_ms, entry.label)


class EnteringService:
    def __init__(self, store: DrawStore, github: GitHubClient) -> None:
        self._store = store
        self._github = github

    async def enter_with_github(self, draw_id: str, raw_handle: str) -> Receipt:
        """Enter the GitHub user ``raw_handle``; the numeric GitHub id is the identity.

        Raises InvalidInput before anything else for a malformed handle,
        GitHubUserNotFound / GitHubUnavailable when GitHub cannot confirm the user, and
        AlreadyEntered (carrying the original receipt) for a second entry.
        """
        login = normalize_github_login(raw_handle)
        salt = await self._store.salt(draw_id)
        profile = await self._github.lookup(login)
        ref = fairness.entry_ref(salt, profile.identity)
        outcome = await self._store.enter(draw_id, profile.identity, ref, profile.login)
        receipt = receipt_of(draw_id, outcome.entry)
        if not outcome.created:
            raise AlreadyEntered(
                "You have already entered this draw; here is your original receipt",
                receipt=receipt.to_json(),
            )
        return receipt
