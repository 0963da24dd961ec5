"""Garbage collector settings for a serving process.

A worker's heap is mostly what it built at startup (the framework's routes and models,
templates, catalogues, zone data) plus its open connections; a request's objects are
short-lived. CPython's defaults (a young collection every 700 allocations net, a full one
when the old generation grew by a quarter) make a busy worker walk that whole heap about
once a second, and the objects of requests in flight at each young collection are
promoted and later walked again. Frozen startup objects are left out of every
collection, and a larger young generation lets most requests finish before a collection
sees their objects. Measured in docs/benchmarks.md ("Garbage collection").
"""

from __future__ import annotations

import gc

# Allocations net of frees between two young collections, and young and middle
# collections between two of the next generation (CPython's defaults: 700, 10, 10).
SERVING_THRESHOLDS = (50_000, 20, 10)


def tune_for_serving() -> None:
    """Freeze what startup built and widen the young generation (once, in each worker,
    after the application has started)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_THRESHOLDS)
