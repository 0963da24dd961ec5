"""API tokens: the OAuth2 password and refresh-token grants, bearer checks, revocation.

An access token is short-lived and checked on every API request with one read. A
refresh token is long-lived and works once: each use returns a new access and refresh
token, and presenting a used one again revokes the whole family (RFC 9700 §4.14.2),
since one of its two holders must have stolen it.
A client that keeps refreshing stays logged in indefinitely; one that stops is logged
out when its refresh token expires.

Nothing here logs a password or a token; a family id names no secret and is logged
when a reuse revokes its family.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fairdraw.domain.accounts import User
from fairdraw.domain.errors import InvalidToken
from fairdraw.services.accounts import AccountService
from fairdraw.store.accounts import AccountStore
from fairdraw.store.tokens import TokenPair, TokenStore, family_of

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
    ) -> None:
        if access_seconds < 1 or refresh_seconds < 1:
            raise ValueError("token lifetimes must be at least one second")
        self._store = store
        self._accounts = accounts
        self._users = users
        self._access_seconds = access_seconds
        self._refresh_seconds = refresh_seconds

    async def password_grant(self, username: str, password: str) -> Grant:
        """Check the password and start a new token family;
        :class:`~fairdraw.domain.errors.InvalidCredentials` on any failure."""
        user = await self._accounts.authenticate(username, password)
        pair = await self._store.issue(user.username, self._access_seconds, self._refresh_seconds)
        return self._grant(user, pair)

    async def refresh_grant(self, refresh_token: str, client_address: str | None = None) -> Grant:
        """Trade a refresh token for a new access and refresh token.

        :class:`InvalidToken` if the token is malformed, unknown, expired, used before
        (its family is then revoked), or revoked, or if its user is disabled or gone.
        """
        await self.limit_refresh_rate(refresh_token, client_address)
        rotation = await self._store.rotate(
            refresh_token, self._access_seconds, self._refresh_seconds
        )
        if rotation.tokens is None:
            log.warning(
                "a used refresh token of user %s came back; revoked token family %s",
                rotation.username,
                family_of(refresh_token),
            )
            raise InvalidToken()
        user = await self._active_user(rotation.username, refresh_token)
        return self._grant(user, rotation.tokens)

    async def limit_refresh_rate(self, refresh_token: str, client_address: str | None) -> None:
        """The rate limit of token refreshes (``FAIRDRAW_RATE_LIMIT_TOKEN_REFRESH``).

        Called first by :meth:`refresh_grant`; raises
        :class:`~fairdraw.domain.errors.RateLimited` to refuse. Until the rate limiter is
        wired in here, every refresh is admitted. ``family_of(refresh_token)`` is the
        natural key per client (None for a malformed token); ``client_address`` may be
        None when the server does not know the peer.
        """

    async def user_for_access_token(self, access_token: str) -> User:
        """The user of a bearer access token; :class:`InvalidToken` if the token is
        malformed, unknown, expired or revoked, or its user is disabled or gone."""
        username = await self._store.access_username(access_token)
        return await self._active_user(username, access_token)

    async def revoke(self, token: str) -> None:
        """Revoke the family of an access or refresh token: every token of it stops
        working. Idempotent; unknown and malformed tokens are ignored (RFC 7009 §2.2)."""
        await self._store.revoke(token)

    async def _active_user(self, username: str, token: str) -> User:
        found = await self._users.get_user(username)
        if found is None or found[0].disabled:
            # Like a browser session, the family ends at its first use after the user
            # was disabled; re-enabling the user does not bring it back.
            await self._store.revoke(token)
            raise InvalidToken()
        return found[0]

    def _grant(self, user: User, pair: TokenPair) -> Grant:
        return Grant(user, pair.access_token, pair.refresh_token, self._access_seconds)
