"""A stand-in for drand's HTTP relays: a real HTTP server on loopback, for tests.

It speaks the relay API fairdraw uses (``GET {relay}/{chain_hash}/info`` and
``GET {relay}/{chain_hash}/public/{round}``) for two kinds of chain:

- quicknet, serving the real rounds recorded in ``tests/data/quicknet_rounds.json``, so
  the real public key verifies them;
- test chains (:class:`TestChain`): the same scheme under a key made from a fixed seed,
  one round a second by default, each round signed on demand once its time has come
  (earlier: 425, as drand answers a round from the future).

One server hosts any number of relays, each under its own path (``/relay/<n>``) with its
own :data:`Mode`, so a client can be given a list of relays that fail in different ways.
A relay in mode ``"down"`` is a loopback port that refuses every connection.

Fixtures: ``drand_relay`` (session; started once, with one test chain) and ``drand`` (per
test; relays, modes, extra chains and recorded requests reset).
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
from py_arkworks_bls12381 import G1Point, G2Point, Scalar

from fairdraw.domain.beacon import DST, QUICKNET, SCHEME, Chain, round_message

Mode = Literal[
    "ok", "down", "slow", "garbage", "huge", "wrong_round", "bad_signature", "error", "not_yet"
]

QUICKNET_ROUNDS_FILE = Path(__file__).resolve().parents[1] / "data" / "quicknet_rounds.json"
TEST_CHAIN_SEED = b"fairdraw test chain"
# Signs "bad_signature" answers: a valid G1 point that no chain's key verifies.
_FORGER_SEED = b"fairdraw forged rounds"

_RELAY_PATH = re.compile(r"/relay/([0-9]+)(/.*)")
_PUBLIC_ROUND = re.compile(r"/([0-9a-f]{64})/public/([0-9]+)")
_INFO = re.compile(r"/([0-9a-f]{64})/info")


def _secret(seed: bytes) -> Scalar:
    return Scalar.from_be_bytes_mod_order(hashlib.sha256(seed).digest())


def quicknet_rounds() -> dict[int, bytes]:
    """The recorded quicknet rounds: round number → signature."""
    recorded = json.loads(QUICKNET_ROUNDS_FILE.read_text())
    return {entry["round"]: bytes.fromhex(entry["signature"]) for entry in recorded["rounds"]}


def quicknet_info() -> dict[str, Any]:
    """Quicknet's ``/info`` answer, as recorded."""
    info: dict[str, Any] = json.loads(QUICKNET_ROUNDS_FILE.read_text())["info"]
    return info


class TestChain:
    """A drand chain with scheme ``bls-unchained-g1-rfc9380`` whose secret key the tests
    hold: made from ``seed`` (the same key in every run), ``period`` seconds a round,
    genesis at ``genesis_time`` (default: a minute before now, so rounds exist already and
    new ones come every period). ``chain`` is what fairdraw pins."""

    __test__ = False  # not a test class, whatever its name says to pytest

    def __init__(
        self, genesis_time: int | None = None, period: int = 1, seed: bytes = TEST_CHAIN_SEED
    ) -> None:
        self.secret = _secret(seed)
        public_key = (G2Point() * self.secret).to_compressed_bytes()
        genesis = int(time.time()) - 60 if genesis_time is None else genesis_time
        identity = b"fairdraw test chain\x00" + public_key + period.to_bytes(8, "big")
        self.chain = Chain(
            chain_hash=hashlib.sha256(identity + genesis.to_bytes(8, "big")).hexdigest(),
            public_key=public_key,
            period=period,
            genesis_time=genesis,
            scheme=SCHEME,
        )

    def info(self) -> dict[str, Any]:
        """The chain's ``/info`` answer, in drand's field names."""
        return drand_info(self.chain)

    def published(self, round: int, now: float | None = None) -> bool:
        """Whether round ``round`` exists at ``now`` (default: the wall clock)."""
        return self.chain.round_time(round) <= (time.time() if now is None else now)


def sign_round(test_chain: TestChain, round: int) -> bytes:
    """The test chain's signature of round ``round``: ``sk · H(sha256(u64be(round)))``,
    compressed (48 bytes). Any round, published or not."""
    return _sign(test_chain.secret, round)


def _sign(secret: Scalar, round: int) -> bytes:
    hashed = G1Point.hash_to_curve(round_message(round), DST)
    return (hashed * secret).to_compressed_bytes()


def drand_info(chain: Chain) -> dict[str, Any]:
    """``chain`` as a drand relay's ``/info`` answers it."""
    return {
        "public_key": chain.public_key.hex(),
        "period": chain.period,
        "genesis_time": chain.genesis_time,
        "hash": chain.chain_hash,
        "groupHash": hashlib.sha256(b"group\x00" + chain.public_key).hexdigest(),
        "schemeID": chain.scheme,
        "metadata": {"beaconID": "fairdraw-test"},
    }


def chain_file_content(chain: Chain, drand_names: bool = True) -> str:
    """The text of a ``FAIRDRAW_BEACON_CHAIN_FILE`` for ``chain``: a relay's ``/info``
    answer (``drand_names``), or :meth:`Chain.to_json`."""
    return json.dumps(drand_info(chain) if drand_names else chain.to_json(), indent=2) + "\n"


def round_answer(round: int, signature: bytes) -> dict[str, Any]:
    """A relay's answer for a round: ``{"round", "randomness", "signature"}``."""
    return {
        "round": round,
        "randomness": hashlib.sha256(signature).hexdigest(),
        "signature": signature.hex(),
    }


class DrandRelays:
    """drand relays on ``127.0.0.1``: quicknet's recorded rounds and test chains.

    :meth:`add_relay` gives a relay's base URL; its mode decides how it answers a round:

    - ``"ok"``: like drand: the round, 425 before its time, 404 for a quicknet round
      that was not recorded or a chain it does not know
    - ``"down"``: nothing listens (connection refused); fixed when the relay is added
    - ``"slow"``: an ``"ok"`` answer after ``slow_seconds`` (beyond a client timeout)
    - ``"garbage"``: 200 with an HTML body
    - ``"huge"``: 200 with a JSON body of a megabyte
    - ``"wrong_round"``: 200 with another round, validly signed
    - ``"bad_signature"``: 200 with the asked round and a valid G1 point as signature
      that the chain's key did not make
    - ``"error"``: 502
    - ``"not_yet"``: 425, whatever the round

    ``requests`` records ``(relay URL, path)`` of every request a live relay received.
    """

    def __init__(self, test_chain: TestChain, slow_seconds: float = 5.0) -> None:
        self.test_chain = test_chain
        self.slow_seconds = slow_seconds
        self.requests: list[tuple[str, str]] = []
        self._quicknet = quicknet_rounds()
        self._chains: dict[str, TestChain] = {}
        self._modes: dict[int, Mode] = {}
        self._lock = threading.Lock()
        # Set to let requests sleeping in "slow" mode finish early.
        self._wake = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._refusing: socket.socket | None = None
        self.reset()

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:40123``."""
        if self._server is None:
            raise RuntimeError("the drand relay stand-in is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_relay(self, mode: Mode = "ok") -> str:
        """A new relay's base URL; it answers in ``mode`` until :meth:`set_mode`."""
        with self._lock:
            number = len(self._modes)
            self._modes[number] = mode
        if mode == "down":
            return f"http://127.0.0.1:{self._refusing_port()}/relay/{number}"
        return f"{self.url}/relay/{number}"

    def relays(self, *modes: Mode) -> list[str]:
        """One new relay per mode, in order."""
        return [self.add_relay(mode) for mode in modes]

    def set_mode(self, relay_url: str, mode: Mode) -> None:
        """Change how a live relay (not one added ``"down"``) answers from now on."""
        prefix = f"{self.url}/relay/"
        if not relay_url.startswith(prefix) or mode == "down":
            raise ValueError(f"{relay_url} is not a live relay, or {mode!r} is not a live mode")
        self._modes[int(relay_url.removeprefix(prefix))] = mode

    def add_chain(self, chain: TestChain) -> TestChain:
        """Serve ``chain`` too (until the next reset)."""
        self._chains[chain.chain.chain_hash] = chain
        return chain

    def asked(self, relay_url: str) -> list[str]:
        """The paths ``relay_url`` was asked for, in order."""
        with self._lock:
            return [path for url, path in self.requests if url == relay_url]

    def reset(self) -> None:
        """Forget relays, extra chains and requests; release sleeping requests."""
        self._wake.set()
        with self._lock:
            self._modes.clear()
            self.requests.clear()
        self._chains = {self.test_chain.chain.chain_hash: self.test_chain}
        self._wake.clear()

    def start(self) -> DrandRelays:
        """Start serving in a daemon thread."""
        if self._server is not None:
            return self
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="drand-relay-stand-in", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        self._wake.set()
        if self._refusing is not None:
            self._refusing.close()
            self._refusing = None
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> DrandRelays:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _refusing_port(self) -> int:
        """A loopback port bound but never listening: connections to it are refused."""
        if self._refusing is None:
            self._refusing = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._refusing.bind(("127.0.0.1", 0))
        port: int = self._refusing.getsockname()[1]
        return port

    # -- called from the handler threads --------------------------------------------
    def _answer(self, path: str) -> tuple[int, bytes]:
        """Status and body for a GET of ``path`` (with its ``/relay/<n>`` prefix)."""
        match = _RELAY_PATH.fullmatch(path)
        if match is None or int(match[1]) not in self._modes:
            return 404, b"no such relay\n"
        number, rest = int(match[1]), match[2]
        with self._lock:
            self.requests.append((f"{self.url}/relay/{number}", rest))
        mode = self._modes[number]
        if mode == "slow":
            self._wake.wait(self.slow_seconds)
        elif mode == "garbage":
            return 200, b"<html><body>502 Bad Gateway</body></html>"
        elif mode == "huge":
            return 200, _json({"padding": "0" * (1 << 20)})
        elif mode == "error":
            return 502, b"upstream unavailable\n"
        elif mode == "not_yet":
            return 425, b"requested future beacon\n"
        if info := _INFO.fullmatch(rest):
            return self._info(info[1])
        if public := _PUBLIC_ROUND.fullmatch(rest):
            return self._round(public[1], int(public[2]), mode)
        return 404, b"not found\n"

    def _info(self, chain_hash: str) -> tuple[int, bytes]:
        if chain_hash == QUICKNET.chain_hash:
            return 200, _json(quicknet_info())
        chain = self._chains.get(chain_hash)
        return (200, _json(chain.info())) if chain is not None else (404, b"unknown chain\n")

    def _round(self, chain_hash: str, round: int, mode: Mode) -> tuple[int, bytes]:
        if round < 1:
            return 400, b"invalid round\n"
        if mode == "bad_signature":
            return 200, _json(round_answer(round, _sign(_secret(_FORGER_SEED), round)))
        if chain_hash == QUICKNET.chain_hash:
            return self._quicknet_round(round, mode)
        chain = self._chains.get(chain_hash)
        if chain is None:
            return 404, b"unknown chain\n"
        if not chain.published(round):
            return 425, b"requested future beacon\n"
        if mode == "wrong_round":
            round = round - 1 if round > 1 else round + 1
        return 200, _json(round_answer(round, sign_round(chain, round)))

    def _quicknet_round(self, round: int, mode: Mode) -> tuple[int, bytes]:
        if round not in self._quicknet:
            published = QUICKNET.round_time(round) <= time.time()
            return (404, b"not recorded\n") if published else (425, b"requested future beacon\n")
        if mode == "wrong_round":
            round = next(other for other in sorted(self._quicknet) if other != round)
        return 200, _json(round_answer(round, self._quicknet[round]))


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        relays: DrandRelays,
    ) -> None:
        self.relays = relays
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a slow relay closes its socket before the answer is
        # written; that is the expected end of such a request, not a failure.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Head and body go out in two writes: without this, each answer waits for a delayed
    # ACK (about 40 ms).
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        status, body = self.server.relays._answer(urlsplit(self.path).path)
        self.send_response(status)
        content_type = "text/html" if body.startswith(b"<") else "application/json"
        if status != 200:
            content_type = "text/plain"
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def drand_relay() -> Iterator[DrandRelays]:
    """The drand relay stand-in with one test chain, started once for the session."""
    with DrandRelays(TestChain()) as relays:
        yield relays


@pytest.fixture
def drand(drand_relay: DrandRelays) -> Iterator[DrandRelays]:
    """The drand relay stand-in with no relays yet and only its own test chain."""
    drand_relay.reset()
    yield drand_relay
    drand_relay.reset()
