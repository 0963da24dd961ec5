"""The calendar of daily lotteries: days, cut-offs, rounds due, states, ids, validation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.lotteries import (
    HORIZON_DAYS,
    LotteryTerms,
    RoundState,
    day_bounds,
    due_ms,
    local_day,
    next_due_ms,
    parse_day,
    round_draw_id,
    round_of,
    rounds_due,
    state_of_date,
    validate_new_lottery,
    zone_names,
    zone_of,
)
from fairdraw.store.keys import DRAW_ID_PATTERN

HOUR = 3_600_000
DAY = 24 * HOUR
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Both switch DST at midnight: Santiago skips it in spring, Havana repeats it in autumn.
SANTIAGO = ZoneInfo("America/Santiago")
HAVANA = ZoneInfo("America/Havana")
# Whole hours, half and quarter hours, half-hour DST, both sides of the date line.
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]


def utc(text: str) -> int:
    """An ISO time in UTC as epoch milliseconds."""
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def wall(zone: ZoneInfo, text: str, *, fold: int = 0) -> int:
    """A local wall-clock time in ``zone`` as epoch milliseconds."""
    moment = datetime.fromisoformat(text).replace(tzinfo=zone, fold=fold)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def terms(**changes: Any) -> LotteryTerms:
    fields: dict[str, Any] = {
        "name": "Daily mug",
        "description": "One mug a day",
        "prize": "Mug",
        "winners_per_day": 1,
        "timezone": "Europe/Berlin",
        "start": date(2026, 3, 27),
        "end": date(2026, 4, 2),
    }
    fields.update(changes)
    return LotteryTerms(**fields)


# -- day bounds ---------------------------------------------------------------------------
def test_an_ordinary_day_is_local_midnight_to_local_midnight() -> None:
    assert day_bounds(BERLIN, date(2026, 6, 15)) == (
        utc("2026-06-14T22:00"),
        utc("2026-06-15T22:00"),
    )
    assert day_bounds(ZoneInfo("UTC"), date(2026, 6, 15)) == (
        utc("2026-06-15T00:00"),
        utc("2026-06-16T00:00"),
    )
    assert day_bounds(ZoneInfo("Asia/Kathmandu"), date(2026, 6, 15)) == (
        utc("2026-06-14T18:15"),
        utc("2026-06-15T18:15"),
    )


def test_berlin_spring_forward_day_has_23_hours() -> None:
    start, end = day_bounds(BERLIN, date(2026, 3, 29))
    assert (start, end) == (utc("2026-03-28T23:00"), utc("2026-03-29T22:00"))
    assert end - start == 23 * HOUR


def test_berlin_fall_back_day_has_25_hours() -> None:
    start, end = day_bounds(BERLIN, date(2026, 10, 25))
    assert (start, end) == (utc("2026-10-24T22:00"), utc("2026-10-25T23:00"))
    assert end - start == 25 * HOUR


def test_new_york_dst_days() -> None:
    assert day_bounds(NEW_YORK, date(2026, 3, 8)) == (
        utc("2026-03-08T05:00"),
        utc("2026-03-09T04:00"),
    )
    assert day_bounds(NEW_YORK, date(2026, 11, 1)) == (
        utc("2026-11-01T04:00"),
        utc("2026-11-02T05:00"),
    )


def test_a_skipped_midnight_starts_the_day_at_the_jump() -> None:
    # Santiago, 2025-09-06 24:00 -04 became 2025-09-07 01:00 -03.
    assert day_bounds(SANTIAGO, date(2025, 9, 6)) == (
        utc("2025-09-06T04:00"),
        utc("2025-09-07T04:00"),
    )
    start, end = day_bounds(SANTIAGO, date(2025, 9, 7))
    assert (start, end) == (utc("2025-09-07T04:00"), utc("2025-09-08T03:00"))
    assert datetime.fromtimestamp(start / 1000, SANTIAGO).hour == 1
    assert wall(SANTIAGO, "2025-09-06T23:59:59.999") == start - 1
    assert local_day(SANTIAGO, start - 1) == date(2025, 9, 6)
    assert local_day(SANTIAGO, start) == date(2025, 9, 7)


def test_a_repeated_midnight_starts_the_day_at_the_first() -> None:
    # Havana, 2025-11-02 01:00 -04 became 00:00 -05: midnight came at 04:00Z and 05:00Z.
    first, second = utc("2025-11-02T04:00"), utc("2025-11-02T05:00")
    assert wall(HAVANA, "2025-11-02T00:00", fold=0) == first
    assert wall(HAVANA, "2025-11-02T00:00", fold=1) == second
    assert day_bounds(HAVANA, date(2025, 11, 1)) == (utc("2025-11-01T04:00"), first)
    assert day_bounds(HAVANA, date(2025, 11, 2)) == (first, utc("2025-11-03T05:00"))
    assert local_day(HAVANA, first - 1) == date(2025, 11, 1)
    assert local_day(HAVANA, second - 1) == date(2025, 11, 2)
    # Havana skips midnight in spring, like Santiago.
    assert day_bounds(HAVANA, date(2025, 3, 9)) == (
        utc("2025-03-09T05:00"),
        utc("2025-03-10T04:00"),
    )


def test_an_hour_repeated_before_midnight_stays_in_the_earlier_day() -> None:
    # Santiago, 2025-04-06 00:00 -03 became 2025-04-05 23:00 -04.
    start, end = day_bounds(SANTIAGO, date(2025, 4, 5))
    assert (start, end) == (utc("2025-04-05T03:00"), utc("2025-04-06T04:00"))
    assert end - start == 25 * HOUR
    assert local_day(SANTIAGO, wall(SANTIAGO, "2025-04-05T23:30", fold=1)) == date(2025, 4, 5)
    assert wall(SANTIAGO, "2025-04-05T23:59:59.999", fold=1) == end - 1


def test_an_hour_repeated_across_midnight_belongs_to_the_day_begun() -> None:
    # St. John's, 2006-10-29 00:01 -02:30 became 2006-10-28 23:01 -03:30: Saturday ended
    # at the first midnight; its last hour came again, inside Sunday.
    st_johns = ZoneInfo("America/St_Johns")
    first, second = utc("2006-10-29T02:30"), utc("2006-10-29T03:30")
    assert day_bounds(st_johns, date(2006, 10, 28)) == (utc("2006-10-28T02:30"), first)
    assert day_bounds(st_johns, date(2006, 10, 29)) == (first, utc("2006-10-30T03:30"))
    assert wall(st_johns, "2006-10-28T23:59:59.999", fold=0) == first - 1
    assert local_day(st_johns, first - 1) == date(2006, 10, 28)
    assert local_day(st_johns, first) == date(2006, 10, 29)
    again = wall(st_johns, "2006-10-28T23:30", fold=1)
    assert first < again < second
    assert local_day(st_johns, again) == date(2006, 10, 29)
    sunday = terms(timezone="America/St_Johns", start=date(2006, 10, 29), end=None)
    assert round_of(sunday, again) == date(2006, 10, 29)
    assert state_of_date(sunday, date(2006, 10, 28), again) is RoundState.before_start
    assert rounds_due(
        terms(timezone="America/St_Johns", start=date(2006, 10, 28)), None, again
    ) == [date(2006, 10, 28)]


def test_a_clock_set_back_three_hours_across_midnight() -> None:
    # Casey, 2010-03-05 02:00 +11 became 2010-03-04 23:00 +08: a 27-hour day.
    casey = ZoneInfo("Antarctica/Casey")
    assert day_bounds(casey, date(2010, 3, 5)) == (
        utc("2010-03-04T13:00"),
        utc("2010-03-05T16:00"),
    )
    assert local_day(casey, utc("2010-03-04T15:30")) == date(2010, 3, 5)


def test_a_day_the_zone_skipped_is_empty() -> None:
    apia = ZoneInfo("Pacific/Apia")
    jump = utc("2011-12-30T10:00")
    assert day_bounds(apia, date(2011, 12, 29)) == (utc("2011-12-29T10:00"), jump)
    assert day_bounds(apia, date(2011, 12, 30)) == (jump, jump)
    assert day_bounds(apia, date(2011, 12, 31)) == (jump, utc("2011-12-31T10:00"))
    assert local_day(apia, jump - 1) == date(2011, 12, 29)
    assert local_day(apia, jump) == date(2011, 12, 31)


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("UTC", "2026-06-15"),
        ("Europe/Berlin", "2026-03-28"),
        ("Europe/Berlin", "2026-03-29"),
        ("Europe/Berlin", "2026-10-25"),
        ("America/New_York", "2026-11-01"),
        ("America/Havana", "2025-11-02"),
        ("America/Santiago", "2025-04-05"),
        ("Asia/Kolkata", "2026-01-01"),
        ("Australia/Lord_Howe", "2026-04-05"),
        ("Pacific/Chatham", "2026-09-27"),
        ("Pacific/Kiritimati", "2026-12-31"),
    ],
)
def test_the_cut_off_is_exact(zone: str, day: str) -> None:
    tz = ZoneInfo(zone)
    today = date.fromisoformat(day)
    last = wall(tz, f"{day}T23:59:59.999", fold=1)
    _, end = day_bounds(tz, today)
    assert last == end - 1
    assert local_day(tz, last) == today
    assert local_day(tz, last + 1) == today + timedelta(days=1)
    assert datetime.fromtimestamp((last + 1) / 1000, tz).time().isoformat() == "00:00:00"


def test_local_day_of_an_instant() -> None:
    moment = utc("2026-06-15T22:30")
    assert local_day(ZoneInfo("UTC"), moment) == date(2026, 6, 15)
    assert local_day(BERLIN, moment) == date(2026, 6, 16)
    assert local_day(ZoneInfo("Pacific/Pago_Pago"), moment) == date(2026, 6, 15)
    assert local_day(ZoneInfo("Pacific/Kiritimati"), moment) == date(2026, 6, 16)
    assert local_day(ZoneInfo("UTC"), -1) == date(1969, 12, 31)


@pytest.mark.parametrize("zone", ZONES)
def test_three_years_of_days_tile_time(zone: str) -> None:
    tz = ZoneInfo(zone)
    first, last = date(2025, 1, 1), date(2027, 12, 31)
    previous_end = day_bounds(tz, first)[0]
    lengths: set[int] = set()
    for n in range((last - first).days + 1):
        start, end = day_bounds(tz, first + timedelta(days=n))
        assert start == previous_end
        lengths.add(end - start)
        previous_end = end
    # Three whole years: every hour skipped in spring came back in autumn.
    assert previous_end - day_bounds(tz, first)[0] == 1095 * DAY
    assert lengths <= {23 * HOUR, 23 * HOUR + HOUR // 2, DAY, DAY + HOUR // 2, 25 * HOUR}
    assert DAY in lengths


@given(
    zone=st.sampled_from(ZONES),
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
)
def test_consecutive_days_meet_and_hold_only_their_own_instants(zone: str, day: date) -> None:
    tz = ZoneInfo(zone)
    start, end = day_bounds(tz, day)
    assert end == day_bounds(tz, day + timedelta(days=1))[0]
    assert 23 * HOUR <= end - start <= 25 * HOUR
    assert local_day(tz, start - 1) == day - timedelta(days=1)
    assert local_day(tz, start) == day
    assert local_day(tz, end - 1) == day
    assert local_day(tz, end) == day + timedelta(days=1)


@given(
    zone=st.sampled_from(ZONES),
    moment=st.integers(min_value=utc("2024-01-01T00:00"), max_value=utc("2030-12-31T00:00")),
)
def test_every_instant_lies_in_the_bounds_of_its_local_day(zone: str, moment: int) -> None:
    tz = ZoneInfo(zone)
    start, end = day_bounds(tz, local_day(tz, moment))
    assert start <= moment < end


# -- rounds -------------------------------------------------------------------------------
def test_round_of_a_ballot() -> None:
    lottery = terms()
    first_start, _ = day_bounds(BERLIN, date(2026, 3, 27))
    _, last_end = day_bounds(BERLIN, date(2026, 4, 2))
    assert round_of(lottery, first_start - 1) is None
    assert round_of(lottery, first_start) == date(2026, 3, 27)
    assert round_of(lottery, wall(BERLIN, "2026-03-29T23:59:59.999")) == date(2026, 3, 29)
    assert round_of(lottery, wall(BERLIN, "2026-03-30T00:00")) == date(2026, 3, 30)
    assert round_of(lottery, last_end - 1) == date(2026, 4, 2)
    assert round_of(lottery, last_end) is None


def test_round_of_an_open_ended_lottery_never_ends() -> None:
    lottery = terms(end=None)
    assert round_of(lottery, utc("2035-07-01T12:00")) == date(2035, 7, 1)


def test_round_of_uses_the_lotterys_zone() -> None:
    moment = utc("2026-03-27T23:30")  # 00:30 on the 28th in Berlin
    assert round_of(terms(), moment) == date(2026, 3, 28)
    assert round_of(terms(timezone="UTC"), moment) == date(2026, 3, 27)
    assert round_of(terms(timezone="America/New_York"), moment) == date(2026, 3, 27)


def test_a_round_is_due_at_the_end_of_its_day() -> None:
    assert due_ms(terms(), date(2026, 3, 28)) == utc("2026-03-28T23:00")
    assert due_ms(terms(), date(2026, 3, 29)) == utc("2026-03-29T22:00")
    assert due_ms(terms(timezone="America/Havana"), date(2025, 11, 1)) == utc("2025-11-02T04:00")


def test_rounds_due_catches_up_three_missed_days_in_order() -> None:
    lottery = terms()
    midnight = wall(BERLIN, "2026-03-31T00:00")
    assert rounds_due(lottery, date(2026, 3, 27), midnight) == [
        date(2026, 3, 28),
        date(2026, 3, 29),
        date(2026, 3, 30),
    ]
    assert rounds_due(lottery, date(2026, 3, 27), midnight - 1) == [
        date(2026, 3, 28),
        date(2026, 3, 29),
    ]


def test_rounds_due_from_the_start() -> None:
    lottery = terms()
    assert rounds_due(lottery, None, wall(BERLIN, "2026-03-27T23:59:59.999")) == []
    assert rounds_due(lottery, None, wall(BERLIN, "2026-03-28T00:00")) == [date(2026, 3, 27)]
    # A last drawn day before the start (there is none) counts from the start.
    assert rounds_due(lottery, date(2026, 1, 1), wall(BERLIN, "2026-03-28T00:00")) == [
        date(2026, 3, 27)
    ]


def test_rounds_due_stop_at_the_end_date() -> None:
    lottery = terms()
    long_after = utc("2026-05-01T00:00")
    due = rounds_due(lottery, None, long_after)
    assert due == [date(2026, 3, 27) + timedelta(days=n) for n in range(7)]
    assert rounds_due(lottery, date(2026, 4, 1), long_after) == [date(2026, 4, 2)]
    assert rounds_due(lottery, date(2026, 4, 2), long_after) == []
    assert rounds_due(lottery, None, utc("2026-01-01T00:00")) == []


def test_next_due() -> None:
    lottery = terms()
    assert next_due_ms(lottery, None) == utc("2026-03-27T23:00")
    assert next_due_ms(lottery, date(2026, 3, 28)) == utc("2026-03-29T22:00")
    assert next_due_ms(lottery, date(2026, 1, 1)) == utc("2026-03-27T23:00")
    assert next_due_ms(lottery, date(2026, 4, 1)) == utc("2026-04-02T22:00")
    assert next_due_ms(lottery, date(2026, 4, 2)) is None
    assert next_due_ms(terms(end=None), date(2030, 1, 1)) == utc("2030-01-02T23:00")


def test_state_of_each_kind_of_date() -> None:
    lottery = terms()
    now = wall(BERLIN, "2026-03-29T12:00")
    assert state_of_date(lottery, date(2026, 3, 26), now) is RoundState.before_start
    assert state_of_date(lottery, date(2026, 3, 27), now) is RoundState.due
    assert state_of_date(lottery, date(2026, 3, 28), now) is RoundState.due
    assert state_of_date(lottery, date(2026, 3, 29), now) is RoundState.running
    assert state_of_date(lottery, date(2026, 3, 30), now) is RoundState.future
    assert state_of_date(lottery, date(2026, 4, 2), now) is RoundState.future
    assert state_of_date(lottery, date(2026, 4, 3), now) is RoundState.after_end
    assert state_of_date(lottery, date(2026, 4, 3), utc("2027-01-01T00:00")) is (
        RoundState.after_end
    )
    assert state_of_date(lottery, date(2026, 3, 26), utc("2020-01-01T00:00")) is (
        RoundState.before_start
    )


def test_a_running_round_becomes_due_exactly_at_midnight() -> None:
    lottery = terms()
    midnight = wall(BERLIN, "2026-03-30T00:00")
    assert state_of_date(lottery, date(2026, 3, 29), midnight - 1) is RoundState.running
    assert state_of_date(lottery, date(2026, 3, 29), midnight) is RoundState.due
    assert state_of_date(lottery, date(2026, 3, 30), midnight - 1) is RoundState.future
    assert state_of_date(lottery, date(2026, 3, 30), midnight) is RoundState.running


# -- round ids ----------------------------------------------------------------------------
def test_round_ids_look_like_draw_ids_and_are_stable() -> None:
    # Pinned: a changed derivation would lose every existing round.
    assert round_draw_id("abcdefghijkl", date(2026, 3, 29)) == "7gsfwjkaxr6yjqty"
    assert re.fullmatch(DRAW_ID_PATTERN, round_draw_id("abcdefghijkl", date(2026, 3, 29)))
    assert round_draw_id("abcdefghijkl", date(2026, 3, 29)) == round_draw_id(
        "abcdefghijkl", date(2026, 3, 29)
    )


def test_round_ids_differ_per_day_and_per_lottery() -> None:
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(HORIZON_DAYS)]
    ids = {
        round_draw_id(lottery, day) for lottery in ("abcdefghijkl", "abcdefghijkm") for day in days
    }
    assert len(ids) == 2 * len(days)
    assert all(re.fullmatch(DRAW_ID_PATTERN, i) for i in ids)


# -- terms --------------------------------------------------------------------------------
def test_terms_round_trip_through_stored_fields() -> None:
    lottery = terms()
    assert lottery.to_fields() == {
        "name": "Daily mug",
        "description": "One mug a day",
        "prize": "Mug",
        "winners_per_day": "1",
        "timezone": "Europe/Berlin",
        "start": "2026-03-27",
        "end": "2026-04-02",
    }
    assert set(lottery.to_fields()) == set(LotteryTerms.FIELDS)
    assert LotteryTerms.from_fields(lottery.to_fields()) == lottery
    open_ended = terms(end=None, winners_per_day=1000)
    assert open_ended.to_fields()["end"] == ""
    stored = {**open_ended.to_fields(), "created_ms": "1", "last_day": "2026-03-28"}
    assert LotteryTerms.from_fields(stored) == open_ended


def test_terms_as_json() -> None:
    assert terms(end=None).to_json() == {
        "name": "Daily mug",
        "description": "One mug a day",
        "prize": "Mug",
        "winners_per_day": 1,
        "timezone": "Europe/Berlin",
        "start": "2026-03-27",
        "end": None,
    }
    assert terms().zone == BERLIN


def test_a_day_asked_for_by_text() -> None:
    assert parse_day(" 2026-03-29 ") == date(2026, 3, 29)
    assert parse_day("9999-12-30") == date(9999, 12, 30)


@pytest.mark.parametrize(
    "text", ["", "2026-3-29", "20260329", "2026-02-30", "tomorrow", "9999-12-31"]
)
def test_a_day_that_is_not_a_round_date(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_day(text)
    assert refused.value.errors == {"date": "Use a date such as 2026-11-22"}


# -- zones --------------------------------------------------------------------------------
def test_zone_names_are_places() -> None:
    names = zone_names()
    assert {"UTC", "Europe/Berlin", "America/Santiago", "Pacific/Apia"} <= set(names)
    assert "localtime" not in names
    assert list(names) == sorted(names)
    assert zone_of("America/Havana") == HAVANA


@pytest.mark.parametrize("name", ["Mars/Olympus", "europe/berlin", "America", "../etc/passwd", ""])
def test_zone_of_an_unknown_name(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        zone_of(name)
    assert set(refused.value.errors) == {"timezone"}


# -- validation ---------------------------------------------------------------------------
TODAY = date(2026, 3, 27)


def lottery_form(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": " Daily mug ",
        "description": " One mug a day ",
        "prize": " Mug ",
        "winners_per_day": 1,
        "timezone": "Europe/Berlin",
        "start": "2026-03-27",
        "end": "",
        "today": TODAY,
    }
    fields.update(changes)
    return fields


def errors_of(**changes: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        validate_new_lottery(**lottery_form(**changes))
    return refused.value.errors


def test_a_valid_lottery() -> None:
    assert validate_new_lottery(
        **lottery_form(winners_per_day="3", timezone=" America/Santiago ", end="2026-12-31")
    ) == LotteryTerms(
        name="Daily mug",
        description="One mug a day",
        prize="Mug",
        winners_per_day=3,
        timezone="America/Santiago",
        start=date(2026, 3, 27),
        end=date(2026, 12, 31),
    )


def test_dates_may_be_date_objects_and_the_end_may_be_absent() -> None:
    lottery = validate_new_lottery(**lottery_form(start=date(2026, 4, 1), end=None))
    assert (lottery.start, lottery.end) == (date(2026, 4, 1), None)


def test_a_one_day_lottery_starting_today() -> None:
    lottery = validate_new_lottery(**lottery_form(start=TODAY, end="2026-03-27"))
    assert (lottery.start, lottery.end) == (TODAY, TODAY)


def test_every_bad_field_is_named() -> None:
    assert errors_of(
        name=" ",
        description="x" * 5001,
        prize="",
        winners_per_day=0,
        timezone="Mars/Olympus",
        start="tomorrow",
        end="2026-13-01",
    ) == {
        "name": "Give the lottery a name",
        "description": "At most 5000 characters",
        "prize": "Give the prize a name",
        "winners_per_day": "Winners per day must be between 1 and 1000",
        "timezone": "Unknown time zone; use an IANA name such as Europe/Berlin",
        "start": "Use a date such as 2026-11-22",
        "end": "Use a date such as 2026-11-22",
    }


def test_lengths_at_and_over_the_limits() -> None:
    assert validate_new_lottery(**lottery_form(name="n" * 120, prize="p" * 100)).name == "n" * 120
    assert errors_of(name="n" * 121, prize="p" * 101) == {
        "name": "At most 120 characters",
        "prize": "At most 100 characters",
    }


@pytest.mark.parametrize("count", [1, "7", " 12 ", 1000])
def test_winners_per_day_within_bounds(count: object) -> None:
    assert validate_new_lottery(**lottery_form(winners_per_day=count)).winners_per_day == int(
        str(count)
    )


@pytest.mark.parametrize("count", [0, -1, 1001, "", "two", "1.5", 2.0, True, None])
def test_winners_per_day_out_of_bounds_or_not_whole(count: object) -> None:
    assert errors_of(winners_per_day=count) == {
        "winners_per_day": "Winners per day must be between 1 and 1000"
    }


@pytest.mark.parametrize("zone", ["", " ", "Mars/Olympus", "europe/berlin", "America", "localtime"])
def test_time_zones_that_are_refused(zone: str) -> None:
    assert set(errors_of(timezone=zone)) == {"timezone"}


def test_a_missing_time_zone_asks_for_one() -> None:
    assert errors_of(timezone=" ") == {"timezone": "Choose a time zone"}


@pytest.mark.parametrize(
    "start",
    ["2026-3-28", "20260328", "2026-02-30", "28.03.2026", "2026-W13-6", 20260328, "٢٠٢٦-٠٣-٢٨"],
)
def test_dates_must_be_iso_calendar_dates(start: object) -> None:
    assert errors_of(start=start) == {"start": "Use a date such as 2026-11-22"}


def test_a_date_and_time_is_not_a_date() -> None:
    assert errors_of(end=datetime(2026, 4, 1, 12, 0, tzinfo=UTC)) == {
        "end": "Use a date such as 2026-11-22"
    }


def test_a_start_date_is_required() -> None:
    assert errors_of(start=" ") == {"start": "Give a date"}
    assert errors_of(start=None) == {"start": "Give a date"}


def test_the_start_may_not_be_in_the_past() -> None:
    assert errors_of(start="2026-03-26") == {
        "start": "The start date can't be before today (2026-03-27)"
    }


def test_the_end_may_not_precede_the_start() -> None:
    assert errors_of(start="2026-04-10", end="2026-04-09") == {
        "end": "The end date can't be before the start date"
    }


def test_a_past_end_is_refused_even_when_the_start_is_unreadable() -> None:
    assert errors_of(start="soon", end="2026-03-26") == {
        "start": "Use a date such as 2026-11-22",
        "end": "The end date can't be before today (2026-03-27)",
    }


def test_dates_beyond_the_horizon() -> None:
    horizon = TODAY + timedelta(days=HORIZON_DAYS)
    lottery = validate_new_lottery(**lottery_form(start=horizon, end=horizon))
    assert lottery.start == horizon
    beyond = horizon + timedelta(days=1)
    assert errors_of(start=beyond) == {"start": "At most 10 years from today"}
    assert errors_of(end=beyond) == {"end": "At most 10 years from today"}
