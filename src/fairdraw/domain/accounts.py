"""Accounts: roles, username and password rules, users and browser sessions.

Pure rules, no I/O. Usernames are compared, counted, looked up and stored in one
canonical form, :func:`canonical_username`, so ``Alice``, ``ALICE`` and ``Alice`` in
full-width or mathematical bold letters name one account and share one login rate limit.
A valid username is ASCII in that form (:data:`USERNAME_PATTERN`), so look-alikes from
other scripts (a Cyrillic "a") are not usernames at all: they cannot name, register or
log in to an account.

Each user has a *session epoch*, a counter that grows whenever everything the user was
logged in with must stop working (a password change, being disabled). A session or API
token records the epoch of its user when it is issued and is refused once the user's
epoch has moved past it (:meth:`User.credentials_current`); that needs no list of a
user's sessions, only the user record every check reads anyway.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from fairdraw.domain.errors import Conflict, InvalidInput
from fairdraw.i18n import N_, Message


class Role(StrEnum):
    """What an account may do. Later roles include the rights of earlier ones."""

    participant = "participant"
    manager = "manager"
    admin = "admin"

    @property
    def can_manage_draws(self) -> bool:
        """True for roles that may create, close and draw draws (manager, admin)."""
        return self in (Role.manager, Role.admin)


MIN_USERNAME_LENGTH = 3
MAX_USERNAME_LENGTH = 32
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{2,31}", re.ASCII)
"""A normalised username: after NFKC normalisation and case-folding, 3 to 32 characters
from ``a-z 0-9 _ . -``, starting with a letter or a digit. Match with ``fullmatch``."""

_USERNAME_CHARACTERS = re.compile(r"[a-z0-9_.-]+", re.ASCII)
# NFKC shortens text only by composing characters into non-ASCII ones, so input this long
# can never become a valid name; refusing it first bounds the normalisation work.
_MAX_RAW_USERNAME_LENGTH = 4 * MAX_USERNAME_LENGTH

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024

MAX_DISPLAY_NAME_LENGTH = 64
# Unicode general categories a display name may not contain: control and formatting
# characters, which include line breaks and bidi overrides that let a name disguise itself.
DISPLAY_NAME_REFUSED_CATEGORIES = frozenset({"Cc", "Cf"})


def _fold(text: str) -> str:
    # casefold() can leave text that is no longer NFKC (e.g. "ǰ"), so normalise again.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def canonical_username(raw: str) -> str:
    """The one form in which a username is compared, rate-limited, looked up and stored:
    surrounding whitespace removed, then NFKC-normalised and case-folded.

    It checks nothing, so it also gives text that is no username a stable form (the
    login rate limit counts attempts under such names too). Every place that compares
    or counts usernames goes through this function; :func:`normalize_username` is this
    plus the username rules.
    """
    return _fold(raw.strip())


def normalize_username(raw: str) -> str:
    """The canonical form of a username (:func:`canonical_username`), or
    :class:`InvalidInput` on ``username`` if that form breaks the username rules: it
    must match :data:`USERNAME_PATTERN`.
    """
    too_long = Message(
        N_("The username must be at most %(limit)s characters long."), limit=MAX_USERNAME_LENGTH
    )
    if len(raw.strip()) > _MAX_RAW_USERNAME_LENGTH:
        raise _bad_username(too_long)
    name = canonical_username(raw)
    if len(name) < MIN_USERNAME_LENGTH:
        raise _bad_username(
            Message(
                N_("The username must be at least %(limit)s characters long."),
                limit=MIN_USERNAME_LENGTH,
            )
        )
    if len(name) > MAX_USERNAME_LENGTH:
        raise _bad_username(too_long)
    if _USERNAME_CHARACTERS.fullmatch(name) is None:
        raise _bad_username(
            N_("The username may contain only letters a-z, digits, underscore, dot and hyphen.")
        )
    if USERNAME_PATTERN.fullmatch(name) is None:
        raise _bad_username(N_("The username must start with a letter (a-z) or a digit."))
    return name


def _bad_username(message: str) -> InvalidInput:
    return InvalidInput({"username": message})


def check_password(password: str, username: str, *, field: str = "password") -> None:
    """Refuse a password that is too short, too long, or the username in another case.

    Raises :class:`InvalidInput` on ``field``. Lengths count characters.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            {
                field: Message(
                    N_("The password must be at least %(limit)s characters long."),
                    limit=MIN_PASSWORD_LENGTH,
                )
            }
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            {
                field: Message(
                    N_("The password must be at most %(limit)s characters long."),
                    limit=MAX_PASSWORD_LENGTH,
                )
            }
        )
    if canonical_username(password) == canonical_username(username):
        raise InvalidInput({field: N_("The password must not be the username.")})


def check_confirmation(password: str, confirmation: str | None, *, field: str) -> None:
    """Refuse a typed-twice password whose second copy differs (``None``: not asked)."""
    if confirmation is not None and confirmation != password:
        raise InvalidInput({field: N_("The two passwords do not match.")})


def normalize_display_name(raw: str) -> str:
    """A display name with surrounding whitespace removed, or :class:`InvalidInput`.

    1 to 64 characters, no control or formatting characters.
    """
    name = unicodedata.normalize("NFC", raw.strip())
    if not name:
        raise InvalidInput({"display_name": N_("The display name must not be empty.")})
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidInput(
            {
                "display_name": Message(
                    N_("The display name must be at most %(limit)s characters long."),
                    limit=MAX_DISPLAY_NAME_LENGTH,
                )
            }
        )
    if any(unicodedata.category(char) in DISPLAY_NAME_REFUSED_CATEGORIES for char in name):
        raise InvalidInput(
            {"display_name": N_("The display name must not contain control characters.")}
        )
    return name


def check_new_account(
    username: str,
    password: str,
    display_name: str | None = None,
    *,
    confirmation: str | None = None,
) -> tuple[str, str]:
    """The normalised username and display name of a new account, or one
    :class:`InvalidInput` naming every field that is wrong (``username``, ``password``,
    ``password_confirm``, ``display_name``), so that a form can mark them all at once.

    The display name defaults to the username as typed (case kept); ``confirmation`` is
    the password typed a second time, when the form asks for it.
    """
    errors: dict[str, str] = {}

    def collect(check: Callable[[], object]) -> None:
        try:
            check()
        except InvalidInput as error:
            errors.update(error.errors)

    collect(lambda: normalize_username(username))
    collect(lambda: check_password(password, username))
    collect(lambda: check_confirmation(password, confirmation, field="password_confirm"))
    if display_name is not None:
        collect(lambda: normalize_display_name(display_name))
    if errors:
        raise InvalidInput(errors)
    # A valid username as typed is also a valid display name.
    shown = normalize_display_name(display_name if display_name is not None else username)
    return normalize_username(username), shown


def username_prefix(raw: str) -> str:
    """A search text in the canonical form of usernames, to match their beginnings.

    Raises :class:`InvalidInput` on ``q`` if it is longer than any username can be.
    """
    stripped = raw.strip()
    too_long = InvalidInput(
        {"q": Message(N_("Search for at most %(limit)s characters."), limit=MAX_USERNAME_LENGTH)}
    )
    if len(stripped) > _MAX_RAW_USERNAME_LENGTH:
        raise too_long
    prefix = canonical_username(stripped)
    if len(prefix) > MAX_USERNAME_LENGTH:
        raise too_long
    return prefix


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
# Any offset past the last user answers an empty page; the bound only keeps the number
# within what the store can read (a signed 64-bit index), far above any user count.
MAX_PAGE_OFFSET = 10**9


def check_paging(offset: int, limit: int) -> None:
    """Refuse an ``offset`` outside 0 to :data:`MAX_PAGE_OFFSET` or a ``limit`` outside
    1 to :data:`MAX_PAGE_SIZE`."""
    errors: dict[str, str] = {}
    if offset < 0:
        errors["offset"] = N_("The offset must not be negative.")
    elif offset > MAX_PAGE_OFFSET:
        errors["offset"] = Message(
            N_("The offset must be at most %(limit)s."), limit=MAX_PAGE_OFFSET
        )
    if not 1 <= limit <= MAX_PAGE_SIZE:
        errors["limit"] = Message(
            N_("The limit must be between 1 and %(limit)s."), limit=MAX_PAGE_SIZE
        )
    if errors:
        raise InvalidInput(errors)


@dataclass(frozen=True)
class User:
    """An account. ``username`` is normalised; ``created_ms`` is store time in ms;
    ``session_epoch`` is the user's session epoch (see the module docstring); ``email``
    is its normalised e-mail address, if it has one, which receives notices once
    ``email_confirmed`` (see :mod:`fairdraw.domain.mail`)."""

    username: str
    display_name: str
    role: Role
    created_ms: int
    disabled: bool = False
    session_epoch: int = 0
    email: str | None = None
    email_confirmed: bool = False
    # The language notices are written in (the locale of the request that set or
    # confirmed the address); accounts that never recorded one read English.
    language: str = "en"

    @property
    def mail_address(self) -> str | None:
        """The address notices go to: the confirmed one, if any."""
        return self.email if self.email_confirmed else None

    @property
    def is_active_admin(self) -> bool:
        """True for an enabled admin: the accounts that keep the system manageable."""
        return self.role is Role.admin and not self.disabled

    def credentials_current(self, issued_epoch: int) -> bool:
        """True if a session or API token issued at ``issued_epoch`` may still act for
        this user, i.e. nothing has ended the user's sessions since it was issued."""
        return issued_epoch >= self.session_epoch


@dataclass(frozen=True)
class Session:
    """A browser session: whose it is, its CSRF secret, when it began (ms), and the
    session epoch of its user when it began."""

    username: str
    csrf_secret: str
    created_ms: int
    epoch: int = 0


@dataclass(frozen=True)
class UserPage:
    """One page of a user listing; ``next_offset`` is None on the last page."""

    users: list[User]
    offset: int
    limit: int
    next_offset: int | None


class CannotDisableSelf(Conflict):
    code = "cannot_disable_self"
    title = N_("You cannot disable your own account; ask another administrator")


class CannotDemoteSelf(Conflict):
    code = "cannot_demote_self"
    title = N_("You cannot change your own role; ask another administrator")


class LastAdmin(Conflict):
    code = "last_admin"
    title = N_("At least one enabled administrator must remain")
