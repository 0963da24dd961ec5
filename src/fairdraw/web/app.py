"""The web application: ``create_app(settings)`` builds it, the lifespan owns connections."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from fairdraw import __version__
from fairdraw.config import Settings
from fairdraw.domain.idempotency import new_key as new_form_key
from fairdraw.domain.networks import parse_networks
from fairdraw.services.accounts import AccountService
from fairdraw.services.dashboard import DashboardService
from fairdraw.services.drawing import DrawingService, announce_to
from fairdraw.services.entering import EnteringService
from fairdraw.services.entrants import EntrantsService
from fairdraw.services.forfeits import ForfeitService, announce_forfeit_to
from fairdraw.services.github import GitHubClient
from fairdraw.services.github_oauth import SIGN_IN_SECONDS, GitHubOAuth, GitHubSignIn
from fairdraw.services.idempotency import IdempotencyService
from fairdraw.services.importing import ImportingService
from fairdraw.services.live import LIVE_BLOCK_MS, LiveHub
from fairdraw.services.mail import MailService, MailWorker
from fairdraw.services.my_entries import MyEntriesService
from fairdraw.services.outbound import webhook_policy
from fairdraw.services.presenting import PresentingService
from fairdraw.services.proofs import draw_proofs
from fairdraw.services.raffles import RaffleService
from fairdraw.services.ratelimit import RateLimits
from fairdraw.services.receipts import ReceiptService
from fairdraw.services.scheduler import lottery_services
from fairdraw.services.smtp import SmtpTransport
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.services.tokens import TokenService
from fairdraw.services.webhooks import WebhookService, WebhookWorker
from fairdraw.store.accounts import AccountStore
from fairdraw.store.connection import connect
from fairdraw.store.draw_log import DrawLogStore
from fairdraw.store.draws import DrawStore
from fairdraw.store.events import EventStore
from fairdraw.store.github_sign_in import SignInStore
from fairdraw.store.idempotency import IdempotencyStore
from fairdraw.store.imports import ImportStore
from fairdraw.store.keys import Keys
from fairdraw.store.live_stats import LiveStats
from fairdraw.store.lotteries import LotteryStore
from fairdraw.store.mail import MailStore
from fairdraw.store.my_entries import MyEntriesStore
from fairdraw.store.profiles import ProfileCache
from fairdraw.store.raffles import RaffleStore
from fairdraw.store.schedule import ScheduleStore
from fairdraw.store.substitutions import SubstitutionStore
from fairdraw.store.tokens import TokenStore
from fairdraw.store.webhooks import WebhookStore
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
from fairdraw.web.idempotency import IdempotencyMiddleware, document_idempotency
from fairdraw.web.json_bodies import JsonText
from fairdraw.web.limits import RequestLimits
from fairdraw.web.pages import presenting as presenting_pages
from fairdraw.web.pages import sharing as sharing_pages
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
    return templates


def create_app(settings: Settings) -> FastAPI:
    """The fairdraw ASGI app for ``settings`` (which must carry the secret key and a
    store URL; the CLI resolves both before the app starts)."""
    secret = settings.secret_bytes()
    if not settings.redis_url:
        raise ValueError("create_app needs settings.redis_url; the CLI starts the store")
    redis_url = settings.redis_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = connect(redis_url)
        keys = Keys(settings.key_prefix)
        github = GitHubClient.from_settings(
            settings, ProfileCache(redis, keys, settings.github_cache_seconds)
        )
        draw_store = DrawStore(redis, keys)
        # fairdraw/2: the instance's signing key, the public draw log it signs, and the
        # beacon new draws bind (none: FAIRDRAW_BEACON=none, they trust the operator).
        proofs = draw_proofs(settings, DrawLogStore(redis, keys))
        signing, draw_log = proofs.signing, proofs.draw_log
        accounts = AccountService(
            AccountStore(redis, keys, secret),
            idle_seconds=settings.session_idle_seconds,
            absolute_seconds=settings.session_absolute_seconds,
            registration_open=settings.registration == "open",
        )
        limits = RateLimits.open(settings, redis_url, keys)
        raffle_store = RaffleStore(redis, keys)
        tickets = TicketLedger(draw_store, raffle_store)
        schedule = ScheduleStore(redis, keys)
        # Dashboard reads, and the activity index the entry services write.
        live_stats = LiveStats(redis, keys)
        # Each user's "My entries" list, written by the entry, claim and ballot services.
        mine = MyEntriesStore(redis, keys)
        # Organisers' webhooks: the draw services announce events, a worker delivers them.
        webhooks = WebhookService(
            WebhookStore(redis, keys),
            draw_store,
            secret,
            allow_http=settings.webhook_allow_http,
            manager_networks=parse_networks(settings.manager_networks),
        )
        # E-mail notices (FAIRDRAW_SMTP_HOST), queued where draws are drawn.
        mail = MailService(
            MailStore(redis, keys),
            AccountStore(redis, keys, secret),
            draw_store,
            secret,
            transport=SmtpTransport.from_settings(settings),
            public_url=settings.public_url,
        )
        drawing = DrawingService(
            draw_store,
            github,
            manager_networks=parse_networks(settings.manager_networks),
            tickets=tickets,
            schedule=schedule,
            proofs=proofs,
            announce=announce_to(webhooks.announce, mail.announce),
            github_sign_in=settings.github_sign_in,
        )
        # Forfeit and promote of drawn winners, logged and announced like the draw.
        forfeits = ForfeitService(
            draw_store,
            SubstitutionStore(redis, keys),
            proofs,
            manager_networks=parse_networks(settings.manager_networks),
            announce=announce_forfeit_to(webhooks.forfeited, mail.forfeited),
        )
        lotteries, scheduler = lottery_services(
            settings,
            LotteryStore(redis, keys),
            schedule,
            drawing,
            limits,
            activity=live_stats,
            mine=mine,
        )
        # Blocking reads of event streams wait up to LIVE_BLOCK_MS on their own pool.
        reader = connect(
            redis_url,
            max_connections=settings.live_max_readers,
            read_timeout=LIVE_BLOCK_MS / 1000 + 10,
        )
        live = LiveHub(
            EventStore(redis, keys, reader),
            tickets.numbering,
            block_ms=LIVE_BLOCK_MS,
            queue_size=settings.live_queue_size,
            buffer_bytes=settings.live_buffer_bytes,
            count_interval=settings.live_count_interval_seconds,
            connections_per_address=settings.live_connections_per_address,
        )
        live_api.end_feeds_on_signals(live)
        sampler = metrics_api.observe_process({"main": redis, "live": reader})
        app.state.process_sampler = sampler
        entering = EnteringService(
            draw_store,
            github,
            limits,
            seal_chunk=drawing.seal_chunk,
            activity=live_stats,
            mine=mine,
            signing=signing,
            entries_counted=webhooks.entry_milestone,
        )
        # Entrants who prove their GitHub account (with the OAuth app's credentials).
        github_oauth = GitHubOAuth.from_settings(settings)
        app.state.services = Services(
            settings=settings,
            secret=secret,
            drawing=drawing,
            entering=entering,
            github_sign_in=GitHubSignIn(
                github_oauth,
                SignInStore(redis, keys, SIGN_IN_SECONDS),
                draw_store,
                entering,
            ),
            raffles=RaffleService(
                draw_store,
                raffle_store,
                tickets,
                limits,
                secret,
                seal=drawing.seal_closed,
                activity=live_stats,
                mine=mine,
                signing=signing,
                standing=forfeits.standing,
            ),
            accounts=accounts,
            tokens=TokenService(
                TokenStore(redis, keys, secret),
                accounts,
                AccountStore(redis, keys, secret),
                access_seconds=settings.access_token_seconds,
                refresh_seconds=settings.refresh_token_seconds,
                limits=limits,
            ),
            lotteries=lotteries,
            scheduler=scheduler,
            templates=create_templates(),
            limits=limits,
            live=live,
            dashboard=DashboardService(
                draw_store,
                live_stats,
                tickets,
                lotteries,
                manager_networks=parse_networks(settings.manager_networks),
            ),
            presenting=PresentingService(draw_store, drawing),
            idempotency=IdempotencyService(
                IdempotencyStore(redis, keys),
                secret,
                ttl_seconds=settings.idempotency_seconds,
                lease_seconds=settings.idempotency_lease_seconds,
            ),
            my_entries=MyEntriesService(mine, tickets, forfeits.substitutions),
            signing=signing,
            draw_log=draw_log,
            receipts=ReceiptService(draw_store, tickets, signing),
            entrants=EntrantsService(
                draw_store,
                live_stats,
                tickets,
                lotteries,
                manager_networks=parse_networks(settings.manager_networks),
                substitutions=forfeits.substitutions,
            ),
            webhooks=webhooks,
            mail=mail,
            importing=ImportingService(
                draw_store,
                ImportStore(redis, keys),
                drawing,
                proofs,
                max_rows=settings.import_max_rows,
                max_bytes=settings.max_body_bytes,
            ),
            forfeits=forfeits,
            trusted_proxies=parse_networks(settings.trusted_proxies),
        )
        # Every process runs a scheduler; the lease in the store lets one of them act.
        stop = asyncio.Event()
        running = asyncio.create_task(scheduler.run(stop)) if settings.scheduler else None
        # Webhooks are delivered by the process whose scheduler holds the lease.
        worker = WebhookWorker(
            webhooks,
            schedule,
            scheduler.instance,
            interval_seconds=settings.scheduler_interval_seconds,
            policy=webhook_policy(settings),
        )
        delivering = asyncio.create_task(worker.run(stop)) if settings.scheduler else None
        mailer = MailWorker(
            mail, schedule, scheduler.instance, interval_seconds=settings.scheduler_interval_seconds
        )
        mailing = asyncio.create_task(mailer.run(stop)) if settings.scheduler else None
        try:
            yield
        finally:
            stop.set()
            if running is not None:
                await running
            if delivering is not None:
                await delivering
            if mailing is not None:
                await mailing
            await limits.aclose()
            await github.aclose()
            if github_oauth is not None:
                await github_oauth.aclose()
            await proofs.aclose()
            live.close()
            await sampler.stop()
            await reader.aclose()
            await redis.aclose()

    app = live_api.LiveFastAPI(
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
    app.add_middleware(SessionCookieRenewal)
    # Outermost: it times the whole request and its id is in every log line of it.
    app.add_middleware(metrics_api.ObservedRequests)
    app.mount("/static", StaticFiles(directory=str(WEB.joinpath("static"))), name="static")
    app.include_router(health_api.router)
    app.include_router(metrics_api.router)
    app.include_router(session_api.router)
    app.include_router(users_api.router)
    app.include_router(auth_api.router)
    app.include_router(entrants_api.router)
    app.include_router(forfeits_api.router)
    app.include_router(draws_api.router)
    app.include_router(imports_api.router)
    app.include_router(raffles_api.router)
    app.include_router(lotteries_api.router)
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
    return create_app(Settings())
