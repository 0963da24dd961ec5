"""The GitHub client against a real HTTP stand-in for GitHub and a real store."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from fairdraw import __version__
from fairdraw.config import Settings
from fairdraw.domain.errors import GitHubUnavailable, GitHubUserNotFound, InvalidInput
from fairdraw.domain.identity import GitHubProfile
from fairdraw.services.github import MAX_ANSWER_BYTES, GitHubClient
from fairdraw.store.keys import Keys
from fairdraw.store.profiles import ProfileCache
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
TTL = 600
TOKEN = "ghp_0123456789abcdefghijklmnopqrstuvwxyz"
OCTOCAT_ID = 583231


async def cached_json(redis: Redis, login: str) -> object:
    """The profile cached for ``login``, as stored."""
    raw = await redis.get(KEYS.github_profile(login))
    assert isinstance(raw, str)
    return json.loads(raw)


@pytest.fixture
def cache(redis: Redis) -> ProfileCache:
    return ProfileCache(redis, KEYS, ttl_seconds=TTL)


@pytest.fixture
async def client(github: GitHubStandIn, cache: ProfileCache) -> AsyncIterator[GitHubClient]:
    async with GitHubClient(github.url, None, timeout=2.0, cache=cache) as client:
        yield client


@pytest.fixture
def octocat(github: GitHubStandIn) -> dict[str, object]:
    return github.add_user("octocat", OCTOCAT_ID, name="The Octocat")


async def test_lookup_returns_the_profile_with_its_stable_id(
    client: GitHubClient, github: GitHubStandIn, octocat: dict[str, object]
) -> None:
    profile = await client.lookup("octocat")

    assert profile.id == OCTOCAT_ID
    assert profile.identity == f"gh:{OCTOCAT_ID}"
    assert profile.login == "octocat"
    assert profile.name == "The Octocat"
    assert profile.avatar_url == f"https://avatars.githubusercontent.com/u/{OCTOCAT_ID}?v=4"
    assert profile.html_url == "https://github.com/octocat"
    assert [(method, path) for method, path, _ in github.requests] == [("GET", "/users/octocat")]


async def test_letter_case_and_at_sign_do_not_make_another_entrant(
    client: GitHubClient, github: GitHubStandIn, redis: Redis
) -> None:
    github.add_user("OctoCat", OCTOCAT_ID)

    first = await client.lookup("OctoCat")
    second = await client.lookup("octocat")
    third = await client.lookup(" @OCTOCAT ")

    assert first.identity == second.identity == third.identity == f"gh:{OCTOCAT_ID}"
    # GitHub's spelling of the login is kept; the cache key is case-folded.
    assert first.login == second.login == "OctoCat"
    assert len(github.requests) == 1
    assert await redis.keys("*") == [KEYS.github_profile("octocat")]


async def test_second_lookup_is_served_from_the_cache(
    client: GitHubClient, github: GitHubStandIn, redis: Redis, octocat: dict[str, object]
) -> None:
    first = await client.lookup("octocat")
    github.mode = "error"  # proves the second answer does not come from GitHub
    second = await client.lookup("octocat")

    assert second == first
    assert len(github.requests) == 1
    key = KEYS.github_profile("octocat")
    assert any(pattern.fullmatch(key) for pattern in KEYS.patterns())
    assert 0 < await redis.ttl(key) <= TTL
    assert await cached_json(redis, "octocat") == first.to_json()


async def test_an_unreadable_cache_entry_is_a_miss(
    client: GitHubClient, github: GitHubStandIn, redis: Redis, octocat: dict[str, object]
) -> None:
    key = KEYS.github_profile("octocat")
    await redis.set(key, "{not json", ex=TTL)

    profile = await client.lookup("octocat")

    assert profile.id == OCTOCAT_ID
    assert len(github.requests) == 1
    assert await cached_json(redis, "octocat") == profile.to_json()


async def test_unknown_user_is_not_found_and_not_cached(
    client: GitHubClient, github: GitHubStandIn, redis: Redis
) -> None:
    with pytest.raises(GitHubUserNotFound) as caught:
        await client.lookup("nobody-here")

    assert caught.value.detail == "No such GitHub user: nobody-here"
    assert await redis.exists(KEYS.github_profile("nobody-here")) == 0
    github.add_user("nobody-here", 7)
    assert (await client.lookup("nobody-here")).id == 7


async def test_an_answer_past_the_size_bound_is_unavailable_and_not_read(
    client: GitHubClient, github: GitHubStandIn, redis: Redis
) -> None:
    github.add_user("bigmouth", 8, name="x" * (MAX_ANSWER_BYTES + 1))
    github.add_user("justfits", 9, name="x" * (MAX_ANSWER_BYTES - 4096))

    with pytest.raises(GitHubUnavailable):
        await client.lookup("bigmouth")

    assert await redis.exists(KEYS.github_profile("bigmouth")) == 0
    assert (await client.lookup("justfits")).id == 9


@pytest.mark.parametrize("mode", ["rate_limited", "error", "garbage"])
async def test_github_failures_are_unavailable_and_not_cached(
    mode: str,
    client: GitHubClient,
    github: GitHubStandIn,
    redis: Redis,
    octocat: dict[str, object],
) -> None:
    github.mode = mode  # type: ignore[assignment]

    with pytest.raises(GitHubUnavailable) as caught:
        await client.lookup("octocat")

    assert caught.value.detail == "Could not check GitHub, try again"
    assert caught.value.__cause__ is not None
    assert await redis.exists(KEYS.github_profile("octocat")) == 0
    github.mode = "ok"
    assert (await client.lookup("octocat")).id == OCTOCAT_ID
    assert len(github.requests) == 2


async def test_a_slow_github_times_out(
    github: GitHubStandIn, cache: ProfileCache, redis: Redis, octocat: dict[str, object]
) -> None:
    github.mode = "slow"
    async with GitHubClient(github.url, None, timeout=0.3, cache=cache) as client:
        started = time.monotonic()
        with pytest.raises(GitHubUnavailable) as caught:
            await client.lookup("octocat")
        elapsed = time.monotonic() - started

    assert 0.3 <= elapsed < github.slow_seconds / 2
    assert caught.value.__cause__ is not None
    assert await redis.exists(KEYS.github_profile("octocat")) == 0


async def test_an_unreachable_github_is_unavailable(cache: ProfileCache, redis: Redis) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with GitHubClient(f"http://127.0.0.1:{closed_port}", None, 2.0, cache) as client:
        with pytest.raises(GitHubUnavailable) as caught:
            await client.lookup("octocat")

    assert caught.value.__cause__ is not None
    assert await redis.exists(KEYS.github_profile("octocat")) == 0


@pytest.mark.parametrize("missing", ["id", "login"])
async def test_an_answer_without_id_or_login_is_unavailable(
    missing: str,
    client: GitHubClient,
    github: GitHubStandIn,
    redis: Redis,
    octocat: dict[str, object],
) -> None:
    del octocat[missing]

    with pytest.raises(GitHubUnavailable):
        await client.lookup("octocat")

    assert await redis.exists(KEYS.github_profile("octocat")) == 0


async def test_failures_are_logged_with_the_status_and_without_the_token(
    github: GitHubStandIn,
    cache: ProfileCache,
    octocat: dict[str, object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with GitHubClient(github.url, TOKEN, 2.0, cache) as client:
        for mode, status in [("rate_limited", "HTTP 403"), ("error", "HTTP 502")]:
            github.mode = mode  # type: ignore[assignment]
            caplog.clear()
            with pytest.raises(GitHubUnavailable):
                await client.lookup("octocat")

            warnings = [r for r in caplog.records if r.name == "fairdraw.services.github"]
            assert [r.levelno for r in warnings] == [logging.WARNING]
            assert status in warnings[0].getMessage()
            assert "octocat" in warnings[0].getMessage()
            assert TOKEN not in caplog.text


async def test_rate_limit_warning_names_the_limit(
    client: GitHubClient,
    github: GitHubStandIn,
    octocat: dict[str, object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    github.mode = "rate_limited"
    with (
        caplog.at_level(logging.WARNING, logger="fairdraw.services.github"),
        pytest.raises(GitHubUnavailable),
    ):
        await client.lookup("octocat")

    assert "GitHub rate limit reached looking up octocat (HTTP 403, limit 60" in caplog.text


async def test_token_is_sent_as_bearer_when_configured(
    github: GitHubStandIn, cache: ProfileCache, octocat: dict[str, object]
) -> None:
    async with GitHubClient(github.url, TOKEN, 2.0, cache) as client:
        await client.lookup("octocat")

    [(_, _, headers)] = github.requests
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"] == f"fairdraw/{__version__}"


async def test_no_authorization_header_without_a_token(
    client: GitHubClient, github: GitHubStandIn, octocat: dict[str, object]
) -> None:
    await client.lookup("octocat")

    [(_, _, headers)] = github.requests
    assert "authorization" not in headers
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["user-agent"] == f"fairdraw/{__version__}"


@pytest.mark.parametrize("raw", ["octocat%3Fx", "octocat/", "../etc", "octo cat", "", "ö"])
async def test_an_invalid_handle_makes_no_request(
    raw: str, client: GitHubClient, github: GitHubStandIn, octocat: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await client.lookup(raw)

    assert list(caught.value.errors) == ["github"]
    assert github.requests == []


async def test_organisations_are_refused_and_not_cached(
    client: GitHubClient, github: GitHubStandIn, redis: Redis
) -> None:
    org = github.add_user("github", 9919)
    org["type"] = "Organization"

    with pytest.raises(InvalidInput) as caught:
        await client.lookup("GitHub")

    assert caught.value.errors == {"github": "github is an organisation, not a user"}
    assert await redis.exists(KEYS.github_profile("github")) == 0


async def test_unsafe_urls_from_github_are_not_kept(
    client: GitHubClient, github: GitHubStandIn, redis: Redis, octocat: dict[str, object]
) -> None:
    octocat["avatar_url"] = "javascript:alert(document.cookie)"
    octocat["html_url"] = "javascript:alert(document.cookie)"

    profile = await client.lookup("octocat")

    assert profile.avatar_url is None
    assert profile.html_url == "https://github.com/octocat"
    assert "javascript" not in json.dumps(await cached_json(redis, "octocat"))


async def test_lookup_by_id_asks_github_and_refreshes_the_cache(
    client: GitHubClient, github: GitHubStandIn, redis: Redis, octocat: dict[str, object]
) -> None:
    await client.lookup("octocat")
    octocat["name"] = "Mona"

    profile = await client.lookup_by_id(OCTOCAT_ID)

    assert profile.name == "Mona"
    assert [path for _, path, _ in github.requests] == ["/users/octocat", f"/user/{OCTOCAT_ID}"]
    assert (await client.lookup("octocat")).name == "Mona"
    assert len(github.requests) == 2
    assert 0 < await redis.ttl(KEYS.github_profile("octocat")) <= TTL


async def test_lookup_by_unknown_id_is_not_found(
    client: GitHubClient, github: GitHubStandIn
) -> None:
    with pytest.raises(GitHubUserNotFound) as caught:
        await client.lookup_by_id(12345)

    assert caught.value.detail == "No such GitHub user: id 12345"


@pytest.mark.parametrize("user_id", [0, -3])
async def test_lookup_by_id_refuses_impossible_ids(
    user_id: int, client: GitHubClient, github: GitHubStandIn
) -> None:
    with pytest.raises(InvalidInput):
        await client.lookup_by_id(user_id)

    assert github.requests == []


async def test_lookup_by_id_refuses_an_answer_for_another_id(
    cache: ProfileCache, redis: Redis
) -> None:
    # The stand-in always answers for the id asked, so this answer comes from a transport.
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": OCTOCAT_ID + 1, "login": "octocat"})

    transport = httpx.MockTransport(answer)
    async with GitHubClient("https://api.github.test", None, 2.0, cache, transport) as client:
        with pytest.raises(GitHubUnavailable):
            await client.lookup_by_id(OCTOCAT_ID)

    assert await redis.exists(KEYS.github_profile("octocat")) == 0


async def test_from_settings_uses_the_configured_url_token_and_timeout(
    github: GitHubStandIn, cache: ProfileCache, octocat: dict[str, object]
) -> None:
    settings = Settings(
        github_api_url=github.url, github_token=SecretStr(TOKEN), github_timeout=0.3
    )
    async with GitHubClient.from_settings(settings, cache) as client:
        assert (await client.lookup("octocat")).id == OCTOCAT_ID
        github.mode = "slow"
        started = time.monotonic()
        with pytest.raises(GitHubUnavailable):
            await client.lookup_by_id(OCTOCAT_ID)
        assert time.monotonic() - started < github.slow_seconds / 2

    assert github.requests[0][2]["authorization"] == f"Bearer {TOKEN}"


async def test_profile_cache_keys_by_the_login_asked_for(cache: ProfileCache, redis: Redis) -> None:
    profile = GitHubProfile(OCTOCAT_ID, "mona", None, None, "https://github.com/mona")

    await cache.put(profile, "OctoCat")

    assert await redis.keys("*") == [KEYS.github_profile("octocat")]
    assert await cache.get("octocat") == profile
    assert await cache.get("mona") is None
    with pytest.raises(ValueError, match="not a GitHub login"):
        await cache.put(profile, "../x")
