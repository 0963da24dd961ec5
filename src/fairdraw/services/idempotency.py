"""Idempotency keys: who a key belongs to, and the records that make a retry safe.

Every state-changing API call may carry an ``Idempotency-Key``. The web layer asks
:meth:`IdempotencyService.begin` before the call runs and :meth:`IdempotencyService.finish`
after it, so a retry with the same key and the same request gets the first response back,
sealed in the store under the key (see :mod:`fairdraw.domain.idempotency`). Entries,
claims and ballots also write their own record in the same script as the action, so even
a process that dies between the two steps loses nothing: see the services that do them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from dataclasses import dataclass

from fairdraw.domain import idempotency
from fairdraw.domain.callers import Caller
from fairdraw.domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from fairdraw.domain.idempotency import RetryKey
from fairdraw.services.ratelimit import address_identifier
from fairdraw.store.idempotency import BeginState, IdempotencyStore

# A page's second submit of one form waits this long for the first one to finish, polling
# every _WAIT_STEP seconds, before it reports the key as in flight.
FORM_WAIT_SECONDS = 10.0
_WAIT_STEP = 0.05


def caller_scope(caller: Caller) -> str:
    """Whose key it is: the account (``u:NAME``) whatever the credential (session cookie
    or bearer token), else the client address as the rate limits count it (``a:…``: an
    IPv4 address or an IPv6 /64). Keys of different scopes never meet."""
    if caller.user is not None:
        return "u:" + caller.user.username
    return "a:" + address_identifier(caller.address)


@dataclass(frozen=True)
class KeptResponse:
    """A response as kept for replay: status, the headers worth replaying, body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "status": self.status,
                "headers": [list(pair) for pair in self.headers],
                "body": base64.b64encode(self.body).decode(),
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> KeptResponse:
        data = json.loads(raw)
        return cls(
            status=int(data["status"]),
            headers=tuple((str(k), str(v)) for k, v in data["headers"]),
            body=base64.b64decode(data["body"]),
        )


@dataclass(frozen=True)
class Started:
    """The key is this request's until :meth:`IdempotencyService.finish` (``owner``)."""

    owner: str


class IdempotencyService:
    """Idempotency-Key records: kept ``ttl_seconds``; a request that never finishes holds
    its key for ``lease_seconds`` at most."""

    def __init__(
        self,
        store: IdempotencyStore,
        secret: bytes,
        *,
        ttl_seconds: int,
        lease_seconds: float,
    ) -> None:
        self._store = store
        self._secret = secret
        self.ttl_ms = ttl_seconds * 1000
        self._lease_ms = int(lease_seconds * 1000)

    def retry_key(
        self,
        caller: Caller,
        key: str,
        method: str,
        target: str,
        body: bytes,
        content_type: str = "",
    ) -> RetryKey:
        """The RetryKey of a request: ``key`` is parsed (IdempotencyKeyInvalid if it is no
        key), scoped to the caller, and the request fingerprinted."""
        parsed = idempotency.parse_key(key)
        scope = caller_scope(caller)
        request_print = idempotency.fingerprint(method, target, scope, body, content_type)
        return idempotency.retry_key(self._secret, scope, parsed, request_print, self.ttl_ms)

    def opener(self, key: str, name: str) -> RetryKey:
        """What opens the result kept under ``name`` for the holder of ``key``."""
        return idempotency.opener(self._secret, key, name)

    async def begin(self, retry: RetryKey) -> Started | KeptResponse:
        """Take the key for this request (Started), or the response it already got.
        IdempotencyKeyReused if the key was used for another request,
        IdempotencyKeyInFlight if the first request with it has not finished."""
        owner = secrets.token_hex(8)
        begun = await self._store.begin(retry.name, retry.fingerprint, owner, self._lease_ms)
        if begun.state is BeginState.new:
            return Started(owner)
        if begun.state is BeginState.mismatch:
            raise IdempotencyKeyReused()
        if begun.state is BeginState.in_flight:
            raise IdempotencyKeyInFlight()
        return KeptResponse.from_bytes(retry.open(begun.sealed))

    async def begin_or_wait(
        self, retry: RetryKey, wait_seconds: float = FORM_WAIT_SECONDS
    ) -> Started | KeptResponse:
        """:meth:`begin`, but a key in flight is waited for (a form submitted twice: the
        browser shows the second answer, which should be the first one's)."""
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                return await self.begin(retry)
            except IdempotencyKeyInFlight:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(_WAIT_STEP)

    async def finish(self, retry: RetryKey, started: Started, kept: KeptResponse | None) -> None:
        """Keep ``kept`` as the key's response, sealed under the key, for the configured
        time; or, with None, let the key go so that a retry runs again."""
        sealed = retry.seal(kept.to_bytes()) if kept is not None else None
        await self._store.finish(retry.name, started.owner, sealed, self.ttl_ms)
