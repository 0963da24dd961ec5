"""Entering a draw."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fairdraw.domain import fairness
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import ACCOUNT_PREFIX, DrawKind, EntryIdentity
from fairdraw.domain.errors import (
    AlreadyEntered,
    GitHubSignInRequired,
    NotAuthenticated,
    WrongDrawKind,
)
from fairdraw.domain.idempotency import RetryKey
from fairdraw.domain.identity import GitHubProfile, normalize_github_login
from fairdraw.domain.moments import iso
from fairdraw.domain.receipts import sign_receipt
from fairdraw.domain.signing import SigningKey
from fairdraw.metrics import counts_entries
from fairdraw.services.background import Background
from fairdraw.services.github import GitHubClient
from fairdraw.services.my_entries import EntryKind, remember
from fairdraw.services.ratelimit import RateLimits
from fairdraw.store.draws import DrawStore, EntryTerms, LedgerEntry
from fairdraw.store.live_stats import LiveStats
from fairdraw.store.my_entries import MyEntriesStore

log = logging.getLogger("fairdraw.entering")


@dataclass(frozen=True)
class Receipt:
    """What an entrant keeps: their place in the ledger and its public reference."""

    draw_id: str
    index: int
    ref: str
    entered_ms: int
    entrant: str
    identity_kind: EntryIdentity
    # True when a keyed request got back the entry its first attempt made.
    replayed: bool = False
    algorithm: str = fairness.ALGORITHM
    # fairdraw/2: what shows the entry is this entrant's (identity and secret nonce), and
    # the instance's signed promise that the entry is in the ledger.
    opening: dict[str, str] | None = None
    signed: dict[str, object] | None = None

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
            "algorithm": self.algorithm,
            "opening": self.opening,
            "signed": self.signed,
        }


def receipt_of(
    draw_id: str,
    entry: LedgerEntry,
    replayed: bool = False,
    *,
    salt: bytes | None = None,
    signing: SigningKey | None = None,
) -> Receipt:
    """The receipt of ``entry``. With the draw's ``salt`` (a fairdraw/2 draw) it carries
    the entry's opening, and with ``signing`` the instance's signature."""
    kind = (
        EntryIdentity.account if entry.identity.startswith(ACCOUNT_PREFIX) else EntryIdentity.github
    )
    if salt is None:
        return Receipt(
            draw_id, entry.index, entry.ref, entry.entered_ms, entry.label, kind, replayed
        )
    nonce = fairness.entry_nonce(salt, entry.identity)
    signed: dict[str, object] | None = None
    if signing is not None:
        signed = sign_receipt(signing, draw_id, entry.index, entry.ref, entry.entered_ms)
    return Receipt(
        draw_id,
        entry.index,
        entry.ref,
        entry.entered_ms,
        entry.label,
        kind,
        replayed,
        algorithm=fairness.ALGORITHM_V2,
        opening={"identity": entry.identity, "nonce": nonce.hex()},
        signed=signed,
    )


# seal_chunk(draw_id, chunk number): hash a ledger chunk that just became complete.
ChunkSealer = Callable[[str, int], Awaitable[None]]
# entries_counted(draw_id, entry count): after each entry, for the entry-count webhooks.
EntriesCounted = Callable[[str, int], Awaitable[None]]


class EnteringService:
    def __init__(
        self,
        store: DrawStore,
        github: GitHubClient,
        limits: RateLimits,
        seal_chunk: ChunkSealer | None = None,
        activity: LiveStats | None = None,
        mine: MyEntriesStore | None = None,
        signing: SigningKey | None = None,
        entries_counted: EntriesCounted | None = None,
    ) -> None:
        self._store = store
        self._signing = signing
        self._entries_counted = entries_counted
        self._github = github
        self._limits = limits
        self._seal_chunk = seal_chunk
        self._activity = activity
        self._mine = mine
        self._background = Background(log)

    @counts_entries("entry")
    async def enter(
        self,
        draw_id: str,
        *,
        github: str | None,
        caller: Caller,
        retry: RetryKey | None = None,
    ) -> Receipt:
        """Enter a draw as its rules say: with a GitHub username (the numeric GitHub id
        is the identity), or as the caller's account.

        Every attempt counts against the per-address entry limit (RateLimited, nothing
        stored). A malformed handle is InvalidInput before any lookup; GitHub's answers
        become GitHubUserNotFound / GitHubUnavailable; a second entry is AlreadyEntered,
        carrying the original receipt only for an account's own entry (a receipt is
        shown only to whoever made the entry: the request, its keyed retry, its link).

        With ``retry`` (a keyed request), the entry and the request's record are stored
        in one step: a retry of the same request gets the same receipt (``replayed``) and
        never enters twice; IdempotencyKeyReused if the key named another request.
        """
        terms = await self._store.entry_terms(draw_id)
        if terms.kind is DrawKind.raffle:
            raise WrongDrawKind("A raffle is entered by claiming a ticket")
        if terms.kind is DrawKind.lottery:
            raise WrongDrawKind("A lottery round is entered by casting a ballot")
        if terms.entry_identity is EntryIdentity.account:
            user = caller.user
            if user is None:
                raise NotAuthenticated("Log in to enter this draw")
            identity = ACCOUNT_PREFIX + user.username
            return await self._append(draw_id, terms, identity, user.username, caller, retry)
        if terms.github_sign_in:
            raise GitHubSignInRequired(
                "Entrants of this draw prove their GitHub account: "
                f"sign in with GitHub on /draws/{draw_id}",
                sign_in=f"/draws/{draw_id}",
            )
        login = normalize_github_login(github or "")

        async def count_lookup() -> None:
            await self._limits.entry(draw_id, caller.address)

        profile = await self._github.lookup(login, before_asking=count_lookup)
        return await self._append(draw_id, terms, profile.identity, profile.login, caller, retry)

    @counts_entries("entry")
    async def enter_signed_in(
        self, draw_id: str, profile: GitHubProfile, caller: Caller
    ) -> Receipt:
        """Enter a draw whose entrants prove their GitHub account, as ``profile`` (the
        account GitHub said signed in). A second entry is AlreadyEntered carrying the
        original receipt: the sign-in proved that it is the entrant's own."""
        terms = await self._store.entry_terms(draw_id)
        if terms.kind is not DrawKind.giveaway or not terms.github_sign_in:
            raise WrongDrawKind("This draw does not ask entrants to sign in with GitHub")
        return await self._append(
            draw_id, terms, profile.identity, profile.login, caller, None, proven=True
        )

    async def _append(
        self,
        draw_id: str,
        terms: EntryTerms,
        identity: str,
        label: str,
        caller: Caller,
        retry: RetryKey | None,
        *,
        proven: bool = False,
    ) -> Receipt:
        limit = self._limits.entry_attempts(caller.address)
        outcome = await self._store.enter(draw_id, identity, label, retry, limit)
        # A replay's entry was counted and announced by the attempt that made it.
        fresh = outcome.created and not outcome.replayed
        if fresh and self._activity is not None:
            await self._activity.record_activity(draw_id, outcome.entry.entered_ms)
        if fresh and (outcome.entry.index + 1) % fairness.CHUNK_LEAVES == 0:
            self._hash_chunk_soon(draw_id, outcome.entry.index // fairness.CHUNK_LEAVES)
        if not outcome.created:
            raise self._already_entered(draw_id, terms, outcome.entry, proven)
        if self._entries_counted is not None:
            # Also on a replay, as below; announcing a milestone again is harmless.
            await self._entries_counted(draw_id, outcome.entry.index + 1)
        receipt = self._receipt(draw_id, terms, outcome.entry, outcome.replayed)
        # Also on a replay: the attempt that made the entry may have died before this.
        await remember(
            self._mine, caller, EntryKind.entry, draw_id, receipt.index, receipt.entered_ms
        )
        return receipt

    def _already_entered(
        self, draw_id: str, terms: EntryTerms, entry: LedgerEntry, proven: bool
    ) -> AlreadyEntered:
        """The refusal of a second entry. An account's entry is the caller's own (the
        logged-in account is the identity), and so is a ``proven`` one (a GitHub
        sign-in), so it carries the original receipt; a typed GitHub username proves
        nothing about who typed it, so its refusal says nothing of the entry: not its
        index, reference, nonce or signature."""
        if proven or entry.identity.startswith(ACCOUNT_PREFIX):
            receipt = self._receipt(draw_id, terms, entry)
            return AlreadyEntered(
                "You have already entered this draw; here is your original receipt",
                receipt=receipt.to_json(),
            )
        return AlreadyEntered("This GitHub account has already entered this draw")

    async def receipt(self, draw_id: str, index: int) -> Receipt | None:
        """The receipt of entry ``index`` of a giveaway (None if there is no such entry)."""
        entries = await self._store.entries_slice(draw_id, index, index + 1)
        if index < 0 or not entries:
            return None
        terms = await self._store.entry_terms(draw_id)
        return self._receipt(draw_id, terms, entries[0])

    def _receipt(
        self, draw_id: str, terms: EntryTerms, entry: LedgerEntry, replayed: bool = False
    ) -> Receipt:
        v2 = terms.algorithm != fairness.ALGORITHM
        salt = terms.salt if v2 else None
        return receipt_of(draw_id, entry, replayed, salt=salt, signing=self._signing)

    def _hash_chunk_soon(self, draw_id: str, chunk: int) -> None:
        """Hash the chunk this entry completed, after answering the entrant."""
        if self._seal_chunk is not None:
            work = self._seal_chunk(draw_id, chunk)
            self._background.soon(work, f"hashing chunk {chunk} of draw {draw_id}")
