"""Accounts and browser sessions in the store.

A user is one hash (``keys.user``) created by ``create_user.lua`` and changed only by
scripts that refuse to recreate a missing hash (``set_password.lua``, ``update_user.lua``);
the users index (``keys.users_index``) lives in another slot and is written idempotently
afterwards, so a reader tolerates a name in the index whose hash is missing.

A browser session is a hash named after ``HMAC-SHA256(secret, token)``: the store never
holds the token itself, so reading the store does not let anyone act as a user. Its TTL
is the idle timeout, renewed on each use; its ``created_ms`` bounds its whole lifetime
and its ``epoch`` is its user's session epoch when it began.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator, Mapping
from typing import Any

from redis.asyncio import Redis

from fairdraw.domain.accounts import Role, Session, User
from fairdraw.domain.errors import FairdrawError, NotFound, UserExists
from fairdraw.i18n import DEFAULT_LOCALE, LOCALES
from fairdraw.store.keys import Keys
from fairdraw.store.scripts import Scripts

# secrets.token_urlsafe(32): 32 random bytes as 43 unpadded base64url characters.
_TOKEN_BYTES = 32
_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)

# Names read from the users index per round trip.
_INDEX_PAGE = 100
# Names read from the users index per round trip when searching it for a prefix.
_SEARCH_PAGE = 1000


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
                    _flag(user.disabled),
                    password_hash,
                    user.session_epoch,
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
        self,
        username: str,
        password_hash: str,
        *,
        replaces: str | None = None,
        end_sessions: bool = False,
    ) -> int | None:
        """Replace a user's password hash; :class:`NotFound` if there is no such user.

        With ``replaces``, only if the stored hash is still that one (else nothing
        changes and the answer is None): a hash upgraded at login must not undo a password
        change made meanwhile, nor may two password changes both succeed.
        ``end_sessions`` moves the user's session epoch on, in the same step. Returns the
        user's session epoch afterwards.
        """
        reply = await self._scripts.call(
            "set_password",
            [self._keys.user(username)],
            [password_hash, replaces or "", "1" if end_sessions else "0"],
        )
        if _outcome(reply) == "stale":
            return None
        return int(reply[1])

    async def update_user(
        self,
        username: str,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        only_if: tuple[Role, bool] | None = None,
    ) -> User | None:
        """Change a user's role and/or disabled flag; the user afterwards.

        :class:`NotFound` if there is no such user. With ``only_if`` (role, disabled),
        only if the user still has that role and flag; else nothing changes and the
        answer is None. Disabling a user ends its sessions and API tokens for good.
        """
        expected_role, expected_disabled = ("", "") if only_if is None else _flags(*only_if)
        reply = await self._scripts.call(
            "update_user",
            [self._keys.user(username)],
            [
                role.value if role is not None else "",
                _flag(disabled) if disabled is not None else "",
                expected_role,
                expected_disabled,
            ],
        )
        if _outcome(reply) == "stale":
            return None
        fields = reply[1:]
        return _user_from_fields(_decoded(dict(zip(fields[::2], fields[1::2], strict=True))))[0]

    async def set_email(
        self,
        username: str,
        email: str | None,
        *,
        confirmed: bool,
        only_if: str | None = None,
        language: str | None = None,
    ) -> User | None:
        """Set (``email``) or remove (None) a user's e-mail address; the user afterwards.
        ``language`` (a shipped locale), if given, becomes the language of its notices.

        :class:`NotFound` if there is no such user. With ``only_if``, only if the user's
        address is still that one (``""``: none); else nothing changes and the answer is
        None.
        """
        expected = "*" if only_if is None else only_if
        reply = await self._scripts.call(
            "set_email",
            [self._keys.user(username)],
            [email or "", _flag(confirmed), expected, language if language in LOCALES else ""],
        )
        if _outcome(reply) == "stale":
            return None
        fields = reply[1:]
        return _user_from_fields(_decoded(dict(zip(fields[::2], fields[1::2], strict=True))))[0]

    async def any_admin(self, *, besides: str | None = None) -> bool:
        """True if some enabled user has the admin role (other than ``besides``)."""
        async for names in self._index_pages():
            pipe = self._redis.pipeline(transaction=False)
            for name in names:
                pipe.hmget(self._keys.user(name), ["role", "disabled"])
            for name, (role, disabled) in zip(names, await pipe.execute(), strict=True):
                if _text(role) == Role.admin.value and _text(disabled) != "1" and name != besides:
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
        return await self._users_named([_text(name) for name in names])

    async def find_users(self, prefix: str, offset: int, limit: int) -> tuple[list[User], bool]:
        """Users whose name starts with ``prefix``, in the order they were created,
        skipping ``offset`` of the matching names; and whether more match after them.

        The index is ordered by creation time, not by name, so a search reads its names
        (not the users) from the start, a thousand per round trip.
        """
        if offset < 0 or limit < 1:
            raise ValueError("offset must not be negative and limit must be positive")
        if not prefix:
            names = await self._redis.zrange(self._keys.users_index(), offset, offset + limit)
            found = [_text(name) for name in names]
        else:
            found = await self._matching_names(prefix, offset + limit + 1)
            found = found[offset:]
        users = await self._users_named(found[:limit])
        return users, len(found) > limit

    async def _matching_names(self, prefix: str, wanted: int) -> list[str]:
        index = self._keys.users_index()
        matches: list[str] = []
        start = 0
        while len(matches) < wanted:
            names = await self._redis.zrange(index, start, start + _SEARCH_PAGE - 1)
            matches.extend(n for n in map(_text, names) if n.startswith(prefix))
            if len(names) < _SEARCH_PAGE:
                break
            start += _SEARCH_PAGE
        return matches[:wanted]

    async def _users_named(self, names: list[str]) -> list[User]:
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self._keys.user(name))
        replies = await pipe.execute()
        # A name in the index whose user is gone is skipped (see the module docstring).
        return [_user_from_fields(_decoded(fields))[0] for fields in replies if fields]

    # -- sessions ----------------------------------------------------------------------

    async def create_session(
        self,
        username: str,
        idle_seconds: int,
        *,
        created_ms: int | None = None,
        epoch: int = 0,
    ) -> tuple[str, Session]:
        """Start a session; returns the token for the cookie and the session.

        ``created_ms`` defaults to the store's clock now; ``epoch`` is the user's session
        epoch as it was when the user proved who they are.
        """
        _check_positive(idle_seconds)
        if created_ms is None:
            created_ms = await self.now_ms()
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        session = Session(username, secrets.token_urlsafe(_TOKEN_BYTES), created_ms, epoch)
        key = self._session_key(token)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "username": session.username,
                    "csrf_secret": session.csrf_secret,
                    "created_ms": str(session.created_ms),
                    "epoch": str(session.epoch),
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
        now_ms, *pairs = await self._scripts.call("get_session", [key], [idle_seconds])
        if not pairs:
            return None
        fields = dict(zip(pairs[::2], pairs[1::2], strict=True))
        session = _session_from_fields(_decoded(fields))
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


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _flags(role: Role, disabled: bool) -> tuple[str, str]:
    return role.value, _flag(disabled)


def _outcome(reply: list[Any]) -> str:
    # The account scripts answer "ok" with an outcome, since "no such user" and "changed
    # meanwhile" are answers here, not errors of the script.
    outcome = _text(reply[0]) if reply else ""
    if outcome == "missing":
        raise NotFound("No such user")
    if outcome not in ("updated", "stale"):
        raise FairdrawError(f"unexpected account script reply {reply!r}")
    return outcome


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
            # Accounts made before session epochs existed have none: epoch 0.
            session_epoch=int(fields.get("session_epoch") or 0),
            email=fields.get("email") or None,
            email_confirmed=fields.get("email_confirmed") == "1",
            language=lang if (lang := fields.get("lang", "")) in LOCALES else DEFAULT_LOCALE,
        )
        return user, fields["password_hash"]
    except (KeyError, ValueError) as exc:
        raise FairdrawError("An account record in the store is damaged") from exc


def _session_from_fields(fields: Mapping[str, str]) -> Session | None:
    try:
        return Session(
            fields["username"],
            fields["csrf_secret"],
            int(fields["created_ms"]),
            int(fields.get("epoch") or 0),
        )
    except (KeyError, ValueError):
        return None
