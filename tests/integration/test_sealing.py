"""The ledger root computed in worker processes equals the single-process one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fairdraw.domain import fairness
from fairdraw.services import sealing


async def chunked(refs: list[str]) -> AsyncIterator[list[str]]:
    for start in fairness.chunk_starts(len(refs)):
        yield refs[start : start + fairness.CHUNK_LEAVES]


@pytest.mark.parametrize(
    "count",
    [0, 1, 5, sealing.PARALLEL_FROM - 1, sealing.PARALLEL_FROM, sealing.PARALLEL_FROM + 12_345],
)
async def test_parallel_root_equals_the_reference(count: int) -> None:
    refs = [f"{i:032x}" for i in range(count)]
    expected = fairness.merkle_root(refs)
    assert await sealing.ledger_root(chunked(refs), count) == expected
