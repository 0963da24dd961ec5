"""The JSON API under Schemathesis: every check, every phase, as an anonymous client and as
an administrator, with path parameters filled with a real giveaway, raffle and lottery;
0 responses 5xx and 0 failures (tests/support/fuzzing.py says what runs and how).

Derandomized (``--generation-deterministic``): the same code generates the same requests,
so a failure here repeats with ``pytest tests/integration/test_api_fuzz.py``, and the
Schemathesis output in the failure message names the request (a curl line) to repeat it
by hand. The budget (:data:`MAX_EXAMPLES` per operation) keeps the module to about two
minutes on two cores; bench/bench_fuzz.py is the full run, over 20,000 requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis import Redis

from tests.support.app import ADMIN, PARTICIPANT, create_accounts, make_settings, serve
from tests.support.fuzzing import (
    EveryLoginOnGitHub,
    FuzzRun,
    Targets,
    access_token,
    create_targets,
    run_fuzzer,
    write_config,
)

MAX_EXAMPLES = 25


@dataclass
class FuzzedApi:
    url: str
    targets: Targets
    config: Path
    admin_token: str


@pytest.fixture(scope="module")
def fuzzed_api(store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzedApi]:
    """A real uvicorn serving the app on the test store, with the fuzzer's targets."""
    store = Redis.from_url(store_url)
    store.flushdb()
    store.close()
    with EveryLoginOnGitHub() as github:
        settings = make_settings(store_url, github.url)
        asyncio.run(create_accounts(settings))
        with serve(settings) as served:
            targets = create_targets(served.url, ADMIN, PARTICIPANT[0])
            with httpx.Client(base_url=served.url) as client:
                token = access_token(client, ADMIN)
            config = write_config(tmp_path_factory.mktemp("fuzz") / "schemathesis.toml", targets)
            yield FuzzedApi(served.url, targets, config, token)


def fuzz(api: FuzzedApi, identity: str, reports: Path, token: str | None) -> FuzzRun:
    run = run_fuzzer(
        identity,
        f"{api.url}/openapi.json",
        api.config,
        reports,
        max_examples=MAX_EXAMPLES,
        token=token,
    )
    assert run.errors == {}, run.report()
    assert run.failures == {}, run.report()
    assert run.exit_code == 0, run.report()
    assert run.server_errors == 0, run.by_class()
    # A run that never got going (no schema, a server down) would have nothing to fail.
    assert run.requests >= 1000, run.by_class()
    return run


def test_anonymous_requests_get_no_5xx_and_break_no_check(
    fuzzed_api: FuzzedApi, tmp_path: Path
) -> None:
    run = fuzz(fuzzed_api, "anonymous", tmp_path, token=None)

    targets = fuzzed_api.targets
    # The real ids took the fuzzer past the 404s: entries and claims were accepted.
    assert run.successes[f"POST /api/v1/draws/{targets.giveaway}/entries"] > 0
    assert run.successes[f"POST /api/v1/draws/{targets.raffle}/tickets"] > 0


def test_an_administrator_gets_no_5xx_and_breaks_no_check(
    fuzzed_api: FuzzedApi, tmp_path: Path
) -> None:
    run = fuzz(fuzzed_api, "admin", tmp_path, token=fuzzed_api.admin_token)

    targets = fuzzed_api.targets
    # (The anonymous run entered the logins this one tries: they answer 409.)
    for reached in [
        f"POST /api/v1/draws/{targets.raffle}/tickets",
        f"POST /api/v1/lotteries/{targets.lottery}/ballots",
        f"POST /api/v1/draws/{targets.drawn}/reveal",
        f"GET /api/v1/draws/{targets.giveaway}/dashboard",
        f"PATCH /api/v1/users/{targets.username}",
        "POST /api/v1/draws",
    ]:
        assert run.successes[reached] > 0, reached
