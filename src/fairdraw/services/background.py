"""Work a request starts but does not wait for.

Entering, claiming and casting hash each ledger chunk as it becomes complete (65,536
entries), after the request that completed it has been answered, so that sealing later
has only the last, partial chunk left to hash. Such work is an optimisation, never a
duty: if it fails or the process stops first, sealing (or drawing) does it later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from fairdraw.metrics import background_ended, background_started


class Background:
    """Runs awaitables after the current request, keeping a reference to each until it
    ends (the event loop holds only weak ones), and logs a failure instead of raising it."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._tasks: set[asyncio.Task[None]] = set()

    def soon(self, work: Awaitable[object], what: str) -> None:
        """Run ``work`` in the background; ``what`` names it in the warning if it fails."""

        async def quietly() -> None:
            failed = False
            try:
                await work
            except Exception:
                failed = True
                self._log.warning("%s failed; sealing or drawing will do it later", what)
            finally:
                background_ended(failed)

        background_started()
        task = asyncio.create_task(quietly())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
