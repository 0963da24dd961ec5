"""Lua scripts: loaded once from ``store/lua/*.lua``, called by SHA.

Each script is one atomic operation. A script answers a list whose first element is
``"ok"`` or a stable error code; :func:`raise_for` turns an error code into the domain
error, in this one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from fairdraw.domain import errors

# Script error code → domain error. Codes are the first element of a script's reply.
SCRIPT_ERRORS: dict[str, type[errors.FairdrawError]] = {
    "draw_not_found": errors.DrawNotFound,
    "invalid_transition": errors.InvalidTransition,
    "draw_not_open": errors.DrawNotOpen,
    "deadline_passed": errors.DeadlinePassed,
    "user_exists": errors.UserExists,
    "wrong_draw_kind": errors.WrongDrawKind,
    "sold_out": errors.SoldOut,
    "ticket_limit_reached": errors.TicketLimitReached,
    "draw_exists": errors.Conflict,
    "lottery_exists": errors.Conflict,
    "round_not_over": errors.RoundNotOver,
    "seal_mismatch": errors.Conflict,
    "list_already_imported": errors.ListAlreadyImported,
    # An imported list's staged copy expired before the script that seals it ran.
    "import_expired": errors.Conflict,
    "invalid_token": errors.InvalidToken,
    "idempotency_key_reused": errors.IdempotencyKeyReused,
    # 128 random bits make this unreachable in practice; never overwrite a family.
    "token_family_exists": errors.FairdrawError,
}


# A draw's event stream keeps about this many events (XADD MAXLEN ~): a live buffer for
# watchers that reconnect, not the record (the ledger is). 10,000 events hold 20 s of a
# 500-entries-per-second rush and hours of an ordinary draw, in at most about 1 MB.
EVENTS_MAXLEN = 10_000
# How long a drawn or cancelled draw's events stay, for pages still open on it.
EVENTS_TTL_MS = 7 * 24 * 3600 * 1000


def _lua(name: str) -> str:
    return resources.files("fairdraw.store").joinpath("lua", f"{name}.lua").read_text()


def script_source(name: str) -> str:
    """The text of ``store/lua/<name>.lua``; a script that uses the helpers of
    ``_live.lua`` (``fd_*``: live events, per-minute counts, attempt limits) gets them,
    and the constants they use, in front of its body (after its ``#!lua`` flags line,
    which must be first)."""
    body = _lua(name)
    if "fd_" not in body:
        return body
    flags = ""
    if body.startswith("#!"):
        flags, _, body = body.partition("\n")
        flags += "\n"
    constants = f"local EVENTS_MAXLEN = {EVENTS_MAXLEN}\nlocal EVENTS_TTL_MS = {EVENTS_TTL_MS}\n"
    return flags + constants + _lua("_live") + body


class Scripts:
    """The registered scripts of one client, by name."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._scripts: dict[str, AsyncScript] = {}
        self._read_only: set[str] = set()

    def _script(self, name: str) -> AsyncScript:
        script = self._scripts.get(name)
        if script is None:
            # register_script runs EVALSHA and reloads the script on NOSCRIPT.
            source = script_source(name)
            script = self._redis.register_script(source)
            self._scripts[name] = script
            if read_only(source):
                self._read_only.add(name)
        return script

    async def call(self, name: str, keys: Sequence[str], args: Sequence[Any] = ()) -> list[Any]:
        """Run a script and return its reply after the status element, raising on error codes."""
        script = self._script(name)
        # EVALSHA, and the script loaded once more on NOSCRIPT (a store restarted without
        # its scripts), as AsyncScript does, without its isinstance checks of the client
        # on every call. EVALSHA_RO for a read, which never waits for replicas
        # (FAIRDRAW_STORE_REPLICA_ACKS).
        run = self._redis.evalsha_ro if name in self._read_only else self._redis.evalsha
        try:
            reply = await run(script.sha, len(keys), *keys, *args)
        except NoScriptError:
            script.sha = await self._redis.script_load(script_source(name))
            reply = await run(script.sha, len(keys), *keys, *args)
        return raise_for(reply)


def read_only(source: str) -> bool:
    """Whether a script declares ``#!lua flags=no-writes`` (the server then refuses any
    write it tries)."""
    first = source.split("\n", 1)[0]
    return first.startswith("#!lua") and "no-writes" in first


def raise_for(reply: Any) -> list[Any]:
    """Strip the ``"ok"`` status of a script reply, or raise the error it names."""
    if not isinstance(reply, list) or not reply:
        raise errors.FairdrawError(f"unexpected script reply {reply!r}")
    status = reply[0]
    if status == "ok":
        return list(reply[1:])
    if status == "rate_limited":
        # The script's limit counted this attempt over; it names the wait in ms.
        raise errors.RateLimited(retry_after=max(1, -(-int(reply[1]) // 1000)))
    error = SCRIPT_ERRORS.get(status)
    if error is None:
        raise errors.FairdrawError(f"unknown script status {status!r}")
    raise error()
