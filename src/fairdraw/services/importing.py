"""Importing a giveaway's entrants from a CSV file: the list is the ledger, sealed at once.

A draft giveaway's manager uploads a file; it is read and checked whole
(:func:`fairdraw.domain.imports.read_list`) before anything is stored. Each row becomes
one entry, in file order: its identity is ``list:`` and the row's name, its nonce 16
bytes from the CSPRNG (kept in the ledger element, so the draw can open a winner's ref),
its ref ``entry_ref_v2(identity, nonce)``. The rows are staged a ledger chunk at a time,
each chunk's Merkle root hashed as it goes, and one script then makes them the ledger
and opens, closes and seals the draw at one clock reading (``import_list.lua``). From
there the giveaway is drawn like any other.

Importing the same file, read the same way, again answers the first import (the file's
sha256 is kept with the draw); another file is ListAlreadyImported.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio

from fairdraw.domain import fairness
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import Draw, DrawKind, DrawStatus
from fairdraw.domain.errors import InvalidTransition, ListAlreadyImported, WrongDrawKind
from fairdraw.domain.imports import (
    ImportedList,
    ImportOptions,
    file_sha256,
    list_identity,
    read_list,
)
from fairdraw.domain.moments import now_ms
from fairdraw.services.drawing import DrawingService, require_manager
from fairdraw.services.proofs import DrawProofs
from fairdraw.store.draws import DrawStore
from fairdraw.store.imports import Buckets, ImportSeal, ImportStore, StagedEntry
from fairdraw.store.ledger import LedgerEntry, compact_element

# Rows staged per round trip: one ledger chunk, whose Merkle root is hashed with it.
STAGE_ROWS = fairness.CHUNK_LEAVES


@dataclass(frozen=True)
class ImportResult:
    """The giveaway after an import, and what the import made of the file."""

    draw: Draw
    listed: ImportedList
    # True when this file had been imported before and nothing new was stored.
    replayed: bool

    def to_json(self) -> dict[str, Any]:
        """What the import made of the file (the draw aside)."""
        return {
            "entry_count": len(self.listed.names),
            "sha256": self.listed.sha256,
            "name_column": self.listed.name_column,
            "dedupe_column": self.listed.dedupe_column,
            "delimiter": self.listed.delimiter,
            "skipped": [s.to_json() for s in self.listed.skipped],
            "skipped_count": self.listed.skipped_count,
        }


def reading_of(listed: ImportedList, options: ImportOptions) -> dict[str, object]:
    """How a file was read, as kept with the draw: the same file read the same way is
    the same import, whether its columns were named or found."""
    return {
        "name_column": listed.name_column,
        "dedupe_column": listed.dedupe_column,
        "duplicates": options.duplicates.value,
        "delimiter": listed.delimiter,
    }


def staged_chunk(names: list[str], start: int) -> tuple[list[StagedEntry], bytes]:
    """The ledger entries of rows ``start ..`` (``names``), each with a fresh nonce, and
    the Merkle root of their chunk. Each is entered when the draw opens (the import's
    clock reading): its element keeps the nonce, not the ref or a time."""
    nonces = os.urandom(fairness.NONCE_BYTES * len(names))
    entries: list[StagedEntry] = []
    refs: list[str] = []
    for offset, name in enumerate(names):
        identity = list_identity(name)
        nonce = nonces[offset * fairness.NONCE_BYTES : (offset + 1) * fairness.NONCE_BYTES]
        ref = fairness.entry_ref_v2(identity, nonce)
        refs.append(ref)
        row = LedgerEntry(start + offset, ref, 0, identity, name, nonce.hex())
        entries.append(StagedEntry(compact_element(row, 0), name, start + offset))
    return entries, fairness.chunk_root(start, refs)


class ImportingService:
    """Imported lists; the manager of the draft giveaway (or an administrator) only."""

    def __init__(
        self,
        store: DrawStore,
        imports: ImportStore,
        drawing: DrawingService,
        proofs: DrawProofs | None,
        *,
        max_rows: int,
        max_bytes: int,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._store = store
        self._imports = imports
        self._drawing = drawing
        self._proofs = proofs
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._clock = clock

    async def importable(self, caller: Caller, draw_id: str) -> Draw:
        """The draft giveaway ``draw_id`` if the caller may import its entrants; raises
        otherwise (for showing the form)."""
        draw = await self._store.get(draw_id)
        require_manager(caller, draw, self._drawing.manager_networks)
        if draw.kind is not DrawKind.giveaway:
            raise WrongDrawKind("Only a giveaway's entrants can be imported from a file")
        if draw.algorithm == fairness.ALGORITHM:
            raise InvalidTransition("This draw was made under fairdraw/1; import into a new one")
        return draw

    async def import_list(
        self, caller: Caller, draw_id: str, data: bytes, options: ImportOptions
    ) -> ImportResult:
        """Make the rows of ``data`` (a CSV file) the entrants of draft giveaway
        ``draw_id``, and seal it. ListRejected (422) lists the file's problems and stores
        nothing; InvalidTransition once the draw is no draft; ListAlreadyImported for
        another file after an import. The same file again answers the same result."""
        draw = await self.importable(caller, draw_id)
        before = await self._imports.imported(draw_id)
        if before is not None and before[0] != file_sha256(data):
            raise ListAlreadyImported()
        if before is None and draw.status is not DrawStatus.draft:
            raise InvalidTransition(
                f"Entrants are imported into a draft; this giveaway is {draw.status.value}"
            )
        listed = await anyio.to_thread.run_sync(self._read, data, options)
        reading = reading_of(listed, options)
        if before is not None:
            if before[1] != reading:
                raise ListAlreadyImported()
            return ImportResult(draw, listed, replayed=True)
        replayed = await self._store_list(draw, listed, reading)
        if not replayed:
            # The commit and seal leaves of the log, and the webhooks' closed and sealed.
            await self._drawing.seal_closed(draw_id)
        return ImportResult(await self._store.get(draw_id), listed, replayed)

    def _read(self, data: bytes, options: ImportOptions) -> ImportedList:
        return read_list(data, options, max_rows=self._max_rows, max_bytes=self._max_bytes)

    async def _store_list(
        self, draw: Draw, listed: ImportedList, reading: dict[str, object]
    ) -> bool:
        """Stage the list, then seal it as the draw's ledger; whether it was there
        already. A failure drops what was staged."""
        token = secrets.token_hex(16)
        buckets: Buckets = {}
        roots: list[bytes] = []
        names = listed.names
        try:
            for start in range(0, len(names), STAGE_ROWS):
                chunk = names[start : start + STAGE_ROWS]
                entries, root = await anyio.to_thread.run_sync(staged_chunk, chunk, start)
                roots.append(root)
                buckets.update(await self._imports.stage(draw.id, token, entries))
            seed = fairness.new_seed()
            seal = ImportSeal(
                sha256=listed.sha256,
                options=reading,
                entry_count=len(names),
                seed=seed,
                commitment=fairness.commitment(seed),
                root=fairness.join_chunk_roots(roots, len(names)).hex(),
            )
            binding = self._proofs.binding(draw) if self._proofs is not None else None
            replayed = await self._imports.seal(draw.id, token, buckets, seal, binding)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._imports.discard(draw.id, token, buckets)
            raise
        if not replayed:
            # Complete chunks' roots, so entry proofs need not hash the whole ledger.
            for number, root in enumerate(roots[: len(names) // STAGE_ROWS]):
                await self._store.save_chunk_root(draw.id, number, root)
        return replayed
