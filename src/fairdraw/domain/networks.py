"""Networks and addresses: which client addresses may do what. Pure; no I/O."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from fairdraw.domain.errors import NetworkNotAllowed

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


def parse_networks(cidrs: Sequence[str]) -> tuple[IPNetwork, ...]:
    """Networks from CIDR strings; host bits are allowed (``10.0.0.1/8`` is ``10.0.0.0/8``)
    and a bare address is a one-address network. Raises ValueError on a malformed one."""
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def in_networks(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    """Whether ``address`` lies in one of ``networks``; an IPv4-mapped IPv6 address
    (``::ffff:10.0.0.1``) and its IPv4 address are the same address here."""
    forms = _forms(address)
    return any(form in network for network in networks for form in forms)


def check_manager_network(address: IPAddress | None, manager_networks: Sequence[IPNetwork]) -> None:
    """Raise :class:`NetworkNotAllowed` unless managing draws is allowed from ``address``:
    with no manager networks configured, from anywhere; otherwise only from them (and
    never from an unknown address)."""
    if not manager_networks:
        return
    if address is None or not in_networks(address, manager_networks):
        raise NetworkNotAllowed()


def _forms(address: IPAddress) -> tuple[IPAddress, ...]:
    if isinstance(address, IPv6Address):
        mapped = address.ipv4_mapped
        return (address,) if mapped is None else (address, mapped)
    return (address, IPv6Address(f"::ffff:{address}"))
