"""The hot routes read the bearer token from the raw headers: the same token, or None,
as the OAuth2 scheme that documents it and that every other route depends on."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from fairdraw.web.deps import bearer_of, bearer_scheme


def _request(*headers: tuple[bytes, bytes]) -> Request:
    return Request({"type": "http", "method": "POST", "path": "/", "headers": list(headers)})


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ((), None),
        (((b"authorization", b"Bearer abc.def"),), "abc.def"),
        (((b"authorization", b"bearer  abc "),), "abc"),
        (((b"authorization", b"BEARER abc"),), "abc"),
        (((b"authorization", b"Bearer"),), ""),
        (((b"authorization", b""),), None),
        (((b"authorization", b"Basic dXNlcjpwdw=="),), None),
        (((b"authorization", b"Bearer first"), (b"authorization", b"Bearer second")), "first"),
        (((b"authorization", b"Basic x"), (b"authorization", b"Bearer second")), None),
        (((b"x-authorization", b"Bearer abc"),), None),
    ],
)
def test_bearer_of_reads_what_the_scheme_reads(
    headers: tuple[tuple[bytes, bytes], ...], token: str | None
) -> None:
    request = _request(*headers)
    assert bearer_of(request) == token
    assert asyncio.run(bearer_scheme(request)) == token
