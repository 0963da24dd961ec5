"""What the draw templates show, derived from a :class:`~fairdraw.domain.draws.Draw`.

Presentation only: wording, time formats and grouping. Every decision about what a draw
allows comes from the domain (``accepting_entries``, ``drawable``, ``TRANSITIONS``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fairdraw.domain.accounts import User
from fairdraw.domain.draws import TRANSITIONS, Draw, DrawKind, DrawStatus, WinnerView
from fairdraw.i18n import gettext, pgettext
from fairdraw.web.pages.time_format import Moment as Moment
from fairdraw.web.pages.time_format import moment_in


def moment(ms: int | None, zone: str | None = None) -> Moment | None:
    """The instant ``ms`` in the zone ``zone`` (a draw's; None: UTC), for the ``when``
    filter; None stays None."""
    if ms is None:
        return None
    return moment_in(ms, zone)


def moment_of_iso(stamp: str, zone: str | None = None) -> Moment | None:
    """:func:`moment` for an ISO 8601 time such as a receipt's ``entered_at``, to the
    second."""
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return moment_in(int(when.timestamp() * 1000), zone, seconds=True)


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
        return Status(gettext("Deadline passed — waiting for the draw"), "is-warning")
    return {
        DrawStatus.draft: Status(gettext("Draft — not open yet"), ""),
        DrawStatus.open: Status(gettext("Open for entries"), "is-success"),
        DrawStatus.closed: Status(gettext("Entries closed — waiting for the draw"), "is-warning"),
        DrawStatus.drawn: Status(gettext("Winners drawn"), "is-info"),
        DrawStatus.cancelled: Status(gettext("Cancelled"), "is-danger"),
    }[draw.status]


def _raffle_status(draw: Draw) -> Status:
    if draw.status is DrawStatus.open:
        return Status(gettext("Open — tickets available"), "is-success")
    if draw.status is DrawStatus.closed:
        if draw.tickets_left == 0:
            return Status(gettext("Sold out — waiting for the draw"), "is-warning")
        return Status(gettext("Closed — waiting for the draw"), "is-warning")
    return {
        DrawStatus.draft: Status(gettext("Draft — not open yet"), ""),
        DrawStatus.drawn: Status(gettext("Winners drawn"), "is-info"),
        DrawStatus.cancelled: Status(gettext("Cancelled"), "is-danger"),
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
        actions.append(Action("open", labels["open"](), "is-success"))
    # Past its deadline a draw takes no entries whatever its stored status (the scheduler
    # may not have closed it yet): drawing it is the next step, not closing it.
    if draw.closable(now_ms) and not draw.deadline_passed(now_ms):
        actions.append(Action("close", labels["close"](), "is-warning"))
    if draw.drawable(now_ms):
        actions.append(Action("draw", labels["draw"](), "is-primary"))
    if DrawStatus.cancelled in TRANSITIONS[draw.status]:
        actions.append(Action("cancel", labels["cancel"](), "is-danger is-light"))
    return actions


# Button words, told apart from the same English as a state ("Open for entries").
_GIVEAWAY_ACTIONS: dict[str, Callable[[], str]] = {
    "open": lambda: pgettext("button", "Open for entries"),
    "close": lambda: pgettext("button", "Close entries"),
    "draw": lambda: pgettext("button", "Draw winners"),
    "cancel": lambda: pgettext("button", "Cancel draw"),
}
_RAFFLE_ACTIONS: dict[str, Callable[[], str]] = {
    "open": lambda: pgettext("button", "Open the raffle"),
    "close": lambda: pgettext("button", "Close the raffle now"),
    "draw": lambda: pgettext("button", "Draw winners"),
    "cancel": lambda: pgettext("button", "Cancel raffle"),
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
    # When entries stopped (closed, or the deadline passed); None while they may come.
    entries_closed: Moment | None = None


def draw_page(draw: Draw, user: User | None, now_ms: int) -> DrawPage:
    window = None
    if draw.deadline_ms is None and draw.duration_ms is not None:
        window = duration_text(draw.duration_ms)
    return DrawPage(
        status=status_of(draw, now_ms),
        accepting=draw.accepting_entries(now_ms),
        created=moment(draw.created_ms, draw.time_zone),
        opened=moment(draw.opened_ms, draw.time_zone),
        deadline=moment(draw.deadline_ms, draw.time_zone),
        window=window,
        closed=moment(draw.closed_ms, draw.time_zone),
        sealed=moment(draw.seal.sealed_ms if draw.seal else None, draw.time_zone),
        actions=manager_actions(draw, user, now_ms),
        beacon_due=moment(draw.seal.beacon_due_ms if draw.seal else None, draw.time_zone),
        entries_closed=entries_closed(draw, now_ms),
    )


def entries_closed(draw: Draw, now_ms: int) -> Moment | None:
    """When ``draw`` stopped taking entries, or None if it has not: its closing time, its
    passed deadline, or (a draw cancelled before it closed) just "Closed"."""
    if draw.closed_ms is not None:
        return moment(draw.closed_ms, draw.time_zone)
    if draw.status is DrawStatus.open and draw.deadline_passed(now_ms):
        return moment(draw.deadline_ms, draw.time_zone)
    if draw.status in (DrawStatus.closed, DrawStatus.drawn, DrawStatus.cancelled):
        return Moment(iso="", text="Closed")
    return None


@dataclass(frozen=True)
class PrizeResult:
    """One prize on the results page: who won its slots, and how many stayed empty."""

    name: str
    quantity: int
    winners: list[WinnerView]
    unawarded: int


def initials(name: str) -> str:
    """Up to two letters standing in for a missing avatar: the first letter of each of
    the first two words, where a word is a run of letters ("Morgan (manager)" → "MM")."""
    letters = [word[0] for word in _WORD.findall(name)]
    return "".join(letters[:2]).upper() or "?"


# A run of letters (any script); digits, underscores and punctuation separate words.
_WORD = re.compile(r"[^\W\d_]+")
