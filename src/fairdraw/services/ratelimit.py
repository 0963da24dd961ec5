"""Rate limits on logins, registrations, entries and token refreshes.

Call the method of an action *before* doing the action: it counts one attempt, or raises
:class:`~fairdraw.domain.errors.RateLimited` (429, with ``retry_after`` seconds, which
the problem renderer sends as ``Retry-After``) when the attempt is over the limit.

==================  ================================  =============================
method              limited per                       setting
==================  ================================  =============================
``login``           client address, then username     ``rate_limit_login_address``,
                                                      ``rate_limit_login_user``
``registration``    client address                    ``rate_limit_registration``
``entry``           draw and client address           ``rate_limit_entries``
``token_refresh``   API token family                  ``rate_limit_token_refresh``
``wrong_code``      raffle ticket and client address  ``rate_limit_ticket_codes``
==================  ================================  =============================

A giveaway entry is the hot path: its limit is counted by the ``enter`` script itself, in
the same step as the entry (:meth:`RateLimits.entry_attempts` gives the script its
terms), which saves the round trip to the limiter. :meth:`RateLimits.entry` still counts,
separately, the entries that must ask GitHub about a login before they reach the script,
so that nobody can make fairdraw spend its GitHub budget faster than the limit.

A login is counted per username in the username's canonical form
(:func:`~fairdraw.domain.accounts.canonical_username`), the same form in which the
account is found: ``Alice``, ``ALICE`` and ``alice`` in full-width or mathematical
letters are one account, so they spend one budget.

``wrong_code`` differs: :meth:`RateLimits.check_codes` refuses once the limit is spent,
counting nothing, and :meth:`RateLimits.wrong_code` counts only a code that did not match;
so a ticket's holder is not throttled for checking it, while guessing is. Guesses are
counted per client address, so a stranger's guessing cannot lock the holder out.

Addresses are counted per IPv4 address and per IPv6 ``/64`` network: one IPv6 client
usually holds a whole /64 and could otherwise take a fresh address for every attempt.
An IPv4-mapped IPv6 address counts as its IPv4 address. Requests without a known client
address share one bucket.

**When the store is unreachable the limits fail open**: the attempt is allowed and a
warning is logged. Every limited action reads or writes the store itself, so it fails
with its own 503 a moment later anyway; refusing here would add nothing, and the limiter
must never be the reason a request fails.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from ipaddress import IPv4Address, IPv6Address
from typing import NoReturn

from limits import RateLimitItem, parse

from fairdraw.config import Settings
from fairdraw.domain.accounts import canonical_username
from fairdraw.domain.errors import RateLimited, StoreError
from fairdraw.store.draws import AttemptLimit
from fairdraw.store.keys import Keys
from fairdraw.store.ratelimit import RateLimitStore

log = logging.getLogger("fairdraw.ratelimit")

# An IPv6 client is counted by the network of this prefix length.
IPV6_PREFIX_LENGTH = 64
# Identifiers that may appear in a key name as they are; anything else is hashed. "~"
# cannot occur in them, so a hashed identifier never equals a plain one.
_PLAIN_IDENTIFIER = re.compile(r"[0-9A-Za-z_.:-]{1,64}")
_UNKNOWN_ADDRESS = "unknown"

Address = IPv4Address | IPv6Address | str | None


def key_identifier(value: str) -> str:
    """``value`` as a printable, bounded, unambiguous part of a key name.

    Short values of letters, digits and ``_.:-`` stay readable (user names, draw ids,
    IP addresses); anything else becomes ``~`` and 32 hex digits of its SHA-256.
    """
    if _PLAIN_IDENTIFIER.fullmatch(value):
        return value
    return _hashed(value)


def _hashed(value: str) -> str:
    return "~" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _ticket_identifiers(draw_id: str, number: int, address: Address) -> tuple[str, str, str]:
    return key_identifier(draw_id), str(number), address_identifier(address)


def address_identifier(address: Address) -> str:
    """The bucket of a client address: the IPv4 address, or the IPv6 /64 network.

    A string that is not an IP address is hashed, so it never shares a bucket with one.
    """
    if isinstance(address, str):
        text = address
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return _hashed(text)
    if address is None:
        return _UNKNOWN_ADDRESS
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((int(address), IPV6_PREFIX_LENGTH), strict=False)
        return network.with_prefixlen.replace("/", "_")
    return str(address)


def _limit(rate: str, name: str) -> RateLimitItem:
    """The limit ``rate`` ("N/minute") under its own namespace, which starts its keys."""
    item = parse(rate)
    return type(item)(item.amount, item.multiples, namespace=name)


class RateLimits:
    """The rate limits of fairdraw's actions (see the module documentation)."""

    def __init__(self, store: RateLimitStore, settings: Settings) -> None:
        self._store = store
        self.login_address_limit = _limit(settings.rate_limit_login_address, "login-address")
        self.login_user_limit = _limit(settings.rate_limit_login_user, "login-user")
        self.registration_limit = _limit(settings.rate_limit_registration, "registration")
        self.entry_limit = _limit(settings.rate_limit_entries, "entry")
        self.token_refresh_limit = _limit(settings.rate_limit_token_refresh, "token-refresh")
        self.ticket_code_limit = _limit(settings.rate_limit_ticket_codes, "ticket-code")

    @classmethod
    def open(cls, settings: Settings, url: str, keys: Keys) -> RateLimits:
        """Rate limits counted in the store at ``url`` under ``keys``' rate-limit prefix;
        close them with :meth:`aclose`."""
        return cls(RateLimitStore(url, keys), settings)

    async def aclose(self) -> None:
        """Close the store connections of the limits."""
        await self._store.aclose()

    async def login(self, username: str, address: Address) -> None:
        """One login attempt for ``username`` (as typed) from ``address``.

        The username is counted in its canonical form, whatever it looks like, so no
        spelling of a name gets a budget of its own. The address is counted first, so
        that attempts refused for their address do not spend the budget of the accounts
        they aim at.
        """
        await self._consume(self.login_address_limit, address_identifier(address))
        await self._consume(self.login_user_limit, key_identifier(canonical_username(username)))

    async def registration(self, address: Address) -> None:
        """One registration attempt from ``address``."""
        await self._consume(self.registration_limit, address_identifier(address))

    async def entry(self, draw_id: str, address: Address) -> None:
        """One entry attempt on draw ``draw_id`` from ``address``."""
        await self._consume(self.entry_limit, key_identifier(draw_id), address_identifier(address))

    def entry_attempts(self, address: Address) -> AttemptLimit:
        """The entry limit as the ``enter`` script counts it, for ``address``: the script
        counts and refuses in the same step as the entry (one round trip less than
        :meth:`entry`, whose counter it does not share)."""
        limit = self.entry_limit
        return AttemptLimit(address_identifier(address), limit.amount, limit.get_expiry() * 1000)

    async def token_refresh(self, family_id: str) -> None:
        """One refresh of an API token of family ``family_id``."""
        await self._consume(self.token_refresh_limit, key_identifier(family_id))

    async def check_codes(self, draw_id: str, number: int, address: Address) -> None:
        """Raise RateLimited if wrong codes for ticket ``number`` of raffle ``draw_id``
        from ``address`` have spent their limit; counts nothing."""
        identifiers = _ticket_identifiers(draw_id, number, address)
        try:
            if await self._store.test(self.ticket_code_limit, *identifiers):
                return
        except StoreError as exc:
            log.warning("rate limit ticket-code not checked, allowing: %s", exc.__cause__)
            return
        await self._refuse(self.ticket_code_limit, *identifiers)

    async def wrong_code(self, draw_id: str, number: int, address: Address) -> None:
        """Count one wrong code for ticket ``number`` of raffle ``draw_id`` from
        ``address``."""
        await self._consume(self.ticket_code_limit, *_ticket_identifiers(draw_id, number, address))

    async def _consume(self, limit: RateLimitItem, *identifiers: str) -> None:
        try:
            if await self._store.hit(limit, *identifiers):
                return
        except StoreError as exc:
            log.warning("rate limit %s not checked, allowing: %s", limit.namespace, exc.__cause__)
            return
        await self._refuse(limit, *identifiers)

    async def _refuse(self, limit: RateLimitItem, *identifiers: str) -> NoReturn:
        try:
            retry_after = await self._store.seconds_until_free(limit, *identifiers)
        except StoreError:
            retry_after = limit.get_expiry()
        raise RateLimited(retry_after=retry_after)
