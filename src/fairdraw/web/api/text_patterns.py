"""Text rules of the domain as JSON Schema ``pattern``\\ s, for the OpenAPI document.

A pattern is read by validators as ECMA-262 and by test generators as Python ``re``, so
every one here avoids the classes the two read differently (``\\s``, ``\\d``, ``\\w``): the
spaces the domain trims are spelled out (:data:`SPACE`), digits are ``[0-9]``.
"""

from __future__ import annotations

import functools
import sys
import unicodedata
from collections.abc import Callable
from typing import Any

from fairdraw.domain.accounts import (
    DISPLAY_NAME_REFUSED_CATEGORIES,
    MAX_DISPLAY_NAME_LENGTH,
    MAX_USERNAME_LENGTH,
    MIN_USERNAME_LENGTH,
)
from fairdraw.domain.identity import GITHUB_LOGIN_MAX
from fairdraw.domain.tickets import CODE_CHARS
from fairdraw.services.dashboard_views import QUERY_MAX

# The characters Python's str.strip() removes (str.isspace()): what "trimmed" means.
SPACE = r"[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_NOT_SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def trimmed(core: str) -> str:
    """A whole text that is ``core`` once its surrounding spaces are trimmed."""
    return f"^{SPACE}*(?:{core}){SPACE}*$"


def _escape(code: int) -> str:
    # \uXXXX in the Basic Multilingual Plane; beyond it ECMA-262 (without the u flag) and
    # Python disagree on escapes, while both read the character itself alike.
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)


@functools.cache
def category_ranges(categories: frozenset[str]) -> str:
    """The body of a character class (without brackets) of every character whose Unicode
    general category is one of ``categories``, as this Python's unicodedata has them.

    Scanning every code point takes half a second, so it runs once, when the OpenAPI
    document is first asked for, not at import."""
    parts: list[str] = []
    start: int | None = None
    previous = -2
    for code in range(sys.maxunicode + 2):
        inside = code <= sys.maxunicode and unicodedata.category(chr(code)) in categories
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            parts.append(
                _escape(start) if start == previous else f"{_escape(start)}-{_escape(previous)}"
            )
            start = None
        if inside:
            previous = code
    return "".join(parts)


def display_name_pattern() -> str:
    """A display name: 1 to MAX_DISPLAY_NAME_LENGTH characters once trimmed, none of
    them a control or formatting character (domain/accounts.normalize_display_name)."""
    refused = category_ranges(DISPLAY_NAME_REFUSED_CATEGORIES)
    # A character of the name's first or last position: neither a space nor refused.
    edge = f"[^{_NOT_SPACE}{refused}]"
    inner = f"[^{refused}]{{0,{MAX_DISPLAY_NAME_LENGTH - 2}}}"
    return trimmed(f"{edge}(?:{inner}{edge})?")


def lazy_pattern(pattern: Callable[[], str]) -> Callable[[dict[str, Any]], None]:
    """A pydantic ``json_schema_extra`` that adds ``pattern()`` when the schema is built."""

    def add(schema: dict[str, Any]) -> None:
        schema["pattern"] = pattern()

    return add


# A GitHub login as the domain reads it (domain/identity.normalize_github_login): trimmed,
# one optional leading @, then 1 to 39 letters, digits and single inner hyphens.
GITHUB_LOGIN_PATTERN = trimmed(
    rf"@?(?=[A-Za-z0-9-]{{1,{GITHUB_LOGIN_MAX}}}{SPACE}*$)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
)

_CODE_SEPARATOR = r"[\t\n\r -]"
# A verification code as domain/tickets.parse_code reads it: 26 characters of the base32
# alphabet in either case (0, 1 and 8 read as O, I and B), any separators anywhere, and a
# last character whose two padding bits are zero.
TICKET_CODE_PATTERN = (
    f"^{_CODE_SEPARATOR}*(?:[A-Za-z2-7018]{_CODE_SEPARATOR}*){{{CODE_CHARS - 1}}}"
    f"[AEIMQUYaeimquy41]{_CODE_SEPARATOR}*$"
)

# A username in its canonical ASCII form, any letter case (domain/accounts.USERNAME_PATTERN
# after case-folding). The domain also reads other forms of the same letters, such as
# full-width ones, which no pattern can list.
USERNAME_PATTERN = trimmed(
    f"[A-Za-z0-9][A-Za-z0-9_.-]{{{MIN_USERNAME_LENGTH - 1},{MAX_USERNAME_LENGTH - 1}}}"
)

_SEARCH_EDGE = rf"[^{_NOT_SPACE}\x00-\x1f\x7f]"
# A dashboard search (services/dashboard_views.check_query): trimmed, one line, two to
# QUERY_MAX characters; or a single digit, which only a raffle takes (a ticket number).
SEARCH_PATTERN = trimmed(
    f"[0-9]|{_SEARCH_EDGE}(?:[^\\x00-\\x1f\\x7f]{{0,{QUERY_MAX - 2}}}{_SEARCH_EDGE})"
)
