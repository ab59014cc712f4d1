"""Importing people and offending events from partner systems' CSV files.

All or nothing: the whole file is read and every row checked before anything is
written. One bad row and nothing is imported; the result lists every problem by
row, column and reason. Rows are keyed, so importing the same file again changes
nothing: a person by PNC ID, an event by its source agency and that agency's
reference. People imported without a programme episode join the known-offender
pool that selection scores. The formats are described in docs/import-formats.md.

A police extract can hold 100,000 events, so the checks are set-based: reference
data and the people and events a file names are loaded with a few queries, rows
are checked in Python with the rules of the models' `clean()`, and the writes are
bulk inserts in one transaction with one audit row.
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
from operator import attrgetter
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Lookup, Max, Q
from django.utils import timezone

from access import audit
from access.errors import NotPermitted
from access.models import Agency, AuditAction
from access.policy import Actor, RecordKind, Scope, Write, as_actor, grant, people_q

from . import identifiers
from .models import Ethnicity, EventKind, OffenceCategory, Offender, OffendingEvent, Sex

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
    Column("local_ref", False, "Local reference, up to 40 characters"),
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
    Column("summary", False, "A short description"),
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


def _read_table(text: str, kind: str) -> _Table:
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    try:
        header = next(reader)
        number = 1
        names = [_column_name(cell) for cell in header]
        _check_header(names, header[0] if header else "", kind)
        width = len(names)
        unnamed = [index for index, name in enumerate(names) if not name]
        rows: list[tuple[int, list[str]]] = []
        problems: list[RowProblem] = []
        for number, row in enumerate(reader, start=2):
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
    except csv.Error as error:
        raise FileProblem(
            f"Row {number + 1:,} cannot be read as CSV ({error}): check the file was saved as CSV"
        ) from None
    if not rows and not problems:
        raise FileProblem(
            "The file has a header row but no rows to import: check it is the right file"
        )
    position = {name: index for index, name in enumerate(names) if name}
    return _Table(position=position, rows=rows, problems=problems)


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
        self, column: str, text: str, dates: _Memo[dt.date | None], today: dt.date, what: str
    ) -> dt.date | None:
        if not self.required(column, text, what):
            return None
        day = dates[text]
        if day is None:
            self.problem(column, text, BAD_DATE)
        elif day > today:
            self.problem(column, text, f"{what[0].upper()}{what[1:]} cannot be in the future")
            return None
        return day


def _load(file: ImportSource, max_bytes: int, kind: str) -> _Table:
    return _read_table(_decode(_read_bytes(file, max_bytes)), kind)


# --- People ---------------------------------------------------------------------------

_SEXES = _choices(Sex.choices)
_ETHNICITIES = _choices(Ethnicity.choices)
_MAX_LENGTH = {"first_name": 100, "last_name": 100, "local_ref": 40}
_IDENTIFIERS: dict[str, Callable[[str], str]] = {
    "cro_number": identifiers.normalise_cro,
    "prison_number": identifiers.normalise_prison_number,
    "crn": identifiers.normalise_crn,
}
# Offender.clean: born after 1 January 1900, and not in the future.
_EARLIEST_BIRTH = dt.date(1900, 1, 1)


def import_offenders(
    *,
    user: Any,
    file: ImportSource,
    filename: str = "",
    max_bytes: int = MAX_IMPORT_BYTES,
    as_of: dt.date | None = None,
) -> ImportResult:
    """Add or update people from a CSV file keyed by PNC ID, all or nothing.

    A new person has no programme episode, so joins the known-offender pool. An
    empty optional cell leaves the record's value alone: a partner system that
    does not know a person's CRN must not erase it.
    """
    actor = as_actor(user, as_of)
    if grant(actor, RecordKind.IDENTITY).write is Write.NONE:
        raise NotPermitted("Your role cannot add people to the record or change their details")
    result = ImportResult(kind=OFFENDERS, filename=filename)
    try:
        table = _load(file, max_bytes, OFFENDERS)
    except FileProblem as problem:
        return result._fail(file_problem=str(problem))
    problems, position = table.problems, table.position
    pncs = _Memo(_or_error(identifiers.normalise_pnc))
    dates = _Memo(_parse_date)
    normalised = {name: _Memo(_or_error(fn)) for name, fn in _IDENTIFIERS.items()}
    optional = [(name, position[name]) for name in _IDENTIFIERS if name in position]

    # Pass 1: each row on its own.
    parsed: list[tuple[int, str, dict[str, Any]]] = []
    for number, cells in table.rows:
        row = _Row(number, problems)
        pnc = row.pnc(cells[position["pnc_id"]], pncs)
        values: dict[str, Any] = {}
        for name in ("first_name", "last_name"):
            text = values[name] = cells[position[name]]
            required = row.required(name, text, f"the {name.replace('_', ' ')}")
            if required and len(text) > _MAX_LENGTH[name]:
                row.problem(name, text, f"Must be {_MAX_LENGTH[name]} characters or fewer")
        text = cells[position["date_of_birth"]]
        born = row.date("date_of_birth", text, dates, actor.as_of, "the date of birth")
        if born is not None and born < _EARLIEST_BIRTH:
            row.problem("date_of_birth", text, "The date of birth must be after 1 January 1900")
        values["date_of_birth"] = born
        for name, lookup, allowed in (
            ("sex", _SEXES, "M, F, X or U"),
            ("ethnicity", _ETHNICITIES, ", ".join(Ethnicity.values)),
        ):
            if name in position and (text := cells[position[name]]):
                values[name] = lookup.get(text.lower())
                if values[name] is None:
                    row.problem(name, text, f"Use one of {allowed}")
        for name, index in optional:
            if text := cells[index]:
                values[name] = normalised[name][text]
                if isinstance(values[name], ValidationError):
                    row.problem(name, text, values[name].messages[0])
        if "local_ref" in position and (text := cells[position["local_ref"]]):
            values["local_ref"] = text
            if len(text) > _MAX_LENGTH["local_ref"]:
                row.problem("local_ref", text, "Must be 40 characters or fewer")
        if row.ok and pnc is not None:
            values["pnc_id"] = pnc
            parsed.append((number, pnc, values))

    # Pass 2: against the record and the rest of the file.
    existing: dict[str | None, Offender] = {}
    writable: set[int] = set()
    for condition in _matching("pnc_id", {pnc for _, pnc, _ in parsed}):
        existing.update((o.pnc_id, o) for o in Offender.objects.filter(condition))
        in_scope = Offender.objects.filter(people_q(actor, write=True)).filter(condition)
        writable.update(in_scope.values_list("pk", flat=True))
    seen: dict[str, tuple[int, dict[str, Any]]] = {}
    to_create: list[tuple[int, Offender]] = []
    to_update: list[Offender] = []
    changed_fields: set[str] = set()
    matched: list[int] = []
    for number, pnc, values in parsed:
        if pnc in seen:
            first_row, first = seen[pnc]
            if values == first:
                result.repeated += 1
                continue
            differ = sorted(
                k for k in values.keys() | first.keys() if values.get(k) != first.get(k)
            )
            message = (
                f"This PNC ID is already on row {first_row:,} with different details "
                f"({', '.join(differ)}): keep one row per person"
            )
            problems.append(RowProblem(number, "pnc_id", pnc, message))
            continue
        seen[pnc] = (number, values)
        person = existing.get(pnc)
        if person is None:
            to_create.append((number, Offender(**values)))
        elif person.pk not in writable:
            message = (
                "This PNC ID belongs to a person outside the people you work with: ask the PPO "
                "manager to import this row"
            )
            problems.append(RowProblem(number, "pnc_id", pnc, message))
        else:
            matched.append(person.pk)
            changed = [name for name, value in values.items() if getattr(person, name) != value]
            for name in changed:
                setattr(person, name, values[name])
            changed_fields.update(changed)
            if changed:
                to_update.append(person)
            else:
                result.unchanged += 1
    if problems:
        return result._fail(problems)

    now = timezone.now()
    try:
        with transaction.atomic():
            created = Offender.objects.bulk_create([p for _, p in to_create], batch_size=BATCH_SIZE)
            created_ids = [person.pk for person in created]
            if created_ids and actor.scope is not Scope.EVERYONE:
                _refuse_outside_scope(actor, to_create)
            for person in to_update:
                person.updated_at = now
            if to_update:
                fields = [*sorted(changed_fields), "updated_at"]
                Offender.objects.bulk_update(to_update, fields, batch_size=1000)
            result.created, result.updated = len(created), len(to_update)
            _audit(
                actor,
                result,
                record_type="offenders.offender",
                records=[*created_ids, *(p.pk for p in to_update)],
                offenders=[*created_ids, *matched],
            )
    except _OutsideScope as error:
        return result._fail(error.problems)
    except IntegrityError:
        return result._fail(file_problem=CHANGED_MEANWHILE)
    return result


def _refuse_outside_scope(actor: Actor, to_create: list[tuple[int, Offender]]) -> None:
    """As offender_create: nobody may add a person they could not then see (a YOT
    worker adds under-18s). Asked of the policy after the insert, inside the
    transaction, so the rule stays in access.policy."""
    ids = [person.pk for _, person in to_create]
    outside: set[int] = set()
    for chunk in _chunks(ids):
        query = Offender.objects.filter(pk__in=chunk).exclude(people_q(actor, write=True))
        outside.update(query.values_list("pk", flat=True))
    if outside:
        message = "This person would be outside the people you work with, so you cannot add them"
        raise _OutsideScope(
            [
                RowProblem(number, "pnc_id", person.pnc_id or "", message)
                for number, person in to_create
                if person.pk in outside
            ]
        )


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


# --- Offending events -----------------------------------------------------------------

_EVENT_KINDS = _choices(EventKind.choices)
# OffendingEvent.clean: only these kinds may go without an offence category.
_NO_CATEGORY_NEEDED = frozenset({EventKind.INTELLIGENCE, EventKind.BREACH, EventKind.RECALL})
_REFERENCE_MAX = 60  # OffendingEvent.source_reference
# An event's content, in the order of the tuples compared, named by the file's columns.
_CONTENT_COLUMNS = (
    "pnc_id",
    "event_kind",
    "offence_category",
    "date_committed",
    "date_recorded",
    "summary",
)
# (row, agency, reference, pnc, kind, category, committed, recorded, summary)
_Parsed = tuple[int, int, str, str, str, "int | None", dt.date, dt.date, str]


@dataclass
class _EventRules:
    """What pass 1 needs to check an events row: reference data and the actor's rights."""

    actor: Actor
    may_write: dict[str, Write]
    agencies: list[Agency]
    categories: list[OffenceCategory]
    agency_ids: _Memo[int | None]
    category_ids: _Memo[int | None]
    kinds: _Memo[str | None]
    pncs: _Memo[str | ValidationError]
    dates: _Memo[dt.date | None]


def import_events(
    *,
    user: Any,
    file: ImportSource,
    filename: str = "",
    max_bytes: int = MAX_IMPORT_BYTES,
    as_of: dt.date | None = None,
) -> ImportResult:
    """Add offending events and intelligence reports from a CSV file, all or nothing.

    Keyed by (source agency, source reference): a row already on the record with
    the same content is unchanged; with different content it is a problem, never
    an update, since a partner system's reference names one event for good.
    """
    actor = as_actor(user, as_of)
    may_write = {
        kind: grant(
            actor,
            RecordKind.INTELLIGENCE if kind == EventKind.INTELLIGENCE else RecordKind.OFFENDING,
        ).write
        for kind in EventKind.values
    }
    if all(write is Write.NONE for write in may_write.values()):
        raise NotPermitted("Your role cannot record offending events")
    result = ImportResult(kind=EVENTS, filename=filename)
    try:
        table = _load(file, max_bytes, EVENTS)
    except FileProblem as problem:
        return result._fail(file_problem=str(problem))
    problems = table.problems
    agencies = list(Agency.objects.only("pk", "name"))
    categories = list(OffenceCategory.objects.only("pk", "name"))
    rules = _EventRules(
        actor=actor,
        may_write=may_write,
        agencies=agencies,
        categories=categories,
        agency_ids=_Memo(_pk_of(_named(agencies, attrgetter("name")))),
        category_ids=_Memo(_pk_of(_named(categories, attrgetter("name")))),
        kinds=_Memo(lambda text: _EVENT_KINDS.get(text.lower())),
        pncs=_Memo(_or_error(identifiers.normalise_pnc)),
        dates=_Memo(_parse_date),
    )
    agency_ids, category_ids, kinds = rules.agency_ids, rules.category_ids, rules.kinds
    pncs, dates, today = rules.pncs, rules.dates, actor.as_of
    own_agency_kinds = {k for k, w in may_write.items() if w is Write.OWN_AGENCY}
    any_agency_kinds = {k for k, w in may_write.items() if w is Write.ALL}
    at = table.position
    i_source, i_reference, i_pnc = at["source"], at["source_reference"], at["pnc_id"]
    i_kind, i_category = at["event_kind"], at["offence_category"]
    i_committed, i_recorded, i_summary = (
        at["date_committed"],
        at["date_recorded"],
        at.get("summary"),
    )

    # Pass 1: each row on its own. The whole test is one expression, run 100,000 times;
    # a row that fails it is checked again, slowly, to say exactly what is wrong.
    parsed: list[_Parsed] = []
    for number, cells in table.rows:
        reference = cells[i_reference]
        agency_id = agency_ids[cells[i_source]]
        pnc = pncs[cells[i_pnc]]
        kind = kinds[cells[i_kind]]
        category_text = cells[i_category]
        category_id = category_ids[category_text]
        committed = dates[cells[i_committed]]
        recorded = dates[cells[i_recorded]]
        if (
            agency_id is not None
            and 0 < len(reference) <= _REFERENCE_MAX
            and type(pnc) is str
            and kind is not None
            and (
                kind in any_agency_kinds
                or (kind in own_agency_kinds and agency_id == actor.agency_id)
            )
            and (category_id is not None or (not category_text and kind in _NO_CATEGORY_NEEDED))
            # OffendingEvent.clean: neither date in the future, recorded on or after it happened.
            and committed is not None
            and recorded is not None
            and committed <= recorded <= today
        ):
            summary = cells[i_summary] if i_summary is not None else ""
            parsed.append(
                (number, agency_id, reference, pnc, kind, category_id, committed, recorded, summary)
            )
        else:
            _explain_event_row(number, cells, at, rules, problems)

    # Pass 2: against the record and the rest of the file.
    people = _people_by_pnc(actor, {row[3] for row in parsed})
    on_record = _recorded_events(parsed)
    agency_names = {agency.pk: agency.name for agency in agencies}
    has_summary = i_summary is not None
    seen: dict[tuple[int, str], tuple[int, tuple[Any, ...]]] = {}
    to_create: list[tuple[Any, ...]] = []
    touched: set[int] = set()
    user_id = actor.user.pk if actor.user is not None else None
    for (
        number,
        agency_id,
        reference,
        pnc,
        kind,
        category_id,
        committed,
        recorded,
        summary,
    ) in parsed:
        offender_id = people.get(pnc)
        if offender_id is None:
            # Outside the importer's scope reads exactly as unknown: an import must not
            # reveal who is on the record.
            message = (
                "Unknown PNC ID: nobody with this PNC ID is on the record you can change; "
                "import them in a file of people first"
            )
            problems.append(RowProblem(number, "pnc_id", pnc, message))
            continue
        content = (offender_id, kind, category_id, committed, recorded, summary)
        key = (agency_id, reference)
        if key in seen:
            first_row, first = seen[key]
            if content == first:
                result.repeated += 1
            else:
                message = (
                    f"Duplicate reference with different content: row {first_row:,} has the same "
                    f"source and reference with a different {_differences(content, first)}"
                )
                problems.append(RowProblem(number, "source_reference", _shown(reference), message))
            continue
        seen[key] = (number, content)
        touched.add(offender_id)
        before = on_record.get(key)
        if before is None:
            to_create.append((*content, agency_id, reference, user_id))
            continue
        # Without a summary column, the summary on the record is not compared.
        compared = before if has_summary else (*before[:5], summary)
        if content == compared:
            result.unchanged += 1
            continue
        kind_label = EventKind(before[1]).label.lower()
        message = (
            f"Duplicate reference with different content: already recorded from "
            f"{agency_names[agency_id]} as {_with_article(kind_label)}"
            f"{'' if before[0] == offender_id else ' for a different person'} on "
            f"{_readable(before[3])}, with a different {_differences(content, compared)}"
        )
        problems.append(RowProblem(number, "source_reference", _shown(reference), message))
    if problems:
        return result._fail(problems)

    try:
        with transaction.atomic():
            created_ids = _insert_events(to_create)
            result.created = len(to_create)
            _audit(
                actor,
                result,
                record_type="offenders.offendingevent",
                records=created_ids,
                offenders=sorted(touched),
            )
    except IntegrityError:
        return result._fail(file_problem=CHANGED_MEANWHILE)
    return result


def _explain_event_row(
    number: int,
    cells: list[str],
    at: dict[str, int],
    rules: _EventRules,
    problems: list[RowProblem],
) -> None:
    """Every problem of an events row that failed the quick test, in the file's words."""
    row = _Row(number, problems)
    actor, today = rules.actor, rules.actor.as_of
    source = cells[at["source"]]
    agency_id = rules.agency_ids[source]
    required = row.required("source", source, "the name of the agency that recorded it")
    if required and agency_id is None:
        message = "Unknown source agency: use the agency's name as it is in PPO Case"
        row.problem("source", source, message + _suggest(source, [a.name for a in rules.agencies]))
    reference = cells[at["source_reference"]]
    required = row.required("source_reference", reference, "the source system's reference")
    if required and len(reference) > _REFERENCE_MAX:
        message = f"Must be {_REFERENCE_MAX} characters or fewer"
        row.problem("source_reference", reference, message)
    row.pnc(cells[at["pnc_id"]], rules.pncs)

    text = cells[at["event_kind"]]
    kind = rules.kinds[text]
    if row.required("event_kind", text, "the event kind"):
        write = rules.may_write.get(kind or "", Write.NONE)
        if kind is None:
            message = f"Unknown event kind: use one of {', '.join(EventKind.values)}"
            row.problem("event_kind", text, message)
        elif write is Write.NONE:
            message = f"Your role cannot record {EventKind(kind).label.lower()}s"
            row.problem("event_kind", text, message)
        elif write is Write.OWN_AGENCY and agency_id and agency_id != actor.agency_id:
            message = "Your role can record only your own agency's events"
            row.problem("source", source, message)

    text = cells[at["offence_category"]]
    if text and rules.category_ids[text] is None:
        names = [c.name for c in rules.categories]
        message = "Unknown offence category: use the category's name as it is in PPO Case"
        row.problem("offence_category", text, message + _suggest(text, names))
    elif not text and kind is not None and kind not in _NO_CATEGORY_NEEDED:
        row.problem("offence_category", "", "Enter the offence category")

    # OffendingEvent.clean: neither date in the future, recorded on or after it happened.
    text = cells[at["date_committed"]]
    committed = row.date("date_committed", text, rules.dates, today, "the date it happened")
    text = cells[at["date_recorded"]]
    recorded = row.date("date_recorded", text, rules.dates, today, "the date recorded")
    if committed and recorded and recorded < committed:
        message = "The date recorded cannot be before the date it happened"
        row.problem("date_recorded", text, message)
    if row.ok:  # the quick test and this one disagree: never let such a row through
        problems.append(RowProblem(number, "", "", "This row could not be checked"))


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


def _people_by_pnc(actor: Actor, pncs: set[str]) -> dict[str, int]:
    """The people the actor may change, by PNC ID, among those a file names."""
    people: dict[str, int] = {}
    for condition in _matching("pnc_id", pncs):
        query = Offender.objects.filter(people_q(actor, write=True)).filter(condition)
        people.update((pnc, pk) for pnc, pk in query.values_list("pnc_id", "pk") if pnc)
    return people


def _recorded_events(rows: list[_Parsed]) -> dict[tuple[int, str], tuple[Any, ...]]:
    """The events already on the record under the keys a file uses, with their content."""
    references: dict[int, set[str]] = {}
    for row in rows:
        references.setdefault(row[1], set()).add(row[2])
    found: dict[tuple[int, str], tuple[Any, ...]] = {}
    for agency_id, refs in references.items():
        for condition in _matching("source_reference", refs):
            query = (
                OffendingEvent.objects.filter(source_agency_id=agency_id)
                .filter(condition)
                .values_list(
                    "source_reference",
                    "offender_id",
                    "kind",
                    "category_id",
                    "occurred_on",
                    "recorded_on",
                    "summary",
                )
            )
            for reference, *content in query:
                found[(agency_id, reference)] = tuple(content)
    return found


_INSERTED_FIELDS = (
    "offender_id",
    "kind",
    "category_id",
    "occurred_on",
    "recorded_on",
    "summary",
    "source_agency_id",
    "source_reference",
    "recorded_by_id",
)


def _insert_events(rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert events given as tuples in the order of _INSERTED_FIELDS; their ids.

    On PostgreSQL through COPY, the database's bulk loader: bulk_create spends about
    ten seconds preparing 100,000 rows in Python, which alone misses the goal of
    10,000 rows a second. The rows have passed every check of OffendingEvent.clean.
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        events = [OffendingEvent(**dict(zip(_INSERTED_FIELDS, row, strict=True))) for row in rows]
        created = OffendingEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
        return [event.pk for event in created if event.pk is not None]
    meta = OffendingEvent._meta
    quote = connection.ops.quote_name
    fields = {field.attname: field for field in meta.concrete_fields}
    columns = ", ".join(quote(fields[name].column) for name in _INSERTED_FIELDS)
    # Binary COPY needs each column's type, without its length: varchar, not varchar(60).
    types = [str(fields[name].db_type(connection)).split("(")[0] for name in _INSERTED_FIELDS]
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
    last_id = OffendingEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(sql) as copy,
    ):
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)
    # Every row COPY added has a larger id than any before it; (agency, reference) picks
    # ours out from rows others may have added meanwhile.
    keys = {(row[6], row[7]) for row in rows}
    added = OffendingEvent.objects.filter(pk__gt=last_id, source_agency_id__in={k[0] for k in keys})
    rows_added = added.values_list("pk", "source_agency_id", "source_reference")
    return [pk for pk, agency_id, reference in rows_added if (agency_id, reference) in keys]


def _differences(content: tuple[Any, ...], other: tuple[Any, ...]) -> str:
    pairs = zip(_CONTENT_COLUMNS, content, other, strict=True)
    return ", ".join(name for name, mine, theirs in pairs if mine != theirs)


def _with_article(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _readable(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


IMPORTERS: dict[str, Callable[..., ImportResult]] = {
    OFFENDERS: import_offenders,
    EVENTS: import_events,
}
