"""The request's language: the switcher's cookie, else ``Accept-Language``, else English.

:class:`RequestLocale` (pure ASGI) only remembers the request's headers; the locale is
worked out the first time something is rendered in words (a page, a problem document),
so the JSON entry path, which answers in numbers and codes, never pays for it.
:func:`install_i18n` gives every template ``_()``, ``gettext``, ``ngettext``,
``{% trans %}`` and the formatting filters (docs/operations.md, "Languages").
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

from jinja2 import Environment
from starlette.types import ASGIApp, Receive, Scope, Send

from fairdraw import i18n
from fairdraw.web.script_text import script_messages

LOCALE_COOKIE = "fairdraw_lang"
# A year: the choice is a preference, not a session.
LOCALE_COOKIE_SECONDS = 365 * 24 * 3600


def locale_of_headers(headers: list[tuple[bytes, bytes]]) -> str:
    """The locale a request with ``headers`` (ASGI, lower-case names) is answered in."""
    chosen: str | None = None
    accept: str | None = None
    for name, value in headers:
        if name == b"cookie" and chosen is None:
            chosen = _cookie_value(value.decode("latin-1"))
        elif name == b"accept-language" and accept is None:
            accept = value.decode("latin-1")
    return i18n.negotiate(accept, chosen)


def _cookie_value(header: str) -> str | None:
    if LOCALE_COOKIE not in header:
        return None
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(header)
    except Exception:  # a malformed Cookie header is simply no choice
        return None
    morsel = cookie.get(LOCALE_COOKIE)
    return morsel.value if morsel is not None else None


class RequestLocale:
    """Pure ASGI middleware: the locale of each HTTP request, found when first asked."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found: list[str] = []

        def resolve() -> str:
            if not found:
                found.append(locale_of_headers(scope["headers"]))
            return found[0]

        token = i18n.set_locale_resolver(resolve)
        try:
            await self.app(scope, receive, send)
        finally:
            i18n.reset_locale(token)


def switch_url(code: str, path: str, query: str = "") -> str:
    """The switcher's link to ``code`` that comes back to ``path?query``."""
    back = path + (f"?{query}" if query else "")
    return f"/locale?lang={quote(code)}&next={quote(back, safe='/')}"


def _switch_url_of(request: Any, code: str) -> str:
    return switch_url(code, request.url.path, request.url.query)


def install_i18n(env: Environment) -> None:
    """``_()``/``gettext``/``ngettext``/``{% trans %}`` (newstyle: ``%(name)s`` values are
    escaped) in the request's locale, and the filters ``translated``, ``number``,
    ``date``, ``datetime``; ``current_locale()`` for ``<html lang>``."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext,
        i18n.ngettext,
        newstyle=True,
        pgettext=i18n.pgettext,
        npgettext=i18n.npgettext,
    )
    # A message made elsewhere (a domain error's field message), in the request's
    # language if the catalogue has it; unlike _() it is never %-formatted.
    env.filters["translated"] = i18n.gettext
    env.filters["number"] = i18n.format_number
    env.filters["date"] = i18n.format_date
    env.filters["datetime"] = i18n.format_datetime
    env.globals["current_locale"] = i18n.current_locale
    env.globals["languages"] = i18n.LANGUAGES
    env.globals["locale_switch_url"] = _switch_url_of
    env.globals["script_messages"] = script_messages
