"""The beacon client against real HTTP stand-ins for drand's relays: real quicknet rounds,
a test chain signing rounds as their time comes, and relays failing every way we know."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from pathlib import Path

import httpx
import pytest

from fairdraw.config import ConfigError, Settings
from fairdraw.domain.beacon import QUICKNET, BeaconRound, iso_seconds
from fairdraw.services.beacon import MAX_ANSWER_BYTES, BeaconClient, BeaconUnavailable
from tests.support.drand_relay import (
    DrandRelays,
    TestChain,
    chain_file_content,
    quicknet_rounds,
    sign_round,
)

TIMEOUT = 0.5
LOGGER = "fairdraw.services.beacon"


def published_round(chain: TestChain) -> int:
    """A round of ``chain`` that exists already."""
    return chain.chain.round_at(int(time.time())) - 1


def relay_reasons(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == level]


async def test_a_real_quicknet_round_through_a_relay(drand: DrandRelays) -> None:
    (relay,) = drand.relays("ok")
    async with BeaconClient(QUICKNET, [relay], TIMEOUT) as client:
        beacon = await client.fetch_round(657413)
    assert beacon == BeaconRound.verified(QUICKNET, 657413, quicknet_rounds()[657413])
    assert beacon.randomness.hex() == (
        "fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587"
    )
    assert drand.asked(relay) == [f"/{QUICKNET.chain_hash}/public/657413"]


async def test_a_published_test_chain_round(drand: DrandRelays) -> None:
    chain = drand.test_chain
    round = published_round(chain)
    (relay,) = drand.relays("ok")
    async with BeaconClient(chain.chain, [relay + "/"], TIMEOUT) as client:
        beacon = await client.fetch_round(round)
    signature = sign_round(chain, round)
    assert beacon == BeaconRound(chain.chain, round, signature, hashlib.sha256(signature).digest())
    assert drand.asked(relay) == [f"/{chain.chain.chain_hash}/public/{round}"]


async def test_failover_past_every_kind_of_broken_relay(
    drand: DrandRelays, caplog: pytest.LogCaptureFixture
) -> None:
    chain = drand.test_chain
    round = published_round(chain)
    relays = drand.relays(
        "down", "slow", "garbage", "huge", "wrong_round", "bad_signature", "error", "not_yet", "ok"
    )
    down, slow, garbage, huge, wrong, forged, error, not_yet = relays[:-1]
    caplog.set_level(logging.INFO, logger=LOGGER)
    started = time.monotonic()
    async with BeaconClient(chain.chain, relays, TIMEOUT) as client:
        beacon = await client.fetch_round(round)
    elapsed = time.monotonic() - started

    assert beacon == BeaconRound.verified(chain.chain, round, sign_round(chain, round))
    path = f"/{chain.chain.chain_hash}/public/{round}"
    for relay in relays[1:]:
        assert drand.asked(relay) == [path]
    # The slow relay cost one timeout, not its five seconds.
    assert TIMEOUT <= elapsed < TIMEOUT + 2
    warnings = relay_reasons(caplog, logging.WARNING)
    assert len(warnings) == 7
    assert warnings[0].startswith(f"beacon relay {down}, round {round}: ConnectError: ")
    assert warnings[1:] == [
        f"beacon relay {slow}, round {round}: no answer within 0.5 s",
        f"beacon relay {garbage}, round {round}: the answer is not JSON: "
        "b'<html><body>502 Bad Gateway</body></html>'",
        f"beacon relay {huge}, round {round}: an answer longer than {MAX_ANSWER_BYTES} bytes",
        f"beacon relay {wrong}, round {round}: asked for round {round}, "
        f"the answer is round {round - 1}",
        f"beacon relay {forged}, round {round}: round {round}: the signature does not verify "
        f"under the public key of chain {chain.chain.chain_hash}",
        f"beacon relay {error}, round {round}: HTTP 502",
    ]
    assert relay_reasons(caplog, logging.INFO) == [
        f"beacon relay {not_yet}, round {round}: not published yet (HTTP 425)"
    ]


async def test_quicknet_answers_of_another_round_or_key_are_skipped(drand: DrandRelays) -> None:
    relays = drand.relays("wrong_round", "bad_signature", "ok")
    async with BeaconClient(QUICKNET, relays, TIMEOUT) as client:
        beacon = await client.fetch_round(1000)
    assert beacon.randomness.hex() == (
        "fe290beca10872ef2fb164d2aa4442de4566183ec51c56ff3cd603d930e54fdd"
    )
    assert [len(drand.asked(relay)) for relay in relays] == [1, 1, 1]


async def test_no_valid_relay_is_unavailable_never_a_fallback(drand: DrandRelays) -> None:
    chain = drand.test_chain
    round = published_round(chain)
    relays = drand.relays("garbage", "bad_signature", "error")
    async with BeaconClient(chain.chain, relays, TIMEOUT) as client:
        with pytest.raises(BeaconUnavailable) as raised:
            await client.fetch_round(round)
    assert raised.value.round == round
    assert raised.value.status == 503
    assert raised.value.code == "beacon_unavailable"
    assert raised.value.extra == {"round": round}
    assert raised.value.detail == (
        f"{relays[0]}: the answer is not JSON: b'<html><body>502 Bad Gateway</body></html>'; "
        f"{relays[1]}: round {round}: the signature does not verify under the public key of "
        f"chain {chain.chain.chain_hash}; "
        f"{relays[2]}: HTTP 502"
    )


async def test_a_round_from_the_future_is_unavailable(
    drand: DrandRelays, caplog: pytest.LogCaptureFixture
) -> None:
    chain = drand.test_chain
    future = chain.chain.round_at(int(time.time())) + 30
    relays = drand.relays("ok", "ok")
    caplog.set_level(logging.INFO, logger=LOGGER)
    async with BeaconClient(chain.chain, relays, TIMEOUT) as client:
        with pytest.raises(BeaconUnavailable) as raised:
            await client.fetch_round(future)
    assert raised.value.detail == (
        f"{relays[0]}: not published yet (HTTP 425); {relays[1]}: not published yet (HTTP 425)"
    )
    assert relay_reasons(caplog, logging.WARNING) == []


async def test_an_unknown_quicknet_round_is_unavailable(drand: DrandRelays) -> None:
    # The stand-in only knows the recorded rounds; drand would answer 404 for a missing one.
    (relay,) = drand.relays("ok")
    async with BeaconClient(QUICKNET, [relay], TIMEOUT) as client:
        with pytest.raises(BeaconUnavailable, match=r"not published yet \(HTTP 404\)"):
            await client.fetch_round(1001)


async def test_wait_for_round_sleeps_until_the_round_exists(drand: DrandRelays) -> None:
    chain = drand.test_chain
    round = chain.chain.round_at(int(time.time())) + 2
    due = chain.chain.round_time(round)
    (relay,) = drand.relays("ok")
    heard: list[str] = []
    async with BeaconClient(chain.chain, [relay], TIMEOUT) as client:
        beacon = await client.wait_for_round(round, heard.append)
    assert time.time() >= due
    assert heard == [f"waiting for beacon round {round} (due {iso_seconds(due)})"]
    assert beacon == BeaconRound.verified(chain.chain, round, sign_round(chain, round))
    # Asked once, when the round was due: no polling before its time.
    assert drand.asked(relay) == [f"/{chain.chain.chain_hash}/public/{round}"]


async def test_wait_for_round_retries_until_a_relay_serves_it(drand: DrandRelays) -> None:
    chain = drand.test_chain
    round = published_round(chain)
    down, late = drand.relays("down", "not_yet")
    heard: list[str] = []

    async def on_wait(message: str) -> None:
        heard.append(message)
        drand.set_mode(late, "ok")  # the relay catches up during the pause

    async with BeaconClient(chain.chain, [down, late], TIMEOUT) as client:
        beacon = await client.wait_for_round(round, on_wait)
    assert beacon.round == round
    assert len(heard) == 1
    assert heard[0].startswith(
        f"beacon round {round} not available from any relay yet: {down}: ConnectError: "
    )
    assert heard[0].endswith(f"; {late}: not published yet (HTTP 425); retrying in 1 s")
    assert len(drand.asked(late)) == 2


async def test_wait_for_round_backs_off_and_never_gives_up(drand: DrandRelays) -> None:
    chain = drand.test_chain
    round = published_round(chain)
    (relay,) = drand.relays("error")
    heard: list[str] = []
    third = asyncio.Event()

    def on_wait(message: str) -> None:
        heard.append(message)
        if len(heard) == 3:
            third.set()

    async with BeaconClient(chain.chain, [relay], TIMEOUT) as client:
        waiting = asyncio.create_task(client.wait_for_round(round, on_wait))
        await asyncio.wait_for(third.wait(), timeout=10)
        assert not waiting.done()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    prefix = f"beacon round {round} not available from any relay yet: {relay}: HTTP 502"
    assert heard == [
        f"{prefix}; retrying in 1 s",
        f"{prefix}; retrying in 2 s",
        f"{prefix}; retrying in 4 s",
    ]
    assert len(drand.asked(relay)) == 3


async def test_wait_for_round_takes_the_time_from_the_given_clock(drand: DrandRelays) -> None:
    chain = drand.test_chain
    round = published_round(chain)
    (relay,) = drand.relays("ok")
    heard: list[str] = []
    # A clock that says the round is due: no waiting, whatever the wall clock says.
    async with BeaconClient(chain.chain, [relay], TIMEOUT) as client:
        beacon = await client.wait_for_round(
            round, heard.append, clock=lambda: float(chain.chain.round_time(round))
        )
    assert beacon.round == round
    assert heard == []


async def test_wait_for_round_of_a_future_round_says_when_it_is_due(drand: DrandRelays) -> None:
    later = drand.add_chain(TestChain(genesis_time=int(time.time()) + 3600, seed=b"later"))
    (relay,) = drand.relays("ok")
    heard: list[str] = []
    async with BeaconClient(later.chain, [relay], TIMEOUT) as client:
        waiting = asyncio.create_task(client.wait_for_round(5, heard.append))
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    due = later.chain.round_time(5)
    assert heard == [f"waiting for beacon round 5 (due {iso_seconds(due)})"]
    assert drand.asked(relay) == []


async def test_a_callers_http_client_is_left_open(drand: DrandRelays) -> None:
    chain = drand.test_chain
    (relay,) = drand.relays("ok")
    async with httpx.AsyncClient() as http:
        async with BeaconClient(chain.chain, [relay], TIMEOUT, http=http) as client:
            await client.fetch_round(published_round(chain))
        assert not http.is_closed


# -- from settings ---------------------------------------------------------------------


def test_no_beacon_configured() -> None:
    assert BeaconClient.from_settings(Settings(beacon="none")) is None


def test_quicknet_is_the_default_chain() -> None:
    settings = Settings(beacon_relays="https://relay-a.example/, https://relay-b.example")
    client = BeaconClient.from_settings(settings)
    assert client is not None
    assert client.chain == QUICKNET
    assert client.relays == ("https://relay-a.example", "https://relay-b.example")
    assert client.timeout == settings.beacon_timeout_seconds


@pytest.mark.parametrize("drand_names", [True, False])
async def test_a_chain_file_replaces_quicknet(
    drand: DrandRelays, tmp_path: Path, drand_names: bool
) -> None:
    chain = drand.test_chain
    chain_file = tmp_path / "chain.json"
    chain_file.write_text(chain_file_content(chain.chain, drand_names=drand_names))
    (relay,) = drand.relays("ok")
    settings = Settings(
        beacon_chain_file=chain_file, beacon_relays=relay, beacon_timeout_seconds=TIMEOUT
    )
    client = BeaconClient.from_settings(settings)
    assert client is not None
    async with client:
        assert client.chain == chain.chain
        round = published_round(chain)
        assert (await client.fetch_round(round)).signature == sign_round(chain, round)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file"),
        ("{", "Expecting property name"),
        ('{"hash": "00"}', "chain info has no public_key"),
        (chain_file_content(QUICKNET).replace("rfc9380", "rfc9381"), "unsupported beacon scheme"),
    ],
)
def test_a_broken_chain_file_is_a_config_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    chain_file = tmp_path / "chain.json"
    if content is not None:
        chain_file.write_text(content)
    with pytest.raises(ConfigError, match=f"FAIRDRAW_BEACON_CHAIN_FILE {chain_file}: .*{message}"):
        BeaconClient.from_settings(Settings(beacon_chain_file=chain_file))
