"""Importing people and offending events from partner systems' CSV files.

All or nothing: the whole file is read and every row checked before anything is
written. One bad row and nothing is imported; the result lists every problem by
row, column and reason. A record is one line, and every line of data must come out
as a row imported, unchanged, repeated or with a problem: a quote left open cannot
swallow rows unseen. Rows are keyed, so importing the same file again changes
nothing: a person by PNC ID, an event by its source agency and that agency's
reference (in any case). People imported without a programme episode join the
known-offender pool that selection scores. The formats are described in
docs/import-formats.md.

A police extract can hold 100,000 events, so the checks are set-based: reference
data and the people and events a file names are loaded with a few queries, rows
are checked in Python with the rules of the models' `clean()` (dates by
offenders.dates, text by the models' max_length: the record's rules, not copies),
and the writes are bulk inserts in one transaction with one audit row.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import F, Lookup, Q
from django.db.models.functions import Upper
from django.db.models.lookups import In

from access import audit
from access.models import AuditAction
from access.policy import Actor, RecordKind, Scope, Write, grant

from ..models import Offender, OffendingEvent

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    ImportSource = bytes | bytearray | memoryview | IO[bytes] | UploadedFile
MB = 1024 * 1024
# The web upload's limit; the command line may pass a larger one (max_bytes).
MAX_IMPORT_BYTES = 20 * MB
BATCH_SIZE = 5000
# Values are shown back in the list of problems: long garbage is cut short.
MAX_VALUE_SHOWN = 80

OFFENDERS = "offenders"
EVENTS = "events"

T = TypeVar("T")


def _max_length(model: type[models.Model], name: str) -> int:
    """A text field's limit, read from the model so the import and the record agree."""
    limit = getattr(model._meta.get_field(name), "max_length", None)
    if not isinstance(limit, int):
        raise TypeError(f"{model.__name__}.{name} has no max_length")
    return limit


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    description: str


OFFENDER_COLUMNS = (
    Column("pnc_id", True, "PNC ID, like 2004/0046583U or 04/46583U: the key"),
    Column("first_name", True, "First name"),
    Column("last_name", True, "Last name"),
    Column("date_of_birth", True, "Date of birth, as YYYY-MM-DD or DD/MM/YYYY"),
    Column("sex", False, "M, F, X (other) or U (not known)"),
    Column("ethnicity", False, "asian, black, mixed, white, other or not_stated"),
    Column("cro_number", False, "CRO number, like 123456/08H"),
    Column("prison_number", False, "Prison number, like A1234BC"),
    Column("crn", False, "Probation CRN, like X123456"),
    Column(
        "local_ref",
        False,
        f"Local reference, up to {_max_length(Offender, 'local_ref'):,} characters",
    ),
    Column(
        "strands",
        False,
        "catch_convict, rehabilitate_resettle, prevent_deter; several separated by ;",
    ),
)
EVENT_COLUMNS = (
    Column("source", True, "The name of the agency that recorded it, as it is in PPO Case"),
    Column("source_reference", True, "That agency's reference for it: with source, the key"),
    Column("pnc_id", True, "The person's PNC ID: they must already be on PPO Case"),
    Column("event_kind", True, "arrest, intelligence, charge, conviction, caution, breach, recall"),
    Column(
        "offence_category",
        True,
        "The offence category; may be empty for intelligence, breach, recall",
    ),
    Column("date_committed", True, "When it happened, as YYYY-MM-DD or DD/MM/YYYY"),
    Column("date_recorded", True, "When the agency recorded it, as YYYY-MM-DD or DD/MM/YYYY"),
    Column(
        "summary",
        False,
        f"A short description, up to {_max_length(OffendingEvent, 'summary'):,} characters",
    ),
)
COLUMNS = {OFFENDERS: OFFENDER_COLUMNS, EVENTS: EVENT_COLUMNS}
KIND_LABELS = {OFFENDERS: "people (offenders)", EVENTS: "offending events"}


@dataclass(frozen=True)
class RowProblem:
    """One problem in one cell. Rows count the header as row 1, as a spreadsheet does;
    no column means the whole row."""

    row: int
    column: str
    value: str
    problem: str


@dataclass
class ImportResult:
    kind: str
    filename: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    repeated: int = 0  # rows repeated word for word in the same file, counted once
    # Problems with the whole file (size, encoding, header): no row could be checked.
    file_problems: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_problems and not self.problems

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def rows_with_problems(self) -> int:
        return len({problem.row for problem in self.problems})

    @property
    def summary(self) -> str:
        text = (
            f"{plural(self.imported, 'row')} imported: {self.created:,} new, "
            f"{self.updated:,} updated, {self.unchanged:,} unchanged"
        )
        if self.repeated:
            text += f" ({plural(self.repeated, 'repeated row')} counted once)"
        return text

    def _fail(self, problems: Sequence[RowProblem] = (), file_problem: str = "") -> ImportResult:
        self.created = self.updated = self.unchanged = self.repeated = 0
        self.problems = sorted(problems, key=lambda p: p.row)
        if file_problem:
            self.file_problems.append(file_problem)
        return self


class FileProblem(Exception):
    """The whole file cannot be read: its size, encoding or header."""


class _OutsideScope(Exception):
    def __init__(self, problems: list[RowProblem]):
        super().__init__("outside scope")
        self.problems = problems


def plural(count: int, noun: str) -> str:
    """'1 row', '2 rows', '1,000 rows'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def describe_size(size: int) -> str:
    if size >= MB:
        return f"{math.ceil(size * 10 / MB) / 10:g} MB"
    return f"{math.ceil(size / 1024):,} KB"


def too_large_message(size: int | None, max_bytes: int = MAX_IMPORT_BYTES) -> str:
    what = f"The file is {describe_size(size)}" if size else "The file is too large"
    return f"{what}: the limit is {describe_size(max_bytes)}; split it into smaller files"


def can_use_import_page(actor: Actor) -> bool:
    """PPO managers and police: whole-area roles that may write people or offending.

    The page takes partner systems' extracts for the whole area; roles scoped to
    some people (a YOT worker) use the record's own forms.
    """
    return actor.scope is Scope.EVERYONE and (
        grant(actor, RecordKind.IDENTITY).write is not Write.NONE
        or grant(actor, RecordKind.OFFENDING).write is not Write.NONE
    )


# --- Reading the file -----------------------------------------------------------------

EMPTY_FILE = "The file is empty: export the records again, with the header row, and upload that"
SAVE_AS_CSV = 'save it as "CSV UTF-8 (comma delimited)" and upload it again'
_DELIMITERS = {";": "';'", "\t": "tabs", "|": "'|'"}


def _read_bytes(file: ImportSource, max_bytes: int) -> bytes:
    if isinstance(file, bytes | bytearray | memoryview):
        size: int | None = len(file)
    else:
        size = getattr(file, "size", None)
        if size is None:
            try:
                start = file.tell()
                size = file.seek(0, io.SEEK_END) - start
                file.seek(start)
            except (AttributeError, OSError, ValueError):
                size = None
    # Refused before reading, so an oversized file is never held in memory.
    if size is not None and size > max_bytes:
        raise FileProblem(too_large_message(size, max_bytes))
    if isinstance(file, bytes | bytearray | memoryview):
        return bytes(file)
    data = file.read(max_bytes + 1)
    if not isinstance(data, bytes):
        raise FileProblem("The file could not be read: upload it again")
    if len(data) > max_bytes:
        raise FileProblem(too_large_message(None, max_bytes))
    return data


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(f"The file is saved as UTF-16 (Unicode text): {SAVE_AS_CSV}")
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise FileProblem(f"The file is an Excel workbook, not a CSV file: {SAVE_AS_CSV}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FileProblem(
            f"The file is not saved as UTF-8 text (line {line:,} has a character that cannot "
            f"be read): {SAVE_AS_CSV}"
        ) from None
    if "\x00" in text:
        raise FileProblem(f"The file holds binary data, not CSV text: {SAVE_AS_CSV}")
    if not text.strip():
        raise FileProblem(EMPTY_FILE)
    # Windows (\r\n) and old Mac (\r) line endings read as one.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _column_name(raw: str) -> str:
    return re.sub(r"[\s\-]+", "_", raw.strip().strip("\ufeff").strip().lower())


@dataclass
class _Table:
    position: dict[str, int]  # column name -> index in a row
    rows: list[tuple[int, list[str]]]  # (row number, stripped cells)
    problems: list[RowProblem]
    # The lines after the header with something in them besides commas, quotes and
    # spaces, counted apart from the CSV reader: each must be accounted for.
    data_lines: int = 0


def _check_header(names: list[str], raw_first: str, kind: str) -> None:
    columns = COLUMNS[kind]
    known = {column.name for column in columns}
    if len([n for n in names if n]) == 1:
        for delimiter, words in _DELIMITERS.items():
            if delimiter in raw_first:
                raise FileProblem(
                    f"The file uses {words} between columns: save it as comma-separated (CSV)"
                )
    if not known.intersection(names):
        expected = ", ".join(column.name for column in columns)
        raise FileProblem(f"The first row must be the header row, naming the columns: {expected}")
    problems = []
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        problems.append(f"the header row names these columns twice: {', '.join(repeated)}")
    missing = [c.name for c in columns if c.required and c.name not in names]
    if missing:
        problems.append(f"the header row is missing these columns: {', '.join(missing)}")
    unknown = [n for n in names if n and n not in known]
    if unknown:
        other = EVENTS if kind == OFFENDERS else OFFENDERS
        if {c.name for c in COLUMNS[other] if c.required}.issubset(names):
            hint = f": this looks like a file of {KIND_LABELS[other]}, so choose that kind of file"
        else:
            hint = f". The columns are: {', '.join(c.name for c in columns)}"
        problems.append(
            f"the header row has columns this import does not use: {', '.join(unknown)}{hint}"
        )
    if problems:
        text = "; ".join(problems)
        raise FileProblem(text[0].upper() + text[1:])


# A value's double quotes explained as a person fixing the file in a spreadsheet or a
# text editor needs it: what breaks a record is a quote left open or text after one.
QUOTES_RULE = (
    'a double quote inside a value must be doubled ("") and a value that starts with a '
    'double quote must end with one on the same row, like "6"" knife found"'
)
# Nothing but commas, double quotes and spaces: a line the reader finds no value on.
_BLANK_LINE = re.compile(r'[\s,"]*')


def _bad_quote(line: str) -> tuple[int, str, bool] | None:
    """The first value on a line whose double quotes break it, as (its index, the value as
    written, whether its quote is left open); None if the quotes are right.

    Only for explaining what the CSV reader refused, in the file's own words: the reader
    (strict mode) alone decides what is read.
    """
    index, at = 0, 0
    while True:
        if line.startswith('"', at):
            close = line.find('"', at + 1)
            while close >= 0 and line.startswith('"', close + 1):  # "" is a quote inside
                close = line.find('"', close + 2)
            if close < 0:
                return index, line[at:], True
            after = close + 1
            if after < len(line) and line[after] != ",":
                comma = line.find(",", after)
                return index, line[at : None if comma < 0 else comma], False
            at = after
        else:
            comma = line.find(",", at)
            at = len(line) if comma < 0 else comma
        if at >= len(line):
            return None
        at, index = at + 1, index + 1


def _record_problem(
    lines: list[str], start: int, end: int, names: list[str], error: csv.Error | None
) -> RowProblem:
    """Why the record on lines start to end (counting the header as 1) cannot be imported:
    a record must be one line, and the reader refused it or it ran on over several."""
    found = _bad_quote(lines[start - 1])
    if found is None:  # not the quotes: a value over the reader's size limit
        message = f"This row cannot be read as CSV ({error}): check the file was saved as CSV"
        return RowProblem(start, "", "", message)
    index, value, left_open = found
    column = names[index] if index < len(names) and names[index] else f"column {index + 1}"
    if not left_open:
        message = f"This value has more after the double quote that ends it: {QUOTES_RULE}"
    elif end == start:
        message = f"This value starts with a double quote but does not end with one: {QUOTES_RULE}"
    else:
        swallowed = f"row {end:,}" if end == start + 1 else f"rows {start + 1:,} to {end:,}"
        message = (
            f"This value starts with a double quote that does not end on this row, so "
            f"{swallowed} would be read as part of it and not imported. Each row must be one "
            f"line: {QUOTES_RULE}; and a value cannot have a line break in it"
        )
    return RowProblem(start, column, _shown(value), message)


def _header_problem(lines: list[str], error: csv.Error | None) -> FileProblem:
    found = _bad_quote(lines[0])
    if found is None:
        return FileProblem(
            f"The header row cannot be read as CSV ({error}): check the file was saved as CSV"
        )
    return FileProblem(f"The header row cannot be read, at {_shown(found[1])}: {QUOTES_RULE}")


def _read_table(text: str, kind: str) -> _Table:
    # Records are one line each (docs/import-formats.md): a quote left open would
    # otherwise make the reader swallow the rows after it into one value, silently.
    # Strict mode refuses text after a closing quote ("abc"def) and a quote still open
    # at the end of the file; a record over several lines is refused here. Row numbers
    # are the reader's line numbers, so they stay the file's own lines whatever happens.
    lines = text.split("\n")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
    except csv.Error as error:
        raise _header_problem(lines, error) from None
    if reader.line_num > 1:
        raise _header_problem(lines, None)
    names = [_column_name(cell) for cell in header]
    _check_header(names, header[0] if header else "", kind)
    width = len(names)
    unnamed = [index for index, name in enumerate(names) if not name]
    rows: list[tuple[int, list[str]]] = []
    problems: list[RowProblem] = []
    start = 2  # the line the next record starts on
    while True:
        try:
            for row in reader:
                number, start = start, reader.line_num + 1
                if start != number + 1:
                    problems.append(_record_problem(lines, number, start - 1, names, None))
                    continue
                cells = list(map(str.strip, row))
                if not any(cells):
                    continue  # blank lines, and rows of empty cells as spreadsheets leave them
                if len(cells) != width:
                    message = (
                        f"This row has {len(cells)} values but the header row has {width} "
                        "columns: a value with a comma in it must be in double quotes"
                    )
                    problems.append(RowProblem(number, "", "", message))
                    continue
                for index in unnamed:
                    if cells[index]:
                        message = "This column has no name in the header row: name it or remove it"
                        column = f"column {index + 1}"
                        problems.append(RowProblem(number, column, _shown(cells[index]), message))
                rows.append((number, cells))
            break
        except csv.Error as error:
            # The reader starts afresh on the line after the one it refused.
            problems.append(_record_problem(lines, start, reader.line_num, names, error))
            start = reader.line_num + 1
    if not rows and not problems:
        raise FileProblem(
            "The file has a header row but no rows to import: check it is the right file"
        )
    position = {name: index for index, name in enumerate(names) if name}
    data_lines = sum(1 for line in lines[1:] if not _BLANK_LINE.fullmatch(line))
    return _Table(position=position, rows=rows, problems=problems, data_lines=data_lines)


def _unaccounted(table: _Table, reported: int) -> str:
    """A file problem if the rows reported are not the file's lines of data, else "".

    Whatever the reader makes of a file, every line of data must come out as a row
    imported, unchanged, repeated or with a problem: a row lost is refused, not skipped.
    """
    if reported == table.data_lines:
        return ""
    return (
        f"The file has {plural(table.data_lines, 'row')} of data after the header, but "
        f"{plural(reported, 'row')} could be read from them, so nothing has been imported: "
        f"check for a value with a double quote or a line break in it ({QUOTES_RULE})"
    )


def _shown(value: str) -> str:
    return value if len(value) <= MAX_VALUE_SHOWN else value[: MAX_VALUE_SHOWN - 1] + "…"


# --- Checking values ------------------------------------------------------------------

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
BAD_DATE = "Enter a real date as YYYY-MM-DD or DD/MM/YYYY, like 2025-06-01"


def _parse_date(text: str) -> dt.date | None:
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = match.groups()
    elif match := _UK_DATE.fullmatch(text):
        day, month, year = match.groups()
    else:
        return None
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


class _Memo(dict[str, T], Generic[T]):
    """One parser's answers by the exact text parsed: files repeat dates, PNCs and names."""

    def __init__(self, parse: Callable[[str], T]):
        super().__init__()
        self.parse = parse

    def __missing__(self, key: str) -> T:
        value = self[key] = self.parse(key)
        return value


def _or_error(fn: Callable[[str], str]) -> Callable[[str], str | ValidationError]:
    def parse(text: str) -> str | ValidationError:
        try:
            return fn(text)
        except ValidationError as error:
            return error

    return parse


def _choices(choices: Iterable[tuple[Any, Any]]) -> dict[str, str]:
    """Values and labels, case-insensitively, to the value."""
    lookup: dict[str, str] = {}
    for value, label in choices:
        lookup[str(label).lower()] = value
        lookup[str(value).lower()] = value
    return lookup


def _named(objects: Iterable[T], name: Callable[[T], str]) -> Callable[[str], T | None]:
    """Find by exact name, else ignoring case and spacing if that is unambiguous."""
    exact: dict[str, T] = {}
    loose: dict[str, list[T]] = {}
    for obj in objects:
        exact[name(obj)] = obj
        loose.setdefault(" ".join(name(obj).lower().split()), []).append(obj)

    def find(text: str) -> T | None:
        found = loose.get(" ".join(text.lower().split()), [])
        return exact.get(text) or (found[0] if len(found) == 1 else None)

    return find


def _pk_of(find: Callable[[str], Any]) -> Callable[[str], int | None]:
    def pk(text: str) -> int | None:
        found = find(text)
        return found.pk if found is not None else None

    return pk


def _suggest(text: str, names: Sequence[str]) -> str:
    lowered = {n.lower(): n for n in names}
    close = difflib.get_close_matches(text.lower(), list(lowered), n=1, cutoff=0.7)
    return f': did you mean "{lowered[close[0]]}"?' if close else ""


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    size = min(connection.features.max_query_params or 2000, 2000) - 10
    for start in range(0, len(values), size):
        yield values[start : start + size]


class _Row:
    """One row's problems as they are found."""

    __slots__ = ("number", "ok", "problems")

    def __init__(self, number: int, problems: list[RowProblem]):
        self.number = number
        self.problems = problems
        self.ok = True

    def problem(self, column: str, value: str, text: str) -> None:
        self.ok = False
        self.problems.append(RowProblem(self.number, column, _shown(value), text))

    def required(self, column: str, text: str, what: str) -> bool:
        if not text:
            self.problem(column, "", f"Enter {what}")
        return bool(text)

    def pnc(self, text: str, pncs: _Memo[str | ValidationError]) -> str | None:
        if not self.required("pnc_id", text, "the PNC ID"):
            return None
        pnc = pncs[text]
        if isinstance(pnc, ValidationError):
            self.problem("pnc_id", text, pnc.messages[0])
            return None
        return pnc

    def date(
        self,
        column: str,
        text: str,
        dates: _Memo[dt.date | None],
        what: str,
        rule: Callable[[dt.date], str | None],
    ) -> dt.date | None:
        """The date in `text`, or None with a problem: `rule` is offenders.dates' rule
        for this date (None when it is right), so an import and a form say the same."""
        if not self.required(column, text, what):
            return None
        day = dates[text]
        if day is None:
            self.problem(column, text, BAD_DATE)
            return None
        if (problem := rule(day)) is not None:
            self.problem(column, text, problem)
            return None
        return day

    def text(self, column: str, text: str, max_length: int) -> None:
        if len(text) > max_length:
            message = f"Must be {max_length:,} characters or fewer: this has {len(text):,}"
            self.problem(column, text, message)


def _load(file: ImportSource, max_bytes: int, kind: str) -> _Table:
    return _read_table(_decode(_read_bytes(file, max_bytes)), kind)


# --- People ---------------------------------------------------------------------------


CHANGED_MEANWHILE = (
    "Someone changed these records while the file was being checked, so nothing has been "
    "imported: upload the file again"
)


def _audit(
    actor: Actor,
    result: ImportResult,
    *,
    record_type: str,
    records: list[int],
    offenders: list[int],
) -> None:
    # One row per import. A run that changed nothing still matched the file against
    # the record, which is a consultation (LIST).
    if result.created:
        action = AuditAction.CREATE
    elif result.updated:
        action = AuditAction.UPDATE
    else:
        action = AuditAction.LIST
    audit.record(
        actor,
        action,
        record_type=record_type,
        records=records,
        offenders=offenders,
        detail={
            "import": result.filename,
            "kind": result.kind,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    )


class _AnyOf(Lookup):  # type: ignore[type-arg]
    """`column = ANY(%s)`, the values sent as one array (PostgreSQL).

    `__in` sends one parameter per value: 100,000 references would take 50 queries
    of 2,000 parameters, each composed and planned; this takes one.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*params, list(self.rhs)]


def _matching(field: str, values: Iterable[str]) -> Iterator[Q | Lookup]:  # type: ignore[type-arg]
    """Filters that together match `field` against all the values, a batch at a time."""
    ordered = sorted(set(values))
    if not ordered:
        return
    if connection.vendor == "postgresql":
        yield _AnyOf(F(field), ordered)
        return
    for chunk in _chunks(ordered):
        yield Q(**{f"{field}__in": chunk})


def _matching_any_case(field: str, upper: Iterable[str], exact: Iterable[str] = ()) -> Iterator[Q]:
    """Filters that together match UPPER(field), as the functional unique constraints on
    it do, against values already upper-cased, or `field` against `exact` values as
    given: one query on PostgreSQL, a batch at a time elsewhere."""
    upper, exact = sorted(set(upper)), sorted(set(exact))
    if not upper and not exact:
        return
    if connection.vendor == "postgresql":
        condition = Q(_AnyOf(Upper(field), upper))
        if exact:
            condition |= Q(_AnyOf(F(field), exact))
        yield condition
        return
    for chunk in _chunks(upper):
        yield Q(In(Upper(field), list(chunk)))
    for chunk in _chunks(exact):
        yield Q(**{f"{field}__in": chunk})
