"""Who is on the other end: the client's IP address, and whether it may manage draws.

The address is the socket peer's, unless the peer is one of the operator's trusted
reverse proxies (``FAIRDRAW_TRUSTED_PROXIES``). Then ``X-Forwarded-For`` is read from the
right, where each proxy appended the address it saw, and the first hop that is not
itself a trusted proxy is the client. Everything left of that hop was written by the
client, so it is never believed: a client cannot choose its address by sending the
header itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from starlette.requests import Request

from fairdraw.domain.errors import NetworkNotAllowed

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

FORWARDED_FOR = "x-forwarded-for"


def parse_networks(cidrs: Sequence[str]) -> tuple[IPNetwork, ...]:
    """Networks from CIDR strings; host bits are allowed (``10.0.0.1/8`` is ``10.0.0.0/8``)
    and a bare address is a one-address network. Raises ValueError on a malformed one."""
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def in_networks(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    """Whether ``address`` lies in one of ``networks``; an IPv4-mapped IPv6 address
    (``::ffff:10.0.0.1``) and its IPv4 address are the same address here."""
    forms = _forms(address)
    return any(form in network for network in networks for form in forms)


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
    if peer is None or not in_networks(peer, trusted_proxies):
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


def check_manager_network(address: IPAddress | None, manager_networks: Sequence[IPNetwork]) -> None:
    """Raise :class:`NetworkNotAllowed` unless managing draws is allowed from ``address``:
    with no manager networks configured, from anywhere; otherwise only from them (and
    never from an unknown address)."""
    if not manager_networks:
        return
    if address is None or not in_networks(address, manager_networks):
        raise NetworkNotAllowed()


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


def _forms(address: IPAddress) -> tuple[IPAddress, ...]:
    if isinstance(address, IPv6Address):
        mapped = address.ipv4_mapped
        return (address,) if mapped is None else (address, mapped)
    return (address, IPv6Address(f"::ffff:{address}"))


def _forwarded_hops(request: Request) -> list[str]:
    # Empty list elements (", ,") are legal HTTP list syntax and carry no hop.
    return [
        hop.strip()
        for line in request.headers.getlist(FORWARDED_FOR)
        for hop in line.split(",")
        if hop.strip()
    ]
