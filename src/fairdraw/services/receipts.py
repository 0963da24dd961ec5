"""Signed entry proofs of sealed ``fairdraw/2`` draws, and receipt checks against them:
this instance's own (:class:`ReceiptService`) or another's over HTTP
(:func:`check_with_instance`, for ``fairdraw verify-receipt``).

An audit path needs the hashes of the subtrees beside the entry's branch, not the whole
ledger (:func:`fairdraw.domain.receipts.audit_path`). The roots of complete ledger chunks
(65,536 entries, :data:`fairness.CHUNK_LEAVES`) are kept in the store from the time each
chunk filled; so a proof reads and hashes the chunk that holds the entry, plus the last
chunk when it is partial (its root is never kept: it was still growing) and any complete
chunk whose root was not kept (whose root is kept from then on). A ledger of a million
entries costs at most two chunks read and hashed, whatever the index.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

import httpx

from fairdraw.domain import errors, fairness
from fairdraw.domain.draws import Draw, DrawKind, Seal
from fairdraw.domain.moments import iso
from fairdraw.domain.receipts import (
    ENTRY_PROOF,
    CheckResult,
    LedgerMismatch,
    NoEntryProofs,
    NotSealed,
    ReceiptError,
    Verdict,
    audit_path,
    check_receipt,
    checked_receipt,
    public_key_from_hex,
    signed_receipt,
)
from fairdraw.domain.signing import SigningKey, key_id
from fairdraw.services import sealing
from fairdraw.services.outbound import Answer, get_bounded
from fairdraw.services.ticket_ledger import TicketLedger
from fairdraw.store.draws import DrawStore

log = logging.getLogger("fairdraw.receipts")

SIGNING_KEY_PATH: Final = "/.well-known/fairdraw-signing-key"
_NOT_SEALED = "The draw is not sealed yet: entries can be checked once it is closed"

# An entry proof is a few KiB (its Merkle path grows with the log of the ledger's size);
# an instance answering more than this is not answering as fairdraw does.
MAX_ANSWER_BYTES: Final = 1024 * 1024


class ReceiptService:
    """Signed entry proofs of sealed draws, and receipt checks against them."""

    def __init__(self, store: DrawStore, tickets: TicketLedger | None, signing: SigningKey) -> None:
        self._store = store
        self._tickets = tickets
        self._signing = signing

    @property
    def public_key(self) -> bytes:
        """The instance's public key, which signs receipts and entry proofs."""
        return self._signing.public_key

    async def entry_proof(self, draw_id: str, index: int) -> dict[str, Any]:
        """The signed ``entry-proof`` statement of entry ``index`` of a sealed
        ``fairdraw/2`` draw: its reference and audit path, or ``ref`` null and an empty
        path when the ledger was sealed with ``index`` entries or fewer.

        InvalidInput for a negative index; DrawNotFound; NoEntryProofs for a
        ``fairdraw/1`` draw; NotSealed until the draw is sealed.
        """
        if index < 0:
            raise errors.InvalidInput({"index": "An entry index is 0 or more"})
        draw = await self._store.get(draw_id)
        if draw.algorithm == fairness.ALGORITHM:
            raise NoEntryProofs(
                "This is a fairdraw/1 draw: check your entry against its published entries file"
            )
        if draw.seal is None:
            raise NotSealed()
        ref: str | None = None
        path: list[bytes] = []
        if index < draw.seal.entry_count:
            ref, path = await self._audit(draw, draw.seal, index)
        statement = {
            "type": ENTRY_PROOF,
            "draw_id": draw.id,
            "index": index,
            "ref": ref,
            "root": draw.seal.root,
            "entry_count": draw.seal.entry_count,
            "sealed_at": iso(draw.seal.sealed_ms),
            "path": [node.hex() for node in path],
            "key_id": self._signing.key_id,
        }
        return self._signing.sign_statement(statement)

    async def check(self, receipt: Mapping[str, Any]) -> CheckResult:
        """Check ``receipt`` against this instance's own entry proof for it (the same
        check :func:`check_receipt` makes anywhere else)."""
        try:
            signed = checked_receipt(receipt, self.public_key)
        except ReceiptError as exc:
            return CheckResult.invalid(str(exc))
        statement = signed["statement"]
        try:
            answer = await self.entry_proof(statement["draw_id"], statement["index"])
        except NotSealed:
            return CheckResult(Verdict.not_sealed, _NOT_SEALED)
        except (errors.NotFound, errors.Conflict) as exc:
            return CheckResult.invalid(exc.detail)
        return check_receipt(signed, answer, self.public_key)

    async def _audit(self, draw: Draw, seal: Seal, index: int) -> tuple[str, list[bytes]]:
        """The reference of entry ``index`` and its audit path to the sealed root."""
        size = fairness.CHUNK_LEAVES
        count = seal.entry_count
        chunk = index // size
        refs = await self._chunk_refs(draw, chunk, count)
        others = await self._chunk_roots(draw, count, skip=chunk)
        path = await sealing.compute(audit_path, index, count, refs, others, in_pool=False)
        ref = refs[index - chunk * size]
        if not fairness.verify_inclusion(index, ref, count, path, bytes.fromhex(seal.root)):
            log.error("draw %s: the stored ledger does not hash to its sealed root", draw.id)
            raise LedgerMismatch()
        return ref, path

    async def _chunk_roots(self, draw: Draw, count: int, *, skip: int) -> dict[int, bytes]:
        """The root of every chunk of the sealed ledger but ``skip``: kept ones as they
        are, the others hashed now (and kept, when complete)."""
        size = fairness.CHUNK_LEAVES
        kept = await self._store.chunk_roots(draw.id)
        roots: dict[int, bytes] = {}
        for chunk, start in enumerate(fairness.chunk_starts(count)):
            if chunk == skip:
                continue
            complete = start + size <= count
            if complete and chunk in kept:
                roots[chunk] = kept[chunk]
                continue
            refs = await self._chunk_refs(draw, chunk, count)
            roots[chunk] = await sealing.compute(fairness.chunk_root, start, refs, in_pool=False)
            if complete:
                await self._store.save_chunk_root(draw.id, chunk, roots[chunk])
        return roots

    async def _chunk_refs(self, draw: Draw, chunk: int, count: int) -> list[str]:
        """The references of the entries in chunk ``chunk`` of the sealed ledger."""
        if draw.kind is DrawKind.raffle:
            if self._tickets is None:
                raise errors.WrongDrawKind("Raffles are not available here")
            return await self._tickets.chunk_refs(draw.id, chunk, count)
        start = chunk * fairness.CHUNK_LEAVES
        return await self._store.refs_slice(
            draw.id, start, min(start + fairness.CHUNK_LEAVES, count)
        )


# -- checking with an instance over HTTP ----------------------------------------------------


class InstanceUnreachable(Exception):
    """The instance could not be asked, or did not answer as a fairdraw instance does."""


def check_with_instance(
    client: httpx.Client, server: str, receipt: Mapping[str, Any], public_key: bytes | None
) -> CheckResult:
    """Check ``receipt`` against the entry proof the instance at ``server`` (its base
    URL) serves, under ``public_key``, or else the key it publishes at
    :data:`SIGNING_KEY_PATH`. The receipt's signature is checked before anything else is
    asked. Raises InstanceUnreachable when the instance cannot be asked."""
    base = server.rstrip("/")
    try:
        signed_receipt(receipt)  # a receipt that is not one needs no key to be refused
        if public_key is None:
            public_key = published_key(client, base)
        signed = checked_receipt(receipt, public_key)
    except ReceiptError as exc:
        return CheckResult.invalid(str(exc))
    statement = signed["statement"]
    draw = quote(statement["draw_id"], safe="")
    answer = _get(client, f"{base}/api/v1/draws/{draw}/entries/{statement['index']}/proof")
    if answer.status_code != 200:  # _get lets only "not sealed" through
        return CheckResult(Verdict.not_sealed, _NOT_SEALED)
    return check_receipt(signed, _json(answer), public_key)


def published_key(client: httpx.Client, server: str) -> bytes:
    """The public key the instance at ``server`` (its base URL) publishes at
    :data:`SIGNING_KEY_PATH`, checked; InstanceUnreachable when it cannot be had."""
    return _published_key(_get(client, server.rstrip("/") + SIGNING_KEY_PATH))


def _get(client: httpx.Client, url: str) -> Answer:
    """The instance's 200 answer, or its refusal ``not_sealed``; InstanceUnreachable for
    anything else (an answer past :data:`MAX_ANSWER_BYTES` included)."""
    try:
        response = get_bounded(client, url, MAX_ANSWER_BYTES)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise InstanceUnreachable(f"could not reach {url}: {exc}") from exc
    if response.status_code != 200 and _problem_code(response) != NotSealed.code:
        raise InstanceUnreachable(
            f"{url} answered {response.status_code}: {_problem_detail(response)}"
        )
    return response


def _json(response: Answer) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise InstanceUnreachable(f"{response.url} did not answer JSON") from exc


def _problem_code(response: Answer) -> str | None:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None


def _problem_detail(response: Answer) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return detail if isinstance(detail, str) else response.reason_phrase


def _published_key(response: Answer) -> bytes:
    """The public key of a ``/.well-known/fairdraw-signing-key`` answer, checked."""
    served = _json(response)
    where = response.url
    if not isinstance(served, dict) or served.get("algorithm") != "ed25519":
        raise InstanceUnreachable(f"{where} does not describe an Ed25519 key")
    try:
        public_key = public_key_from_hex(str(served.get("public_key")))
    except ValueError as exc:
        raise InstanceUnreachable(f"{where}: {exc}") from exc
    if served.get("key_id") != key_id(public_key):
        raise InstanceUnreachable(f"{where}: its key_id is not the sha256 of its public key")
    return public_key
