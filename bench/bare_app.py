"""The framework floor for bench_entries.py and bench_raffle.py: bare FastAPI endpoints
doing one script call each.

``POST /enter/{draw_id}`` with ``{"github": LOGIN}`` runs the real ``enter`` script once
(no profile lookup, no reference HMAC, no error mapping, no middleware) and answers 201.
``POST /claim/{draw_id}`` runs the real ``claim_ticket`` script once for the claimant
named by ``X-Forwarded-For`` (no rate limit, no address rules, no code generation, no
ticket number) and answers 201. The difference between these and fairdraw's own
endpoints is what fairdraw adds per entry or claim.

Run by the benchmarks as ``uvicorn bench.bare_app:create_app --factory --workers 2``,
with the store URL in ``FAIRDRAW_BENCH_STORE_URL``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fairdraw.gc_tuning import tune_for_serving
from fairdraw.store.connection import connect
from fairdraw.store.draws import NO_ATTEMPT_LIMIT, enter_keys
from fairdraw.store.keys import Keys
from fairdraw.store.raffles import claim_keys
from fairdraw.store.scripts import Scripts
from fairdraw.web.app import NO_FRAMEWORK_TELEMETRY

STORE_URL_VARIABLE = "FAIRDRAW_BENCH_STORE_URL"
# A fixed reference and code hash of the real lengths: the scripts store them, they do
# not read them.
_CODE_HASH = "0" * 64


class EntryIn(BaseModel):
    github: str


def create_app() -> FastAPI:
    """The bare app; the store URL comes from the environment (one app per worker)."""
    url = os.environ[STORE_URL_VARIABLE]
    keys = Keys()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = connect(url)
        app.state.scripts = Scripts(redis)
        # The same collector settings as fairdraw's served workers: the floor is the
        # framework's, not a difference in how the processes are tuned.
        tune_for_serving()
        try:
            yield
        finally:
            await redis.aclose()

    # FastAPI's own telemetry as fairdraw sets it (off), for the same reason as above.
    app = FastAPI(
        **NO_FRAMEWORK_TELEMETRY,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.get("/ready")
    async def ready() -> dict[str, bool]:
        return {"ready": True}

    @app.post("/enter/{draw_id}", status_code=201)
    async def enter(draw_id: str, body: EntryIn, request: Request) -> JSONResponse:
        scripts: Scripts = request.app.state.scripts
        created, index = (
            await scripts.call(
                "enter",
                enter_keys(keys, draw_id, body.github),
                [f"gh:{body.github}", body.github, *NO_ATTEMPT_LIMIT],
            )
        )[:2]
        return JSONResponse({"index": int(index), "created": bool(created)}, status_code=201)

    @app.post("/claim/{draw_id}", status_code=201)
    async def claim(draw_id: str, request: Request) -> JSONResponse:
        scripts: Scripts = request.app.state.scripts
        claimant = "a:" + request.headers.get("x-forwarded-for", "")
        index, claimed_ms = (
            await scripts.call(
                "claim_ticket", claim_keys(keys, draw_id), [claimant, _CODE_HASH, ""]
            )
        )[:2]
        return JSONResponse({"index": int(index), "claimed_ms": int(claimed_ms)}, status_code=201)

    return app
