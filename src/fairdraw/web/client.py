"""Who is on the other end: the client's IP address, and whether it may manage draws.

The address is the socket peer's, unless the peer is one of the operator's trusted
reverse proxies (``FAIRDRAW_TRUSTED_PROXIES``). Then ``X-Forwarded-For`` is read from the
right, where each proxy appended the address it saw, and the first hop that is not
itself a trusted proxy is the client. Everything left of that hop was written by the
client, so it is never believed: a client cannot choose its address by sending the
header itself.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Sequence
from ipaddress import IPv6Address

from starlette.requests import Request

from fairdraw.domain.networks import (
    IPAddress,
    IPNetwork,
    check_manager_network,
    in_networks,
    parse_networks,
)

__all__ = [
    "IPAddress",
    "IPNetwork",
    "check_manager_network",
    "client_address",
    "in_networks",
    "parse_address",
    "parse_networks",
]


FORWARDED_FOR = "x-forwarded-for"

log = logging.getLogger("fairdraw.web")


class _ProxyHint:
    """Tells the operator, once per process, that a local or private peer sends
    ``X-Forwarded-For`` that is being ignored: most likely a reverse proxy that
    ``FAIRDRAW_TRUSTED_PROXIES`` does not name, so that every client behind it shares
    the proxy's address (one rate-limit bucket, one claimant in anonymous raffles)."""

    given = False

    @classmethod
    def consider(cls, request: Request, peer: IPAddress) -> None:
        if cls.given or FORWARDED_FOR not in request.headers:
            return
        if not (peer.is_loopback or peer.is_private):
            return
        cls.given = True
        log.warning(
            "ignoring X-Forwarded-For from %s, which is not a trusted proxy: if it is your "
            "reverse proxy, add it to FAIRDRAW_TRUSTED_PROXIES, or every client behind it "
            "counts as %s",
            peer,
            peer,
        )


def client_address(request: Request, trusted_proxies: Sequence[IPNetwork]) -> IPAddress | None:
    """The address of the client that sent ``request``, or None if it is unknown.

    The socket peer, unless the peer is in ``trusted_proxies``: then the right-most hop
    of ``X-Forwarded-For`` (all its header lines, comma-separated) that is not a trusted
    proxy. A hop that is not an IP address ends the walk at the last address read, the
    nearest trusted proxy; if every hop is trusted, the left-most is the client. IPv4-mapped
    IPv6 addresses are returned as IPv4 addresses. Never raises.
    """
    if request.client is None:
        return None
    peer = parse_address(request.client.host)
    if peer is None:
        return None
    if not trusted_proxies or not in_networks(peer, trusted_proxies):
        _ProxyHint.consider(request, peer)
        return peer
    found = peer
    for hop in reversed(_forwarded_hops(request)):
        address = parse_address(hop)
        if address is None:
            break
        found = address
        if not in_networks(address, trusted_proxies):
            break
    return found


@functools.lru_cache(maxsize=4096)
def parse_address(text: str) -> IPAddress | None:
    """An address from a socket peer or a forwarded hop, or None if ``text`` is not one.

    Accepts ``1.2.3.4``, ``1.2.3.4:port``, ``2001:db8::1``, ``[2001:db8::1]`` and
    ``[2001:db8::1]:port``; drops an IPv6 zone (``%eth0``) and unmaps IPv4-mapped IPv6.
    """
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or not (text[end + 1 :] == "" or _is_port(text[end + 1 :])):
            return None
        text = text[1:end]
    elif text.count(":") == 1:
        text, port = text.split(":")
        if not _is_port(":" + port):
            return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            # A zone is free text from the sender and names no distinct client.
            return IPv6Address(int(address))
    return address


def _is_port(text: str) -> bool:
    digits = text[1:]
    return (
        text.startswith(":")
        and 0 < len(digits) <= 5
        and digits.isascii()
        and digits.isdigit()
        and int(digits) <= 65535
    )


def _forwarded_hops(request: Request) -> list[str]:
    # Empty list elements (", ,") are legal HTTP list syntax and carry no hop.
    return [
        hop.strip()
        for line in request.headers.getlist(FORWARDED_FOR)
        for hop in line.split(",")
        if hop.strip()
    ]
