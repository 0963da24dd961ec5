"""Daily lottery use cases: create, cast ballots, draw rounds, check a day's winner.

Each local calendar day of a lottery is a round, and each round is a draw of kind
``lottery`` with a deterministic id (:func:`fairdraw.domain.lotteries.round_draw_id`), so
every process — web workers, schedulers, a manager pressing "draw now" — addresses the
same draw for the same day, and the draw engine's one-result rule makes drawing a round
idempotent.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from fairdraw.domain import fairness, lotteries, zones
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import ACCOUNT_PREFIX, DrawKind, DrawStatus, EntryIdentity, Prize
from fairdraw.domain.errors import (
    IdempotencyKeyReused,
    LotteryNotRunning,
    NotAuthenticated,
    RoundNotOver,
)
from fairdraw.domain.idempotency import RetryKey
from fairdraw.domain.lotteries import RoundState
from fairdraw.domain.moments import now_ms
from fairdraw.domain.networks import IPNetwork
from fairdraw.metrics import counts_entries
from fairdraw.services.background import Background
from fairdraw.services.drawing import DrawingService, require_manager
from fairdraw.services.lottery_views import (
    Ballot,
    DayState,
    Lottery,
    RoundView,
    lottery_of,
    winners_of,
)
from fairdraw.services.my_entries import EntryKind, remember
from fairdraw.services.ratelimit import RateLimits
from fairdraw.store.live_stats import LiveStats
from fairdraw.store.lotteries import LotteryStore
from fairdraw.store.my_entries import MyEntriesStore

log = logging.getLogger("fairdraw.lotteries")

# Draw ids of rounds are derived; lottery ids are random like draw ids.
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_ID_LENGTH = 12
# A ballot may find the store's clock in the next round (midnight passed while it was on
# its way); it is then cast there. More than this many retries means a broken clock.
_CAST_ATTEMPTS = 3
HISTORY_MAX = 366
_CACHE_SIZE = 1024


def new_lottery_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


class LotteryService:
    """Daily lotteries over one store; rounds are drawn by the draw engine."""

    def __init__(
        self,
        store: LotteryStore,
        drawing: DrawingService,
        default_timezone: str = "UTC",
        manager_networks: Sequence[IPNetwork] = (),
        limits: RateLimits | None = None,
        clock: Callable[[], int] = now_ms,
        activity: LiveStats | None = None,
        mine: MyEntriesStore | None = None,
    ) -> None:
        self._store = store
        self._activity = activity
        self._mine = mine
        self._limits = limits
        self._clock = clock
        self._cache: OrderedDict[str, Lottery] = OrderedDict()
        self._drawing = drawing
        self._background = Background(log)
        self._default_zone = default_timezone
        self._networks = tuple(manager_networks)

    # -- lotteries ------------------------------------------------------------------------
    async def create(
        self,
        caller: Caller,
        *,
        name: str,
        description: str = "",
        prize: str,
        winners_per_day: object = 1,
        timezone: str | None = None,
        start: object,
        end: object = None,
    ) -> Lottery:
        user = require_manager(caller, None, self._networks)
        now = await self._store.now_ms()
        zone = (timezone or "").strip() or self._default_zone
        # An unknown zone is reported with the other fields; "today" then uses UTC.
        known = zones.canonical_name(zone) or zones.DEFAULT_ZONE
        terms = lotteries.validate_new_lottery(
            name=name,
            description=description,
            prize=prize,
            winners_per_day=winners_per_day,
            timezone=zone,
            start=start,
            end=end,
            today=lotteries.local_day(lotteries.zone_of(known), now),
        )
        lottery_id = new_lottery_id()
        fields = {**terms.to_fields(), "id": lottery_id, "created_by": user.username}
        await self._store.create(lottery_id, fields, lotteries.due_ms(terms, terms.start))
        return await self.get(lottery_id)

    async def get(self, lottery_id: str) -> Lottery:
        return lottery_of(lottery_id, await self._store.get(lottery_id))

    async def _terms_of(self, lottery_id: str) -> Lottery:
        """The lottery for casting ballots: its terms never change, so a process keeps
        them (``last_day``, which does change, is not used from this copy)."""
        lottery = self._cache.get(lottery_id)
        if lottery is None:
            lottery = await self.get(lottery_id)
            self._cache[lottery_id] = lottery
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return lottery

    async def list_recent(self, limit: int = 50) -> list[Lottery]:
        return [lottery_of(i, f) for i, f in await self._store.list_recent(limit)]

    # -- ballots --------------------------------------------------------------------------
    @counts_entries("ballot")
    async def cast(
        self,
        lottery_id: str,
        caller: Caller,
        at_ms: int | None = None,
        retry: RetryKey | None = None,
    ) -> Ballot:
        """Cast one ballot for the caller in the round of the current day (the store's
        clock decides which; ``at_ms`` stands in for it in tests). LotteryNotRunning
        before the start date or after the end date.

        With ``retry`` (a keyed request), the ballot and the request's record are stored
        in one step: a retry of the same request gets the same ballot back (``replayed``),
        also after midnight, and never casts twice."""
        user = caller.user
        if user is None:
            raise NotAuthenticated("Log in to take part in this lottery")
        # Ballots are unlimited per person, but not per second from one address: the
        # cast_ballot script counts them with the entry limit, in the ballot's own step.
        limit = self._limits.entry_attempts(caller.address) if self._limits is not None else None
        lottery = await self._terms_of(lottery_id)
        identity = ACCOUNT_PREFIX + user.username
        # This process's clock only guesses the round; the script checks the guess against
        # the store's clock and names the right time when it was wrong.
        moment = at_ms if at_ms is not None else self._clock()
        asked_store = at_ms is not None
        if retry is not None:
            kept = await self._kept_ballot(lottery, retry, moment)
            if kept is not None:
                index = kept.number - 1
                await remember(
                    self._mine, caller, EntryKind.ballot, kept.round_id, index, kept.cast_ms
                )
                return kept
        for _ in range(_CAST_ATTEMPTS):
            day = lotteries.round_of(lottery.terms, moment)
            if day is None and not asked_store:
                moment = await self._store.now_ms()
                asked_store = True
                day = lotteries.round_of(lottery.terms, moment)
            if day is None:
                raise LotteryNotRunning()
            start_ms, end_ms = lotteries.day_bounds(lottery.terms.zone, day)
            round_id = lotteries.round_draw_id(lottery_id, day)
            cast_in_round = functools.partial(
                self._store.cast_ballot,
                round_id,
                start_ms=start_ms,
                end_ms=end_ms,
                identity=identity,
                label=user.display_name,
                name=user.username,
                at_ms=at_ms,
                retry=retry,
                limit=limit,
            )
            # The round's fields go along only when the day's first ballot creates it.
            cast = await cast_in_round()
            if cast.new_round:
                cast = await cast_in_round(round_fields=self._round_fields(lottery, day, round_id))
            if cast.cast:
                if not cast.replayed:
                    await self._after_new_ballot(round_id, cast.index, cast.cast_ms)
                await remember(
                    self._mine, caller, EntryKind.ballot, round_id, cast.index, cast.cast_ms
                )
                ballot_ref = cast.ref
                return Ballot(
                    lottery_id=lottery_id,
                    day=day,
                    round_id=round_id,
                    number=cast.index + 1,
                    ref=ballot_ref,
                    cast_ms=cast.cast_ms,
                    ballots_today=cast.mine,
                    replayed=cast.replayed,
                    signed=await self._drawing.sign_receipt(
                        round_id, cast.index, ballot_ref, cast.cast_ms
                    ),
                )
            moment = cast.cast_ms
            asked_store = True
        raise LotteryNotRunning("The lottery's day could not be settled; try again")

    async def ballot(
        self, lottery_id: str, day: date | str, number: int, mine: int
    ) -> Ballot | None:
        """The receipt of ballot ``number`` of ``day``'s round (``mine``: the caster's
        ballots in that round when it was cast), signed as its cast answered it; None if
        there is no such ballot."""
        wanted = _parse_day(day)
        round_id = lotteries.round_draw_id(lottery_id, wanted)
        found = await self._store.ballot_at(round_id, number - 1) if number >= 1 else None
        if found is None:
            return None
        ref, cast_ms = found
        # The receipt the cast answered: its signature is deterministic.
        signed = await self._drawing.sign_receipt(round_id, number - 1, ref, cast_ms)
        return Ballot(lottery_id, wanted, round_id, number, ref, cast_ms, mine, signed=signed)

    async def _after_new_ballot(self, round_id: str, index: int, cast_ms: int) -> None:
        """Count the ballot for the dashboard and hash a chunk it completed, after the
        participant has their answer."""
        if self._activity is not None:
            await self._activity.record_activity(round_id, cast_ms)
        if (index + 1) % fairness.CHUNK_LEAVES == 0:
            chunk = index // fairness.CHUNK_LEAVES
            self._background.soon(
                self._drawing.seal_chunk(round_id, chunk),
                f"hashing chunk {chunk} of round {round_id}",
            )

    async def _kept_ballot(self, lottery: Lottery, retry: RetryKey, moment: int) -> Ballot | None:
        """The ballot a keyed request already cast, looked for in every round its record
        could still be in: the days from ``moment`` minus the records' lifetime to
        ``moment``. (The cast script also looks, in the round it casts in, in the same
        step as the ballot: this finds one cast in an earlier day's round.)"""
        zone = lottery.terms.zone
        first = lotteries.local_day(zone, moment - retry.ttl_ms)
        last = lotteries.local_day(zone, moment) + timedelta(days=1)
        days = {
            lotteries.round_draw_id(lottery.id, first + timedelta(days=n)): first
            + timedelta(days=n)
            for n in range((last - first).days + 1)
        }
        found = await self._store.kept_ballots(list(days), retry.name)
        if not found:
            return None
        round_id, kept = found[-1]
        if kept.fingerprint != retry.fingerprint:
            raise IdempotencyKeyReused()
        ballot = await self._store.ballot_at(round_id, kept.index)
        if ballot is None:
            return None
        ref, cast_ms = ballot
        return Ballot(
            lottery_id=lottery.id,
            day=days[round_id],
            round_id=round_id,
            number=kept.index + 1,
            ref=ref,
            cast_ms=cast_ms,
            ballots_today=int(kept.extra),
            replayed=True,
            signed=await self._drawing.sign_receipt(round_id, kept.index, ref, cast_ms),
        )

    async def ballots_today(self, lottery_ids: Sequence[str], caller: Caller) -> dict[str, int]:
        """The caller's ballots in today's round of each lottery (0 when logged out)."""
        if caller.user is None or not lottery_ids:
            return dict.fromkeys(lottery_ids, 0)
        now = await self._store.now_ms()
        rounds: dict[str, str] = {}
        for lottery in [await self.get(i) for i in lottery_ids]:
            day = lotteries.round_of(lottery.terms, now)
            if day is not None:
                rounds[lottery.id] = lotteries.round_draw_id(lottery.id, day)
        counts = await self._store.ballots_of(
            list(rounds.values()), ACCOUNT_PREFIX + caller.user.username
        )
        found = dict(zip(rounds, counts, strict=True))
        return {i: found.get(i, 0) for i in lottery_ids}

    # -- rounds ---------------------------------------------------------------------------
    async def round(self, lottery_id: str, day: date | str, now_ms: int | None = None) -> RoundView:
        """What there is to know of ``day`` in the lottery: its winner(s), no ballots, not
        drawn yet, still running, in the future, or outside the lottery's dates."""
        lottery = await self.get(lottery_id)
        wanted = _parse_day(day)
        now = now_ms if now_ms is not None else await self._store.now_ms()
        return (await self._views(lottery, [wanted], now))[0]

    async def history(self, lottery_id: str, limit: int = 60) -> list[RoundView]:
        """Past rounds, newest first: every day from the start to the last ended one."""
        lottery = await self.get(lottery_id)
        now = await self._store.now_ms()
        days = lotteries.rounds_due(lottery.terms, None, now)[-min(limit, HISTORY_MAX) :]
        return list(reversed(await self._views(lottery, days, now)))

    async def _views(self, lottery: Lottery, days: Sequence[date], now: int) -> list[RoundView]:
        ids = [lotteries.round_draw_id(lottery.id, d) for d in days]
        records = await self._store.rounds(ids)
        views = []
        for day, round_id, record in zip(days, ids, records, strict=True):
            state = lotteries.state_of_date(lottery.terms, day, now)
            drawn = state is RoundState.due and record.status == DrawStatus.drawn.value
            if drawn:
                shown = DayState.drawn if record.ballots else DayState.no_ballots
            elif state is RoundState.due:
                shown = DayState.not_drawn
            else:
                shown = DayState(state.value)
            counted = state in (RoundState.running, RoundState.due)
            views.append(
                RoundView(
                    lottery_id=lottery.id,
                    day=day,
                    state=shown,
                    round_id=round_id,
                    ballots=record.ballots if counted else 0,
                    winners=winners_of(record) if drawn else (),
                    drawn_ms=record.drawn_ms if drawn else None,
                    due_ms=lotteries.due_ms(lottery.terms, day),
                )
            )
        return views

    async def draw_round(
        self,
        lottery_id: str,
        day: date,
        at_ms: int | None = None,
        beacon_wait: float | None = None,
    ) -> None:
        """Close and draw the round of ``day`` (RoundNotOver before its day has ended).
        Idempotent: a drawn round stays as it is. A round whose beacon round is not out
        within ``beacon_wait`` seconds raises BeaconPending (the scheduler draws it later)."""
        lottery = await self.get(lottery_id)
        round_id = lotteries.round_draw_id(lottery_id, day)
        _, end_ms = lotteries.day_bounds(lottery.terms.zone, day)
        await self._store.close_round(
            round_id, end_ms, self._round_fields(lottery, day, round_id), at_ms=at_ms
        )
        await self._drawing.draw_closed(round_id, beacon_wait=beacon_wait)

    async def draw_now(
        self,
        caller: Caller,
        lottery_id: str,
        day: date | str,
        beacon_wait: float | None = None,
    ) -> RoundView:
        """A manager draws an ended round without waiting for the scheduler; the result is
        the one the scheduler would record (or has recorded). BeaconPending if its beacon
        round is not out within ``beacon_wait`` seconds: the scheduler draws it then."""
        lottery = await self.get(lottery_id)
        require_manager(caller, None, self._networks)
        wanted = _parse_day(day)
        now = await self._store.now_ms()
        state = lotteries.state_of_date(lottery.terms, wanted, now)
        if state is not RoundState.due:
            raise RoundNotOver(f"The round of {wanted.isoformat()} cannot be drawn: {state.value}")
        await self.draw_round(lottery_id, wanted, beacon_wait=beacon_wait)
        return await self.round(lottery_id, wanted)

    async def catch_up(self, lottery_id: str, now_ms: int) -> list[date]:
        """Draw, in order, every round of the lottery whose day ended by ``now_ms`` and
        is not recorded as drawn; record progress and the next due time. Returns the days
        drawn by this call."""
        lottery = await self.get(lottery_id)
        days = lotteries.rounds_due(lottery.terms, lottery.last_day, now_ms)
        for day in days:
            await self.draw_round(lottery_id, day, at_ms=now_ms)
            round_id = lotteries.round_draw_id(lottery_id, day)
            await self._store.advance(lottery_id, day.isoformat(), round_id)
        last = days[-1] if days else lottery.last_day
        await self._store.set_due(lottery_id, lotteries.next_due_ms(lottery.terms, last))
        return days

    async def due_lotteries(self, now_ms: int) -> list[str]:
        return await self._store.due(now_ms)

    def _round_fields(self, lottery: Lottery, day: date, round_id: str) -> dict[str, str]:
        """The fixed fields of a round's draw, stored by whichever comes first: its first
        ballot, or the scheduler closing an empty round."""
        seed = fairness.new_seed()
        terms = lottery.terms
        _, end_ms = lotteries.day_bounds(terms.zone, day)
        prize = Prize(terms.prize, terms.winners_per_day)
        return {
            "id": round_id,
            "kind": DrawKind.lottery.value,
            "entry_identity": EntryIdentity.account.value,
            "title": f"{terms.name} — {day.isoformat()}",
            "description": terms.description,
            "prizes": json.dumps([prize.to_json()], ensure_ascii=False),
            "created_by": lottery.created_by,
            "salt": fairness.new_salt().hex(),
            "seed": seed.hex(),
            "commitment": fairness.commitment(seed),
            "deadline_ms": str(end_ms),
            # Its pages show its times in the lottery's zone, as the lottery's pages do.
            "time_zone": terms.timezone,
            "lottery_id": lottery.id,
            "round_date": day.isoformat(),
            **self._drawing.new_draw_fields(),
        }


def _parse_day(day: date | str) -> date:
    return day if isinstance(day, date) else lotteries.parse_day(day)
