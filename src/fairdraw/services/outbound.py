"""Outbound HTTP to addresses somebody else chose (webhook receivers): public addresses
only, checked at connection time.

An organiser who registers a webhook names a host; without a guard the server would
POST wherever that name points, its own loopback services, the private network it sits
in, or a cloud provider's metadata address included (server-side request forgery). A
check of the URL alone is not enough: a name can resolve to a public address when it is
registered and to a private one when a message is delivered (DNS rebinding). So the
check is made where the connection is opened: the name is resolved once, every address
is checked, and the connection goes to a checked address; TLS still verifies the
certificate against the URL's host name.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import anyio
import httpcore
import httpx

from fairdraw.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# httpx's own defaults for a client's pool.
_MAX_CONNECTIONS: Final = 100
_MAX_KEEPALIVE: Final = 20
_KEEPALIVE_SECONDS: Final = 5.0

# IPv6 ranges that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052 and
# RFC 8215): the IPv4 address inside is what such a connection reaches.
_NAT64: Final = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is globally reachable unicast (IANA's special-purpose
    registries), looking through IPv4-mapped, 6to4, Teredo and NAT64 forms to the IPv4
    address they reach."""
    reached = reached_address(address)
    return reached.is_global and not reached.is_multicast


def reached_address(address: IPAddress) -> IPAddress:
    """The address a connection to ``address`` reaches: the IPv4 address inside an
    IPv6 form that carries one, else ``address`` itself."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return inner
    return address


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(address.packed[-4:])
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses outbound requests may reach: public ones always; loopback ones
    with ``loopback`` (a receiver on this host, for tests and local use); every private
    one with ``private`` (a receiver in the operator's own network)."""

    loopback: bool = False
    private: bool = False

    def allows(self, address: IPAddress) -> bool:
        if self.private or is_public(address):
            return True
        return self.loopback and reached_address(address).is_loopback


def webhook_policy(settings: Settings) -> AddressPolicy:
    """Where webhook deliveries may go: loopback with ``webhook_allow_http`` (whose
    plain-http URLs are loopback ones), everything with
    ``webhook_allow_private_networks``."""
    return AddressPolicy(
        loopback=settings.webhook_allow_http, private=settings.webhook_allow_private_networks
    )


class RefusedAddress(httpcore.ConnectError):
    """The host resolved to no address the policy allows: nothing was sent."""


class PolicyBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses ``policy`` allows."""

    def __init__(
        self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        allowed = [a for a in await _resolve(host, port, timeout) if self._policy.allows(a)]
        if not allowed:
            raise RefusedAddress(
                f"{host} resolves to no public address; deliveries go to public "
                "addresses only (FAIRDRAW_WEBHOOK_ALLOW_PRIVATE_NETWORKS)"
            )
        last: Exception | None = None
        for address in allowed:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as error:  # try the next address, as clients do
                last = error
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedAddress("outbound requests go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _resolve(host: str, port: int, seconds: float | None) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        with anyio.fail_after(seconds):
            found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as error:
        raise httpcore.ConnectTimeout(f"resolving {host} timed out") from error
    except OSError as error:
        raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class PolicyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (no proxy from the environment: a proxy would make the
    connection, unchecked) over a connection pool whose connections obey ``policy``."""

    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__(trust_env=False)
        # httpx builds its pool without a way to pass a network backend; this one is
        # built as httpx builds it (default TLS context), with the checking backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=_MAX_CONNECTIONS,
            max_keepalive_connections=_MAX_KEEPALIVE,
            keepalive_expiry=_KEEPALIVE_SECONDS,
            network_backend=PolicyBackend(policy),
        )


def policy_client(policy: AddressPolicy, timeout: httpx.Timeout) -> httpx.AsyncClient:
    """An HTTP client for URLs that users chose: redirects are not followed (a
    redirect could lead anywhere) and every connection obeys ``policy``."""
    return httpx.AsyncClient(
        transport=PolicyTransport(policy), timeout=timeout, follow_redirects=False
    )


# -- answers read with a bound ---------------------------------------------------------


class AnswerTooLarge(httpx.HTTPError):
    """An answer went past the size its reader accepts; the rest was not read."""


@dataclass(frozen=True)
class Answer:
    """A whole HTTP answer, read with a size bound."""

    url: str
    status_code: int
    reason_phrase: str
    content: bytes

    def json(self) -> Any:
        """The body as JSON (ValueError if it is not JSON)."""
        return json.loads(self.content)


def get_bounded(
    client: httpx.Client, url: str, limit: int, params: Mapping[str, int] | None = None
) -> Answer:
    """GET ``url`` and read its answer, at most ``limit`` bytes of body: a server that
    answers more (by mistake, or to exhaust the reader's memory) gets AnswerTooLarge.
    Transport errors are raised as httpx raises them."""
    with client.stream("GET", url, params=params) as response:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise AnswerTooLarge(
                f"{response.url} answered {int(declared):,} bytes ({limit:,} at most)"
            )
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise AnswerTooLarge(f"{response.url} answered more than {limit:,} bytes")
        return Answer(str(response.url), response.status_code, response.reason_phrase, bytes(body))


# Headers that describe the body as it came over the wire; a body read in full is decoded.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


async def request_bounded(
    client: httpx.AsyncClient, method: str, url: str, limit: int, **kwargs: Any
) -> httpx.Response:
    """Send one request and read its answer, at most ``limit`` bytes of (decoded) body: a
    server that answers more gets AnswerTooLarge, and the rest is never read. The answer
    is returned whole, with its body in memory. Transport errors are raised as httpx
    raises them."""
    request = client.build_request(method, url, **kwargs)
    response = await client.send(request, stream=True)
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise AnswerTooLarge(f"{request.url} answered {int(declared):,} bytes")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise AnswerTooLarge(f"{request.url} answered more than {limit:,} bytes")
    finally:
        await response.aclose()
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _WIRE_HEADERS]
    return httpx.Response(
        response.status_code, headers=headers, content=bytes(body), request=request
    )
