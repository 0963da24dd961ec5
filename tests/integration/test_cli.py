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
from fairdraw.domain.proof import canonical_json
from fairdraw.domain.verification import V1_CHECKS, V2_CHECKS
from fairdraw.store.keys import Keys
from tests.support import fd2_corpus
from tests.support.app import ADMIN, login
from tests.support.fd2_corpus import TEST_CHAIN
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
    assert ok.output.splitlines()[-1] in {"PASS", "PASS (trusts its operator: no beacon)"}

    lines = entries.read_text().splitlines()
    index, ref = lines[3].split("\t")
    lines[3] = f"{index}\t{('1' if ref.startswith('0') else '0') * len(ref)}"
    tampered_entries = tmp_path / "tampered.txt"
    tampered_entries.write_text("\n".join(lines) + "\n")
    bad = runner.invoke(app, ["verify", str(bundle), str(tampered_entries)])
    assert bad.exit_code == 1
    assert "FAIL merkle_root" in bad.output

    data = json.loads(bundle.read_text())
    data["seed"] = "00" * 32
    wrong_seed = tmp_path / "wrong-seed.json"
    wrong_seed.write_bytes(canonical_json(data))
    bad = runner.invoke(app, ["verify", str(wrong_seed), str(entries)])
    assert bad.exit_code == 1
    assert "FAIL commitment" in bad.output

    data = json.loads(bundle.read_text())
    data["winners"][0]["index"], data["winners"][1]["index"] = (
        data["winners"][1]["index"],
        data["winners"][0]["index"],
    )
    for field in ("ref", "opening"):  # fairdraw/2 winners carry their openings
        if field in data["winners"][0]:
            data["winners"][0][field], data["winners"][1][field] = (
                data["winners"][1][field],
                data["winners"][0][field],
            )
    swapped = tmp_path / "swapped.json"
    swapped.write_bytes(canonical_json(data))
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


def write_case(tmp_path: Path, name: str) -> tuple[Path, Path]:
    case = fd2_corpus.by_name()[name]
    bundle, entries = tmp_path / "bundle.json", tmp_path / "entries.txt"
    bundle.write_bytes(case.bundle)
    entries.write_bytes(case.entries)
    return bundle, entries


@pytest.mark.parametrize(
    ("case", "last_line"),
    [
        (
            "v1-vector.entries-invalid-utf8",
            "FAIL format: the entries file is not UTF-8: invalid byte 0xff at offset 2",
        ),
        (
            "v1-vector.bundle-invalid-utf8",
            "FAIL format: the bundle is not UTF-8: invalid byte 0xff at offset 398",
        ),
        (
            "v1-vector.entries-crlf",
            "FAIL format: entries file line 1: carriage return found (lines must end with LF only)",
        ),
        (
            "giveaway-quicknet.entries.invalid-utf8",
            "FAIL format: the entries file is not UTF-8: invalid byte 0xff at offset 2",
        ),
        (
            "giveaway-quicknet.bytes.duplicate-key",
            "FAIL format: the bundle has the key 'seed' twice in one object",
        ),
    ],
)
def test_verify_names_unreadable_bytes_without_a_traceback(
    tmp_path: Path, case: str, last_line: str
) -> None:
    result = runner.invoke(app, ["verify", *map(str, write_case(tmp_path, case))])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.splitlines()[-1] == last_line
    assert [line.split(":")[0] for line in result.output.splitlines()[1:-1]] == [
        f"FAIL {name}" for name in (V1_CHECKS if case.startswith("v1") else V2_CHECKS)[1:]
    ]


def test_verify_prints_every_check_and_pass(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", *map(str, write_case(tmp_path, "giveaway-quicknet"))])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [f"ok   {name}" for name in V2_CHECKS]
    assert lines[-1] == "PASS"

    no_beacon = write_case(tmp_path, "giveaway-no-beacon")
    result = runner.invoke(app, ["verify", *map(str, no_beacon)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "PASS (trusts its operator: no beacon)"
    assert "this draw trusts its operator" in result.output.splitlines()[5]


def test_verify_pins_the_chains_it_is_given(tmp_path: Path) -> None:
    paths = list(map(str, write_case(tmp_path, "raffle-test-chain")))
    unpinned = runner.invoke(app, ["verify", *paths])
    assert unpinned.exit_code == 1
    assert unpinned.output.splitlines()[-1].startswith(
        f"FAIL beacon: chain {TEST_CHAIN.chain.chain_hash} is not pinned by this verifier"
    )
    info = tmp_path / "chain.json"
    info.write_text(json.dumps(TEST_CHAIN.info()))
    pinned = runner.invoke(app, ["verify", *paths, "--beacon-chain", str(info)])
    assert pinned.exit_code == 0, pinned.output
    assert pinned.output.splitlines()[-1] == "PASS"


def test_verify_refuses_files_it_cannot_read(tmp_path: Path) -> None:
    bundle, entries = write_case(tmp_path, "giveaway-quicknet")
    missing = runner.invoke(app, ["verify", str(tmp_path / "nope.json"), str(entries)])
    assert missing.exit_code == 2
    assert missing.exception is None or isinstance(missing.exception, SystemExit)
    assert missing.stderr == (
        f"fairdraw: cannot read the bundle {tmp_path / 'nope.json'}: No such file or directory\n"
    )
    directory = runner.invoke(app, ["verify", str(bundle), str(tmp_path)])
    assert directory.exit_code == 2
    assert directory.stderr == (
        f"fairdraw: cannot read the entries file {tmp_path}: Is a directory\n"
    )
    bad_chain = tmp_path / "chain.json"
    bad_chain.write_text('{"hash": "00"}')
    chain = runner.invoke(
        app, ["verify", str(bundle), str(entries), "--beacon-chain", str(bad_chain)]
    )
    assert chain.exit_code == 2
    assert chain.stderr.startswith(
        f"fairdraw: --beacon-chain {bad_chain}: chain info has no public_key"
    )


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
