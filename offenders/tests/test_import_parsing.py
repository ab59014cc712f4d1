"""Reading import files: no row is ever lost to a stray double quote (issue "Trust first").

A quote left open makes a CSV reader take the rows after it as part of one value; the
import must refuse such a file, naming the row, rather than report success with fewer
rows. Row numbers are the file's own lines, the header being row 1.
"""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from access.models import AgencyKind, AuditEvent, Role
from offenders import importing
from offenders.identifiers import format_pnc
from offenders.importing import RowProblem, import_events, import_offenders
from offenders.importing.common import QUOTES_RULE, _load
from offenders.models import Offender, OffendingEvent
from tests.factories import AgencyFactory, OffenderFactory, staff

TODAY = dt.date(2025, 9, 1)
EVENTS_HEADER = (
    "source,source_reference,pnc_id,event_kind,offence_category,date_committed,date_recorded,"
    "summary"
)
PEOPLE_HEADER = "pnc_id,first_name,last_name,date_of_birth"
PNC = format_pnc(2004, 46583)


def csv_file(*lines: str) -> bytes:
    return "\n".join([*lines, ""]).encode()


def row(ref: str, summary: str = "", kind: str = "arrest") -> str:
    return f"North Police,{ref},{PNC},{kind},Shoplifting,2025-06-01,2025-06-02,{summary}"


@pytest.fixture
def police(db):
    force = AgencyFactory(name="North Police", kind=AgencyKind.POLICE)
    OffenderFactory(pnc_id=PNC, date_of_birth=dt.date(1990, 1, 1))
    return staff(Role.POLICE_OFFICER, agency=force)


def events(user, data: bytes):
    return import_events(user=user, file=data, filename="events.csv", as_of=TODAY)


def refused(result) -> bool:
    return not result.ok and OffendingEvent.objects.count() == 0 and not AuditEvent.objects.exists()


OPEN = "This value starts with a double quote but does not end with one: " + QUOTES_RULE


def swallowed(rows: str) -> str:
    return (
        f"This value starts with a double quote that does not end on this row, so {rows} "
        f"would be read as part of it and not imported. Each row must be one line: "
        f"{QUOTES_RULE}; and a value cannot have a line break in it"
    )


@pytest.mark.parametrize("summary", ['"unclosed quote', '"6"" knife found'])
def test_a_quote_left_open_on_the_last_row_is_refused_naming_the_row(police, summary):
    data = csv_file(EVENTS_HEADER, row("CR-1"), row("CR-2"), row("CR-3", summary))
    result = events(police, data)
    assert refused(result)
    assert result.problems == [RowProblem(4, "summary", summary, OPEN)]


@pytest.mark.parametrize("summary", ['"unclosed quote', '"6"" knife found'])
def test_a_quote_left_open_on_a_middle_row_is_refused_not_swallowing_the_rows_after_it(
    police, summary
):
    data = csv_file(
        EVENTS_HEADER, row("CR-1"), row("CR-2", summary), row("CR-3"), row("CR-4"), row("CR-5")
    )
    result = events(police, data)
    assert refused(result)
    assert result.problems == [RowProblem(3, "summary", summary, swallowed("rows 4 to 6"))]


@pytest.mark.parametrize("n", [1, 3])
def test_a_stray_quote_that_would_swallow_exactly_n_rows_names_them(police, n):
    # The quote opened on row 3 is closed by the inch mark ending row 3 + n, so the reader
    # would take rows 4 to 3 + n into row 3's summary without any error of its own.
    between = [row(f"CR-{k}") for k in range(3, 2 + n)]
    data = csv_file(
        EVENTS_HEADER,
        row("CR-1"),
        row("CR-2", '"6"" knife found'),
        *between,
        row("CR-CLOSE", 'Blade 12"'),
        row("CR-AFTER"),
        row("CR-BAD", kind="mugging"),
    )
    result = events(police, data)
    assert refused(result)
    rows = "row 4" if n == 1 else f"rows 4 to {3 + n}"
    assert result.problems[0] == RowProblem(3, "summary", '"6"" knife found', swallowed(rows))
    # The reader carries on after the swallowed rows: later rows are still checked, and
    # numbered by their own line.
    assert [(p.row, p.column) for p in result.problems[1:]] == [(5 + n, "event_kind")]


def test_text_after_a_closing_quote_is_refused_not_run_together(police):
    # A lenient reader would store 'Big knife found', the quotes silently dropped.
    data = csv_file(EVENTS_HEADER, row("CR-1", '"Big" knife found'), row("CR-2"))
    result = events(police, data)
    assert refused(result)
    assert result.problems == [
        RowProblem(
            2,
            "summary",
            '"Big" knife found',
            "This value has more after the double quote that ends it: " + QUOTES_RULE,
        )
    ]


def test_quotes_written_as_the_format_says_import(police):
    data = csv_file(
        EVENTS_HEADER,
        row("CR-1", '"6"" knife found, and a ""quote"""'),
        row("CR-2", 'Blade 12" long'),  # a quote inside an unquoted value is the value's own
    )
    result = events(police, data)
    assert result.ok, (result.file_problems, result.problems)
    summaries = dict(OffendingEvent.objects.values_list("source_reference", "summary"))
    assert summaries == {"CR-1": '6" knife found, and a "quote"', "CR-2": 'Blade 12" long'}


def test_a_value_over_several_lines_is_refused_and_later_rows_keep_their_line_numbers(police):
    # Decision (docs/import-formats.md): one record per line. A line break inside quotes
    # reads exactly as a quote left open, so it is refused, naming where it starts and ends.
    data = csv_file(
        EVENTS_HEADER,
        row("CR-1", '"Two lines,'),
        'with a comma"',
        row("CR-2"),
        row("CR-3", kind="mugging"),
    )
    result = events(police, data)
    assert refused(result)
    assert result.problems[0] == RowProblem(2, "summary", '"Two lines,', swallowed("row 3"))
    assert [(p.row, p.column) for p in result.problems[1:]] == [(5, "event_kind")]


def test_a_quote_left_open_in_a_file_of_people_is_refused(db):
    manager = staff(Role.PPO_MANAGER)
    data = csv_file(
        PEOPLE_HEADER,
        f"{PNC},Qxffion,Zzinvented,1990-04-01",
        f'{format_pnc(2010, 1234)},"Qxdai,Zzmadeup,1985-03-02',
        f"{format_pnc(1999, 777)},Qxcai,Zzmadeup,1980-03-02",
    )
    result = import_offenders(user=manager, file=data, as_of=TODAY)
    assert result.problems == [
        RowProblem(3, "first_name", '"Qxdai,Zzmadeup,1985-03-02', swallowed("row 4"))
    ]
    assert not Offender.objects.exists()


def test_a_quote_left_open_in_the_header_is_a_file_problem(police):
    header = EVENTS_HEADER.replace("summary", '"summary')
    result = events(police, csv_file(header, row("CR-1"), row("CR-2")))
    assert result.file_problems == [f'The header row cannot be read, at "summary: {QUOTES_RULE}']
    assert refused(result)


def test_every_line_of_data_is_counted_apart_from_the_reader(police):
    data = csv_file(
        EVENTS_HEADER,
        row("CR-1"),
        "",
        ",,,,,,,",  # a row of empty cells, as spreadsheets leave them
        '"","",,,,,,',
        "   ",
        row("CR-2"),
        row("CR-2"),  # repeated: counted once, but accounted for
    )
    assert _load(data, importing.MAX_IMPORT_BYTES, importing.EVENTS).data_lines == 3
    result = events(police, data)
    assert result.ok, (result.file_problems, result.problems)
    assert (result.created, result.repeated) == (2, 1)


@pytest.mark.parametrize("kind", ["events", "offenders"])
def test_a_file_with_a_row_the_reader_lost_is_refused(police, monkeypatch, kind):
    # Whatever goes wrong in reading, a row of data that is neither imported, unchanged,
    # repeated nor listed as a problem refuses the file: here a reader that reads the
    # third row as empty, as a parser bug might.
    real_reader = csv.reader

    class LossyReader:
        def __init__(self, *args, **kwargs):
            self.reader = real_reader(*args, **kwargs)
            self.records = 0

        def __iter__(self):
            return self

        def __next__(self):
            record = next(self.reader)
            self.records += 1
            return [] if self.records == 3 else record

        @property
        def line_num(self):
            return self.reader.line_num

    monkeypatch.setattr(csv, "reader", LossyReader)
    if kind == "events":
        result = events(police, csv_file(EVENTS_HEADER, *(row(f"CR-{n}") for n in range(4))))
    else:
        people = [f"{format_pnc(2010, n)},Qxname{n},Zzinvented,1990-04-01" for n in range(1, 5)]
        manager = staff(Role.PPO_MANAGER)
        result = import_offenders(user=manager, file=csv_file(PEOPLE_HEADER, *people), as_of=TODAY)
    assert result.file_problems == [
        "The file has 4 rows of data after the header, but 3 rows could be read from them, so "
        "nothing has been imported: check for a value with a double quote or a line break in "
        f"it ({QUOTES_RULE})"
    ]
    assert (result.created, result.unchanged) == (0, 0)
    assert OffendingEvent.objects.count() == 0
    assert Offender.objects.filter(first_name__startswith="Qxname").count() == 0
    assert not AuditEvent.objects.exists()
