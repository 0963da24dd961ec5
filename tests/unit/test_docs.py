"""The documentation keeps up with the code."""

from __future__ import annotations

import re
from pathlib import Path

from fairdraw.config import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "operations.md").read_text()
    documented = set(re.findall(r"^\| `(FAIRDRAW_[A-Z_]+)` \|", text, flags=re.MULTILINE))
    settings = {f"FAIRDRAW_{name.upper()}" for name in Settings.model_fields}
    assert settings - documented == set()


def test_documented_settings_exist() -> None:
    text = (DOCS / "operations.md").read_text()
    documented = set(re.findall(r"^\| `(FAIRDRAW_[A-Z_]+)` \|", text, flags=re.MULTILINE))
    outside_settings = {"FAIRDRAW_NEW_PASSWORD", "FAIRDRAW_TEST_REDIS_URL"}
    settings = {f"FAIRDRAW_{name.upper()}" for name in Settings.model_fields}
    assert documented - settings == outside_settings
