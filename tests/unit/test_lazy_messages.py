"""Messages with values: English as strings, put into the reader's language when shown."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ValidationError

from fairdraw import i18n
from fairdraw.domain import zones
from fairdraw.domain.draws import at_most_characters
from fairdraw.domain.errors import InvalidInput
from fairdraw.i18n import Message
from fairdraw.web.problems import problem_document, validation_message


def test_a_message_is_its_english_text() -> None:
    message = at_most_characters(120)
    assert message == "At most 120 characters"
    assert str(message) == "At most 120 characters"
    assert f"title: {message}" == "title: At most 120 characters"
    assert i18n.gettext(message) == "At most 120 characters"


def test_a_message_is_put_into_the_current_language() -> None:
    with i18n.using_locale("de"):
        assert i18n.gettext(at_most_characters(120)) == "Höchstens 120 Zeichen"
    assert at_most_characters(5000).render("de") == "Höchstens 5000 Zeichen"
    assert at_most_characters(10**9).render("de") == "Höchstens 1.000.000.000 Zeichen"
    assert at_most_characters(10**9) == "At most 1,000,000,000 characters"


def test_a_wall_time_is_written_as_the_language_writes_it() -> None:
    message = zones.gap_message(datetime(2030, 3, 31, 2, 30), "Europe/Berlin")
    assert message.startswith("31 Mar 2030, 02:30 does not exist in Europe/Berlin: ")
    assert message.render("de").startswith("31. März 2030, 02:30 gibt es in Europe/Berlin nicht")


def test_an_unmarked_value_and_a_message_value() -> None:
    inner = Message(i18n.N_("At most %(limit)s characters"), limit=3)
    outer = Message("%(name)s: %(inner)s", name="Title", inner=inner)
    assert outer == "Title: At most 3 characters"
    assert outer.render("de") == "Title: Höchstens 3 Zeichen"


def test_a_message_survives_copying() -> None:
    copied = copy.deepcopy(at_most_characters(120))
    assert (copied, copied.render("de")) == ("At most 120 characters", "Höchstens 120 Zeichen")


def test_an_invalid_input_problem_speaks_the_request_language() -> None:
    error = InvalidInput(
        {"title": at_most_characters(120), "prizes": i18n.N_("Add at least one prize")}
    )
    assert error.detail == "title: At most 120 characters; prizes: Add at least one prize"
    with i18n.using_locale("de"):
        body = problem_document(error, None)
    assert body["errors"]["title"] == "Höchstens 120 Zeichen"
    assert body["detail"] == "title: Höchstens 120 Zeichen; prizes: " + body["errors"]["prizes"]


def test_pydantic_messages_by_type() -> None:
    item = {
        "type": "string_too_long",
        "msg": "String should have at most 1 character",
        "ctx": {"max_length": 1},
    }
    message = validation_message(item)
    assert message == "String should have at most 1 character"
    assert i18n.gettext(message) == "String should have at most 1 character"
    with i18n.using_locale("de"):
        assert i18n.gettext(message) == "Der Text darf höchstens 1 Zeichen haben"
    unknown = {"type": "url_parsing", "msg": "Input should be a valid URL", "ctx": {}}
    with i18n.using_locale("de"):
        assert i18n.gettext(validation_message(unknown)) == "Input should be a valid URL"


class Choices(BaseModel):
    kind: Literal["giveaway", "raffle", "lottery"] = "giveaway"
    zone: Literal["UTC"] = "UTC"


def choice_error(**values: object) -> dict[str, Any]:
    with pytest.raises(ValidationError) as refused:
        Choices.model_validate(values)
    (error,) = refused.value.errors()
    return dict(error)


def test_the_allowed_values_are_listed_as_the_language_lists_alternatives() -> None:
    message = validation_message(choice_error(kind="draw"))
    assert message == "Input should be 'giveaway', 'raffle' or 'lottery'"  # pydantic's own
    assert message.render("en") == "Input should be 'giveaway', 'raffle' or 'lottery'"
    assert message.render("de") == "Erwartet wird 'giveaway', 'raffle' oder 'lottery'"
    copied = copy.deepcopy(message)
    assert copied.render("de") == "Erwartet wird 'giveaway', 'raffle' oder 'lottery'"
    single = validation_message(choice_error(zone="CET"))
    assert (single, single.render("de")) == ("Input should be 'UTC'", "Erwartet wird 'UTC'")
