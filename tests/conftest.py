"""Shared fixtures: a real store, a real GitHub stand-in, the real app, a real browser."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

pytest_plugins = [
    "tests.support.store",
    "tests.support.github_server",
    "tests.support.github_oauth",
    "tests.support.drand_relay",
    "tests.support.browser",
    "tests.support.app",
    "tests.support.smtp_server",
    "tests.support.webhook_receiver",
]
