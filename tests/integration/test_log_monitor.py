"""``fairdraw log monitor`` against the real app over real HTTP, on the real store: runs
that follow the log as draws open, seal, draw and cancel; an operator who rewrites, forks
or rolls back the log in the store, or changes the signing key, and is caught with
evidence that checks; servers that answer garbage or nothing, which change nothing.

A relay on loopback stands between the monitor and the app where a test needs to change
an answer or count the requests: it passes every request through unless told otherwise.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis as SyncRedis
from typer.testing import CliRunner

from fairdraw.cli import app as cli
from fairdraw.domain import transparency as t
from fairdraw.domain.beacon import QUICKNET
from fairdraw.domain.fairness import node_hash
from fairdraw.domain.moments import iso
from fairdraw.domain.proof import canonical_json
from fairdraw.domain.signing import SigningKey
from fairdraw.services.log_monitor import (
    evidence_problem,
    load_state,
    save_state,
)
from fairdraw.store.keys import Keys
from tests.support.app import ADMIN, LiveServer, live_server_of, make_settings, serve
from tests.support.drand_relay import DrandRelays, chain_file_content
from tests.support.github_server import GitHubStandIn

KEYS = Keys()
runner = CliRunner()
PRIZES = [{"name": "Mug", "quantity": 1}]
EMPTY = t.EMPTY_ROOT.hex()
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
TIME = "2026-12-06T22:00:00.000Z"


# -- a relay in front of the app --------------------------------------------------------------


class Relay:
    """A loopback HTTP server passing GET requests to ``upstream``, except for paths
    given an answer of their own in ``answers`` (status, body); ``requests`` records the
    path and query of every request."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.answers: dict[str, tuple[int, bytes]] = {}
        self.requests: list[str] = []
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                relay.requests.append(self.path)
                path = self.path.split("?")[0]
                if path in relay.answers:
                    status, body = relay.answers[path]
                else:
                    passed = httpx.get(relay.upstream + self.path, timeout=10)
                    status, body = passed.status_code, passed.content
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def relay(live_server: LiveServer) -> Iterator[Relay]:
    running = Relay(live_server.url)
    try:
        yield running
    finally:
        running.stop()


@dataclass
class BeaconServer:
    url: str
    github: GitHubStandIn
    chain_file: Path


@pytest.fixture
def beacon_server(
    store_url: str,
    github: GitHubStandIn,
    drand: DrandRelays,
    redis_sync: SyncRedis,
    tmp_path: Path,
) -> Iterator[BeaconServer]:
    """The app over real HTTP binding the loopback relay's test chain, with no margin: a
    draw's round comes a second or so after its seal."""
    chain_file = tmp_path / "chain.json"
    chain_file.write_text(chain_file_content(drand.test_chain.chain))
    settings = make_settings(
        store_url,
        github.url,
        beacon="quicknet",
        beacon_chain_file=chain_file,
        beacon_relays=[drand.add_relay("ok")],
        beacon_margin_seconds=0,
        signing_key_file=tmp_path / "signing_key",
    )
    for served in live_server_of(settings, github):
        yield BeaconServer(served.url, github, chain_file)


# -- helpers --------------------------------------------------------------------------------


def monitor(server: str, state: Path, *args: str) -> Any:
    return runner.invoke(cli, ["log", "monitor", "--server", server, "--state", str(state), *args])


@contextmanager
def admin(url: str) -> Iterator[httpx.Client]:
    """A client logged in as the administrator."""
    with httpx.Client(base_url=url, timeout=30) as client:
        answer = client.post("/api/v1/session", json={"username": ADMIN[0], "password": ADMIN[1]})
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        yield client


def open_draw(client: httpx.Client, title: str = "Watched") -> str:
    created = client.post("/api/v1/draws", json={"title": title, "prizes": PRIZES, "open": True})
    assert created.status_code == 201, created.text
    draw_id: str = created.json()["id"]
    return draw_id


def act(client: httpx.Client, draw_id: str, action: str) -> None:
    response = client.post(f"/api/v1/draws/{draw_id}/{action}")
    assert response.status_code == 200, response.text


def served_key(url: str) -> dict[str, str]:
    described: dict[str, str] = httpx.get(url + "/.well-known/fairdraw-signing-key").json()
    return described


def served_root(url: str) -> str:
    root: str = httpx.get(url + "/api/v1/log/tree-head").json()["statement"]["root_hash"]
    return root


def ms(text: str) -> int:
    """An ISO-8601 UTC time as epoch milliseconds."""
    return (datetime.fromisoformat(text) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
        milliseconds=1
    )


def draw_id(number: int) -> str:
    return "".join(_ALPHABET[(number >> (5 * k)) & 31] for k in range(12))


def commit(number: int) -> dict[str, Any]:
    return {
        "type": "commit",
        "draw_id": draw_id(number),
        "kind": "giveaway",
        "time": TIME,
        "commitment": "ab" * 32,
    }


def seal(number: int, chain_hash: str, round: int, root: str = "cd" * 32) -> dict[str, Any]:
    return {
        "type": "seal",
        "draw_id": draw_id(number),
        "time": TIME,
        "root": root,
        "entry_count": 3,
        "sealed_at": TIME,
        "beacon": {"chain_hash": chain_hash, "round": round},
    }


def read_log(redis: SyncRedis) -> list[dict[str, Any]]:
    return [json.loads(text) for text in redis.lrange(KEYS.log_entries(), 0, -1)]


def write_log(redis: SyncRedis, entries: list[dict[str, Any]]) -> None:
    """Make ``entries`` the whole draw log in the store, every hash recomputed, as an
    operator with write access to the store can."""
    levels = [[t.leaf_hash(entry) for entry in entries]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    frontier = [levels[h][j] for h, j in t.subtree_nodes(0, len(entries))] if entries else []
    ids: dict[str, int] = {}
    for index, entry in enumerate(entries):
        ids.setdefault(f"{entry['type']}:{entry['draw_id']}", index)
    pipe = redis.pipeline(transaction=True)
    pipe.delete(KEYS.log_entries(), KEYS.log_ids(), KEYS.log_head())
    pipe.delete(*(KEYS.log_level(h) for h in range(64)))
    if entries:
        pipe.rpush(KEYS.log_entries(), *(canonical_json(entry).decode() for entry in entries))
        pipe.hset(KEYS.log_ids(), mapping=ids)
        for h, level in enumerate(levels):
            if level:
                pipe.set(KEYS.log_level(h), b"".join(level).hex())
    pipe.hset(KEYS.log_head(), mapping={"size": len(entries), "frontier": b"".join(frontier).hex()})
    pipe.execute()


def evidence_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("fairdraw-log-*.json"))


def alarm_evidence(output: str) -> Path:
    """The evidence file an alarm's output names."""
    line = next(line for line in output.splitlines() if line.startswith("Evidence written to "))
    return Path(line.removeprefix("Evidence written to ").split(": ")[0])


def check_evidence(path: Path) -> Any:
    return runner.invoke(cli, ["log", "check-evidence", str(path)])


# -- runs that find the log grown ------------------------------------------------------------


def test_runs_follow_the_log_as_draws_open_seal_draw_and_cancel(
    beacon_server: BeaconServer, tmp_path: Path
) -> None:
    url = beacon_server.url
    state = tmp_path / "state.json"
    chain = ("--beacon-chain", str(beacon_server.chain_file))
    kid = served_key(url)["key_id"]

    first = monitor(url, state, *chain)
    assert first.exit_code == 0, first.output
    assert first.output == (
        "OK: 0 leaves, 0 new on the first run (0 opened, 0 sealed, 0 drawn, 0 cancelled); "
        f"key {kid} pinned; root {EMPTY}\n"
    )
    states = [json.loads(state.read_text())]
    assert states[0] == {
        "format": "fairdraw-log-monitor/1",
        "server": url,
        "public_key": served_key(url)["public_key"],
        "key_id": kid,
        "tree_head": states[0]["tree_head"],
        "checked_at": states[0]["checked_at"],
        "frontier": [],
        "draws": {},
    }
    assert states[0]["tree_head"]["statement"]["tree_size"] == 0

    with admin(url) as client:
        giveaway, other = open_draw(client), open_draw(client, "Cancelled later")
        second = monitor(url, state, *chain)
        assert second.exit_code == 0, second.output
        assert second.output == (
            f"OK: 2 leaves, 2 new (2 opened, 0 sealed, 0 drawn, 0 cancelled); "
            f"root {served_root(url)}\n"
        )
        states.append(json.loads(state.read_text()))
        with httpx.Client(base_url=url) as entrant:
            for number in range(3):
                beacon_server.github.add_user(f"watched{number}", 700 + number)
                entered = entrant.post(
                    f"/api/v1/draws/{giveaway}/entries", json={"github": f"watched{number}"}
                )
                assert entered.status_code == 201, entered.text
        act(client, giveaway, "close")
        act(client, giveaway, "draw")
        act(client, other, "cancel")
    third = monitor(url, state, *chain)
    assert third.exit_code == 0, third.output
    assert third.output == (
        f"OK: 5 leaves, 3 new (0 opened, 1 sealed, 1 drawn, 1 cancelled); root {served_root(url)}\n"
    )
    states.append(json.loads(state.read_text()))
    idle = monitor(url, state, *chain)
    assert idle.output == (
        f"OK: 5 leaves, 0 new (0 opened, 0 sealed, 0 drawn, 0 cancelled); root {served_root(url)}\n"
    )
    states.append(json.loads(state.read_text()))

    kept = states[-1]
    assert kept["tree_head"]["statement"]["tree_size"] == 5
    assert kept["tree_head"]["statement"]["root_hash"] == served_root(url)
    assert t.fold_subtrees([bytes.fromhex(h) for h in kept["frontier"]]).hex() == served_root(url)
    assert kept["draws"] == states[2]["draws"]
    # Each leaf: its index, and the run whose tree head lacked it (absent_at) and the
    # next one, which saw it first.
    seen_by = {
        (giveaway, "commit"): (0, 1),
        (other, "commit"): (1, 1),
        (giveaway, "seal"): (2, 2),
        (giveaway, "draw"): (3, 2),
        (other, "cancel"): (4, 2),
    }
    draws = kept["draws"]
    assert {(draw, kind) for draw in draws for kind in draws[draw]} == set(seen_by)
    for (draw, kind), (index, run) in seen_by.items():
        leaf = draws[draw][kind]
        assert (leaf["leaf_index"], leaf["absent_at"]) == (index, states[run - 1]["checked_at"])
        checked = [ms(states[run]["checked_at"]), ms(states[run + 1]["checked_at"])]
        assert checked[0] <= ms(leaf["first_seen"]) <= checked[1]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "chain.json",
        "signing_key",
        "state.json",
    ]


def test_a_long_log_is_read_in_pages_and_seals_logged_late_are_flagged(
    relay: Relay, redis_sync: SyncRedis, tmp_path: Path
) -> None:
    """2,500 leaves come in three pages; then, among leaves the operator writes itself, a
    seal whose quicknet round was out before the run that did not see it, a second seal
    of one draw and a leaf of no known type are flagged; a seal of a round still to come
    and one of a chain the monitor does not know are not."""
    state = tmp_path / "state.json"
    leaves = [commit(number) for number in range(2500)]
    write_log(redis_sync, leaves)
    relay.requests.clear()
    first = monitor(relay.url, state)
    assert first.exit_code == 0, first.output
    assert first.output.startswith(
        "OK: 2,500 leaves, 2,500 new on the first run (2,500 opened, 0 sealed, 0 drawn, "
    )
    assert [path for path in relay.requests if path.startswith("/api/v1/log/entries")] == [
        "/api/v1/log/entries?start=0&end=1000",
        "/api/v1/log/entries?start=1000&end=2000",
        "/api/v1/log/entries?start=2000&end=2500",
    ]
    kept = json.loads(state.read_text())
    assert len(kept["draws"]) == 2500
    seen = kept["draws"][draw_id(7)]["commit"]
    assert seen == {"leaf_index": 7, "first_seen": seen["first_seen"], "absent_at": None}
    assert ms(seen["first_seen"]) >= ms(kept["checked_at"])

    run_ms = ms(kept["checked_at"])
    late_round = QUICKNET.round_at(run_ms // 1000 - 60)
    coming_round = QUICKNET.round_at(run_ms // 1000 + 60) + 1
    written = [
        seal(1, QUICKNET.chain_hash, late_round),
        seal(2, QUICKNET.chain_hash, coming_round),
        seal(3, "ef" * 32, 5),
        seal(1, QUICKNET.chain_hash, late_round, root="ee" * 32),
        {"type": "reveal", "draw_id": draw_id(4)},
    ]
    write_log(redis_sync, leaves + written)
    relay.requests.clear()
    second = monitor(relay.url, state)
    asked = [path for path in relay.requests if path.startswith("/api/v1/log/")]
    assert second.exit_code == 0, second.output
    published = QUICKNET.round_time(late_round) * 1000
    assert second.output.splitlines() == [
        f"WARNING: the seal of draw {draw_id(1)} (leaf 2500) binds beacon round {late_round}, "
        f"published at {iso(published)}, but the log did not hold it at {iso(run_ms)}, "
        f"{(run_ms - published) // 1000:,} s later: it was logged after its round was out, "
        "so whoever sealed it could know the round (by this monitor's clock)",
        f"WARNING: leaf 2503 is a second seal leaf of draw {draw_id(1)} (the first is leaf "
        "2500): a draw has one leaf of each type",
        "WARNING: leaf 2504 is not a well-formed draw log leaf (type: one of commit, seal, "
        "draw, cancel, forfeit)",
        "OK: 2,505 leaves, 5 new (0 opened, 4 sealed, 0 drawn, 0 cancelled); root "
        f"{served_root(relay.url)}",
    ]
    assert asked == [
        "/api/v1/log/tree-head",
        "/api/v1/log/consistency?first=2500&second=2505",
        "/api/v1/log/entries?start=2500&end=2505",
    ]
    seals = json.loads(state.read_text())["draws"]
    assert seals[draw_id(1)]["seal"]["leaf_index"] == 2500
    assert seals[draw_id(1)]["seal"]["absent_at"] == iso(run_ms)
    assert sorted(seals[draw_id(2)]) == ["commit", "seal"]

    # With a margin longer than the round has been out, the same seal passes.
    relaxed = tmp_path / "relaxed.json"
    assert monitor(relay.url, relaxed, "--margin", "120").exit_code == 0
    write_log(redis_sync, [*leaves, *written, seal(5, QUICKNET.chain_hash, late_round)])
    assert monitor(relay.url, relaxed, "--margin", "120").output.startswith("OK: 2,506 leaves")
    assert monitor(relay.url, state).output.startswith(f"WARNING: the seal of draw {draw_id(5)}")


# -- an operator who rewrites the log -------------------------------------------------------


def rewritten(entries: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    """``entries`` with leaf ``index`` changed (another commitment or root)."""
    changed = [dict(entry) for entry in entries]
    field = "commitment" if changed[index]["type"] == "commit" else "root"
    changed[index][field] = "99" * 32
    return changed


@pytest.mark.parametrize("attack", ["fork", "inconsistent", "rollback"])
def test_a_rewritten_or_rolled_back_log_raises_the_alarm_with_evidence(
    live_server: LiveServer, redis_sync: SyncRedis, tmp_path: Path, attack: str
) -> None:
    url = live_server.url
    state = tmp_path / "state.json"
    with admin(url) as client:
        for title in ("One", "Two", "Three"):
            open_draw(client, title)
        assert monitor(url, state).exit_code == 0
        kept_bytes = state.read_bytes()
        kept = json.loads(kept_bytes)["tree_head"]
        entries = read_log(redis_sync)
        if attack == "fork":
            write_log(redis_sync, rewritten(entries, 1))
        elif attack == "inconsistent":
            write_log(redis_sync, rewritten(entries, 1))
            open_draw(client, "Four")
        else:
            write_log(redis_sync, entries[:2])

    alarm = monitor(url, state)
    assert alarm.exit_code == 1, alarm.output
    lines = alarm.output.splitlines()
    path = alarm_evidence(alarm.output)
    evidence = json.loads(path.read_bytes())
    served = evidence["served"]
    details = {
        "fork": "two tree heads of 3 leaves, both signed by the pinned key, have different "
        "roots: the log was rewritten, or is shown differently to different people",
        "inconsistent": "the instance's proof that the kept tree of 3 leaves is a prefix of "
        "its tree of 4 leaves does not verify: the log was rewritten, or is shown "
        "differently to different people",
        "rollback": "the log shrank: a tree head of 3 leaves was kept, and a later one of 2 "
        "leaves is served, both signed by the pinned key",
    }
    shown = [
        f"ALARM ({attack}): {details[attack]}",
        f"  kept tree head: {canonical_json(kept).decode()}",
        f"  served tree head: {canonical_json(served).decode()}",
    ]
    if attack == "inconsistent":
        assert evidence["proof"]["first"] == 3
        assert evidence["proof"]["second"] == 4
        shown.append(f"  consistency proof: {canonical_json(evidence['proof']).decode()}")
    public_key = served_key(url)["public_key"]
    assert lines == [
        *shown,
        f"Evidence written to {path}: anyone can check it by its signatures with fairdraw "
        f"log check-evidence {path}",
        "The state file is unchanged: the next run compares with the same kept head.",
    ]
    assert path.parent == tmp_path
    assert path.read_bytes() == canonical_json(evidence) + b"\n"
    assert evidence["type"] == "log-alarm"
    assert evidence["kind"] == attack
    assert evidence["detail"] == details[attack]
    assert evidence["server"] == url
    assert evidence["public_key"] == public_key
    assert evidence["kept"] == kept
    assert served["statement"]["root_hash"] == served_root(url)
    assert evidence_problem(evidence) is None
    checked = check_evidence(path)
    assert checked.exit_code == 0, checked.output
    assert (
        checked.output == f"PROVED ({attack}): {details[attack]}; signed by the key {public_key}\n"
    )
    assert state.read_bytes() == kept_bytes

    # The alarm stands run after run, with its first evidence file.
    again = monitor(url, state)
    assert again.exit_code == 1
    assert alarm_evidence(again.output) == path
    assert evidence_files(tmp_path) == [path]
    assert state.read_bytes() == kept_bytes

    # Evidence that was changed proves nothing.
    forged_root = {**evidence, "served": {**served, "statement": {**served["statement"]}}}
    forged_root["served"]["statement"]["root_hash"] = kept["statement"]["root_hash"]
    assert evidence_problem(forged_root) == "its tree heads are not both signed by its public key"
    other_key = {**evidence, "public_key": SigningKey.generate().public_key.hex()}
    assert evidence_problem(other_key) == "its tree heads are not both signed by its public key"
    if attack != "fork":  # a fork's two heads prove it in either order
        swapped = {**evidence, "kept": served, "served": kept}
        assert evidence_problem(swapped) is not None
    forged = tmp_path / "forged.json"
    forged.write_bytes(canonical_json(forged_root))
    refused = check_evidence(forged)
    assert refused.exit_code == 1
    assert refused.output == "NOT PROVED: its tree heads are not both signed by its public key\n"


def test_leaves_that_do_not_rebuild_the_signed_root_raise_the_alarm(
    live_server: LiveServer, redis_sync: SyncRedis, tmp_path: Path
) -> None:
    """The operator changes a leaf's text but not the hashes: the tree heads and proofs
    still agree, but the leaf served is not the leaf signed."""
    url = live_server.url
    state = tmp_path / "state.json"
    with admin(url) as client:
        open_draw(client)
        assert monitor(url, state).exit_code == 0
        kept_bytes = state.read_bytes()
        open_draw(client, "Second")
    changed = rewritten(read_log(redis_sync), 1)[1]
    redis_sync.lset(KEYS.log_entries(), 1, canonical_json(changed).decode())
    rebuilt = t.fold_subtrees(
        t.extend_frontier(
            [bytes.fromhex(h) for h in json.loads(kept_bytes)["frontier"]], 1, t.leaf_hash(changed)
        )[1]
    )
    alarm = monitor(url, state)
    assert alarm.exit_code == 1, alarm.output
    head = httpx.get(url + "/api/v1/log/tree-head").json()["statement"]
    lines = alarm.output.splitlines()
    assert lines[0] == (
        f"ALARM (leaves_mismatch): the leaves 1 to 1 the instance served rebuild the root "
        f"{rebuilt.hex()}, not the root of its signed tree head (2 leaves, root "
        f"{head['root_hash']}, signed at {lines[0].split('signed at ')[1]}"
    )
    assert (
        lines[-1] == "The state file is unchanged: the next run compares with the same kept head."
    )
    assert not any(line.startswith("Evidence") for line in lines)
    assert evidence_files(tmp_path) == []
    assert state.read_bytes() == kept_bytes


# -- the signing key ----------------------------------------------------------------------------


def test_another_signing_key_raises_the_key_alarm(
    live_server: LiveServer, relay: Relay, store_url: str, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    first_key = served_key(live_server.url)
    assert monitor(relay.url, state).exit_code == 0
    kept_bytes = state.read_bytes()
    new_settings = make_settings(
        store_url, live_server.github.url, signing_key_file=tmp_path / "new_key"
    )
    with serve(new_settings) as replaced:
        new_key = served_key(replaced.url)
        relay.upstream = replaced.url
        alarm = monitor(relay.url, state)
        assert alarm.exit_code == 1, alarm.output
        path = alarm_evidence(alarm.output)
        evidence = json.loads(path.read_bytes())
        detail = (
            f"the instance now publishes the key {new_key['key_id']}, not the pinned key "
            f"{first_key['key_id']}"
        )
        assert alarm.output.splitlines() == [
            f"ALARM (key_changed): {detail}",
            f"  kept tree head: {canonical_json(json.loads(kept_bytes)['tree_head']).decode()}",
            f"  served tree head: {canonical_json(evidence['served']).decode()}",
            f"  served key: {canonical_json(new_key).decode()}",
            f"Evidence written to {path}: anyone can check it by its signatures with "
            f"fairdraw log check-evidence {path}",
            "The state file is unchanged: the next run compares with the same kept head.",
        ]
        assert evidence["served"]["statement"]["key_id"] == new_key["key_id"]
        assert evidence_problem(evidence) is None
        assert check_evidence(path).output.startswith(f"PROVED (key_changed): {detail}")
        assert state.read_bytes() == kept_bytes

        # A first run given the old key raises it too, and keeps no state.
        fresh = tmp_path / "fresh.json"
        given = monitor(relay.url, fresh, "--key", first_key["public_key"])
        assert given.exit_code == 1
        assert given.output.startswith(f"ALARM (key_changed): {detail}\n")
        assert not fresh.exists()
        # A key given that is not the one the state pins is a mistake, not an alarm.
        mistaken = monitor(relay.url, state, "--key", new_key["public_key"])
        assert mistaken.exit_code == 2
        assert (
            f"{state} pins the key {first_key['key_id']}, not the key given ({new_key['key_id']})"
        ) in mistaken.output

    # A tree head signed by another key, while the pinned key is still published.
    relay.upstream = live_server.url
    assert monitor(relay.url, state).exit_code == 0
    kept_bytes = state.read_bytes()
    statement = httpx.get(live_server.url + "/api/v1/log/tree-head").json()["statement"]
    forged = SigningKey.generate().sign_statement(statement)
    relay.answers["/api/v1/log/tree-head"] = (200, json.dumps(forged).encode())
    bad = monitor(relay.url, state)
    assert bad.exit_code == 1
    assert bad.output.splitlines()[0] == (
        f"ALARM (bad_signature): the tree head the instance served (0 leaves, root {EMPTY}, "
        f"signed at {iso(statement['timestamp'])}) is not signed by the pinned key "
        f"{first_key['key_id']}"
    )
    assert state.read_bytes() == kept_bytes
    assert [path.name.split("-")[2] for path in evidence_files(tmp_path)] == ["key_changed"] * 2


# -- nothing to check --------------------------------------------------------------------------


def test_garbage_or_no_answer_exits_2_and_leaves_the_state_as_it_was(
    live_server: LiveServer, relay: Relay, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    with admin(live_server.url) as client:
        open_draw(client)
        assert monitor(relay.url, state).exit_code == 0
        old_head = httpx.get(relay.url + "/api/v1/log/tree-head").content
        open_draw(client, "Second")
    assert monitor(relay.url, state).exit_code == 0
    kept_bytes = state.read_bytes()
    with admin(live_server.url) as client:
        open_draw(client, "Third")

    base = relay.url
    refusals = [
        ("/api/v1/log/entries", 200, b"<html>busy</html>", f"{base}/api/v1/log/entries?start=2"),
        ("/api/v1/log/entries", 200, b'{"entries": []}', "gave no leaf 2, though its tree head"),
        ("/api/v1/log/entries", 503, b"{}", "/api/v1/log/entries?start=2&end=3 answered 503"),
        (
            "/api/v1/log/tree-head",
            200,
            b'{"statement": {}, "signature": ""}',
            "/api/v1/log/tree-head: its statement has not exactly the fields",
        ),
        (
            "/api/v1/log/tree-head",
            200,
            b'{"a": 1, "a": 2}',
            "(its answer has the key 'a' twice in one object)",
        ),
        (
            "/api/v1/log/tree-head",
            200,
            old_head,
            "the instance served a tree head (1 leaves, root",
        ),
        (
            "/api/v1/log/consistency",
            500,
            b"{}",
            "/api/v1/log/consistency?first=2&second=3 answered",
        ),
        (
            "/api/v1/log/consistency",
            200,
            b'{"first": 1, "second": 3, "path": []}',
            "did not answer a consistency proof from 2 to 3 leaves",
        ),
        (
            "/.well-known/fairdraw-signing-key",
            200,
            b'{"algorithm": "rsa", "public_key": "00", "key_id": "00"}',
            "/.well-known/fairdraw-signing-key does not describe an Ed25519 key",
        ),
    ]
    for path, status, body, message in refusals:
        relay.answers = {path: (status, body)}
        result = monitor(relay.url, state)
        assert result.exit_code == 2, (path, body, result.output)
        assert message in result.output, (message, result.output)
        assert result.output.startswith("fairdraw: ")
        assert state.read_bytes() == kept_bytes
    relay.answers = {}

    relay.stop()
    down = monitor(relay.url, state)
    assert down.exit_code == 2
    assert f"could not reach {relay.url}/.well-known/fairdraw-signing-key" in down.output
    fresh = tmp_path / "fresh.json"
    assert monitor(relay.url, fresh).exit_code == 2
    assert not fresh.exists()
    assert state.read_bytes() == kept_bytes
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.json"]

    elsewhere = monitor(live_server.url, state)
    assert elsewhere.exit_code == 2
    assert f"{state} watches {relay.url}, not {live_server.url}" in elsewhere.output
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "fairdraw-log-monitor/1"')
    unusable = monitor(live_server.url, broken)
    assert unusable.exit_code == 2
    assert f"{broken} is not a usable log monitor state" in unusable.output
    assert broken.read_text() == '{"format": "fairdraw-log-monitor/1"'
    edited = json.loads(kept_bytes)
    edited["frontier"] = [EMPTY] * len(edited["frontier"])
    broken.write_text(json.dumps(edited))
    assert "its frontier is not the frontier of its tree head" in monitor(relay.url, broken).output


def test_the_state_file_is_always_whole(live_server: LiveServer, tmp_path: Path) -> None:
    """A reader looking at the state file while runs save large states over and over
    finds the one state or the other, never part of one; no temporary file stays."""
    state = tmp_path / "state.json"
    assert monitor(live_server.url, state).exit_code == 0
    base = load_state(state)
    assert base is not None
    versions, written = [], []
    for run in range(2):
        draws = {
            draw_id(number): {"commit": {"leaf_index": number, "first_seen": f"run {run}"}}
            for number in range(5_000)
        }
        versions.append(dataclasses.replace(base, draws=draws))
        save_state(state, versions[run])
        written.append(state.read_bytes())
    done = threading.Event()

    def write() -> None:
        for round in range(30):
            save_state(state, versions[round % 2])
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    reads = 0
    while not done.is_set():
        assert state.read_bytes() in written
        reads += 1
    writer.join()
    assert reads > 10
    assert load_state(state) == versions[1]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.json"]
