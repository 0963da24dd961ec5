"""Fuzzing fairdraw's JSON API with Schemathesis, against a server over real HTTP.

Used by tests/integration/test_api_fuzz.py (a bounded, derandomized run in CI) and by
bench/bench_fuzz.py (the full run). Both:

1. create the **targets** through the API as the administrator (:func:`create_targets`):
   an open giveaway, a drawn one, a draft to open, close, draw and cancel, an open raffle,
   a sold-out drawn raffle, a running lottery; path parameters are filled with their real
   ids, so the fuzzer reaches the code behind a draw rather than 404s;
2. write a Schemathesis configuration (:func:`write_config`): those ids, the hooks of
   tests/support/fuzz_hooks.py, and the live feeds (``…/events``) left out: they are
   streams that never end, which a fuzzer would wait on until its timeout;
3. run ``schemathesis run`` with every check (``--checks all``), every phase (examples,
   coverage, fuzzing, stateful) and both generation modes, once as an anonymous client
   and once with the administrator's bearer token (:func:`run_fuzzer`), and read its
   HAR and JSON reports into a :class:`FuzzRun`: requests by status, failures by check.

No check is excluded. ``--checks all`` is: not_a_server_error, status_code_conformance,
content_type_conformance, response_headers_conformance, response_schema_conformance,
negative_data_rejection, positive_data_acceptance, missing_required_header,
unsupported_method, allow_header_conformance, use_after_free,
ensure_resource_availability, ignored_auth and object_level_authorization.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from fairdraw.domain.identity import is_github_login
from tests.support.github_server import GitHubStandIn

HOOKS_MODULE = "tests.support.fuzz_hooks"
# Names a file where the hooks write each failure they drop, for the run's figures.
EXPLAINED_LOG_VARIABLE = "FAIRDRAW_FUZZ_EXPLAINED"
REPO_ROOT = Path(__file__).resolve().parents[2]
# Live feeds answer with an endless stream of Server-Sent Events.
STREAMING_PATHS = r"/events(/private)?$"
_PRIZES = [{"name": "Mug", "quantity": 1}]
# "prizes.3.name" and "prizes.0.name" are one rule.
_LIST_INDEX = re.compile(r"\.[0-9]+\.")
_CHECKED_TICKETS = 5


class EveryLoginOnGitHub(GitHubStandIn):
    """The GitHub stand-in, knowing every login GitHub could have issued: a fuzzed entry
    with a well-formed login reaches the ledger instead of stopping at a 404 from GitHub."""

    def _find(self, path: str) -> dict[str, Any] | None:
        login = path.removeprefix("/users/")
        if login != path and is_github_login(login) and login.lower() not in self.users:
            # A stable id per login, as GitHub's are.
            self.add_user(login, zlib.crc32(login.lower().encode()) + 1)
        return super()._find(path)


@dataclass(frozen=True)
class Targets:
    """Real ids for the fuzzer's path parameters."""

    giveaway: str  # open, entered with GitHub: entries, search, dashboard, chart
    drawn: str  # drawn, entered with accounts: winners, proof, entries file, reveal
    lifecycle: str  # a draft, for the fuzzer to open, close, draw and cancel
    raffle: str  # open, anonymous, 10^9 tickets: claims
    checked_raffle: str  # sold out and drawn: ticket checks meet real tickets
    lottery: str  # running since today (UTC)
    day: str  # today, a round of the lottery
    username: str  # the account the administrator's fuzzing changes

    def operations(self) -> list[tuple[str, dict[str, str]]]:
        """(path regex, parameters) for each group of operations."""
        draw = r"^/api/v1/draws/\{draw_id\}"
        return [
            (draw + r"/(open|close|cancel|draw)$", {"draw_id": self.lifecycle}),
            (draw + r"/(winners|proof|entries\.txt|reveal)$", {"draw_id": self.drawn}),
            (draw + r"/tickets$", {"draw_id": self.raffle}),
            (draw + r"/tickets/check$", {"draw_id": self.checked_raffle}),
            (draw + r"(/entries|/dashboard|/minutes)?$", {"draw_id": self.giveaway}),
            (r"^/api/v1/lotteries/\{lottery_id\}", {"lottery_id": self.lottery, "date": self.day}),
            (r"^/api/v1/users/\{username\}$", {"username": self.username}),
        ]


def access_token(client: httpx.Client, credentials: tuple[str, str]) -> str:
    """A bearer token for ``credentials`` from the OAuth2 password grant."""
    reply = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": credentials[0], "password": credentials[1]},
    )
    _expect(reply, 200)
    token: str = reply.json()["access_token"]
    return token


def create_targets(base_url: str, admin: tuple[str, str], username: str) -> Targets:
    """Create the draws, raffles and lottery the fuzzer aims at, as the administrator."""
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        client.headers["Authorization"] = f"Bearer {access_token(client, admin)}"

        def create(path: str, body: dict[str, Any]) -> str:
            reply = client.post(path, json=body)
            _expect(reply, 201)
            created: str = reply.json()["id"]
            return created

        def act(path: str, status: int = 200) -> None:
            _expect(client.post(path, json={}), status)

        giveaway = create(
            "/api/v1/draws", {"title": "Fuzzed giveaway", "prizes": _PRIZES, "open": True}
        )
        drawn = create(
            "/api/v1/draws",
            {"title": "Drawn", "prizes": _PRIZES, "open": True, "entry_identity": "account"},
        )
        act(f"/api/v1/draws/{drawn}/entries", 201)
        act(f"/api/v1/draws/{drawn}/close")
        act(f"/api/v1/draws/{drawn}/draw")
        lifecycle = create("/api/v1/draws", {"title": "Lifecycle", "prizes": _PRIZES})
        raffle = create(
            "/api/v1/raffles",
            {
                "title": "Raffle",
                "prizes": _PRIZES,
                "ticket_count": 10**9,
                "per_claimant": 10**9,
                "early_close": True,
                "open": True,
            },
        )
        checked = create(
            "/api/v1/raffles",
            {
                "title": "Checked",
                "prizes": _PRIZES,
                "ticket_count": _CHECKED_TICKETS,
                "per_claimant": _CHECKED_TICKETS,
                "open": True,
            },
        )
        for _ in range(_CHECKED_TICKETS):  # the last claim closes it
            act(f"/api/v1/draws/{checked}/tickets", 201)
        act(f"/api/v1/draws/{checked}/draw")
        day = datetime.now(UTC).date().isoformat()
        lottery = create(
            "/api/v1/lotteries",
            {"name": "Daily", "prize": "Coffee", "start": day, "timezone": "UTC"},
        )
        act(f"/api/v1/lotteries/{lottery}/ballots", 201)
    return Targets(giveaway, drawn, lifecycle, raffle, checked, lottery, day, username)


def _toml(value: object) -> str:
    # JSON's strings, numbers and booleans are TOML's too.
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def write_config(path: Path, targets: Targets) -> Path:
    """The schemathesis.toml of a run against ``targets``."""
    lines = [f"hooks = {_toml(HOOKS_MODULE)}", ""]
    for regex, parameters in targets.operations():
        lines += ["[[operations]]", f"include-path-regex = {_toml(regex)}"]
        lines += [f"parameters = {_toml(parameters)}", ""]
    lines += ["[[operations]]", f"include-path-regex = {_toml(STREAMING_PATHS)}"]
    lines += ["enabled = false", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@dataclass
class FuzzRun:
    """What one ``schemathesis run`` did and found."""

    identity: str
    command: list[str]
    exit_code: int
    output: str
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)  # 0: no answer
    successes: Counter[str] = field(default_factory=Counter)  # "POST /path" → 2xx answers
    failures: dict[str, int] = field(default_factory=dict)  # "ST202 title" → count
    errors: dict[str, int] = field(default_factory=dict)
    dropped: int = 0  # failures the hooks explained (fuzz_hooks.UNSTATED_RULES)
    explained: Counter[str] = field(default_factory=Counter)  # "POST /path field: rule" → count

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def by_class(self) -> dict[str, int]:
        """Requests by status class: ``"2xx"`` … ``"5xx"``, and ``"none"`` (no answer)."""
        found: Counter[str] = Counter()
        for status, count in self.statuses.items():
            found[f"{status // 100}xx" if status else "none"] += count
        return dict(sorted(found.items()))

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def report(self) -> str:
        """The failures section of Schemathesis' own output, or its tail."""
        start = self.output.find("= FAILURES =")
        text = self.output[start:] if start >= 0 else self.output[-6000:]
        return text[-20000:]


def fuzz_command(
    schema_url: str,
    config: Path,
    reports: Path,
    *,
    max_examples: int,
    seed: int | None,
    headers: Sequence[str] = (),
) -> list[str]:
    """The ``schemathesis run`` command line; without ``seed``, derandomized."""
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color",
        "run", schema_url,
        "--checks", "all",
        "--max-examples", str(max_examples),
        # One at a time: the order of requests, and so what the server answers, repeats.
        "--workers", "1",
        "--request-timeout", "30",
        "--report", "har,json",
        "--report-har-path", str(reports / "requests.har"),
        "--report-json-path", str(reports / "report.json"),
    ]  # fmt: skip
    if seed is None:
        command.append("--generation-deterministic")  # which keeps no example database
    else:
        # Without a database of earlier runs' examples, a seed alone decides the run.
        command += ["--seed", str(seed), "--generation-database", "none"]
    for header in headers:
        command += ["--header", header]
    return command


def run_fuzzer(
    identity: str,
    schema_url: str,
    config: Path,
    reports: Path,
    *,
    max_examples: int,
    seed: int | None = None,
    token: str | None = None,
) -> FuzzRun:
    """One run of the fuzzer as ``identity``, with ``token`` as its bearer token if given."""
    reports.mkdir(parents=True, exist_ok=True)
    headers = [f"Authorization: Bearer {token}"] if token else []
    command = fuzz_command(
        schema_url, config, reports, max_examples=max_examples, seed=seed, headers=headers
    )
    explained = reports / "explained.jsonl"
    explained.unlink(missing_ok=True)
    environment = {**os.environ, EXPLAINED_LOG_VARIABLE: str(explained)}
    started = time.monotonic()
    finished = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    run = FuzzRun(
        identity=identity,
        command=command,
        exit_code=finished.returncode,
        output=finished.stdout + finished.stderr,
        seconds=time.monotonic() - started,
    )
    _read_har(run, reports / "requests.har")
    _read_report(run, reports / "report.json")
    if explained.exists():
        for line in explained.read_text(encoding="utf-8").splitlines():
            dropped = json.loads(line)
            operation = dropped["operation"]
            for rule in dropped["rules"]:
                run.explained[f"{operation} {_LIST_INDEX.sub('.N.', rule)}"] += 1
    return run


def _read_har(run: FuzzRun, path: Path) -> None:
    if not path.exists():
        return
    for entry in json.loads(path.read_text(encoding="utf-8"))["log"]["entries"]:
        status = int(entry["response"]["status"])
        run.statuses[status] += 1
        if 200 <= status < 300:
            request = entry["request"]
            target = httpx.URL(request["url"]).path
            run.successes[f"{request['method']} {target}"] += 1


def _read_report(run: FuzzRun, path: Path) -> None:
    if not path.exists():
        return
    report = json.loads(path.read_text(encoding="utf-8"))
    for group in report.get("failures") or []:
        name = f"{group['code']} {group['title']}"
        run.failures[name] = run.failures.get(name, 0) + int(group["count"])
    for group in report.get("errors") or []:
        run.errors[group["title"]] = run.errors.get(group["title"], 0) + int(group["count"])
    run.dropped = int(report.get("filtered") or 0)


def shell_command(command: Sequence[str]) -> str:
    """``command`` as one line to paste into a shell (bearer tokens elided)."""
    shown = [
        "Authorization: Bearer $TOKEN" if word.startswith("Authorization: Bearer ") else word
        for word in command
    ]
    return shlex.join(shown)


def _expect(reply: httpx.Response, status: int) -> None:
    if reply.status_code != status:
        raise RuntimeError(
            f"{reply.request.method} {reply.request.url.path} answered {reply.status_code} "
            f"(expected {status}): {reply.text[:500]}"
        )
