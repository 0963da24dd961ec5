"""GitHub identities: handle validation and the profile fairdraw keeps of a GitHub user.

An entrant who enters with a GitHub handle is identified by GitHub's stable numeric user
id, never by the handle: handles are case-insensitive and can be renamed, so ``OctoCat``
and ``octocat`` are one entrant (``gh:583231``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fairdraw.domain.draws import GITHUB_PREFIX
from fairdraw.domain.errors import InvalidInput
from fairdraw.i18n import N_, Message

GITHUB_LOGIN_MAX = 39
# GitHub allows longer display names than this, but a profile is shown in lists and
# cached per login; a hostile API answer must not make either arbitrarily large.
GITHUB_NAME_MAX = 255
GITHUB_WEB_URL = "https://github.com"

# Letters and digits, with single hyphens only between two of them. ASCII only:
# GitHub refuses every other character, and a handle ends up in an URL path.
_LOGIN_PATTERN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*", re.ASCII)

_NOT_A_LOGIN = N_(
    "Not a GitHub username: a GitHub username has 1 to %(limit)s letters, digits or single "
    "hyphens, and does not start or end with a hyphen"
)


def is_github_login(value: str) -> bool:
    """True if ``value`` is, exactly, a login GitHub could have issued."""
    return len(value) <= GITHUB_LOGIN_MAX and _LOGIN_PATTERN.fullmatch(value) is not None


def normalize_github_login(raw: str) -> str:
    """Return the GitHub login in ``raw``, as typed (case preserved).

    Surrounding whitespace and one leading ``@`` are dropped. Anything GitHub would not
    accept as a login raises :class:`InvalidInput` for the field ``github``, so that no
    request is ever made for a handle that cannot exist.
    """
    login = raw.strip()
    if login.startswith("@"):
        login = login[1:]
    if not login:
        raise InvalidInput({"github": N_("Enter a GitHub username")})
    if len(login) > GITHUB_LOGIN_MAX:
        raise InvalidInput(
            {
                "github": Message(
                    N_("A GitHub username is at most %(limit)s characters long"),
                    limit=GITHUB_LOGIN_MAX,
                )
            }
        )
    if not is_github_login(login):
        raise InvalidInput({"github": Message(_NOT_A_LOGIN, limit=GITHUB_LOGIN_MAX)})
    return login


def _https_url(value: object) -> str | None:
    """``value`` if it is a printable absolute https URL, else None."""
    return _https_text(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=1024)
def _https_text(value: str) -> str | None:
    """:func:`_https_url` of a string. Remembered for the last few: a profile read from
    the cache checks each of its URLs twice (reading it, then building it)."""
    if not value.isprintable() or " " in value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname:
        return None
    return value


def _display_name(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    name = value.strip()[:GITHUB_NAME_MAX]
    return name or None


@dataclass(frozen=True)
class GitHubProfile:
    """What fairdraw knows of a GitHub user.

    Build one with :meth:`from_json`, which also accepts GitHub's own user JSON: it keeps
    only https URLs, so a hostile answer cannot smuggle ``javascript:`` links into a page.
    """

    id: int
    login: str
    name: str | None
    avatar_url: str | None
    html_url: str

    def __post_init__(self) -> None:
        # The invariant from_json establishes, kept for profiles built any other way.
        if self.avatar_url is not None and _https_url(self.avatar_url) is None:
            raise ValueError(f"avatar URL is not an https URL: {self.avatar_url!r}")
        if _https_url(self.html_url) is None:
            raise ValueError(f"profile URL is not an https URL: {self.html_url!r}")

    @property
    def identity(self) -> str:
        """The entrant identity: stable across renames and letter case."""
        return f"{GITHUB_PREFIX}{self.id}"

    @property
    def display_name(self) -> str:
        """The name to show: the profile name, or the login if there is none."""
        return self.name or self.login

    def to_json(self) -> dict[str, Any]:
        """A compact dict (absent values left out) that :meth:`from_json` reads back."""
        data: dict[str, Any] = {"id": self.id, "login": self.login}
        if self.name is not None:
            data["name"] = self.name
        if self.avatar_url is not None:
            data["avatar_url"] = self.avatar_url
        if self.html_url != _profile_url(self.login):
            data["html_url"] = self.html_url
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GitHubProfile:
        """Read a profile from :meth:`to_json` output or from GitHub's user JSON.

        Raises ValueError if the id or login is missing or not one GitHub could issue;
        optional fields that are malformed are dropped (URLs) or rebuilt (profile page).
        """
        user_id = data.get("id")
        login = data.get("login")
        # bool is an int subclass; JSON true is not a user id.
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
            raise ValueError(f"GitHub user JSON has no valid id: {user_id!r}")
        if not isinstance(login, str) or not is_github_login(login):
            raise ValueError(f"GitHub user JSON has no valid login: {login!r}")
        return cls(
            id=user_id,
            login=login,
            name=_display_name(data.get("name")),
            avatar_url=_https_url(data.get("avatar_url")),
            html_url=_https_url(data.get("html_url")) or _profile_url(login),
        )


def _profile_url(login: str) -> str:
    return f"{GITHUB_WEB_URL}/{login}"
