"""The instance's signing key on disk: created once, readable by its owner only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Final

from fairdraw.domain.signing import SigningKey, SigningKeyError

_KEY_FILE_MODE: Final = 0o600


def load_or_create_signing_key(path: Path | str) -> SigningKey:
    """The key kept at ``path``, created there on first use.

    A new key is written to a private temporary file and linked into place, so the
    file appears complete or not at all, readable by its owner only; when several
    processes start at once, all of them end up with the one key that was linked
    first. Raises :class:`SigningKeyError` naming the file when it holds anything
    but an Ed25519 private key.
    """
    path = Path(path)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = SigningKey.generate()
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _KEY_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.to_pem())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read(path)  # another process created it first
    finally:
        temporary.unlink(missing_ok=True)
    return key


def _read(path: Path) -> SigningKey:
    try:
        return SigningKey.from_pem(path.read_bytes())
    except SigningKeyError as exc:
        raise SigningKeyError(f"{path}: {exc.detail}") from exc
