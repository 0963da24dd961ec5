"""Accounts and browser sessions against a real store."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import socket
from typing import Literal

import pytest
from argon2 import PasswordHasher
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as StoreConnectionError

from fairdraw.domain.accounts import LastAdmin, Role, User
from fairdraw.domain.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    UserExists,
)
from fairdraw.services.accounts import AccountService
from fairdraw.store.accounts import AccountStore
from fairdraw.store.keys import Keys
from tests.support.store import everything_stored

SECRET = b"k" * 48
PASSWORD = "correct horse battery"
IDLE = 60
KEYS = Keys()
# An administrator acting on others; the service trusts the actor it is given.
ROOT = User("root", "Root", Role.admin, 0)


class CountingHasher(PasswordHasher):
    """Cheap argon2id parameters, counting verifications."""

    def __init__(self, time_cost: int = 1, memory_cost: int = 1024) -> None:
        super().__init__(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def store(redis: Redis) -> AccountStore:
    return AccountStore(redis, KEYS, SECRET)


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def service(store: AccountStore, hasher: CountingHasher) -> AccountService:
    return AccountService(store, idle_seconds=IDLE, absolute_seconds=3600, hasher=hasher)


def session_key(token: str) -> str:
    return KEYS.session(hmac.new(SECRET, token.encode(), hashlib.sha256).hexdigest())


async def user_keys(redis: Redis) -> list[str]:
    return sorted([key async for key in redis.scan_iter(match=KEYS.user("*"))])


# -- users -------------------------------------------------------------------------------


async def test_created_user_authenticates_in_any_letter_case(
    service: AccountService, store: AccountStore
) -> None:
    user = await service.create_user("Alice", PASSWORD)

    assert user == User("alice", "Alice", Role.participant, user.created_ms)
    assert abs(user.created_ms - await store.now_ms()) < 10_000
    assert await service.authenticate("ALICE", PASSWORD) == user
    assert await service.authenticate(" alice ", PASSWORD) == user
    assert await store.list_users() == [user]


async def test_invalid_new_users_are_refused_without_writing(
    service: AccountService, redis: Redis
) -> None:
    with pytest.raises(InvalidInput) as bad_name:
        await service.create_user("a!", PASSWORD)
    with pytest.raises(InvalidInput) as bad_password:
        await service.create_user("alice", "short")
    with pytest.raises(InvalidInput) as name_as_password:
        await service.create_user("alice.smith", "Alice.Smith")

    assert set(bad_name.value.errors) == {"username"}
    assert set(bad_password.value.errors) == {"password"}
    assert name_as_password.value.errors == {"password": "The password must not be the username."}
    assert await redis.dbsize() == 0


async def test_failed_logins_are_indistinguishable(
    service: AccountService, hasher: CountingHasher
) -> None:
    await service.create_user("alice", PASSWORD)
    attempts = [
        ("alice", "wrong password"),  # wrong password
        ("bob", PASSWORD),  # unknown user
        ("no good!", PASSWORD),  # not even a valid username
        ("alice", "x" * 5000),  # longer than any password can be
    ]
    failures: list[InvalidCredentials] = []
    for username, password in attempts:
        hasher.verified = 0
        with pytest.raises(InvalidCredentials) as caught:
            await service.authenticate(username, password)
        failures.append(caught.value)
        # Each path does one argon2 verification, so none answers faster than the others.
        assert hasher.verified == 1, username

    assert {type(error) for error in failures} == {InvalidCredentials}
    assert {(error.code, error.status, str(error)) for error in failures} == {
        ("invalid_credentials", 401, "Wrong username or password")
    }


async def test_disabled_user_is_told_so_only_with_the_right_password(
    service: AccountService, redis: Redis
) -> None:
    await service.create_user("alice", PASSWORD)
    _, token, _ = await service.login("alice", PASSWORD)

    await service.update_user(ROOT, "Alice", disabled=True)

    with pytest.raises(InvalidCredentials) as wrong:
        await service.authenticate("alice", PASSWORD + "x")
    assert type(wrong.value) is InvalidCredentials
    assert str(wrong.value) == "Wrong username or password"
    with pytest.raises(AccountDisabled) as caught:
        await service.authenticate("alice", PASSWORD)
    assert (caught.value.code, caught.value.status) == ("account_disabled", 403)
    assert str(caught.value) == "This account is disabled; ask an administrator to enable it again"
    assert await service.session_user(token) is None
    assert await redis.exists(session_key(token)) == 0

    await service.update_user(ROOT, "alice", disabled=False)
    assert (await service.authenticate("alice", PASSWORD)).disabled is False
    assert await service.session_user(token) is None  # ended sessions stay ended


async def test_disabling_an_unknown_user_creates_nothing(
    service: AccountService, redis: Redis
) -> None:
    with pytest.raises(NotFound):
        await service.update_user(ROOT, "nobody", disabled=True)
    assert await redis.dbsize() == 0


async def test_name_taken_in_another_case_is_refused(service: AccountService, redis: Redis) -> None:
    await service.create_user("alice", PASSWORD)

    with pytest.raises(UserExists):
        await service.create_user("ALICE", "another password")
    with pytest.raises(UserExists):
        await service.create_user("\uff21lice", "another password")  # full-width A

    assert await user_keys(redis) == [KEYS.user("alice")]
    await service.authenticate("alice", PASSWORD)


async def test_concurrent_creations_of_one_name_make_one_user(
    service: AccountService, redis: Redis
) -> None:
    spellings = [
        "".join(letters) for letters in itertools.product(*zip("carol", "CAROL", strict=True))
    ][:20]
    assert len(set(spellings)) == 20

    results = await asyncio.gather(
        *(service.create_user(name, f"password of {name}") for name in spellings),
        return_exceptions=True,
    )

    created = [result for result in results if isinstance(result, User)]
    refused = [result for result in results if isinstance(result, UserExists)]
    assert len(created) == 1
    assert len(refused) == 19
    assert await user_keys(redis) == [KEYS.user("carol")]
    assert await redis.zrange(KEYS.users_index(), 0, -1) == ["carol"]
    winner = spellings[results.index(created[0])]
    await service.authenticate("carol", f"password of {winner}")


async def test_an_unindexed_user_is_indexed_when_created_again(
    store: AccountStore, redis: Redis
) -> None:
    user = User("alice", "Alice", Role.admin, 1_000)
    await store.create_user(user, "$argon2id$stand-in")
    await redis.zrem(KEYS.users_index(), "alice")  # as if the process died before indexing

    with pytest.raises(UserExists):
        await store.create_user(User("alice", "Other", Role.participant, 2_000), "$other")

    assert await redis.zrange(KEYS.users_index(), 0, -1, withscores=True) == [("alice", 1000.0)]
    assert await store.get_user("alice") == (user, "$argon2id$stand-in")


async def test_list_users_pages_in_creation_order_and_skips_missing_users(
    store: AccountStore, redis: Redis
) -> None:
    users = [User(f"user{n}", f"User {n}", Role.participant, 1_000 + n) for n in range(5)]
    for user in reversed(users):
        await store.create_user(user, "$argon2id$stand-in")
    await redis.zadd(KEYS.users_index(), {"ghost": 1_002.5})

    assert await store.list_users() == users
    assert await store.list_users(offset=1, limit=2) == users[1:3]
    assert await store.list_users(offset=2, limit=2) == [users[2]]  # the ghost is skipped
    assert await store.list_users(offset=10) == []
    assert await store.list_users(limit=0) == []


# -- admins ------------------------------------------------------------------------------


async def test_ensure_admin_twice_at_once_creates_one_admin(
    service: AccountService, redis: Redis
) -> None:
    assert await service.any_admin() is False

    results = await asyncio.gather(
        service.ensure_admin("Admin", PASSWORD), service.ensure_admin("admin", PASSWORD)
    )

    assert sorted(results) == [False, True]
    assert await service.any_admin() is True
    assert await user_keys(redis) == [KEYS.user("admin")]
    assert (await service.authenticate("admin", PASSWORD)).role is Role.admin


async def test_ensure_admin_leaves_an_existing_user_alone(service: AccountService) -> None:
    await service.create_user("admin", PASSWORD)

    assert await service.ensure_admin("admin", "a different password") is False
    assert await service.ensure_admin("admin", "weak") is False  # not even validated

    assert (await service.authenticate("admin", PASSWORD)).role is Role.participant
    assert await service.any_admin() is False


async def test_ensure_admin_validates_the_password_of_a_new_admin(
    service: AccountService,
) -> None:
    with pytest.raises(InvalidInput):
        await service.ensure_admin("admin", "weak")
    assert await service.any_admin() is False


async def test_any_admin_reads_past_the_first_page_and_ignores_disabled_admins(
    store: AccountStore,
) -> None:
    for n in range(250):
        await store.create_user(User(f"user{n:03}", "U", Role.manager, n), "$argon2id$stand-in")
    await store.create_user(User("boss", "B", Role.admin, 1_000, disabled=True), "$stand-in")
    assert await store.any_admin() is False

    await store.create_user(User("chief", "C", Role.admin, 2_000), "$argon2id$stand-in")
    assert await store.any_admin() is True


# -- passwords at rest -------------------------------------------------------------------


async def test_neither_password_nor_token_is_stored(store: AccountStore, redis: Redis) -> None:
    service = AccountService(store, idle_seconds=IDLE)  # the library's own parameters
    await service.create_user("alice", PASSWORD, Role.admin)
    _, token, session = await service.login("alice", PASSWORD)

    found = await store.get_user("alice")
    assert found is not None
    password_hash = found[1]
    assert password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")

    stored = await everything_stored(redis)
    assert password_hash in stored  # the scan does see the account
    assert session.csrf_secret in stored  # and the session
    assert not [text for text in stored if PASSWORD in text or token in text]
    patterns = KEYS.patterns()
    keys = [key async for key in redis.scan_iter()]
    assert len(keys) == 3
    assert all(any(p.fullmatch(key) for p in patterns) for key in keys)


async def test_hash_with_other_parameters_is_upgraded_at_login(
    store: AccountStore, hasher: CountingHasher
) -> None:
    await AccountService(store, IDLE, hasher=hasher).create_user("alice", PASSWORD)
    old = await store.get_user("alice")
    assert old is not None
    assert "$m=1024,t=1,p=1$" in old[1]

    stronger = CountingHasher(time_cost=2, memory_cost=2048)
    await AccountService(store, IDLE, hasher=stronger).login("alice", PASSWORD)

    new = await store.get_user("alice")
    assert new is not None
    assert "$m=2048,t=2,p=1$" in new[1]
    assert stronger.verify(new[1], PASSWORD)
    assert not stronger.check_needs_rehash(new[1])


async def test_password_upgrade_does_not_undo_a_password_change(store: AccountStore) -> None:
    await store.create_user(User("alice", "Alice", Role.participant, 1), "$argon2id$first")
    await store.set_password_hash("alice", "$argon2id$changed")

    await store.set_password_hash("alice", "$argon2id$upgraded", replaces="$argon2id$first")

    found = await store.get_user("alice")
    assert found is not None
    assert found[1] == "$argon2id$changed"


async def test_setting_the_password_of_an_unknown_user_creates_nothing(
    store: AccountStore, redis: Redis
) -> None:
    with pytest.raises(NotFound):
        await store.set_password_hash("nobody", "$argon2id$x")
    assert await redis.dbsize() == 0


# -- sessions ----------------------------------------------------------------------------


async def test_login_starts_a_session_that_reads_back(
    service: AccountService, redis: Redis
) -> None:
    await service.create_user("Alice", PASSWORD)

    user, token, session = await service.login("alice", PASSWORD)

    assert len(token) == 43
    assert session.username == "alice"
    assert len(session.csrf_secret) == 43
    assert session.csrf_secret != token
    assert await service.session_user(token) == (user, session)
    assert 0 < await redis.ttl(session_key(token)) <= IDLE


async def test_using_a_session_renews_its_idle_timeout(
    service: AccountService, redis: Redis
) -> None:
    await service.create_user("alice", PASSWORD)
    _, token, _ = await service.login("alice", PASSWORD)
    await redis.expire(session_key(token), 5)

    assert await service.session_user(token) is not None

    assert IDLE - 2 <= await redis.ttl(session_key(token)) <= IDLE


async def test_logout_ends_the_session(service: AccountService, redis: Redis) -> None:
    await service.create_user("alice", PASSWORD)
    _, token, _ = await service.login("alice", PASSWORD)
    user, other_token, other = await service.login("alice", PASSWORD)

    await service.logout(token)

    assert await service.session_user(token) is None
    assert await redis.exists(session_key(token)) == 0
    await service.logout(token)  # twice is harmless
    assert await service.session_user(other_token) == (user, other)  # others live on


async def test_session_ends_at_its_absolute_lifetime(
    service: AccountService, store: AccountStore, redis: Redis
) -> None:
    await service.create_user("alice", PASSWORD)
    now = await store.now_ms()
    young, _ = await store.create_session("alice", IDLE, created_ms=now - 3_590_000)
    old, _ = await store.create_session("alice", IDLE, created_ms=now - 3_600_000)

    assert await service.session_user(young) is not None
    assert await service.session_user(old) is None
    assert await redis.exists(session_key(old)) == 0


async def test_session_of_a_removed_user_authorises_nothing(
    service: AccountService, redis: Redis
) -> None:
    await service.create_user("alice", PASSWORD)
    _, token, _ = await service.login("alice", PASSWORD)
    await redis.delete(KEYS.user("alice"))

    assert await service.session_user(token) is None
    assert await redis.exists(session_key(token)) == 0


MALFORMED_TOKENS = [
    "",
    "short",
    "a" * 42,
    "a" * 44,
    "a" * 42 + "!",
    "a" * 42 + "\u00e9",
    "../" + "a" * 40,
]


async def test_malformed_tokens_never_reach_the_store() -> None:
    # A client of a port nobody listens on, without retries: any store call would raise.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = Redis(host="127.0.0.1", port=port, decode_responses=True, retry=Retry(NoBackoff(), 0))
    store = AccountStore(dead, KEYS, SECRET)
    service = AccountService(store, idle_seconds=IDLE, hasher=CountingHasher())
    try:
        for token in MALFORMED_TOKENS:
            assert await store.get_session(token, IDLE, 3600) is None
            assert await service.session_user(token) is None
            await service.logout(token)
        with pytest.raises(StoreConnectionError):
            await store.get_session("a" * 43, IDLE, 3600)
    finally:
        await dead.aclose()


# -- changing passwords: the session epoch ---------------------------------------------------


async def test_a_password_change_ends_every_other_session(
    service: AccountService, store: AccountStore, redis: Redis
) -> None:
    await service.create_user("alice", PASSWORD)
    user, token, session = await service.login("alice", PASSWORD)
    _, other_token, _ = await service.login("alice", PASSWORD)

    renewed = await service.change_password(user, PASSWORD, "a new password", session_token=token)

    assert renewed is not None
    new_token, new_session = renewed
    assert new_token != token
    assert new_session.created_ms == session.created_ms  # the absolute lifetime still counts
    found = await service.session_user(new_token)
    assert found is not None
    assert found[0].session_epoch == new_session.epoch == 1
    for ended in (token, other_token):
        assert await service.session_user(ended) is None
        assert await redis.exists(session_key(ended)) == 0
    # A login that read the user before the change would carry the old epoch.
    late, _ = await store.create_session("alice", IDLE, epoch=0)
    assert await service.session_user(late) is None
    await service.authenticate("alice", "a new password")


async def test_a_wrong_current_password_changes_nothing(
    service: AccountService, hasher: CountingHasher, redis: Redis
) -> None:
    user = await service.create_user("alice", PASSWORD)
    _, token, _ = await service.login("alice", PASSWORD)
    before = await redis.hgetall(KEYS.user("alice"))
    hasher.verified = 0

    with pytest.raises(InvalidCredentials) as caught:
        await service.change_password(user, "not the password", "a new password")
    with pytest.raises(InvalidInput) as invalid:
        await service.change_password(user, PASSWORD, "short", confirmation="short")

    assert caught.value.detail == "The current password is wrong."
    assert set(invalid.value.errors) == {"new_password"}
    assert hasher.verified == 1  # the rules are checked before any argon2 work
    assert await redis.hgetall(KEYS.user("alice")) == before
    assert await service.session_user(token) is not None


async def test_two_password_changes_at_once_make_one_change(service: AccountService) -> None:
    user = await service.create_user("alice", PASSWORD)
    new_passwords = [f"new password {n}" for n in range(4)]

    results = await asyncio.gather(
        *(service.change_password(user, PASSWORD, new) for new in new_passwords),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, InvalidCredentials)]
    assert len(refused) == 3
    winner = new_passwords[[r is None for r in results].index(True)]
    assert (await service.authenticate("alice", winner)).session_epoch == 1


# -- administration ------------------------------------------------------------------------


async def test_admins_demoting_each_other_at_once_leave_an_admin(
    service: AccountService, store: AccountStore
) -> None:
    for round_ in range(10):
        names = (f"ann{round_}", f"bob{round_}")
        admins = [User(name, name, Role.admin, round_) for name in names]
        for admin in admins:
            await store.create_user(admin, "$argon2id$stand-in")
        results = await asyncio.gather(
            service.update_user(admins[0], names[1], role=Role.manager),
            service.update_user(admins[1], names[0], disabled=True),
            return_exceptions=True,
        )
        assert all(isinstance(r, User | LastAdmin) for r in results), results
        assert any(isinstance(r, LastAdmin) for r in results)
        assert await store.any_admin()
        for admin in admins:  # the next round starts from no admin at all
            await store.update_user(admin.username, role=Role.participant)


async def test_searching_reads_past_the_first_thousand_names(
    service: AccountService, store: AccountStore
) -> None:
    for n in range(1_050):
        await store.create_user(User(f"u{n:04}", "U", Role.participant, n), "$argon2id$stand-in")

    page = await service.list_users(ROOT, "U104", limit=3)

    assert [user.username for user in page.users] == ["u1040", "u1041", "u1042"]
    assert page.next_offset == 3
    rest = await service.list_users(ROOT, "u104", offset=9)
    assert ([user.username for user in rest.users], rest.next_offset) == (["u1049"], None)
