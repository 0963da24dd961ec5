"""The composition root builds a working fairdraw from settings and closes what it opened."""

from __future__ import annotations

from typing import Any

import pytest

from fairdraw.composition import build, open_accounts, open_runtime
from fairdraw.config import Settings
from fairdraw.domain.errors import StoreError
from fairdraw.store.connection import DEFAULT_MAX_CONNECTIONS
from tests.support.processes import free_port


async def test_a_runtime_serves_from_the_settings_store(app_settings: Settings, redis: Any) -> None:
    async with open_runtime(app_settings) as runtime:
        assert runtime.settings is app_settings
        assert await runtime.accounts.any_admin() is False
        report = await runtime.scheduler.run_once()
        assert report.led is True
        assert report.drawn == []
        usage = runtime.pool_usage()
        assert set(usage) == {"main", "live"}
        in_use, _idle, most = usage["main"]
        assert (in_use, most) == (0, DEFAULT_MAX_CONNECTIONS)
        # No feed was watched: the blocking reads' pool opened nothing.
        assert usage["live"] == (0, 0, app_settings.live_max_readers)


async def test_the_account_commands_share_the_accounts_wiring(
    app_settings: Settings, redis: Any
) -> None:
    async with open_accounts(app_settings) as accounts:
        assert await accounts.ensure_admin("root", "a long enough password 1") is True
    async with open_runtime(app_settings) as runtime:
        assert await runtime.accounts.any_admin() is True


async def test_a_store_url_is_required(app_settings: Settings) -> None:
    with pytest.raises(ValueError, match="redis_url"):
        await build(app_settings.model_copy(update={"redis_url": None}))


async def test_an_unreachable_store_is_a_store_error(app_settings: Settings) -> None:
    nowhere = app_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}"})
    async with open_runtime(nowhere) as runtime:
        with pytest.raises(StoreError):
            await runtime.accounts.any_admin()
