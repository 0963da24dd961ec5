"""E-mail notifications: account addresses and their confirmation, the notices a drawn
draw sends, and their delivery over SMTP.

When a draw is drawn (giveaway, raffle or lottery round), winners and alternates who
entered with an account whose address is confirmed hear of it, and so does the draw's
manager. Entrants known only by a GitHub handle have no address here and hear nothing.
Notices are queued in the store right after the draw's own write, one per (draw,
recipient, kind) however often the draw is announced; the worker, run by the process
that holds the scheduler's lease, sends them with ``aiosmtplib``, retries with backoff
while the server cannot be reached, and gives a message up after
:data:`~fairdraw.domain.mail.MAX_ATTEMPTS` attempts, or at once when the server refuses
it for good (a 5xx answer). Without ``FAIRDRAW_SMTP_HOST`` nothing is queued or sent.

Each message is written in its reader's language: the locale of the request that set,
confirmed or re-sent the account's address is kept with the account (``language``) and
passed to the notice explicitly, so a notice queued by the scheduler or by another
reader's request reads the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fairdraw.domain import mail
from fairdraw.domain.accounts import User
from fairdraw.domain.draws import Draw, DrawKind, WinnerView, account_holder
from fairdraw.domain.errors import Conflict, NotAuthenticated, NotFound, StoreError
from fairdraw.domain.moments import now_ms
from fairdraw.domain.webhooks import backoff_ms
from fairdraw.services.smtp import Attempt, SmtpTransport
from fairdraw.store.accounts import AccountStore
from fairdraw.store.draws import DrawStore
from fairdraw.store.mail import MailStore, StoredMail
from fairdraw.store.schedule import ScheduleStore

log = logging.getLogger("fairdraw.mail")

# A claimed message is held this long: past it, a worker that died is replaced.
CLAIM_MS = 120_000
# Messages sent per pass (over one connection).
MESSAGES_PER_PASS = 50


class MailService:
    """Account addresses, notices and their delivery over one store.

    ``transport`` None turns mail off: addresses can still be set, but nothing is
    queued and nothing can be confirmed. ``public_url`` is the base of links in mail.
    """

    def __init__(
        self,
        store: MailStore,
        accounts: AccountStore,
        draws: DrawStore,
        secret: bytes,
        *,
        transport: SmtpTransport | None,
        public_url: str | None,
        clock: Callable[[], int] = now_ms,
        backoff_base_ms: int = mail.BACKOFF_BASE_MS,
        max_attempts: int = mail.MAX_ATTEMPTS,
        confirmation_seconds: int = mail.CONFIRMATION_SECONDS,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._draws = draws
        self._secret = secret
        self._transport = transport if public_url else None
        self._base = (public_url or "").rstrip("/")
        self._clock = clock
        self._backoff_base_ms = backoff_base_ms
        self._max_attempts = max_attempts
        self._confirmation_seconds = confirmation_seconds

    @property
    def enabled(self) -> bool:
        """Whether this instance sends mail (``FAIRDRAW_SMTP_HOST`` is set)."""
        return self._transport is not None

    # -- addresses -----------------------------------------------------------------------
    async def account(self, actor: User | None) -> User:
        """The actor's account as stored now (with its address)."""
        if actor is None:
            raise NotAuthenticated()
        found = await self._accounts.get_user(actor.username)
        if found is None or found[0].disabled:
            raise NotAuthenticated()
        return found[0]

    async def set_address(self, actor: User | None, raw: str, *, locale: str | None = None) -> User:
        """Set the actor's address, unconfirmed, and send it a confirmation link; its
        notices will be in ``locale`` (the request's; None keeps the account's).

        :class:`InvalidInput` on ``email`` (nothing stored) for text that is no address.
        The address the account already has is left as it is; if it is unconfirmed, the
        link is sent again (at most once in ten minutes).
        """
        user = await self.account(actor)
        address = mail.normalize_address(raw)
        if user.email == address:
            if not user.email_confirmed:
                user = await self._keep_language(user, locale)
                await self._send_confirmation(user, address)
            return user
        changed = await self._accounts.set_email(
            user.username, address, confirmed=False, only_if=user.email or "", language=locale
        )
        if changed is None:
            raise Conflict("Your account is being changed elsewhere; try again")
        log.info("user %s set the e-mail address %s", user.username, mail.masked(address))
        await self._send_confirmation(changed, address)
        return changed

    async def remove_address(self, actor: User | None) -> User:
        """Remove the actor's address; nothing is sent to it any more."""
        user = await self.account(actor)
        if user.email is None:
            return user
        changed = await self._accounts.set_email(user.username, None, confirmed=False)
        log.info("user %s removed their e-mail address", user.username)
        return changed or user

    async def resend_confirmation(self, actor: User | None, *, locale: str | None = None) -> User:
        """Send the confirmation link of the actor's unconfirmed address again (at most
        once in ten minutes), in ``locale`` from now on; nothing for a confirmed address
        or none."""
        user = await self.account(actor)
        if (address := user.email) is not None and not user.email_confirmed:
            user = await self._keep_language(user, locale)
            await self._send_confirmation(user, address)
        return user

    async def _keep_language(self, user: User, locale: str | None) -> User:
        """``user`` with ``locale`` as the language of its notices (stored if new)."""
        if locale is None or locale == user.language or user.email is None:
            return user
        changed = await self._accounts.set_email(
            user.username,
            user.email,
            confirmed=user.email_confirmed,
            only_if=user.email,
            language=locale,
        )
        return changed or user

    async def confirm(self, token: str, *, locale: str | None = None) -> User:
        """Confirm the address a token was sent to; the token is spent. Raises
        :class:`~fairdraw.domain.mail.ConfirmationInvalid` for a malformed, unknown,
        spent or expired token, or one whose address has since been changed. ``locale``
        (the request's) becomes the language of the account's notices."""
        token_hash = mail.token_hash(self._secret, token.strip())
        taken = await self._store.take_confirmation(token_hash) if token_hash else None
        if taken is None:
            raise mail.ConfirmationInvalid()
        username, address = taken
        try:
            user = await self._accounts.set_email(
                username, address, confirmed=True, only_if=address, language=locale
            )
        except NotFound:
            user = None
        if user is None:
            raise mail.ConfirmationInvalid()
        log.info("user %s confirmed the e-mail address %s", username, mail.masked(address))
        return user

    async def _send_confirmation(self, user: User, address: str) -> None:
        if self._transport is None:
            return
        now = self._clock()
        subject = mail.confirmation_subject(address, now)
        message_id = mail.message_id(self._secret, subject, user.username, mail.CONFIRM)
        if await self._store.exists(message_id):
            return  # sent in this window already
        token = mail.new_token()
        token_hash = mail.token_hash(self._secret, token)
        assert token_hash is not None  # a fresh token is well formed
        await self._store.keep_confirmation(
            token_hash, user.username, address, self._confirmation_seconds
        )
        link = f"{self._base}/account/email/confirm#{token}"
        notice = mail.confirmation_notice(user.username, address, link, token, user.language)
        await self._queue(message_id, "", notice, now)

    # -- notices -------------------------------------------------------------------------
    async def announce(self, event: str, draw: Draw) -> None:
        """Queue the notices of a drawn draw (other events send nothing); again is
        harmless: each (draw, recipient, kind) is queued once."""
        if event != "drawn" or self._transport is None or draw.result is None:
            return
        results = f"{self._base}/draws/{draw.id}/results"
        proof = f"{self._base}/api/v1/draws/{draw.id}/proof"
        winners = draw.result.winners
        holders = await self._holders(draw, winners)
        prizes_won = [(v.prize, holder) for v, holder in zip(winners, holders, strict=True)]
        alternates = await self._holders(draw, draw.result.alternates)
        won, ranks = mail.who_hears(prizes_won, alternates)
        now = self._clock()
        for username, prizes in won.items():
            if to := await self._address_of(username):
                address, locale = to
                notice = mail.winner_notice(
                    username, address, draw.title, prizes, results, proof, locale
                )
                await self._queue_notice(draw.id, notice, now)
        for username, shown in ranks.items():
            if to := await self._address_of(username):
                address, locale = to
                notice = mail.alternate_notice(
                    username, address, draw.title, shown, results, locale
                )
                await self._queue_notice(draw.id, notice, now)
        if to := await self._address_of(draw.created_by):
            address, locale = to
            picked = [(view.prize, view.name or view.login) for view in draw.result.winners]
            notice = mail.organiser_notice(
                draw.created_by,
                address,
                draw.title,
                picked,
                len(draw.result.alternates),
                results,
                locale,
            )
            await self._queue_notice(draw.id, notice, now)

    async def forfeited(self, draw: Draw, number: int, substitution: Mapping[str, Any]) -> None:
        """Queue the notice of substitution ``number`` of ``draw`` to the alternate it
        promoted, if that is an account with a confirmed address; again is harmless."""
        promoted = substitution.get("promoted")
        if self._transport is None or draw.result is None or not promoted:
            return
        view = next((v for v in draw.result.alternates if v.index == promoted["index"]), None)
        if view is None:
            return
        (username,) = await self._holders(draw, [view])
        if username is None or not (to := await self._address_of(username)):
            return
        address, locale = to
        notice = mail.promoted_notice(
            username,
            address,
            draw.title,
            str(substitution["prize"]),
            int(promoted["alternate"]),
            number,
            f"{self._base}/draws/{draw.id}/results",
            f"{self._base}/api/v1/draws/{draw.id}/proof",
            locale,
        )
        await self._queue_notice(draw.id, notice, self._clock())

    async def _address_of(self, username: str) -> tuple[str, str] | None:
        """Where notices to ``username`` go, and in what language: the confirmed address
        of an enabled account and the account's language."""
        found = await self._accounts.get_user(username)
        if found is None or found[0].disabled or found[0].mail_address is None:
            return None
        return found[0].mail_address, found[0].language

    async def _queue_notice(self, draw_id: str, notice: mail.Notice, now: int) -> None:
        message_id = mail.message_id(self._secret, draw_id, notice.username, notice.kind)
        await self._queue(message_id, draw_id, notice, now)

    async def _holders(self, draw: Draw, views: Sequence[WinnerView]) -> list[str | None]:
        """The account (username) behind each picked entry or ticket; None for others."""
        if draw.kind is DrawKind.raffle:
            return [view.login or None for view in views]
        entries = await self._draws.entries_at(draw.id, [view.index for view in views])
        return [account_holder(entry.identity) for entry in entries]

    async def _queue(self, message_id: str, draw_id: str, notice: mail.Notice, now: int) -> None:
        fields = {
            "kind": notice.kind,
            "draw": draw_id,
            "username": notice.username,
            "to": notice.to,
            "subject": notice.subject,
            "text": notice.text,
        }
        await self._store.enqueue(message_id, fields, now)

    # -- sending -------------------------------------------------------------------------
    async def deliver_due(self) -> int:
        """Send what is due, over one connection; the number of attempts made."""
        if self._transport is None:
            return 0
        now = self._clock()
        claimed = await self._store.claim(now, now + CLAIM_MS, MESSAGES_PER_PASS)
        stored: list[StoredMail] = []
        for message_id in claimed:
            message = await self._store.get(message_id)
            if message is None:  # expired unsent: the record unschedules it
                await self._store.record(message_id, "failed", attempts=0, error="", now_ms=now)
                continue
            stored.append(message)
        if not stored:
            return 0
        sender = self._transport.sender
        outgoing = [
            mail.email_message(
                mail.Notice(m.kind, m.username, m.to, m.subject, m.text), sender, m.id
            )
            for m in stored
        ]
        attempts = await self._transport.send(outgoing)
        for message, attempt in zip(stored, attempts, strict=True):
            await self._record(message, attempt)
        return len(stored)

    async def _record(self, message: StoredMail, attempt: Attempt) -> None:
        now = self._clock()
        attempts = message.attempts + 1
        if attempt.sent:
            outcome = "sent"
        elif attempt.final or attempts >= self._max_attempts:
            outcome = "failed"
        else:
            outcome = "retry"
        next_ms = now + backoff_ms(attempts, self._backoff_base_ms) if outcome == "retry" else 0
        # A server's refusal may quote the address; the store and the log see it masked.
        error = attempt.error.replace(message.to, mail.masked(message.to))
        await self._store.record(
            message.id, outcome, attempts=attempts, error=error, now_ms=now, next_ms=next_ms
        )
        if outcome == "failed":
            log.warning(
                "gave up e-mail %s (%s) to %s after %d attempts: %s",
                message.id,
                message.kind,
                mail.masked(message.to),
                attempts,
                error,
            )


class MailWorker:
    """Sends due mail every interval, while this process holds the scheduler's lease
    (``instance`` is the scheduler's), so one process of many sends."""

    def __init__(
        self,
        service: MailService,
        schedule: ScheduleStore,
        instance: str,
        *,
        interval_seconds: float,
    ) -> None:
        self._service = service
        self._schedule = schedule
        self._instance = instance
        self._interval = interval_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Pass every interval until ``stop`` is set."""
        while not stop.is_set():
            try:
                if await self._schedule.leader() == self._instance:
                    await self._service.deliver_due()
            except StoreError:
                pass  # the scheduler reports the outage; the queue waits in the store
            except Exception:
                log.exception("mail delivery pass failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
