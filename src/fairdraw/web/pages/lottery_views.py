"""How the lottery pages say things: instants in a lottery's own time zone, days, ballot
counts, and what a round's date says in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from fairdraw.i18n import (
    DEFAULT_LOCALE,
    current_locale,
    format_date,
    format_number,
    gettext,
    ngettext,
)
from fairdraw.services.lottery_views import DayState, Lottery, RoundView
from fairdraw.web.pages.time_format import Moment, moment_in

# An LDML pattern: English pages have always written days like this.
_DAY_FORMAT = "EEEE d MMMM y"


def local_moment(ms: int, zone: ZoneInfo) -> Moment:
    """An instant in the lottery's own time zone, where its days begin and end."""
    return moment_in(ms, zone.key)


def day_text(day: date) -> str:
    """``date(2026, 11, 22)`` → ``"Sunday 22 November 2026"`` (in German
    ``"Sonntag, 22. November 2026"``: other languages write the day their own way)."""
    locale = current_locale()
    return format_date(day, _DAY_FORMAT if locale == DEFAULT_LOCALE else "full", locale)


def ballots_text(count: int) -> str:
    return ngettext("%(num)s ballot", "%(num)s ballots", count) % {"num": format_number(count)}


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
        heading = ngettext("The winner of %(day)s", "The winners of %(day)s", len(view.winners))
        return Outcome(
            heading % {"day": day},
            gettext("Drawn from %(ballots)s.") % {"ballots": took_part},
            "is-success",
        )
    if view.state is DayState.no_ballots:
        detail = gettext("Nobody took part on %(day)s: no winner.") % {"day": day}
        return Outcome(gettext("No ballots that day"), detail, "")
    if view.state is DayState.not_drawn:
        detail = gettext("%(day)s is over; its round of %(ballots)s is waiting for its draw.") % {
            "day": day,
            "ballots": took_part,
        }
        return Outcome(gettext("Not drawn yet"), detail, "is-warning")
    if view.state is DayState.running:
        ends = local_moment(view.due_ms, terms.zone).text if view.due_ms else gettext("midnight")
        detail = gettext(
            "%(ballots)s so far; the winner is drawn when the day ends (%(ends)s)."
        ) % {"ballots": took_part.capitalize(), "ends": ends}
        return Outcome(gettext("Today\u2019s round is still running"), detail, "is-info")
    if view.state is DayState.future:
        detail = gettext("%(day)s has not come yet in %(zone)s.") % {
            "day": day,
            "zone": terms.timezone,
        }
        return Outcome(gettext("In the future"), detail, "")
    if view.state is DayState.before_start:
        detail = gettext("%(name)s starts on %(day)s.") % {
            "name": terms.name,
            "day": day_text(terms.start),
        }
        return Outcome(gettext("Before the lottery started"), detail, "")
    last = day_text(terms.end) if terms.end else day
    detail = gettext("Its last day was %(day)s.") % {"day": last}
    return Outcome(gettext("After the lottery ended"), detail, "")
