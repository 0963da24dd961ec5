"""The scheduler: draws every lottery round whose day has ended, exactly once, and
settles every draw whose deadline has passed (closes and seals it, and draws it if it
asks to be drawn automatically).

Every ``fairdraw serve`` process runs one (and ``fairdraw scheduler`` runs one alone), but
only the holder of the lease in the store acts, so N processes draw once. Due work lives
in the store (``schedule:due``: lottery → when its next round is due), never in process
memory: a scheduler that starts after downtime finds every overdue lottery and catches up
its rounds in order. Deadlines live there too (``schedule:deadlines``: draw id → deadline,
added when a draw with a deadline opens). Drawing a round and settling a deadline are
idempotent (deterministic round ids, one close, one seal and one recorded result per draw),
so a lease that changes hands mid-run costs nothing but repeated work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import date

from fairdraw.config import Settings
from fairdraw.domain import lotteries
from fairdraw.domain.errors import StoreError
from fairdraw.domain.moments import iso
from fairdraw.domain.networks import parse_networks
from fairdraw.metrics import scheduler_passed
from fairdraw.services.drawing import DeadlineOutcome, DrawingService
from fairdraw.services.lotteries import LotteryService
from fairdraw.services.ratelimit import RateLimits
from fairdraw.store.live_stats import LiveStats
from fairdraw.store.lotteries import LotteryStore
from fairdraw.store.my_entries import MyEntriesStore
from fairdraw.store.schedule import ScheduleStore

log = logging.getLogger("fairdraw.scheduler")

DEFAULT_INTERVAL_SECONDS = 1.0
DEFAULT_LEASE_SECONDS = 30.0
# Deadlines settled per pass at most; the rest stay due for the next pass, a second later.
DEADLINES_PER_PASS = 100
# An unreachable store is an outage to report once, not a failure of each pass.
STORE_OUTAGE_ERRORS: tuple[type[Exception], ...] = (StoreError,)


@dataclass(frozen=True)
class RunReport:
    """What one pass did: whether this instance led, the rounds it drew, the largest
    lag (how long after its day ended a round was drawn), and the draws whose deadline it
    settled (closed and sealed, and drew if they asked for it)."""

    led: bool
    run_ms: int
    drawn: list[tuple[str, date]] = field(default_factory=list)
    lag_ms: int = 0
    settled: list[str] = field(default_factory=list)


class Scheduler:
    def __init__(
        self,
        lotteries_service: LotteryService,
        lottery_store: LotteryStore,
        schedule: ScheduleStore,
        *,
        instance: str | None = None,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        drawing: DrawingService | None = None,
    ) -> None:
        self._lotteries = lotteries_service
        # Settles draw deadlines; a scheduler built for lotteries alone has none.
        self._drawing = drawing
        self._store = lottery_store
        self._schedule = schedule
        self.instance = instance or secrets.token_hex(8)
        self._interval = interval_seconds
        self._lease_ms = int(lease_seconds * 1000)
        # time.monotonic() when a pass last ended without error; /readyz reads it.
        self.last_pass_at: float | None = None

    async def run_once(self, now_ms: int | None = None) -> RunReport:
        """One pass at ``now_ms`` (the store's clock if None): take or renew the lease,
        then draw every due round of every due lottery and settle every due deadline."""
        now = now_ms if now_ms is not None else await self._store.now_ms()
        if not await self._schedule.hold_lease(self.instance, self._lease_ms):
            self._passed(led=False)
            return RunReport(led=False, run_ms=now)
        drawn: list[tuple[str, date]] = []
        lag = 0
        for lottery_id in await self._lotteries.due_lotteries(now):
            try:
                days = await self._lotteries.catch_up(lottery_id, now)
            except STORE_OUTAGE_ERRORS:
                raise  # the whole pass waits for the store, not just this lottery
            except Exception:
                # One broken lottery must not stop the others; it stays due and is retried.
                log.exception("drawing the due rounds of lottery %s failed", lottery_id)
                continue
            if days:
                terms = (await self._lotteries.get(lottery_id)).terms
                lag = max(lag, now - lotteries.due_ms(terms, days[0]))
                drawn.extend((lottery_id, day) for day in days)
        settled = await self._settle_deadlines(now)
        report = RunReport(led=True, run_ms=now, drawn=drawn, lag_ms=lag, settled=settled)
        await self._record(report)
        self._passed(led=True, lag_ms=lag if drawn else None)
        return report

    def _passed(self, *, led: bool, lag_ms: int | None = None) -> None:
        self.last_pass_at = time.monotonic()
        scheduler_passed(led, lag_ms)

    def loop_is_current(self) -> bool:
        """Whether a pass ended recently: within a lease period (a loop stalled for
        longer could not hold the lease, so it could not lead if it had to), or within
        two intervals when passes are further apart than that."""
        if self.last_pass_at is None:
            return False
        recent = max(self._lease_ms / 1000, 2 * self._interval)
        return time.monotonic() - self.last_pass_at <= recent

    async def _settle_deadlines(self, now: int) -> list[str]:
        """Settle every draw whose deadline is due; the ids of those this pass settled."""
        if self._drawing is None:
            return []
        settled: list[str] = []
        for draw_id in await self._schedule.due_deadlines(now, DEADLINES_PER_PASS):
            try:
                outcome = await self._drawing.settle_deadline(draw_id)
            except STORE_OUTAGE_ERRORS:
                raise
            except Exception:
                # One broken draw must not stop the others; it stays due and is retried.
                log.exception("settling the deadline of draw %s failed", draw_id)
                continue
            if outcome is DeadlineOutcome.waiting:
                continue
            await self._schedule.remove_deadline(draw_id)
            if outcome is DeadlineOutcome.settled:
                settled.append(draw_id)
        return settled

    async def _record(self, report: RunReport) -> None:
        upcoming = await self._store.next_due()
        fields = {
            "instance": self.instance,
            "run_ms": str(report.run_ms),
            "next_due_ms": str(upcoming[1]) if upcoming else "",
        }
        if report.drawn:  # kept until a later pass draws something
            fields.update(
                drew_ms=str(report.run_ms),
                lag_ms=str(report.lag_ms),
                drawn=",".join(f"{lid}:{day.isoformat()}" for lid, day in report.drawn),
            )
        if report.settled:  # kept until a later pass settles something
            fields.update(settled_ms=str(report.run_ms), settled=",".join(report.settled))
        await self._schedule.record_run(fields)
        for lottery_id, day in report.drawn:
            log.info("drew lottery %s round %s (lag %d ms)", lottery_id, day, report.lag_ms)
        for draw_id in report.settled:
            log.info("settled the deadline of draw %s", draw_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Run passes every interval until ``stop`` is set; then hand the lease back.

        A store that cannot be reached is logged once when the outage starts and once
        when it ends, however many passes fail in between.
        """
        outage_since: float | None = None
        try:
            while not stop.is_set():
                try:
                    await self.run_once()
                except STORE_OUTAGE_ERRORS as exc:
                    if outage_since is None:
                        outage_since = time.monotonic()
                        log.warning(
                            "scheduler: the store is unreachable (%s); retrying every %g s",
                            _one_line(exc),
                            self._interval,
                        )
                except Exception:
                    log.exception("scheduler pass failed; retrying")
                else:
                    if outage_since is not None:
                        log.warning(
                            "scheduler: the store is reachable again after %.1f s",
                            time.monotonic() - outage_since,
                        )
                        outage_since = None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._interval)
        finally:
            try:
                await self._schedule.release_lease(self.instance)
            except Exception:
                log.warning("could not release the scheduler lease; it expires by itself")

    async def status(self) -> dict[str, object]:
        """The scheduler's visible state: leader, last run, lag, next due round, the draws
        whose deadline it settled last and the next deadline."""
        last = await self._schedule.last_run()
        upcoming = await self._store.next_due()
        deadline = await self._schedule.next_deadline()
        run_ms = int(last["run_ms"]) if last.get("run_ms") else None
        return {
            "leader": await self._schedule.leader(),
            "last_run_at": iso(run_ms) if run_ms is not None else None,
            "last_drew_at": iso(int(last["drew_ms"])) if last.get("drew_ms") else None,
            "last_lag_ms": int(last["lag_ms"]) if last.get("lag_ms") else None,
            "last_drawn": [d for d in last.get("drawn", "").split(",") if d],
            "next_due_at": iso(upcoming[1]) if upcoming else None,
            "next_due_lottery": upcoming[0] if upcoming else None,
            "last_settled_at": iso(int(last["settled_ms"])) if last.get("settled_ms") else None,
            "last_settled": [d for d in last.get("settled", "").split(",") if d],
            "next_deadline_at": iso(deadline[1]) if deadline else None,
            "next_deadline_draw": deadline[0] if deadline else None,
        }


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def lottery_services(
    settings: Settings,
    store: LotteryStore,
    schedule: ScheduleStore,
    drawing: DrawingService,
    limits: RateLimits | None = None,
    activity: LiveStats | None = None,
    mine: MyEntriesStore | None = None,
) -> tuple[LotteryService, Scheduler]:
    """The lottery service and a scheduler over it (and over ``drawing``'s deadlines),
    as ``settings`` configure them."""
    service = LotteryService(
        store,
        drawing,
        default_timezone=settings.timezone,
        manager_networks=parse_networks(settings.manager_networks),
        limits=limits,
        activity=activity,
        mine=mine,
    )
    scheduler = Scheduler(
        service,
        store,
        schedule,
        interval_seconds=settings.scheduler_interval_seconds,
        lease_seconds=settings.scheduler_lease_seconds,
        drawing=drawing,
    )
    return service, scheduler
