"""How pages show an instant: one ``<time>`` element, the same everywhere.

The element carries the instant in ISO-8601 UTC (``datetime``) and, as its text, the
instant in the zone of the thing it belongs to (a draw's, a lottery's), with the zone's
full name: ``7 Dec 2026, 00:00 China Standard Time``. ``static/js/local_time.js``
rewrites that text into the reader's own zone; without JavaScript the server's text
stands. Templates render every instant with the ``when`` filter (:func:`time_element`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_timezone_name
from jinja2 import Environment
from markupsafe import Markup, escape

from fairdraw import i18n
from fairdraw.domain import zones
from fairdraw.domain.moments import iso

_MINUTES = "d MMM y, HH:mm"
_SECONDS = "d MMM y, HH:mm:ss"


@dataclass(frozen=True)
class Moment:
    """A point in time for a ``<time datetime=...>`` element: ``iso`` (UTC; blank for a
    moment that is only words, such as "Closed"), ``text`` in the zone it belongs to,
    and whether the reader's own rendering should keep the seconds."""

    iso: str
    text: str
    seconds: bool = False


def zone_name(when: datetime, zone: ZoneInfo, locale: str | None = None) -> str:
    """The zone's full name at ``when`` ("Central European Standard Time"); ``UTC`` for
    UTC, and the IANA name where the locale's data has no better one."""
    if zone.key == zones.DEFAULT_ZONE:
        return "UTC"
    name = get_timezone_name(when, width="long", locale=locale or i18n.current_locale())
    # Babel falls back to "GMT+02:00" for a zone without a name of its own.
    return zone.key.replace("_", " ") if name.startswith(("GMT", "UTC")) else name


def moment_in(ms: int, zone_key: str | None = None, *, seconds: bool = False) -> Moment:
    """The instant ``ms`` as the page shows it, in the zone ``zone_key`` (None: UTC)."""
    zone = zones.zone_info(zone_key)
    locale = i18n.current_locale()
    when = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(zone)
    pattern = _SECONDS if seconds else _MINUTES
    text = format_datetime(when, pattern, tzinfo=zone, locale=locale)
    return Moment(iso=iso(ms), text=f"{text} {zone_name(when, zone, locale)}", seconds=seconds)


def time_element(moment: Any) -> Markup:
    """``<time datetime="UTC" data-local>text</time>``: the ``when`` filter, for a
    :class:`Moment` (or anything with its ``iso`` and ``text``). A moment without an
    instant is its text alone; None is nothing."""
    if moment is None:
        return Markup("")
    if not moment.iso:
        return escape(moment.text)
    precision = "second" if getattr(moment, "seconds", False) else "minute"
    return Markup('<time datetime="{}" data-local="{}">{}</time>').format(
        moment.iso, precision, moment.text
    )


@dataclass(frozen=True)
class ZonePicker:
    """What a zone field shows: the offered zones by region, the chosen one, and whether
    the browser's own zone should replace it (a fresh form, nothing chosen yet)."""

    groups: tuple[zones.ZoneGroup, ...]
    value: str
    fresh: bool
    # A chosen name the list does not hold (a lottery's older alias), kept selectable.
    extra: str | None


@functools.lru_cache(maxsize=2)
def _groups_of_hour(hour: int) -> tuple[zones.ZoneGroup, ...]:
    # Offsets change at most on the hour in every zone fairdraw offers but a few
    # half-hour ones; an hour-old label is at worst briefly off by a DST change.
    return zones.zone_groups(datetime.fromtimestamp(hour * 3600, tz=UTC))


def zone_picker(value: str | None, fresh: bool | None = None) -> ZonePicker:
    """The picker of a form whose zone field holds ``value``; a fresh form (by default,
    one whose field is blank) takes the browser's zone instead where it can."""
    chosen = (value or "").strip()
    hour = int(datetime.now(tz=UTC).timestamp()) // 3600
    groups = _groups_of_hour(hour)
    shown = chosen or zones.DEFAULT_ZONE
    extra = None if shown in zones.canonical_zones() else shown
    fresh = not chosen if fresh is None else fresh
    return ZonePicker(groups=groups, value=shown, fresh=fresh, extra=extra)


def install_time_format(env: Environment) -> None:
    """The ``when`` filter and the ``zone_picker`` global, for every template."""
    filters: dict[str, Any] = env.filters
    filters["when"] = time_element
    env.globals["zone_picker"] = zone_picker
