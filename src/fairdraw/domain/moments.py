"""Moments as fairdraw stores and publishes them: epoch milliseconds, ISO-8601 UTC."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime

# One minute in epoch milliseconds: the bucket of the dashboard's activity counts.
MINUTE_MS = 60_000


def now_ms() -> int:
    """The host clock in epoch milliseconds."""
    return time.time_ns() // 1_000_000


@functools.lru_cache(maxsize=256)
def iso(ms: int) -> str:
    """Epoch milliseconds as an ISO-8601 UTC time, e.g. 2026-11-22T10:00:00.123Z.
    Remembered for the last few moments: an entry's receipt spells its moment twice."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
