"""Access lines never show the query of GitHub's sign-in callback (its code and state)."""

from __future__ import annotations

import logging

import pytest

from fairdraw.logs import CredentialQueryFilter, LogFormat, logging_config


def access_record(path: str) -> logging.LogRecord:
    """An access record as uvicorn makes it."""
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 303),
        None,
    )


def test_the_callback_query_is_dropped() -> None:
    record = access_record("/auth/github/callback?code=0123456789abcdef0123&state=abc")
    assert CredentialQueryFilter().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /auth/github/callback?… HTTP/1.1" 303'


@pytest.mark.parametrize("path", ["/draws/abc?i=0&s=1", "/auth/github/callback", "/login"])
def test_other_lines_are_left_as_they_are(path: str) -> None:
    record = access_record(path)
    assert CredentialQueryFilter().filter(record)
    assert record.getMessage() == f'127.0.0.1:5000 - "GET {path} HTTP/1.1" 303'


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_both_formats_filter_access_lines(log_format: LogFormat) -> None:
    config = logging_config("info", log_format)
    assert config["loggers"]["uvicorn.access"]["filters"] == ["credential_queries"]
    assert config["filters"]["credential_queries"] == {"()": "fairdraw.logs.CredentialQueryFilter"}
