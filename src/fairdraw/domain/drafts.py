"""Editing a draft: its settings as the creation form takes them, and a change merged in.

A draft is a draw nobody can enter yet, so everything its organiser chose at creation may
still change; once it opens, nothing may. An edit names only the settings it changes and
the result is checked exactly as a new draw would be (``validate_new_draw`` /
``validate_new_raffle``), so an edited draft is one that could have been created as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fairdraw.domain import zones
from fairdraw.domain.draws import Draw, DrawKind, NewDraw, validate_new_draw
from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.moments import iso
from fairdraw.domain.raffles import validate_new_raffle
from fairdraw.i18n import N_, Message

# What may be edited, by kind: the settings of the creation call, less ``open``.
GIVEAWAY_SETTINGS = frozenset(
    {
        "title",
        "description",
        "prizes",
        "deadline",
        "duration",
        "entry_identity",
        "auto_draw",
        "embed_origins",
        "github_sign_in",
        "time_zone",
    }
)
RAFFLE_SETTINGS = frozenset(
    {
        "title",
        "description",
        "prizes",
        "ticket_count",
        "claimants",
        "per_claimant",
        "early_close",
        "embed_origins",
        "time_zone",
    }
)
_UNITS_MS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000))


def duration_text(duration_ms: int) -> str:
    """A duration as the creation form takes it (``5_400_000`` → ``"1h30m"``)."""
    parts = []
    left = duration_ms
    for unit, size in _UNITS_MS:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def deadline_text(deadline_ms: int, time_zone: str = zones.DEFAULT_ZONE) -> str:
    """A deadline as the creation form takes it: a wall time in ``time_zone``, to the
    minute unless it has seconds (``"2026-12-24T18:00"``)."""
    moment = datetime.fromtimestamp(deadline_ms / 1000, UTC).astimezone(zones.zone_info(time_zone))
    text = moment.strftime("%Y-%m-%dT%H:%M")
    if deadline_ms % 60_000:
        text += moment.strftime(":%S")
        if deadline_ms % 1000:
            text += f".{deadline_ms % 1000:03d}"
    return text


def settings_of(draw: Draw) -> dict[str, Any]:
    """The draft's settings as its kind's creation call takes them."""
    common: dict[str, Any] = {
        "title": draw.title,
        "description": draw.description,
        "prizes": [p.to_json() for p in draw.prizes],
    }
    if draw.raffle is not None:
        return common | {
            "ticket_count": draw.raffle.ticket_count,
            "claimants": draw.raffle.claimants.value,
            "per_claimant": draw.raffle.per_claimant,
            "early_close": draw.raffle.early_close,
            "embed_origins": list(draw.embed_origins),
            "time_zone": draw.time_zone,
        }
    return common | {
        "deadline": (
            deadline_text(draw.deadline_ms, draw.time_zone)
            if draw.deadline_ms is not None
            else None
        ),
        "duration": duration_text(draw.duration_ms) if draw.duration_ms is not None else None,
        "entry_identity": draw.entry_identity.value,
        "auto_draw": draw.auto_draw,
        "embed_origins": list(draw.embed_origins),
        "github_sign_in": draw.github_sign_in,
        "time_zone": draw.time_zone,
    }


def edited(draw: Draw, changes: Mapping[str, Any], now_ms: int) -> NewDraw:
    """The draft ``draw`` with ``changes`` (setting → new value) applied and checked as
    at creation; InvalidInput names every bad or unknown setting. Giving a deadline
    drops the duration and the other way round: a draft has at most one of them."""
    allowed = RAFFLE_SETTINGS if draw.kind is DrawKind.raffle else GIVEAWAY_SETTINGS
    unknown = sorted(set(changes) - allowed)
    if unknown:
        refusal = (
            N_("A raffle has no setting %(name)s")
            if draw.kind is DrawKind.raffle
            else N_("A giveaway has no setting %(name)s")
        )
        raise InvalidInput({name: Message(refusal, name=repr(name)) for name in unknown})
    settings = settings_of(draw)
    if draw.kind is DrawKind.raffle:
        return validate_new_raffle(**(settings | dict(changes)))
    if "deadline" not in changes and draw.deadline_ms is not None:
        # An edit that leaves the deadline keeps its instant, whatever zone it names.
        settings["deadline"] = iso(draw.deadline_ms)
    if "deadline" in changes and "duration" not in changes:
        settings["duration"] = None
    if "duration" in changes and "deadline" not in changes:
        settings["deadline"] = None
    return validate_new_draw(**(settings | dict(changes)), now_ms=now_ms)
