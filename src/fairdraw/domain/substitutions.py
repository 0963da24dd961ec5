"""Forfeit and promote: who holds each prize once winners have forfeited.

A drawn bundle never changes (its hash is in the public draw log), so a forfeited
prize is recorded beside it, in the draw's *substitutions record*: a canonical-JSON
document naming the bundle it amends and every substitution, in order
(``docs/fairness-v2.md``, "Substitutions"). The rule is the one the results page
announces: the prize of a forfeited winner goes to the first alternate, in the bundle's
published order, who is not a current winner, has not been promoted already and has not
forfeited; when none is left the prize is not awarded. A promoted alternate can forfeit
in turn, and the prize moves on by the same rule.

Everything here is pure: the service supplies the bundle, the substitutions so far, the
time and the reason, and stores what :func:`substitute` returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from fairdraw.domain.errors import Conflict, InvalidInput
from fairdraw.domain.proof import bundle_hash, canonical_json
from fairdraw.i18n import N_, Message

RECORD_FORMAT: Final = "fairdraw/2 substitutions"
REASON_MAX: Final = 500


class NotAWinner(Conflict):
    code = "not_a_winner"
    title = N_("That entry does not hold a prize now")


@dataclass(frozen=True)
class Pick:
    """A ledger entry named by a bundle: its index and public reference."""

    index: int
    ref: str

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "ref": self.ref}


@dataclass(frozen=True)
class Promotion:
    """The alternate a forfeited prize went to; ``alternate`` is its rank (1 = the
    bundle's first alternate)."""

    alternate: int
    pick: Pick

    def to_json(self) -> dict[str, Any]:
        return {"alternate": self.alternate, **self.pick.to_json()}


@dataclass(frozen=True)
class Substitution:
    """One forfeit: when, which prize slot, who forfeited it, who it went to (None: no
    alternate was left, the prize is not awarded) and why."""

    at: str
    slot: int
    prize: str
    forfeited: Pick
    promoted: Promotion | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "slot": self.slot,
            "prize": self.prize,
            "forfeited": self.forfeited.to_json(),
            "promoted": self.promoted.to_json() if self.promoted is not None else None,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Substitution:
        promoted = data["promoted"]
        return cls(
            at=str(data["at"]),
            slot=int(data["slot"]),
            prize=str(data["prize"]),
            forfeited=Pick(int(data["forfeited"]["index"]), str(data["forfeited"]["ref"])),
            promoted=None
            if promoted is None
            else Promotion(
                int(promoted["alternate"]), Pick(int(promoted["index"]), str(promoted["ref"]))
            ),
            reason=str(data["reason"]),
        )

    def digest(self) -> str:
        """Hex sha256 of the canonical substitution: what its log leaf commits to."""
        return hashlib.sha256(canonical_json(self.to_json())).hexdigest()


@dataclass(frozen=True)
class Holding:
    """Who holds one prize slot now: ``holder`` None means not awarded; ``alternate``
    is the holder's rank when it was promoted (None: the drawn winner)."""

    slot: int
    prize: str
    holder: Pick | None
    alternate: int | None = None


def check_reason(reason: object) -> str:
    """The reason, stripped: 1 to 500 characters, or InvalidInput."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not 1 <= len(text) <= REASON_MAX:
        raise InvalidInput({"reason": Message(N_("1 to %(limit)s characters"), limit=REASON_MAX)})
    return text


def winners_of(bundle: Mapping[str, Any]) -> list[tuple[int, str, Pick]]:
    """(slot, prize, pick) of each drawn winner, in slot order."""
    return [
        (int(w["slot"]), str(w["prize"]), Pick(int(w["index"]), str(w["ref"])))
        for w in bundle["winners"]
    ]


def alternates_of(bundle: Mapping[str, Any]) -> list[Pick]:
    """The bundle's alternates in their published order."""
    return [Pick(int(a["index"]), str(a["ref"])) for a in bundle["alternates"]]


def holdings(bundle: Mapping[str, Any], substitutions: Sequence[Substitution]) -> list[Holding]:
    """Who holds each drawn prize slot after ``substitutions`` (assumed valid)."""
    held = {slot: Holding(slot, prize, pick) for slot, prize, pick in winners_of(bundle)}
    for sub in substitutions:
        promoted = sub.promoted
        held[sub.slot] = Holding(
            sub.slot,
            sub.prize,
            promoted.pick if promoted is not None else None,
            promoted.alternate if promoted is not None else None,
        )
    return [held[slot] for slot in sorted(held)]


def next_alternate(
    bundle: Mapping[str, Any], substitutions: Sequence[Substitution]
) -> Promotion | None:
    """The first alternate, in published order, who is not a current winner, was not
    promoted and did not forfeit; None when none is left."""
    taken = {h.holder.index for h in holdings(bundle, substitutions) if h.holder is not None}
    for sub in substitutions:
        taken.add(sub.forfeited.index)
        if sub.promoted is not None:
            taken.add(sub.promoted.pick.index)
    for rank, pick in enumerate(alternates_of(bundle), start=1):
        if pick.index not in taken:
            return Promotion(rank, pick)
    return None


def substitute(
    bundle: Mapping[str, Any],
    substitutions: Sequence[Substitution],
    forfeited: int,
    reason: str,
    at: str,
) -> Substitution:
    """The substitution that forfeits the prize entry ``forfeited`` holds now, or
    NotAWinner if it holds none."""
    for holding in holdings(bundle, substitutions):
        if holding.holder is not None and holding.holder.index == forfeited:
            return Substitution(
                at=at,
                slot=holding.slot,
                prize=holding.prize,
                forfeited=holding.holder,
                promoted=next_alternate(bundle, substitutions),
                reason=check_reason(reason),
            )
    raise NotAWinner(f"Entry {forfeited} does not hold a prize of this draw now")


def earlier(substitutions: Sequence[Substitution], forfeited: int) -> Substitution | None:
    """The substitution that already forfeited entry ``forfeited``, if any."""
    return next((s for s in substitutions if s.forfeited.index == forfeited), None)


def record(
    draw_id: str, bundle: Mapping[str, Any], substitutions: Sequence[Substitution]
) -> dict[str, Any]:
    """The draw's substitutions record (publish it as ``canonical_json``)."""
    return {
        "format": RECORD_FORMAT,
        "draw": draw_id,
        "bundle": bundle_hash(bundle),
        "substitutions": [s.to_json() for s in substitutions],
    }


@dataclass(frozen=True)
class Standing:
    """Where one entry stands after the substitutions: ``state`` is ``winner`` (a drawn
    winner who holds ``prize``), ``promoted`` (an alternate of rank ``rank`` who holds
    ``prize`` now), ``alternate`` (rank ``rank``, still waiting), ``forfeited`` or
    ``none``."""

    state: str
    rank: int | None = None
    prize: str | None = None

    def describe(self) -> str:
        """What an entrant checking this entry is told."""
        if self.state == "winner":
            return f"Winner: {self.prize}"
        if self.state == "promoted":
            return f"Winner (promoted): {self.prize}, as alternate #{self.rank}"
        if self.state == "alternate":
            return (
                f"Alternate #{self.rank}: if a winner forfeits, the prize goes to the first "
                "alternate who has not won"
            )
        if self.state == "forfeited":
            return "Forfeited: the prize went on to an alternate (see the results page)"
        return "Not a winner"


def standing(
    bundle: Mapping[str, Any], substitutions: Sequence[Substitution], index: int
) -> Standing:
    """Where entry ``index`` stands after ``substitutions``."""
    for holding in holdings(bundle, substitutions):
        if holding.holder is not None and holding.holder.index == index:
            if holding.alternate is not None:
                return Standing("promoted", holding.alternate, holding.prize)
            return Standing("winner", None, holding.prize)
    if earlier(substitutions, index) is not None:
        return Standing("forfeited")
    for rank, pick in enumerate(alternates_of(bundle), start=1):
        if pick.index == index:
            return Standing("alternate", rank)
    return Standing("none")
