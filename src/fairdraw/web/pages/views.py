"""What the draw templates show, derived from a :class:`~fairdraw.domain.draws.Draw`.

Presentation only: wording, time formats and grouping. Every decision about what a draw
allows comes from the domain (``accepting_entries``, ``drawable``, ``TRANSITIONS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fairdraw.domain.accounts import User
from fairdraw.domain.draws import TRANSITIONS, Draw, DrawKind, DrawStatus, WinnerView
from fairdraw.domain.moments import iso

_TEXT_FORMAT = "%-d %b %Y, %H:%M UTC"
_PRECISE_FORMAT = "%-d %b %Y, %H:%M:%S UTC"


@dataclass(frozen=True)
class Moment:
    """A point in time for a ``<time datetime=...>`` element."""

    iso: str
    text: str


def moment(ms: int | None) -> Moment | None:
    if ms is None:
        return None
    when = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return Moment(iso=iso(ms), text=when.strftime(_TEXT_FORMAT))


def moment_of_iso(stamp: str) -> Moment | None:
    """:func:`moment` for an ISO 8601 time such as a receipt's ``entered_at``."""
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return Moment(iso=stamp, text=when.astimezone(UTC).strftime(_PRECISE_FORMAT))


def duration_text(ms: int) -> str:
    """``5_400_000`` → ``"1 h 30 min"``."""
    seconds = ms // 1000
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    parts = [
        f"{value} {unit}"
        for value, unit in ((days, "d"), (hours, "h"), (minutes, "min"), (seconds, "s"))
        if value
    ]
    return " ".join(parts) or "0 s"


@dataclass(frozen=True)
class Status:
    """A draw's state in words, with the Bulma tag colour that goes with it."""

    label: str
    tag: str


def status_of(draw: Draw, now_ms: int) -> Status:
    if draw.kind is DrawKind.raffle:
        return _raffle_status(draw)
    if draw.status is DrawStatus.open and not draw.accepting_entries(now_ms):
        return Status("Deadline passed — waiting for the draw", "is-warning")
    return {
        DrawStatus.draft: Status("Draft — not open yet", ""),
        DrawStatus.open: Status("Open for entries", "is-success"),
        DrawStatus.closed: Status("Entries closed — waiting for the draw", "is-warning"),
        DrawStatus.drawn: Status("Winners drawn", "is-info"),
        DrawStatus.cancelled: Status("Cancelled", "is-danger"),
    }[draw.status]


def _raffle_status(draw: Draw) -> Status:
    if draw.status is DrawStatus.open:
        return Status("Open — tickets available", "is-success")
    if draw.status is DrawStatus.closed:
        if draw.tickets_left == 0:
            return Status("Sold out — waiting for the draw", "is-warning")
        return Status("Closed — waiting for the draw", "is-warning")
    return {
        DrawStatus.draft: Status("Draft — not open yet", ""),
        DrawStatus.drawn: Status("Winners drawn", "is-info"),
        DrawStatus.cancelled: Status("Cancelled", "is-danger"),
    }[draw.status]


@dataclass(frozen=True)
class Action:
    """A manager's button on the draw page: ``POST /draws/{id}/{name}``."""

    name: str
    label: str
    style: str


def manager_actions(draw: Draw, user: User | None, now_ms: int) -> list[Action]:
    """The lifecycle buttons to offer ``user``; the service still decides on each click."""
    if user is None or not user.role.can_manage_draws:
        return []
    labels = _RAFFLE_ACTIONS if draw.kind is DrawKind.raffle else _GIVEAWAY_ACTIONS
    actions: list[Action] = []
    if DrawStatus.open in TRANSITIONS[draw.status]:
        actions.append(Action("open", labels["open"], "is-success"))
    if draw.closable(now_ms):
        actions.append(Action("close", labels["close"], "is-warning"))
    if draw.drawable(now_ms):
        actions.append(Action("draw", labels["draw"], "is-primary"))
    if DrawStatus.cancelled in TRANSITIONS[draw.status]:
        actions.append(Action("cancel", labels["cancel"], "is-danger is-light"))
    return actions


_GIVEAWAY_ACTIONS = {
    "open": "Open for entries",
    "close": "Close entries",
    "draw": "Draw winners",
    "cancel": "Cancel draw",
}
_RAFFLE_ACTIONS = {
    "open": "Open the raffle",
    "close": "Close the raffle now",
    "draw": "Draw winners",
    "cancel": "Cancel raffle",
}


@dataclass(frozen=True)
class DrawPage:
    """Everything the draw page shows besides the draw itself."""

    status: Status
    accepting: bool
    created: Moment | None
    opened: Moment | None
    deadline: Moment | None
    window: str | None
    closed: Moment | None
    sealed: Moment | None
    actions: list[Action]
    # When the beacon round the seal bound is published (the draw waits for it).
    beacon_due: Moment | None = None


def draw_page(draw: Draw, user: User | None, now_ms: int) -> DrawPage:
    window = None
    if draw.deadline_ms is None and draw.duration_ms is not None:
        window = duration_text(draw.duration_ms)
    return DrawPage(
        status=status_of(draw, now_ms),
        accepting=draw.accepting_entries(now_ms),
        created=moment(draw.created_ms),
        opened=moment(draw.opened_ms),
        deadline=moment(draw.deadline_ms),
        window=window,
        closed=moment(draw.closed_ms),
        sealed=moment(draw.seal.sealed_ms if draw.seal else None),
        actions=manager_actions(draw, user, now_ms),
        beacon_due=moment(draw.seal.beacon_due_ms if draw.seal else None),
    )


@dataclass(frozen=True)
class PrizeResult:
    """One prize on the results page: who won its slots, and how many stayed empty."""

    name: str
    quantity: int
    winners: list[WinnerView]
    unawarded: int


def initials(name: str) -> str:
    """Up to two letters standing in for a missing avatar."""
    letters = [part[0] for part in name.replace("-", " ").split() if part]
    return "".join(letters[:2]).upper() or "?"
