"""The words the page scripts show, in the page's language.

Scripts never carry English of their own: every sentence they put on a page or announce
is named here by a key, with its English marked ``N_()`` so ``make messages`` extracts
it. base.html renders the translations of the request's locale into a JSON data block
(``<script type="application/json" id="fd-messages">``, which the browser never runs, so
the Content-Security-Policy stays strict), and ``fdMessage(key, values)`` in
``static/js/messages.js`` reads it, putting ``values`` in for ``%(name)s`` and choosing
a count's plural form by ``values.count`` (docs/operations.md, "Languages").
tests/unit/test_script_text.py checks that every key the scripts use is here.
"""

from __future__ import annotations

from functools import cache
from types import MappingProxyType

from fairdraw import i18n
from fairdraw.i18n import N_

# A key's English, or its (singular, plural) for a count: the page gets a count's forms
# by plural category ({"one": …, "other": …}) and the script picks one with
# Intl.PluralRules.
_MESSAGES: dict[str, str | tuple[str, str]] = {
    # live.js: what the live pages announce to screen readers.
    "live.open": N_("Entries are open."),
    "live.closed": N_("Entries are closed."),
    "live.drawn": N_("The winners have been drawn."),
    "live.cancelled": N_("This draw was cancelled."),
    "live.sealed": N_("The list of entries is sealed."),
    "live.forfeit": N_("A winner forfeited; the prize went to the next alternate."),
    # present.js: the presenter's status line and buttons.
    "present.draft": N_("Not open yet"),
    "present.open": N_("Open for entries"),
    "present.closed": N_("Entries closed — ready to draw"),
    "present.drawn": N_("Winners drawn — ready to reveal"),
    "present.cancelled": N_("Cancelled — no winners"),
    "present.draw": N_("Draw winners"),
    "present.close_and_draw": N_("Close entries and draw winners"),
    "present.first": N_("Reveal the first prize"),
    "present.next": N_("Next prize"),
    "present.not_saved": N_("The step was not saved: %(error)s"),
    "present.not_drawn": N_("Could not draw: %(error)s"),
    "present.full_screen": N_("Full screen"),
    "present.leave_full_screen": N_("Leave full screen"),
    # reveal.js: the reveal on the presenter and draw pages.
    "reveal.no_winner": N_("No winner"),
    "reveal.not_enough": N_("not enough entries"),
    "reveal.ticket": N_("Ticket %(number)s"),
    "reveal.held_by": N_("held by %(login)s"),
    "reveal.prize": N_("Prize %(number)s"),
    "reveal.about_to": N_("The winners are about to be revealed."),
    "reveal.all_prizes": N_("All prizes revealed."),
    "reveal.the_prize": N_("The prize is revealed."),
    "reveal.progress": (
        # Said on the page by web/pages/presenting.py too, which marks it for extraction.
        "%(step)s of %(num)s prize revealed",
        "%(step)s of %(num)s prizes revealed",
    ),
    "reveal.all_winners": N_("All winners"),
    "reveal.so_far": N_("Winners so far"),
    "reveal.announce": N_("Prize %(number)s, %(prize)s: %(name)s."),
    "reveal.announce_detail": N_("Prize %(number)s, %(prize)s: %(name)s (%(detail)s)."),
    "reveal.all_revealed": N_("All winners revealed."),
    # check_entry.js: a receipt's index past the end of the sealed list.
    "check.ledger_shorter": N_("none: the ledger is shorter"),
    # verify/page.js: what each check shows, the verdict and the page's progress.
    "verify_check.format": N_(
        "The files are well-formed: the bundle is strict JSON with every field of the right "
        "type, the entries file one line per entry."
    ),
    "verify_check.entry_count": N_("The entries file has exactly as many entries as were sealed."),
    "verify_check.merkle_root": N_(
        "The entries file is exactly the list that was sealed before any winner was picked."
    ),
    "verify_check.commitment": N_(
        "The revealed seed is the one committed to when the draw opened."
    ),
    "verify_check.slots": N_("The prizes and their quantities are the ones the draw announced."),
    "verify_check.beacon": N_(
        "The public randomness is the beacon round fixed at the seal, signed by the beacon's "
        "pinned key."
    ),
    "verify_check.openings": N_(
        "Each winner's published identity is the one their entry committed to."
    ),
    "verify_check.winners": N_(
        "Re-running the algorithm on the sealed list picks the same winners."
    ),
    "verify_check.alternates": N_("It picks the same alternates, in the same order."),
    "verify_check.unawarded": N_("The same prizes are left without a winner."),
    "verify_check.log": N_(
        "The result is recorded in the public draw log, whose head the server signed."
    ),
    "verify_check.substitutions_format": N_(
        "The substitutions record is well-formed canonical JSON."
    ),
    "verify_check.substitutions_bundle": N_("The substitutions amend this very proof."),
    "verify_check.substitutions_order": N_(
        "Each forfeited prize went to the first alternate, in the published order, who had not won."
    ),
    "verify.trusts_operator": N_(
        "This draw has no public beacon: the operator's secret seed alone decided the winners. "
        "The checks show the winners follow from that seed and the sealed list, but not that "
        "the operator did not know the seed before the entries were sealed. This draw trusts "
        "its operator."
    ),
    "verify.hashing": N_("Hashing the entries: %(done)s of %(total)s"),
    "verify.pass": N_("Pass"),
    "verify.skipped": N_("Not checked"),
    "verify.fail": N_("Fail"),
    "verify.passed_trusting": N_("PASS (trusts its operator: no beacon). Every check passed."),
    "verify.passed": N_(
        "PASS. Every check passed: the winners follow from the sealed entries and public "
        "randomness."
    ),
    "verify.failed": N_("FAIL. The %(name)s check failed: %(detail)s"),
    "verify.finished_pass": N_("Verification finished: PASS."),
    "verify.finished_fail": N_("Verification finished: FAIL (%(name)s)."),
    "verify.chain_unusable": N_("The beacon chain file is not usable: %(error)s"),
    "verify.verifying": N_("Verifying…"),
    "verify.could_not_run": N_("The verification could not run: %(error)s"),
    "verify.choose_both": N_("Choose both files: the proof bundle and the entries file."),
    "verify.files": N_("Files: %(names)s"),
    "verify.list": N_("%(items)s and %(last)s"),
    "verify.one_file": N_("The link names only one file: it needs both ?bundle= and ?entries=."),
    "verify.fetching": N_("Fetching the files…"),
    "verify.could_not_fetch": N_("Could not fetch the files: %(error)s."),
    "verify.from_site": N_("From this site: %(bundle)s and %(entries)s"),
    # pages.js: a new prize row on the draw form.
    "pages.prize": N_("Prize %(number)s"),
    # share.js and ticket.js: copying a link or a ticket's code.
    "share.copied": N_("Link copied."),
    "share.copy_yourself": N_("Press Ctrl+C (or ⌘C) to copy the selected link."),
    # dashboard.js: the chart's one-sentence summary, said again as entries arrive (the
    # same words as the server's, pages/dashboard.py).
    "dashboard.none": N_("No %(items)s %(period)s."),
    "dashboard.summary": N_(
        "%(total)s %(items)s %(period)s; the busiest %(which)s began %(when)s, with %(count)s."
    ),
    "ticket.copied": N_("Copied."),
    "ticket.copy_yourself": N_("Could not copy: the code is selected, copy it yourself."),
}

# Key → English, as the scripts may ask for them.
SCRIPT_MESSAGES = MappingProxyType(_MESSAGES)


def _in(locale: str, english: str | tuple[str, str]) -> str | dict[str, str]:
    translations = i18n.translations(locale)
    if isinstance(english, str):
        return translations.gettext(english)
    singular, plural = english
    # The shipped languages have these two plural categories (one, other).
    return {
        "one": translations.ngettext(singular, plural, 1),
        "other": translations.ngettext(singular, plural, 2),
    }


@cache
def _translated(locale: str) -> MappingProxyType[str, str | dict[str, str]]:
    return MappingProxyType({key: _in(locale, english) for key, english in _MESSAGES.items()})


def script_messages(locale: str | None = None) -> dict[str, str | dict[str, str]]:
    """Every script message in ``locale`` (the current one if None), for the page's data
    block."""
    return dict(_translated(locale or i18n.current_locale()))
