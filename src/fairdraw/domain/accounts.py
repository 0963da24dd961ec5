"""Accounts: roles, username and password rules, users and browser sessions.

Pure rules, no I/O. Usernames are compared in one canonical form (see
:func:`normalize_username`), so ``Alice``, ``ALICE`` and a full-width ``Alice`` name one
account.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from fairdraw.domain.errors import InvalidInput


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


def _fold(text: str) -> str:
    # casefold() can leave text that is no longer NFKC (e.g. "ǰ"), so normalise again.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def normalize_username(raw: str) -> str:
    """The canonical form of a username, or :class:`InvalidInput` on ``username``.

    Surrounding whitespace is ignored; the rest is NFKC-normalised and case-folded and
    must then match :data:`USERNAME_PATTERN`.
    """
    stripped = raw.strip()
    if len(stripped) > _MAX_RAW_USERNAME_LENGTH:
        raise _bad_username(f"must be at most {MAX_USERNAME_LENGTH} characters long")
    name = _fold(stripped)
    if len(name) < MIN_USERNAME_LENGTH:
        raise _bad_username(f"must be at least {MIN_USERNAME_LENGTH} characters long")
    if len(name) > MAX_USERNAME_LENGTH:
        raise _bad_username(f"must be at most {MAX_USERNAME_LENGTH} characters long")
    if _USERNAME_CHARACTERS.fullmatch(name) is None:
        raise _bad_username("may contain only letters a-z, digits, underscore, dot and hyphen")
    if USERNAME_PATTERN.fullmatch(name) is None:
        raise _bad_username("must start with a letter (a-z) or a digit")
    return name


def _bad_username(message: str) -> InvalidInput:
    return InvalidInput({"username": f"The username {message}."})


def check_password(password: str, username: str) -> None:
    """Refuse a password that is too short, too long, or the username in another case.

    Raises :class:`InvalidInput` on ``password``. Lengths count characters.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _bad_password(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise _bad_password(f"must be at most {MAX_PASSWORD_LENGTH} characters long")
    if _fold(password.strip()) == _fold(username.strip()):
        raise _bad_password("must not be the username")


def _bad_password(message: str) -> InvalidInput:
    return InvalidInput({"password": f"The password {message}."})


def normalize_display_name(raw: str) -> str:
    """A display name with surrounding whitespace removed, or :class:`InvalidInput`.

    1 to 64 characters, no control or formatting characters.
    """
    name = unicodedata.normalize("NFC", raw.strip())
    if not name:
        raise InvalidInput({"display_name": "The display name must not be empty."})
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidInput(
            {
                "display_name": f"The display name must be at most {MAX_DISPLAY_NAME_LENGTH} "
                "characters long."
            }
        )
    # Cc and Cf include line breaks and bidi overrides, which let a name disguise itself.
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in name):
        raise InvalidInput(
            {"display_name": "The display name must not contain control characters."}
        )
    return name


@dataclass(frozen=True)
class User:
    """An account. ``username`` is normalised; ``created_ms`` is store time in ms."""

    username: str
    display_name: str
    role: Role
    created_ms: int
    disabled: bool = False


@dataclass(frozen=True)
class Session:
    """A browser session: whose it is, its CSRF secret, and when it began (ms)."""

    username: str
    csrf_secret: str
    created_ms: int
