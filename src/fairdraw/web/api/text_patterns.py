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
_SPACES = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SPACE = f"[{_SPACES}]"
# Somewhere in a text that is not blank once trimmed.
NOT_BLANK = f"[^{_SPACES}]"


def trimmed(core: str) -> str:
    """A whole text that is ``core`` once its surrounding spaces are trimmed."""
    return f"^{SPACE}*(?:{core}){SPACE}*$"


def _escape(code: int) -> str:
    # \uXXXX in the Basic Multilingual Plane; beyond it ECMA-262 (without the u flag) and
    # Python disagree on escapes, while both read the character itself alike.
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)


def _class_body(codes: list[int]) -> str:
    """The body of a character class (without brackets) holding ``codes``, ascending."""
    parts: list[str] = []
    start = 0
    for index, code in enumerate(codes):
        if index + 1 < len(codes) and codes[index + 1] == code + 1:
            continue
        first = codes[start]
        parts.append(_escape(first) if first == code else f"{_escape(first)}-{_escape(code)}")
        start = index + 1
    return "".join(parts)


@functools.cache
def _unicode_classes() -> dict[str, str]:
    """Character class bodies the patterns need, from this Python's unicodedata.

    Scanning every code point takes about half a second, so it runs once, when the
    OpenAPI document is first asked for, not at import."""
    wanted: dict[str, list[int]] = {"refused in names": [], "digits": [], "nonzero digits": []}
    for code in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if category in DISPLAY_NAME_REFUSED_CATEGORIES:
            wanted["refused in names"].append(code)
        elif category == "Nd":  # what Python's \d and int() read as a digit
            wanted["digits"].append(code)
            if unicodedata.digit(chr(code)) != 0:
                wanted["nonzero digits"].append(code)
    return {name: _class_body(codes) for name, codes in wanted.items()}


def display_name_pattern() -> str:
    """A display name: 1 to MAX_DISPLAY_NAME_LENGTH characters once trimmed, none of
    them a control or formatting character (domain/accounts.normalize_display_name)."""
    refused = _unicode_classes()["refused in names"]
    # A character of the name's first or last position: neither a space nor refused.
    edge = f"[^{_SPACES}{refused}]"
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

# Up to three between two characters ("AAAAA - BBBBB"): the domain takes any number, but
# a generator drawing unbounded runs of them would mostly draw codes over the length limit.
_CODE_SEPARATORS = r"[\t\n\r -]{0,3}"
# A verification code as domain/tickets.parse_code reads it: 26 characters of the base32
# alphabet in either case (0, 1 and 8 read as O, I and B), separators anywhere, and a last
# character whose two padding bits are zero.
TICKET_CODE_PATTERN = (
    f"^{_CODE_SEPARATORS}(?:[A-Za-z2-7018]{_CODE_SEPARATORS}){{{CODE_CHARS - 1}}}"
    f"[AEIMQUYaeimquy41]{_CODE_SEPARATORS}$"
)

# A username in its canonical ASCII form, any letter case (domain/accounts.USERNAME_PATTERN
# after case-folding). The domain also reads other forms of the same letters, such as
# full-width ones, which no pattern can list.
USERNAME_PATTERN = trimmed(
    f"[A-Za-z0-9][A-Za-z0-9_.-]{{{MIN_USERNAME_LENGTH - 1},{MAX_USERNAME_LENGTH - 1}}}"
)

_SEARCH_EDGE = rf"[^{_SPACES}\x00-\x1f\x7f]"
# A dashboard search (services/dashboard_views.check_query): trimmed, one line, two to
# QUERY_MAX characters; or a single digit, which only a raffle takes (a ticket number).
SEARCH_PATTERN = trimmed(
    f"[0-9]|{_SEARCH_EDGE}(?:[^\\x00-\\x1f\\x7f]{{0,{QUERY_MAX - 2}}}{_SEARCH_EDGE})"
)


def duration_pattern() -> str:
    """A duration as domain/draws.parse_duration reads it: days, hours, minutes and
    seconds in that order, each optional (``1d``, ``2h 30m``), with spaces anywhere and
    digits of any script; not all zero. A blank one is no duration."""
    classes = _unicode_classes()
    digits = f"[{classes['digits']}]+"
    parts = "".join(f"(?:{digits}{SPACE}*{unit})?{SPACE}*" for unit in "dhms")
    nonzero = classes["nonzero digits"]
    return f"^(?:{SPACE}*|(?=[^{nonzero}]*[{nonzero}]){SPACE}*{parts})$"
