"""Time zones: which IANA zones fairdraw offers, and reading a local wall time in one.

The offered zones are the canonical ones of the tz database (``zone.tab`` and
``zone1970.tab`` of the ``tzdata`` package, plus ``UTC``), never its backward-compatible
aliases. A name that is an alias (``US/Pacific``, ``Europe/Kiev``, ``Asia/Calcutta``) is
read as the zone it links to, so what a browser reports is always understood.

A wall time that a zone skips (clocks jump forward over it) does not exist and is refused.
A wall time that a zone shows twice (clocks go back over it) is read as its first
occurrence, the one before the change: a deadline never comes later than its organiser
may have meant.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fairdraw.domain.errors import InvalidInput
from fairdraw.i18n import N_, Message

DEFAULT_ZONE = "UTC"
# Names the tz database keeps for Coordinated Universal Time besides UTC itself.
_UTC_ALIASES = frozenset(
    {"Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu"}
    | {"Etc/GMT", "Etc/GMT+0", "Etc/GMT-0", "Etc/GMT0", "Etc/Greenwich", "GMT", "GMT+0"}
    | {"GMT-0", "GMT0", "Greenwich"}
)
_NAME_MAX = 64


def _tz_file(name: str) -> str:
    return resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")


@functools.cache
def canonical_zones() -> tuple[str, ...]:
    """Every zone a picker offers: the canonical IANA zones of the tz database's
    country tables, and ``UTC``; sorted."""
    names = {DEFAULT_ZONE}
    for table in ("zone.tab", "zone1970.tab"):
        for line in _tz_file(table).splitlines():
            if line and not line.startswith("#"):
                names.add(line.split("\t")[2])
    return tuple(sorted(names))


@functools.cache
def _links() -> dict[str, str]:
    """Alias → the zone it links to, from the tz database's compiled source."""
    links: dict[str, str] = {}
    for line in _tz_file("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            links[alias] = target
    return links


def canonical_name(name: str) -> str | None:
    """The canonical zone ``name`` stands for (itself, or the zone an alias links to);
    None when it names no zone fairdraw offers."""
    name = name.strip()
    offered = set(canonical_zones())
    if name in offered:
        return name
    if name in _UTC_ALIASES:
        return DEFAULT_ZONE
    target = name
    for _ in range(3):  # links point at zones, but follow a short chain to be safe
        target = _links().get(target, "")
        if target in offered:
            return target
    return None


def read_zone(name: str | None, field: str = "time_zone") -> str:
    """The canonical zone the organiser chose (blank: UTC); InvalidInput on ``field``
    for anything that names no offered zone."""
    name = (name or "").strip()
    if not name:
        return DEFAULT_ZONE
    canonical = canonical_name(name) if len(name) <= _NAME_MAX else None
    if canonical is None:
        raise InvalidInput({field: N_("Unknown time zone; choose one such as Europe/Berlin")})
    return canonical


def zone_info(name: str | None) -> ZoneInfo:
    """The zone stored with a draw; a draw stored without one (or with a name this
    host's tz database lacks) reads as UTC."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


class NonexistentLocalTime(ValueError):
    """A wall time the zone skips: its clocks jump forward over it."""


def local_to_ms(wall: datetime, zone: ZoneInfo) -> int:
    """The instant (epoch ms) a naive wall time ``wall`` names in ``zone``.

    NonexistentLocalTime when the zone skips it; a repeated wall time is its first
    occurrence.
    """
    first = wall.replace(tzinfo=zone, fold=0)
    # A skipped time does not survive the round trip through UTC.
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise NonexistentLocalTime(wall.isoformat())
    return _ms(first)


def _ms(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return delta // timedelta(milliseconds=1)


def gap_message(wall: datetime, zone_name: str) -> Message:
    """Why a wall time in the gap of ``zone_name`` is refused, in words."""
    return Message(
        N_(
            "%(wall)s does not exist in %(zone)s: the clocks jump forward over it that "
            "night; choose a time before or after the change"
        ),
        wall=wall.replace(tzinfo=None),
        zone=zone_name,
    )


def offset_text(zone: ZoneInfo, at: datetime) -> str:
    """``"UTC+01:00"``: the zone's offset from UTC at ``at``."""
    offset = at.astimezone(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


@dataclass(frozen=True)
class ZoneChoice:
    """One zone of a picker: its name and ``"Europe/Berlin (UTC+01:00)"``."""

    name: str
    label: str


@dataclass(frozen=True)
class ZoneGroup:
    """The zones of one region (``Europe``, ``America``, ...) for an ``<optgroup>``."""

    region: str
    zones: tuple[ZoneChoice, ...]


def zone_groups(now: datetime) -> tuple[ZoneGroup, ...]:
    """The offered zones grouped by region, each labelled with its offset at ``now``;
    UTC in a group of its own, first."""
    by_region: dict[str, list[ZoneChoice]] = {}
    for name in canonical_zones():
        region = name.split("/", 1)[0] if "/" in name else DEFAULT_ZONE
        label = f"{name.replace('_', ' ')} ({offset_text(ZoneInfo(name), now)})"
        by_region.setdefault(region, []).append(ZoneChoice(name, label))
    regions = sorted(by_region, key=lambda region: (region != DEFAULT_ZONE, region))
    return tuple(ZoneGroup(region, tuple(by_region[region])) for region in regions)
