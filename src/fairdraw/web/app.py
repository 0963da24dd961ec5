"""The web application: ``create_app(settings)`` builds it, the lifespan owns connections."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from fairdraw import __version__, gc_tuning
from fairdraw.composition import build
from fairdraw.config import Settings
from fairdraw.domain.idempotency import new_key as new_form_key
from fairdraw.web import live as live_api
from fairdraw.web import metrics as metrics_api
from fairdraw.web import pages
from fairdraw.web.api import account as account_api
from fairdraw.web.api import auth as auth_api
from fairdraw.web.api import dashboard as dashboard_api
from fairdraw.web.api import draws as draws_api
from fairdraw.web.api import entrants as entrants_api
from fairdraw.web.api import forfeits as forfeits_api
from fairdraw.web.api import health as health_api
from fairdraw.web.api import imports as imports_api
from fairdraw.web.api import log as log_api
from fairdraw.web.api import lotteries as lotteries_api
from fairdraw.web.api import me as me_api
from fairdraw.web.api import presenting as presenting_api
from fairdraw.web.api import raffles as raffles_api
from fairdraw.web.api import receipts as receipts_api
from fairdraw.web.api import session as session_api
from fairdraw.web.api import users as users_api
from fairdraw.web.api import webhooks as webhooks_api
from fairdraw.web.deps import Services
from fairdraw.web.i18n import RequestLocale, install_i18n
from fairdraw.web.idempotency import IdempotencyMiddleware, document_idempotency
from fairdraw.web.json_bodies import JsonText
from fairdraw.web.limits import RequestLimits
from fairdraw.web.pages import presenting as presenting_pages
from fairdraw.web.pages import sharing as sharing_pages
from fairdraw.web.pages.time_format import install_time_format
from fairdraw.web.problems import install_error_handlers
from fairdraw.web.security import SecurityHeaders, SessionCookieRenewal

log = logging.getLogger("fairdraw.web")

WEB = resources.files("fairdraw.web")


def create_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(WEB.joinpath("templates")))
    # The public draw pages render the live reveal panel from the draw they show.
    templates.env.globals.update(presenting_pages.TEMPLATE_GLOBALS)
    # Their link previews and share box too (absolute addresses, the draw's state).
    templates.env.globals.update(sharing_pages.TEMPLATE_GLOBALS)
    # Every form that changes something carries a fresh idempotency key (macros.html).
    templates.env.globals["new_form_key"] = new_form_key
    # _(), ngettext, {% trans %} and the number/date filters in the request's locale.
    install_i18n(templates.env)
    # Every instant as one <time> element (the `when` filter) and the zone picker.
    install_time_format(templates.env)
    return templates


# FastAPI's own OpenTelemetry (in its newer releases), off: fairdraw's metrics are its
# Prometheus counters (/metrics, docs/operations.md), and with telemetry on, every request
# looks up the global OpenTelemetry providers (about 1.5 % of an entry's web CPU).
NO_FRAMEWORK_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI).parameters
    else {}
)


def create_app(settings: Settings, *, serving: bool = False) -> FastAPI:
    """The fairdraw ASGI app for ``settings`` (which must carry the secret key and a
    store URL; the CLI resolves both before the app starts)."""
    settings.secret_bytes()  # refuses settings without a secret key now, not at startup
    if not settings.redis_url:
        raise ValueError("create_app needs settings.redis_url; the CLI starts the store")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await build(settings)
        live_api.end_feeds_on_signals(runtime.live)
        sampler = metrics_api.observe_process(runtime.pool_usage)
        app.state.process_sampler = sampler
        app.state.services = Services(
            settings=settings,
            secret=runtime.secret,
            drawing=runtime.drawing,
            entering=runtime.entering,
            github_sign_in=runtime.github_sign_in,
            raffles=runtime.raffles,
            accounts=runtime.accounts,
            tokens=runtime.tokens,
            lotteries=runtime.lotteries,
            scheduler=runtime.scheduler,
            templates=create_templates(),
            limits=runtime.limits,
            live=runtime.live,
            dashboard=runtime.dashboard,
            presenting=runtime.presenting,
            idempotency=runtime.idempotency,
            my_entries=runtime.my_entries,
            signing=runtime.signing,
            draw_log=runtime.draw_log,
            receipts=runtime.receipts,
            entrants=runtime.entrants,
            webhooks=runtime.webhooks,
            mail=runtime.mail,
            importing=runtime.importing,
            forfeits=runtime.forfeits,
            trusted_proxies=runtime.trusted_proxies,
        )
        # Every process runs a scheduler (and the webhook and e-mail workers beside it);
        # the lease in the store lets one of them act.
        if serving:
            gc_tuning.tune_for_serving()
        stop = asyncio.Event()
        background = (
            asyncio.create_task(runtime.run_background(stop)) if settings.scheduler else None
        )
        try:
            yield
        finally:
            stop.set()
            if background is not None:
                await background
            await sampler.stop()
            await runtime.aclose()

    app = live_api.LiveFastAPI(
        **NO_FRAMEWORK_TELEMETRY,
        title="fairdraw",
        version=__version__,
        description="Provably fair prize draws. Errors are RFC 9457 problem+json documents "
        "with a stable `code`.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # Innermost of all: keyed API calls are kept and replayed with their body already
    # checked by the request limits, and their replays get every header added outside.
    app.add_middleware(IdempotencyMiddleware)
    # A JSON body that is not text is refused before it is kept or read (within the limits).
    app.add_middleware(JsonText)
    # Before anything reads a body; inside the headers, request id and metrics it refuses with.
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    # The request's language, worked out only when a page or problem is put into words.
    app.add_middleware(RequestLocale)
    app.add_middleware(SessionCookieRenewal)
    # Outermost: it times the whole request and its id is in every log line of it.
    app.add_middleware(metrics_api.ObservedRequests)
    app.mount("/static", StaticFiles(directory=str(WEB.joinpath("static"))), name="static")
    # Routes are matched in order: the busiest (entries, claims, ballots) come first, so
    # their requests are not tried against every other route before them.
    # The busiest routes on the app's own router, first (web/acting.py).
    for hot in (draws_api.entries, lotteries_api.ballots, raffles_api.claims):
        hot.add_to(app.router)
    app.include_router(raffles_api.router)
    app.include_router(draws_api.router)
    app.include_router(lotteries_api.router)
    app.include_router(health_api.router)
    app.include_router(metrics_api.router)
    app.include_router(session_api.router)
    app.include_router(users_api.router)
    app.include_router(auth_api.router)
    app.include_router(entrants_api.router)
    app.include_router(forfeits_api.router)
    app.include_router(imports_api.router)
    app.include_router(me_api.router)
    app.include_router(account_api.router)
    app.include_router(dashboard_api.router)
    app.include_router(presenting_api.router)
    app.include_router(log_api.router)
    app.include_router(receipts_api.router)
    app.include_router(webhooks_api.router)
    app.include_router(live_api.router)
    app.include_router(pages.router)
    install_error_handlers(app, pages.render_error_page)
    document_idempotency(app)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for server workers: settings come from the environment the CLI prepared."""
    return create_app(Settings(), serving=True)
