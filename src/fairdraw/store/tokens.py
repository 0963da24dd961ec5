"""API token families in the store.

A password grant starts a *family*: one access token and one refresh token. Each use of
the refresh token rotates it, adding a new access and refresh token to the same family.
All keys of a family share the hash tag ``{f:FID}`` (see :mod:`fairdraw.store.keys`), so
every change of a family is one Lua script.

A token is ``"<family id>.<secret>~<username>"``: the family id says which keys to look
at, the secret (``secrets.token_urlsafe(32)``) makes it unguessable, and the username
lets a check read the token's user in the same round trip as its family (the user's
keys are in another hash slot). As with browser sessions, a token's key is named after
``HMAC-SHA256(secret key, token)``, username included: the store never holds a token, so
reading the store does not let anyone act as a user, and a token whose name was changed
is an unknown token. Tokens issued without ``~<username>`` (before it was added) are
still read: their user is read after their family.

Every check of a token reads its family's status, so revoking the family (on request,
or when a used refresh token comes back) stops all of its tokens at once. The family
also keeps its user's session epoch from the login, which the service compares with the
user's current one (:meth:`fairdraw.domain.accounts.User.credentials_current`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

from fairdraw.domain.accounts import USERNAME_PATTERN
from fairdraw.domain.errors import InvalidToken
from fairdraw.store.keys import FAMILY_ID_PATTERN, Keys
from fairdraw.store.scripts import Scripts

_FAMILY_ID_BYTES = 16
_SECRET_BYTES = 32
# "<family id>.<secret>~<username>"; the secret is 32 bytes as 43 unpadded base64url
# characters, and the username is left out of tokens issued before it was added.
TOKEN_PATTERN = re.compile(
    rf"({FAMILY_ID_PATTERN})\.[A-Za-z0-9_-]{{43}}(?:~({USERNAME_PATTERN.pattern}))?", re.ASCII
)


@dataclass(frozen=True)
class TokenPair:
    """A fresh access token and refresh token of one family."""

    family_id: str
    access_token: str
    refresh_token: str


@dataclass(frozen=True)
class Holder:
    """Whom a token family acts for: the username, and that user's session epoch when
    they logged in."""

    username: str
    epoch: int


@dataclass(frozen=True)
class Rotation:
    """The outcome of presenting a refresh token that exists in an active family.

    ``tokens`` is the new pair, or None when the refresh token had been used before and
    its family is now revoked (``reused``).
    """

    holder: Holder
    tokens: TokenPair | None

    @property
    def reused(self) -> bool:
        return self.tokens is None


def family_of(token: str) -> str | None:
    """The family id of a well-formed token, or None for anything else."""
    if not isinstance(token, str):
        return None
    match = TOKEN_PATTERN.fullmatch(token)
    return match.group(1) if match else None


def named_user(token: str) -> str | None:
    """The username a well-formed token names, or None: for anything else, and for a
    token issued without one."""
    if not isinstance(token, str):
        return None
    match = TOKEN_PATTERN.fullmatch(token)
    return match.group(2) if match else None


def new_family_id() -> str:
    """16 random bytes in lower-case base32 without padding (26 characters)."""
    raw = base64.b32encode(secrets.token_bytes(_FAMILY_ID_BYTES)).decode("ascii")
    return raw.rstrip("=").lower()


class TokenStore:
    """Token families: issue, rotate, check and revoke.

    Lifetimes are arguments (whole seconds, at least one), so the service decides them.
    A malformed token is refused with :class:`InvalidToken` before any store access.
    """

    def __init__(self, redis: Redis, keys: Keys, secret: bytes) -> None:
        if not secret:
            raise ValueError("the token secret must not be empty")
        self._redis = redis
        self._keys = keys
        self._secret = secret
        self._scripts = Scripts(redis)

    async def issue(self, holder: Holder, access_seconds: int, refresh_seconds: int) -> TokenPair:
        """Start a new family for ``holder`` with its first access and refresh token."""
        _check_lifetimes(access_seconds, refresh_seconds)
        family_id = new_family_id()
        pair = _new_pair(family_id, holder.username)
        refresh_hash = self._hash(pair.refresh_token)
        await self._scripts.call(
            "issue_tokens",
            [
                self._keys.token_family(family_id),
                self._keys.access_token(family_id, self._hash(pair.access_token)),
                self._keys.refresh_token(family_id, refresh_hash),
            ],
            [holder.username, refresh_hash, access_seconds, refresh_seconds, holder.epoch],
        )
        return pair

    async def rotate(
        self, refresh_token: str, access_seconds: int, refresh_seconds: int
    ) -> Rotation:
        """Use a refresh token once: mark it used and issue the family's next pair.

        :class:`InvalidToken` if the token is malformed, unknown, expired, or its family
        is revoked or gone. A token that was already used revokes its family and comes
        back as a :class:`Rotation` without tokens, so the caller can log the reuse.
        """
        _check_lifetimes(access_seconds, refresh_seconds)
        family_id = _family_or_refuse(refresh_token)
        presented_hash = self._hash(refresh_token)
        # The new pair names the user the presented token names (none, for a family
        # issued before tokens named their user): the family's user never changes.
        pair = _new_pair(family_id, named_user(refresh_token))
        new_refresh_hash = self._hash(pair.refresh_token)
        outcome, username, epoch = await self._scripts.call(
            "refresh_tokens",
            [
                self._keys.token_family(family_id),
                self._keys.refresh_token(family_id, presented_hash),
                self._keys.access_token(family_id, self._hash(pair.access_token)),
                self._keys.refresh_token(family_id, new_refresh_hash),
            ],
            [presented_hash, new_refresh_hash, access_seconds, refresh_seconds],
        )
        holder = Holder(str(username), int(epoch))
        return Rotation(holder, pair if outcome == "rotated" else None)

    async def access_holder(self, access_token: str) -> Holder:
        """Whom an access token acts for; :class:`InvalidToken` if it is malformed,
        unknown, expired, or its family is revoked. Reads only."""
        family_id = _family_or_refuse(access_token)
        username, epoch = await self._scripts.call(
            "check_access_token",
            [
                self._keys.token_family(family_id),
                self._keys.access_token(family_id, self._hash(access_token)),
            ],
        )
        return Holder(str(username), int(epoch))

    async def revoke(self, token: str) -> bool:
        """Revoke the family of an access or refresh token; True if this call did.

        False, without an error, for malformed and unknown tokens and for families that
        are already revoked or expired: revoking is idempotent.
        """
        family_id = family_of(token)
        if family_id is None:
            return False
        token_hash = self._hash(token)
        (revoked,) = await self._scripts.call(
            "revoke_family",
            [
                self._keys.token_family(family_id),
                self._keys.access_token(family_id, token_hash),
                self._keys.refresh_token(family_id, token_hash),
            ],
        )
        return bool(int(revoked))

    def _hash(self, token: str) -> str:
        return hmac.new(self._secret, token.encode("ascii"), hashlib.sha256).hexdigest()


def _new_pair(family_id: str, username: str | None) -> TokenPair:
    name = "" if username is None else f"~{username}"
    return TokenPair(
        family_id=family_id,
        access_token=f"{family_id}.{secrets.token_urlsafe(_SECRET_BYTES)}{name}",
        refresh_token=f"{family_id}.{secrets.token_urlsafe(_SECRET_BYTES)}{name}",
    )


def _family_or_refuse(token: str) -> str:
    family_id = family_of(token)
    if family_id is None:
        raise InvalidToken()
    return family_id


def _check_lifetimes(access_seconds: int, refresh_seconds: int) -> None:
    if access_seconds < 1 or refresh_seconds < 1:
        raise ValueError("token lifetimes must be at least one second")
