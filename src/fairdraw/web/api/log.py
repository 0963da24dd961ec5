"""The public draw log and the instance's signing key (``docs/fairness-v2.md``).

``/api/v1/log/*`` serves what an auditor needs to hold the log to account: signed tree
heads, the leaves, inclusion and consistency proofs (RFC 9162). Every answer is public
and read-only; nothing here needs a login.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from fairdraw.domain import errors
from fairdraw.web.deps import ServicesDep
from fairdraw.web.problems import problem_responses

router = APIRouter(tags=["log"])

_HASH = r"^[0-9a-f]{64}$"


class TreeHeadStatement(BaseModel):
    type: Literal["tree-head"]
    tree_size: int = Field(description="Leaves in the tree.")
    root_hash: str = Field(description="RFC 9162 tree hash, hex.", pattern=_HASH)
    timestamp: int = Field(description="When it was signed, Unix milliseconds.")
    key_id: str = Field(description="sha256 of the signing public key, hex.", pattern=_HASH)


class SignedTreeHead(BaseModel):
    statement: TreeHeadStatement
    signature: str = Field(
        description='Ed25519 over "fairdraw/2 tree-head" 0x00 canonical(statement), hex.'
    )


class LogLeaf(BaseModel):
    leaf_index: int
    entry: dict[str, Any] = Field(
        description="A commit, seal, draw or cancel leaf; its leaf hash is "
        "sha256(0x00 || canonical JSON of it)."
    )


class LogEntries(BaseModel):
    entries: list[LogLeaf]


class InclusionProof(BaseModel):
    leaf_index: int
    tree_size: int
    path: list[str] = Field(description="RFC 9162 audit path, hex, the leaf's sibling first.")


class ConsistencyProof(BaseModel):
    first: int
    second: int
    path: list[str] = Field(description="RFC 9162 consistency proof, hex.")


class SigningKeyOut(BaseModel):
    algorithm: Literal["ed25519"]
    public_key: str = Field(description="The 32 raw bytes of the public key, hex.")
    key_id: str = Field(description="sha256 of the public key's raw bytes, hex.")


Size = Annotated[int, Query(ge=0, description="A tree size, at most the log's.")]


@router.get("/api/v1/log/tree-head", response_model=SignedTreeHead, responses=problem_responses())
async def tree_head(services: ServicesDep) -> dict[str, Any]:
    """The signed tree head of the log as it is now. Keep it: a later one that is not
    consistent with it (``/api/v1/log/consistency``) proves the log was rewritten."""
    return await services.draw_log.tree_head()


@router.get("/api/v1/log/entries", response_model=LogEntries, responses=problem_responses())
async def log_entries(
    services: ServicesDep,
    start: Annotated[int, Query(ge=0, description="First leaf index.")],
    end: Annotated[int, Query(ge=0, description="Leaf index after the last one wanted.")],
) -> dict[str, Any]:
    """The leaves ``start <= leaf_index < end``, at most 1,000; fewer when the log ends
    first (none: ``start`` is past its end)."""
    return {"entries": await services.draw_log.entries(start, end)}


@router.get("/api/v1/log/inclusion", response_model=InclusionProof, responses=problem_responses())
async def inclusion(
    services: ServicesDep,
    leaf_index: Annotated[int, Query(ge=0, description="The leaf to prove.")],
    tree_size: Size,
) -> dict[str, Any]:
    """The audit path of a leaf in the tree of ``tree_size`` leaves (RFC 9162 2.1.3)."""
    path = await services.draw_log.inclusion(leaf_index, tree_size)
    return {"leaf_index": leaf_index, "tree_size": tree_size, "path": path}


@router.get(
    "/api/v1/log/consistency", response_model=ConsistencyProof, responses=problem_responses()
)
async def consistency(services: ServicesDep, first: Size, second: Size) -> dict[str, Any]:
    """The proof that the tree of ``first`` leaves is a prefix of the tree of
    ``second`` leaves (RFC 9162 2.1.4); empty when ``first`` is 0 or ``second``."""
    path = await services.draw_log.consistency(first, second)
    return {"first": first, "second": second, "path": path}


@router.get(
    "/api/v1/draws/{draw_id}/log",
    response_model=list[LogLeaf],
    tags=["draws"],
    responses=problem_responses(errors.DrawNotFound),
)
async def draw_log(draw_id: str, services: ServicesDep) -> list[dict[str, Any]]:
    """The draw's leaves in the log, in log order (none for a ``fairdraw/1`` draw). They
    stay when the draw itself is gone: the log is how a deleted draw is noticed."""
    leaves = await services.draw_log.draw_leaves(draw_id)
    if not leaves:
        await services.drawing.get(draw_id)  # DrawNotFound when there is no such draw
    return leaves


@router.get(
    "/.well-known/fairdraw-signing-key",
    response_model=SigningKeyOut,
    responses=problem_responses(),
)
async def signing_key(services: ServicesDep) -> dict[str, str]:
    """The public key that signs this instance's receipts, entry proofs and tree heads."""
    return services.signing.signer()
