"""A giveaway's or lottery round's ledger element: how it is stored and read back.

Two layouts live side by side in one list, told apart by the first character:

- compact (``+``, what the ``enter`` script appends)::

      + offset_ms \\t identity \\t label [\\t nonce]

  ``offset_ms`` is the entry time in milliseconds after the draw opened (``opened_ms``
  of its hash), in base 36 (lowercase; 6 digits cover 25 days). The public ref is not
  stored: it is a function of the draw's salt and the identity (fairdraw/1: the keyed
  hash of the identity; fairdraw/2: the commitment to the identity and its nonce derived
  from the salt; a lottery ballot's ref, or its fairdraw/2 nonce, is derived from the
  salt, the identity and the ballot's index), or of the identity and the element's own
  ``nonce`` (hex) when it has one, and is computed when the element is read.

- full (every element written before the compact layout, and imported lists)::

      ref \\t entered_ms \\t identity \\t label [\\t nonce]

  It begins with the ref's lowercase hex digits, never with ``+``.

Everything that reads an element goes through :meth:`LedgerEntry.parse` (or
:func:`refs_of`, its shortcut for the refs alone), with the :class:`LedgerTerms` of the
element's draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fairdraw.domain import fairness

# The first character of a compact element (a full one begins with a hex digit).
COMPACT = "+"


@dataclass(frozen=True)
class LedgerTerms:
    """What reading a draw's ledger needs besides its elements: the proof version, the
    secret salt refs derive from and the time offsets count from."""

    algorithm: str
    salt: bytes = field(repr=False)
    opened_ms: int = 0
    # A lottery round's: its elements are ballots, many per identity.
    ballots: bool = False

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> LedgerTerms:
        """The terms from a draw's meta hash (``salt``, ``algorithm``, ``opened_ms``,
        ``kind``)."""
        return cls(
            algorithm=fields.get("algorithm", fairness.ALGORITHM),
            salt=bytes.fromhex(fields.get("salt", "")),
            opened_ms=int(fields.get("opened_ms") or 0),
            ballots=fields.get("kind") == "lottery",
        )

    def nonce(self, identity: str, index: int) -> str | None:
        """The derived nonce (hex) of a compact element that keeps none: a fairdraw/2
        ballot's (a giveaway entry's is derived by its receipt and proof from the salt)."""
        if self.ballots and self.algorithm != fairness.ALGORITHM:
            return fairness.ballot_nonce(self.salt, identity, index).hex()
        return None

    def ref(self, identity: str, nonce: str | None = None, index: int = 0) -> str:
        """The public ref of ``identity``'s entry at ``index`` (with ``nonce``: an element
        that keeps its own, or a fairdraw/2 ballot's derived one)."""
        if nonce is not None:
            return fairness.entry_ref_v2(identity, bytes.fromhex(nonce))
        if self.ballots:
            return fairness.ballot_ref(self.salt, identity, index)
        if self.algorithm == fairness.ALGORITHM:
            return fairness.entry_ref(self.salt, identity)
        return fairness.entry_ref_v2(identity, fairness.entry_nonce(self.salt, identity))


@dataclass(frozen=True)
class LedgerEntry:
    """One line of a draw's ledger."""

    index: int
    ref: str
    entered_ms: int
    identity: str
    label: str
    # The secret nonce (hex) of an entry that keeps its own: a fairdraw/2 lottery ballot's
    # or an imported row's; a giveaway entry's is derived from the draw's salt instead.
    nonce: str | None = None

    @classmethod
    def parse(cls, index: int, element: str, terms: LedgerTerms) -> LedgerEntry:
        """Ledger element ``index`` of a draw read with ``terms``, in either layout."""
        if element.startswith(COMPACT):
            offset, identity, label, *nonce = element[1:].split("\t", 3)
            kept = nonce[0] if nonce else terms.nonce(identity, index)
            return cls(
                index=index,
                ref=terms.ref(identity, kept, index),
                entered_ms=terms.opened_ms + int(offset, 36),
                identity=identity,
                label=label,
                nonce=kept,
            )
        ref, entered_ms, identity, label, *nonce = element.split("\t", 4)
        return cls(
            index=index,
            ref=ref,
            entered_ms=int(entered_ms),
            identity=identity,
            label=label,
            nonce=nonce[0] if nonce else None,
        )


def refs_of(elements: Sequence[str], terms: LedgerTerms, start: int = 0) -> list[str]:
    """The public refs of ``elements``, the first at index ``start`` (what
    :meth:`LedgerEntry.parse` gives as ``ref``, without building the entries: sealing
    reads refs by the million)."""
    refs: list[str] = []
    ref, derived = terms.ref, terms.nonce
    for index, element in enumerate(elements, start):
        if element.startswith(COMPACT):
            _, identity, _, *nonce = element.split("\t", 3)
            kept = nonce[0] if nonce else derived(identity, index)
            refs.append(ref(identity, kept, index))
        else:
            refs.append(element.split("\t", 1)[0])
    return refs


def compact_element(entry: LedgerEntry, opened_ms: int) -> str:
    """``entry`` in the compact layout (what ``enter.lua`` writes; bulk loads and tests
    use this to write the same)."""
    tail = "" if entry.nonce is None else f"\t{entry.nonce}"
    offset = _base36(entry.entered_ms - opened_ms)
    return f"{COMPACT}{offset}\t{entry.identity}\t{entry.label}{tail}"


def _base36(number: int) -> str:
    if number < 0:
        return "-" + _base36(-number)
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = _DIGITS[digit] + digits
        if number == 0:
            return digits


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
