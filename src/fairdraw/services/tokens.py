"""API tokens: the OAuth2 password and refresh-token grants, bearer checks, revocation.

An access token is short-lived; checking it on an API request reads its family and its
user, and writes nothing. A refresh token is long-lived and works once: each use returns
a new access and refresh token, and presenting a used one again revokes the whole family
(RFC 9700 §4.14.2), since one of its two holders must have stolen it. A client that keeps
refreshing stays logged in indefinitely; one that stops is logged out when its refresh
token expires.

Nothing here logs a password or a token; a family id names no secret and is logged
when a reuse revokes its family.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from fairdraw.domain.accounts import User
from fairdraw.domain.errors import InvalidToken
from fairdraw.domain.networks import IPAddress
from fairdraw.services.accounts import AccountService
from fairdraw.services.ratelimit import RateLimits
from fairdraw.store.accounts import AccountStore
from fairdraw.store.tokens import Holder, TokenPair, TokenStore, family_of, named_user

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Grant:
    """A successful token request: the user and what the token endpoint answers."""

    user: User
    access_token: str
    refresh_token: str
    expires_in: int
    """Seconds the access token stays valid."""


class TokenService:
    """The API token use cases.

    ``accounts`` checks passwords; ``users`` is read on every token check, so that a
    user who was disabled or removed since the token was issued is refused.
    """

    def __init__(
        self,
        store: TokenStore,
        accounts: AccountService,
        users: AccountStore,
        *,
        access_seconds: int,
        refresh_seconds: int,
        limits: RateLimits,
    ) -> None:
        self._limits = limits
        if access_seconds < 1 or refresh_seconds < 1:
            raise ValueError("token lifetimes must be at least one second")
        self._store = store
        self._accounts = accounts
        self._users = users
        self._access_seconds = access_seconds
        self._refresh_seconds = refresh_seconds

    async def password_grant(
        self, username: str, password: str, address: IPAddress | None = None
    ) -> Grant:
        """Check the password and start a new token family;
        :class:`~fairdraw.domain.errors.InvalidCredentials` on any failure. Counts
        against the same login rate limits as a browser login."""
        await self._limits.login(username, address)
        user = await self._accounts.authenticate(username, password)
        holder = Holder(user.username, user.session_epoch)
        pair = await self._store.issue(holder, self._access_seconds, self._refresh_seconds)
        return self._grant(user, pair)

    async def refresh_grant(self, refresh_token: str) -> Grant:
        """Trade a refresh token for a new access and refresh token.

        :class:`InvalidToken` if the token is malformed, unknown, expired, used before
        (its family is then revoked), or revoked, or if its user is disabled or gone or
        has ended their sessions since (a password change).
        """
        family_id = family_of(refresh_token)
        if family_id is None:
            raise InvalidToken()
        await self.limit_refresh_rate(family_id)
        rotation = await self._store.rotate(
            refresh_token, self._access_seconds, self._refresh_seconds
        )
        if rotation.tokens is None:
            log.warning(
                "a used refresh token of user %s came back; revoked token family %s",
                rotation.holder.username,
                family_id,
            )
            raise InvalidToken()
        user = await self._active_user(rotation.holder, refresh_token)
        return self._grant(user, rotation.tokens)

    async def limit_refresh_rate(self, family_id: str) -> None:
        """The rate limit of token refreshes, per token family
        (``FAIRDRAW_RATE_LIMIT_TOKEN_REFRESH``).

        :meth:`refresh_grant` calls this before it touches the family; it raises
        :class:`~fairdraw.domain.errors.RateLimited` to refuse.
        """
        await self._limits.token_refresh(family_id)

    async def user_for_access_token(self, access_token: str) -> User:
        """The user of a bearer access token; :class:`InvalidToken` if the token is
        malformed, unknown, expired or revoked, or its user is disabled or gone or has
        ended their sessions since."""
        named = named_user(access_token)
        if named is None:
            holder = await self._store.access_holder(access_token)
            return await self._active_user(holder, access_token)
        # The token names its user: the family and the user are read together, in the
        # same round trip. The name is covered by the token's hash, so a token naming
        # anyone but its family's user is unknown; it is checked here all the same.
        holder, found = await asyncio.gather(
            self._store.access_holder(access_token), self._users.get_user(named)
        )
        if holder.username != named:
            raise InvalidToken()
        return await self._current_user(holder, found, access_token)

    async def revoke(self, token: str) -> None:
        """Revoke the family of an access or refresh token: every token of it stops
        working. Idempotent; unknown and malformed tokens are ignored (RFC 7009 §2.2)."""
        await self._store.revoke(token)

    async def _active_user(self, holder: Holder, token: str) -> User:
        return await self._current_user(holder, await self._users.get_user(holder.username), token)

    async def _current_user(
        self, holder: Holder, found: tuple[User, str] | None, token: str
    ) -> User:
        """The user ``found`` for ``holder``'s family, if they may still use its tokens."""
        if found is None or found[0].disabled or not found[0].credentials_current(holder.epoch):
            # Like a browser session, the family ends at its first use after that.
            await self._store.revoke(token)
            raise InvalidToken()
        return found[0]

    def _grant(self, user: User, pair: TokenPair) -> Grant:
        return Grant(user, pair.access_token, pair.refresh_token, self._access_seconds)
