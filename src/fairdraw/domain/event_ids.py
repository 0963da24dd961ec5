"""Ids of a draw's live events: the store's stream ids (``<ms>-<seq>``), totally ordered,
so a reader that remembers the last id it saw can always ask for exactly what came after.
"""

from __future__ import annotations

# The id before every event: "nothing seen yet".
ORIGIN = "0-0"


def event_id_key(event_id: str) -> tuple[int, int]:
    """A stream id as a pair that sorts like the stream does; ValueError if malformed."""
    ms, _, seq = event_id.partition("-")
    if not ms.isdigit() or not (seq.isdigit() or seq == ""):
        raise ValueError(f"not an event id: {event_id!r}")
    return int(ms), int(seq or 0)
