"""The letters that stand in for a missing avatar: from words of letters only."""

from __future__ import annotations

import pytest

from fairdraw.web.pages.views import initials


@pytest.mark.parametrize(
    ("name", "letters"),
    [
        ("Morgan (manager)", "MM"),
        ("morgan", "M"),
        ("The Octocat", "TO"),
        ("jean-luc picard", "JL"),
        ("(x)", "X"),
        ("42 bob", "B"),
        ("Émile Zola", "ÉZ"),
        ("---", "?"),
        ("", "?"),
    ],
)
def test_initials_are_letters_of_words(name: str, letters: str) -> None:
    assert initials(name) == letters
