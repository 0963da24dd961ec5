"""The e-mail queue, under the ``{mail}`` hash tag, and confirmation tokens.

Each notice is one hash, queued once (its id is a keyed hash of draw, recipient and
kind); the ``due`` sorted set says when each is next tried. A worker claims due messages
(pushing them ahead while it sends), then records each attempt, which unschedules the
message or schedules its retry. A confirmation token is kept as a keyed hash with a TTL
and taken with GETDEL, so that only one use of it can ever succeed.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts

# How long a message is kept once queued (its existence is what makes announcing the
# same draw twice harmless; its retries end within about two days).
MESSAGE_TTL_MS = 30 * 24 * 3600 * 1000


@dataclass(frozen=True)
class StoredMail:
    """A queued message: what it is, to whom, and how it has fared."""

    id: str
    kind: str
    draw: str
    username: str
    to: str
    subject: str
    text: str
    status: str
    attempts: int
    last_error: str


class MailStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._scripts = Scripts(redis)

    async def enqueue(self, message_id: str, fields: dict[str, str], now_ms: int) -> bool:
        """Queue a message unless it exists already; whether it was queued."""
        k = self._keys
        items = [v for pair in fields.items() for v in pair]
        (queued,) = await self._scripts.call(
            "mail_enqueue",
            [k.mail_message(message_id), k.mail_due()],
            [message_id, now_ms, MESSAGE_TTL_MS, *items],
        )
        return bool(queued)

    async def exists(self, message_id: str) -> bool:
        return bool(await self._redis.exists(self._keys.mail_message(message_id)))

    async def claim(self, now_ms: int, until_ms: int, limit: int) -> list[str]:
        """Messages due at ``now_ms``, each then held until ``until_ms``."""
        due = await self._scripts.call(
            "mail_claim", [self._keys.mail_due()], [now_ms, until_ms, limit]
        )
        return [str(message_id) for message_id in due]

    async def get(self, message_id: str) -> StoredMail | None:
        fields = await self._redis.hgetall(self._keys.mail_message(message_id))
        if not fields:
            return None
        f = {str(a): str(b) for a, b in fields.items()}
        return StoredMail(
            id=message_id,
            kind=f.get("kind", ""),
            draw=f.get("draw", ""),
            username=f.get("username", ""),
            to=f.get("to", ""),
            subject=f.get("subject", ""),
            text=f.get("text", ""),
            status=f.get("status", ""),
            attempts=int(f.get("attempts") or 0),
            last_error=f.get("last_error", ""),
        )

    async def record(
        self,
        message_id: str,
        outcome: str,
        *,
        attempts: int,
        error: str,
        now_ms: int,
        next_ms: int = 0,
    ) -> bool:
        """Record an attempt (see mail_record.lua); False if the message is gone."""
        k = self._keys
        (recorded,) = await self._scripts.call(
            "mail_record",
            [k.mail_message(message_id), k.mail_due()],
            [message_id, outcome, attempts, error, now_ms, next_ms],
        )
        return bool(recorded)

    async def due_count(self) -> int:
        """How many messages wait to be sent (or retried)."""
        return int(await self._redis.zcard(self._keys.mail_due()))

    # -- confirmation tokens -------------------------------------------------------------
    async def keep_confirmation(
        self, token_hash: str, username: str, address: str, seconds: int
    ) -> None:
        """Keep a confirmation token (by its keyed hash) for ``seconds``."""
        key = self._keys.mail_confirmation(token_hash)
        await self._redis.set(key, f"{username}\t{address}", ex=seconds)

    async def take_confirmation(self, token_hash: str) -> tuple[str, str] | None:
        """The (username, address) of a token, which is spent by this; None if unknown,
        expired or spent."""
        value = await self._redis.getdel(self._keys.mail_confirmation(token_hash))
        if value is None:
            return None
        username, _, address = str(value).partition("\t")
        return username, address
