"""The embedded store has one owner: the fairdraw holding its data directory's lock.

Real ``fairdraw serve`` processes, real ``valkey-server`` processes, real signals: a
serve killed with SIGKILL leaves a server the next serve replaces and stops; a second
serve on the same directory is refused while the first serves on; a server killed under
a running serve is restarted, with its data, and the log says so once; a damaged
append-only file is reported in one line and repaired with ``fairdraw store repair``.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from redis import Redis

from fairdraw.store.embedded import DamagedAppendOnlyFile, EmbeddedStore
from tests.support.app import ADMIN
from tests.support.processes import (
    embedded_env,
    free_port,
    run_fairdraw,
    start_serve,
    stop_serve,
    store_server_pids,
)

# A restart waits a quarter of a second, then the server reloads a small file.
RECOVERY_SECONDS = 10.0
INCR_FILE = "appendonly.aof.1.incr.aof"


@pytest.fixture(autouse=True)
def no_stray_servers(tmp_path: Path) -> Iterator[None]:
    """Whatever a failed test leaves running under its directory is killed afterwards."""
    yield
    mine = os.fsencode(tmp_path)
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and mine in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


@contextmanager
def logged_in(port: int) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """A client logged in as the administrator, and the headers its writes need."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        response = client.post("/api/v1/session", json={"username": ADMIN[0], "password": ADMIN[1]})
        assert response.status_code == 200, response.text
        yield client, {"X-CSRF-Token": response.json()["csrf_token"]}


def create_draw(client: httpx.Client, headers: dict[str, str], title: str) -> str:
    body = {"title": title, "prizes": [{"name": "Cup", "quantity": 1}]}
    created = client.post("/api/v1/draws", json=body, headers=headers)
    assert created.status_code == 201, created.text
    draw_id: str = created.json()["id"]
    return draw_id


def draw_titles(port: int) -> list[str]:
    response = httpx.get(f"http://127.0.0.1:{port}/api/v1/draws", timeout=10)
    assert response.status_code == 200, response.text
    return sorted(draw["title"] for draw in response.json())


def lines_with(output: str, text: str) -> list[str]:
    return [line for line in output.splitlines() if text in line]


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def filled_store(data_dir: Path, count: int) -> None:
    """A stopped store on ``data_dir`` holding the keys k0 … k{count-1}."""
    with EmbeddedStore(data_dir) as store, Redis.from_url(store.url) as redis:
        for i in range(count):
            redis.set(f"k{i}", "v" * 10)


def stored_keys(data_dir: Path) -> list[str]:
    with (
        EmbeddedStore(data_dir) as store,
        Redis.from_url(store.url, decode_responses=True) as redis,
    ):
        return sorted(redis.keys())


def damage_middle(data_dir: Path) -> Path:
    """Overwrite bytes inside the append-only file's commands; the damaged file."""
    incr = data_dir / "store" / "appendonlydir" / INCR_FILE
    with incr.open("r+b") as aof:
        aof.seek(100)
        aof.write(b"XXXX")
    return incr


def test_serve_killed_with_sigkill_leaves_a_store_the_next_serve_replaces_and_stops(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    env = embedded_env(data_dir, admin_password=ADMIN[1])
    port = free_port()
    first = start_serve(data_dir, port, env)
    with logged_in(port) as (client, headers):
        create_draw(client, headers, "Before the crash")
    [orphan] = store_server_pids(data_dir)
    first.kill()
    first.communicate(timeout=30)
    # The server has a session of its own: it outlives the fairdraw that started it.
    assert store_server_pids(data_dir) == [orphan]

    second = start_serve(data_dir, port, env)
    try:
        [fresh] = store_server_pids(data_dir)
        assert fresh != orphan
        assert not is_running(orphan)
        assert draw_titles(port) == ["Before the crash"]
    finally:
        output = stop_serve(second)
    assert store_server_pids(data_dir) == []
    assert lines_with(output, "left running by a previous fairdraw") == [
        f"WARNING fairdraw.store: a store server left running by a previous fairdraw "
        f"(pid {orphan}) uses {data_dir.resolve()}; stopping it"
    ]


def test_second_serve_on_the_same_data_directory_is_refused_while_the_first_serves(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    env = embedded_env(data_dir, admin_password=ADMIN[1])
    port = free_port()
    first = start_serve(data_dir, port, env)
    try:
        [store_pid] = store_server_pids(data_dir)
        in_use = (
            f"fairdraw: another fairdraw (pid {first.pid}) is already using {data_dir.resolve()}"
        )
        refusal = f"{in_use}; stop it first, or set another FAIRDRAW_DATA_DIR"

        second = run_fairdraw(data_dir, env, "serve", "--port", str(free_port()))
        assert (second.returncode, second.stdout.strip()) == (2, refusal)
        scheduler = run_fairdraw(data_dir, env, "scheduler")
        assert (scheduler.returncode, scheduler.stdout.strip()) == (2, refusal)
        repair = run_fairdraw(data_dir, env, "store", "repair", "--yes")
        assert (repair.returncode, repair.stdout.strip()) == (2, f"{in_use}; stop it first")

        # Short commands run beside the server, on its store.
        password = "another admin password"
        created = run_fairdraw(
            data_dir, env | {"FAIRDRAW_NEW_PASSWORD": password}, "admin", "create", "second"
        )
        assert created.returncode == 0, created.stdout
        once = run_fairdraw(data_dir, env, "scheduler", "--once")
        assert once.returncode == 0, once.stdout

        assert store_server_pids(data_dir) == [store_pid]
        session = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/session",
            json={"username": "second", "password": password},
        )
        assert session.status_code == 200, session.text
    finally:
        stop_serve(first)
    assert store_server_pids(data_dir) == []


def test_store_killed_under_serve_is_restarted_with_its_data_and_logged_once(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    env = embedded_env(data_dir, admin_password=ADMIN[1], scheduler_interval_seconds="0.05")
    port = free_port()
    server = start_serve(data_dir, port, env)
    try:
        with logged_in(port) as (client, headers):
            create_draw(client, headers, "Written before")
            [killed] = store_server_pids(data_dir)
            os.kill(killed, signal.SIGKILL)
            deadline = time.monotonic() + RECOVERY_SECONDS
            statuses = []
            while True:
                status = client.get("/api/v1/draws").status_code
                statuses.append(status)
                if status == 200:
                    break
                assert time.monotonic() < deadline, statuses
                time.sleep(0.02)
            # An outage answers 503, never 500; the same session writes again after it.
            assert set(statuses) <= {200, 503}
            create_draw(client, headers, "Written after")
        assert draw_titles(port) == ["Written after", "Written before"]
        [restarted] = store_server_pids(data_dir)
        assert restarted != killed
        time.sleep(0.5)  # a few scheduler passes against the restarted store
    finally:
        output = stop_serve(server)
    assert store_server_pids(data_dir) == []
    assert lines_with(output, "restarting it") == [
        f"ERROR fairdraw.store: embedded store (pid {killed}) was killed by SIGKILL; restarting it"
    ]
    [recovered] = lines_with(output, "embedded store recovered after")
    assert recovered.endswith(f"(pid {restarted})")
    # The scheduler reports the outage once and its end once, never a traceback a pass.
    assert len(lines_with(output, "scheduler: the store is unreachable")) == 1
    assert len(lines_with(output, "scheduler: the store is reachable again")) == 1
    assert "Traceback" not in output


def test_truncated_last_write_is_dropped_and_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    filled_store(tmp_path, 5)
    incr = tmp_path / "store" / "appendonlydir" / INCR_FILE
    size = incr.stat().st_size
    os.truncate(incr, size - 5)  # the last SET loses its end, as in a crash mid-write

    with caplog.at_level(logging.WARNING, logger="fairdraw.store"):
        assert stored_keys(tmp_path) == ["k0", "k1", "k2", "k3"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"the store's append-only file {incr} ended in an incomplete")
    assert "dropped it at byte 175" in warnings[0]


def test_damaged_append_only_file_is_one_line_and_store_repair_fixes_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = embedded_env(data_dir, secret_key="k" * 20 + "-not-a-placeholder-key")
    filled_store(data_dir, 5)
    incr = damage_middle(data_dir)
    damaged = incr.read_bytes()
    aof_dir = data_dir.resolve() / "store" / "appendonlydir"

    serve = run_fairdraw(data_dir, env, "serve", "--port", str(free_port()))
    assert (serve.returncode, serve.stdout.strip()) == (
        2,
        f"fairdraw: the store cannot load its data in {aof_dir} (Bad file format reading "
        f"the append only file {INCR_FILE}); repair it with: fairdraw store repair",
    )
    assert store_server_pids(data_dir) == []

    declined = run_fairdraw(data_dir, env, "store", "repair", input_text="n\n")
    assert declined.returncode == 1
    found = (
        f"{INCR_FILE} is damaged after byte 99 of 213: repairing keeps everything before "
        "that and drops the last 114 bytes (the writes from the damage on)."
    )
    # The prompt and the answer's outcome share a line: the answer came from a pipe.
    assert declined.stdout.splitlines() == [found, "Repair it? [y/N]: Nothing changed."]
    assert incr.read_bytes() == damaged
    assert list(data_dir.glob("store/appendonlydir.before-repair-*")) == []

    repaired = run_fairdraw(data_dir, env, "store", "repair", input_text="y\n")
    assert repaired.returncode == 0, repaired.stdout
    [backup] = data_dir.glob("store/appendonlydir.before-repair-*")
    assert (backup / INCR_FILE).read_bytes() == damaged
    assert repaired.stdout.splitlines() == [
        found,
        f"Repair it? [y/N]: Repaired. The files as they were are in {backup.resolve()}; "
        "fairdraw serve can start.",
    ]
    assert incr.stat().st_size == 99
    # The writes before the damage are kept; the store starts again.
    assert stored_keys(data_dir) == ["k0", "k1"]

    again = run_fairdraw(data_dir, env, "store", "repair")
    assert (again.returncode, again.stdout.strip()) == (
        0,
        f"The append-only file in {aof_dir} is sound; nothing to repair.",
    )


def test_damaged_snapshot_cannot_be_repaired_and_says_so(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = embedded_env(data_dir, secret_key="k" * 20 + "-not-a-placeholder-key")
    filled_store(data_dir, 2)
    base = data_dir / "store" / "appendonlydir" / "appendonly.aof.1.base.rdb"
    with base.open("r+b") as rdb:
        rdb.seek(30)
        rdb.write(b"XXXX")
    before = base.read_bytes()

    store = EmbeddedStore(data_dir)
    with pytest.raises(DamagedAppendOnlyFile) as refused:
        store.start()
    assert "\n" not in str(refused.value)
    assert str(refused.value).endswith("; repair it with: fairdraw store repair")
    repair = run_fairdraw(data_dir, env, "store", "repair", "--yes")
    assert repair.returncode == 2
    assert repair.stdout.strip() == (
        f"fairdraw: the append-only file in {data_dir.resolve() / 'store' / 'appendonlydir'} "
        "cannot be repaired automatically (RDB preamble of AOF file is not sane, aborting.); "
        f"restore {data_dir.resolve() / 'store'} from a backup"
    )
    assert base.read_bytes() == before


def test_server_that_cannot_restart_is_reported_once_and_retried_until_stopped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = EmbeddedStore(tmp_path)
    with caplog.at_level(logging.INFO, logger="fairdraw.store"):
        with Redis.from_url(store.start()) as redis:
            for i in range(5):
                redis.set(f"k{i}", "v" * 10)
        killed = store.pid
        assert killed is not None
        damage_middle(tmp_path)
        os.kill(killed, signal.SIGKILL)
        time.sleep(2.5)  # restarts at about 0.25, 0.75, 1.75 s: three refusals
        attempts = store.log_path.read_text().count("Bad file format reading the append only")
        stopping = time.monotonic()
        store.stop()
        assert time.monotonic() - stopping < 2
    assert attempts >= 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    aof_dir = tmp_path.resolve() / "store" / "appendonlydir"
    assert errors == [
        f"embedded store (pid {killed}) was killed by SIGKILL; restarting it",
        f"embedded store could not be restarted: the store cannot load its data in {aof_dir} "
        f"(Bad file format reading the append only file {INCR_FILE}); repair it with: "
        f"fairdraw store repair; trying again every 30 s at most (see {store.log_path})",
    ]
    assert not store.socket_path.exists()
    assert store_server_pids(tmp_path) == []


def test_pid_file_naming_another_directorys_server_is_left_alone(tmp_path: Path) -> None:
    other = EmbeddedStore(tmp_path / "other")
    other.start()
    try:
        mine = tmp_path / "mine" / "store"
        mine.mkdir(parents=True)
        (mine / "valkey.pid").write_text(f"{other.pid}\n")
        with EmbeddedStore(tmp_path / "mine") as store, Redis.from_url(store.url) as redis:
            assert redis.ping() is True
            assert store.pid != other.pid
        with Redis.from_url(other.url) as redis:
            assert redis.ping() is True
    finally:
        other.stop()
