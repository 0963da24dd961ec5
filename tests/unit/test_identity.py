"""GitHub handle validation and the GitHub profile value."""

from __future__ import annotations

import json

import pytest

from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.identity import (
    GITHUB_LOGIN_MAX,
    GITHUB_NAME_MAX,
    GitHubProfile,
    is_github_login,
    normalize_github_login,
)


@pytest.mark.parametrize(
    ("raw", "login"),
    [
        ("octocat", "octocat"),
        ("OctoCat", "OctoCat"),
        ("a", "a"),
        ("a-b", "a-b"),
        ("a-b-c9", "a-b-c9"),
        ("0", "0"),
        ("x" * GITHUB_LOGIN_MAX, "x" * GITHUB_LOGIN_MAX),
        ("@octocat", "octocat"),
        (" octocat ", "octocat"),
        ("\t@octocat\n", "octocat"),
    ],
)
def test_valid_handles_are_returned_as_typed(raw: str, login: str) -> None:
    assert normalize_github_login(raw) == login


@pytest.mark.parametrize(
    "raw",
    [
        "octocat%3Fx",
        "octocat/",
        "octo cat",
        "-a",
        "a-",
        "a--b",
        "x" * (GITHUB_LOGIN_MAX + 1),
        "",
        "   ",
        "@",
        "@@octocat",
        "octo@cat",
        "../etc",
        "ö",
        "octocät",
        "octocat?x",
        "octo.cat",
        "octo_cat",
        "octocat#x",
        "octocat\nx",
        "octocat\x00",
        "\uff4f\uff43\uff54\uff4f",  # fullwidth "octo", which NFKC would turn into ASCII
        "\u0663",  # an Arabic-Indic digit: str.isdigit() says yes, GitHub says no
    ],
)
def test_invalid_handles_are_refused_for_the_github_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_github_login(raw)
    assert list(caught.value.errors) == ["github"]
    assert caught.value.errors["github"]


def test_refusal_messages_say_what_is_wrong() -> None:
    with pytest.raises(InvalidInput) as empty:
        normalize_github_login(" @ ")
    assert empty.value.errors == {"github": "Enter a GitHub username"}

    with pytest.raises(InvalidInput) as long:
        normalize_github_login("x" * 40)
    assert long.value.errors == {"github": "A GitHub username is at most 39 characters long"}

    with pytest.raises(InvalidInput) as bad:
        normalize_github_login("a--b")
    assert bad.value.errors["github"].startswith("Not a GitHub username: ")
    assert "hyphen" in bad.value.errors["github"]


def test_is_github_login_does_not_strip() -> None:
    assert is_github_login("octocat")
    assert not is_github_login(" octocat")
    assert not is_github_login("@octocat")
    assert not is_github_login("")


def _profile(**changes: object) -> GitHubProfile:
    data: dict[str, object] = {
        "id": 583231,
        "login": "octocat",
        "name": "The Octocat",
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
        "html_url": "https://github.com/octocat",
    }
    data.update(changes)
    return GitHubProfile.from_json(data)


def test_identity_is_the_numeric_id() -> None:
    assert _profile().identity == "gh:583231"
    assert _profile(login="OctoCat").identity == _profile().identity


def test_display_name_falls_back_to_login() -> None:
    assert _profile().display_name == "The Octocat"
    assert _profile(name=None).display_name == "octocat"
    assert _profile(name="   ").display_name == "octocat"


def test_json_round_trip_is_compact() -> None:
    profile = _profile()
    data = profile.to_json()
    assert data == {
        "id": 583231,
        "login": "octocat",
        "name": "The Octocat",
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
    }
    assert GitHubProfile.from_json(json.loads(json.dumps(data))) == profile


def test_json_round_trip_without_optional_fields() -> None:
    profile = _profile(name=None, avatar_url=None, html_url="https://ghe.example/octocat")
    assert profile.to_json() == {
        "id": 583231,
        "login": "octocat",
        "html_url": "https://ghe.example/octocat",
    }
    assert GitHubProfile.from_json(profile.to_json()) == profile


def test_github_user_json_is_read_and_extra_fields_ignored() -> None:
    profile = GitHubProfile.from_json(
        {
            "login": "octocat",
            "id": 583231,
            "node_id": "MDQ6VXNlcjU4MzIzMQ==",
            "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
            "html_url": "https://github.com/octocat",
            "type": "User",
            "site_admin": False,
            "name": "The Octocat",
            "public_repos": 8,
        }
    )
    assert profile == GitHubProfile(
        id=583231,
        login="octocat",
        name="The Octocat",
        avatar_url="https://avatars.githubusercontent.com/u/583231?v=4",
        html_url="https://github.com/octocat",
    )


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://avatars.githubusercontent.com/u/1",
        "//evil.example/a.png",
        "https://",
        "https:///path",
        "https://evil.example/a b",
        "https://evil.example/\x00",
        "https://[::1",
        "",
        42,
        None,
    ],
)
def test_only_https_urls_are_kept(url: object) -> None:
    profile = _profile(avatar_url=url, html_url=url)
    assert profile.avatar_url is None
    assert profile.html_url == "https://github.com/octocat"


def test_https_urls_are_kept_as_given() -> None:
    profile = _profile(
        avatar_url="https://avatars.example/u/1?s=40&v=4",
        html_url="https://ghe.example:8443/octocat",
    )
    assert profile.avatar_url == "https://avatars.example/u/1?s=40&v=4"
    assert profile.html_url == "https://ghe.example:8443/octocat"


def test_constructor_refuses_unsafe_urls() -> None:
    with pytest.raises(ValueError, match="avatar URL"):
        GitHubProfile(1, "a", None, "javascript:alert(1)", "https://github.com/a")
    with pytest.raises(ValueError, match="profile URL"):
        GitHubProfile(1, "a", None, None, "javascript:alert(1)")


def test_long_names_are_cut() -> None:
    assert _profile(name="n" * 10_000).name == "n" * GITHUB_NAME_MAX


@pytest.mark.parametrize("name", [42, ["x"], {"x": 1}, ""])
def test_names_that_are_not_text_are_dropped(name: object) -> None:
    assert _profile(name=name).name is None


@pytest.mark.parametrize(
    "changes",
    [
        {"id": None},
        {"id": "583231"},
        {"id": 0},
        {"id": -1},
        {"id": True},
        {"id": 1.5},
        {"login": None},
        {"login": ""},
        {"login": "octo cat"},
        {"login": "../admin"},
        {"login": "x" * 40},
        {"login": 7},
    ],
)
def test_json_without_a_valid_id_and_login_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"no valid (id|login)"):
        _profile(**changes)


def test_missing_id_or_login_is_refused() -> None:
    with pytest.raises(ValueError, match="no valid id"):
        GitHubProfile.from_json({"login": "octocat"})
    with pytest.raises(ValueError, match="no valid login"):
        GitHubProfile.from_json({"id": 1})
