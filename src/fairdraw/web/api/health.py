"""``/healthz``: is this process able to reach its store? ``/readyz``: can it serve now
(its store answers quickly and its scheduler loop is running, where it runs one)?"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from fairdraw.domain.errors import NotReady
from fairdraw.web.deps import ServicesDep
from fairdraw.web.problems import problem_response, problem_responses

router = APIRouter(tags=["operations"])

# A store slower than this to answer a PING is as good as gone for a load balancer.
READY_STORE_TIMEOUT_SECONDS = 1.0


@router.get("/healthz", responses={503: {"description": "The store does not answer."}})
async def health(services: ServicesDep) -> JSONResponse:
    """200 when the store answers, 503 otherwise; for load balancers and monitoring."""
    ok = await services.drawing.store_answers()
    return JSONResponse({"status": "ok" if ok else "store_unavailable"}, 200 if ok else 503)


@router.get("/readyz", responses=problem_responses(NotReady))
async def ready(request: Request, services: ServicesDep) -> Response:
    """200 when this process is ready to serve: the store answers within a second and
    the scheduler loop completed a pass recently (or the scheduler is off here). 503
    ``not_ready`` otherwise, its ``checks`` naming what is not ready."""
    checks = {"store": "ok", "scheduler": "ok"}
    try:
        async with asyncio.timeout(READY_STORE_TIMEOUT_SECONDS):
            answers = await services.drawing.store_answers()
    except TimeoutError:
        answers = False
    if not answers:
        checks["store"] = f"the store did not answer within {READY_STORE_TIMEOUT_SECONDS:g} s"
    if not services.settings.scheduler:
        checks["scheduler"] = "disabled"
    elif not services.scheduler.loop_is_current():
        checks["scheduler"] = "the scheduler loop has not completed a pass recently"
    failed = {name: state for name, state in checks.items() if state not in ("ok", "disabled")}
    if failed:
        detail = "; ".join(f"{name}: {state}" for name, state in failed.items())
        return problem_response(NotReady(detail, checks=checks), request)
    return JSONResponse({"status": "ready", "checks": checks})
