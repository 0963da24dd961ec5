"""Accounts and browser sessions in the store.

A user is one hash (``keys.user``) created by ``create_user.lua``; the users index
(``keys.users_index``) lives in another slot and is written idempotently afterwards, so a
reader tolerates a name in the index whose hash is missing.

A browser session is a hash named after ``HMAC-SHA256(secret, token)``: the store never
holds the token itself, so reading the store does not let anyone act as a user. Its TTL
is the idle timeout, renewed on each use; its ``created_ms`` bounds its whole lifetime.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator, Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from fairdraw.domain.accounts import Role, Session, User
from fairdraw.domain.errors import FairdrawError, NotFound, UserExists
from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts

# secrets.token_urlsafe(32): 32 random bytes as 43 unpadded base64url characters.
_TOKEN_BYTES = 32
_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)

# Names read from the users index per round trip.
_INDEX_PAGE = 100


class AccountStore:
    """Users, the users index and browser sessions.

    Usernames given to this class must already be normalised
    (:func:`fairdraw.domain.accounts.normalize_username`); the service does that.
    """

    def __init__(self, redis: Redis, keys: Keys, secret: bytes) -> None:
        if not secret:
            raise ValueError("the session secret must not be empty")
        self._redis = redis
        self._keys = keys
        self._secret = secret
        self._scripts = Scripts(redis)

    async def now_ms(self) -> int:
        """The store's clock, in milliseconds since the epoch."""
        seconds, micros = await self._redis.time()
        return seconds * 1000 + micros // 1000

    # -- users -------------------------------------------------------------------------

    async def create_user(self, user: User, password_hash: str) -> None:
        """Store a new user; :class:`UserExists` if the name is taken."""
        key = self._keys.user(user.username)
        try:
            await self._scripts.call(
                "create_user",
                [key],
                [
                    user.username,
                    user.display_name,
                    user.role.value,
                    user.created_ms,
                    "1" if user.disabled else "0",
                    password_hash,
                ],
            )
        except UserExists:
            # The process that created the user may have stopped before indexing it;
            # indexing it now (idempotently) repairs that.
            created_ms = await self._redis.hget(key, "created_ms")
            if created_ms is not None:
                await self._index(user.username, int(created_ms))
            raise
        await self._index(user.username, user.created_ms)

    async def _index(self, username: str, created_ms: int) -> None:
        await self._redis.zadd(self._keys.users_index(), {username: created_ms}, nx=True)

    async def get_user(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash, or None if there is no such user."""
        fields = await self._redis.hgetall(self._keys.user(username))
        if not fields:
            return None
        return _user_from_fields(_decoded(fields))

    async def set_password_hash(
        self, username: str, password_hash: str, *, replaces: str | None = None
    ) -> None:
        """Replace a user's password hash; :class:`NotFound` if there is no such user.

        With ``replaces``, only if the stored hash is still that one: a hash upgraded at
        login must not undo a password change made meanwhile.
        """
        await self._update_user(username, "password_hash", password_hash, replaces)

    async def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable or re-enable a user; :class:`NotFound` if there is no such user."""
        await self._update_user(username, "disabled", "1" if disabled else "0", None)

    async def _update_user(
        self, username: str, field: str, value: str, replaces: str | None
    ) -> None:
        # WATCH so that an update never recreates a hash that was removed meanwhile, and
        # so that ``replaces`` is a true compare-and-set.
        key = self._keys.user(username)
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    current = await pipe.hget(key, "password_hash")
                    if current is None:
                        raise NotFound("No such user")
                    if replaces is not None and _text(current) != replaces:
                        return
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.hset(key, field, value)
                    await pipe.execute()
                    return
                except WatchError:
                    continue

    async def any_admin(self) -> bool:
        """True if some enabled user has the admin role."""
        async for names in self._index_pages():
            pipe = self._redis.pipeline(transaction=False)
            for name in names:
                pipe.hmget(self._keys.user(name), ["role", "disabled"])
            for role, disabled in await pipe.execute():
                if _text(role) == Role.admin.value and _text(disabled) != "1":
                    return True
        return False

    async def _index_pages(self) -> AsyncIterator[list[str]]:
        index = self._keys.users_index()
        start = 0
        while True:
            stop = start + _INDEX_PAGE - 1
            names = [_text(name) for name in await self._redis.zrange(index, start, stop)]
            if names:
                yield names
            if len(names) < _INDEX_PAGE:
                return
            start += _INDEX_PAGE

    async def list_users(self, offset: int = 0, limit: int = 100) -> list[User]:
        """Users in the order they were created, skipping ``offset`` of them."""
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must not be negative")
        if limit == 0:
            return []
        names = await self._redis.zrange(self._keys.users_index(), offset, offset + limit - 1)
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self._keys.user(_text(name)))
        replies = await pipe.execute()
        return [_user_from_fields(_decoded(fields))[0] for fields in replies if fields]

    # -- sessions ----------------------------------------------------------------------

    async def create_session(
        self, username: str, idle_seconds: int, *, created_ms: int | None = None
    ) -> tuple[str, Session]:
        """Start a session; returns the token for the cookie and the session.

        ``created_ms`` defaults to the store's clock now.
        """
        _check_positive(idle_seconds)
        if created_ms is None:
            created_ms = await self.now_ms()
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        session = Session(username, secrets.token_urlsafe(_TOKEN_BYTES), created_ms)
        key = self._session_key(token)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "username": session.username,
                    "csrf_secret": session.csrf_secret,
                    "created_ms": str(session.created_ms),
                },
            )
            pipe.expire(key, idle_seconds)
            await pipe.execute()
        return token, session

    async def get_session(
        self, token: str, idle_seconds: int, absolute_seconds: int
    ) -> Session | None:
        """The session of a token, renewing its idle timeout; None if there is none.

        A session older than ``absolute_seconds`` is deleted and reported absent.
        """
        _check_positive(idle_seconds)
        _check_positive(absolute_seconds)
        if not _well_formed(token):
            return None
        key = self._session_key(token)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(key)
        pipe.expire(key, idle_seconds)  # no-op if the key is gone
        pipe.time()
        fields, _renewed, (seconds, micros) = await pipe.execute()
        if not fields:
            return None
        session = _session_from_fields(_decoded(fields))
        now_ms = seconds * 1000 + micros // 1000
        if session is None or now_ms - session.created_ms >= absolute_seconds * 1000:
            await self._redis.delete(key)
            return None
        return session

    async def delete_session(self, token: str) -> None:
        """End the session of a token, if there is one."""
        if _well_formed(token):
            await self._redis.delete(self._session_key(token))

    def _session_key(self, token: str) -> str:
        digest = hmac.new(self._secret, token.encode("ascii"), hashlib.sha256).hexdigest()
        return self._keys.session(digest)


def _well_formed(token: str) -> bool:
    return isinstance(token, str) and _TOKEN_PATTERN.fullmatch(token) is not None


def _text(value: object) -> str:
    # fairdraw's clients decode replies (connection.connect); this also accepts bytes.
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)


def _decoded(fields: Mapping[Any, Any]) -> dict[str, str]:
    return {_text(name): _text(value) for name, value in fields.items()}


def _check_positive(seconds: int) -> None:
    if seconds < 1:
        raise ValueError("a session lifetime must be at least one second")


def _user_from_fields(fields: Mapping[str, str]) -> tuple[User, str]:
    try:
        user = User(
            username=fields["username"],
            display_name=fields["display_name"],
            role=Role(fields["role"]),
            created_ms=int(fields["created_ms"]),
            disabled=fields["disabled"] == "1",
        )
        return user, fields["password_hash"]
    except (KeyError, ValueError) as exc:
        raise FairdrawError("An account record in the store is damaged") from exc


def _session_from_fields(fields: Mapping[str, str]) -> Session | None:
    try:
        return Session(fields["username"], fields["csrf_secret"], int(fields["created_ms"]))
    except (KeyError, ValueError):
        return None
