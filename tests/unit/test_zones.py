"""Time zones: the canonical list a picker offers, aliases, and wall times in a zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from fairdraw.domain.draws import validate_new_draw
from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.zones import (
    NonexistentLocalTime,
    canonical_name,
    canonical_zones,
    local_to_ms,
    offset_text,
    read_zone,
    zone_groups,
    zone_info,
)
from fairdraw.web.pages.time_format import moment_in, time_element

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WINTER = datetime(2026, 1, 15, 12, tzinfo=UTC)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_the_canonical_list_holds_places_and_no_aliases() -> None:
    names = canonical_zones()
    assert {"UTC", "Europe/Berlin", "America/New_York", "Asia/Shanghai", "Europe/Kyiv"} <= set(
        names
    )
    for alias in ("US/Pacific", "Europe/Kiev", "Asia/Calcutta", "Etc/GMT+5", "GMT", "EST"):
        assert alias not in names
    assert all("/" in name for name in names if name != "UTC")
    assert list(names) == sorted(names)
    assert 300 <= len(names) <= 500


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        (" Europe/Berlin ", "Europe/Berlin"),
        ("US/Pacific", "America/Los_Angeles"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Etc/UTC", "UTC"),
        ("GMT", "UTC"),
        ("UTC", "UTC"),
    ],
)
def test_an_alias_reads_as_the_zone_it_names(name: str, canonical: str) -> None:
    assert canonical_name(name) == canonical
    assert read_zone(name) == canonical


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "europe/berlin", "Europe", "../etc/passwd", "Etc/GMT+5", "x" * 65]
)
def test_an_unknown_zone_is_refused_on_its_field(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_zone(name)
    assert refused.value.errors == {
        "time_zone": "Unknown time zone; choose one such as Europe/Berlin"
    }


def test_a_blank_zone_is_utc_and_a_missing_one_reads_as_utc() -> None:
    assert read_zone("") == read_zone(None) == "UTC"
    assert zone_info(None) == zone_info("No/Such_Zone") == ZoneInfo("UTC")


def test_groups_are_regions_with_offsets() -> None:
    groups = zone_groups(WINTER)
    assert groups[0].region == "UTC"
    regions = [group.region for group in groups]
    assert {"Africa", "America", "Asia", "Europe", "Pacific"} <= set(regions)
    europe = next(group for group in groups if group.region == "Europe")
    labels = {choice.name: choice.label for choice in europe.zones}
    assert labels["Europe/Berlin"] == "Europe/Berlin (UTC+01:00)"
    assert sum(len(group.zones) for group in groups) == len(canonical_zones())
    assert offset_text(ZoneInfo("Asia/Kolkata"), WINTER) == "UTC+05:30"
    assert offset_text(NEW_YORK, datetime(2026, 7, 1, tzinfo=UTC)) == "UTC-04:00"


def test_a_wall_time_is_read_in_its_zone() -> None:
    assert local_to_ms(datetime(2026, 12, 24, 18, 0), BERLIN) == ms("2026-12-24T17:00:00+00:00")
    assert local_to_ms(datetime(2026, 7, 4, 9, 30), NEW_YORK) == ms("2026-07-04T13:30:00+00:00")


def test_a_skipped_wall_time_does_not_exist() -> None:
    # 29 March 2026: Berlin's clocks go from 02:00 straight to 03:00.
    with pytest.raises(NonexistentLocalTime):
        local_to_ms(datetime(2026, 3, 29, 2, 30), BERLIN)
    with pytest.raises(NonexistentLocalTime):
        local_to_ms(datetime(2026, 3, 8, 2, 0), NEW_YORK)


def test_a_repeated_wall_time_is_its_first_occurrence() -> None:
    # 25 October 2026: Berlin shows 02:00-03:00 twice, first at UTC+2, then at UTC+1.
    first = local_to_ms(datetime(2026, 10, 25, 2, 30), BERLIN)
    assert first == ms("2026-10-25T00:30:00+00:00")
    first = local_to_ms(datetime(2026, 11, 1, 1, 30), NEW_YORK)
    assert first == ms("2026-11-01T05:30:00+00:00")


def test_a_deadline_in_a_gap_is_refused_with_words() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_new_draw(
            title="Spring",
            description="",
            prizes=[{"name": "Mug"}],
            deadline="2026-03-29T02:30",
            duration=None,
            now_ms=0,
            time_zone="Europe/Berlin",
        )
    assert refused.value.errors == {
        "deadline": "29 Mar 2026, 02:30 does not exist in Europe/Berlin: the clocks jump "
        "forward over it that night; choose a time before or after the change"
    }


def test_a_deadline_with_an_offset_is_that_instant_whatever_the_zone() -> None:
    new = validate_new_draw(
        title="Offset",
        description="",
        prizes=[{"name": "Mug"}],
        deadline="2026-12-24T18:00:00-05:00",
        duration=None,
        now_ms=0,
        time_zone="Europe/Berlin",
    )
    assert (new.deadline_ms, new.time_zone) == (ms("2026-12-24T23:00:00+00:00"), "Europe/Berlin")


def test_a_moment_names_its_zone_in_full() -> None:
    instant = ms("2026-12-06T16:00:00+00:00")
    shanghai = moment_in(instant, "Asia/Shanghai")
    assert (shanghai.iso, shanghai.text) == (
        "2026-12-06T16:00:00.000Z",
        "7 Dec 2026, 00:00 China Standard Time",
    )
    assert (
        moment_in(instant, "Europe/Berlin").text
        == "6 Dec 2026, 17:00 Central European Standard Time"
    )
    assert moment_in(instant, None).text == "6 Dec 2026, 16:00 UTC"
    assert str(time_element(shanghai)) == (
        '<time datetime="2026-12-06T16:00:00.000Z" data-local="minute">'
        "7 Dec 2026, 00:00 China Standard Time</time>"
    )


@pytest.mark.parametrize(
    ("deadline", "zone"),
    [("9999-12-31T23:59", "America/New_York"), ("0001-01-01T00:00", "Asia/Shanghai")],
)
def test_a_wall_time_past_the_calendar_is_refused_not_a_crash(deadline: str, zone: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_new_draw(
            title="Far",
            description="",
            prizes=[{"name": "Mug"}],
            deadline=deadline,
            duration=None,
            now_ms=0,
            time_zone=zone,
        )
    assert refused.value.errors == {"deadline": "Use a date and time such as 2026-12-24T18:00"}
