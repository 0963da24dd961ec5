"""A served worker freezes what startup built and widens the young generation once its
application has started; an application built any other way (tests, tools) leaves the
process's collector as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from fairdraw.config import Settings
from fairdraw.gc_tuning import SERVING_THRESHOLDS
from fairdraw.web.app import create_app

DEFAULTS = (700, 10, 10)


@pytest.fixture
def collector() -> Iterator[None]:
    """CPython's own settings before the test, and back after it."""
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(*DEFAULTS)
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


async def test_a_served_app_freezes_startup_and_widens_the_young_generation(
    app_settings: Settings, redis: object, collector: None
) -> None:
    application = create_app(app_settings, serving=True)
    assert gc.get_threshold() == DEFAULTS  # nothing happens before the lifespan starts
    async with application.router.lifespan_context(application):
        assert gc.get_threshold() == SERVING_THRESHOLDS
        assert gc.get_freeze_count() > 10_000  # the framework, models, templates, ...


async def test_an_app_not_served_leaves_the_collector_alone(
    app_settings: Settings, redis: object, collector: None
) -> None:
    application = create_app(app_settings)
    async with application.router.lifespan_context(application):
        assert gc.get_threshold() == DEFAULTS
        assert gc.get_freeze_count() == 0
