"""Which addresses outbound requests to user-chosen hosts may reach."""

from __future__ import annotations

import ipaddress

import pytest

from fairdraw.services.outbound import AddressPolicy, is_public

PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2001:4860:4860::8888"]
LOOPBACK = ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1"]
PRIVATE = [
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",  # noqa: S104 (an address under test, not a bind)
    "224.0.0.1",
    "255.255.255.255",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "::",
    "ff02::1",
    "::ffff:10.0.0.1",  # IPv4-mapped
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:a00:1::",  # 6to4 of 10.0.0.1
    "2001:db8::1",  # documentation
]


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_are_public(text: str) -> None:
    address = ipaddress.ip_address(text)
    assert is_public(address)
    assert AddressPolicy().allows(address)


@pytest.mark.parametrize("text", LOOPBACK + PRIVATE)
def test_other_addresses_are_not(text: str) -> None:
    address = ipaddress.ip_address(text)
    assert not is_public(address)
    assert not AddressPolicy().allows(address)
    assert AddressPolicy(private=True).allows(address)


@pytest.mark.parametrize("text", ["127.0.0.1", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1"])
def test_loopback_is_allowed_only_when_asked(text: str) -> None:
    assert AddressPolicy(loopback=True).allows(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", ["10.1.2.3", "169.254.169.254", "::ffff:10.0.0.1"])
def test_allowing_loopback_allows_no_private_address(text: str) -> None:
    assert not AddressPolicy(loopback=True).allows(ipaddress.ip_address(text))
