"""Writes acknowledged only once a replica holds them (``FAIRDRAW_STORE_REPLICA_ACKS``).

``WAIT n timeout`` answers how many replicas hold every earlier write *of the connection
it is sent on*; a script cannot call it. So the wait rides on the connection itself: a
connection class that, when it packs a write command, packs ``WAIT`` right behind it (for
a MULTI/EXEC transaction: behind the ``EXEC``, if anything in it writes), and when it
reads the write's reply reads the ``WAIT``'s too. Single server, pooled connections,
pipelines and each cluster node's connections all send their commands through it, so
every write fairdraw makes (its scripts, and the few plain commands beside them) waits,
and reads never do.

To the client library the pair is one command in one round trip: its retries, MOVED/ASK
redirects and failover handling apply to it unchanged (a write redirected elsewhere is
sent again, with its ``WAIT``, to the node that owns the key).

A write whose ``WAIT`` counts fewer replicas than asked raises :class:`NotReplicated`:
the write was made on the master but is not known to survive its loss, so it is not
acknowledged (fairdraw answers 503 with Retry-After). fairdraw's writes are made to be
safe to send twice (one entry per identity, idempotency keys), so the client may retry.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterable
from typing import Any

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ResponseError

# How long a write waits for its replicas by default (FAIRDRAW_STORE_REPLICA_ACKS_TIMEOUT_MS):
# a replica on the same network answers within a millisecond or two, so a second is
# reached only when it is gone or stalled.
DEFAULT_TIMEOUT_MS = 1000

# Every command a Valkey 8 / Redis 7 server flags ``write`` (``COMMAND INFO``; a test checks
# this list against the server the tests run), and the commands whose writes are decided by
# what they run: scripts, functions, and ``XGROUP`` (a container of write subcommands).
# ``EVALSHA_RO``/``EVAL_RO`` are absent on purpose: a script flagged ``no-writes`` reads.
_WRITE_COMMAND_NAMES = """
    APPEND BITFIELD BITOP BLMOVE BLMPOP BLPOP BRPOP BRPOPLPUSH BZMPOP BZPOPMAX BZPOPMIN COPY
    DECR DECRBY DEL EXPIRE EXPIREAT FLUSHALL FLUSHDB GEOADD GEORADIUS GEORADIUSBYMEMBER
    GEOSEARCHSTORE GETDEL GETEX GETSET HDEL HINCRBY HINCRBYFLOAT HMSET HSET HSETNX INCR
    INCRBY INCRBYFLOAT LINSERT LMOVE LMPOP LPOP LPUSH LPUSHX LREM LSET LTRIM MIGRATE MOVE
    MSET MSETNX PERSIST PEXPIRE PEXPIREAT PFADD PFDEBUG PFMERGE PSETEX RENAME RENAMENX
    RESTORE RESTORE-ASKING RPOP RPOPLPUSH RPUSH RPUSHX SADD SDIFFSTORE SET SETBIT SETEX
    SETNX SETRANGE SINTERSTORE SMOVE SORT SPOP SREM SUNIONSTORE SWAPDB UNLINK XACK XADD
    XAUTOCLAIM XCLAIM XDEL XREADGROUP XSETID XTRIM ZADD ZDIFFSTORE ZINCRBY ZINTERSTORE
    ZMPOP ZPOPMAX ZPOPMIN ZRANGESTORE ZREM ZREMRANGEBYLEX ZREMRANGEBYRANK
    ZREMRANGEBYSCORE ZUNIONSTORE
    EVAL EVALSHA FCALL XGROUP
"""
WRITE_COMMANDS = frozenset(_WRITE_COMMAND_NAMES.split())


class NotReplicated(ResponseError):
    """A write the master made but fewer replicas than asked confirmed within the timeout.

    A ``ResponseError`` so that pipelines read the rest of their replies before raising it
    and the cluster client neither retries nor redirects it; fairdraw counts it among the
    store's unavailable errors (503 with Retry-After)."""


def command_name(first: Any) -> str:
    """The command of a packed command's first argument (``"XGROUP CREATE"`` → XGROUP)."""
    if isinstance(first, (bytes, bytearray, memoryview)):
        first = bytes(first).decode()
    name = str(first)
    return name.split(" ", 1)[0].upper()


class Packed(list[bytes]):
    """Packed commands, and for each whether a WAIT's reply follows its reply."""

    def __init__(self, chunks: list[bytes], waits: list[bool]) -> None:
        super().__init__(chunks)
        self.waits = waits


class WaitsForReplicas(AbstractConnection):
    """A connection that sends ``WAIT replicas timeout_ms`` behind every write and raises
    :class:`NotReplicated` when fewer replicas acknowledge it. Made concrete over the
    client's own connection class (plain, TLS or Unix socket) by :func:`replica_acked`.

    Commands are packed before the connection is opened (whose handshake then sends and
    reads its own commands first), so which replies a WAIT's reply follows is carried
    with the packed commands and becomes due only once they are on the wire."""

    replicas = 0
    timeout_ms = DEFAULT_TIMEOUT_MS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One flag per command sent and not yet answered, in order.
        self._waits_due: deque[bool] = deque()
        self._in_transaction = False
        self._transaction_writes = False

    def _waits_after(self, args: tuple[Any, ...]) -> bool:
        name = command_name(args[0])
        if name == "MULTI":
            self._in_transaction, self._transaction_writes = True, False
            return False
        if self._in_transaction:
            # Inside MULTI a WAIT would only be queued and answer at once: the wait
            # belongs behind EXEC.
            if name == "EXEC":
                self._in_transaction = False
                return self._transaction_writes
            if name == "DISCARD":
                self._in_transaction = False
            elif name in WRITE_COMMANDS:
                self._transaction_writes = True
            return False
        return name in WRITE_COMMANDS

    def pack_command(self, *args: Any) -> list[bytes]:
        chunks = list(super().pack_command(*args))
        waits = self._waits_after(args)
        if waits:
            chunks += super().pack_command("WAIT", self.replicas, self.timeout_ms)
        return Packed(chunks, [waits])

    def pack_commands(self, commands: Iterable[Iterable[Any]]) -> list[bytes]:
        chunks: list[bytes] = []
        waits: list[bool] = []
        for command in commands:
            packed = self.pack_command(*command)
            chunks += packed
            waits += getattr(packed, "waits", [False])
        return Packed([b"".join(chunks)], waits)

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        # Sending opens the connection first if need be (its handshake is answered
        # before this returns): the replies these commands wait for come after.
        await super().send_packed_command(command, check_health)
        self._waits_due.extend(getattr(command, "waits", ()))

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("push_request") or not self._waits_due or not self._waits_due.popleft():
            # A reply no WAIT follows (or a push message, or a pub/sub message nothing
            # was sent for).
            return await super().read_response(*args, **kwargs)
        try:
            reply = await super().read_response(*args, **kwargs)
        except ResponseError:
            # The write was refused (or redirected: MOVED, ASK): its WAIT's reply is still
            # on the wire, read it so that the connection stays in step. (A node that is
            # a replica now refuses the WAIT too; the write's own error is the one to see.)
            with contextlib.suppress(ResponseError):
                await super().read_response()
            raise
        try:
            acknowledged = await super().read_response()
        except ResponseError as error:
            # The node stopped being a master between the write and the WAIT.
            raise NotReplicated(f"write not acknowledged: {error}") from error
        if int(acknowledged) < self.replicas:
            raise NotReplicated(
                f"write not acknowledged by {self.replicas} replica(s) within "
                f"{self.timeout_ms} ms ({acknowledged} did)"
            )
        return reply

    async def disconnect(self, *args: Any, **kwargs: Any) -> None:
        # Whatever was on the wire is gone with the connection.
        self._waits_due.clear()
        self._in_transaction = self._transaction_writes = False
        await super().disconnect(*args, **kwargs)


def replica_acked(
    base: type[AbstractConnection], replicas: int, timeout_ms: int
) -> type[AbstractConnection]:
    """``base`` (the connection class a client would use) waiting for ``replicas``
    replicas, at most ``timeout_ms`` milliseconds, after each write."""
    return type(
        f"ReplicaAcked{base.__name__}",
        (WaitsForReplicas, base),
        {"replicas": replicas, "timeout_ms": timeout_ms},
    )
