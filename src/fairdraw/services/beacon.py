"""Fetching verified drand rounds from the beacon's HTTP relays.

Relays are tried in the configured order, each within the beacon timeout. A relay is
only a messenger: its answer counts when it is the asked round and its signature
verifies under the pinned chain key, so a relay that is down, slow, talks nonsense,
answers another round or forges a signature is skipped (and logged) and the next one is
asked. No relay with a valid round is :class:`BeaconUnavailable`; waiting for a round
retries until one comes, and nothing ever falls back to randomness of its own.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import httpx

from fairdraw import __version__
from fairdraw.config import ConfigError, Settings
from fairdraw.domain.beacon import QUICKNET, BeaconError, BeaconRound, Chain, iso_seconds
from fairdraw.domain.errors import Unavailable
from fairdraw.i18n import N_

logger = logging.getLogger(__name__)

# A round is ~200 bytes of JSON; anything much longer is not a round.
MAX_ANSWER_BYTES: Final = 64 * 1024
# Seconds between attempts while a due round is not served: doubling, then every 30 s.
RETRY_DELAYS: Final = (1, 2, 4, 8, 16, 30)
_NOT_YET: Final = frozenset({httpx.codes.NOT_FOUND, httpx.codes.TOO_EARLY})

OnWait = Callable[[str], Awaitable[None] | None]


class BeaconUnavailable(Unavailable):
    """No relay served a valid ``round``; ``detail`` says what each relay did."""

    code = "beacon_unavailable"
    title = N_("No beacon relay served the round")

    def __init__(self, round: int, detail: str) -> None:
        self.round = round
        super().__init__(detail, round=round)


class _RelayFailed(Exception):
    """One relay gave no valid round; ``not_yet`` when it said the round does not exist."""

    def __init__(self, reason: str, not_yet: bool = False) -> None:
        super().__init__(reason)
        self.not_yet = not_yet


class BeaconClient:
    """Verified rounds of one pinned ``chain`` from ``relays`` (base URLs, tried in order),
    each relay given ``timeout`` seconds per answer.

    ``http`` is a client of the caller's to send the requests with (the caller closes it);
    unset, the beacon client opens its own and :meth:`aclose` closes it.
    """

    def __init__(
        self,
        chain: Chain,
        relays: Sequence[str],
        timeout: float,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if not relays:
            raise ValueError("a beacon client needs at least one relay")
        if timeout <= 0:
            raise ValueError(f"a relay timeout is positive, got {timeout!r}")
        self.chain = chain
        self.relays = tuple(relay.rstrip("/") for relay in relays)
        self.timeout = timeout
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": f"fairdraw/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> BeaconClient | None:
        """The configured beacon: None with ``FAIRDRAW_BEACON=none``; the chain in
        ``FAIRDRAW_BEACON_CHAIN_FILE`` if set, else quicknet. Raises ConfigError for a
        chain file that cannot be read or is not a valid chain."""
        if settings.beacon == "none":
            return None
        chain = QUICKNET
        if settings.beacon_chain_file is not None:
            chain = load_chain_file(settings.beacon_chain_file)
        return cls(chain, settings.beacon_relays, settings.beacon_timeout_seconds)

    async def fetch_round(self, round: int) -> BeaconRound:
        """Round ``round``, verified, from the first relay that serves it validly.

        Raises BeaconUnavailable when none does, including when every relay says the
        round does not exist yet.
        """
        self.chain.round_time(round)  # a round number the chain can have
        reasons: list[str] = []
        for relay in self.relays:
            try:
                return await self._fetch_from(relay, round)
            except _RelayFailed as failure:
                level = logging.INFO if failure.not_yet else logging.WARNING
                logger.log(level, "beacon relay %s, round %s: %s", relay, round, failure)
                reasons.append(f"{relay}: {failure}")
        raise BeaconUnavailable(round, "; ".join(reasons))

    async def wait_for_round(
        self,
        round: int,
        on_wait: OnWait | None = None,
        clock: Callable[[], float] = time.time,
    ) -> BeaconRound:
        """Round ``round``, verified, once it exists: sleeps until its time, then asks the
        relays, again and again with growing pauses (:data:`RETRY_DELAYS`) until one
        serves it. Never gives up on its own; cancel the task to stop waiting.

        ``on_wait`` hears, in a sentence, each time the wait goes on: before sleeping
        until the round is due, and before each pause after no relay served it.
        """
        due = self.chain.round_time(round)
        early = due - clock()
        if early > 0:
            await _tell(on_wait, f"waiting for beacon round {round} (due {iso_seconds(due)})")
            await asyncio.sleep(early)
        delays = _retry_delays()
        while True:
            try:
                return await self.fetch_round(round)
            except BeaconUnavailable as exc:
                delay = next(delays)
                await _tell(
                    on_wait,
                    f"beacon round {round} not available from any relay yet: {exc.detail}; "
                    f"retrying in {delay} s",
                )
                await asyncio.sleep(delay)

    async def aclose(self) -> None:
        """Close the HTTP client if this beacon client opened it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> BeaconClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _fetch_from(self, relay: str, round: int) -> BeaconRound:
        """Round ``round`` from one relay, verified; _RelayFailed says why not."""
        url = f"{relay}/{self.chain.chain_hash}/public/{round}"
        try:
            async with asyncio.timeout(self.timeout):
                status, body = await self._get(url)
        except TimeoutError as exc:
            raise _RelayFailed(f"no answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise _RelayFailed(f"{type(exc).__name__}: {exc}") from exc
        if status in _NOT_YET:
            raise _RelayFailed(f"not published yet (HTTP {status})", not_yet=True)
        if status != httpx.codes.OK:
            raise _RelayFailed(f"HTTP {status}")
        try:
            return self._read_round(round, body)
        except ValueError as exc:  # BeaconError and JSON errors
            raise _RelayFailed(str(exc)) from exc

    async def _get(self, url: str) -> tuple[int, bytes]:
        """Status and body of a GET, the body cut off past MAX_ANSWER_BYTES."""
        async with self._http.stream("GET", url) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise _RelayFailed(f"an answer longer than {MAX_ANSWER_BYTES} bytes")
            return response.status_code, bytes(body)

    def _read_round(self, round: int, body: bytes) -> BeaconRound:
        """The verified round in a relay's 200 answer ``{"round", "randomness",
        "signature"}``; ValueError if it is not exactly the asked round, validly signed."""
        try:
            answer: Any = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"the answer is not JSON: {body[:80]!r}") from exc
        if not isinstance(answer, dict):
            raise ValueError("the answer is not a JSON object")
        answered = answer.get("round")
        if not isinstance(answered, int) or isinstance(answered, bool) or answered != round:
            raise ValueError(f"asked for round {round}, the answer is round {answered!r}")
        signature = _hex_field(answer, "signature")
        verified = BeaconRound.verified(self.chain, round, signature)
        if _hex_field(answer, "randomness") != verified.randomness:
            raise BeaconError(f"round {round}: the randomness is not sha256(signature)")
        return verified


def load_chain_file(path: Path) -> Chain:
    """The chain described by the JSON file at ``path`` (:meth:`Chain.from_json`: ours or
    a relay's ``/info`` answer); ConfigError if it cannot be read or is not a chain."""
    try:
        return Chain.from_json(json.loads(path.read_bytes()))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"FAIRDRAW_BEACON_CHAIN_FILE {path}: {exc}") from exc


def _hex_field(answer: dict[str, Any], name: str) -> bytes:
    value = answer.get(name)
    if not isinstance(value, str):
        raise ValueError(f"the answer's {name} is not a string: {value!r}")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise ValueError(f"the answer's {name} is not hex: {value[:100]!r}") from exc


def _retry_delays() -> Iterator[int]:
    return itertools.chain(RETRY_DELAYS, itertools.repeat(RETRY_DELAYS[-1]))


async def _tell(on_wait: OnWait | None, message: str) -> None:
    if on_wait is None:
        return
    result = on_wait(message)
    if inspect.isawaitable(result):
        await result
