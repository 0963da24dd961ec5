"""The command a first-run hint names: the way this fairdraw was started, runnable as is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fairdraw.first_run import admin_create_command, fairdraw_command, store_description
from tests.support.app import make_settings


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory with ``.venv/bin/{python,fairdraw}``, the current directory,
    with neither on the PATH."""
    executable(tmp_path / ".venv" / "bin" / "python")
    executable(tmp_path / ".venv" / "bin" / "fairdraw")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))
    return tmp_path


def test_the_script_as_started_below_the_current_directory(venv: Path) -> None:
    script = str(venv / ".venv" / "bin" / "fairdraw")
    python = str(venv / ".venv" / "bin" / "python")
    assert fairdraw_command(script, python) == ".venv/bin/fairdraw"
    assert fairdraw_command(".venv/bin/fairdraw", python) == ".venv/bin/fairdraw"


def test_the_bare_name_when_the_path_finds_that_script(
    venv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(venv / ".venv" / "bin") + os.pathsep + "/usr/bin")
    python = str(venv / ".venv" / "bin" / "python")
    assert fairdraw_command(".venv/bin/fairdraw", python) == "fairdraw"


def test_python_dash_m_names_the_script_beside_the_interpreter(venv: Path) -> None:
    python = str(venv / ".venv" / "bin" / "python")
    main = str(venv / "src" / "fairdraw" / "__main__.py")
    assert fairdraw_command(main, python) == ".venv/bin/fairdraw"


def test_without_a_script_it_is_python_dash_m(venv: Path) -> None:
    (venv / ".venv" / "bin" / "fairdraw").unlink()
    python = str(venv / ".venv" / "bin" / "python")
    assert fairdraw_command("-c", python) == ".venv/bin/python -m fairdraw"


def test_outside_the_current_directory_the_path_is_absolute(
    venv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = venv / "somewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    python = str(venv / ".venv" / "bin" / "python")
    expected = str((venv / ".venv" / "bin" / "fairdraw").resolve())
    assert fairdraw_command(str(venv / ".venv" / "bin" / "fairdraw"), python) == expected


def test_the_admin_hint_names_a_data_directory_that_is_not_the_default(
    venv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.argv", [str(venv / ".venv" / "bin" / "fairdraw"), "serve"])
    monkeypatch.setattr("sys.executable", str(venv / ".venv" / "bin" / "python"))
    embedded = make_settings("", "http://127.0.0.1:1").model_copy(update={"redis_url": None})
    assert admin_create_command(embedded) == ".venv/bin/fairdraw admin create USERNAME"
    moved = embedded.model_copy(update={"data_dir": Path("/srv/fairdraw")})
    assert admin_create_command(moved) == (
        "FAIRDRAW_DATA_DIR=/srv/fairdraw .venv/bin/fairdraw admin create USERNAME"
    )
    assert store_description(moved) == "the embedded store in /srv/fairdraw"
    external = make_settings("redis://user:secret@db.example:6379/0", "http://127.0.0.1:1")
    assert store_description(external) == "the store at redis://db.example:6379/0"
    assert admin_create_command(external) == (
        ".venv/bin/fairdraw admin create USERNAME  "
        "(with this server's FAIRDRAW_REDIS_URL and FAIRDRAW_SECRET_KEY)"
    )
