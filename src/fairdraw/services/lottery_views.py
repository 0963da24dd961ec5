"""What the lottery service answers: a lottery, a ballot's receipt, and a day's round as
the check-a-winner page, the history and their JSON twins show it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from fairdraw.domain.lotteries import LotteryTerms
from fairdraw.domain.moments import iso
from fairdraw.store.lotteries import RoundRecord


@dataclass(frozen=True)
class Lottery:
    id: str
    terms: LotteryTerms
    created_ms: int
    created_by: str
    last_day: date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.terms.to_json(),
            "created_at": iso(self.created_ms),
            "created_by": self.created_by,
            "last_drawn_day": self.last_day.isoformat() if self.last_day else None,
        }


@dataclass(frozen=True)
class Ballot:
    """A ballot's receipt: its round (day), number in that round, public reference."""

    lottery_id: str
    day: date
    round_id: str
    number: int
    ref: str
    cast_ms: int
    ballots_today: int
    # True when a keyed request got back the ballot its first attempt cast.
    replayed: bool = False
    # fairdraw/2: the instance's signed promise that the ballot is in its round's ledger.
    signed: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "lottery_id": self.lottery_id,
            "date": self.day.isoformat(),
            "round_id": self.round_id,
            "number": self.number,
            "ref": self.ref,
            "cast_at": iso(self.cast_ms),
            "ballots_today": self.ballots_today,
            "signed": self.signed,
        }


class DayState(StrEnum):
    """What can be said of a lottery's date."""

    before_start = "before_start"
    after_end = "after_end"
    future = "future"
    running = "running"
    not_drawn = "not_drawn"
    no_ballots = "no_ballots"
    drawn = "drawn"


@dataclass(frozen=True)
class RoundWinner:
    number: int
    ref: str
    name: str
    prize: str

    def to_json(self) -> dict[str, Any]:
        return {"ballot": self.number, "ref": self.ref, "name": self.name, "prize": self.prize}


@dataclass(frozen=True)
class RoundView:
    """One day of a lottery, as the check-a-winner page and the history show it."""

    lottery_id: str
    day: date
    state: DayState
    round_id: str
    ballots: int = 0
    winners: tuple[RoundWinner, ...] = field(default_factory=tuple)
    drawn_ms: int | None = None
    due_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "lottery_id": self.lottery_id,
            "date": self.day.isoformat(),
            "state": self.state.value,
            "round_id": self.round_id,
            "ballots": self.ballots,
            "winners": [w.to_json() for w in self.winners],
            "drawn_at": iso(self.drawn_ms) if self.drawn_ms is not None else None,
            "due_at": iso(self.due_ms) if self.due_ms is not None else None,
        }


def lottery_of(lottery_id: str, fields: dict[str, str]) -> Lottery:
    """A lottery from the fields of its hash."""
    last = fields.get("last_day")
    return Lottery(
        id=lottery_id,
        terms=LotteryTerms.from_fields(fields),
        created_ms=int(fields["created_ms"]),
        created_by=fields.get("created_by", ""),
        last_day=date.fromisoformat(last) if last else None,
    )


def winners_of(record: RoundRecord) -> tuple[RoundWinner, ...]:
    """The winning ballots of a drawn round, from the result stored with it."""
    if not record.winners_json:
        return ()
    stored = json.loads(record.winners_json)
    return tuple(
        RoundWinner(number=int(w["index"]) + 1, ref=w["ref"], name=w["name"], prize=w["prize"])
        for w in stored["winners"]
    )
