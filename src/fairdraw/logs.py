"""Logging: plain text lines, or one JSON object per line (``FAIRDRAW_LOG_FORMAT=json``),
and the id of the request being served.

The request id lives in a context variable, set by the web layer for each request
(``web/metrics.py``): every record logged while the request runs carries it, and so does
work the request starts in the background (tasks inherit the context). The same
configuration is handed to uvicorn, so its records and those of every worker process are
formatted alike.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import logging.config
import re
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from uvicorn.config import LOGGING_CONFIG

LogFormat = Literal["text", "json"]

REQUEST_ID: ContextVar[str | None] = ContextVar("fairdraw_request_id", default=None)
REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy or client may hand us as a request id: short, and nothing that could
# break a log line or a header (UUIDs, hex ids, trace ids with dots, dashes or colons).
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=-]{1,128}")
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"


# New ids: a random prefix per process and a counter, so ids are unique across processes
# and restarts without asking the OS for randomness on every request.
_ID_PREFIX = secrets.token_hex(8)
_ID_COUNTER = itertools.count()


def request_id_from(header: str | None) -> str:
    """The incoming request id if it is sane, else a new one (32 hex digits)."""
    if header is not None and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: ``time`` (UTC, ISO 8601), ``level``,
    ``logger``, ``message``, ``request_id`` while a request is served, ``exception`` when
    the record has one; uvicorn's access records add ``method``, ``path``, ``status`` and
    ``client``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _, status = args  # and the HTTP version
            entry.update(client=client, method=method, path=path, status=status)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


# Paths whose query carries credentials (GitHub's sign-in callback: its code and state):
# access lines show them without it.
_CREDENTIAL_PATHS = "/auth/"
_FILTERS = {"credential_queries": {"()": "fairdraw.logs.CredentialQueryFilter"}}


class CredentialQueryFilter(logging.Filter):
    """Drops the query from uvicorn's access lines for :data:`_CREDENTIAL_PATHS`: a
    sign-in's code and state are single-use, but logs are kept and copied around."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, _, query = args[2].partition("?")
            if query and path.startswith(_CREDENTIAL_PATHS):
                record.args = (args[0], args[1], f"{path}?…", args[3], args[4])
        return True


def logging_config(level: str, log_format: LogFormat) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` configuration for fairdraw and uvicorn.

    ``text`` keeps uvicorn's own lines and writes fairdraw's as ``LEVEL logger: message``;
    ``json`` writes every record, uvicorn's included, as JSON lines on stderr.
    """
    level = level.upper()
    if log_format == "json":
        return {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": "fairdraw.logs.JsonFormatter"}},
            "filters": _FILTERS,
            "handlers": {
                "json": {
                    "class": "logging.StreamHandler",
                    "formatter": "json",
                    "stream": "ext://sys.stderr",
                }
            },
            "root": {"handlers": ["json"], "level": level},
            "loggers": {
                "uvicorn": {"handlers": ["json"], "level": level, "propagate": False},
                "uvicorn.error": {"level": level},
                "uvicorn.access": {
                    "handlers": ["json"],
                    "level": level,
                    "propagate": False,
                    "filters": ["credential_queries"],
                },
            },
        }
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["fairdraw"] = {"format": TEXT_FORMAT}
    config["handlers"]["fairdraw"] = {
        "class": "logging.StreamHandler",
        "formatter": "fairdraw",
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"handlers": ["fairdraw"], "level": level}
    config["filters"] = _FILTERS
    config["loggers"]["uvicorn.access"]["filters"] = ["credential_queries"]
    return config


def configure_logging(level: str, log_format: LogFormat) -> dict[str, Any]:
    """Configure this process's logging; returns the configuration, for uvicorn to apply
    in each worker process it starts."""
    config = logging_config(level, log_format)
    logging.config.dictConfig(config)
    return config
