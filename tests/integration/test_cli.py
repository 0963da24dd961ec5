"""The ``fairdraw`` command: verify, admin create, and serve across a restart."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner

from fairdraw.cli import app
from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, login
from tests.support.processes import free_port, start_serve, stop_serve

runner = CliRunner()


async def drawn_giveaway(
    app_client: httpx.AsyncClient, anon: httpx.AsyncClient, github: Any
) -> str:
    csrf = await login(app_client, ADMIN)
    headers = {"X-CSRF-Token": csrf}
    body = {"title": "CLI", "prizes": [{"name": "Mug", "quantity": 2}], "open": True}
    draw_id: str = (await app_client.post("/api/v1/draws", json=body, headers=headers)).json()["id"]
    for i in range(6):
        github.add_user(f"cli{i}", 900 + i)
        assert (
            await anon.post(f"/api/v1/draws/{draw_id}/entries", json={"github": f"cli{i}"})
        ).status_code == 201
    await app_client.post(f"/api/v1/draws/{draw_id}/close", headers=headers)
    await app_client.post(f"/api/v1/draws/{draw_id}/draw", headers=headers)
    return draw_id


async def test_verify_passes_on_a_real_bundle_and_names_tampering(
    app_client: httpx.AsyncClient, anon_client: httpx.AsyncClient, github: Any, tmp_path: Path
) -> None:
    draw_id = await drawn_giveaway(app_client, anon_client, github)
    bundle = tmp_path / "proof.json"
    entries = tmp_path / "entries.txt"
    bundle.write_bytes((await app_client.get(f"/api/v1/draws/{draw_id}/proof")).content)
    entries.write_text((await app_client.get(f"/api/v1/draws/{draw_id}/entries.txt")).text)

    ok = runner.invoke(app, ["verify", str(bundle), str(entries)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip().endswith("PASS")

    lines = entries.read_text().splitlines()
    index, ref = lines[3].split("\t")
    lines[3] = f"{index}\t{'0' * 32 if ref != '0' * 32 else '1' * 32}"
    tampered_entries = tmp_path / "tampered.txt"
    tampered_entries.write_text("\n".join(lines) + "\n")
    bad = runner.invoke(app, ["verify", str(bundle), str(tampered_entries)])
    assert bad.exit_code == 1
    assert "FAIL merkle_root" in bad.output

    data = json.loads(bundle.read_text())
    data["seed"] = "00" * 32
    wrong_seed = tmp_path / "wrong-seed.json"
    wrong_seed.write_text(json.dumps(data))
    bad = runner.invoke(app, ["verify", str(wrong_seed), str(entries)])
    assert bad.exit_code == 1
    assert "FAIL commitment" in bad.output

    data = json.loads(bundle.read_text())
    data["winners"][0]["index"], data["winners"][1]["index"] = (
        data["winners"][1]["index"],
        data["winners"][0]["index"],
    )
    data["winners"][0]["ref"], data["winners"][1]["ref"] = (
        data["winners"][1]["ref"],
        data["winners"][0]["ref"],
    )
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps(data))
    bad = runner.invoke(app, ["verify", str(swapped), str(entries)])
    assert bad.exit_code == 1
    assert "FAIL winners" in bad.output


def test_verify_rejects_a_file_that_is_not_json(tmp_path: Path) -> None:
    bundle = tmp_path / "proof.json"
    bundle.write_text("not json")
    entries = tmp_path / "entries.txt"
    entries.write_text("")
    result = runner.invoke(app, ["verify", str(bundle), str(entries)])
    assert result.exit_code == 1
    assert "FAIL format" in result.output


def test_admin_create_against_a_store(
    store_url: str, redis_sync: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRDRAW_REDIS_URL", store_url)
    monkeypatch.setenv("FAIRDRAW_SECRET_KEY", "k" * 20 + "-not-a-placeholder-key")
    result = runner.invoke(
        app, ["admin", "create", "Alice"], input="a long enough password\na long enough password\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created admin 'alice'" in result.output
    stored = redis_sync.hgetall(Keys().user("alice"))
    assert stored["role"] == "admin"
    assert stored["password_hash"].startswith("$argon2id$")
    again = runner.invoke(
        app, ["admin", "create", "ALICE"], input="another password 12\nanother password 12\n"
    )
    assert again.exit_code == 2
    assert "taken" in again.output
    short = runner.invoke(app, ["admin", "create", "bob"], input="short\nshort\n")
    assert short.exit_code == 2
    assert not redis_sync.exists(Keys().user("bob"))


def test_admin_reset_password_ends_every_session(
    store_url: str, redis_sync: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRDRAW_REDIS_URL", store_url)
    monkeypatch.setenv("FAIRDRAW_SECRET_KEY", "k" * 20 + "-not-a-placeholder-key")
    typed = "a long enough password\na long enough password\n"
    assert runner.invoke(app, ["admin", "create", "alice"], input=typed).exit_code == 0
    before = redis_sync.hgetall(Keys().user("alice"))

    short = runner.invoke(app, ["admin", "reset-password", "Alice"], input="short\nshort\n")
    assert short.exit_code == 2
    assert "password" in short.output
    nobody = runner.invoke(app, ["admin", "reset-password", "bob"], input=typed)
    assert nobody.exit_code == 2
    assert "There is no user 'bob'" in nobody.output
    assert redis_sync.hgetall(Keys().user("alice")) == before
    assert not redis_sync.exists(Keys().user("bob"))

    fresh = "a brand new password\na brand new password\n"
    reset = runner.invoke(app, ["admin", "reset-password", "ALICE"], input=fresh)
    assert reset.exit_code == 0, reset.output
    assert "Set a new password for admin 'alice'; its sessions ended." in reset.output
    after = redis_sync.hgetall(Keys().user("alice"))
    assert after["password_hash"] != before["password_hash"]
    assert after["password_hash"].startswith("$argon2id$")
    assert int(after["session_epoch"]) == int(before["session_epoch"]) + 1
    assert PasswordHasher().verify(after["password_hash"], "a brand new password")


@pytest.mark.parametrize("secret", ["changeme", "too-short-secret"])
def test_unsafe_secrets_are_refused(
    secret: str, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIRDRAW_REDIS_URL", store_url)
    monkeypatch.setenv("FAIRDRAW_SECRET_KEY", secret)
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "FAIRDRAW_SECRET_KEY" in result.output


def test_external_store_without_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIRDRAW_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.delenv("FAIRDRAW_SECRET_KEY", raising=False)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "FAIRDRAW_SECRET_KEY is not set" in result.output


def test_serve_with_embedded_store_keeps_data_across_restarts(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDRAW_")}
    env |= {"FAIRDRAW_DATA_DIR": str(data_dir), "FAIRDRAW_ADMIN_PASSWORD": ADMIN[1]}
    port = free_port()
    first = start_serve(data_dir, port, env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            response = client.post(
                "/api/v1/session", json={"username": ADMIN[0], "password": ADMIN[1]}
            )
            csrf = response.json()["csrf_token"]
            created = client.post(
                "/api/v1/draws",
                json={"title": "Survives", "prizes": [{"name": "Cup", "quantity": 1}]},
                headers={"X-CSRF-Token": csrf},
            )
            assert created.status_code == 201
            draw_id = created.json()["id"]
    finally:
        output = stop_serve(first)
    assert "Created the administrator 'admin'" in output
    secret = (data_dir / "secret_key").read_text()
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    assert not (data_dir / "store" / "valkey.sock").exists()

    second = start_serve(data_dir, port, env)
    try:
        draws = httpx.get(f"http://127.0.0.1:{port}/api/v1/draws").json()
        assert [d["id"] for d in draws] == [draw_id]
        assert draws[0]["title"] == "Survives"
    finally:
        # A process manager stops services with SIGTERM: the store must stop too.
        output = stop_serve(second, signal.SIGTERM)
    assert "Created the administrator" not in output
    assert not (data_dir / "store" / "valkey.sock").exists()
    assert (data_dir / "secret_key").read_text() == secret


def test_serve_without_admin_says_how_to_create_one(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDRAW_")}
    env["FAIRDRAW_DATA_DIR"] = str(data_dir)
    process = start_serve(data_dir, free_port(), env)
    output = stop_serve(process)
    assert "fairdraw admin create USERNAME" in output
