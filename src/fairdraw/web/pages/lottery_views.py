"""How the lottery pages say things: instants in a lottery's own time zone, days, ballot
counts, and what a round's date says in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from fairdraw.services.lottery_views import DayState, Lottery, RoundView
from fairdraw.web.pages.views import Moment

_LOCAL_FORMAT = "%-d %b %Y, %H:%M %Z"
_DAY_FORMAT = "%A %-d %B %Y"


def local_moment(ms: int, zone: ZoneInfo) -> Moment:
    """An instant in the lottery's own time zone, where its days begin and end."""
    when = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(zone)
    return Moment(iso=when.isoformat(timespec="seconds"), text=when.strftime(_LOCAL_FORMAT))


def day_text(day: date) -> str:
    """``date(2026, 11, 22)`` → ``"Sunday 22 November 2026"``."""
    return day.strftime(_DAY_FORMAT)


def ballots_text(count: int) -> str:
    return f"{count} ballot" if count == 1 else f"{count} ballots"


@dataclass(frozen=True)
class Outcome:
    """What a round's date says, in words, with the Bulma colour that goes with it."""

    heading: str
    detail: str
    tone: str


def outcome_of(view: RoundView, lottery: Lottery) -> Outcome:
    terms = lottery.terms
    day = day_text(view.day)
    took_part = ballots_text(view.ballots)
    if view.state is DayState.drawn:
        heading = "The winner" if len(view.winners) == 1 else "The winners"
        return Outcome(f"{heading} of {day}", f"Drawn from {took_part}.", "is-success")
    if view.state is DayState.no_ballots:
        return Outcome("No ballots that day", f"Nobody took part on {day}: no winner.", "")
    if view.state is DayState.not_drawn:
        detail = f"{day} is over; its round of {took_part} is waiting for its draw."
        return Outcome("Not drawn yet", detail, "is-warning")
    if view.state is DayState.running:
        ends = local_moment(view.due_ms, terms.zone).text if view.due_ms else "midnight"
        detail = f"{took_part.capitalize()} so far; the winner is drawn when the day ends ({ends})."
        return Outcome("Today\u2019s round is still running", detail, "is-info")
    if view.state is DayState.future:
        return Outcome("In the future", f"{day} has not come yet in {terms.timezone}.", "")
    if view.state is DayState.before_start:
        detail = f"{terms.name} starts on {day_text(terms.start)}."
        return Outcome("Before the lottery started", detail, "")
    last = day_text(terms.end) if terms.end else day
    return Outcome("After the lottery ended", f"Its last day was {last}.", "")
