"""Username normalisation, password rules, display names and roles."""

from __future__ import annotations

import pytest

from fairdraw.domain.accounts import (
    MAX_DISPLAY_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    USERNAME_PATTERN,
    Role,
    User,
    check_new_account,
    check_paging,
    check_password,
    normalize_display_name,
    normalize_username,
    username_prefix,
)
from fairdraw.domain.errors import InvalidInput


def username_error(raw: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        normalize_username(raw)
    assert set(caught.value.errors) == {"username"}
    return caught.value.errors["username"]


def password_error(password: str, username: str = "alice") -> str:
    with pytest.raises(InvalidInput) as caught:
        check_password(password, username)
    assert set(caught.value.errors) == {"password"}
    return caught.value.errors["password"]


# -- usernames ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice", "alice"),
        ("Alice", "alice"),
        ("ALICE", "alice"),
        ("\uff21\uff4c\uff49\uff43\uff45", "alice"),  # full-width "Alice"
        ("\u212aelvin", "kelvin"),  # KELVIN SIGN folds to k
        ("  bob  ", "bob"),
        ("a.b_c-d", "a.b_c-d"),
        ("007", "007"),
        ("Stra\u00dfe", "strasse"),  # case-folding, not lower-casing
        ("\ufb00oo", "ffoo"),  # the ligature "ff" decomposes under NFKC
        ("abc", "abc"),
        ("a" * 32, "a" * 32),
    ],
)
def test_normalize_username_folds_to_one_canonical_form(raw: str, expected: str) -> None:
    assert normalize_username(raw) == expected
    assert USERNAME_PATTERN.fullmatch(expected)


def test_full_width_and_ascii_names_are_the_same_account() -> None:
    assert normalize_username("Ａｌｉｃｅ") == normalize_username("alice")  # noqa: RUF001


@pytest.mark.parametrize("raw", ["", "a", "ab", "  ab  ", "\uff41\uff42"])
def test_names_shorter_than_three_are_refused(raw: str) -> None:
    assert username_error(raw) == "The username must be at least 3 characters long."


@pytest.mark.parametrize("raw", ["a" * 33, "x" * 1000, "\ufb00" * 17])
def test_names_longer_than_thirty_two_are_refused(raw: str) -> None:
    assert username_error(raw) == "The username must be at most 32 characters long."


@pytest.mark.parametrize(
    "raw", ["al ice", "alice!", "al:ice", "al{ice}", "\u00e9lise", "ali\u200bce", "al/ice"]
)
def test_names_with_other_characters_are_refused(raw: str) -> None:
    assert username_error(raw) == (
        "The username may contain only letters a-z, digits, underscore, dot and hyphen."
    )


@pytest.mark.parametrize("raw", ["_alice", ".alice", "-alice"])
def test_names_must_start_with_a_letter_or_digit(raw: str) -> None:
    assert username_error(raw) == "The username must start with a letter (a-z) or a digit."


# -- passwords ---------------------------------------------------------------------------


def test_password_of_minimum_length_is_accepted() -> None:
    check_password("p" * MIN_PASSWORD_LENGTH, "alice")
    check_password("p" * MAX_PASSWORD_LENGTH, "alice")


def test_short_password_is_refused() -> None:
    assert password_error("p" * (MIN_PASSWORD_LENGTH - 1)) == (
        "The password must be at least 10 characters long."
    )


def test_long_password_is_refused() -> None:
    assert password_error("p" * (MAX_PASSWORD_LENGTH + 1)) == (
        "The password must be at most 1024 characters long."
    )


@pytest.mark.parametrize("password", ["alice.smith", "ALICE.SMITH", "Alice.Smith "])
def test_password_equal_to_username_in_any_case_is_refused(password: str) -> None:
    assert password_error(password, "alice.smith") == "The password must not be the username."


def test_password_containing_the_username_is_accepted() -> None:
    check_password("alice.smith!", "alice.smith")


# -- display names and roles -------------------------------------------------------------


def test_display_name_is_trimmed_and_keeps_its_case() -> None:
    assert normalize_display_name("  Alice Smith ") == "Alice Smith"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("   ", "The display name must not be empty."),
        (
            "x" * (MAX_DISPLAY_NAME_LENGTH + 1),
            "The display name must be at most 64 characters long.",
        ),
        ("Alice\nSmith", "The display name must not contain control characters."),
        ("Alice\u202eSmith", "The display name must not contain control characters."),
    ],
)
def test_bad_display_names_are_refused(raw: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_display_name(raw)
    assert caught.value.errors == {"display_name": message}


def test_only_managers_and_admins_manage_draws() -> None:
    assert [role for role in Role if role.can_manage_draws] == [Role.manager, Role.admin]
    assert [str(role) for role in Role] == ["participant", "manager", "admin"]


# -- new accounts, searches, epochs --------------------------------------------------------


def test_a_new_account_is_normalised_and_named_after_the_username_as_typed() -> None:
    assert check_new_account(" Alice ", "a long password") == ("alice", "Alice")
    assert check_new_account("alice", "a long password", " Al ") == ("alice", "Al")
    assert check_new_account("bob", "pw of bob!!", confirmation="pw of bob!!") == ("bob", "bob")


def test_every_wrong_field_of_a_new_account_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_new_account("Bob.Smith.Jr", "BOB.SMITH.JR", "\n", confirmation="bob.smith.jr")
    assert caught.value.errors == {
        "password": "The password must not be the username.",
        "password_confirm": "The two passwords do not match.",
        "display_name": "The display name must not be empty.",
    }
    with pytest.raises(InvalidInput) as bad_name:
        check_new_account("x" * 200, "a long password")
    # No display name was given, so the long username is not blamed twice.
    assert set(bad_name.value.errors) == {"username"}


def test_search_prefixes_take_the_form_of_usernames() -> None:
    assert username_prefix("  \uff21Li ") == "ali"
    assert username_prefix("") == ""
    for too_long in ("a" * 33, "a" * 1000):
        with pytest.raises(InvalidInput) as caught:
            username_prefix(too_long)
        assert caught.value.errors == {"q": "Search for at most 32 characters."}


@pytest.mark.parametrize(
    ("offset", "limit", "fields"),
    [
        (0, 1, set()),
        (5, 100, set()),
        (-1, 50, {"offset"}),
        (0, 0, {"limit"}),
        (-1, 101, {"offset", "limit"}),
    ],
)
def test_pages_have_a_bounded_size(offset: int, limit: int, fields: set[str]) -> None:
    if not fields:
        check_paging(offset, limit)
        return
    with pytest.raises(InvalidInput) as caught:
        check_paging(offset, limit)
    assert set(caught.value.errors) == fields


def test_credentials_issued_before_the_users_epoch_are_not_current() -> None:
    user = User("alice", "Alice", Role.admin, 0, session_epoch=3)
    assert [user.credentials_current(epoch) for epoch in (2, 3, 4)] == [False, True, True]
    assert user.is_active_admin
    assert not User("bob", "Bob", Role.admin, 0, disabled=True).is_active_admin
    assert not User("carl", "Carl", Role.manager, 0).is_active_admin
