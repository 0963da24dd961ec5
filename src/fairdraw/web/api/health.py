"""``/healthz``: is this process able to reach its store?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from fairdraw.web.deps import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/healthz", responses={503: {"description": "The store does not answer."}})
async def health(services: ServicesDep) -> JSONResponse:
    """200 when the store answers, 503 otherwise; for load balancers and monitoring."""
    ok = await services.drawing.store_answers()
    return JSONResponse({"status": "ok" if ok else "store_unavailable"}, 200 if ok else 503)
