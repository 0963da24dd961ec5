"""``/api/v1/draws/{id}/entries/{index}/proof``: the signed entry proofs that receipts
are checked against (``docs/fairness-v2.md``, "Signatures")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from fairdraw.domain import errors
from fairdraw.domain.receipts import LedgerMismatch, NoEntryProofs, NotSealed
from fairdraw.web.deps import ServicesDep
from fairdraw.web.problems import problem_responses

router = APIRouter(prefix="/api/v1/draws", tags=["draws"])

_HASH = r"^[0-9a-f]{64}$"


class EntryProofStatement(BaseModel):
    type: Literal["entry-proof"]
    draw_id: str
    index: int = Field(description="The entry index asked about.")
    ref: str | None = Field(
        description="The reference sealed at `index`; null when the ledger was sealed with "
        "`index` entries or fewer."
    )
    root: str = Field(description="The sealed Merkle root, hex.", pattern=_HASH)
    entry_count: int = Field(description="Entries in the sealed ledger.")
    sealed_at: str = Field(description="When the ledger was sealed, ISO 8601 UTC.")
    path: list[str] = Field(
        description="RFC 6962 audit path from the entry's leaf to `root`, hex, the leaf's "
        "sibling first; empty when `ref` is null."
    )
    key_id: str = Field(description="sha256 of the signing public key, hex.", pattern=_HASH)


class SignedEntryProof(BaseModel):
    statement: EntryProofStatement
    signature: str = Field(
        description='Ed25519 over "fairdraw/2 entry-proof" 0x00 canonical(statement), hex.'
    )


Index = Annotated[int, Path(ge=0, description="The entry's index in the ledger (0-based).")]


@router.get(
    "/{draw_id}/entries/{index}/proof",
    response_model=SignedEntryProof,
    responses=problem_responses(errors.DrawNotFound, NotSealed, NoEntryProofs, LedgerMismatch),
)
async def entry_proof(draw_id: str, index: Index, services: ServicesDep) -> dict[str, Any]:
    """The instance's signed statement of what its sealed ledger holds at `index`: the
    reference and its audit path to the sealed root. A receipt whose `ref` differs from
    this answer's, both signed by the instance's key, proves the entry was dropped:
    `fairdraw verify-receipt` and the "Check my entry" page build that complaint. 404
    `not_sealed` until the draw is sealed; 409 `no_entry_proofs` for a fairdraw/1 draw."""
    return await services.receipts.entry_proof(draw_id, index)
