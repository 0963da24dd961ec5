"""The ``fairdraw`` command: serve, scheduler, admin, verify, store, log. A thin shell over
the services."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import httpx
import typer
import uvicorn

from fairdraw import first_run
from fairdraw.composition import open_accounts, open_runtime, store_answers
from fairdraw.config import ConfigError, Settings, ensure_secret_key
from fairdraw.domain.accounts import Role, User, check_password
from fairdraw.domain.beacon import QUICKNET, Chain
from fairdraw.domain.errors import FairdrawError, InvalidInput
from fairdraw.domain.proof import parse_json
from fairdraw.domain.receipts import (
    Verdict,
    complaint_file,
    complaint_file_name,
    complaint_key,
    complaint_problem,
    complaint_proves,
    parse_complaint_text,
    parse_receipt_text,
    public_key_from_hex,
)
from fairdraw.domain.substitution_check import check_substitutions
from fairdraw.domain.verification import VerifyReport, verify_bundle_bytes
from fairdraw.logs import configure_logging
from fairdraw.metrics import shared_between_workers
from fairdraw.services.accounts import AccountService
from fairdraw.services.log_monitor import (
    DEFAULT_MARGIN_SECONDS,
    Checked,
    LogUnreachable,
    MonitorStateError,
    evidence_problem,
    monitor_once,
)
from fairdraw.services.receipts import InstanceUnreachable, check_with_instance, published_key
from fairdraw.store.embedded import DataDirectoryInUse, EmbeddedStore
from fairdraw.web.limits import server_options

app = typer.Typer(help="fairdraw: provably fair prize draws.", no_args_is_help=True)
admin_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
store_app = typer.Typer(help="Look after the embedded store.", no_args_is_help=True)
app.add_typer(store_app, name="store")
log_app = typer.Typer(help="Watch an instance's public draw log.", no_args_is_help=True)
app.add_typer(log_app, name="log")

log = logging.getLogger("fairdraw")

# How long verify-receipt waits for each answer of the instance, seconds.
RECEIPT_CHECK_TIMEOUT = 15.0


def fail(message: str) -> typer.Exit:
    typer.secho(f"fairdraw: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


def load_settings() -> Settings:
    try:
        return ensure_secret_key(Settings())
    except (ConfigError, ValueError) as exc:
        raise fail(str(exc)) from exc


@contextmanager
def store_for(settings: Settings, *, share: bool = False) -> Iterator[Settings]:
    """Settings pointing at a running store: the configured one, or an embedded store
    started (and supervised) for this command.

    The embedded store belongs to whoever holds its data directory's lock. ``share``
    lets a short command use the store of the fairdraw that holds it (an ``admin``
    command beside a running ``fairdraw serve``); without it, as for ``serve`` and the
    scheduler, a data directory in use is refused with a one-line message.
    """
    if settings.redis_url:
        yield settings
        return
    store = EmbeddedStore(settings.data_dir, binary=settings.store_binary)
    try:
        url = store.start()
    except DataDirectoryInUse as exc:
        if not share:
            raise fail(f"{exc.detail}; stop it first, or set another FAIRDRAW_DATA_DIR") from exc
        if not _answers(store.url):
            raise fail(f"{exc.detail} and its store does not answer; try again shortly") from exc
        url = None
    except FairdrawError as exc:
        raise fail(exc.detail) from exc
    if url is None:
        yield settings.model_copy(update={"redis_url": store.url})
        return
    try:
        yield settings.model_copy(update={"redis_url": url})
    finally:
        store.stop()


def _answers(url: str) -> bool:
    return asyncio.run(store_answers(url))


async def bootstrap(settings: Settings) -> None:
    """First-start chores: check the store answers, create the admin from
    ``FAIRDRAW_ADMIN_PASSWORD``, and say how to create one otherwise."""
    async with open_accounts(settings) as accounts:
        if settings.admin_password is not None:
            created = await accounts.ensure_admin(
                settings.admin_username, settings.admin_password.get_secret_value()
            )
            if created:
                typer.echo(f"Created the administrator {settings.admin_username!r}.")
        if not await accounts.any_admin():
            typer.secho(
                "No administrator yet. Create one with:  "
                f"{first_run.admin_create_command(settings)}"
                "  (or set FAIRDRAW_ADMIN_PASSWORD before starting)",
                fg=typer.colors.YELLOW,
            )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve fairdraw over HTTP (starting the embedded store unless FAIRDRAW_REDIS_URL is set)."""
    settings = load_settings()
    # The same configuration goes to uvicorn, which applies it in every worker process.
    log_config = configure_logging(settings.log_level, settings.log_format)
    # SIGTERM (what process managers send) must unwind like Ctrl-C, so that the embedded
    # store is stopped after the workers; the server re-raises it once it has shut down.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    with store_for(settings) as ready:
        try:
            asyncio.run(bootstrap(ready))
        except FairdrawError as exc:
            raise fail(exc.detail) from exc
        assert ready.redis_url
        assert ready.secret_key
        # Workers read their settings from the environment; hand them what was resolved.
        os.environ["FAIRDRAW_REDIS_URL"] = ready.redis_url
        os.environ["FAIRDRAW_SECRET_KEY"] = ready.secret_key.get_secret_value()
        typer.echo(f"fairdraw is serving http://{host}:{port}  (Ctrl-C stops it)")
        # Several workers write their metrics to files of one directory for the run, named
        # in the environment before they start, so any of them can answer a scrape.
        with shared_between_workers(workers):
            uvicorn.run(
                "fairdraw.web.app:create_app_from_env",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level=settings.log_level.lower(),
                log_config=log_config,
                proxy_headers=False,
                **server_options(),  # bounds on request heads and idle connections
            )


@app.command()
def scheduler(
    once: Annotated[bool, typer.Option(help="Make one pass, print it, and exit.")] = False,
) -> None:
    """Run the lottery scheduler on its own (for FAIRDRAW_SCHEDULER=false web servers).

    Any number may run, beside web servers or not: only the holder of the lease acts.
    """
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    with store_for(settings, share=once) as ready:
        asyncio.run(_schedule(ready, once))


async def _schedule(settings: Settings, once: bool) -> None:
    # The whole runtime, as a web server builds it: draws the scheduler settles announce
    # their webhooks and e-mail notices, which its leader delivers.
    async with open_runtime(settings) as runtime:
        runner = runtime.scheduler
        if once:
            report = await runner.run_once()
            drawn = ", ".join(f"{lid} {day.isoformat()}" for lid, day in report.drawn)
            typer.echo(
                f"led: {'yes' if report.led else 'no (another scheduler holds the lease)'}; "
                f"drew: {drawn or 'nothing due'}"
            )
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        typer.echo(f"fairdraw scheduler {runner.instance} running  (Ctrl-C stops it)")
        await runtime.run_background(stop)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def account_settings() -> Settings:
    """The settings of an account command, refused when they would make a new embedded
    store beside a running fairdraw (:func:`fairdraw.first_run.foreign_server`): the
    account would land in a store that server never reads."""
    try:
        server = first_run.foreign_server(Settings())
    except (ConfigError, ValueError) as exc:
        raise fail(str(exc)) from exc
    if server is not None:
        data_dir = Path(Settings().data_dir).resolve()
        raise fail(
            f"a fairdraw server is running at {server}, but {data_dir} holds no store, so "
            "it is not that server's. Run this command with the server's FAIRDRAW_DATA_DIR "
            "(or FAIRDRAW_REDIS_URL and FAIRDRAW_SECRET_KEY), from the directory it was "
            "started in."
        )
    return load_settings()


def with_accounts(
    work: Callable[[AccountService], Awaitable[User]], settings: Settings | None = None
) -> User:
    """Run one account use case against the configured store (or the embedded one),
    saying which; a refusal ends the command with its message."""
    settings = settings or account_settings()
    typer.echo(f"Using {first_run.store_description(settings)}.")
    with store_for(settings, share=True) as ready:

        async def run() -> User:
            async with open_accounts(ready) as accounts:
                return await work(accounts)

        try:
            return asyncio.run(run())
        except FairdrawError as exc:
            raise fail(exc.detail) from exc


def typed_password(username: str, prompt: str) -> str:
    """A new password for ``username`` typed twice, checked against the rule the account
    service applies (:func:`~fairdraw.domain.accounts.check_password`) before the second
    prompt, so a refused password is not typed again for nothing."""
    password: str = typer.prompt(prompt, hide_input=True)
    try:
        check_password(password, username)
    except InvalidInput as exc:
        raise fail(" ".join(exc.errors.values())) from exc
    again: str = typer.prompt("Repeat for confirmation", hide_input=True)
    if again != password:
        raise fail("The two passwords do not match.")
    return password


@admin_app.command("create")
def admin_create(
    username: Annotated[str, typer.Argument(help="The new administrator's username.")],
    password: Annotated[
        str | None,
        typer.Option(
            envvar="FAIRDRAW_NEW_PASSWORD",
            help="Prompted for when not given (or FAIRDRAW_NEW_PASSWORD).",
        ),
    ] = None,
    role: Annotated[Role, typer.Option(help="Role of the new account.")] = Role.admin,
) -> None:
    """Create an account (an administrator unless --role says otherwise)."""
    settings = account_settings()  # before the password is typed for a store it cannot use
    chosen = password if password is not None else typed_password(username, "Password")
    user = with_accounts(
        lambda accounts: accounts.create_user(username, chosen, role=role), settings
    )
    typer.echo(f"Created {role.value} {user.username!r}. Log in at /login.")


@admin_app.command("reset-password")
def admin_reset_password(
    username: Annotated[str, typer.Argument(help="The account whose password is forgotten.")],
    password: Annotated[
        str | None,
        typer.Option(
            envvar="FAIRDRAW_NEW_PASSWORD",
            help="Prompted for when not given (or FAIRDRAW_NEW_PASSWORD).",
        ),
    ] = None,
) -> None:
    """Set an account's password without the old one; every session and API token of the
    account ends."""
    settings = account_settings()
    chosen = password if password is not None else typed_password(username, "New password")
    user = with_accounts(lambda accounts: accounts.reset_password(username, chosen), settings)
    typer.echo(f"Set a new password for {user.role.value} {user.username!r}; its sessions ended.")
    if user.disabled:
        typer.echo("The account is disabled: an administrator can enable it at Users.")


@app.command()
def verify(
    bundle: Annotated[Path, typer.Argument(help="Proof bundle (JSON).")],
    entries: Annotated[Path, typer.Argument(help="Entries file.")],
    beacon_chain: Annotated[
        list[Path] | None,
        typer.Option(
            "--beacon-chain",
            metavar="CHAIN_JSON",
            help="Pin another drand chain besides quicknet: its info as JSON (a relay's "
            "/info answer, or chain_hash, public_key, period, genesis_time, scheme). Repeatable.",
        ),
    ] = None,
    substitutions: Annotated[
        Path | None,
        typer.Option(
            "--substitutions",
            metavar="RECORD",
            help="Also check the draw's substitutions record (forfeits and promotions): "
            "it amends this bundle and every substitution followed the alternate order.",
        ),
    ] = None,
) -> None:
    """Re-run a draw offline from its proof bundle and entries file: PASS, or the first
    failed check."""
    chains = [QUICKNET, *(read_chain(path) for path in beacon_chain or [])]
    bundle_bytes = read_input(bundle, "bundle")
    report = verify_bundle_bytes(bundle_bytes, read_input(entries, "entries file"), chains)
    if substitutions is not None:
        record = read_input(substitutions, "substitutions record")
        extra = check_substitutions(bundle_bytes, record)
        report = VerifyReport((*report.checks, *extra), report.algorithm, report.trusts_operator)
    for check in report.checks:
        mark = "ok  " if check.ok else "FAIL"
        typer.echo(f"{mark} {check.name}: {check.detail}")
    typer.secho(report.verdict, fg=typer.colors.GREEN if report.ok else typer.colors.RED)
    if not report.ok:
        raise typer.Exit(code=1)


def read_input(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read the {what} {path}: {exc.strerror or exc}") from exc


def read_chain(path: Path) -> Chain:
    try:
        return Chain.from_json(parse_json(read_input(path, "chain file"), "the chain file"))
    except ValueError as exc:
        raise fail(f"--beacon-chain {path}: {exc}") from exc


@app.command("verify-receipt")
def verify_receipt(
    receipt: Annotated[
        Path, typer.Argument(help="The receipt (JSON), as the API or the receipt page gives it.")
    ],
    server: Annotated[
        str,
        typer.Option(help="The fairdraw that signed it: its address, e.g. https://draws.example."),
    ],
    key: Annotated[
        str | None,
        typer.Option(
            help="Its Ed25519 public key, 64 hex (default: the key it publishes at "
            "/.well-known/fairdraw-signing-key)."
        ),
    ] = None,
    complaint: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the complaint if the entry was dropped "
            "(default: fairdraw-complaint-DRAW-INDEX.json here)."
        ),
    ] = None,
) -> None:
    """Check a fairdraw/2 receipt against the signed proof of its entry: INCLUDED (exit
    0); NOT INCLUDED, with a complaint written that proves it (exit 1); or why it cannot
    be checked (exit 2)."""
    try:
        public_key = public_key_from_hex(key) if key is not None else None
    except ValueError as exc:
        raise fail(f"--key: {exc}") from exc
    try:
        data = parse_receipt_text(read_input(receipt, "receipt").decode("utf-8"))
    except ValueError as exc:  # not UTF-8, not JSON
        raise fail(f"{receipt}: {exc}") from exc
    try:
        with httpx.Client(timeout=RECEIPT_CHECK_TIMEOUT, follow_redirects=True) as client:
            result = check_with_instance(client, server, data, public_key)
    except InstanceUnreachable as exc:
        raise fail(str(exc)) from exc
    if result.verdict is Verdict.included:
        typer.secho(f"INCLUDED: {result.detail}", fg=typer.colors.GREEN)
        return
    if result.complaint is None:
        raise fail(result.detail)
    written = complaint or Path(complaint_file_name(result.complaint))
    try:
        written.write_bytes(complaint_file(result.complaint))
    except OSError as exc:
        raise fail(f"cannot write the complaint to {written}: {exc.strerror or exc}") from exc
    typer.secho(f"NOT INCLUDED: {result.detail}", fg=typer.colors.RED)
    typer.echo(
        f"Complaint written to {written}: your receipt and the server's signed answer, "
        "which contradict each other. Anyone can check it with the instance's public key."
    )
    raise typer.Exit(code=1)


@app.command("verify-complaint")
def verify_complaint(
    complaint: Annotated[
        Path,
        typer.Argument(
            help="The complaint (JSON), as verify-receipt or the Check my entry page wrote it."
        ),
    ],
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            "--key",
            help="The instance's Ed25519 public key, 64 hex, known from elsewhere "
            "(default: the key the complaint carries).",
        ),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            help="Check against the key this fairdraw publishes at "
            "/.well-known/fairdraw-signing-key instead, e.g. https://draws.example."
        ),
    ] = None,
) -> None:
    """Check a complaint made by verify-receipt or Check my entry: VALID, saying what it
    proves (exit 0); NOT VALID, saying why (exit 1); or why it cannot be checked (exit 2).
    Nothing is asked of anyone unless --server is given."""
    if public_key is not None and server is not None:
        raise fail("give --public-key or --server, not both")
    try:
        pinned = public_key_from_hex(public_key) if public_key is not None else None
    except ValueError as exc:
        raise fail(f"--public-key: {exc}") from exc
    try:
        data = parse_complaint_text(read_input(complaint, "complaint").decode("utf-8"))
        carried = complaint_key(data)
    except ValueError as exc:  # not UTF-8, not JSON, not a key
        raise fail(f"{complaint}: {exc}") from exc
    if server is not None:
        try:
            with httpx.Client(timeout=RECEIPT_CHECK_TIMEOUT, follow_redirects=True) as client:
                pinned = published_key(client, server)
        except InstanceUnreachable as exc:
            raise fail(str(exc)) from exc
    key = pinned or carried
    if key is None:
        raise fail(
            f"{complaint} carries no public key: give the instance's with --public-key or --server"
        )
    problem = complaint_problem(data, key)
    if problem is not None:
        typer.secho(f"NOT VALID: {problem}", fg=typer.colors.RED)
        raise typer.Exit(code=1)
    typer.secho(f"VALID: {complaint_proves(data)}", fg=typer.colors.GREEN)
    if pinned is None:
        typer.echo(
            f"Checked with the key the complaint carries, {key.hex()}: it proves something "
            "about an instance only if that is the instance's key (see its "
            "/.well-known/fairdraw-signing-key, or check with --server or --public-key)."
        )
    else:
        typer.echo(f"Checked with the key {key.hex()}.")


@log_app.command("monitor")
def log_monitor(
    server: Annotated[
        str, typer.Option(help="The fairdraw to watch: its address, e.g. https://draws.example.")
    ],
    state: Annotated[
        Path,
        typer.Option(
            help="The file this monitor keeps between runs (created on the first run); "
            "evidence files are written beside it."
        ),
    ],
    key: Annotated[
        str | None,
        typer.Option(
            help="The instance's Ed25519 public key, 64 hex (default: the key it publishes "
            "at /.well-known/fairdraw-signing-key on the first run, pinned from then on)."
        ),
    ] = None,
    beacon_chain: Annotated[
        list[Path] | None,
        typer.Option(
            "--beacon-chain",
            metavar="CHAIN_JSON",
            help="A drand chain besides quicknet whose round times seals are held to, as "
            "for verify. Repeatable.",
        ),
    ] = None,
    margin: Annotated[
        int,
        typer.Option(
            min=0,
            help="Seconds a seal's beacon round may have been out, by this machine's clock, "
            "before a run that did not see the seal, without a warning.",
        ),
    ] = DEFAULT_MARGIN_SECONDS,
) -> None:
    """Check that the instance's draw log only grew since the last run: a one-line
    summary (exit 0); an alarm with its evidence (exit 1); or why nothing could be
    checked, with the state file untouched (exit 2)."""
    try:
        public_key = public_key_from_hex(key) if key is not None else None
    except ValueError as exc:
        raise fail(f"--key: {exc}") from exc
    chains = [QUICKNET, *(read_chain(path) for path in beacon_chain or [])]
    try:
        result = monitor_once(server, state, public_key, chains=chains, margin_seconds=margin)
    except (LogUnreachable, MonitorStateError) as exc:
        raise fail(str(exc)) from exc
    if isinstance(result, Checked):
        for warning in result.warnings:
            typer.secho(f"WARNING: {warning}", fg=typer.colors.YELLOW)
        typer.echo(result.summary())
        return
    for number, line in enumerate(result.lines()):
        typer.secho(line, fg=typer.colors.RED if number == 0 else None)
    raise typer.Exit(code=1)


@log_app.command("check-evidence")
def log_check_evidence(
    evidence: Annotated[Path, typer.Argument(help="An evidence file fairdraw log monitor wrote.")],
) -> None:
    """Check an evidence file by its signatures alone: PROVED (exit 0) or why it proves
    nothing (exit 1)."""
    try:
        document = parse_json(read_input(evidence, "evidence file"), "the evidence file")
    except ValueError as exc:
        raise fail(str(exc)) from exc
    problem = evidence_problem(document)
    if problem is not None:
        typer.secho(f"NOT PROVED: {problem}", fg=typer.colors.RED)
        raise typer.Exit(code=1)
    typer.secho(
        f"PROVED ({document['kind']}): {document['detail']}; signed by the key "
        f"{document['public_key']}",
        fg=typer.colors.GREEN,
    )


@store_app.command("repair")
def store_repair(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Repair without asking.")] = False,
) -> None:
    """Check the embedded store's append-only file and, when damage stops the store from
    loading it, copy the files aside and cut the damaged one after its last sound write.

    Run it with fairdraw stopped; it works with the server binary fairdraw runs.
    """
    try:
        settings = Settings()
    except (ConfigError, ValueError) as exc:
        raise fail(str(exc)) from exc
    if settings.redis_url:
        raise fail("FAIRDRAW_REDIS_URL is set: repair that server with its own tools")
    store = EmbeddedStore(settings.data_dir, binary=settings.store_binary)
    try:
        with store.offline():
            found = store.check_aof()
            if found is None:
                typer.echo(f"{store.aof_dir} holds no append-only file yet; nothing to repair.")
                return
            if found.valid:
                typer.echo(f"The append-only file in {store.aof_dir} is sound; nothing to repair.")
                return
            damage = found.damage
            if damage is None:
                raise fail(
                    f"the append-only file in {store.aof_dir} cannot be repaired automatically "
                    f"({found.summary}); restore {store.store_dir} from a backup"
                )
            typer.echo(
                f"{damage.file} is damaged after byte {damage.valid_bytes:,} of "
                f"{damage.size:,}: repairing keeps everything before that and drops the last "
                f"{damage.size - damage.valid_bytes:,} bytes (the writes from the damage on)."
            )
            if not yes and not typer.confirm("Repair it?"):
                typer.echo("Nothing changed.")
                raise typer.Exit(code=1)
            backup = store.repair_aof()
    except DataDirectoryInUse as exc:
        raise fail(f"{exc.detail}; stop it first") from exc
    except FairdrawError as exc:
        raise fail(exc.detail) from exc
    typer.echo(f"Repaired. The files as they were are in {backup}; fairdraw serve can start.")


def main() -> None:
    app(prog_name="fairdraw")


if __name__ == "__main__":
    main()
