"""A draw's entrants for its manager, and the exports: entrants, winners and alternates,
and a lottery's winners by date, as CSV (UTF-8, a header row) or JSON Lines.

Exports are streamed as they are read, so an export of a million entries is never held
whole in memory. A CSV cell that a spreadsheet would take for a formula (one starting
with ``=``, ``+``, ``-`` or ``@``) is written with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from fairdraw.domain import errors
from fairdraw.domain.moments import iso, now_ms
from fairdraw.services.dashboard import QUERY_MAX
from fairdraw.services.entrants import (
    PAGE_DEFAULT,
    PAGE_MAX,
    EntrantRow,
    LotteryWinnerRow,
    Outcome,
    PickRow,
    Placing,
)
from fairdraw.web.api.schemas import DrawOut, draw_out
from fairdraw.web.api.text_patterns import SEARCH_PATTERN, SPACE
from fairdraw.web.deps import ServicesDep, VisitorDep, check_api_csrf
from fairdraw.web.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["entrants"], dependencies=[Depends(check_api_csrf)])

VIEWER = (errors.NotAuthenticated, errors.Forbidden, errors.NetworkNotAllowed)
ONE_DRAW = (*VIEWER, errors.DrawNotFound)
ONE_LOTTERY = (*VIEWER, errors.LotteryNotFound)

ENTRANT_FIELDS = (
    "index",
    "number",
    "entered_at",
    "label",
    "ref",
    "outcome",
    "prize",
    "slot",
    "rank",
)
PICK_FIELDS = ("outcome", "prize", "slot", "rank", "index", "number", "ref", "label")
LOTTERY_FIELDS = ("date", "round", "prize", "ballot", "ref", "name")
FORMULA_STARTS = ("=", "+", "-", "@")
CSV_TYPE = "text/csv; charset=utf-8"
JSONL_TYPE = "application/jsonl; charset=utf-8"
# A search as the dashboard takes it, or nothing (blank: the whole list).
QUERY_PATTERN = f"^{SPACE}*$|{SEARCH_PATTERN}"


class PlacingOut(BaseModel):
    outcome: Outcome = Field(
        description='"pending" before the draw; then "winner", "alternate", "forfeited" '
        '(the prize went on to an alternate) or "none".'
    )
    prize: str | None = Field(
        default=None, description="A winner's prize, or the prize a forfeit gave up."
    )
    slot: int | None = Field(
        default=None, description="That prize's slot, from 0 (winners and forfeits)."
    )
    rank: int | None = Field(
        default=None,
        description="An alternate's place in line, from 1; also set on a winner who holds "
        "the prize as a promoted alternate.",
    )


class EntrantOut(PlacingOut):
    index: int = Field(description="The entry's place in the ledger, from 0.")
    number: int = Field(description="The entry number (index + 1), or a raffle's ticket number.")
    entered_at: str
    label: str = Field(
        description='GitHub login or account name; "anonymous" for a raffle claim made '
        "without an account."
    )
    ref: str = Field(description="The entry's public reference in the entries file.")


class EntrantsOut(BaseModel):
    draw: DrawOut
    offset: int
    limit: int
    total: int = Field(description="Entries in the draw.")
    more: bool = Field(description="Whether rows follow this page.")
    query: str = Field(description='The search, trimmed ("" for the whole list).')
    entrants: list[EntrantOut]


_WITH_PRIZE = (Outcome.winner, Outcome.forfeited)


def _placing(placing: Placing) -> dict[str, Any]:
    return {
        "outcome": placing.outcome.value,
        "prize": placing.prize if placing.outcome in _WITH_PRIZE else None,
        "slot": placing.slot,
        "rank": placing.rank,
    }


def entrant_json(row: EntrantRow) -> dict[str, Any]:
    return {
        "index": row.index,
        "number": row.number,
        "entered_at": iso(row.at_ms),
        "label": row.label,
        "ref": row.ref,
        **_placing(row.placing),
    }


def pick_json(row: PickRow) -> dict[str, Any]:
    return {
        **_placing(row.placing),
        "index": row.index,
        "number": row.number,
        "ref": row.ref,
        "label": row.label,
    }


def lottery_json(row: LotteryWinnerRow) -> dict[str, Any]:
    return {
        "date": row.day.isoformat(),
        "round": row.round_id,
        "prize": row.prize,
        "ballot": row.ballot,
        "ref": row.ref,
        "name": row.name,
    }


def safe_cell(value: object) -> object:
    """``value`` as a CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """``rows`` as CSV lines (RFC 4180 quoting, CRLF line ends)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue()


async def csv_stream(
    fields: Sequence[str], chunks: AsyncIterator[list[dict[str, Any]]]
) -> AsyncIterator[bytes]:
    """A header row, then one CSV line per record, a chunk at a time."""
    yield csv_text([fields]).encode()
    async for chunk in chunks:
        yield csv_text([[r[f] for f in fields] for r in chunk]).encode()


async def jsonl_stream(chunks: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[bytes]:
    """One JSON object per line, a chunk at a time."""
    async for chunk in chunks:
        yield "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chunk).encode()


async def _once(records: list[dict[str, Any]]) -> AsyncIterator[list[dict[str, Any]]]:
    yield records


def download(body: AsyncIterator[bytes], media_type: str, filename: str) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


CSV_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV_TYPE: {}}, "description": "CSV with a header row."}
}
JSONL_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {JSONL_TYPE: {}}, "description": "One JSON object per line."}
}


@router.get(
    "/draws/{draw_id}/entrants", response_model=EntrantsOut, responses=problem_responses(*ONE_DRAW)
)
async def list_entrants(
    draw_id: str,
    visitor: VisitorDep,
    services: ServicesDep,
    offset: Annotated[int, Query(ge=0, description="The first row, from 0.")] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    q: Annotated[
        str,
        Query(
            max_length=QUERY_MAX,
            description="Two or more characters of a name (or a raffle's ticket number): "
            "only entrants whose name starts with it, newest first.",
            json_schema_extra={"pattern": QUERY_PATTERN},
        ),
    ] = "",
) -> EntrantsOut:
    """The draw's entrants in ledger order, ``limit`` from ``offset``, with who and when
    and, after the draw, each one's outcome. Only the draw's manager and administrators."""
    page = await services.entrants.page(visitor.caller, draw_id, offset, limit, q)
    return EntrantsOut(
        draw=draw_out(page.draw, now_ms()),
        offset=page.offset,
        limit=page.limit,
        total=page.total,
        more=page.more,
        query=page.query,
        entrants=[EntrantOut.model_validate(entrant_json(r)) for r in page.rows],
    )


async def entrant_records(
    chunks: AsyncIterator[list[EntrantRow]],
) -> AsyncIterator[list[dict[str, Any]]]:
    async for chunk in chunks:
        yield [entrant_json(r) for r in chunk]


async def _entrants_file(
    draw_id: str, visitor: VisitorDep, services: ServicesDep, as_csv: bool
) -> StreamingResponse:
    chunks = await services.entrants.open_export(visitor.caller, draw_id)
    records = entrant_records(chunks)
    return _file(records, ENTRANT_FIELDS, f"fairdraw-{draw_id}-entrants", as_csv)


@router.get(
    "/draws/{draw_id}/entrants.csv",
    response_class=StreamingResponse,
    responses={**CSV_DOC, **problem_responses(*ONE_DRAW)},
)
async def entrants_csv(
    draw_id: str, visitor: VisitorDep, services: ServicesDep
) -> StreamingResponse:
    """Every entrant as CSV: ``index, number, entered_at, label, ref, outcome, prize,
    slot, rank``."""
    return await _entrants_file(draw_id, visitor, services, as_csv=True)


@router.get(
    "/draws/{draw_id}/entrants.jsonl",
    response_class=StreamingResponse,
    responses={**JSONL_DOC, **problem_responses(*ONE_DRAW)},
)
async def entrants_jsonl(
    draw_id: str, visitor: VisitorDep, services: ServicesDep
) -> StreamingResponse:
    """Every entrant as JSON Lines, with the fields of the CSV."""
    return await _entrants_file(draw_id, visitor, services, as_csv=False)


def _file(
    records: AsyncIterator[list[dict[str, Any]]], fields: Sequence[str], name: str, as_csv: bool
) -> StreamingResponse:
    """``records`` downloaded as ``name``.csv (with ``fields`` as its header) or
    ``name``.jsonl."""
    if as_csv:
        return download(csv_stream(fields, records), CSV_TYPE, f"{name}.csv")
    return download(jsonl_stream(records), JSONL_TYPE, f"{name}.jsonl")


async def _winners_file(
    draw_id: str, visitor: VisitorDep, services: ServicesDep, as_csv: bool
) -> StreamingResponse:
    picks = await services.entrants.picks(visitor.caller, draw_id)
    records = _once([pick_json(p) for p in picks])
    return _file(records, PICK_FIELDS, f"fairdraw-{draw_id}-winners", as_csv)


@router.get(
    "/draws/{draw_id}/winners.csv",
    response_class=StreamingResponse,
    responses={**CSV_DOC, **problem_responses(*ONE_DRAW)},
)
async def winners_csv(
    draw_id: str, visitor: VisitorDep, services: ServicesDep
) -> StreamingResponse:
    """The winners in slot order, then the alternates in rank order: ``outcome, prize,
    slot, rank, index, number, ref, label`` (only the header row before the draw)."""
    return await _winners_file(draw_id, visitor, services, as_csv=True)


@router.get(
    "/draws/{draw_id}/winners.jsonl",
    response_class=StreamingResponse,
    responses={**JSONL_DOC, **problem_responses(*ONE_DRAW)},
)
async def winners_jsonl(
    draw_id: str, visitor: VisitorDep, services: ServicesDep
) -> StreamingResponse:
    """The winners and alternates as JSON Lines, with the fields of the CSV."""
    return await _winners_file(draw_id, visitor, services, as_csv=False)


async def _lottery_file(
    lottery_id: str, visitor: VisitorDep, services: ServicesDep, as_csv: bool
) -> StreamingResponse:
    rows = await services.entrants.lottery_winners(visitor.caller, lottery_id)
    records = _once([lottery_json(r) for r in rows])
    return _file(records, LOTTERY_FIELDS, f"fairdraw-{lottery_id}-winners", as_csv)


@router.get(
    "/lotteries/{lottery_id}/winners.csv",
    response_class=StreamingResponse,
    responses={**CSV_DOC, **problem_responses(*ONE_LOTTERY)},
)
async def lottery_winners_csv(
    lottery_id: str, visitor: VisitorDep, services: ServicesDep
) -> StreamingResponse:
    """The winners of every drawn round, oldest date first: ``date, round, prize,
    ballot, ref, name``. Only the lottery's manager and administrators."""
    return await _lottery_file(lottery_id, visitor, services, as_csv=True)


@router.get(
    "/lotteries/{lottery_id}/winners.jsonl",
    response_class=StreamingResponse,
    responses={**JSONL_DOC, **problem_responses(*ONE_LOTTERY)},
)
async def lottery_winners_jsonl(
    lottery_id: str, visitor: VisitorDep, services: ServicesDep
) -> StreamingResponse:
    """The lottery's winners by date as JSON Lines, with the fields of the CSV."""
    return await _lottery_file(lottery_id, visitor, services, as_csv=False)
