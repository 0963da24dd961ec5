"""Webhooks: organisers' endpoints, the messages draws announce to them, and delivery.

A draw's manager (or an admin) registers endpoints for that draw; an admin registers
endpoints for the whole instance, which hear every draw. The drawing and entering
services announce events after the draw's own write; announcing is idempotent per
(endpoint, event, draw), so a retried call queues nothing twice. The worker, run by the
process that holds the scheduler's lease, delivers each endpoint's queue in order,
retrying with exponential backoff and jitter, and gives a message up after
:data:`~fairdraw.domain.webhooks.MAX_ATTEMPTS` attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.exceptions import InvalidTag

from fairdraw.domain import webhooks
from fairdraw.domain.accounts import Role
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import Draw
from fairdraw.domain.errors import (
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    StoreError,
)
from fairdraw.domain.moments import iso, now_ms
from fairdraw.domain.networks import IPNetwork, check_manager_network
from fairdraw.i18n import N_, Message
from fairdraw.services.drawing import require_manager
from fairdraw.services.outbound import AddressPolicy, policy_client
from fairdraw.store.draws import DrawStore
from fairdraw.store.schedule import ScheduleStore
from fairdraw.store.webhooks import StoredEndpoint, StoredMessage, WebhookStore

log = logging.getLogger("fairdraw.webhooks")

# One attempt may take this long (connect, send, status line) before it counts as failed.
DELIVERY_TIMEOUT_SECONDS = 10.0
# A claimed endpoint is held this long: past it, a worker that died is replaced.
CLAIM_MS = 60_000
# Endpoints delivered to at once per pass, and messages per endpoint per pass.
ENDPOINTS_PER_PASS = 50
MESSAGES_PER_PASS = 20
_ERROR_CHARS = 200


@dataclass(frozen=True)
class Endpoint:
    """A registered endpoint as its owner sees it (never its secret)."""

    id: str
    url: str
    events: list[str]
    draw_id: str | None
    created_ms: int
    created_by: str
    pending: int
    next_attempt_ms: int | None
    last_message: str | None
    last_type: str | None
    last_status: str | None
    last_attempts: int
    last_code: int | None
    last_error: str | None
    last_ms: int | None

    @classmethod
    def of(cls, stored: StoredEndpoint) -> Endpoint:
        f = stored.fields
        return cls(
            id=stored.id,
            url=f["url"],
            events=[e for e in f["events"].split(",") if e],
            draw_id=f.get("draw") or None,
            created_ms=int(f["created_ms"]),
            created_by=f["created_by"],
            pending=stored.pending,
            next_attempt_ms=stored.due_ms if stored.pending else None,
            last_message=f.get("last_message") or None,
            last_type=f.get("last_type") or None,
            last_status=f.get("last_status") or None,
            last_attempts=int(f.get("last_attempts") or 0),
            last_code=int(f["last_code"]) if f.get("last_code") else None,
            last_error=f.get("last_error") or None,
            last_ms=int(f["last_ms"]) if f.get("last_ms") else None,
        )


class WebhookService:
    """Endpoints, announcements and delivery over one store."""

    def __init__(
        self,
        store: WebhookStore,
        draws: DrawStore,
        secret: bytes,
        *,
        allow_http: bool = False,
        manager_networks: Sequence[IPNetwork] = (),
        clock: Callable[[], int] = now_ms,
        backoff_base_ms: int = webhooks.BACKOFF_BASE_MS,
        max_attempts: int = webhooks.MAX_ATTEMPTS,
        policy: AddressPolicy | None = None,
    ) -> None:
        self._store = store
        self._draws = draws
        self._secret = secret
        self._allow_http = allow_http
        # Where deliveries may go (FAIRDRAW_WEBHOOK_ALLOW_*): a URL whose host is an
        # address outside it is refused when it is registered, not only when delivered.
        self._policy = policy or AddressPolicy(loopback=allow_http)
        self._networks = tuple(manager_networks)
        self._clock = clock
        self._backoff_base_ms = backoff_base_ms
        self._max_attempts = max_attempts

    # -- endpoints -------------------------------------------------------------------
    async def _authorise(self, caller: Caller, draw_id: str | None) -> str:
        """The caller's username if it may manage the endpoints of ``draw_id`` (its
        managers and admins) or of the instance (admins)."""
        if draw_id is not None:
            draw = await self._draws.get(draw_id)
            return require_manager(caller, draw, self._networks).username
        if caller.user is None:
            raise NotAuthenticated()
        if caller.user.role is not Role.admin:
            raise Forbidden("Only administrators can manage the instance's webhooks")
        check_manager_network(caller.address, self._networks)
        return caller.user.username

    async def register(
        self, caller: Caller, draw_id: str | None, url: str, events: Sequence[str]
    ) -> tuple[Endpoint, str]:
        """Register an endpoint; the endpoint and its secret, which is never shown again.
        InvalidInput (nothing stored) for a URL or events that cannot be used."""
        username = await self._authorise(caller, draw_id)
        checked_url = webhooks.check_url(url, allow_http=self._allow_http)
        literal = webhooks.literal_address(checked_url)
        if literal is not None and not self._policy.allows(literal):
            raise InvalidInput(
                {
                    "url": Message(
                        N_(
                            "%(address)s is not a public address: webhooks are delivered "
                            "to public addresses only"
                        ),
                        address=str(literal),
                    )
                }
            )
        checked_events = webhooks.check_events(events)
        secret = webhooks.new_secret()
        created = self._clock()
        while True:
            endpoint_id = webhooks.new_endpoint_id()
            fields = {
                "url": checked_url,
                "events": ",".join(checked_events),
                "draw": draw_id or "",
                "created_ms": str(created),
                "created_by": username,
                "secret": webhooks.seal_secret(self._secret, endpoint_id, secret),
            }
            if await self._store.create(endpoint_id, draw_id, created, fields):
                break
        return await self._endpoint(endpoint_id), secret

    async def _endpoint(self, endpoint_id: str) -> Endpoint:
        stored = await self._store.get(endpoint_id)
        if stored is None:
            raise NotFound("No such webhook")
        return Endpoint.of(stored)

    async def endpoints(self, caller: Caller, draw_id: str | None) -> list[Endpoint]:
        """The endpoints of a draw (or of the instance), oldest first, with their last
        delivery."""
        await self._authorise(caller, draw_id)
        found = [await self._store.get(e) for e in await self._store.scope(draw_id)]
        return sorted(
            (Endpoint.of(s) for s in found if s is not None), key=lambda e: (e.created_ms, e.id)
        )

    async def remove(self, caller: Caller, draw_id: str | None, endpoint_id: str) -> None:
        """Remove an endpoint of this draw (or of the instance) and its queued messages."""
        await self._authorise(caller, draw_id)
        if not webhooks.valid_endpoint_id(endpoint_id):
            raise NotFound("No such webhook")
        stored = await self._store.get(endpoint_id)
        if stored is None or (stored.fields.get("draw") or None) != draw_id:
            raise NotFound("No such webhook")
        await self._store.delete(endpoint_id, draw_id)

    # -- announcing --------------------------------------------------------------------
    async def announce(self, event: str, draw: Draw) -> None:
        """Queue ``event`` (closed, sealed, drawn, cancelled) about ``draw`` for every
        endpoint that listens; again is harmless."""
        data: dict[str, Any] = {
            "draw_id": draw.id,
            "title": draw.title,
            "kind": draw.kind.value,
            "status": draw.status.value,
            "entry_count": draw.entry_count,
        }
        if event == webhooks.SEALED and draw.seal is not None:
            data["root"] = draw.seal.root
        await self._queue(event, draw.id, draw.id, data)

    async def forfeited(self, draw: Draw, number: int, substitution: Mapping[str, Any]) -> None:
        """Queue ``forfeit`` for substitution ``number`` of ``draw``; again is harmless."""
        data = {"draw_id": draw.id, "title": draw.title, "number": number, **substitution}
        await self._queue(webhooks.FORFEIT, draw.id, f"{draw.id}:forfeit:{number}", data)

    async def entry_milestone(self, draw_id: str, entry_count: int) -> None:
        """Queue ``entry_milestone`` if ``entry_count`` is one (10, 100, 1,000 …)."""
        if webhooks.is_milestone(entry_count):
            data = {"draw_id": draw_id, "entry_count": entry_count}
            await self._queue(webhooks.ENTRY_MILESTONE, draw_id, f"{draw_id}:{entry_count}", data)

    async def _queue(self, event: str, draw_id: str, subject: str, data: dict[str, Any]) -> None:
        now = self._clock()
        body = webhooks.payload(event, iso(now), data)
        for endpoint_id in await self._store.scope(draw_id) + await self._store.scope(None):
            stored = await self._store.get(endpoint_id)
            if stored is None or event not in stored.fields["events"].split(","):
                continue
            message_id = webhooks.message_id(self._secret, endpoint_id, event, subject)
            await self._store.enqueue(
                endpoint_id, message_id, webhooks.TYPE_PREFIX + event, body, now
            )

    # -- delivering --------------------------------------------------------------------
    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        """Deliver what is due, each endpoint's messages in order; the number of
        attempts made."""
        now = self._clock()
        claimed = await self._store.claim(now, now + CLAIM_MS, ENDPOINTS_PER_PASS)
        made = await asyncio.gather(*(self._deliver_queue(client, e) for e in claimed))
        return sum(made)

    async def _deliver_queue(self, client: httpx.AsyncClient, endpoint_id: str) -> int:
        """Deliver an endpoint's queued messages until one fails or the pass's share is
        spent; the attempts made."""
        stored = await self._store.get(endpoint_id)
        if stored is None:
            return 0
        try:
            secret = webhooks.open_secret(self._secret, endpoint_id, stored.fields["secret"])
        except InvalidTag:
            # Sealed under another server secret: nothing can be signed. The endpoint
            # stays claimed, so this is said once a claim period, not once a pass.
            log.warning(
                "webhook %s: its secret cannot be opened (FAIRDRAW_SECRET_KEY changed?); "
                "register it again",
                endpoint_id,
            )
            return 0
        for made in range(MESSAGES_PER_PASS):
            first = await self._store.first_message(endpoint_id)
            if first is None:
                await self._store.idle(endpoint_id)
                return made
            message_id, message = first
            last = made == MESSAGES_PER_PASS - 1
            if not await self._attempt(client, stored, secret, message_id, message, last):
                return made + 1
        return MESSAGES_PER_PASS

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        endpoint: StoredEndpoint,
        secret: str,
        message_id: str,
        message: StoredMessage | None,
        last: bool,
    ) -> bool:
        """One attempt at the first message; whether the worker may go on to the next."""
        if message is None:  # expired unsent: give it up, keep the queue moving
            await self._store.record(
                endpoint.id,
                message_id,
                "failed",
                attempts=0,
                code=None,
                error="expired",
                now_ms=self._clock(),
                next_ms=self._clock(),
            )
            return not last
        code, error = await self._post(client, endpoint.fields["url"], secret, message)
        now = self._clock()
        attempts = message.attempts + 1
        if code is not None and 200 <= code < 300:
            outcome = "delivered"
        elif attempts >= self._max_attempts:
            outcome = "failed"
        else:
            outcome = "retry"
        if outcome == "retry":
            next_ms = now + webhooks.backoff_ms(attempts, self._backoff_base_ms)
        else:
            next_ms = now if last else now + CLAIM_MS
        await self._store.record(
            endpoint.id,
            message_id,
            outcome,
            attempts=attempts,
            code=code,
            error=error,
            now_ms=now,
            next_ms=next_ms,
        )
        return outcome != "retry" and not last

    async def _post(
        self, client: httpx.AsyncClient, url: str, secret: str, message: StoredMessage
    ) -> tuple[int | None, str]:
        """POST the message, signed now; the status (None if none came) and an error."""
        sent = webhooks.headers(secret, message.id, self._clock() // 1000, message.body)
        try:
            async with client.stream("POST", url, content=message.body, headers=sent) as answer:
                code = answer.status_code
        except httpx.HTTPError as exc:
            return None, _short(exc)
        return code, "" if 200 <= code < 300 else f"HTTP {code}"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text[:_ERROR_CHARS]


class WebhookWorker:
    """Delivers due webhooks every interval, while this process holds the scheduler's
    lease (``instance`` is the scheduler's), so one process of many delivers."""

    def __init__(
        self,
        service: WebhookService,
        schedule: ScheduleStore,
        instance: str,
        *,
        interval_seconds: float,
        timeout_seconds: float = DELIVERY_TIMEOUT_SECONDS,
        policy: AddressPolicy | None = None,
    ) -> None:
        self._service = service
        self._policy = policy or AddressPolicy()
        self._schedule = schedule
        self._instance = instance
        self._interval = interval_seconds
        self._timeout = timeout_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Pass every interval until ``stop`` is set."""
        # Receivers are chosen by organisers: public addresses only, unless the
        # operator allows more (see fairdraw.services.outbound).
        async with policy_client(self._policy, httpx.Timeout(self._timeout)) as client:
            while not stop.is_set():
                try:
                    if await self._schedule.leader() == self._instance:
                        await self._service.deliver_due(client)
                except StoreError:
                    pass  # the scheduler reports the outage; the queue waits in the store
                except Exception:
                    log.exception("webhook delivery pass failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._interval)
