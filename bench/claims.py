"""Filling a raffle's ledger fast, with claims of synthetic anonymous claimants.

Two ways, both writing exactly what claim_ticket.lua writes (ledger element
``code_hash \\t claimed_ms \\t claimant``, claimants hash ``claimant → tickets held``):

- :func:`claim_through_script` runs the claim script itself, pipelined: ``EVALSHA``
  commands written as raw RESP to the store's socket, many batches in flight, replies
  read with hiredis. redis-py's pipeline spends about 17 µs of client CPU per command
  here, the store about 20 µs per claim script: raw RESP keeps the store the bottleneck.
- :func:`bulk_load_claims` appends the same elements with ``RPUSH`` (10,000 per command),
  for benchmarks where only the number of claims matters (sealing and drawing depend on
  the count and the raffle's permutation, not on who claimed).

Claimant ``n`` is ``a:`` and 32 hex digits, the shape of the keyed hash of a client
address that the service stores for an anonymous claim, and a different one for every
``n``; its code hash has the 64 hex digits of an HMAC-SHA256.
"""

from __future__ import annotations

import hashlib
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import hiredis
from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from bench.harness import BenchError
from fairdraw.store.keys import Keys
from fairdraw.store.raffles import ClaimRecord, RaffleStore, claim_keys
from fairdraw.store.scripts import script_source

# Claims per write to the socket, and batches written before their replies are read.
SCRIPT_BATCH = 5_000
BATCHES_IN_FLIGHT = 2
# Elements per RPUSH / fields per HSET, and commands per round trip.
COMMAND_BATCH = 10_000
COMMANDS_PER_ROUND_TRIP = 10


def synthetic_claimant(number: int) -> str:
    """The claimant of synthetic claim ``number``: ``a:`` + 32 hex digits."""
    return "a:" + hashlib.sha256(b"claimant %d" % number).hexdigest()[:32]


def synthetic_code_hash(number: int) -> str:
    """The stored code hash of synthetic claim ``number``: 64 hex digits."""
    return hashlib.sha256(b"code %d" % number).hexdigest()


def claim_element(code_hash: str, claimed_ms: int, claimant: str) -> str:
    """The ledger element claim_ticket.lua appends for one claim."""
    return f"{code_hash}\t{claimed_ms}\t{claimant}"


def _bulk_strings(words: list[bytes]) -> bytes:
    return b"".join(b"$%d\r\n%s\r\n" % (len(word), word) for word in words)


def _resp(words: list[bytes], arguments: int | None = None) -> bytes:
    """``words`` as a RESP command of ``arguments`` words (default: just these; more
    when the caller appends the rest)."""
    count = len(words) if arguments is None else arguments
    return b"*%d\r\n" % count + _bulk_strings(words)


@dataclass(frozen=True)
class ScriptFill:
    """Claims made through the claim script: how many, in how long."""

    claims: int
    seconds: float

    @property
    def claims_per_second(self) -> float:
        return self.claims / self.seconds if self.seconds else 0.0


class _ReplyReader:
    """Reads claim script replies off a raw socket and checks each one: ``ok`` with
    the claim index that follows the previous one."""

    def __init__(self, sock: socket.socket, first_index: int) -> None:
        self._sock = sock
        self._reader = hiredis.Reader()
        self.next_index = first_index
        self.read = 0

    def read_until(self, count: int) -> None:
        while self.read < count:
            data = self._sock.recv(1 << 20)
            if not data:
                raise BenchError("the store closed the connection while claiming")
            self._reader.feed(data)
            while (reply := self._reader.gets()) is not False:
                self._check(reply)

    def _check(self, reply: object) -> None:
        if not isinstance(reply, list) or reply[0] != b"ok" or reply[1] != self.next_index:
            raise BenchError(
                f"claim {self.read} answered {reply!r}, expected ok at {self.next_index}"
            )
        self.next_index += 1
        self.read += 1


def claim_through_script(socket_path: Path, keys: Keys, draw_id: str, count: int) -> ScriptFill:
    """``count`` claims, each one ``EVALSHA claim_ticket`` on the open raffle ``draw_id``
    by a new synthetic claimant numbered as the claim's ledger index; every reply is
    checked. The raffle must have the tickets, and nothing else may claim meanwhile."""
    key_words = [key.encode() for key in claim_keys(keys, draw_id)]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(socket_path))
        sock.sendall(_resp([b"SCRIPT", b"LOAD", script_source("claim_ticket").encode()]))
        sock.sendall(_resp([b"LLEN", keys.ledger(draw_id).encode()]))
        loader = hiredis.Reader()
        answers: list[object] = []
        while len(answers) < 2:
            loader.feed(sock.recv(1 << 16))
            while (answer := loader.gets()) is not False:
                answers.append(answer)
        sha, first = answers
        if not isinstance(sha, bytes) or not isinstance(first, int):
            raise BenchError(f"SCRIPT LOAD / LLEN answered {answers!r}")
        # Everything but the claimant and the code hash is the same in every command.
        head = _resp(
            [b"EVALSHA", sha, b"%d" % len(key_words), *key_words],
            arguments=3 + len(key_words) + 3,
        )
        replies = _ReplyReader(sock, first)
        started = time.perf_counter()
        stop = first + count
        for start in range(first, stop, SCRIPT_BATCH):
            end = min(start + SCRIPT_BATCH, stop)
            sock.sendall(
                b"".join(
                    head
                    + _bulk_strings(
                        [synthetic_claimant(n).encode(), synthetic_code_hash(n).encode(), b""]
                    )
                    for n in range(start, end)
                )
            )
            replies.read_until(max(0, end - first - BATCHES_IN_FLIGHT * SCRIPT_BATCH))
        replies.read_until(count)
        return ScriptFill(claims=count, seconds=time.perf_counter() - started)


async def bulk_load_claims(
    redis: Redis, keys: Keys, draw_id: str, count: int, claimed_ms: int
) -> None:
    """Append claims of synthetic claimants 0..count-1 to the empty ledger of an open
    raffle, and their counts to its claimants hash, as the claim script leaves them."""
    ledger, claimants = keys.ledger(draw_id), keys.claimants(draw_id)
    if await redis.llen(ledger):
        raise BenchError(f"the ledger of {draw_id} is not empty")
    pipe = redis.pipeline(transaction=False)
    for start in range(0, count, COMMAND_BATCH):
        elements: list[str] = []
        held: dict[FieldT, EncodableT] = {}
        for number in range(start, min(start + COMMAND_BATCH, count)):
            claimant = synthetic_claimant(number)
            elements.append(claim_element(synthetic_code_hash(number), claimed_ms, claimant))
            held[claimant] = 1
        pipe.rpush(ledger, *elements)
        pipe.hset(claimants, mapping=held)
        if len(pipe) >= 2 * COMMANDS_PER_ROUND_TRIP:
            await pipe.execute()
    if len(pipe):
        await pipe.execute()


async def check_claims(raffles: RaffleStore, draw_id: str, numbers: list[int]) -> None:
    """Read synthetic claims back through RaffleStore, as the service will."""
    for record in await raffles.claims_at(draw_id, numbers):
        expected = ClaimRecord(
            index=record.index,
            code_hash=synthetic_code_hash(record.index),
            claimed_ms=record.claimed_ms,
            claimant=synthetic_claimant(record.index),
        )
        if record != expected:
            raise BenchError(f"claim {record.index} reads back as {record!r}")
        if await raffles.claims_held(draw_id, record.claimant) != 1:
            raise BenchError(f"the claimant of claim {record.index} holds no ticket")
