"""The composition root: every store and service of a running fairdraw, built from its
settings in one place.

The web app's lifespan, the ``fairdraw`` command (``serve``'s first-start chores, the
``scheduler`` and the ``admin`` commands) and the tests all take their services from
here, so a new store or service is wired once. Nothing above this module constructs a
store; ``web/`` never imports ``fairdraw.store`` at all.

:func:`open_runtime` (or :func:`build` and :meth:`Runtime.aclose`) owns the store
connections: the main pool every store shares, the pool of blocking live-feed reads, the
rate limits' own client, and the HTTP clients of GitHub, its sign-in and the beacon.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fairdraw.config import Settings
from fairdraw.domain.networks import IPNetwork, parse_networks
from fairdraw.domain.signing import SigningKey
from fairdraw.services.accounts import AccountService
from fairdraw.services.dashboard import DashboardService
from fairdraw.services.draw_log import DrawLogService
from fairdraw.services.drawing import DrawingService, announce_to
from fairdraw.services.entering import EnteringService
from fairdraw.services.entrants import EntrantsService
from fairdraw.services.forfeits import ForfeitService, announce_forfeit_to
from fairdraw.services.github import GitHubClient
from fairdraw.services.github_oauth import SIGN_IN_SECONDS, GitHubOAuth, GitHubSignIn
from fairdraw.services.idempotency import IdempotencyService
from fairdraw.services.importing import ImportingService
from fairdraw.services.live import LIVE_BLOCK_MS, LiveHub
from fairdraw.services.lotteries import LotteryService
from fairdraw.services.mail import MailService, MailWorker
from fairdraw.services.my_entries import MyEntriesService
from fairdraw.services.outbound import webhook_policy
from fairdraw.services.presenting import PresentingService
from fairdraw.services.proofs import draw_proofs
from fairdraw.services.raffles import RaffleService
from fairdraw.services.ratelimit import RateLimits
from fairdraw.services.receipts import ReceiptService
from fairdraw.services.scheduler import Scheduler, lottery_services
from fairdraw.services.smtp import SmtpTransport
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.services.tokens import TokenService
from fairdraw.services.webhooks import WebhookService, WebhookWorker
from fairdraw.store.accounts import AccountStore
from fairdraw.store.connection import StoreClient, connect, pool_usage
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

# A store pool's connections: in use, idle, and the most it may open.
PoolUsage = tuple[int, int, int]


@dataclass(eq=False)
class Runtime:
    """Every service of one fairdraw process, over one set of store connections.

    The background work (the lottery scheduler, webhook deliveries, e-mail notices) runs
    in :meth:`run_background`; only the holder of the scheduler's lease in the store acts.
    """

    settings: Settings
    secret: bytes
    accounts: AccountService
    tokens: TokenService
    drawing: DrawingService
    entering: EnteringService
    github_sign_in: GitHubSignIn
    raffles: RaffleService
    lotteries: LotteryService
    scheduler: Scheduler
    limits: RateLimits
    live: LiveHub
    dashboard: DashboardService
    presenting: PresentingService
    idempotency: IdempotencyService
    my_entries: MyEntriesService
    signing: SigningKey
    draw_log: DrawLogService
    receipts: ReceiptService
    entrants: EntrantsService
    webhooks: WebhookService
    mail: MailService
    importing: ImportingService
    forfeits: ForfeitService
    webhook_worker: WebhookWorker
    mail_worker: MailWorker
    trusted_proxies: tuple[IPNetwork, ...]
    _pools: dict[str, StoreClient] = field(repr=False)
    _closers: list[Callable[[], Awaitable[None]]] = field(repr=False)

    def pool_usage(self) -> dict[str, PoolUsage]:
        """Each store pool's connections by name (``main``, ``live``), for the metrics."""
        return {name: pool_usage(client) for name, client in self._pools.items()}

    async def run_background(self, stop: asyncio.Event) -> None:
        """Run the scheduler, the webhook deliveries and the e-mail notices until ``stop``
        is set."""
        await asyncio.gather(
            self.scheduler.run(stop), self.webhook_worker.run(stop), self.mail_worker.run(stop)
        )

    async def aclose(self) -> None:
        """End the live feeds and close every connection the runtime opened."""
        self.live.close()
        for close in self._closers:
            await close()


def account_service(client: StoreClient, settings: Settings) -> AccountService:
    """The account service over ``client``, as ``settings`` configure sessions."""
    return AccountService(
        AccountStore(client, Keys(settings.key_prefix), settings.secret_bytes()),
        idle_seconds=settings.session_idle_seconds,
        absolute_seconds=settings.session_absolute_seconds,
        registration_open=settings.registration == "open",
    )


def _store_url(settings: Settings) -> str:
    if not settings.redis_url:
        raise ValueError("fairdraw needs settings.redis_url; the CLI starts the store")
    return settings.redis_url


def connect_store(settings: Settings) -> StoreClient:
    """The client every store of the running fairdraw shares: writes wait for
    ``FAIRDRAW_STORE_REPLICA_ACKS`` replicas."""
    return connect(
        _store_url(settings),
        replica_acks=settings.store_replica_acks,
        replica_acks_timeout_ms=settings.store_replica_acks_timeout_ms,
        batching=settings.store_batching,
    )


async def build(settings: Settings) -> Runtime:
    """Every store and service for ``settings`` (which must carry the secret key and a
    store URL). Call from the event loop the services will run on; close the result with
    :meth:`Runtime.aclose`."""
    secret = settings.secret_bytes()
    redis_url = _store_url(settings)
    managers = parse_networks(settings.manager_networks)
    redis = connect_store(settings)
    keys = Keys(settings.key_prefix)
    github = GitHubClient.from_settings(
        settings, ProfileCache(redis, keys, settings.github_cache_seconds)
    )
    draw_store = DrawStore(redis, keys)
    # fairdraw/2: the instance's signing key, the public draw log it signs, and the
    # beacon new draws bind (none: FAIRDRAW_BEACON=none, they trust the operator).
    proofs = draw_proofs(settings, DrawLogStore(redis, keys))
    accounts = account_service(redis, settings)
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
        manager_networks=managers,
        policy=webhook_policy(settings),
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
        manager_networks=managers,
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
        manager_networks=managers,
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
    entering = EnteringService(
        draw_store,
        github,
        limits,
        seal_chunk=drawing.seal_chunk,
        activity=live_stats,
        mine=mine,
        signing=proofs.signing,
        entries_counted=webhooks.entry_milestone,
    )
    # Entrants who prove their GitHub account (with the OAuth app's credentials).
    github_oauth = GitHubOAuth.from_settings(settings)
    closers: list[Callable[[], Awaitable[None]]] = [limits.aclose, github.aclose]
    if github_oauth is not None:
        closers.append(github_oauth.aclose)
    closers += [proofs.aclose, reader.aclose, redis.aclose]
    return Runtime(
        settings=settings,
        secret=secret,
        accounts=accounts,
        tokens=TokenService(
            TokenStore(redis, keys, secret),
            accounts,
            AccountStore(redis, keys, secret),
            access_seconds=settings.access_token_seconds,
            refresh_seconds=settings.refresh_token_seconds,
            limits=limits,
        ),
        drawing=drawing,
        entering=entering,
        github_sign_in=GitHubSignIn(
            github_oauth, SignInStore(redis, keys, SIGN_IN_SECONDS), draw_store, entering
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
            signing=proofs.signing,
            standing=forfeits.standing,
        ),
        lotteries=lotteries,
        scheduler=scheduler,
        limits=limits,
        live=live,
        dashboard=DashboardService(
            draw_store, live_stats, tickets, lotteries, manager_networks=managers
        ),
        presenting=PresentingService(draw_store, drawing),
        idempotency=IdempotencyService(
            IdempotencyStore(redis, keys),
            secret,
            ttl_seconds=settings.idempotency_seconds,
            lease_seconds=settings.idempotency_lease_seconds,
        ),
        my_entries=MyEntriesService(mine, tickets, forfeits.substitutions),
        signing=proofs.signing,
        draw_log=proofs.draw_log,
        receipts=ReceiptService(draw_store, tickets, proofs.signing),
        entrants=EntrantsService(
            draw_store,
            live_stats,
            tickets,
            lotteries,
            manager_networks=managers,
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
        # Webhooks and e-mail are delivered by the process whose scheduler holds the lease.
        webhook_worker=WebhookWorker(
            webhooks,
            schedule,
            scheduler.instance,
            interval_seconds=settings.scheduler_interval_seconds,
            policy=webhook_policy(settings),
        ),
        mail_worker=MailWorker(
            mail, schedule, scheduler.instance, interval_seconds=settings.scheduler_interval_seconds
        ),
        trusted_proxies=parse_networks(settings.trusted_proxies),
        _pools={"main": redis, "live": reader},
        _closers=closers,
    )


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """:func:`build` for the length of a ``with`` block, closed at its end."""
    runtime = await build(settings)
    try:
        yield runtime
    finally:
        await runtime.aclose()


@asynccontextmanager
async def open_accounts(settings: Settings) -> AsyncIterator[AccountService]:
    """Only the account service, for a short command (``admin``, ``serve``'s first-start
    chores) that has no use for the rest and should not create a signing key."""
    client = connect_store(settings)
    try:
        yield account_service(client, settings)
    finally:
        await client.aclose()


async def store_answers(url: str) -> bool:
    """Whether the store at ``url`` answers a ping (any failure reads as no)."""
    client = connect(url)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()
