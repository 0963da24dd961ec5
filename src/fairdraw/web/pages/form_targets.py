"""An address that only takes forms, opened as a page: say so and point to its page.

A receipt check, an entry or a button posts to an address such as
``/check-entry/complaint`` or ``/draws/{id}/enter``; opened from the history, a bookmark
or a shared link, it would be a bare "Method not allowed". The browser is told instead
what the address is, with a link to the nearest page above it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.routing import Match, Mount

from fairdraw.i18n import N_

FORM_TARGET_TITLE = N_("This address is not a page")
FORM_TARGET_DETAIL = N_(
    "It is where a form is sent (checking a receipt, entering, a button of a draw), "
    "so it shows nothing when opened directly. Go to the page that form is on."
)


def _has_page(request: Request, path: str) -> bool:
    probe: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": request.scope.get("app_root_path", request.scope.get("root_path", "")),
        "headers": [],
        "query_string": b"",
    }
    for route in request.app.router.routes:
        if isinstance(route, Mount):
            continue
        match, _ = route.matches(probe)
        if match is Match.FULL:
            return True
    return False


def page_above(request: Request) -> str:
    """The nearest address above the request's path that is a page (``/`` at worst)."""
    parts = request.url.path.rstrip("/").split("/")
    while len(parts) > 1:
        parts.pop()
        candidate = "/".join(parts) or "/"
        if candidate.startswith("/api/"):
            break
        if _has_page(request, candidate):
            return candidate
    return "/"
