"""``/locale``: the language switcher of every page's footer remembers its choice."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw import i18n
from fairdraw.domain.errors import InvalidInput
from fairdraw.web import security
from fairdraw.web.deps import ServicesDep
from fairdraw.web.i18n import LOCALE_COOKIE, LOCALE_COOKIE_SECONDS
from fairdraw.web.pages.rendering import local_path, see_other

router = APIRouter()


@router.get("/locale")
async def switch_locale(
    request: Request, services: ServicesDep, lang: str = "", next: str = "/"
) -> Response:
    """Answer in ``lang`` from now on (a cookie), back to ``next`` if it is on this site.

    A GET link, not a form: it changes only how this browser is spoken to, so a page
    elsewhere that links here can do no more than a visitor clicking the switcher."""
    if lang not in i18n.LOCALES:
        choices = ", ".join(i18n.LOCALES)
        raise InvalidInput(
            {"lang": i18n.gettext("Choose one of: %(choices)s") % {"choices": choices}}
        )
    response = see_other(local_path(next) or "/")
    response.set_cookie(
        LOCALE_COOKIE,
        lang,
        max_age=LOCALE_COOKIE_SECONDS,
        samesite="lax",
        secure=security.cookie_secure(request, services.settings.cookie_secure),
        path="/",
    )
    return response
