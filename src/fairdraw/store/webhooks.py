"""Webhook endpoints and their durable delivery queue, all under the ``{wh}`` hash tag.

Each endpoint has a queue of message ids, delivered first to last, one at a time; the
``due`` sorted set says when each endpoint's first message is next tried. A worker claims
due endpoints (pushing them ahead while it delivers), then records each attempt, which
moves the queue on or schedules the retry. Every change of more than one key is a script.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts

# How long a message is kept once queued (its existence is what makes announcing the
# same event twice harmless; its retries end within about two days).
MESSAGE_TTL_MS = 30 * 24 * 3600 * 1000


@dataclass(frozen=True)
class StoredEndpoint:
    """An endpoint as kept: its fields, and its queue's length and due time."""

    id: str
    fields: dict[str, str]
    pending: int
    due_ms: int | None


@dataclass(frozen=True)
class StoredMessage:
    id: str
    type: str
    body: bytes
    attempts: int


class WebhookStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._scripts = Scripts(redis)

    async def create(
        self, endpoint_id: str, draw_id: str | None, created_ms: int, fields: dict[str, str]
    ) -> bool:
        """Keep a new endpoint; False if the id is taken."""
        k = self._keys
        items = [v for pair in fields.items() for v in pair]
        (created,) = await self._scripts.call(
            "webhook_create",
            [k.webhook_endpoint(endpoint_id), k.webhook_endpoints(), k.webhook_scope(draw_id)],
            [endpoint_id, created_ms, *items],
        )
        return bool(created)

    async def get(self, endpoint_id: str) -> StoredEndpoint | None:
        k = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(k.webhook_endpoint(endpoint_id))
            pipe.llen(k.webhook_queue(endpoint_id))
            pipe.zscore(k.webhook_due(), endpoint_id)
            fields, pending, due = await pipe.execute()
        if not fields:
            return None
        return StoredEndpoint(
            endpoint_id,
            {str(a): str(b) for a, b in fields.items()},
            int(pending),
            int(due) if due is not None else None,
        )

    async def scope(self, draw_id: str | None) -> list[str]:
        """The ids of the endpoints of one draw (or of the instance, ``draw_id`` None)."""
        members = await self._redis.smembers(self._keys.webhook_scope(draw_id))
        return sorted(str(m) for m in members)

    async def delete(self, endpoint_id: str, draw_id: str | None) -> bool:
        """Remove an endpoint, its queue and its undelivered messages; False if absent."""
        k = self._keys
        queued = await self._redis.lrange(k.webhook_queue(endpoint_id), 0, -1)
        (deleted,) = await self._scripts.call(
            "webhook_delete",
            [
                k.webhook_endpoint(endpoint_id),
                k.webhook_endpoints(),
                k.webhook_scope(draw_id),
                k.webhook_queue(endpoint_id),
                k.webhook_due(),
                *(k.webhook_message(str(m)) for m in queued),
            ],
            [endpoint_id],
        )
        return bool(deleted)

    async def enqueue(
        self, endpoint_id: str, message_id: str, kind: str, body: bytes, now_ms: int
    ) -> bool:
        """Queue a message unless it exists already (or the endpoint is gone)."""
        k = self._keys
        (queued,) = await self._scripts.call(
            "webhook_enqueue",
            [
                k.webhook_endpoint(endpoint_id),
                k.webhook_queue(endpoint_id),
                k.webhook_due(),
                k.webhook_message(message_id),
            ],
            [endpoint_id, message_id, kind, body, now_ms, MESSAGE_TTL_MS],
        )
        return bool(queued)

    async def claim(self, now_ms: int, until_ms: int, limit: int) -> list[str]:
        """Endpoints due at ``now_ms``, each then held until ``until_ms``."""
        due = await self._scripts.call(
            "webhook_claim", [self._keys.webhook_due()], [now_ms, until_ms, limit]
        )
        return [str(endpoint_id) for endpoint_id in due]

    async def first_message(self, endpoint_id: str) -> tuple[str, StoredMessage | None] | None:
        """The id of an endpoint's first queued message and the message (None if it
        expired); None if the queue is empty."""
        head = await self._redis.lindex(self._keys.webhook_queue(endpoint_id), 0)
        if head is None:
            return None
        message_id = str(head)
        fields = await self._redis.hgetall(self._keys.webhook_message(message_id))
        if not fields:
            return message_id, None
        values = {str(a): str(b) for a, b in fields.items()}
        message = StoredMessage(
            message_id, values["type"], values["body"].encode(), int(values["attempts"])
        )
        return message_id, message

    async def idle(self, endpoint_id: str) -> None:
        """Unschedule an endpoint whose queue is empty."""
        k = self._keys
        await self._scripts.call(
            "webhook_idle", [k.webhook_queue(endpoint_id), k.webhook_due()], [endpoint_id]
        )

    async def record(
        self,
        endpoint_id: str,
        message_id: str,
        outcome: str,
        *,
        attempts: int,
        code: int | None,
        error: str,
        now_ms: int,
        next_ms: int = 0,
    ) -> bool:
        """Record an attempt at an endpoint's first message (see webhook_record.lua)."""
        k = self._keys
        (recorded,) = await self._scripts.call(
            "webhook_record",
            [
                k.webhook_endpoint(endpoint_id),
                k.webhook_queue(endpoint_id),
                k.webhook_due(),
                k.webhook_message(message_id),
            ],
            [
                endpoint_id,
                message_id,
                outcome,
                attempts,
                "" if code is None else code,
                error,
                now_ms,
                next_ms,
            ],
        )
        return bool(recorded)
