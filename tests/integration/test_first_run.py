"""The first run of an instance: the start hint names a command that works, account
commands check a password before asking for it again, and they refuse to create a store
of their own beside a running server."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from fairdraw.cli import app
from fairdraw.store.keys import Keys
from tests.support.processes import free_port, run_fairdraw, start_serve, stop_serve

runner = CliRunner()
PASSWORD = "a long enough password"
SECRET = "k" * 20 + "-not-a-placeholder-key"


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDRAW_")}
    return env | values


def expected_command() -> str:
    """How the tests' own ``python -m fairdraw`` is named in a hint (see first_run)."""
    script = Path(sys.executable).parent / "fairdraw"
    found = shutil.which("fairdraw")
    if found is not None and Path(found).resolve() == script.resolve():
        return "fairdraw"
    return str(script.resolve())


def test_the_start_hint_names_the_command_that_works(tmp_path: Path) -> None:
    data_dir = tmp_path / "instance"
    env = clean_env(FAIRDRAW_DATA_DIR=str(data_dir))
    process = start_serve(data_dir, free_port(), env)
    output = stop_serve(process)
    # Run from the data directory's parent, as start_serve does: "./instance" there.
    hint = f"FAIRDRAW_DATA_DIR=./instance {expected_command()} admin create USERNAME"
    assert f"No administrator yet. Create one with:  {hint}" in output
    created = run_fairdraw(
        data_dir, env | {"FAIRDRAW_NEW_PASSWORD": PASSWORD}, "admin", "create", "root"
    )
    assert created.returncode == 0, created.stdout


def test_the_default_data_dir_needs_no_prefix(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    process = start_serve(data_dir, free_port(), clean_env(FAIRDRAW_DATA_DIR=str(data_dir)))
    output = stop_serve(process)
    assert f"Create one with:  {expected_command()} admin create USERNAME  (or" in output


def test_admin_create_checks_the_password_before_the_confirmation(
    store_url: str, redis_sync: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRDRAW_REDIS_URL", store_url)
    monkeypatch.setenv("FAIRDRAW_SECRET_KEY", SECRET)
    short = runner.invoke(app, ["admin", "create", "bob"], input="short\n")
    assert short.exit_code == 2
    assert "The password must be at least 10 characters long." in short.output
    assert "Repeat for confirmation" not in short.output
    same = runner.invoke(app, ["admin", "create", "bob-the-admin"], input="Bob-The-Admin\n")
    assert same.exit_code == 2
    assert "The password must not be the username." in same.output
    assert "Repeat for confirmation" not in same.output
    typo = runner.invoke(app, ["admin", "create", "bob"], input=f"{PASSWORD}\n{PASSWORD}!\n")
    assert typo.exit_code == 2
    assert "The two passwords do not match." in typo.output
    assert not redis_sync.exists(Keys().user("bob"))

    made = runner.invoke(app, ["admin", "create", "bob"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert made.exit_code == 0, made.output
    assert "Repeat for confirmation" in made.output
    assert f"Using the store at {store_url}." in made.output
    assert "Created admin 'bob'" in made.output


def test_admin_reset_password_checks_it_before_the_confirmation(
    store_url: str, redis_sync: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRDRAW_REDIS_URL", store_url)
    monkeypatch.setenv("FAIRDRAW_SECRET_KEY", SECRET)
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    assert runner.invoke(app, ["admin", "create", "alice"], input=typed).exit_code == 0
    short = runner.invoke(app, ["admin", "reset-password", "alice"], input="short\n")
    assert short.exit_code == 2
    assert "The password must be at least 10 characters long." in short.output
    assert "Repeat for confirmation" not in short.output


def test_account_commands_refuse_a_new_store_beside_a_running_server(tmp_path: Path) -> None:
    server_dir = tmp_path / "server" / "var"
    server_dir.parent.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_serve(server_dir, port, clean_env(FAIRDRAW_DATA_DIR=str(server_dir)))
    try:
        # Elsewhere, without the server's FAIRDRAW_DATA_DIR: ./var would be a new store.
        elsewhere = tmp_path / "elsewhere" / "var"
        elsewhere.parent.mkdir()
        env = clean_env(FAIRDRAW_PUBLIC_URL=url, FAIRDRAW_NEW_PASSWORD=PASSWORD)
        refused = run_fairdraw(elsewhere, env, "admin", "create", "carol")
        assert refused.returncode == 2, refused.stdout
        assert (
            f"fairdraw: a fairdraw server is running at {url}, but {elsewhere} holds no "
            "store, so it is not that server's."
        ) in " ".join(refused.stdout.split())
        assert not elsewhere.exists()  # not even its secret key

        # With the server's data directory the account lands in the server's store.
        shared = run_fairdraw(
            elsewhere, env | {"FAIRDRAW_DATA_DIR": str(server_dir)}, "admin", "create", "carol"
        )
        assert shared.returncode == 0, shared.stdout
        assert f"Using the embedded store in {server_dir}." in shared.stdout
        answer = httpx.post(
            f"{url}/api/v1/session", json={"username": "carol", "password": PASSWORD}
        )
        assert answer.status_code == 200
    finally:
        stop_serve(process)


def test_an_account_command_on_an_idle_machine_makes_its_store(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    # Nothing answers at this address: creating the first store here is what is wanted.
    env = clean_env(
        FAIRDRAW_PUBLIC_URL=f"http://127.0.0.1:{free_port()}", FAIRDRAW_NEW_PASSWORD=PASSWORD
    )
    made = run_fairdraw(
        data_dir, env | {"FAIRDRAW_DATA_DIR": str(data_dir)}, "admin", "create", "dan"
    )
    assert made.returncode == 0, made.stdout
    assert f"Using the embedded store in {data_dir}." in made.stdout
