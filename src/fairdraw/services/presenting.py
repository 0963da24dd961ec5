"""Presenting a drawn result on a big screen: who may drive the presentation, how far it
has gone, and which winner each reveal step shows.

The presentation decides nothing. The winners are fixed when the draw is recorded; a
reveal step only records how many prize slots the presenter has shown so far, so that
every screen following the draw shows the same one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fairdraw.domain.accounts import User
from fairdraw.domain.callers import Caller
from fairdraw.domain.draws import Draw, DrawStatus, WinnerView, whole_number
from fairdraw.domain.errors import Forbidden, InvalidInput, InvalidTransition, NotAuthenticated
from fairdraw.domain.networks import IPNetwork
from fairdraw.i18n import N_, Message
from fairdraw.services.drawing import DrawingService
from fairdraw.services.viewing import require_draw_viewer
from fairdraw.store.draws import DrawStore


@dataclass(frozen=True)
class RevealSlot:
    """One prize slot as the presentation shows it: ``number`` counts from 1, in the
    order the prizes are drawn; ``winner`` is None when the slot went unawarded (fewer
    entries than prizes)."""

    number: int
    prize: str
    winner: WinnerView | None


def reveal_slots(draw: Draw, upto: int | None = None) -> list[RevealSlot]:
    """The first ``upto`` prize slots of a drawn ``draw`` (all of them by default), each
    with its winner; empty before the draw."""
    if draw.result is None:
        return []
    wanted = draw.slot_count if upto is None else max(0, min(upto, draw.slot_count))
    by_slot = {w.slot: w for w in draw.result.winners}
    slots: list[RevealSlot] = []
    for prize in draw.prizes:
        for _ in range(prize.quantity):
            if len(slots) >= wanted:
                return slots
            slot = len(slots)
            slots.append(RevealSlot(slot + 1, prize.name, by_slot.get(slot)))
    return slots


def shown_step(draw: Draw) -> int:
    """How many slots a screen shows now: the recorded step, 0 before any."""
    if draw.status is not DrawStatus.drawn:
        return 0
    return draw.reveal_step or 0


def require_presenter(caller: Caller, draw: Draw, networks: Sequence[IPNetwork] = ()) -> User:
    """The caller's user if it may drive ``draw``'s presentation: an admin, or the
    manager who created it (for a lottery round, the lottery's creator), from a manager
    network when those are configured. Raises NotAuthenticated or Forbidden otherwise."""
    return require_draw_viewer(caller, draw, networks)


class PresentingService:
    """The presenter's use cases: start the draw from the big screen, reveal step by step."""

    def __init__(self, store: DrawStore, drawing: DrawingService) -> None:
        self._store = store
        self._drawing = drawing

    def may_present(self, caller: Caller, draw: Draw) -> bool:
        """Whether the caller would be allowed to drive the presentation (the page then
        shows the controls; everybody else gets the audience view, which only follows)."""
        try:
            require_presenter(caller, draw, self._drawing.manager_networks)
        except (NotAuthenticated, Forbidden):
            return False
        return True

    async def start(self, caller: Caller, draw_id: str, beacon_wait: float | None = None) -> Draw:
        """Close the draw if it is still open, then draw it: the big screen's one button.
        Both steps are the draw lifecycle's own (same rules, same refusals) and harmless
        to repeat, so pressing it again after a lost answer returns the same result.
        ``beacon_wait``: as for :meth:`DrawingService.draw_winners`."""
        draw = await self._drawing.get(draw_id)
        require_presenter(caller, draw, self._drawing.manager_networks)
        if draw.status is DrawStatus.open:
            await self._drawing.close(caller, draw_id)
        return await self._drawing.draw_winners(caller, draw_id, beacon_wait=beacon_wait)

    async def reveal(self, caller: Caller, draw_id: str, step: object) -> Draw:
        """Record that the presentation shows the first ``step`` prize slots (0: none
        yet; the number of slots: all of them, the summary); a form's text is read as a
        number. Steps are absolute, so
        sending one again changes nothing and announces nothing."""
        draw = await self._store.get(draw_id)
        require_presenter(caller, draw, self._drawing.manager_networks)
        # Lottery rounds too: their schedule draws them, their creator presents them.
        if draw.status is not DrawStatus.drawn:
            raise InvalidTransition("The winners are revealed once they are drawn")
        last = draw.slot_count
        number = whole_number(step)
        if number is None or not 0 <= number <= last:
            raise InvalidInput(
                {"step": Message(N_("Give a whole number from 0 to %(last)s"), last=last)}
            )
        await self._store.reveal(draw_id, number, last)
        return await self._store.get(draw_id)
