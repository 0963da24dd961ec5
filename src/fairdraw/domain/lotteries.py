"""Daily lotteries: the calendar rules of a series of one-day rounds.

A lottery has an IANA time zone, a start date and an optional end date. Each local
calendar day from the start to the end (inclusive) is a *round*, and each round is a draw
of its own (kind ``lottery``) whose id is derived from the lottery id and the date
(:func:`round_draw_id`).

A day is the half-open interval of instants ``[start(day), start(day + 1))``, where
``start(day)`` is the first instant whose local date is ``day`` or later. On ordinary
days that is local midnight. Where clocks skip midnight (spring forward at 00:00, as in
America/Santiago), the day starts at the instant of the jump (01:00 local) and is 23
hours long; where midnight occurs twice (fall back from 01:00 to 00:00, as in
America/Havana), the day starts at the first midnight and is 25 hours long. Where clocks
fell back across midnight (00:01 to 23:01 the day before, as in America/St_Johns until
2010), the day also starts at the first midnight, and the repeated hour before midnight
belongs to the day already begun. A day skipped entirely (Pacific/Apia, 2011-12-30) is an
empty interval: no ballot can fall in it. The days of a zone therefore tile time with no
gap and no overlap, and the round of an instant is the day whose interval holds it: its
local date, except in such a repeated hour (:func:`local_day`).

A round is due — its ballots are final and it may be drawn — at the end of its day.
All instants are epoch milliseconds (ints), as elsewhere in fairdraw.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, available_timezones

from fairdraw.domain import zones
from fairdraw.domain.draws import (
    DESCRIPTION_MAX,
    PRIZE_NAME_MAX,
    QUANTITY_MAX,
    TITLE_MAX,
    at_most_characters,
)
from fairdraw.domain.errors import InvalidInput
from fairdraw.i18n import N_, Message

WINNERS_PER_DAY_MAX = QUANTITY_MAX
# How far ahead a start or end date may lie; also keeps every date's successor (the end of
# its day) far from date.max.
HORIZON_DAYS = 3653
# Longer than a random draw id (12), so that a round's id is never another draw's.
ROUND_ID_LENGTH = 16
# Part of every round id: changing it would orphan the rounds of every existing lottery.
_ROUND_ID_DOMAIN = b"fairdraw/lottery-round/1\x00"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_ONE_DAY = timedelta(days=1)
# Loadable, but not a place: "localtime" follows the server's setting, "Factory" is "-00".
_NOT_PLACES = frozenset({"localtime", "Factory"})


@dataclass(frozen=True)
class LotteryTerms:
    """What a manager asked for: a name, a prize drawn every day, a zone and dates."""

    name: str
    description: str
    prize: str
    winners_per_day: int
    timezone: str
    start: date
    end: date | None = None

    # The names of the terms among the lottery's stored fields.
    FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "description",
        "prize",
        "winners_per_day",
        "timezone",
        "start",
        "end",
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def to_fields(self) -> dict[str, str]:
        """The terms as fields of the lottery's stored hash (no end date: ``""``)."""
        return {
            "name": self.name,
            "description": self.description,
            "prize": self.prize,
            "winners_per_day": str(self.winners_per_day),
            "timezone": self.timezone,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end is not None else "",
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> LotteryTerms:
        """The terms among a stored hash's fields (other fields are ignored)."""
        end = fields.get("end", "")
        return cls(
            name=fields["name"],
            description=fields.get("description", ""),
            prize=fields["prize"],
            winners_per_day=int(fields["winners_per_day"]),
            timezone=stored_zone(fields["timezone"]),
            start=date.fromisoformat(fields["start"]),
            end=date.fromisoformat(end) if end else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "prize": self.prize,
            "winners_per_day": self.winners_per_day,
            "timezone": self.timezone,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end is not None else None,
        }


class RoundState(StrEnum):
    """What the calendar says of a date of a lottery (the store knows whether it was drawn)."""

    before_start = "before_start"
    after_end = "after_end"
    future = "future"
    running = "running"  # today: ballots are being cast
    due = "due"  # the day has ended: the round is to be drawn, or was


# -- zones --------------------------------------------------------------------------------
@functools.cache
def zone_names() -> tuple[str, ...]:
    """Every time zone a lottery may use, sorted (for a picker)."""
    return tuple(sorted(available_timezones() - _NOT_PLACES))


def parse_day(text: str) -> date:
    """A date given as ``YYYY-MM-DD`` (nothing else); InvalidInput on ``date`` otherwise,
    and for the calendar's last day, whose round would end past the calendar."""
    text = text.strip()
    if _ISO_DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            if day < date.max:
                return day
    raise InvalidInput({"date": N_("Use a date such as 2026-11-22")})


def stored_zone(name: str) -> str:
    """The zone a stored lottery uses: lotteries created before they were limited to the
    canonical zones may hold an alias (``US/Pacific``), read as the zone it links to; a
    name without a canonical zone (``Etc/GMT+5``) stays as it is."""
    return zones.canonical_name(name) or name


def zone_of(name: str) -> ZoneInfo:
    """The zone called ``name``; InvalidInput on ``timezone`` if there is none."""
    if name not in zone_names():
        raise InvalidInput({"timezone": _unknown_zone(name)})
    return ZoneInfo(name)


def _unknown_zone(name: str) -> str:
    if not name.strip():
        return N_("Choose a time zone")
    return N_("Unknown time zone; use an IANA name such as Europe/Berlin")


# -- days ---------------------------------------------------------------------------------
def local_day(zone: ZoneInfo, ms: int) -> date:
    """The day in ``zone`` whose :func:`day_bounds` hold the instant ``ms``.

    That is its local date, except in an hour repeated just before midnight by a clock
    set back across it, where it is the day that began at the first midnight.
    """
    day = _wall_date(zone, ms)
    # The wall date went backwards only if a later day has already begun.
    while _day_start(zone, day + _ONE_DAY) <= ms:
        day += _ONE_DAY
    return day


def _wall_date(zone: ZoneInfo, ms: int) -> date:
    return (_EPOCH + timedelta(milliseconds=ms)).astimezone(zone).date()


def day_bounds(zone: ZoneInfo, day: date) -> tuple[int, int]:
    """``(start_ms, end_ms)``: the instants of ``day`` in ``zone``, end excluded.

    23 hours on a spring-forward day, 25 on a fall-back day; see the module docstring
    for midnights that do not exist or occur twice.
    """
    return _day_start(zone, day), _day_start(zone, day + _ONE_DAY)


# Every ballot asks for the bounds of its day: the few days in use are remembered.
@functools.lru_cache(maxsize=1024)
def _day_start(zone: ZoneInfo, day: date) -> int:
    """The first instant whose wall-clock date is ``day`` or later."""
    midnight = datetime.combine(day, time(), tzinfo=zone)
    # fold=0 reads a wall time with the offset in force before a transition, fold=1 with
    # the one after: equal on ordinary days; on a repeated midnight the earlier is the
    # first midnight; on a skipped one they bracket the jump.
    early, late = sorted((_ms_of(midnight), _ms_of(midnight.replace(fold=1))))
    if _wall_date(zone, early) >= day:
        return early
    # Midnight was skipped: the day starts at the jump, somewhere in (early, late].
    while late - early > 1:
        middle = (early + late) // 2
        if _wall_date(zone, middle) >= day:
            late = middle
        else:
            early = middle
    return late


def _ms_of(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_MS


# -- rounds -------------------------------------------------------------------------------
def round_of(terms: LotteryTerms, ms: int) -> date | None:
    """The round a ballot cast at ``ms`` belongs to; None before the start or after the end."""
    day = local_day(terms.zone, ms)
    if day < terms.start or (terms.end is not None and day > terms.end):
        return None
    return day


def due_ms(terms: LotteryTerms, day: date) -> int:
    """When the round of ``day`` may be drawn: the end of its day."""
    return _day_start(terms.zone, day + _ONE_DAY)


def rounds_due(terms: LotteryTerms, after_day: date | None, now_ms: int) -> list[date]:
    """The rounds after ``after_day`` (from the start if None) whose day ended by ``now_ms``,
    oldest first, up to the end date: what a scheduler draws to catch up."""
    first = terms.start if after_day is None else max(terms.start, after_day + _ONE_DAY)
    last = local_day(terms.zone, now_ms) - _ONE_DAY
    if terms.end is not None:
        last = min(last, terms.end)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def next_due_ms(terms: LotteryTerms, after_day: date | None) -> int | None:
    """When the first round after ``after_day`` (from the start if None) becomes due;
    None when the lottery has no rounds left."""
    day = terms.start if after_day is None else max(terms.start, after_day + _ONE_DAY)
    if terms.end is not None and day > terms.end:
        return None
    return due_ms(terms, day)


def state_of_date(terms: LotteryTerms, day: date, now_ms: int) -> RoundState:
    """Where ``day`` stands at ``now_ms``: outside the lottery's dates, in the future,
    today (running), or over (due)."""
    if day < terms.start:
        return RoundState.before_start
    if terms.end is not None and day > terms.end:
        return RoundState.after_end
    today = local_day(terms.zone, now_ms)
    if day > today:
        return RoundState.future
    if day == today:
        return RoundState.running
    return RoundState.due


@functools.lru_cache(maxsize=1024)
def round_draw_id(lottery_id: str, day: date) -> str:
    """The id of the draw of the lottery's round of ``day``.

    Derived, not random, so every process (web workers, schedulers, a manager drawing by
    hand) addresses the same draw for the same day without coordinating. It is 16
    base32 characters (80 bits of SHA-256): random draw ids have 12, so no other draw
    can hold a round's id, and two rounds clash with odds of about 4·10⁻¹³ among a
    million. Knowing an id gives no way to choose the draw behind it. The ballot and
    close scripts still refuse to touch a draw of another kind (WrongDrawKind).
    """
    message = _ROUND_ID_DOMAIN + lottery_id.encode() + b"\x00" + day.isoformat().encode()
    digest = hashlib.sha256(message).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:ROUND_ID_LENGTH]


# -- validation ---------------------------------------------------------------------------
def validate_new_lottery(
    *,
    name: str,
    description: str,
    prize: str,
    winners_per_day: object,
    timezone: str,
    start: object,
    end: object,
    today: date,
) -> LotteryTerms:
    """Check everything the manager typed; raise InvalidInput listing every bad field.

    Dates are ``date`` objects or ``YYYY-MM-DD`` strings; an empty end means no end.
    ``today`` is the current date in the lottery's zone. The start may be today (the
    first round runs until midnight) but not earlier: past rounds could have had no
    ballots. The end may equal the start (a one-day lottery) but not precede it. Dates
    more than :data:`HORIZON_DAYS` days from today are refused.
    """
    errors: dict[str, str] = {}
    name = name.strip()
    description = description.strip()
    prize = prize.strip()
    timezone = timezone.strip()
    if not name:
        errors["name"] = N_("Give the lottery a name")
    elif len(name) > TITLE_MAX:
        errors["name"] = at_most_characters(TITLE_MAX)
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = at_most_characters(DESCRIPTION_MAX)
    if not prize:
        errors["prize"] = N_("Give the prize a name")
    elif len(prize) > PRIZE_NAME_MAX:
        errors["prize"] = at_most_characters(PRIZE_NAME_MAX)
    winners = _whole_number(winners_per_day)
    if winners is None or not 1 <= winners <= WINNERS_PER_DAY_MAX:
        errors["winners_per_day"] = Message(
            N_("Winners per day must be between 1 and %(limit)s"), limit=WINNERS_PER_DAY_MAX
        )
    # The zones a draw may use, an alias read as the zone it links to and stored as it.
    canonical = zones.canonical_name(timezone) if timezone else None
    if canonical is None:
        errors["timezone"] = _unknown_zone(timezone)
    else:
        timezone = canonical
    horizon = today + timedelta(days=HORIZON_DAYS)
    too_far = Message(N_("At most %(years)s years from today"), years=HORIZON_DAYS // 365)
    first = _date_field("start", start, errors, required=True)
    if first is not None and first < today:
        errors["start"] = Message(
            N_("The start date can't be before today (%(today)s)"), today=today.isoformat()
        )
    elif first is not None and first > horizon:
        errors["start"] = too_far
    last = _date_field("end", end, errors, required=False)
    if last is not None and first is not None and last < first:
        errors["end"] = N_("The end date can't be before the start date")
    elif last is not None and last < today:
        errors["end"] = Message(
            N_("The end date can't be before today (%(today)s)"), today=today.isoformat()
        )
    elif last is not None and last > horizon:
        errors["end"] = too_far
    if errors or first is None or winners is None:
        raise InvalidInput(errors)
    return LotteryTerms(
        name=name,
        description=description,
        prize=prize,
        winners_per_day=winners,
        timezone=timezone,
        start=first,
        end=last,
    )


def _date_field(field: str, raw: object, errors: dict[str, str], *, required: bool) -> date | None:
    """``raw`` as a date, or None after recording why not (nothing if optional and empty)."""
    # A datetime is a date too, but its time and zone would be silently dropped.
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    text = raw.strip() if isinstance(raw, str) else None
    if raw is None or text == "":
        if required:
            errors[field] = N_("Give a date")
        return None
    if text is not None and _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    errors[field] = N_("Use a date such as 2026-11-22")
    return None


def _whole_number(raw: object) -> int | None:
    """``raw`` as an int if it is one (or a string of digits); None otherwise."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    text = str(raw if raw is not None else "").strip()
    if not text.isdecimal() or len(text) > 12:
        return None
    return int(text)
