"""Sharing a draw: its public address, a QR code of it, the link preview other sites
show (Open Graph and Twitter card tags), and ``/draws/{id}/embed``, the small widget the
sites its organiser lists may show in a frame.

Absolute addresses are built from the request as the client sent it: the ``Host``
header and the connection's scheme, or, when the peer is one of the operator's trusted
reverse proxies (``FAIRDRAW_TRUSTED_PROXIES``), the ``X-Forwarded-Host`` and
``X-Forwarded-Proto`` that proxy wrote.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain.draws import Draw, DrawKind, DrawStatus, WinnerView
from fairdraw.domain.moments import now_ms
from fairdraw.i18n import format_number, gettext, ngettext
from fairdraw.services.lottery_views import Lottery
from fairdraw.web.client import in_networks, parse_address
from fairdraw.web.deps import ServicesDep, services_of
from fairdraw.web.pages.time_format import moment_in
from fairdraw.web.security import framable_policy

router = APIRouter()

SITE_NAME = "fairdraw"
# A preview's description is cut here: the sites that show one cut it shorter still.
DESCRIPTION_MAX = 280
# Winners named in a preview before "and N more".
NAMED_WINNERS = 5
# The code of a draw's page changes only with the host it is reached by.
QR_CACHE_CONTROL = "public, max-age=86400"
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?")


def _last_forwarded(request: Request, name: str) -> str:
    """The value the nearest proxy appended to header ``name`` (a comma-separated list)."""
    values = [v.strip() for line in request.headers.getlist(name) for v in line.split(",")]
    return values[-1] if values else ""


def public_origin(request: Request) -> str:
    """``scheme://host[:port]`` of the address the client used to reach this server."""
    scheme, host = request.url.scheme, request.url.netloc
    peer = parse_address(request.client.host) if request.client else None
    if peer is not None and in_networks(peer, services_of(request).trusted_proxies):
        proto = _last_forwarded(request, "x-forwarded-proto").lower()
        forwarded_host = _last_forwarded(request, "x-forwarded-host")
        scheme = proto if proto in ("http", "https") else scheme
        host = forwarded_host if _HOST.fullmatch(forwarded_host) else host
    return f"{scheme}://{host}"


def public_url(request: Request, path: str) -> str:
    """The absolute address of ``path`` (which starts with ``/``) on this server."""
    return public_origin(request) + path


def draw_path(draw_id: str) -> str:
    return f"/draws/{draw_id}"


def _zone_text(ms: int, zone: str) -> str:
    """``ms`` in the draw's zone with the zone's full name, as its page shows it without
    JavaScript: a link preview runs no script."""
    return moment_in(ms, zone).text


def _winner_name(draw: Draw, winner: WinnerView) -> str:
    if draw.kind is DrawKind.raffle:
        return gettext("ticket %(number)s") % {"number": winner.ref.partition(":")[0]}
    return winner.login


def _count_text(draw: Draw) -> str:
    count = {"num": format_number(draw.entry_count)}
    if draw.raffle is not None:
        total = draw.raffle.ticket_count
        return ngettext(
            "%(num)s of %(total)s ticket claimed", "%(num)s of %(total)s tickets claimed", total
        ) % {**count, "total": format_number(total)}
    if draw.kind is DrawKind.lottery:
        return ngettext("%(num)s ballot", "%(num)s ballots", draw.entry_count) % count
    return ngettext("%(num)s entry", "%(num)s entries", draw.entry_count) % count


def state_summary(draw: Draw, now: int) -> str:
    """Where ``draw`` stands, in one line: open until when, how many entries, who won."""
    count = _count_text(draw)
    if draw.status is DrawStatus.draft:
        return gettext("Not open for entries yet.")
    if draw.status is DrawStatus.cancelled:
        return gettext("Cancelled: no winners.")
    if draw.accepting_entries(now):
        if draw.deadline_ms is None:
            return gettext("Open for entries. %(count)s.") % {"count": count}
        return gettext("Open for entries until %(deadline)s. %(count)s.") % {
            "deadline": _zone_text(draw.deadline_ms, draw.time_zone),
            "count": count,
        }
    if draw.result is None:
        return gettext("Entries closed. %(count)s. Winners not drawn yet.") % {"count": count}
    names = [_winner_name(draw, w) for w in draw.result.winners]
    shown = ", ".join(names[:NAMED_WINNERS])
    more = len(names) - NAMED_WINNERS
    if more > 0:
        shown = gettext("%(names)s and %(more)s more") % {"names": shown, "more": more}
    if names:
        return gettext("Drawn. Winners: %(names)s.") % {"names": shown}
    return gettext("Drawn. %(count)s, no winners.") % {"count": count}


def _preview_text(summary: str, description: str) -> str:
    text = f"{summary} {description}".strip() if description else summary
    text = " ".join(text.split())
    if len(text) <= DESCRIPTION_MAX:
        return text
    return text[: DESCRIPTION_MAX - 1].rstrip() + "\u2026"


@dataclass(frozen=True)
class SharePreview:
    """What partials/share_meta.html writes into a page's head."""

    title: str
    description: str
    url: str
    # The server's public origin, for the addresses the share box shows besides ``url``.
    origin: str
    site_name: str = SITE_NAME


def draw_preview(request: Request, draw: Draw) -> SharePreview:
    """The link preview of a draw's page (or its results page: ``request`` says which)."""
    summary = state_summary(draw, now_ms())
    origin = public_origin(request)
    return SharePreview(
        title=draw.title,
        description=_preview_text(summary, draw.description),
        url=origin + request.url.path,
        origin=origin,
    )


def lottery_preview(request: Request, lottery: Lottery, status: str) -> SharePreview:
    """The link preview of a lottery's page; ``status`` is "upcoming", "running" or "ended"."""
    terms = lottery.terms
    state = {
        "upcoming": gettext("Starts %(day)s.") % {"day": terms.start.isoformat()},
        "running": gettext("A draw every day at midnight (%(zone)s). Prize: %(prize)s.")
        % {"zone": terms.timezone, "prize": terms.prize},
        "ended": gettext("Ended."),
    }.get(status, "")
    origin = public_origin(request)
    return SharePreview(
        title=terms.name,
        description=_preview_text(state, terms.description),
        url=origin + request.url.path,
        origin=origin,
    )


@functools.lru_cache(maxsize=256)
def qr_svg(url: str) -> bytes:
    """A standalone SVG document of a QR code of ``url``."""
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=4, border=4, dark="#000", light="#fff", title="QR code: " + url
    )
    return out.getvalue()


@router.get("/draws/{draw_id}/qr.svg")
async def draw_qr(draw_id: str, request: Request, services: ServicesDep) -> Response:
    """A QR code of the draw's public page, as an SVG file to print or download."""
    draw = await services.drawing.get(draw_id)
    return Response(
        qr_svg(public_url(request, draw_path(draw.id))),
        media_type="image/svg+xml",
        headers={
            "Cache-Control": QR_CACHE_CONTROL,
            "Vary": "Host, X-Forwarded-Host, X-Forwarded-Proto",
            "Content-Disposition": f'inline; filename="fairdraw-{draw.id}-qr.svg"',
        },
    )


@router.get("/draws/{draw_id}/embed")
async def draw_embed(draw_id: str, request: Request, services: ServicesDep) -> Response:
    """The draw's widget for other sites' pages: its state, a way in while it takes
    entries, its winners once drawn. Only the origins its organiser listed may frame it.

    Entering happens on the draw's own page, opened in a new tab: a frame on another
    site may be refused its cookies, and with them the CSRF check of every form."""
    draw = await services.drawing.get(draw_id)
    now = now_ms()
    context: dict[str, Any] = {
        "draw": draw,
        "summary": state_summary(draw, now),
        "accepting": draw.accepting_entries(now),
        "winners": [
            (w.prize, _winner_name(draw, w)) for w in (draw.result.winners if draw.result else ())
        ],
        "page_url": public_url(request, draw_path(draw.id)),
    }
    response = services.templates.TemplateResponse(request, "embed.html", context)
    response.headers["Content-Security-Policy"] = framable_policy(draw.embed_origins)
    response.headers["Cache-Control"] = "no-cache"
    return response


# Functions every template may call (web/app.py installs them).
TEMPLATE_GLOBALS: dict[str, Any] = {
    "draw_preview": draw_preview,
    "lottery_preview": lottery_preview,
}
