"""The first start of an instance: the exact command that creates its first administrator,
and the guard that keeps an account command from creating a store of its own beside a
running server.

The command is written the way this process was started, so that it works when pasted
into the same shell: ``.venv/bin/fairdraw`` when that is how ``fairdraw serve`` (or
``make run``) was run and ``fairdraw`` is not on the ``PATH``, ``python -m fairdraw`` when
started so, with ``FAIRDRAW_DATA_DIR=...`` in front when the server's data directory is
not the default one.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import httpx

from fairdraw.config import Settings
from fairdraw.store.embedded import EmbeddedStore

DEFAULT_DATA_DIR = Path("var")
# The user and password of a store URL (redis://user:secret@host), never printed.
_USERINFO = re.compile(r"//[^@/]*@")
# Where ``fairdraw serve`` listens unless told otherwise (cli.serve's defaults).
DEFAULT_SERVE_URL = "http://127.0.0.1:8000"
# A server that does not answer this quickly is treated as absent.
PROBE_SECONDS = 1.0


def _shell_path(path: Path) -> str:
    """``path`` as typed in the current directory: relative below it, else absolute."""
    resolved = path.resolve()
    try:
        relative = resolved.relative_to(Path.cwd().resolve())
    except ValueError:
        return shlex.quote(str(resolved))
    text = str(relative)
    return shlex.quote(text if "/" in text else f"./{text}")


def _on_path(script: Path) -> bool:
    found = shutil.which(script.name)
    return found is not None and Path(found).resolve() == script.resolve()


def fairdraw_command(argv0: str | None = None, executable: str | None = None) -> str:
    """The shell command that runs the fairdraw CLI as this process was run.

    ``argv0`` (default ``sys.argv[0]``) is the installed ``fairdraw`` script or, under
    ``python -m fairdraw`` or another host (a server worker), anything else; then the
    ``fairdraw`` script beside ``executable`` (the interpreter) is named if it exists,
    and ``python -m fairdraw`` otherwise.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    python = Path(sys.executable if executable is None else executable)
    started = Path(argv0)
    if started.name == "fairdraw" and started.is_file():
        script = started
    else:
        script = python.parent / "fairdraw"
    if script.is_file() and os.access(script, os.X_OK):
        return "fairdraw" if _on_path(script) else _shell_path(script)
    interpreter = "python" if _on_path(python) else _shell_path(python)
    return f"{interpreter} -m fairdraw"


def uses_embedded_store(settings: Settings) -> bool:
    """Whether ``settings`` are served from the embedded store of their data directory
    (``fairdraw serve`` hands its workers that store's URL)."""
    return not settings.redis_url or settings.redis_url == EmbeddedStore(settings.data_dir).url


def store_description(settings: Settings) -> str:
    """Which store a command acts on, for its output: the data directory, or the URL of
    an external store without its password."""
    if uses_embedded_store(settings):
        return f"the embedded store in {Path(settings.data_dir).resolve()}"
    assert settings.redis_url
    return f"the store at {_USERINFO.sub('//', settings.redis_url, count=1)}"


def admin_create_command(settings: Settings) -> str:
    """The command that creates the first administrator of the instance ``settings``
    describe, as a line to paste into the shell the server was started from."""
    command = f"{fairdraw_command()} admin create USERNAME"
    if not uses_embedded_store(settings):
        return command + "  (with this server's FAIRDRAW_REDIS_URL and FAIRDRAW_SECRET_KEY)"
    if Path(settings.data_dir).resolve() == DEFAULT_DATA_DIR.resolve():
        return command
    return f"FAIRDRAW_DATA_DIR={_shell_path(Path(settings.data_dir))} {command}"


def has_store(data_dir: Path) -> bool:
    """Whether ``data_dir`` already holds an embedded store (its files, or a lock)."""
    store = EmbeddedStore(data_dir)
    return store.store_dir.is_dir() and any(store.store_dir.iterdir())


def running_server(url: str = DEFAULT_SERVE_URL) -> str | None:
    """``url`` if a fairdraw server answers there (its ``/healthz`` in fairdraw's shape),
    else None."""
    try:
        answer = httpx.get(f"{url.rstrip('/')}/healthz", timeout=PROBE_SECONDS)
        body = answer.json()
    except (httpx.HTTPError, ValueError):
        return None
    if isinstance(body, dict) and body.get("status") in ("ok", "store_unavailable"):
        return url
    return None


def foreign_server(settings: Settings) -> str | None:
    """The URL of a running fairdraw that cannot be using ``settings``' store: an account
    command is about to start an embedded store in a data directory that has none yet,
    while a fairdraw answers at the configured public URL or the default address. Its
    store must then be somewhere else; acting here would create a second, empty one."""
    if not uses_embedded_store(settings) or has_store(Path(settings.data_dir)):
        return None
    candidates = [settings.public_url] if settings.public_url else []
    for url in [*candidates, DEFAULT_SERVE_URL]:
        if url and running_server(str(url)) is not None:
            return str(url)
    return None
