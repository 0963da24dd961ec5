"""``/``: the draws open for entries and the latest results."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw import first_run
from fairdraw.domain.draws import DrawStatus
from fairdraw.domain.moments import now_ms
from fairdraw.web.deps import ServicesDep, VisitorDep
from fairdraw.web.pages.rendering import render
from fairdraw.web.pages.views import moment, status_of

router = APIRouter()


@router.get("/")
async def home(request: Request, services: ServicesDep, visitor: VisitorDep) -> Response:
    now = now_ms()
    draws = await services.drawing.list_recent()
    is_manager = visitor.user is not None and visitor.user.role.can_manage_draws
    open_draws = [
        {"draw": d, "deadline": moment(d.deadline_ms, d.time_zone), "status": status_of(d, now)}
        for d in draws
        if d.status is DrawStatus.open
    ]
    # Newest result first: by when the winners were drawn, not when the draw was made.
    drawn = sorted(
        (d for d in draws if d.status is DrawStatus.drawn),
        key=lambda d: d.result.drawn_ms if d.result else 0,
        reverse=True,
    )
    results = [
        {"draw": d, "drawn": moment(d.result.drawn_ms, d.time_zone) if d.result else None}
        for d in drawn
    ]
    # Drafts and closed draws matter only to the people who run them.
    pending = [
        {"draw": d, "status": status_of(d, now)}
        for d in draws
        if is_manager and d.status in (DrawStatus.draft, DrawStatus.closed)
    ]
    # A fresh instance says how to create its first administrator, in the exact words.
    first_admin = (
        first_run.admin_create_command(services.settings)
        if await services.accounts.needs_first_admin()
        else None
    )
    context = {
        "first_admin_command": first_admin,
        "open_draws": open_draws,
        "results": results,
        "pending": pending,
        "is_manager": is_manager,
    }
    return render(request, services, visitor, "home.html", context)
