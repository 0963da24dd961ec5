"""The German catalogue translates every message the code and the templates mark.

Messages are extracted in-process with the same map as ``make messages`` (babel.cfg);
a message missing from ``locale/de/LC_MESSAGES/messages.po``, left empty there, or
marked fuzzy fails, so a new English string cannot ship untranslated.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from fairdraw import i18n

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "fairdraw"
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}


@cache
def extracted() -> dict[tuple[str, str | None], str]:
    """(msgid, context) → where it was first found, for every marked message."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[tuple[str, str | None], str] = {}
    for filename, line, message, _comments, context in extract_from_dir(
        str(PACKAGE), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{line}")
    return found


def catalogue(locale: str) -> Catalog:
    with (PACKAGE / i18n.catalogue_path(locale)).open("rb") as po:
        return read_po(po, locale=locale)


def test_messages_are_extracted_from_code_and_templates() -> None:
    found = extracted()
    assert any(where.startswith("web/templates/") for where in found.values())
    assert ("Something went wrong", None) in found  # an error title, marked with N_()
    assert ("Verify a draw", None) in found  # base.html
    assert ("Open for entries", "button") in found  # a button, apart from the state


def test_every_message_has_a_german_translation() -> None:
    german = catalogue("de")
    missing = []
    for (msgid, context), where in sorted(extracted().items(), key=lambda item: item[1]):
        message = german.get(msgid, context=context)
        strings = (
            []
            if message is None
            else [message.string]
            if isinstance(message.string, str)
            else list(message.string)
        )
        if not strings or not all(strings):
            missing.append(f"{where}: {msgid!r}")
    assert missing == []


def test_no_german_translation_is_fuzzy() -> None:
    fuzzy = [message.id for message in catalogue("de") if message.id and message.fuzzy]
    assert fuzzy == []


def test_placeholders_survive_translation() -> None:
    german = catalogue("de")
    wrong = []
    for message in german:
        if not message.id or not message.string:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = set().union(*(_placeholders(text) for text in ids))
        for text in strings:
            if not _placeholders(text) <= wanted or (
                len(strings) == 1 and _placeholders(text) != wanted
            ):
                wrong.append(message.id)
    assert wrong == []


def _placeholders(text: str) -> set[str]:
    import re

    return set(re.findall(r"%\((\w+)\)s", text))


def test_german_is_used_where_asked() -> None:
    with i18n.using_locale("de"):
        assert i18n.gettext("Verify a draw") == "Ziehung prüfen"
        assert i18n.format_number(999_999_999) == "999.999.999"
    assert i18n.gettext("Verify a draw") == "Verify a draw"
    assert i18n.format_number(999_999_999) == "999,999,999"


def test_accept_language_negotiation() -> None:
    assert i18n.negotiate("de-DE,de;q=0.9,en;q=0.8") == "de"
    assert i18n.negotiate("fr-FR, en;q=0.5, de;q=0.7") == "de"
    assert i18n.negotiate("fr, *;q=0.1") == "en"
    assert i18n.negotiate("de;q=0, en") == "en"
    assert i18n.negotiate(None) == "en"
    assert i18n.negotiate("de", chosen="en") == "en"
    assert i18n.negotiate("en", chosen="xx") == "en"
