"""Accounts: registration, passwords, browser sessions and user administration.

Passwords are hashed with argon2id (``argon2-cffi``, RFC 9106 low-memory profile by
default). Hashing is deliberately slow, so it runs in a worker thread and never blocks
the event loop. Nothing here logs a password, a hash or a session token.

Authorisation happens here: the methods that act for someone take the acting
:class:`User` (None for nobody) and raise NotAuthenticated or Forbidden themselves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import secrets
import time

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fairdraw.domain.accounts import (
    DEFAULT_PAGE_SIZE,
    MAX_PASSWORD_LENGTH,
    CannotDemoteSelf,
    CannotDisableSelf,
    LastAdmin,
    Role,
    Session,
    User,
    UserPage,
    check_confirmation,
    check_new_account,
    check_paging,
    check_password,
    normalize_username,
    username_prefix,
)
from fairdraw.domain.errors import (
    AccountDisabled,
    Conflict,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    RegistrationClosed,
    UserExists,
)
from fairdraw.store.accounts import AccountStore

log = logging.getLogger(__name__)

DEFAULT_ABSOLUTE_SECONDS = 7 * 24 * 3600
# A user changed by someone else between reading and writing is read again this often.
_UPDATE_ATTEMPTS = 5


def require_admin(actor: User | None) -> User:
    """The actor if it is an admin; NotAuthenticated for nobody, Forbidden otherwise."""
    if actor is None:
        raise NotAuthenticated()
    if actor.role is not Role.admin:
        raise Forbidden("Only administrators can manage users")
    return actor


class AccountService:
    """The account use cases, shared by the web layer and the CLI.

    ``idle_seconds`` ends a session that is not used for that long; ``absolute_seconds``
    ends every session that old, used or not. ``hasher`` defaults to argon2id with the
    library's parameters; stored hashes made with other parameters are upgraded at login.
    ``registration_open`` lets anyone create a participant account (:meth:`register`).
    """

    def __init__(
        self,
        store: AccountStore,
        idle_seconds: int,
        absolute_seconds: int = DEFAULT_ABSOLUTE_SECONDS,
        *,
        hasher: PasswordHasher | None = None,
        registration_open: bool = False,
    ) -> None:
        if idle_seconds < 1 or absolute_seconds < 1:
            raise ValueError("session lifetimes must be at least one second")
        self._store = store
        self._idle_seconds = idle_seconds
        self._absolute_seconds = absolute_seconds
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None
        self._admin_seen = False
        self.registration_open = registration_open

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
        return await self._create(username, password, role, display_name, None)

    async def _create(
        self,
        username: str,
        password: str,
        role: Role,
        display_name: str | None,
        confirmation: str | None,
    ) -> User:
        name, shown = check_new_account(username, password, display_name, confirmation=confirmation)
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

    async def needs_first_admin(self) -> bool:
        """True while no enabled administrator exists yet. Once one is seen the answer
        stays False in this process (the last administrator cannot be demoted or
        disabled), so asking on every home page costs one look at the store at most."""
        if not self._admin_seen:
            self._admin_seen = await self._store.any_admin()
        return not self._admin_seen

    async def register(
        self,
        username: str,
        password: str,
        display_name: str | None = None,
        *,
        confirmation: str | None = None,
    ) -> User:
        """Self-service sign-up: a new participant; :class:`RegistrationClosed` unless
        registration is open, else like :meth:`create_user`. ``confirmation`` is the
        password typed twice, when the form asks for it (``password_confirm`` errors)."""
        if not self.registration_open:
            raise RegistrationClosed()
        return await self._create(username, password, Role.participant, display_name, confirmation)

    async def register_and_log_in(
        self,
        username: str,
        password: str,
        display_name: str | None = None,
        *,
        confirmation: str | None = None,
    ) -> tuple[User, str, Session]:
        """:meth:`register`, then start a session; returns the user, cookie token and it."""
        user = await self.register(username, password, display_name, confirmation=confirmation)
        token, session = await self._store.create_session(
            user.username, self._idle_seconds, epoch=user.session_epoch
        )
        return user, token, session

    # -- passwords ---------------------------------------------------------------------

    async def authenticate(self, username: str, password: str) -> User:
        """The user with that name and password, or :class:`InvalidCredentials`.

        Unknown and malformed names fail exactly like a wrong password, after the same
        argon2 work, so a login attempt does not reveal which names exist. A disabled
        account with the right password is :class:`AccountDisabled`: whoever knows the
        password learns only what its owner should be told.
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
        if not await self._verify(password_hash, password):
            raise InvalidCredentials()
        if user.disabled:
            raise AccountDisabled()
        if self._hasher.check_needs_rehash(password_hash):
            upgraded = await self._hash(password)
            # The user may have been removed since; the login fails later on its own.
            with contextlib.suppress(NotFound):
                await self._store.set_password_hash(user.username, upgraded, replaces=password_hash)
            log.info("upgraded the password hash of user %s", user.username)
        return user

    async def change_password(
        self,
        actor: User | None,
        current_password: str,
        new_password: str,
        *,
        confirmation: str | None = None,
        session_token: str | None = None,
    ) -> tuple[str, Session] | None:
        """Change the actor's own password and end every session and API token they have.

        :class:`InvalidInput` (``new_password``, ``new_password_confirm``) if the new
        password breaks the rules; :class:`InvalidCredentials` if ``current_password`` is
        wrong (or stopped being right meanwhile), with nothing changed. The session of
        ``session_token``, the one asking, goes on as a fresh session (new token, same
        lifetime), returned with its token; None without one.
        """
        if actor is None:
            raise NotAuthenticated()
        check_password(new_password, actor.username, field="new_password")
        check_confirmation(new_password, confirmation, field="new_password_confirm")
        found = await self._store.get_user(actor.username)
        if found is None or found[0].disabled:
            raise NotAuthenticated()
        old_hash = found[1]
        wrong = InvalidCredentials("The current password is wrong.")
        # Cut to bound the argon2 work; a password longer than the maximum stays wrong.
        if not await self._verify(old_hash, current_password[: MAX_PASSWORD_LENGTH + 1]):
            raise wrong
        new_hash = await self._hash(new_password)
        epoch = await self._store.set_password_hash(
            actor.username, new_hash, replaces=old_hash, end_sessions=True
        )
        if epoch is None:
            raise wrong  # another change won the race; this one's current password is old
        log.info("changed the password of user %s; their other sessions end", actor.username)
        if session_token is None:
            return None
        return await self._renew_session(actor.username, session_token, epoch)

    async def reset_password(self, username: str, new_password: str) -> User:
        """Set a user's password without the old one, ending every session and API token
        of theirs: the way back in for whoever runs fairdraw (``fairdraw admin
        reset-password``), which holds the store anyway; no web action calls it.
        :class:`NotFound` if there is no such user, :class:`InvalidInput` (``password``)
        if the password breaks the rules, with nothing changed."""
        name = normalize_username(username)
        found = await self._store.get_user(name)
        if found is None:
            raise NotFound(f"There is no user {name!r}")
        check_password(new_password, name, field="password")
        await self._store.set_password_hash(name, await self._hash(new_password), end_sessions=True)
        log.info("reset the password of user %s; their sessions and tokens end", name)
        return found[0]

    async def _renew_session(
        self, username: str, token: str, epoch: int
    ) -> tuple[str, Session] | None:
        old = await self._store.get_session(token, self._idle_seconds, self._absolute_seconds)
        await self._store.delete_session(token)
        if old is None or old.username != username:
            return None
        # A new token, since the old one is exactly what the password change should retire
        # wherever it might have leaked; the absolute lifetime still counts from the login.
        return await self._store.create_session(
            username, self._idle_seconds, created_ms=old.created_ms, epoch=epoch
        )

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
        token, session = await self._store.create_session(
            user.username, self._idle_seconds, epoch=user.session_epoch
        )
        return user, token, session

    def session_seconds_left(self, created_ms: int | None = None) -> int:
        """How long a session stays valid if it is not used again from now on: the idle
        timeout, cut short near the end of the absolute lifetime of a session begun at
        ``created_ms`` (None: one begun now).

        Every use renews a session's idle timeout (:meth:`session_user`), so the session
        cookie is given this as its ``Max-Age`` at login and again with every response
        that used it: the browser forgets the cookie when the server forgets the session.
        """
        if created_ms is None:
            return min(self._idle_seconds, self._absolute_seconds)
        # The app's clock, not the store's: this only tells the browser when to drop the
        # cookie; whether the session is still valid is decided by the store's clock.
        age_seconds = time.time() - created_ms / 1000
        absolute_left = math.ceil(self._absolute_seconds - age_seconds)
        return max(1, min(self._idle_seconds, absolute_left))

    async def logout(self, token: str) -> None:
        """End the session of a token; the token authorises nothing afterwards."""
        await self._store.delete_session(token)

    async def session_user(self, token: str) -> tuple[User, Session] | None:
        """The user and session of a token, renewing the session; None if not valid.

        None when the token is malformed, the session expired or ended, or its user is
        gone, disabled, or has ended their sessions since (the session is then ended too).
        """
        session = await self._store.get_session(token, self._idle_seconds, self._absolute_seconds)
        if session is None:
            return None
        found = await self._store.get_user(session.username)
        if found is None or found[0].disabled or not found[0].credentials_current(session.epoch):
            await self._store.delete_session(token)
            return None
        return found[0], session

    # -- administration ----------------------------------------------------------------

    async def list_users(
        self,
        actor: User | None,
        query: str = "",
        offset: int = 0,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> UserPage:
        """Users in the order they were created, those whose username starts with
        ``query`` (in any letter case) if given; admins only."""
        require_admin(actor)
        check_paging(offset, limit)
        users, more = await self._store.find_users(username_prefix(query), offset, limit)
        return UserPage(users, offset, limit, offset + limit if more else None)

    async def get_user(self, actor: User | None, username: str) -> User:
        """One user, for an administrator about to change them; :class:`NotFound` if
        there is no such user."""
        require_admin(actor)
        try:
            name = normalize_username(username)
        except InvalidInput:
            raise NotFound("No such user") from None
        found = await self._store.get_user(name)
        if found is None:
            raise NotFound("No such user")
        return found[0]

    async def update_user(
        self,
        actor: User | None,
        username: str,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
    ) -> User:
        """Set a user's role and/or disable or enable them; admins only. The user after.

        :class:`CannotDisableSelf` for an admin disabling themselves,
        :class:`CannotDemoteSelf` for one changing their own role, :class:`LastAdmin`
        for a change that would leave no enabled admin (checked again after the write, so
        two admins demoting each other at once cannot both succeed). Disabling ends the
        user's sessions and API tokens; enabling them again does not bring those back.
        """
        admin = require_admin(actor)
        if role is None and disabled is None:
            raise InvalidInput({"role": "Give a new role, a disabled flag, or both."})
        try:
            name = normalize_username(username)
        except InvalidInput:
            raise NotFound("No such user") from None
        if disabled and name == admin.username:
            raise CannotDisableSelf()
        if role is not None and role is not admin.role and name == admin.username:
            raise CannotDemoteSelf()
        for _attempt in range(_UPDATE_ATTEMPTS):
            found = await self._store.get_user(name)
            if found is None:
                raise NotFound("No such user")
            before = found[0]
            wanted = dataclasses.replace(
                before,
                role=role if role is not None else before.role,
                disabled=disabled if disabled is not None else before.disabled,
            )
            demotes = before.is_active_admin and not wanted.is_active_admin
            if demotes and not await self._store.any_admin(besides=name):
                raise LastAdmin()
            after = await self._store.update_user(
                name, role=role, disabled=disabled, only_if=(before.role, before.disabled)
            )
            if after is None:
                continue  # changed by someone else since it was read; decide again
            if demotes and not await self._store.any_admin():
                # Another admin was demoted at the same moment; undo this change.
                await self._store.update_user(
                    name,
                    role=before.role,
                    disabled=before.disabled,
                    only_if=(after.role, after.disabled),
                )
                raise LastAdmin()
            log.info(
                "%s set user %s to role %s, %s",
                admin.username,
                name,
                after.role.value,
                "disabled" if after.disabled else "enabled",
            )
            return after
        raise Conflict("The user is being changed by someone else; try again")


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
