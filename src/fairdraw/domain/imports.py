"""Imported lists: a giveaway whose entrants are the rows of an uploaded CSV file.

The file is read whole and checked before anything is stored; every problem is reported
with the row it is on, so the organiser can fix the file in one go. Rows are numbered as
a spreadsheet or a text editor shows them: the header is row 1, and a row is numbered by
the line it starts on (a quoted field may span lines).

What a valid file is:

- UTF-8, with or without a byte order mark; fields separated by commas, semicolons or
  tabs (the header line's most frequent one, unless the delimiter is given); quoting as
  RFC 4180 has it;
- a header row naming the columns; the name column is chosen by its header (a file of one
  column needs no choice);
- below it, one row per entrant with as many fields as the header; blank lines are
  skipped;
- each name non-empty once trimmed, at most :data:`NAME_MAX` characters, without tabs,
  line breaks or other control characters;
- no two rows with the same de-duplication value (the chosen column's, or the name's),
  compared trimmed and case-folded; with :attr:`Duplicates.skip` the first such row counts
  and the others are reported as skipped;
- at most ``max_rows`` entrants and ``max_bytes`` bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fairdraw.domain.errors import InvalidInput
from fairdraw.i18n import N_, Message

# Longest name, in characters: a person's or a team's name, with room to spare.
NAME_MAX = 200
# Row problems a refusal lists; the total count is given besides.
PROBLEMS_SHOWN = 100
# Delimiters a file may use, as the API and the form name them.
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t"}
# Identity of an imported row's entry: this prefix and the row's name.
LIST_PREFIX = "list:"
_BOM = b"\xef\xbb\xbf"
# Control characters (Unicode category Cc): tabs and line breaks among them.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# What decoding with "surrogateescape" makes of bytes that are not UTF-8.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


class Duplicates(StrEnum):
    """What to do with a row whose de-duplication value an earlier row has."""

    refuse = "refuse"
    skip = "skip"


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file: which column is the name, which (if any) tells duplicates
    apart, what to do with duplicates, and the delimiter (None: from the header line)."""

    name_column: str | None = None
    dedupe_column: str | None = None
    duplicates: Duplicates = Duplicates.refuse
    delimiter: str | None = None


# The problem of a file with several columns and none chosen, by the column's purpose.
_CHOOSE_COLUMN = {
    "name": N_("Choose the name column; the columns are: %(columns)s"),
    "de-duplication": N_("Choose the de-duplication column; the columns are: %(columns)s"),
}


@dataclass(frozen=True)
class RowProblem:
    """One problem of a file: its row (None for the whole file), its column's header
    (None for the whole row) and what is wrong."""

    row: int | None
    column: str | None
    problem: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "problem": self.problem}


class ListRejected(InvalidInput):
    """A file with problems: the first :data:`PROBLEMS_SHOWN` and how many in all."""

    def __init__(self, problems: Sequence[RowProblem], count: int) -> None:
        # English and German use the singular for one alone.
        found = (
            N_("The file has %(count)s problem")
            if count == 1
            else N_("The file has %(count)s problems")
        )
        super().__init__({"file": Message(found, count=count)})
        self.problems = tuple(problems[:PROBLEMS_SHOWN])
        self.extra.update(problems=[p.to_json() for p in self.problems], problem_count=count)


@dataclass(frozen=True)
class ImportedList:
    """A valid file's entrants, in file order, and what the reading found."""

    names: list[str] = field(repr=False)
    # Hex SHA-256 of the file's bytes, as uploaded.
    sha256: str
    name_column: str
    dedupe_column: str | None
    delimiter: str
    # Rows left out as duplicates (Duplicates.skip): the first PROBLEMS_SHOWN, and all.
    skipped: tuple[RowProblem, ...] = ()
    skipped_count: int = 0


def list_identity(name: str) -> str:
    """The identity an imported row's entry is bound to (``"list:Ada Lovelace"``)."""
    return LIST_PREFIX + name


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_list(
    data: bytes, options: ImportOptions, *, max_rows: int, max_bytes: int
) -> ImportedList:
    """The entrants of a CSV file; ListRejected with every problem found otherwise."""
    if len(data) > max_bytes:
        raise ListRejected(
            [
                RowProblem(
                    None,
                    None,
                    Message(
                        N_("The file has %(size)s bytes; at most %(limit)s"),
                        size=len(data),
                        limit=max_bytes,
                    ),
                )
            ],
            1,
        )
    return _Reader(data, options, max_rows).read()


def sniff_delimiter(first_line: str) -> str:
    """The delimiter a header line uses most (comma on a tie or when it has none)."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts.values())
    return next(d for d in (",", ";", "\t") if counts[d] == best)


def header_columns(data: bytes, delimiter: str | None = None) -> list[str]:
    """The column names of a file's header row (empty if it has none), for a form that
    offers them as choices."""
    text = data.removeprefix(_BOM).decode("utf-8", "replace")
    line = text.split("\n", 1)[0]
    rows = csv.reader([line], delimiter=delimiter or sniff_delimiter(line))
    return [c.strip() for c in next(rows, [])]


class _Reader:
    """One pass over a file, collecting problems as it goes."""

    def __init__(self, data: bytes, options: ImportOptions, max_rows: int) -> None:
        self.data = data
        self.options = options
        self.max_rows = max_rows
        self.problems: list[RowProblem] = []
        self.count = 0
        self.skipped: list[RowProblem] = []
        self.skipped_count = 0
        # Whether any byte of the file is not UTF-8: only then are fields looked at.
        self.any_not_utf8 = False

    def problem(self, row: int | None, column: str | None, text: str) -> None:
        self.count += 1
        if len(self.problems) < PROBLEMS_SHOWN:
            self.problems.append(RowProblem(row, column, text))

    def reject(self) -> ListRejected:
        return ListRejected(self.problems, self.count)

    def read(self) -> ImportedList:
        text = self.data.removeprefix(_BOM).decode("utf-8", "surrogateescape")
        self.any_not_utf8 = _NOT_UTF8.search(text) is not None
        delimiter = self.options.delimiter or sniff_delimiter(text.split("\n", 1)[0])
        rows = self._records(text, delimiter)
        first = next(rows, None)
        if first is None:
            self.problem(1, None, N_("The file is empty: it needs a header row naming its columns"))
            raise self.reject()
        header = [c.strip() for c in first[1]]
        self._check_text(1, header, header)
        if self.count:
            raise self.reject()
        name_at = self._column(header, self.options.name_column, "name")
        dedupe_at = (
            self._column(header, self.options.dedupe_column, "de-duplication")
            if self.options.dedupe_column
            else None
        )
        if name_at is None or (self.options.dedupe_column and dedupe_at is None):
            raise self.reject()
        names = self._names(rows, header, name_at, name_at if dedupe_at is None else dedupe_at)
        if self.count:
            raise self.reject()
        if not names:
            self.problem(None, None, N_("The file has no rows of entrants below its header"))
            raise self.reject()
        return ImportedList(
            names=names,
            sha256=file_sha256(self.data),
            name_column=header[name_at],
            dedupe_column=header[dedupe_at] if dedupe_at is not None else None,
            delimiter=delimiter,
            skipped=tuple(self.skipped),
            skipped_count=self.skipped_count,
        )

    def _records(self, text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
        """(row, fields) of each non-blank record; a quoting error is a problem that ends
        the reading (nothing after it can be trusted)."""
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        start = 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                self.problem(
                    start, None, Message(N_("The quoting is broken: %(error)s"), error=str(error))
                )
                raise self.reject() from None
            if fields and fields != [""]:
                yield start, fields
            start = reader.line_num + 1

    def _column(self, header: list[str], wanted: str | None, what: str) -> int | None:
        """The index of the column ``wanted`` (a file of one column needs none); a problem
        naming the columns there are when it is missing or not unique."""
        columns = ", ".join(header)
        if wanted is None:
            if len(header) == 1:
                return 0
            self.problem(1, None, Message(_CHOOSE_COLUMN[what], columns=columns))
            return None
        found = [i for i, c in enumerate(header) if c == wanted.strip()]
        if not found:
            found = [i for i, c in enumerate(header) if c.casefold() == wanted.strip().casefold()]
        if len(found) == 1:
            return found[0]
        if found:
            self.problem(
                1,
                wanted,
                Message(N_("More than one column is called %(name)s"), name=repr(wanted)),
            )
        else:
            self.problem(
                1,
                wanted,
                Message(
                    N_("There is no column %(name)s; the columns are: %(columns)s"),
                    name=repr(wanted),
                    columns=columns,
                ),
            )
        return None

    def _check_text(self, row: int, header: list[str], fields: list[str]) -> bool:
        """False (and a problem) if a field holds bytes that are not UTF-8."""
        if not self.any_not_utf8:
            return True
        for column, value in zip(header, fields, strict=False):
            if _NOT_UTF8.search(value):
                self.problem(row, column or None, N_("Not valid UTF-8 text"))
                return False
        return True

    def _names(
        self,
        rows: Iterator[tuple[int, list[str]]],
        header: list[str],
        name_at: int,
        dedupe_at: int,
    ) -> list[str]:
        names: list[str] = []
        first_of: dict[str, int] = {}
        name_column, dedupe_column = header[name_at], header[dedupe_at]
        entrants = 0
        for row, fields in rows:
            if len(fields) != len(header):
                has = (
                    N_("Has %(count)s field; the header has %(header)s")
                    if len(fields) == 1
                    else N_("Has %(count)s fields; the header has %(header)s")
                )
                self.problem(row, None, Message(has, count=len(fields), header=len(header)))
                continue
            if not self._check_text(row, header, fields):
                continue
            entrants += 1
            if entrants > self.max_rows:
                self.problem(
                    row,
                    None,
                    Message(N_("More than %(limit)s rows of entrants"), limit=self.max_rows),
                )
                break
            name = fields[name_at].strip()
            if not self._name_ok(row, name_column, name):
                continue
            key = fields[dedupe_at].strip().casefold()
            if not key:
                self.problem(row, dedupe_column, N_("The de-duplication value is empty"))
                continue
            earlier = first_of.setdefault(key, row)
            if earlier != row:
                self._duplicate(row, dedupe_column, earlier)
                continue
            names.append(name)
        return names

    def _name_ok(self, row: int, column: str, name: str) -> bool:
        if not name:
            self.problem(row, column, N_("The name is empty"))
        elif len(name) > NAME_MAX:
            self.problem(
                row,
                column,
                Message(N_("The name is longer than %(limit)s characters"), limit=NAME_MAX),
            )
        elif _CONTROL.search(name):
            self.problem(
                row, column, N_("The name holds a tab, a line break or a control character")
            )
        else:
            return True
        return False

    def _duplicate(self, row: int, column: str, earlier: int) -> None:
        if self.options.duplicates is Duplicates.refuse:
            self.problem(row, column, Message(N_("A duplicate of row %(row)s"), row=earlier))
            return
        self.skipped_count += 1
        if len(self.skipped) < PROBLEMS_SHOWN:
            skipped = Message(N_("A duplicate of row %(row)s: skipped"), row=earlier)
            self.skipped.append(RowProblem(row, column, skipped))
