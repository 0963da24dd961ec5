"""Rate limits counted in a real store."""

from __future__ import annotations

import logging
import string
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr
from redis.asyncio import Redis

from fairdraw.config import Settings
from fairdraw.domain.errors import RateLimited
from fairdraw.services.ratelimit import RateLimits
from fairdraw.store.keys import Keys

PREFIX = "rltest:"
KEYS = Keys(PREFIX)
DRAW = "abcdefghijkl"
OTHER_DRAW = "mnopqrstuvwx"
FAMILY = "a" * 26
OTHER_FAMILY = "b" * 26
LIMIT = 3
GENEROUS = "1000/minute"


def settings(store_url: str, **overrides: str) -> Settings:
    values: dict[str, Any] = {
        "redis_url": store_url,
        "secret_key": SecretStr("s" * 48),
        "key_prefix": PREFIX,
        "rate_limit_login_user": GENEROUS,
        "rate_limit_login_address": GENEROUS,
        "rate_limit_registration": GENEROUS,
        "rate_limit_entries": GENEROUS,
        "rate_limit_token_refresh": GENEROUS,
    }
    values.update(overrides)
    return Settings(**values)


@pytest_asyncio.fixture
async def limits_for(store_url: str, redis: Redis) -> AsyncIterator[Callable[..., RateLimits]]:
    """Opens RateLimits on the flushed test store with the given rate settings."""
    opened: list[RateLimits] = []

    def open_limits(**overrides: str) -> RateLimits:
        limits = RateLimits.open(settings(store_url, **overrides), store_url, KEYS)
        opened.append(limits)
        return limits

    try:
        yield open_limits
    finally:
        for limits in opened:
            await limits.aclose()


async def allowed_times(attempt: Callable[[], Awaitable[None]], tries: int) -> int:
    """How many of ``tries`` attempts passed before the first refusal."""
    for done in range(tries):
        try:
            await attempt()
        except RateLimited:
            return done
    return tries


async def assert_refused(attempt: Awaitable[None], window_seconds: int = 60) -> None:
    with pytest.raises(RateLimited) as refused:
        await attempt
    retry_after = refused.value.extra["retry_after"]
    assert isinstance(retry_after, int)
    assert 1 <= retry_after <= window_seconds
    assert refused.value.status == 429


async def test_login_is_limited_per_user(limits_for: Callable[..., RateLimits]) -> None:
    limits = limits_for(rate_limit_login_user="3/minute")
    # Every attempt from a different address: only the per-user limit can refuse.
    for n in range(LIMIT):
        await limits.login("alice", f"192.0.2.{n}")
    await assert_refused(limits.login("alice", "192.0.2.200"))
    await limits.login("bob", "192.0.2.201")


async def test_login_is_limited_per_address(limits_for: Callable[..., RateLimits]) -> None:
    limits = limits_for(rate_limit_login_address="3/minute")
    for n in range(LIMIT):
        await limits.login(f"user{n}", "198.51.100.7")
    await assert_refused(limits.login("someone", "198.51.100.7"))
    await limits.login("someone", "198.51.100.8")


async def test_login_refused_by_address_does_not_spend_the_users_budget(
    limits_for: Callable[..., RateLimits],
) -> None:
    limits = limits_for(rate_limit_login_address="1/minute", rate_limit_login_user="2/minute")
    await limits.login("victim", "198.51.100.7")
    for _ in range(5):
        await assert_refused(limits.login("victim", "198.51.100.7"))
    await limits.login("victim", "203.0.113.1")


async def test_registration_is_limited_per_address(
    limits_for: Callable[..., RateLimits],
) -> None:
    limits = limits_for(rate_limit_registration="3/hour")
    assert await allowed_times(lambda: limits.registration("203.0.113.5"), 10) == LIMIT
    await assert_refused(limits.registration("203.0.113.5"), window_seconds=3600)
    await limits.registration("203.0.113.6")


async def test_entries_are_limited_per_draw_and_address(
    limits_for: Callable[..., RateLimits],
) -> None:
    limits = limits_for(rate_limit_entries="3/minute")
    assert await allowed_times(lambda: limits.entry(DRAW, "203.0.113.5"), 10) == LIMIT
    await assert_refused(limits.entry(DRAW, "203.0.113.5"))
    await limits.entry(DRAW, "203.0.113.6")
    await limits.entry(OTHER_DRAW, "203.0.113.5")


async def test_token_refresh_is_limited_per_family(
    limits_for: Callable[..., RateLimits],
) -> None:
    limits = limits_for(rate_limit_token_refresh="3/minute")
    assert await allowed_times(lambda: limits.token_refresh(FAMILY), 10) == LIMIT
    await assert_refused(limits.token_refresh(FAMILY))
    await limits.token_refresh(OTHER_FAMILY)


async def test_limits_are_shared_by_processes(limits_for: Callable[..., RateLimits]) -> None:
    first = limits_for(rate_limit_entries="3/minute")
    second = limits_for(rate_limit_entries="3/minute")
    await first.entry(DRAW, "203.0.113.5")
    await second.entry(DRAW, "203.0.113.5")
    await first.entry(DRAW, "203.0.113.5")
    await assert_refused(second.entry(DRAW, "203.0.113.5"))


async def test_an_ipv6_client_is_counted_by_its_64_network(
    limits_for: Callable[..., RateLimits],
) -> None:
    limits = limits_for(rate_limit_registration="3/minute")
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"):
        await limits.registration(host)
    await assert_refused(limits.registration("2001:db8:1:2::4"))
    await limits.registration("2001:db8:1:3::1")


async def test_an_ipv4_mapped_client_is_its_ipv4_address(
    limits_for: Callable[..., RateLimits],
) -> None:
    limits = limits_for(rate_limit_registration="2/minute")
    await limits.registration("192.0.2.10")
    await limits.registration("::ffff:192.0.2.10")
    await assert_refused(limits.registration("192.0.2.10"))


async def test_unknown_addresses_share_one_bucket(limits_for: Callable[..., RateLimits]) -> None:
    limits = limits_for(rate_limit_registration="2/minute")
    await limits.registration(None)
    await limits.registration(None)
    await assert_refused(limits.registration(None))
    await limits.registration("192.0.2.10")


async def test_keys_live_under_the_rate_limit_prefix_and_stay_printable(
    limits_for: Callable[..., RateLimits], redis: Redis
) -> None:
    limits = limits_for(rate_limit_login_user="1/minute")
    hostile = "{evil}/../" + "é" * 300 + " \r\n*"
    await limits.login("alice", "192.0.2.1")
    await limits.login(hostile, "2001:db8::1")
    await limits.entry(DRAW, "not an address {}")
    await limits.registration("203.0.113.5")
    await limits.token_refresh(FAMILY)
    with pytest.raises(RateLimited):
        await limits.login(hostile, "2001:db8::2")

    names = [name async for name in redis.scan_iter(match="*")]
    # Each of the five actions above wrote at least one key (login writes two).
    assert len(names) >= 7
    patterns = KEYS.patterns()
    printable = set(string.printable) - set(string.whitespace)
    for name in names:
        assert name.startswith(KEYS.rate_limit_prefix() + ":"), name
        assert any(pattern.fullmatch(name) for pattern in patterns), name
        assert set(name) <= printable, name
        assert len(name) <= 160, name
        assert await redis.pttl(name) > 0, name
    assert not any("evil" in name or "not an address" in name for name in names)


async def test_limits_work_on_the_unix_socket_url(
    store_url: str, limits_for: Callable[..., RateLimits], redis: Redis
) -> None:
    if not store_url.startswith("unix://"):
        pytest.skip("the test store is not the embedded one on a unix socket")
    limits = limits_for(rate_limit_entries="3/minute")
    assert await allowed_times(lambda: limits.entry(DRAW, "192.0.2.1"), 10) == LIMIT
    assert [name async for name in redis.scan_iter(match=f"{PREFIX}ratelimit:*")]


async def test_unreachable_store_fails_open_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"unix://{tmp_path}/nobody-listens.sock"
    limits = RateLimits.open(settings(url, rate_limit_entries="1/minute"), url, KEYS)
    try:
        with caplog.at_level(logging.WARNING, logger="fairdraw.ratelimit"):
            for _ in range(3):
                await limits.entry(DRAW, "192.0.2.1")
                await limits.login("alice", "192.0.2.1")
    finally:
        await limits.aclose()
    warnings = [r for r in caplog.records if r.name == "fairdraw.ratelimit"]
    # Three attempts each: one entry limit, and the two limits of a login.
    assert len(warnings) == 9
    assert all(r.levelno == logging.WARNING for r in warnings)
    assert "entry" in warnings[0].getMessage()
