"""Which sites may show a draw's widget in a frame: the organiser's list of origins.

An origin becomes part of a ``Content-Security-Policy: frame-ancestors`` header, so only
the strict form ``https://host[:port]`` is accepted (a trailing ``/`` is dropped), with a
host name or address of plain characters: nothing that could end or extend the directive.
Plain ``http`` is accepted for loopback hosts only, which browsers treat as secure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fairdraw.i18n import N_, Message

EMBED_ORIGINS_MAX = 10

_ORIGIN = re.compile(
    r"(?P<scheme>https?)://"
    r"(?P<host>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?/?"
)
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


def parse_origin(text: str) -> str | None:
    """``text`` as a normalised origin (lower case, no trailing ``/``), or None."""
    match = _ORIGIN.fullmatch(text.strip().lower())
    if match is None:
        return None
    scheme, host, port = match.group("scheme", "host", "port")
    if scheme == "http" and host not in _LOOPBACK_HOSTS:
        return None
    if port is not None and not 1 <= int(port) <= 65535:
        return None
    return f"{scheme}://{host}" + (f":{int(port)}" if port else "")


def parse_embed_origins(raw: Sequence[str]) -> tuple[tuple[str, ...], str | None]:
    """The origins of ``raw`` without duplicates, in order, and an error message or None."""
    origins: list[str] = []
    for item in raw:
        if not item.strip():
            continue
        origin = parse_origin(item)
        if origin is None:
            return (), Message(
                N_(
                    "Not an origin: %(origin)s; use https://host or https://host:port, "
                    "without a path"
                ),
                origin=repr(item.strip()[:80]),
            )
        if origin not in origins:
            origins.append(origin)
    if len(origins) > EMBED_ORIGINS_MAX:
        return (), Message(N_("At most %(limit)s origins"), limit=EMBED_ORIGINS_MAX)
    return tuple(origins), None


def split_origins(text: str) -> list[str]:
    """The origins typed in a form field, one per line or separated by spaces or commas."""
    return [part for part in re.split(r"[\s,]+", text) if part]
