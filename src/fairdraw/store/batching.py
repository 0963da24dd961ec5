"""Commands issued in the same turn of the event loop, sent as one pipeline.

Many requests in flight in one process each make a round trip or two to the store (an
entry: its entrant's cached profile, then its script). redis-py sends each command on a
connection of its own, and the client's work per command (taking a connection from the
pool, a timeout, writing, reading, giving it back) costs several times what the same
command costs inside a pipeline. :class:`CommandBatcher` collects the commands that are
issued while the loop runs its ready callbacks and sends them, at the end of that turn, as
one non-transactional pipeline on one connection; each caller gets its own command's
reply or error, as if it had sent it alone.

Nothing changes for a caller but the cost: commands of one task are still sent one after
the other (a task waits for each reply before its next command), commands of different
tasks were never ordered, and a pipeline is not a transaction (each command, and each
script, is as atomic as it was). Commands that block or change the connection's state
(blocking reads, ``WAIT``, ``MULTI``, ``CLIENT``, ``SELECT``…) are never batched: they go
out on their own as before. A failure of the connection fails every command of the batch,
each raising it to its own caller (and each becomes a 503 above, as before).
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

# Commands that wait on the server, or whose effect is on the connection they are sent
# on: each keeps a connection of its own.
_UNBATCHED_NAMES = """
    BLMOVE BLMPOP BLPOP BRPOP BRPOPLPUSH BZMPOP BZPOPMAX BZPOPMIN XREAD XREADGROUP WAIT
    WAITAOF MULTI EXEC DISCARD WATCH UNWATCH SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE
    PUNSUBSCRIBE SUNSUBSCRIBE MONITOR CLIENT SELECT AUTH HELLO RESET QUIT READONLY
    READWRITE ASKING DEBUG SHUTDOWN SYNC PSYNC REPLICAOF SLAVEOF FAILOVER
"""
UNBATCHED = frozenset(_UNBATCHED_NAMES.split())

# At most this many commands in one pipeline; more in the same turn make several.
MAX_BATCH = 256


def batchable(name: str) -> bool:
    return name.upper() not in UNBATCHED


class CommandBatcher:
    """Batches the commands of one client (see the module's description). One per client
    and event loop: the client's connections belong to one loop."""

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._waiting: list[tuple[tuple[Any, ...], dict[str, Any], asyncio.Future[Any]]] = []
        self._scheduled = False
        # The pipelines in flight (a task is only weakly held by the loop).
        self._sending: set[asyncio.Task[None]] = set()

    def submit(self, args: tuple[Any, ...], options: dict[str, Any]) -> asyncio.Future[Any]:
        """The future reply of ``args`` (a command), sent with the others of this turn."""
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((args, options, reply))
        if not self._scheduled:
            self._scheduled = True
            # After the callbacks already ready in this turn: their commands join.
            loop.call_soon(self._flush)
        return reply

    def _flush(self) -> None:
        self._scheduled = False
        waiting, self._waiting = self._waiting, []
        for start in range(0, len(waiting), MAX_BATCH):
            task = asyncio.ensure_future(self._send(waiting[start : start + MAX_BATCH]))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(
        self, batch: list[tuple[tuple[Any, ...], dict[str, Any], asyncio.Future[Any]]]
    ) -> None:
        try:
            if len(batch) == 1:
                args, options, reply = batch[0]
                answer = await Redis.execute_command(self._client, *args, **options)  # type: ignore[no-untyped-call]
                if not reply.done():
                    reply.set_result(answer)
                return
            pipeline = Pipeline(
                self._client.connection_pool, self._client.response_callbacks, False, None
            )
            for args, options, _ in batch:
                pipeline.execute_command(*args, **options)
            # Each command's error comes back in its place; the connection's is raised.
            answers = await pipeline.execute(raise_on_error=False)
        except BaseException as error:
            for _, _, reply in batch:
                if reply.done():
                    continue
                if isinstance(error, asyncio.CancelledError):
                    reply.cancel()
                else:
                    reply.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for (_, _, reply), answer in zip(batch, answers, strict=True):
            if reply.done():
                continue  # its caller stopped waiting
            if isinstance(answer, Exception):
                reply.set_exception(answer)
            else:
                reply.set_result(answer)
