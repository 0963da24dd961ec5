"""Running draws: create, open, close (and seal), draw winners, publish the proof.

Every function here is one use case. Authorisation happens here, so the API, the pages
and the CLI cannot disagree about who may do what.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from fairdraw.domain import fairness, proof, tickets
from fairdraw.domain.accounts import Role, User
from fairdraw.domain.beacon import BeaconRound
from fairdraw.domain.callers import Caller
from fairdraw.domain.drafts import edited
from fairdraw.domain.draws import (
    Draw,
    DrawKind,
    DrawStatus,
    NewDraw,
    Seal,
    validate_new_draw,
)
from fairdraw.domain.errors import (
    BeaconPending,
    DrawNotFound,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    WrongDrawKind,
)
from fairdraw.domain.moments import iso, now_ms
from fairdraw.domain.networks import IPNetwork, check_manager_network
from fairdraw.domain.raffles import validate_new_raffle
from fairdraw.domain.receipts import sign_receipt
from fairdraw.services import sealing
from fairdraw.services.github import GitHubClient
from fairdraw.services.proofs import DrawProofs, OnWait, stream_key
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.services.winners import PickedPeople
from fairdraw.store.draws import DrawStore, new_draw_fields
from fairdraw.store.schedule import ScheduleStore

# How long drawing waits for a bound beacon round before answering BeaconPending: the
# margin plus a period and the fetch, with room for a slow relay.
BEACON_WAIT_SECONDS = 30.0

GITHUB_SIGN_IN_UNCONFIGURED = (
    "Signing in with GitHub needs the server's GitHub OAuth app: set "
    "FAIRDRAW_GITHUB_CLIENT_ID and FAIRDRAW_GITHUB_CLIENT_SECRET (docs/operations.md)"
)

# Draw ids: 12 characters of RFC 4648 base32 (60 bits), lower case, safe in URLs.
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_ID_LENGTH = 12


# announce(event, draw): tell the draw's webhooks (closed, sealed, drawn, cancelled), after
# the draw's own write; announcing an event again is harmless.
Announcer = Callable[[str, Draw], Awaitable[None]]


def announce_to(*announcers: Announcer) -> Announcer:
    """One announcer that tells each of ``announcers`` in turn (webhooks, then mail)."""

    async def announce(event: str, draw: Draw) -> None:
        for each in announcers:
            await each(event, draw)

    return announce


def new_draw_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def require_manager(
    caller: Caller, draw: Draw | None = None, networks: Sequence[IPNetwork] = ()
) -> User:
    """The caller's user if it may manage draws (and this draw) from where it is; raises
    otherwise. With manager networks configured, the client address must be in one.
    Nobody manages a lottery round by hand (WrongDrawKind): its schedule runs it."""
    actor = caller.user
    if actor is None:
        raise NotAuthenticated()
    if not actor.role.can_manage_draws:
        raise Forbidden("Only managers and administrators can do that")
    if draw is not None and draw.kind is DrawKind.lottery:
        raise WrongDrawKind("A lottery round is closed and drawn by its lottery's schedule")
    if draw is not None and actor.role is not Role.admin and draw.created_by != actor.username:
        raise Forbidden("Only this draw's managers and administrators can do that")
    check_manager_network(caller.address, networks)
    return actor


class DeadlineOutcome(StrEnum):
    """What settling a scheduled deadline came to, so the scheduler knows whether to
    keep the draw scheduled."""

    waiting = "waiting"  # the deadline has not passed yet: keep it scheduled
    settled = "settled"  # closed and sealed, and drawn if the draw asks for that
    nothing = "nothing"  # missing, cancelled, drawn or without a deadline: unschedule


class DrawingService:
    """Draw lifecycle use cases over one store."""

    def __init__(
        self,
        store: DrawStore,
        github: GitHubClient,
        clock: Callable[[], int] = now_ms,
        manager_networks: Sequence[IPNetwork] = (),
        tickets: TicketLedger | None = None,
        schedule: ScheduleStore | None = None,
        proofs: DrawProofs | None = None,
        beacon_wait_seconds: float = BEACON_WAIT_SECONDS,
        announce: Announcer | None = None,
        github_sign_in: bool = False,
    ) -> None:
        self._store = store
        # Whether the instance has GitHub OAuth credentials, which draws whose entrants
        # sign in with GitHub need.
        self._github_sign_in = github_sign_in
        self._announce = announce
        # fairdraw/2: the draw log, the signing key and the beacon. Without it (tools and
        # tests of other things) new draws are fairdraw/1 draws.
        self._proofs = proofs
        self._beacon_wait = beacon_wait_seconds
        # Where opening records a deadline for the scheduler; without it (tools, benches)
        # a deadline still refuses late entries but nothing closes the draw by itself.
        self._schedule = schedule
        self._tickets = tickets
        self._networks = tuple(manager_networks)
        self._github = github
        self._clock = clock
        self._people = PickedPeople(store, github, tickets)

    @property
    def manager_networks(self) -> tuple[IPNetwork, ...]:
        """Where managers may act from (empty: anywhere)."""
        return self._networks

    # -- reading -----------------------------------------------------------------------
    async def store_answers(self) -> bool:
        return await self._store.ping()

    async def get(self, draw_id: str) -> Draw:
        return await self._store.get(draw_id)

    async def list_recent(self, limit: int = 50) -> list[Draw]:
        return await self._store.list_recent(limit=limit)

    # -- lifecycle ---------------------------------------------------------------------
    def check_can_create(self, caller: Caller) -> User:
        """Raise unless the caller may create draws (for showing the form)."""
        return require_manager(caller, None, self._networks)

    async def create(
        self,
        caller: Caller,
        *,
        title: str,
        description: str = "",
        prizes: Sequence[Mapping[str, Any]],
        deadline: str | None = None,
        duration: str | None = None,
        open_now: bool = False,
        entry_identity: str = "github",
        auto_draw: bool = False,
        embed_origins: Sequence[str] = (),
        github_sign_in: bool = False,
        time_zone: str | None = None,
    ) -> Draw:
        user = require_manager(caller, None, self._networks)
        new = validate_new_draw(
            title=title,
            description=description,
            prizes=prizes,
            deadline=deadline,
            duration=duration,
            now_ms=self._clock(),
            entry_identity=entry_identity,
            auto_draw=auto_draw,
            embed_origins=embed_origins,
            github_sign_in=github_sign_in,
            time_zone=time_zone,
        )
        self._check_sign_in(new)
        draw = await self._store.create(
            new_draw_id(), new, user.username, fairness.new_salt(), proof=self.new_draw_fields()
        )
        if open_now:
            return await self.open(caller, draw.id)
        return draw

    async def create_raffle(
        self,
        caller: Caller,
        *,
        title: str,
        description: str = "",
        prizes: Sequence[Mapping[str, Any]],
        ticket_count: object,
        claimants: str = "anonymous",
        per_claimant: object = 1,
        early_close: bool = False,
        open_now: bool = False,
        embed_origins: Sequence[str] = (),
        time_zone: str | None = None,
    ) -> Draw:
        """A new raffle of ``ticket_count`` tickets; creating one costs the same whatever
        its size: tickets exist only once claimed."""
        user = require_manager(caller, None, self._networks)
        new = validate_new_raffle(
            title=title,
            description=description,
            prizes=prizes,
            ticket_count=ticket_count,
            claimants=claimants,
            per_claimant=per_claimant,
            early_close=early_close,
            embed_origins=embed_origins,
            time_zone=time_zone,
        )
        draw = await self._store.create(
            new_draw_id(),
            new,
            user.username,
            fairness.new_salt(),
            perm_key=tickets.new_permutation_key(),
            proof=self.new_draw_fields(),
        )
        if open_now:
            return await self.open(caller, draw.id)
        return draw

    async def draft_to_edit(self, caller: Caller, draw_id: str) -> Draw:
        """The draft ``draw_id`` if the caller may edit it (its managers); raises
        otherwise, and InvalidTransition once it is no draft."""
        draw = await self._store.get(draw_id)
        require_manager(caller, draw, self._networks)
        if draw.status is not DrawStatus.draft:
            raise InvalidTransition(f"Only a draft can be edited; this draw is {draw.status}")
        return draw

    async def edit_draft(self, caller: Caller, draw_id: str, changes: Mapping[str, Any]) -> Draw:
        """Change settings of a draft (setting → new value, as at creation, less
        ``open``), checked as at creation: InvalidInput names every bad setting and
        nothing changes. Only while it is a draft: an edit racing its opening either
        lands first or is InvalidTransition. The same edit twice leaves the same draft."""
        draw = await self.draft_to_edit(caller, draw_id)
        new = edited(draw, changes, self._clock())
        self._check_sign_in(new)
        return await self._store.edit_draft(draw_id, new)

    def _check_sign_in(self, new: NewDraw) -> None:
        """Refuse a draw whose entrants sign in with GitHub where they could not."""
        if new.github_sign_in and not self._github_sign_in:
            raise InvalidInput({"github_sign_in": GITHUB_SIGN_IN_UNCONFIGURED})

    async def open(self, caller: Caller, draw_id: str) -> Draw:
        draw = await self._store.get(draw_id)
        require_manager(caller, draw, self._networks)
        seed = fairness.new_seed()
        deadline_ms = await self._store.open(draw_id, seed, fairness.commitment(seed))
        # After the draw's own write, like every global index: opening again re-adds it.
        if deadline_ms is not None and self._schedule is not None:
            await self._schedule.add_deadline(draw_id, deadline_ms)
        opened = await self._store.get(draw_id)
        if self._proofs is not None:
            await self._proofs.log_commit(opened)
        return opened

    async def cancel(self, caller: Caller, draw_id: str) -> Draw:
        """Cancel the draw; a fairdraw/2 draw's cancellation is logged with its seed
        revealed, so that a draw cancelled and run again is plain to see."""
        require_manager(caller, await self._store.get(draw_id), self._networks)
        await self._store.cancel(draw_id)
        cancelled = await self._store.get(draw_id)
        if self._proofs is not None:
            seed = await self._store.seed(draw_id)
            await self._proofs.log_cancel(cancelled, seed, self._clock())
        await self._tell("cancelled", cancelled)
        return cancelled

    async def sign_receipt(
        self, draw_id: str, index: int, ref: str, entered_ms: int
    ) -> dict[str, Any] | None:
        """The instance's signed receipt for entry ``index`` of a fairdraw/2 draw (None
        for a fairdraw/1 draw, or without a signing key)."""
        if self._proofs is None or await self.algorithm_of(draw_id) == fairness.ALGORITHM:
            return None
        return sign_receipt(self._proofs.signing, draw_id, index, ref, entered_ms)

    async def algorithm_of(self, draw_id: str) -> str:
        """The proof version of a draw; a draw not stored yet will be made with
        :meth:`new_draw_fields`, so fairdraw/2. Cached: it never changes."""
        try:
            return (await self._store.entry_terms(draw_id)).algorithm
        except DrawNotFound:
            return self.new_draw_fields().get("algorithm", fairness.ALGORITHM)

    def new_draw_fields(self) -> dict[str, str]:
        """The proof fields every new draw is stored with: fairdraw/2 and the beacon it
        binds; none (a fairdraw/1 draw) for a service without proofs (tools, tests of
        other things), which could not publish a fairdraw/2 bundle."""
        if self._proofs is None:
            return {}
        return new_draw_fields(self._proofs.beacon_chain)

    async def close(self, caller: Caller, draw_id: str) -> Draw:
        """Close the draw and seal its ledger; closing again is harmless."""
        draw = await self._store.get(draw_id)
        require_manager(caller, draw, self._networks)
        if draw.status is DrawStatus.draft or draw.status is DrawStatus.cancelled:
            raise InvalidTransition(f"A {draw.status.value} draw cannot be closed")
        if draw.status is DrawStatus.open and not draw.closable(self._clock()):
            raise InvalidTransition("This raffle closes when its last ticket is claimed")
        await self._store.close(draw_id)
        await self._ensure_sealed(await self._store.get(draw_id))
        return await self._store.get(draw_id)

    async def seal_closed(self, draw_id: str) -> None:
        """Seal a draw that closed by itself (a raffle's last ticket was claimed): no
        decision is taken, so no caller is needed. Harmless to repeat."""
        draw = await self._store.get(draw_id)
        if draw.status is DrawStatus.closed:
            await self._ensure_sealed(draw)

    async def settle_deadline(self, draw_id: str) -> DeadlineOutcome:
        """Close and seal a draw whose deadline has passed, and draw it if it asks to be
        drawn automatically. No caller: the draw's own rules act, so the scheduler calls
        this. Harmless to repeat; a missing, cancelled or drawn draw is left alone."""
        try:
            draw = await self._store.get(draw_id)
        except DrawNotFound:
            return DeadlineOutcome.nothing
        if draw.status is DrawStatus.open:
            if draw.deadline_ms is None:
                return DeadlineOutcome.nothing
            if not draw.deadline_passed(self._clock()):
                return DeadlineOutcome.waiting
            # The script closes at the deadline itself, however late this runs.
            await self._store.close(draw_id)
            draw = await self._store.get(draw_id)
        if draw.status is not DrawStatus.closed:
            return DeadlineOutcome.nothing
        seal = await self._ensure_sealed(draw)
        if draw.auto_draw:
            if draw.binds_beacon and self._round_due_ms(draw, seal) > self._clock():
                return DeadlineOutcome.waiting
            try:
                await self.draw_closed(draw_id)
            except BeaconPending:
                return DeadlineOutcome.waiting
        return DeadlineOutcome.settled

    async def _ensure_sealed(self, draw: Draw) -> Seal:
        """The draw's seal, made now if it has none; its log leaf written either way (a
        seal whose process died before logging it is logged by the next attempt)."""
        seal = draw.seal or await self._seal(draw)
        if self._proofs is not None:
            # The commit leaf too: an opening whose process died before logging it.
            await self._proofs.log_commit(draw)
            await self._proofs.log_seal(draw, seal)
        if self._announce is not None:
            # Every close is followed by its seal, here: both are announced together.
            sealed = draw if draw.seal is not None else await self._store.get(draw.id)
            await self._announce("closed", sealed)
            await self._announce("sealed", sealed)
        return seal

    async def _tell(self, event: str, draw: Draw) -> None:
        if self._announce is not None:
            await self._announce(event, draw)

    async def _seal(self, draw: Draw) -> Seal:
        binding = self._proofs.binding(draw) if self._proofs is not None else None
        if draw.kind is DrawKind.raffle:
            root = (await self._ticket_ledger().root(draw.id, draw.entry_count)).hex()
        else:
            known = await self._store.chunk_roots(draw.id)

            async def read(start: int, stop: int) -> list[str]:
                return await self._store.refs_slice(draw.id, start, stop)

            root = (await sealing.ledger_root(draw.entry_count, read, known)).hex()
        sealed = await self._store.seal(draw.id, root, draw.entry_count, binding)
        # The store's answer lacks the chain: read the draw back for the whole seal.
        return (await self._store.get(draw.id)).seal or sealed

    async def seal_chunk(self, draw_id: str, chunk: int) -> None:
        """Hash complete ledger chunk ``chunk`` now and keep its root, so that closing the
        draw later has only the rest to hash. Harmless to repeat."""
        start = chunk * fairness.CHUNK_LEAVES
        elements = await self._store.ledger_slice(draw_id, start, start + fairness.CHUNK_LEAVES)
        if len(elements) != fairness.CHUNK_LEAVES:
            raise ValueError(f"ledger chunk {chunk} of draw {draw_id} is not complete")
        terms = await self._store.ledger_terms(draw_id)
        root = await sealing.ledger_chunk_root(start, elements, terms)
        await self._store.save_chunk_root(draw_id, chunk, root)

    async def seal_complete_chunks(self, draw_id: str) -> int:
        """Hash every complete chunk whose root is not kept yet; the number hashed."""
        count = await self._store.ledger_length(draw_id)
        known = await self._store.chunk_roots(draw_id)
        todo = [k for k in range(count // fairness.CHUNK_LEAVES) if k not in known]
        for chunk in todo:
            await self.seal_chunk(draw_id, chunk)
        return len(todo)

    async def draw_winners(
        self, caller: Caller, draw_id: str, beacon_wait: float | None = None
    ) -> Draw:
        """Select and record the winners. Exactly one result is ever recorded: a second
        call, concurrent or later, returns that same result.

        A draw whose beacon round is not out within ``beacon_wait`` seconds (at most the
        service's beacon wait) raises BeaconPending, and the scheduler draws it once the
        round is out."""
        draw = await self._store.get(draw_id)
        require_manager(caller, draw, self._networks)
        if draw.status is DrawStatus.drawn:
            return draw
        if draw.status is DrawStatus.open and draw.deadline_passed(self._clock()):
            await self._store.close(draw_id)
            draw = await self._store.get(draw_id)
        if draw.status is DrawStatus.open:
            raise InvalidTransition("Close the draw before drawing winners")
        try:
            return await self.draw_closed(draw_id, beacon_wait=beacon_wait)
        except BeaconPending:
            # The scheduler finishes what the manager asked for once the round is out.
            await self._store.request_draw(draw_id)
            draw = await self._store.get(draw_id)
            if self._schedule is not None and draw.seal is not None:
                due = self._proofs_or_fail().round_due_ms(draw, draw.seal)
                await self._schedule.add_deadline(draw_id, due)
            raise

    async def draw_closed(
        self, draw_id: str, on_wait: OnWait | None = None, beacon_wait: float | None = None
    ) -> Draw:
        """Seal (if needed) and draw a closed draw, with no caller: for draws that close
        and draw by their own rules (lottery rounds). Exactly one result is ever
        recorded; a drawn draw is returned as it is.

        A draw that binds a beacon round waits for it (``on_wait`` hears why) up to the
        service's beacon wait (or ``beacon_wait``, if shorter); past that it raises
        BeaconPending and stays closed, to be drawn by a later call (the scheduler retries
        draws that asked to be drawn)."""
        draw = await self._store.get(draw_id)
        if draw.status is DrawStatus.drawn:
            if self._proofs is not None and draw.result is not None:
                await self._proofs.log_result(draw, draw.result.bundle)
            await self._tell("drawn", draw)
            return draw
        if draw.status is not DrawStatus.closed:
            raise InvalidTransition(f"A {draw.status.value} draw cannot be drawn")
        seal = await self._ensure_sealed(draw)
        seed = await self._store.seed(draw_id)
        if seed is None or draw.commitment is None:
            raise InvalidTransition("This draw was never opened")
        beacon = None
        if draw.binds_beacon:
            beacon = await self._wait_for_beacon(draw, seal, on_wait, beacon_wait)
        prizes = [(p.name, p.quantity) for p in draw.prizes]
        alternates = draw.slot_count
        outcome = fairness.select_winners(
            bytes.fromhex(seal.root),
            seed,
            seal.entry_count,
            prizes,
            alternates,
            key=stream_key(draw, seal, seed, beacon),
        )
        picks = [w.index for w in outcome.winners] + list(outcome.alternates)
        people = await self._people.of_picks(draw, picks)
        if draw.algorithm == fairness.ALGORITHM:
            bundle = proof.build_bundle(
                draw=bundle_rules(draw, alternates),
                root=bytes.fromhex(seal.root),
                entry_count=seal.entry_count,
                sealed_at=iso(seal.sealed_ms),
                commitment=draw.commitment,
                seed=seed,
                outcome=outcome,
                refs_of_picks={i: person["ref"] for i, person in people.items()},
                alternates=alternates,
            )
        else:
            bundle = await self._proofs_or_fail().bundle(
                draw,
                seal,
                seed,
                beacon,
                outcome,
                await self._openings(draw, picks, people),
                bundle_rules_v2(draw, alternates),
            )
        winners = {
            "winners": [
                {"slot": w.slot, "prize": w.prize, **people[w.index]} for w in outcome.winners
            ],
            "alternates": [people[i] for i in outcome.alternates],
            "unawarded": list(outcome.unawarded),
        }
        await self._store.record_result(
            draw_id, proof.canonical_json(bundle).decode(), json.dumps(winners)
        )
        drawn = await self._store.get(draw_id)
        await self._tell("drawn", drawn)
        return drawn

    async def _wait_for_beacon(
        self, draw: Draw, seal: Seal, on_wait: OnWait | None, wait: float | None = None
    ) -> BeaconRound:
        """The draw's verified beacon round; BeaconPending if it takes longer than the
        beacon wait, or ``wait`` if shorter (the round is late, or no relay answers)."""
        due_ms = self._proofs_or_fail().round_due_ms(draw, seal)
        seconds = self._beacon_wait if wait is None else min(wait, self._beacon_wait)
        try:
            async with asyncio.timeout(seconds):
                return await self._proofs_or_fail().beacon_round(draw, seal, on_wait)
        except TimeoutError:
            raise BeaconPending(
                f"Waiting for beacon round {seal.beacon_round} (due {iso(due_ms)}); the "
                "draw is made as soon as a relay serves it",
                round=seal.beacon_round,
                due_at=iso(due_ms),
                # Sent as Retry-After: the round's time, or a second once it is late.
                retry_after=max(1, -(-(due_ms - self._clock()) // 1000)),
            ) from None

    async def _openings(
        self, draw: Draw, picks: Sequence[int], people: Mapping[int, Mapping[str, Any]]
    ) -> dict[int, tuple[str, dict[str, str] | None]]:
        """Each pick's reference and opening: a giveaway entry's identity and nonce; none
        for a raffle ticket (its holder opens it with the ticket's code)."""
        if draw.kind is DrawKind.raffle:
            return {i: (str(people[i]["ref"]), None) for i in picks}
        salt = (await self._store.entry_terms(draw.id)).salt
        openings: dict[int, tuple[str, dict[str, str] | None]] = {}
        for entry in await self._store.entries_at(draw.id, picks):
            nonce = entry.nonce or fairness.entry_nonce(salt, entry.identity).hex()
            openings[entry.index] = (entry.ref, {"identity": entry.identity, "nonce": nonce})
        return openings

    def _round_due_ms(self, draw: Draw, seal: Seal) -> int:
        return self._proofs_or_fail().round_due_ms(draw, seal)

    def _proofs_or_fail(self) -> DrawProofs:
        if self._proofs is None:
            raise InvalidTransition("This server cannot publish fairdraw/2 proofs")
        return self._proofs

    def _ticket_ledger(self) -> TicketLedger:
        if self._tickets is None:
            raise WrongDrawKind("Raffles are not available here")
        return self._tickets

    # -- publishing ----------------------------------------------------------------------
    async def proof_bundle(self, draw_id: str) -> bytes:
        draw = await self._store.get(draw_id)
        if draw.result is None:
            raise NotFound("The proof is published once the winners are drawn")
        return proof.canonical_json(draw.result.bundle)

    async def entries_file(self, draw_id: str) -> str:
        """The sealed ledger's public entries file (index and reference per line)."""
        return "".join([part async for part in await self.open_entries_file(draw_id)])

    async def open_entries_file(self, draw_id: str) -> AsyncIterator[str]:
        """The entries file in pieces of up to a chunk of entries each, to be written
        out as they come; NotFound (raised here, before any piece) until it is sealed."""
        draw = await self._store.get(draw_id)
        if draw.seal is None:
            raise NotFound("The entries file is published once the draw is closed and sealed")
        count = draw.seal.entry_count
        if draw.kind is DrawKind.raffle:
            return _entries_pieces(self._ticket_ledger().iter_refs(draw_id, count))
        return _entries_pieces(self._store.iter_refs(draw_id, count))


async def _entries_pieces(chunks: AsyncIterator[list[str]]) -> AsyncIterator[str]:
    first = 0
    async for refs in chunks:
        yield proof.entries_lines(refs, first)
        first += len(refs)


def bundle_rules_v2(draw: Draw, alternates: int) -> dict[str, Any]:
    """The draw's rules as a fairdraw/2 bundle states them: with its timing, and a
    raffle's ticket count."""
    return {
        **bundle_rules(draw, alternates),
        "opened_at": iso(draw.opened_ms) if draw.opened_ms is not None else None,
        "deadline": iso(draw.deadline_ms) if draw.deadline_ms is not None else None,
        "ticket_count": draw.raffle.ticket_count if draw.raffle is not None else None,
    }


def bundle_rules(draw: Draw, alternates: int) -> dict[str, Any]:
    """The draw's rules as the proof bundle states them."""
    return {
        "id": draw.id,
        "kind": draw.kind.value,
        "title": draw.title,
        "prizes": [p.to_json() for p in draw.prizes],
        "alternates": alternates,
        "one_prize_per_entrant": False,
    }
