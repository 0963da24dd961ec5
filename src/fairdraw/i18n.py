"""Languages: message catalogues, the locale of the current request, and formatting.

English is the source language: every message is written in English in the code and the
templates, marked for extraction (``_()``, ``ngettext()``, ``{% trans %}``, or ``N_()``
where the English must stay as it is until it is shown). The catalogues are the
``locale/<lang>/LC_MESSAGES/messages.po`` files of this package, read once at startup
with Babel; nothing is compiled to ``.mo`` (``make messages`` extracts and updates them,
docs/operations.md "Languages").

The locale of what is being rendered lives in a context variable: the web layer sets it
per request (fairdraw.web.i18n), anything else (e-mail, the CLI) runs in English unless it
sets one with :func:`using_locale`.
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from io import BytesIO

from babel import negotiate_locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

DEFAULT_LOCALE = "en"
# The shipped languages, as offered by the switcher: (code, name in its own language).
LANGUAGES: tuple[tuple[str, str], ...] = (("en", "English"), ("de", "Deutsch"))
LOCALES: tuple[str, ...] = tuple(code for code, _name in LANGUAGES)
DOMAIN = "messages"

# A locale, or how to find it (the web layer resolves a request's only when asked).
_current: ContextVar[str | Callable[[], str] | None] = ContextVar("fairdraw_locale", default=None)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it yet (it is translated
    where it is shown, in the locale of that moment)."""
    return message


def catalogue_path(locale: str) -> str:
    """Where the ``.po`` file of ``locale`` lives in the package."""
    return f"locale/{locale}/LC_MESSAGES/{DOMAIN}.po"


@cache
def translations(locale: str) -> gettext_module.NullTranslations:
    """The translations of ``locale``, built from its ``.po`` file (English, the source
    language, and unknown locales translate nothing). Fuzzy entries are left out."""
    if locale == DEFAULT_LOCALE or locale not in LOCALES:
        return gettext_module.NullTranslations()
    source = resources.files("fairdraw").joinpath(catalogue_path(locale))
    with source.open("rb") as po:
        catalogue = read_po(po, locale=locale, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


def current_locale() -> str:
    """The locale of what is being rendered now (English outside a request)."""
    value = _current.get()
    if callable(value):
        return value()
    return value or DEFAULT_LOCALE


def set_locale_resolver(resolve: Callable[[], str]) -> Token[str | Callable[[], str] | None]:
    """Make ``resolve()`` (cached by the caller) the current locale until
    :func:`reset_locale`; it is called only when something is rendered in words."""
    return _current.set(resolve)


def reset_locale(token: Token[str | Callable[[], str] | None]) -> None:
    _current.reset(token)


@contextmanager
def using_locale(locale: str | None) -> Iterator[str]:
    """Render in ``locale`` (an e-mail in its reader's language, a test) within the block."""
    token = _current.set(locale if locale in LOCALES else None)
    try:
        yield current_locale()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """``message`` in the current locale (a :class:`Message` with its values put in)."""
    if isinstance(message, Message):
        return message.render()
    return translations(current_locale()).gettext(message)


_ = gettext


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of ``singular``/``plural`` for ``count`` in the current locale."""
    return translations(current_locale()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current locale, told apart from the same English by ``context``."""
    return translations(current_locale()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, count: int) -> str:
    return translations(current_locale()).npgettext(context, singular, plural, count)


class Message(str):
    """A marked message and its values, put into words when it is shown.

    ``Message(N_("At most %(limit)s characters"), limit=120)`` is, as a ``str``, the
    English text (logs, the CLI, comparisons); :func:`gettext` (and so the templates'
    ``translated`` filter and the problem documents) gives it in the current locale, the
    values put in afterwards: numbers and wall times (naive datetimes) as the locale
    writes them, a ``Message`` value in the same locale, anything else as it is. A number
    of up to four digits is written without grouping (``5000``), as English and German
    style guides leave them.
    """

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, /, **params: object) -> Message:
        message = super().__new__(cls, _interpolate(template, params, DEFAULT_LOCALE))
        message.template = template
        message.params = params
        return message

    def render(self, locale: str | None = None) -> str:
        """The message in ``locale`` (default: the current one)."""
        locale = locale or current_locale()
        text = translations(locale).gettext(self.template)
        return _interpolate(text, self.params, locale)

    def __reduce__(self) -> tuple[Callable[..., Message], tuple[str, dict[str, object]]]:
        return _message, (self.template, self.params)


@dataclass(frozen=True)
class Alternatives:
    """A message value naming the one of several that is expected, written as the locale
    lists alternatives: ``'a', 'b' or 'c'`` in English, ``'a', 'b' oder 'c'`` in German."""

    items: tuple[str, ...]

    def render(self, locale: str) -> str:
        return format_list(list(self.items), style="or", locale=locale)

    def __str__(self) -> str:
        return self.render(DEFAULT_LOCALE)


def _message(template: str, params: dict[str, object]) -> Message:
    return Message(template, **params)


# How a wall time (a naive datetime) is written in a message, as a Babel date pattern.
WALL_TIME_PATTERN = N_("d MMM y, HH:mm")


def _interpolate(text: str, params: dict[str, object], locale: str) -> str:
    if not params:
        return text
    return text % {name: _value_text(value, locale) for name, value in params.items()}


def _value_text(value: object, locale: str) -> str:
    if isinstance(value, (Message, Alternatives)):
        return value.render(locale)
    if isinstance(value, datetime):
        # A wall time as the locale writes one; the pattern is itself a message.
        pattern = translations(locale).gettext(WALL_TIME_PATTERN)
        return babel_format_datetime(value, format=pattern, locale=locale)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if -10_000 < value < 10_000:
            return str(value)
        return format_number(value, locale)
    return str(value)


def parse_accept_language(header: str) -> list[str]:
    """The language tags of an ``Accept-Language`` header, most wanted first (q=0 left out)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:32]):
        tag, _sep, params = item.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _q, _p, tag in sorted(ranked)]


def negotiate(accept_language: str | None, chosen: str | None = None) -> str:
    """The locale to render in: ``chosen`` (the switcher's cookie) if fairdraw ships it,
    else the best match for ``Accept-Language``, else English."""
    if chosen in LOCALES:
        return chosen
    if accept_language:
        found = negotiate_locale(parse_accept_language(accept_language), LOCALES, sep="-")
        if found is not None:
            found = found.lower()
            for locale in LOCALES:
                if found == locale or found.startswith(locale + "-"):
                    return locale
    return DEFAULT_LOCALE


def format_number(value: int | float | Decimal, locale: str | None = None) -> str:
    """``value`` with the locale's digit grouping and decimal sign (1,000.5 / 1.000,5)."""
    return format_decimal(value, locale=locale or current_locale())


def format_count(
    count: int, singular: str, plural: str, locale: str | None = None, **values: object
) -> str:
    """A counted phrase: the plural form of the current locale for ``count``, with
    ``%(num)s`` the grouped number (``singular``/``plural`` are msgids, translated here)."""
    with using_locale(locale or current_locale()):
        text = ngettext(singular, plural, count)
        return text % {"num": format_number(count), **values}


def format_date(value: date | datetime, format: str = "medium", locale: str | None = None) -> str:
    """A calendar date in the locale's words (7 Dec 2026 / 07.12.2026)."""
    return babel_format_date(value, format=format, locale=locale or current_locale())


def format_datetime(
    value: datetime,
    format: str = "medium",
    locale: str | None = None,
    tzinfo: object | None = None,
) -> str:
    """A date and time in the locale's words, in ``tzinfo`` if given (time zones are the
    caller's choice: pages show instants with the ``<time>`` macro instead)."""
    return babel_format_datetime(
        value,
        format=format,
        tzinfo=tzinfo,  # type: ignore[arg-type]
        locale=locale or current_locale(),
    )
