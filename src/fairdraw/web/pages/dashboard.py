"""The organiser dashboards: ``/draws/{id}/dashboard`` (giveaways and raffles),
``/lotteries/{id}/dashboard`` (today's round) and the administrators' ``/admin/activity``.
The JSON twins are in :mod:`fairdraw.web.api.dashboard`; who may look is the dashboard
service's decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain.draws import Draw, DrawKind, DrawStatus
from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.moments import MINUTE_MS, iso, now_ms
from fairdraw.i18n import N_, format_number, gettext
from fairdraw.services.dashboard import RECENT_ENTRIES, SEARCH_LIMIT
from fairdraw.services.dashboard_views import Chart, EntryView, Window
from fairdraw.web.api.dashboard import private_feed
from fairdraw.web.deps import Services, ServicesDep, Visitor, VisitorDep
from fairdraw.web.pages.lottery_views import day_text
from fairdraw.web.pages.rendering import render
from fairdraw.web.pages.views import Moment, draw_page, duration_text, moment, moment_of_iso

router = APIRouter()

_MINUTE_FORMAT = "%-d %b, %H:%M UTC"
_LABELS: dict[DrawKind, dict[str, str]] = {
    DrawKind.giveaway: {
        "plural": N_("entries"),
        "singular": N_("entry"),
        "number": N_("Entry"),
        "who": N_("Entrant"),
        "noun": N_("draw"),
    },
    DrawKind.raffle: {
        "plural": N_("claims"),
        "singular": N_("claim"),
        "number": N_("Ticket"),
        "who": N_("Holder"),
        "noun": N_("raffle"),
    },
    DrawKind.lottery: {
        "plural": N_("ballots"),
        "singular": N_("ballot"),
        "number": N_("Ballot"),
        "who": N_("Participant"),
        "noun": N_("round"),
    },
}


def _labels(kind: DrawKind) -> dict[str, str]:
    """The words a dashboard uses for ``kind``, in the request's language."""
    return {name: gettext(word) for name, word in _LABELS[kind].items()}


@dataclass(frozen=True)
class EntryRow:
    index: int
    number: int
    who: str
    at: Moment


@dataclass(frozen=True)
class ChartRow:
    minute: int
    iso: str
    text: str
    count: int


@dataclass(frozen=True)
class ChartView:
    """The chart as the page shows it: one table row per bucket, and a sentence."""

    bucket_minutes: int
    bucket_text: str
    rows: list[ChartRow]
    summary: str
    # The summary's words, for dashboard.js to say it again as entries arrive.
    period: str
    which: str


def entry_rows(views: list[EntryView]) -> list[EntryRow]:
    rows = []
    for v in views:
        at = moment_of_iso(v.at) or Moment(v.at, v.at)
        rows.append(EntryRow(v.index, v.number, v.who, at))
    return rows


def _minute_text(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, tz=UTC).strftime(_MINUTE_FORMAT)


def chart_view(chart: Chart, items: str, whole: str) -> ChartView:
    """Rows and a one-sentence summary: the chart's text alternative."""
    size = chart.bucket_minutes
    bucket = gettext("minute") if size == 1 else duration_text(size * MINUTE_MS)
    rows = [
        ChartRow(m, iso(m * MINUTE_MS), _minute_text(m), c)
        for m, c in ((chart.minute_of(i), c) for i, c in enumerate(chart.counts))
    ]
    if chart.window is Window.hour:
        period = gettext("in the last hour")
    else:
        period = gettext("over %(whole)s") % {"whole": whole}
    busiest = chart.busiest
    which = gettext("minute") if size == 1 else gettext("%(bucket)s stretch") % {"bucket": bucket}
    if busiest is None:
        summary = gettext("No %(items)s %(period)s.") % {"items": items, "period": period}
    else:
        minute, count = busiest
        summary = gettext(
            "%(total)s %(items)s %(period)s; the busiest %(which)s began %(when)s, with %(count)s."
        ) % {
            "total": format_number(chart.total),
            "items": items,
            "period": period,
            "which": which,
            "when": _minute_text(minute),
            "count": format_number(count),
        }
    return ChartView(size, bucket, rows, summary, period, which)


def _url(path: str, **query: str) -> str:
    encoded = urlencode({k: v for k, v in query.items() if v})
    return path + (f"?{encoded}" if encoded else "")


def _window(raw: str) -> Window:
    # A page falls back to its default rather than refusing a mistyped link.
    try:
        return Window.parse(raw)
    except InvalidInput:
        return Window.hour


def _proof(draw: Draw) -> dict[str, Any]:
    """The proof's state in words, with where to get it."""
    base = f"/api/v1/draws/{draw.id}"
    if draw.status is DrawStatus.drawn:
        return {
            "text": gettext(
                "The winners are drawn and the proof bundle is published: anyone can "
                "check the draw with fairdraw verify."
            ),
            "links": [
                {"url": f"/draws/{draw.id}/results", "text": gettext("Results"), "download": False},
                {"url": f"{base}/proof", "text": gettext("Proof bundle"), "download": True},
                {"url": f"{base}/entries.txt", "text": gettext("Entries file"), "download": True},
            ],
        }
    if draw.status is DrawStatus.cancelled:
        text = gettext("Cancelled: no winners will be drawn, so there is no proof.")
        return {"text": text, "links": []}
    if draw.seal is not None:
        return {
            "text": gettext(
                "Sealed: the list is fixed by its Merkle root; the proof is published "
                "when the winners are drawn."
            ),
            "links": [
                {"url": f"{base}/entries.txt", "text": gettext("Entries file"), "download": True}
            ],
        }
    if draw.status is DrawStatus.open:
        text = gettext("Open: the list is sealed when it closes, and the proof follows the draw.")
    else:
        text = gettext("Not open yet: the seed commitment is published when it opens.")
    return {"text": text, "links": []}


async def _search(
    services: Services, visitor: Visitor, q: str, target: str, *, lottery: bool
) -> tuple[list[EntryRow] | None, str | None, int]:
    """Search results for ``q`` (None without a search), the error, the status code."""
    if not q.strip():
        return None, None, 200
    try:
        if lottery:
            found = await services.dashboard.lottery_search(visitor.caller, target, q)
        else:
            found = await services.dashboard.search(visitor.caller, target, q)
    except InvalidInput as error:
        return None, gettext(error.errors.get("q", error.detail)), error.status
    return entry_rows(found), None, 200


def _search_help(kind: DrawKind) -> str:
    if kind is DrawKind.raffle:
        return gettext(
            "The start of an account name (two characters or more), or a ticket number. "
            "Anonymous tickets are found by their number."
        )
    return gettext("Two characters or more: the start of the name is enough; case does not matter.")


@router.get("/draws/{draw_id}/dashboard")
async def draw_dashboard(
    draw_id: str,
    request: Request,
    services: ServicesDep,
    visitor: VisitorDep,
    window: str = "",
    q: str = "",
) -> Response:
    """The draw's entries per minute, latest entries, search, fairness and buttons."""
    chosen = _window(window)
    found = await services.dashboard.draw_dashboard(visitor.caller, draw_id, chosen)
    draw = found.draw
    labels = _labels(draw.kind)
    results, error, status_code = await _search(services, visitor, q, draw_id, lottery=False)
    path = f"/draws/{draw_id}/dashboard"
    noun = labels["noun"]
    context = {
        "draw": draw,
        "view": draw_page(draw, visitor.user, now_ms()),
        "heading": draw.title,
        "labels": labels,
        "chart": chart_view(
            found.chart, labels["plural"], gettext("the whole %(noun)s") % {"noun": noun}
        ),
        "recent": entry_rows(found.recent),
        "recent_max": RECENT_ENTRIES,
        "q": q.strip(),
        "results": results,
        "search_error": error,
        "search_limit": SEARCH_LIMIT,
        "search_action": path,
        "search_api": f"/api/v1/draws/{draw_id}/entries",
        "search_label": gettext("GitHub login, account name or ticket number")
        if draw.kind is DrawKind.raffle
        else gettext("GitHub login or account name"),
        "search_help": _search_help(draw.kind),
        "window": chosen.value,
        "window_urls": {"hour": _url(path), "all": _url(path, window="all")},
        "whole_label": gettext("Whole %(noun)s") % {"noun": noun},
        "live": {
            "feed": private_feed(draw_id),
            "last": found.last_event_id,
            "status": draw.status.value,
            "length": found.length,
            "rolling": draw.status is DrawStatus.open,
        },
        "proof": _proof(draw),
        "back": {
            "url": f"/draws/{draw_id}",
            "text": gettext("Back to the %(noun)s's page") % {"noun": noun},
        },
    }
    return render(request, services, visitor, "dashboard.html", context, status_code=status_code)


@router.get("/lotteries/{lottery_id}/dashboard")
async def lottery_dashboard(
    lottery_id: str,
    request: Request,
    services: ServicesDep,
    visitor: VisitorDep,
    window: str = "",
    q: str = "",
) -> Response:
    """Today's round of a lottery: ballots per minute, latest ballots, search and the
    participants with the most ballots today and of all time."""
    chosen = _window(window)
    found = await services.dashboard.lottery_dashboard(visitor.caller, lottery_id, chosen)
    labels = _labels(DrawKind.lottery)
    results, error, status_code = await _search(services, visitor, q, lottery_id, lottery=True)
    path = f"/lotteries/{lottery_id}/dashboard"
    draw = found.draw
    public_feed = f"/api/v1/draws/{found.round_id}/events"
    context = {
        "draw": draw,
        "view": draw_page(draw, visitor.user, now_ms()) if draw is not None else None,
        "lottery": found.lottery,
        "today": day_text(found.day),
        "round_id": found.round_id,
        "top": found.top,
        "ballots": draw.entry_count if draw is not None else 0,
        "heading": found.lottery.terms.name,
        "labels": labels,
        "chart": chart_view(found.chart, labels["plural"], gettext("the whole day")),
        "recent": entry_rows(found.recent),
        "recent_max": RECENT_ENTRIES,
        "q": q.strip(),
        "results": results,
        "search_error": error,
        "search_limit": SEARCH_LIMIT,
        "search_action": path,
        # Until the day's first ballot there is no round to ask; the form still works.
        "search_api": f"/api/v1/draws/{found.round_id}/entries" if draw is not None else "",
        "search_label": gettext("Account name"),
        "search_help": gettext("Two characters or more of a participant's account name."),
        "window": chosen.value,
        "window_urls": {"hour": _url(path), "all": _url(path, window="all")},
        "whole_label": gettext("Whole day"),
        "live": {
            # Before the day's first ballot the round has no private feed yet: the public
            # one announces the round opening, and live.js then loads this page again,
            # which names the private feed.
            "feed": private_feed(found.round_id) if draw is not None else public_feed,
            "last": found.last_event_id,
            "status": draw.status.value if draw is not None else "",
            "length": found.length,
            "rolling": draw is not None and draw.status is DrawStatus.open,
        },
        "opened": moment(draw.opened_ms, draw.time_zone) if draw is not None else None,
        "back": {"url": f"/lotteries/{lottery_id}", "text": gettext("Back to the lottery's page")},
    }
    return render(
        request, services, visitor, "dashboard_lottery.html", context, status_code=status_code
    )


@router.get("/admin/activity")
async def activity(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    """The instance's draws with the most entries in the last 24 hours (administrators)."""
    rows = await services.dashboard.activity(visitor.caller)
    context = {
        "rows": [
            {"row": r, "last": moment(r.draw.last_minute * MINUTE_MS), "labels": _kind(r.draw.kind)}
            for r in rows
        ],
    }
    return render(request, services, visitor, "dashboard_activity.html", context)


def _kind(kind: str) -> dict[str, str]:
    try:
        return _LABELS[DrawKind(kind)]
    except ValueError:
        return _LABELS[DrawKind.giveaway]
