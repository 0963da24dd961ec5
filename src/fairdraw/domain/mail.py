"""E-mail: account addresses, their confirmation, and the notices a drawn draw sends.

An address is checked with ``email-validator`` (syntax only, no DNS lookups) and kept in
its normalised ASCII form. It receives notices only once confirmed: setting it sends a link
with a fresh token (32 CSPRNG bytes), of which the store keeps only a keyed hash, for
:data:`CONFIRMATION_SECONDS`; the first use spends it.

Each notice has an id, a keyed hash of (draw, recipient, kind): announcing a draw again,
however often, queues nothing twice; it does not depend on the words, so a German
message has the id its English would have. Each notice is put into words in its
reader's language (the account's ``lang``, English if it has none) with that locale's
catalogue, never the request's. Addresses are never logged whole (:func:`masked`),
tokens never. Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from typing import Final

from email_validator import EmailNotValidError, validate_email

from fairdraw.domain.errors import InvalidInput, NotFound
from fairdraw.i18n import DEFAULT_LOCALE, N_, Message, translations

# What a notice is about; one message per (draw, recipient, kind).
WON: Final = "won"
ALTERNATE: Final = "alternate"
# A promotion: one per substitution (the kind names its number), so a later promotion
# of the same account is a message of its own.
PROMOTED: Final = "promoted"
DRAWN: Final = "drawn"
CONFIRM: Final = "confirm"

MAX_ADDRESS_LENGTH: Final = 254
CONFIRMATION_SECONDS: Final = 24 * 3600
TOKEN_BYTES: Final = 32
# secrets.token_urlsafe(32): 43 unpadded base64url characters.
TOKEN_PATTERN: Final = r"[A-Za-z0-9_-]{43}"  # noqa: S105 (a pattern, not a secret)
_TOKEN = re.compile(TOKEN_PATTERN)
MESSAGE_ID_PATTERN: Final = r"mail_[0-9a-f]{32}"
TOKEN_HASH_PATTERN: Final = r"[0-9a-f]{64}"  # noqa: S105 (a pattern)
# A confirmation message id is new every this often, so asking again and again sends
# one mail per window, not one per click.
CONFIRMATION_WINDOW_MS: Final = 10 * 60 * 1000
_MESSAGE_LABEL = b"fairdraw/mail/message"
_TOKEN_LABEL = b"fairdraw/mail/confirmation"

# Retries: like webhooks (domain/webhooks.backoff_ms), from half a minute, given up after
# MAX_ATTEMPTS attempts (about a day and a half).
BACKOFF_BASE_MS: Final = 30_000
MAX_ATTEMPTS: Final = 12


class ConfirmationInvalid(NotFound):
    """A confirmation link that is malformed, unknown, used or expired: it names
    nothing (404)."""

    code = "confirmation_invalid"
    title = N_("This confirmation link is not valid; it may have expired or been used")


def normalize_address(raw: str, *, field: str = "email") -> str:
    """The normalised form of an e-mail address, or :class:`InvalidInput` on ``field``."""
    text = raw.strip()
    if not text:
        raise InvalidInput({field: N_("The e-mail address must not be empty.")})
    if len(text) > MAX_ADDRESS_LENGTH:
        raise InvalidInput(
            {
                field: Message(
                    N_("The e-mail address must be at most %(limit)s characters long."),
                    limit=MAX_ADDRESS_LENGTH,
                )
            }
        )
    try:
        # Mail servers need not accept non-ASCII mailbox names (SMTPUTF8), so those are
        # refused; an internationalised domain is kept in its ASCII (IDNA) form.
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        # The validator's reason names the exact fault; it comes in English only.
        reason = Message(N_("This is not an e-mail address: %(reason)s"), reason=str(error))
        raise InvalidInput({field: reason}) from error
    address: str = checked.ascii_email or checked.normalized
    return address


def sender(raw: str) -> str:
    """``FAIRDRAW_SMTP_FROM`` checked: ``Name <address>`` or an address; ValueError if not."""
    name, address = parseaddr(raw)
    if not address:
        raise ValueError("FAIRDRAW_SMTP_FROM must be an e-mail address, optionally with a name")
    try:
        normalized = normalize_address(address)
    except InvalidInput as error:
        raise ValueError(f"FAIRDRAW_SMTP_FROM: {error.errors['email']}") from error
    return formataddr((name, normalized)) if name else normalized


def masked(address: str) -> str:
    """An address as logs may show it: ``a***@example.org``."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(secret: bytes, token: str) -> str | None:
    """The keyed hash under which a confirmation token is kept; None if malformed."""
    if not _TOKEN.fullmatch(token):
        return None
    return hmac.new(secret, _TOKEN_LABEL + b"\x00" + token.encode(), hashlib.sha256).hexdigest()


def message_id(secret: bytes, subject: str, recipient: str, kind: str) -> str:
    """The id of the one message ``recipient`` (a username) gets of ``kind`` about
    ``subject`` (a draw id; for a confirmation, the address and its window)."""
    data = b"\x00".join((_MESSAGE_LABEL, subject.encode(), recipient.encode(), kind.encode()))
    return "mail_" + hmac.new(secret, data, hashlib.sha256).hexdigest()[:32]


def confirmation_subject(address: str, now_ms: int) -> str:
    """What a confirmation message is about: the address, in the current window."""
    return f"{address}\x00{now_ms // CONFIRMATION_WINDOW_MS}"


@dataclass(frozen=True)
class Notice:
    """One message to send: to whom (username and address), what, and its plain text."""

    kind: str
    username: str
    to: str
    subject: str
    text: str


def who_hears(
    winners: Sequence[tuple[str, str | None]], alternates: Sequence[str | None]
) -> tuple[dict[str, list[str]], dict[str, list[int]]]:
    """From the winners as (prize, username or None) in slot order and the alternates'
    usernames in rank order: the prizes each account won, and the ranks (from 1) of each
    account that is an alternate and won nothing, which hears of the win only. Picks
    without an account (None) hear nothing."""
    won: dict[str, list[str]] = {}
    for prize, username in winners:
        if username is not None:
            won.setdefault(username, []).append(prize)
    ranks: dict[str, list[int]] = {}
    for rank, username in enumerate(alternates, start=1):
        if username is not None and username not in won:
            ranks.setdefault(username, []).append(rank)
    return won, ranks


def _gettext(locale: str) -> Callable[[str], str]:
    """The ``gettext`` of ``locale``: notices are put into words in their reader's
    language, whoever queues them (a request in another language, the scheduler)."""
    return translations(locale).gettext


def confirmation_notice(
    username: str, address: str, link: str, token: str, locale: str = DEFAULT_LOCALE
) -> Notice:
    _ = _gettext(locale)
    values = {"username": username, "address": address, "link": link, "token": token}
    text = (
        _("Hello %(username)s,") % values
        + "\n\n"
        + _("please confirm that %(address)s is your address for notices from fairdraw:") % values
        + f"\n\n{link}\n\n"
        + _("or enter this code on your account page: %(token)s") % values
        + "\n\n"
        + _(
            "The link works once, within 24 hours. If you did not ask for this, ignore this "
            "message; nothing will be sent to this address."
        )
        + "\n"
    )
    return Notice(CONFIRM, username, address, _("Confirm your e-mail address for fairdraw"), text)


def _joined(items: Sequence[str], locale: str = DEFAULT_LOCALE) -> str:
    if len(items) <= 1:
        return "".join(items)
    _ = _gettext(locale)
    return _("%(items)s and %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}


def _links(locale: str, results: str, proof: str, results_label: str) -> str:
    _ = _gettext(locale)
    return (
        results_label % {"results": results}
        + "\n"
        + _("Proof that the draw was fair: %(proof)s") % {"proof": proof}
        + "\n\n"
        + _("The organiser will be in touch about your prize.")
        + "\n"
    )


def winner_notice(
    username: str,
    address: str,
    title: str,
    prizes: Sequence[str],
    results: str,
    proof: str,
    locale: str = DEFAULT_LOCALE,
) -> Notice:
    """The message to a winner of ``prizes`` (one per slot won) in the draw ``title``."""
    _ = _gettext(locale)
    values = {"username": username, "won": _joined(list(prizes), locale), "title": title}
    text = (
        _("Hello %(username)s,") % values
        + "\n\n"
        + _("you won %(won)s in %(title)s.") % values
        + "\n\n"
        + _links(locale, results, proof, _("Results: %(results)s"))
    )
    return Notice(WON, username, address, _("You won %(won)s in %(title)s") % values, text)


def alternate_notice(
    username: str,
    address: str,
    title: str,
    ranks: Sequence[int],
    results: str,
    locale: str = DEFAULT_LOCALE,
) -> Notice:
    """The message to an alternate, with their ranks (1 is the first alternate)."""
    _ = _gettext(locale)
    shown = _joined([f"#{rank}" for rank in ranks], locale)
    values = {"username": username, "title": title, "ranks": shown, "results": results}
    text = (
        _("Hello %(username)s,") % values
        + "\n\n"
        + _(
            "%(title)s was drawn and you are alternate %(ranks)s. If a winner does not claim "
            "their prize, it passes to the alternates in this order."
        )
        % values
        + "\n\n"
        + _("Results: %(results)s") % values
        + "\n"
    )
    subject = _("You are alternate %(ranks)s in %(title)s") % values
    return Notice(ALTERNATE, username, address, subject, text)


def promoted_notice(
    username: str,
    address: str,
    title: str,
    prize: str,
    rank: int,
    number: int,
    results: str,
    proof: str,
    locale: str = DEFAULT_LOCALE,
) -> Notice:
    """The message to alternate #``rank``, promoted by substitution ``number`` of the
    draw ``title`` to hold ``prize``."""
    _ = _gettext(locale)
    values = {"username": username, "title": title, "prize": prize, "rank": rank}
    text = (
        _("Hello %(username)s,") % values
        + "\n\n"
        + _(
            "a winner of %(title)s forfeited %(prize)s, and as alternate #%(rank)s you are "
            "the next in line: you now hold %(prize)s."
        )
        % values
        + "\n\n"
        + _links(locale, results, proof, _("Results, with every substitution: %(results)s"))
    )
    kind = f"{PROMOTED}:{number}"
    subject = _("You now hold %(prize)s in %(title)s") % values
    return Notice(kind, username, address, subject, text)


def organiser_notice(
    username: str,
    address: str,
    title: str,
    winners: Sequence[tuple[str, str]],
    alternates: int,
    results: str,
    locale: str = DEFAULT_LOCALE,
) -> Notice:
    """The message to the draw's manager: ``winners`` as (prize, who) pairs."""
    _ = _gettext(locale)
    values = {"username": username, "title": title, "results": results}
    lines = [f"- {prize}: {who}" for prize, who in winners] or ["- " + _("nobody (no entries)")]
    text = (
        _("Hello %(username)s,") % values
        + "\n\n"
        + _("%(title)s was drawn.") % values
        + "\n\n"
        + _("Winners:")
        + "\n"
        + "\n".join(lines)
        + "\n\n"
        + _("Alternates: %(count)s") % {"count": alternates}
        + "\n\n"
        + _("Results and proof: %(results)s") % values
        + "\n"
    )
    return Notice(DRAWN, username, address, _("%(title)s was drawn") % values, text)


def email_message(notice: Notice, sender_address: str, message_id: str) -> EmailMessage:
    """The notice as a plain-text message from ``sender_address``."""
    message = EmailMessage()
    message["From"] = sender_address
    message["To"] = notice.to
    message["Subject"] = notice.subject
    domain = parseaddr(sender_address)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(message_id, domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notice.text)
    return message
