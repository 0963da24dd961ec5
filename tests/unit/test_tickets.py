"""Raffle tickets: the keyed permutation of ticket numbers, and verification codes.

The slow ``reference_*`` functions restate the specification (docs/fairness.md, "Raffle
ticket numbers") with the standard library's HMAC; the fast implementation must agree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairdraw.domain.errors import InvalidInput
from fairdraw.domain.tickets import (
    CODE_BYTES,
    MAX_TICKETS,
    TicketPermutation,
    claim_index,
    code_hash,
    code_matches,
    format_code,
    new_code,
    new_permutation_key,
    parse_code,
    ticket_number,
)

# -- the specification, restated ----------------------------------------------------------

ROUNDS = 10


def reference_half_bits(size: int) -> int:
    h = 1
    while 4**h < size:
        h += 1
    return h


def reference_round(key: bytes, r: int, x: int, h: int) -> int:
    mac = hmac.digest(key, r.to_bytes(1, "big") + x.to_bytes(4, "big"), "sha256")
    return int.from_bytes(mac[:4], "big") % (1 << h)


def reference_encrypt(key: bytes, v: int, h: int) -> int:
    left, right = v >> h, v % (1 << h)
    for r in range(ROUNDS):
        left, right = right, left ^ reference_round(key, r, right, h)
    return (left << h) + right


def reference_decrypt(key: bytes, v: int, h: int) -> int:
    left, right = v >> h, v % (1 << h)
    for r in reversed(range(ROUNDS)):
        left, right = right ^ reference_round(key, r, left, h), left
    return (left << h) + right


def reference_forward(key: bytes, size: int, k: int) -> tuple[int, int]:
    """``(perm(k), passes of E)``."""
    h = reference_half_bits(size)
    v, passes = reference_encrypt(key, k, h), 1
    while v >= size:
        v, passes = reference_encrypt(key, v, h), passes + 1
    return v, passes


def reference_inverse(key: bytes, size: int, v: int) -> int:
    h = reference_half_bits(size)
    k = reference_decrypt(key, v, h)
    while k >= size:
        k = reference_decrypt(key, k, h)
    return k


# -- the published test vectors (docs/fairness.md, "Raffle ticket numbers") ----------------

VECTOR_KEY = bytes(range(32))
VECTOR_TICKETS = {
    1: [1],
    2: [1, 2],
    3: [1, 3, 2],
    100: [100, 86, 54, 35, 78, 56, 1, 60, 88, 83],
    10_000_003: [2374485, 9769649, 9844695, 2057495, 8664480],
    MAX_TICKETS: [787562068, 386918540, 948438693, 898176175, 729883163],
}
VECTOR_CODE_BYTES = bytes(range(16))
VECTOR_CODE = "AAAQE-AYEAU-DAOCA-JBIFQ-YDIOB4"
VECTOR_SECRET = bytes(32)
VECTOR_CODE_HASH = "d926952ca8b7ec4a95941d1ada3a5203ceff8cceee34f574d23909eb314c40c0"


def test_vector_round_function() -> None:
    mac = hmac.digest(VECTOR_KEY, b"\x00\x00\x00\x00\x00", "sha256")
    assert mac.hex() == "879447e2ee1b716a0174325fe333f4de263d4f09dceba3893c7a0c236e88c561"
    assert reference_round(VECTOR_KEY, 0, 0, 15) == 0x47E2


@pytest.mark.parametrize(("size", "tickets"), sorted(VECTOR_TICKETS.items()))
def test_vector_tickets(size: int, tickets: list[int]) -> None:
    perm = TicketPermutation(VECTOR_KEY, size)
    assert [ticket_number(perm, k) for k in range(len(tickets))] == tickets
    assert [1 + reference_forward(VECTOR_KEY, size, k)[0] for k in range(len(tickets))] == tickets
    assert [claim_index(perm, n) for n in tickets] == list(range(len(tickets)))


def ticket_section() -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "fairness.md").read_text()
    return text.split("\n## Raffle ticket numbers\n", 1)[1]


def test_documented_vectors_are_these() -> None:
    table = ticket_section().split("### Ticket test vectors", 1)[1]
    rows = re.findall(r"^\| ([\d ]+) \| (\d+) \| ([\d, ]+) \|$", table, flags=re.MULTILINE)
    documented = {
        int(n.replace(" ", "")): [int(t) for t in tickets.split(", ")] for n, _, tickets in rows
    }
    assert documented == VECTOR_TICKETS
    assert {int(n.replace(" ", "")): int(h) for n, h, _ in rows} == {
        size: reference_half_bits(size) for size in VECTOR_TICKETS
    }
    assert VECTOR_CODE in table
    assert VECTOR_CODE_HASH in table


def test_documented_sketch_agrees() -> None:
    sketch = ticket_section().split("### Ticket reference sketch", 1)[1]
    source = sketch.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(source, namespace)  # noqa: S102 (our own documentation, run to keep it true)
    perm = namespace["perm"]
    assert callable(perm)
    sketch_perm: Callable[..., int] = perm
    for size in (1, 2, 5, 100, 4097, MAX_TICKETS):
        implementation = TicketPermutation(VECTOR_KEY, size)
        for k in {0, size // 2, size - 1}:
            value = implementation.forward(k)
            assert sketch_perm(VECTOR_KEY, size, k) == value
            assert sketch_perm(VECTOR_KEY, size, value, inverse=True) == k


def test_vector_code() -> None:
    assert format_code(VECTOR_CODE_BYTES) == VECTOR_CODE
    assert parse_code(VECTOR_CODE) == VECTOR_CODE_BYTES
    assert code_hash(VECTOR_SECRET, VECTOR_CODE_BYTES) == VECTOR_CODE_HASH


# -- the permutation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "half_bits"),
    [(1, 1), (2, 1), (4, 1), (5, 2), (16, 2), (17, 3), (2**28, 14), (2**28 + 1, 15)],
)
def test_half_bits(size: int, half_bits: int) -> None:
    assert reference_half_bits(size) == half_bits
    assert reference_half_bits(MAX_TICKETS) == 15


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 17, 1000, 2**28, 2**28 + 1, MAX_TICKETS])
@pytest.mark.parametrize("key_length", [16, 32, 64, 65, 200])
def test_agrees_with_the_specification(size: int, key_length: int) -> None:
    key = hashlib.sha512(f"{size}/{key_length}".encode()).digest() * 4
    key = key[:key_length]
    perm = TicketPermutation(key, size)
    for k in sorted({0, size - 1, size // 2, size // 3, (size * 7) // 11}):
        value = reference_forward(key, size, k)[0]
        assert perm.forward(k) == value
        assert perm.inverse(value) == k
        assert reference_inverse(key, size, value) == k


def test_bijection_for_every_size_up_to_300() -> None:
    key = new_permutation_key()
    for size in range(1, 301):
        perm = TicketPermutation(key, size)
        values = [perm.forward(k) for k in range(size)]
        assert sorted(values) == list(range(size)), size
        assert [perm.inverse(v) for v in values] == list(range(size)), size


@pytest.mark.parametrize(
    "size",
    [1, 2, 3, 4, 7, 8, 16, 31, 32, 127, 128, 1000, 4096, 65536, 65537, 65521],
)
def test_bijection_over_the_whole_range(size: int) -> None:
    perm = TicketPermutation(new_permutation_key(), size)
    forward, inverse = perm.forward, perm.inverse
    # Above 100,000 the inverse is checked on every 10th value, to keep the suite quick.
    stride = 1 if size <= 100_000 else 10
    seen = bytearray(size)
    for k in range(size):
        value = forward(k)
        assert not seen[value], f"{value} reached twice"
        seen[value] = 1
        if k % stride == 0:
            assert inverse(value) == k
    assert seen.count(0) == 0


@st.composite
def size_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(min_value=1, max_value=MAX_TICKETS))
    return size, draw(st.integers(min_value=0, max_value=size - 1))


@given(key=st.binary(min_size=16, max_size=80), case=size_and_index())
def test_round_trip_and_range(key: bytes, case: tuple[int, int]) -> None:
    size, x = case
    perm = TicketPermutation(key, size)
    value = perm.forward(x)
    assert 0 <= value < size
    assert perm.inverse(value) == x
    index = perm.inverse(x)
    assert 0 <= index < size
    assert perm.forward(index) == x


def test_cycle_walking_averages_under_four_passes() -> None:
    # 257 needs h = 5: 1024 points for 257 tickets, the worst ratio below 4.
    size = 257
    passes = [reference_forward(VECTOR_KEY, size, k)[1] for k in range(size)]
    assert sum(passes) <= 4**5
    assert sum(passes) / size < 4


def test_the_same_key_gives_the_same_order() -> None:
    key = new_permutation_key()
    first, second = TicketPermutation(key, 1000), TicketPermutation(bytes(key), 1000)
    assert [first.forward(k) for k in range(1000)] == [second.forward(k) for k in range(1000)]


def test_different_keys_give_different_orders() -> None:
    orders = {
        tuple(ticket_number(TicketPermutation(new_permutation_key(), 100), k) for k in range(100))
        for _ in range(5)
    }
    assert len(orders) == 5


def test_a_hundred_claims_get_every_ticket_out_of_order() -> None:
    perm = TicketPermutation(new_permutation_key(), 100)
    tickets = [ticket_number(perm, k) for k in range(100)]
    assert sorted(tickets) == list(range(1, 101))
    assert tickets != list(range(1, 101))
    assert tickets != list(range(100, 0, -1))
    assert [claim_index(perm, n) for n in tickets] == list(range(100))


def test_first_ticket_is_spread_over_every_number() -> None:
    # Not a proof of uniformity, a guard against gross bias: 200 expected per number.
    keys = (hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(2000))
    counts = Counter(ticket_number(TicketPermutation(key, 10), 0) for key in keys)
    assert set(counts) == set(range(1, 11))
    assert min(counts.values()) >= 100, counts


def test_new_permutation_key() -> None:
    keys = {new_permutation_key() for _ in range(100)}
    assert len(keys) == 100
    assert {len(key) for key in keys} == {32}


@pytest.mark.parametrize("size", [0, -1, MAX_TICKETS + 1])
def test_size_out_of_range(size: int) -> None:
    with pytest.raises(ValueError, match="tickets"):
        TicketPermutation(VECTOR_KEY, size)


def test_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        TicketPermutation(bytes(15), 10)


@pytest.mark.parametrize("outside", [-1, 10, 11, 2**40])
def test_values_out_of_range(outside: int) -> None:
    perm = TicketPermutation(VECTOR_KEY, 10)
    with pytest.raises(ValueError, match="outside"):
        perm.forward(outside)
    with pytest.raises(ValueError, match="outside"):
        perm.inverse(outside)
    with pytest.raises(ValueError, match="outside"):
        ticket_number(perm, outside)


@pytest.mark.parametrize("number", [-1, 0, 11])
def test_ticket_number_out_of_range(number: int) -> None:
    with pytest.raises(ValueError, match=r"outside 1\.\.10"):
        claim_index(TicketPermutation(VECTOR_KEY, 10), number)


def test_size_is_readable() -> None:
    assert TicketPermutation(VECTOR_KEY, 10).size == 10


# -- verification codes ---------------------------------------------------------------------

CODE_SHAPE = re.compile(r"[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}[AEIMQUY4]")


def test_new_code_shape() -> None:
    for _ in range(100):
        assert CODE_SHAPE.fullmatch(new_code())


@given(st.binary(min_size=CODE_BYTES, max_size=CODE_BYTES))
def test_format_is_rfc4648_base32_grouped(code: bytes) -> None:
    text = format_code(code)
    plain = base64.b32encode(code).decode().rstrip("=")
    assert text.replace("-", "") == plain
    assert [len(group) for group in text.split("-")] == [5, 5, 5, 5, 6]
    assert parse_code(text) == code


def test_code_round_trips_however_it_is_typed() -> None:
    code = new_code()
    expected = parse_code(code)
    assert len(expected) == CODE_BYTES
    assert format_code(expected) == code
    assert parse_code(code.lower()) == expected
    assert parse_code(code.replace("-", "")) == expected
    assert parse_code(code.replace("-", " ")) == expected
    assert parse_code(f"  {code.lower().replace('-', '')}\n") == expected
    assert parse_code(" ".join(code.replace("-", ""))) == expected
    assert parse_code(code.swapcase()) == expected


def test_confusable_digits_read_as_letters() -> None:
    assert set("OIB") <= set(VECTOR_CODE)
    typed = VECTOR_CODE.replace("O", "0").replace("I", "1").replace("B", "8")
    assert parse_code(typed) == VECTOR_CODE_BYTES
    assert parse_code(typed.lower()) == VECTOR_CODE_BYTES


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "26 letters and digits"),
        ("- -", "26 letters and digits"),
        (VECTOR_CODE[:-1], "26 letters and digits"),
        (VECTOR_CODE + "A", "26 letters and digits"),
        (VECTOR_CODE.replace("-", "") * 2, "26 letters and digits"),
        (VECTOR_CODE + "======", "only the letters A-Z and the digits 2-7"),
        (VECTOR_CODE.replace("Q", "9"), "only the letters A-Z and the digits 2-7"),
        (VECTOR_CODE.replace("-", "_"), "only the letters A-Z and the digits 2-7"),
        (VECTOR_CODE.replace("A", "\u00c4", 1), "only the letters A-Z and the digits 2-7"),
        # "ß".upper() is "SS": only ASCII letters count, case mapping cannot add characters.
        (VECTOR_CODE[:-2] + "\u00df", "only the letters A-Z and the digits 2-7"),
        (VECTOR_CODE[:-1] + "B", "last character"),
        (VECTOR_CODE[:-1] + "7", "last character"),
        (" " * 100 + VECTOR_CODE, "26 letters and digits"),
    ],
)
def test_parse_code_refuses(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_code(text)
    assert list(caught.value.errors) == ["code"]
    assert message in caught.value.errors["code"]


def test_codes_are_distinct() -> None:
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert len({parse_code(code) for code in codes}) == 1000


def test_code_matches() -> None:
    secret = b"server secret for the tests"
    code, other = parse_code(new_code()), parse_code(new_code())
    stored = code_hash(secret, code)
    assert code_matches(secret, code, stored)
    assert not code_matches(secret, other, stored)
    assert not code_matches(b"another server secret", code, stored)
    assert not code_matches(secret, code, stored[:-1])
    assert not code_matches(secret, code, "\u00e9" * 64)


def test_hash_is_not_the_code() -> None:
    code = parse_code(new_code())
    stored = code_hash(VECTOR_SECRET, code)
    assert re.fullmatch(r"[0-9a-f]{64}", stored)
    assert stored == hmac.new(VECTOR_SECRET, code, hashlib.sha256).hexdigest()
    assert code.hex() not in stored
    assert format_code(code).replace("-", "") not in stored.upper()


def test_code_hash_refuses_misuse() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        code_hash(b"", VECTOR_CODE_BYTES)
    with pytest.raises(ValueError, match="16 bytes"):
        code_hash(VECTOR_SECRET, VECTOR_CODE.encode())
    with pytest.raises(ValueError, match="16 bytes"):
        format_code(bytes(15))
