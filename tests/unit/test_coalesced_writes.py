"""CoalescedWrites: a connection's writes of one turn of the event loop go out together,
in order, at the end of the turn; close() sends them first, abort() drops them. Driven
over a real socket pair, read from its other end."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from fairdraw.web.bounded_http import COALESCE_LIMIT_BYTES, CoalescedWrites


def pending_bytes(peer: socket.socket) -> bytes:
    """What has arrived at ``peer`` so far (without waiting)."""
    received = b""
    while True:
        try:
            chunk = peer.recv(1 << 20, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return received
        if not chunk:
            return received
        received += chunk


async def next_turns() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


@pytest.fixture
async def pair() -> AsyncIterator[tuple[CoalescedWrites, asyncio.Transport, socket.socket]]:
    ours, peer = socket.socketpair()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(asyncio.Protocol, sock=ours)
    assert isinstance(transport, asyncio.Transport)
    try:
        yield CoalescedWrites(transport, loop), transport, peer
    finally:
        transport.abort()
        peer.close()


async def test_the_writes_of_one_turn_go_out_together_at_its_end(
    pair: tuple[CoalescedWrites, asyncio.Transport, socket.socket],
) -> None:
    writes, _, peer = pair
    writes.write(b"HTTP/1.1 201 Created\r\n\r\n")
    writes.writelines([b'{"index":', bytearray(b"7"), memoryview(b"}")])

    assert pending_bytes(peer) == b""
    await next_turns()
    assert pending_bytes(peer) == b'HTTP/1.1 201 Created\r\n\r\n{"index":7}'

    writes.write(b"next")
    await next_turns()
    assert pending_bytes(peer) == b"next"


async def test_close_sends_what_is_collected_first_and_abort_drops_it(
    pair: tuple[CoalescedWrites, asyncio.Transport, socket.socket],
) -> None:
    writes, transport, peer = pair
    writes.write(b"last words")
    writes.close()
    await next_turns()

    assert transport.is_closing()
    assert pending_bytes(peer) == b"last words"


async def test_abort_drops_what_is_collected(
    pair: tuple[CoalescedWrites, asyncio.Transport, socket.socket],
) -> None:
    writes, transport, peer = pair
    writes.write(b"never sent")
    writes.abort()
    await next_turns()

    assert transport.is_closing()
    assert pending_bytes(peer) == b""


async def test_a_large_stream_goes_out_at_the_limit_without_waiting_for_the_turn(
    pair: tuple[CoalescedWrites, asyncio.Transport, socket.socket],
) -> None:
    writes, _, peer = pair
    chunk = b"x" * 1024
    for _ in range(COALESCE_LIMIT_BYTES // len(chunk) - 1):
        writes.write(chunk)
    assert pending_bytes(peer) == b""

    writes.write(chunk)  # reaches the limit
    received = pending_bytes(peer)
    await next_turns()
    received += pending_bytes(peer)
    assert received == chunk * (COALESCE_LIMIT_BYTES // len(chunk))


async def test_empty_writes_are_nothing_and_everything_else_is_the_transports(
    pair: tuple[CoalescedWrites, asyncio.Transport, socket.socket],
) -> None:
    writes, transport, peer = pair
    writes.write(b"")
    await next_turns()
    assert pending_bytes(peer) == b""
    assert writes.is_closing() is False
    assert writes.get_extra_info("socket") is transport.get_extra_info("socket")
