"""Forfeit and promote: a manager marks a winner of a drawn draw as forfeited, with a
reason, and the prize passes to the next alternate by the published rule
(:mod:`fairdraw.domain.substitutions`).

Each substitution is stored once per forfeited entry (``record_forfeit.lua``), so a
repeated request answers the substitution already made. A ``fairdraw/2`` draw's
substitutions are also put in the public draw log, one ``forfeit`` leaf each, numbered
in order; every forfeit logs the earlier ones too, so a leaf whose process died before
logging it is completed by the next forfeit or by a repeat of the same one.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final

from fairdraw.domain import fairness, substitutions
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import Draw
from fairdraw.domain.errors import InvalidTransition, NotFound, Unavailable
from fairdraw.domain.moments import iso, now_ms
from fairdraw.domain.networks import IPNetwork
from fairdraw.domain.proof import bundle_hash, canonical_json
from fairdraw.domain.substitutions import Standing, Substitution
from fairdraw.services.drawing import require_manager
from fairdraw.services.proofs import DrawProofs
from fairdraw.store.draws import DrawStore
from fairdraw.store.substitutions import SubstitutionStore

# Each failed attempt means another forfeit of the same draw came first; this many in a
# row is a flood, not a race, and the caller is told to try again.
RECORD_ATTEMPTS: Final = 20

# announce(draw, number, substitution): tell the draw's webhooks about substitution
# ``number``, after it is stored; announcing one again is harmless.
ForfeitAnnouncer = Callable[[Draw, int, Mapping[str, Any]], Awaitable[None]]
# The substitutions of a drawn draw, in order (ForfeitService.substitutions): what the
# lists that show outcomes (entrants, exports, my entries) read them with.
SubstitutionsOf = Callable[[str], Awaitable[list[Substitution]]]


def announce_forfeit_to(*announcers: ForfeitAnnouncer) -> ForfeitAnnouncer:
    """One announcer that tells each of ``announcers`` in turn (webhooks, then mail)."""

    async def announce(draw: Draw, number: int, substitution: Mapping[str, Any]) -> None:
        for each in announcers:
            await each(draw, number, substitution)

    return announce


class ForfeitService:
    """Substitutions of drawn draws: making them, and reading them back."""

    def __init__(
        self,
        draws: DrawStore,
        store: SubstitutionStore,
        proofs: DrawProofs | None = None,
        clock: Callable[[], int] = now_ms,
        manager_networks: Sequence[IPNetwork] = (),
        announce: ForfeitAnnouncer | None = None,
    ) -> None:
        self._draws = draws
        self._store = store
        self._proofs = proofs
        self._clock = clock
        self._networks = tuple(manager_networks)
        self._announce = announce

    async def draw_to_forfeit(self, caller: Caller, draw_id: str) -> Draw:
        """The drawn draw ``draw_id`` if the caller may forfeit its winners (its managers
        and administrators); raises otherwise (InvalidTransition before the draw)."""
        draw = await self._draws.get(draw_id)
        require_manager(caller, draw, self._networks)
        _bundle_of(draw)
        return draw

    async def forfeit(
        self, caller: Caller, draw_id: str, winner: int, reason: object
    ) -> tuple[Substitution, bool]:
        """Forfeit the prize entry ``winner`` holds now (its managers only), and whether
        this call made the substitution (False: that entry had already forfeited, and
        the substitution then made is returned unchanged)."""
        draw = await self._draws.get(draw_id)
        require_manager(caller, draw, self._networks)
        text = substitutions.check_reason(reason)
        bundle = _bundle_of(draw)
        for _ in range(RECORD_ATTEMPTS):
            known = await self.substitutions(draw_id)
            made = substitutions.earlier(known, winner)
            if made is not None:
                await self._publish(draw, known)
                return made, False
            new = substitutions.substitute(bundle, known, winner, text, iso(self._clock()))
            recorded = await self._store.record(
                draw_id, winner, len(known), canonical_json(new.to_json()).decode()
            )
            if recorded.moved is not None:
                continue
            if recorded.existing is not None:
                new = Substitution.from_json(_parsed(recorded.existing))
            await self._publish(draw, await self.substitutions(draw_id))
            return new, recorded.created
        raise Unavailable("Too many forfeits of this draw at once; try again")

    async def substitutions(self, draw_id: str) -> list[Substitution]:
        """The draw's substitutions, in order."""
        texts = await self._store.all(draw_id)
        return [Substitution.from_json(_parsed(text)) for text in texts]

    async def record(self, draw_id: str) -> bytes:
        """The draw's substitutions record, canonical JSON (NotFound before the draw)."""
        draw = await self._draws.get(draw_id)
        if draw.result is None:
            raise NotFound("The substitutions are published once the winners are drawn")
        known = await self.substitutions(draw_id)
        return canonical_json(substitutions.record(draw.id, draw.result.bundle, known))

    async def standing(self, draw: Draw, index: int) -> Standing:
        """Where entry ``index`` of a drawn draw stands now (see
        :func:`fairdraw.domain.substitutions.standing`); ``none`` before the draw."""
        if draw.result is None:
            return Standing("none")
        known = await self.substitutions(draw.id)
        return substitutions.standing(draw.result.bundle, known, index)

    async def _publish(self, draw: Draw, known: Sequence[Substitution]) -> None:
        """Log (fairdraw/2) and announce every substitution; each is done once."""
        core_hash = bundle_hash(_bundle_of(draw))
        for number, sub in enumerate(known):
            if self._proofs is not None and draw.algorithm != fairness.ALGORITHM:
                await self._proofs.draw_log.append(
                    {
                        "type": "forfeit",
                        "draw_id": draw.id,
                        "time": sub.at,
                        "bundle_hash": core_hash,
                        "number": number,
                        "substitution": sub.digest(),
                    }
                )
            if self._announce is not None:
                await self._announce(draw, number, sub.to_json())


def _bundle_of(draw: Draw) -> dict[str, Any]:
    if draw.result is None:
        raise InvalidTransition("Only the winners of a drawn draw can forfeit")
    return draw.result.bundle


def _parsed(text: str) -> dict[str, Any]:
    """A stored substitution, parsed."""
    parsed: dict[str, Any] = json.loads(text)
    return parsed
