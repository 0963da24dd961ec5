"""Reading an imported list: what a valid CSV file gives, and every problem, by row."""

from __future__ import annotations

import hashlib

import pytest

from fairdraw.domain.imports import (
    NAME_MAX,
    PROBLEMS_SHOWN,
    Duplicates,
    ImportOptions,
    ListRejected,
    RowProblem,
    header_columns,
    list_identity,
    read_list,
    sniff_delimiter,
)

LIMITS = {"max_rows": 1000, "max_bytes": 100_000}
DEFAULT = ImportOptions()


def problems(data: bytes, options: ImportOptions = DEFAULT, **limits: int) -> list[RowProblem]:
    with pytest.raises(ListRejected) as refused:
        read_list(data, options, **(LIMITS | limits))
    assert refused.value.extra["problem_count"] >= len(refused.value.problems)
    return list(refused.value.problems)


def test_a_valid_file_gives_its_names_in_order_with_its_hash() -> None:
    data = b'\xef\xbb\xbfName;E-mail\r\n Ada ;ada@example.org\r\n\r\n"Hopper; Grace";g@x\r\n'
    listed = read_list(data, ImportOptions(name_column="name"), **LIMITS)
    assert listed.names == ["Ada", "Hopper; Grace"]
    assert (listed.name_column, listed.dedupe_column, listed.delimiter) == ("Name", None, ";")
    assert listed.sha256 == hashlib.sha256(data).hexdigest()
    assert (listed.skipped, listed.skipped_count) == ((), 0)


def test_a_file_of_one_column_needs_no_column_and_a_delimiter_may_be_given() -> None:
    assert read_list(b"who\nZo\xc3\xab\n", ImportOptions(), **LIMITS).names == ["Zoë"]
    tabbed = read_list(
        b"a,b\tc\nx,y\tz\n", ImportOptions(name_column="c", delimiter="\t"), **LIMITS
    )
    assert (tabbed.names, tabbed.name_column) == (["z"], "c")


def test_every_bad_row_is_reported_with_its_row_and_column() -> None:
    data = (
        b"name,email\n"
        b"Ada,ada@example.org\n"
        b"  ,blank@example.org\n"
        b"Bob\n"
        b'"Two\nlines",two@example.org\n'
        b"Caf\xe9,cafe@example.org\n"
        b"Ada Again,ADA@example.org \n" + b"x" * (NAME_MAX + 1) + b",long@example.org\n"
        b"Dee,\n"
        b"a,b,c\n"
    )
    assert problems(data, ImportOptions(name_column="name", dedupe_column="email")) == [
        RowProblem(3, "name", "The name is empty"),
        RowProblem(4, None, "Has 1 field; the header has 2"),
        RowProblem(5, "name", "The name holds a tab, a line break or a control character"),
        RowProblem(7, "name", "Not valid UTF-8 text"),
        RowProblem(8, "email", "A duplicate of row 2"),
        RowProblem(9, "name", f"The name is longer than {NAME_MAX} characters"),
        RowProblem(10, "email", "The de-duplication value is empty"),
        RowProblem(11, None, "Has 3 fields; the header has 2"),
    ]


def test_duplicates_by_name_are_refused_or_skipped_keeping_the_first() -> None:
    data = b"name\nAda\nBob\nADA\nBob\nCy\n"
    assert problems(data) == [
        RowProblem(4, "name", "A duplicate of row 2"),
        RowProblem(5, "name", "A duplicate of row 3"),
    ]
    listed = read_list(data, ImportOptions(duplicates=Duplicates.skip), **LIMITS)
    assert listed.names == ["Ada", "Bob", "Cy"]
    assert listed.skipped == (
        RowProblem(4, "name", "A duplicate of row 2: skipped"),
        RowProblem(5, "name", "A duplicate of row 3: skipped"),
    )
    assert listed.skipped_count == 2


def test_the_header_must_name_the_columns_asked_for() -> None:
    assert problems(b"") == [
        RowProblem(1, None, "The file is empty: it needs a header row naming its columns")
    ]
    assert problems(b"name,email\nA,a\n") == [
        RowProblem(1, None, "Choose the name column; the columns are: name, email")
    ]
    assert problems(b"name,email\nA,a\n", ImportOptions(name_column="who")) == [
        RowProblem(1, "who", "There is no column 'who'; the columns are: name, email")
    ]
    assert problems(b"name,name\nA,a\n", ImportOptions(name_column="name")) == [
        RowProblem(1, "name", "More than one column is called 'name'")
    ]
    options = ImportOptions(name_column="name", dedupe_column="mail")
    assert problems(b"name,email\nA,a\n", options) == [
        RowProblem(1, "mail", "There is no column 'mail'; the columns are: name, email")
    ]
    assert problems(b"na\xffme\nA\n") == [RowProblem(1, "na\udcffme", "Not valid UTF-8 text")]
    assert problems(b"name\n\n") == [
        RowProblem(None, None, "The file has no rows of entrants below its header")
    ]


def test_broken_quoting_ends_the_reading_at_its_row() -> None:
    assert problems(b'name,x\nA,1\n"B"C,2\n', ImportOptions(name_column="name")) == [
        RowProblem(3, None, "The quoting is broken: ',' expected after '\"'")
    ]


def test_the_limits_on_rows_and_bytes() -> None:
    data = b"name\n" + b"".join(b"p%d\n" % i for i in range(5))
    assert problems(data, max_rows=3) == [RowProblem(5, None, "More than 3 rows of entrants")]
    assert problems(data, max_bytes=10) == [
        RowProblem(None, None, f"The file has {len(data)} bytes; at most 10")
    ]


def test_only_the_first_problems_are_listed_and_all_are_counted() -> None:
    data = b"name\n" + b"\n".join(b" " for _ in range(PROBLEMS_SHOWN + 20)) + b"\n"
    with pytest.raises(ListRejected) as refused:
        read_list(data, ImportOptions(), **LIMITS)
    error = refused.value
    assert len(error.problems) == PROBLEMS_SHOWN
    assert error.extra["problem_count"] == PROBLEMS_SHOWN + 20
    assert error.errors == {"file": f"The file has {PROBLEMS_SHOWN + 20} problems"}
    assert error.extra["problems"][0] == {
        "row": 2,
        "column": "name",
        "problem": "The name is empty",
    }


def test_delimiters_columns_and_identities() -> None:
    assert [sniff_delimiter(line) for line in ("a,b", "a;b;c,d", "a\tb", "plain")] == [
        ",",
        ";",
        "\t",
        ",",
    ]
    assert header_columns(b'\xef\xbb\xbf name ;"e;mail"\nx;y\n') == ["name", "e;mail"]
    assert list_identity("Ada Lovelace") == "list:Ada Lovelace"
