"""Accounts: creating users, checking passwords, and browser sessions.

Passwords are hashed with argon2id (``argon2-cffi``, RFC 9106 low-memory profile by
default). Hashing is deliberately slow, so it runs in a worker thread and never blocks
the event loop. Nothing here logs a password, a hash or a session token.
"""

from __future__ import annotations

import contextlib
import logging
import secrets

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fairdraw.domain.accounts import (
    MAX_PASSWORD_LENGTH,
    Role,
    Session,
    User,
    check_password,
    normalize_display_name,
    normalize_username,
)
from fairdraw.domain.errors import InvalidCredentials, InvalidInput, NotFound, UserExists
from fairdraw.store.accounts import AccountStore

log = logging.getLogger(__name__)

DEFAULT_ABSOLUTE_SECONDS = 7 * 24 * 3600


class AccountService:
    """The account use cases, shared by the web layer and the CLI.

    ``idle_seconds`` ends a session that is not used for that long; ``absolute_seconds``
    ends every session that old, used or not. ``hasher`` defaults to argon2id with the
    library's parameters; stored hashes made with other parameters are upgraded at login.
    """

    def __init__(
        self,
        store: AccountStore,
        idle_seconds: int,
        absolute_seconds: int = DEFAULT_ABSOLUTE_SECONDS,
        *,
        hasher: PasswordHasher | None = None,
    ) -> None:
        if idle_seconds < 1 or absolute_seconds < 1:
            raise ValueError("session lifetimes must be at least one second")
        self._store = store
        self._idle_seconds = idle_seconds
        self._absolute_seconds = absolute_seconds
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    # -- users -------------------------------------------------------------------------

    async def create_user(
        self,
        username: str,
        password: str,
        role: Role = Role.participant,
        display_name: str | None = None,
    ) -> User:
        """Create a user; :class:`InvalidInput` or :class:`UserExists` if that cannot be.

        The name is normalised, so a name taken in any letter case is taken. The display
        name defaults to the username as typed (normalised, case kept).
        """
        name = normalize_username(username)
        check_password(password, name)
        shown = normalize_display_name(display_name if display_name is not None else username)
        password_hash = await self._hash(password)
        user = User(name, shown, role, await self._store.now_ms())
        await self._store.create_user(user, password_hash)
        log.info("created user %s with role %s", name, role.value)
        return user

    async def ensure_admin(self, username: str, password: str) -> bool:
        """Create the admin ``username`` unless that user exists; True if created.

        Safe when several processes start at once: one creates the user, the others
        return False. An existing user is left as it is, whatever its role or password.
        """
        name = normalize_username(username)
        existing = await self._store.get_user(name)
        if existing is None:
            try:
                await self.create_user(name, password, Role.admin, display_name=username)
            except UserExists:
                existing = await self._store.get_user(name)
            else:
                return True
        if existing is not None and existing[0].role is not Role.admin:
            log.warning("user %s exists but is not an admin; no admin was created", name)
        return False

    async def any_admin(self) -> bool:
        """True if some enabled user is an admin."""
        return await self._store.any_admin()

    async def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable or re-enable a user; a disabled user's sessions end at their next use."""
        await self._store.set_disabled(normalize_username(username), disabled)

    # -- passwords ---------------------------------------------------------------------

    async def authenticate(self, username: str, password: str) -> User:
        """The user with that name and password, or :class:`InvalidCredentials`.

        Unknown, malformed and disabled names fail exactly like a wrong password, after
        the same argon2 work, so a login attempt does not reveal which names exist.
        """
        try:
            name: str | None = normalize_username(username)
        except InvalidInput:
            name = None
        found = await self._store.get_user(name) if name is not None else None
        if found is None or len(password) > MAX_PASSWORD_LENGTH:
            await self._verify(await self._dummy(), password[:MAX_PASSWORD_LENGTH])
            raise InvalidCredentials()
        user, password_hash = found
        if not await self._verify(password_hash, password) or user.disabled:
            raise InvalidCredentials()
        if self._hasher.check_needs_rehash(password_hash):
            upgraded = await self._hash(password)
            # The user may have been removed since; the login fails later on its own.
            with contextlib.suppress(NotFound):
                await self._store.set_password_hash(user.username, upgraded, replaces=password_hash)
            log.info("upgraded the password hash of user %s", user.username)
        return user

    async def _hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password)

    async def _verify(self, password_hash: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(_verify, self._hasher, password_hash, password)

    async def _dummy(self) -> str:
        # Made with this service's own parameters so that it costs what a real hash costs.
        if self._dummy_hash is None:
            self._dummy_hash = await self._hash(secrets.token_urlsafe(32))
        return self._dummy_hash

    # -- sessions ----------------------------------------------------------------------

    async def login(self, username: str, password: str) -> tuple[User, str, Session]:
        """Authenticate and start a session; returns the user, the cookie token and it."""
        user = await self.authenticate(username, password)
        token, session = await self._store.create_session(user.username, self._idle_seconds)
        return user, token, session

    async def logout(self, token: str) -> None:
        """End the session of a token; the token authorises nothing afterwards."""
        await self._store.delete_session(token)

    async def session_user(self, token: str) -> tuple[User, Session] | None:
        """The user and session of a token, renewing the session; None if not valid.

        None when the token is malformed, the session expired or ended, or its user is
        gone or disabled (the session is then ended too).
        """
        session = await self._store.get_session(token, self._idle_seconds, self._absolute_seconds)
        if session is None:
            return None
        found = await self._store.get_user(session.username)
        if found is None or found[0].disabled:
            await self._store.delete_session(token)
            return None
        return found[0], session


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
