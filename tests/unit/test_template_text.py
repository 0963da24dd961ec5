"""Every word a template shows is marked for translation.

A heuristic over the template source: after leaving out comments, ``{% trans %}`` blocks,
Jinja tags and expressions, scripts, styles and code samples, any text node or
user-visible attribute (``title``, ``aria-label``, ``placeholder``, ``alt``) that still
holds a letter is English nobody can translate. ``ALLOWED`` lists the few words that are
the same in every language.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "fairdraw" / "web" / "templates"

# The brand, and words that stay as they are in every language fairdraw ships.
ALLOWED = frozenset(
    {"fairdraw", "GitHub", "JSON", "CSV", "API", "ID", "QR", "SHA-256", "OK", "openapi.json"}
)

_JINJA = r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}"
_TAG = re.compile(r"<(?:[^>{]|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{(?![{%#]))*>", re.DOTALL)
_SKIPPED = re.compile(
    r"\{#.*?#\}"
    r"|\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}"
    r"|<(script|style|pre|code|kbd|samp)\b.*?</\1\s*>",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(
    r"""\s(title|aria-label|placeholder|alt|aria-roledescription)\s*=\s*("[^"]*"|'[^']*')""",
    re.DOTALL,
)
_ENTITY = re.compile(r"&#?\w+;")
_ATTRIBUTE_TEXT = re.compile(r"""(?<![\w-])[\w-]+=("[^"]*"|'[^']*')""")
_LETTER = re.compile(r"[^\W\d_]")
_PUNCTUATION = ".,:;·()!?\u2013\u2014"


def _visible(text: str) -> str | None:
    """The untranslated words left in ``text`` once markup is gone, or None."""
    words = re.sub(_JINJA, " ", text, flags=re.DOTALL)
    # Attributes a block adds to a tag (``{% block main_attrs %}``) are markup too.
    words = _ATTRIBUTE_TEXT.sub(" ", _ENTITY.sub(" ", words)).strip()
    if not _LETTER.search(words):
        return None
    if all(word.strip(_PUNCTUATION) in ALLOWED | {""} for word in words.split()):
        return None
    return " ".join(words.split())


def untranslated(source: str) -> list[str]:
    """The visible English of one template that is outside every translation marker."""
    found: list[str] = []
    source = _SKIPPED.sub(" ", source)
    position = 0
    for tag in _TAG.finditer(source):
        text = re.sub(_JINJA, " ", source[position : tag.start()], flags=re.DOTALL)
        if (words := _visible(text)) is not None:
            found.append(words)
        for _name, value in _ATTRIBUTE.findall(tag.group(0)):
            if (words := _visible(value[1:-1])) is not None:
                found.append(f"{_name}={words}")
        position = tag.end()
    if (words := _visible(source[position:])) is not None:
        found.append(words)
    return found


def templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_the_templates_are_found() -> None:
    assert len(templates()) >= 40


@pytest.mark.parametrize("path", templates(), ids=lambda path: path.name)
def test_template_shows_only_translated_text(path: Path) -> None:
    assert untranslated(path.read_text(encoding="utf-8")) == []


def test_the_check_finds_unmarked_text() -> None:
    source = (
        '<p title="Copy the link">Open for entries {{ count }}</p>'
        "{% trans %}Marked{% endtrans %}{{ _('Marked too') }}<code>curl x</code>"
        "<span>fairdraw</span>"
    )
    assert untranslated(source) == ["title=Copy the link", "Open for entries"]


_BINDS_UNDERSCORE = re.compile(r"\{%-?\s*(?:for\s+(?:\w+\s*,\s*)*_\s*(?:,|in\b)|set\s+_\s*=)")


@pytest.mark.parametrize("path", templates(), ids=lambda path: path.name)
def test_template_keeps_the_translation_function(path: Path) -> None:
    # A loop variable or assignment named "_" hides _() for the rest of its block.
    assert _BINDS_UNDERSCORE.findall(path.read_text(encoding="utf-8")) == []
