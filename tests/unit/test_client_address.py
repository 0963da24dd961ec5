"""Client addresses behind trusted proxies, and the manager network check."""

from __future__ import annotations

import logging
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

import pytest
from starlette.requests import Request

from fairdraw.domain.errors import NetworkNotAllowed
from fairdraw.web.client import (
    _ProxyHint,
    check_manager_network,
    client_address,
    in_networks,
    parse_address,
    parse_networks,
)

PROXIES = parse_networks(["10.0.0.0/8", "fd00::/8"])


def request(peer: str | None, *forwarded: str) -> Request:
    """A request from socket peer ``peer`` with one X-Forwarded-For line per argument."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [(b"x-forwarded-for", line.encode("latin-1")) for line in forwarded],
        "client": None if peer is None else (peer, 41000),
        "server": ("testserver", 80),
    }
    return Request(scope)


def ip(text: str) -> IPv4Address | IPv6Address:
    return ip_address(text)


def test_no_proxies_configured_ignores_the_header() -> None:
    assert client_address(request("10.1.2.3", "203.0.113.9"), ()) == ip("10.1.2.3")


def test_untrusted_peer_header_is_ignored() -> None:
    spoofed = request("198.51.100.7", "203.0.113.9, 10.0.0.1")
    assert client_address(spoofed, PROXIES) == ip("198.51.100.7")


def test_trusted_peer_with_one_hop() -> None:
    assert client_address(request("10.0.0.1", "203.0.113.9"), PROXIES) == ip("203.0.113.9")


def test_trusted_peer_takes_the_right_most_untrusted_of_several_hops() -> None:
    forwarded = request("10.0.0.1", "192.0.2.1, 198.51.100.2, 203.0.113.9")
    assert client_address(forwarded, PROXIES) == ip("203.0.113.9")


def test_chain_of_trusted_proxies_is_skipped() -> None:
    chained = request("10.0.0.1", "203.0.113.9, 10.2.0.1, 10.3.0.1")
    assert client_address(chained, PROXIES) == ip("203.0.113.9")


def test_hops_across_several_header_lines_are_read_in_order() -> None:
    chained = request("10.0.0.1", "192.0.2.1, 203.0.113.9", "10.2.0.1", "10.3.0.1")
    assert client_address(chained, PROXIES) == ip("203.0.113.9")


def test_spoofed_left_most_entries_are_not_believed() -> None:
    # The client sent "10.9.9.9, 1.1.1.1" itself; the proxy appended the real peer.
    spoofed = request("10.0.0.1", "10.9.9.9, 1.1.1.1, 203.0.113.9")
    assert client_address(spoofed, PROXIES) == ip("203.0.113.9")


def test_a_client_claiming_to_be_a_trusted_proxy_is_still_found() -> None:
    # The client put a trusted address in front of its own; walking stops at its own.
    spoofed = request("10.0.0.1", "10.5.5.5, 203.0.113.9")
    assert client_address(spoofed, PROXIES) == ip("203.0.113.9")


def test_garbage_hop_stops_at_the_last_trusted_address() -> None:
    garbage = request("10.0.0.1", "203.0.113.9, not-an-ip, 10.2.0.1")
    assert client_address(garbage, PROXIES) == ip("10.2.0.1")


@pytest.mark.parametrize(
    "hop",
    ["unknown", "_hidden", "1.2.3.4.5", "300.1.1.1", "[2001:db8::1", "1.2.3.4:", "1.2.3.4:99999"],
)
def test_each_kind_of_garbage_is_never_trusted(hop: str) -> None:
    assert client_address(request("10.0.0.1", hop), PROXIES) == ip("10.0.0.1")


def test_empty_list_elements_are_skipped() -> None:
    assert client_address(request("10.0.0.1", "203.0.113.9, ,"), PROXIES) == ip("203.0.113.9")


def test_trusted_peer_without_header_is_the_client() -> None:
    assert client_address(request("10.0.0.1"), PROXIES) == ip("10.0.0.1")


def test_all_hops_trusted_gives_the_left_most() -> None:
    internal = request("10.0.0.1", "10.7.0.1, 10.2.0.1")
    assert client_address(internal, PROXIES) == ip("10.7.0.1")


def test_ipv6_peer_and_hops() -> None:
    assert client_address(request("2001:db8::5"), PROXIES) == ip("2001:db8::5")
    via_proxy = request("fd00::1", "2001:db8::1, 2001:db8::9, fd12::3")
    assert client_address(via_proxy, PROXIES) == ip("2001:db8::9")


def test_bracketed_and_ported_hops() -> None:
    assert client_address(request("10.0.0.1", "[2001:db8::7]:443"), PROXIES) == ip("2001:db8::7")
    assert client_address(request("10.0.0.1", "[2001:db8::7]"), PROXIES) == ip("2001:db8::7")
    assert client_address(request("10.0.0.1", "203.0.113.9:5060"), PROXIES) == ip("203.0.113.9")


def test_ipv4_mapped_peer_is_a_trusted_ipv4_proxy() -> None:
    mapped = request("::ffff:10.0.0.1", "203.0.113.9")
    assert client_address(mapped, PROXIES) == ip("203.0.113.9")


def test_ipv4_mapped_addresses_are_returned_as_ipv4() -> None:
    assert client_address(request("::ffff:198.51.100.7"), PROXIES) == ip("198.51.100.7")
    assert client_address(request("10.0.0.1", "::ffff:203.0.113.9"), PROXIES) == ip("203.0.113.9")


def test_ipv4_mapped_hop_of_a_trusted_proxy_is_skipped() -> None:
    chained = request("10.0.0.1", "203.0.113.9, ::ffff:10.2.0.1")
    assert client_address(chained, PROXIES) == ip("203.0.113.9")


def test_missing_client_is_unknown() -> None:
    assert client_address(request(None, "203.0.113.9"), PROXIES) is None


def test_peer_that_is_not_an_address_is_unknown() -> None:
    assert client_address(request("testclient", "203.0.113.9"), PROXIES) is None


def test_ipv6_zone_is_dropped() -> None:
    assert parse_address("fe80::1%eth0") == IPv6Address("fe80::1")
    assert str(parse_address("fe80::1%eth0")) == "fe80::1"


def test_parse_networks() -> None:
    assert parse_networks([" 10.1.2.3/8", "2001:db8::/32", "192.0.2.7"]) == (
        IPv4Network("10.0.0.0/8"),
        IPv6Network("2001:db8::/32"),
        IPv4Network("192.0.2.7/32"),
    )
    assert parse_networks([]) == ()
    with pytest.raises(ValueError, match="nonsense"):
        parse_networks(["nonsense"])


def test_in_networks() -> None:
    nets = parse_networks(["10.0.0.0/8", "2001:db8::/32"])
    assert in_networks(ip("10.255.0.1"), nets)
    assert not in_networks(ip("11.0.0.1"), nets)
    assert in_networks(ip("2001:db8:1::1"), nets)
    assert not in_networks(ip("2001:db9::1"), nets)
    assert in_networks(ip("::ffff:10.0.0.1"), nets)
    assert not in_networks(ip("::ffff:11.0.0.1"), nets)
    assert not in_networks(ip("10.0.0.1"), ())


def test_ipv4_address_matches_a_mapped_ipv6_network() -> None:
    assert in_networks(ip("10.0.0.1"), parse_networks(["::ffff:10.0.0.0/104"]))
    assert not in_networks(ip("11.0.0.1"), parse_networks(["::ffff:10.0.0.0/104"]))


def test_manager_networks() -> None:
    office = parse_networks(["192.0.2.0/24"])
    check_manager_network(ip("192.0.2.10"), office)
    check_manager_network(ip("::ffff:192.0.2.10"), office)
    check_manager_network(None, ())
    check_manager_network(ip("203.0.113.9"), ())
    with pytest.raises(NetworkNotAllowed):
        check_manager_network(ip("203.0.113.9"), office)
    with pytest.raises(NetworkNotAllowed):
        check_manager_network(None, office)


def test_an_untrusted_local_proxy_is_pointed_out_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_ProxyHint, "given", False)
    with caplog.at_level(logging.WARNING, logger="fairdraw.web"):
        client_address(request("93.184.216.34", "203.0.113.9"), ())  # public peer: a spoof
        client_address(request("127.0.0.1"), ())  # no header
        assert caplog.messages == []
        for _ in range(3):
            assert client_address(request("127.0.0.1", "203.0.113.9"), ()) == ip("127.0.0.1")
    assert caplog.messages == [
        "ignoring X-Forwarded-For from 127.0.0.1, which is not a trusted proxy: if it is "
        "your reverse proxy, add it to FAIRDRAW_TRUSTED_PROXIES, or every client behind it "
        "counts as 127.0.0.1"
    ]


def test_a_trusted_proxy_is_not_pointed_out(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_ProxyHint, "given", False)
    with caplog.at_level(logging.WARNING, logger="fairdraw.web"):
        client_address(request("10.0.0.1", "203.0.113.9"), PROXIES)
    assert caplog.messages == []
