"""``/draws/{id}/results``: the winners, big-screen friendly, with everything needed to
check them."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fairdraw.domain import zones
from fairdraw.domain.draws import Draw
from fairdraw.domain.errors import LotteryNotFound
from fairdraw.web.deps import Services, ServicesDep, VisitorDep
from fairdraw.web.pages.forfeits import current_result
from fairdraw.web.pages.rendering import render
from fairdraw.web.pages.views import initials, moment

router = APIRouter()


async def _in_lottery_zone(services: Services, draw: Draw) -> Draw:
    """A lottery round as its lottery's pages show it: rounds drawn before rounds stored
    their zone read as UTC, so they take their lottery's zone (a round of a lottery in
    UTC, or of one since removed, stays as it is)."""
    if not draw.lottery_id or draw.time_zone != zones.DEFAULT_ZONE:
        return draw
    try:
        lottery = await services.lotteries.get(draw.lottery_id)
    except LotteryNotFound:
        return draw
    return dataclasses.replace(draw, time_zone=lottery.terms.timezone)


@router.get("/draws/{draw_id}/results")
async def show_results(
    draw_id: str, request: Request, services: ServicesDep, visitor: VisitorDep
) -> Response:
    """The result; before the draw, a short page saying so (200: nothing is wrong)."""
    draw = await _in_lottery_zone(services, await services.drawing.get(draw_id))
    due = moment(draw.seal.beacon_due_ms if draw.seal else None, draw.time_zone)
    if draw.result is None:
        not_drawn = {"draw": draw, "beacon_due": due}
        return render(request, services, visitor, "not_drawn.html", not_drawn)
    # The winners as they stand after any forfeits, with the forfeits themselves.
    current = current_result(draw, await services.forfeits.substitutions(draw.id))
    context = {
        "draw": draw,
        "result": draw.result,
        "prizes": current.prizes,
        "current": current,
        "drawn": moment(draw.result.drawn_ms, draw.time_zone),
        "sealed": moment(draw.seal.sealed_ms if draw.seal else None, draw.time_zone),
        "beacon_due": due,
        "seed": str(draw.result.bundle.get("seed", "")),
        "algorithm": str(draw.result.bundle.get("algorithm", "")),
        "initials": initials,
        "proof_file": f"fairdraw-{draw.id}-proof.json",
        "entries_file": f"fairdraw-{draw.id}-entries.txt",
        "substitutions_file": f"fairdraw-{draw.id}-substitutions.json",
    }
    return render(request, services, visitor, "results.html", context)
