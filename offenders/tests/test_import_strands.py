"""Importing people's strands (docs/import-formats.md "Strands"): several in one cell
separated by ";", the whole set replaced, an empty cell leaving it alone, and a value that is
not a strand refused with the row, the column and the value, nothing imported."""

from __future__ import annotations

import pytest

from access.models import Role
from offenders.identifiers import format_pnc
from offenders.importing import import_offenders
from offenders.importing.people import parse_strands
from offenders.models import Offender, OffenderStrand, Strand
from tests.factories import OffenderFactory, staff

HEADER = "pnc_id,first_name,last_name,date_of_birth,strands"
PNC_A = format_pnc(2004, 46583)
PNC_B = format_pnc(2010, 1234)
CC, RR, PD = Strand.CATCH_CONVICT, Strand.REHABILITATE_RESETTLE, Strand.PREVENT_DETER


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows, ""]).encode()


@pytest.fixture
def manager(db):
    return staff(Role.PPO_MANAGER, username="manager")


def strands_of(pnc: str) -> list[str]:
    return Offender.objects.get(pnc_id=pnc).strand_values


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("catch_convict", {CC}),
        ("catch_convict;rehabilitate_resettle", {CC, RR}),
        (" Catch & Convict ; PREVENT_DETER ;", {CC, PD}),
        ("Rehabilitate and Resettle;rehabilitate_resettle", {RR}),
    ],
)
def test_a_cell_of_strands_is_read(cell, expected):
    assert parse_strands(cell) == expected


@pytest.mark.parametrize(
    ("cell", "named"),
    [
        ("catch", "“catch” is not a strand"),
        ("catch_convict,prevent_deter", "“catch_convict,prevent_deter” is not a strand"),
        ("catch_convict;;deter", "“deter” is not a strand"),
        (";", "No strand given"),
    ],
)
def test_a_cell_that_is_not_strands_says_what_is_wrong(cell, named):
    problem = parse_strands(cell)
    assert isinstance(problem, str) and problem.startswith(named)
    assert "separated by “;”" in problem


def test_several_strands_are_imported_for_a_new_person(manager):
    result = import_offenders(
        user=manager,
        file=csv_file(
            f"{PNC_A},Ffion,Invented,1990-04-01,catch_convict;rehabilitate_resettle",
            f"{PNC_B},Dai,Madeup,1985-03-02,",
        ),
    )
    assert result.ok, result.problems
    assert result.created == 2
    assert strands_of(PNC_A) == [CC, RR]
    assert strands_of(PNC_B) == []


def test_a_cell_replaces_the_set_and_an_empty_cell_leaves_it(manager):
    replaced = OffenderFactory(pnc_id=PNC_A, strands=[CC, RR])
    kept = OffenderFactory(pnc_id=PNC_B, strands=[RR])
    rows = (
        f"{PNC_A},{replaced.first_name},{replaced.last_name},{replaced.date_of_birth},"
        "Prevent and Deter",
        f"{PNC_B},{kept.first_name},{kept.last_name},{kept.date_of_birth},",
    )
    result = import_offenders(user=manager, file=csv_file(*rows))
    assert result.ok, result.problems
    assert (result.updated, result.unchanged) == (1, 1)
    assert strands_of(PNC_A) == [PD]
    assert strands_of(PNC_B) == [RR]
    # The same file again changes nothing: the strands are already the set given.
    again = import_offenders(user=manager, file=csv_file(*rows))
    assert (again.updated, again.unchanged) == (0, 2)


def test_the_same_set_in_another_order_is_unchanged(manager):
    person = OffenderFactory(pnc_id=PNC_A, strands=[CC, RR])
    row = (
        f"{PNC_A},{person.first_name},{person.last_name},{person.date_of_birth},"
        "rehabilitate_resettle;catch_convict"
    )
    result = import_offenders(user=manager, file=csv_file(row))
    assert (result.updated, result.unchanged) == (0, 1)


def test_a_bad_strand_refuses_the_whole_file(manager):
    person = OffenderFactory(pnc_id=PNC_B, strands=[RR])
    result = import_offenders(
        user=manager,
        file=csv_file(
            f"{PNC_A},Ffion,Invented,1990-04-01,catch_convict;prevent_and_deter_typo",
            f"{PNC_B},{person.first_name},{person.last_name},{person.date_of_birth},catch_convict",
        ),
    )
    assert not result.ok
    [problem] = result.problems
    assert (problem.row, problem.column, problem.value) == (
        2,
        "strands",
        "catch_convict;prevent_and_deter_typo",
    )
    assert "“prevent_and_deter_typo” is not a strand" in problem.problem
    assert not Offender.objects.filter(pnc_id=PNC_A).exists()
    assert list(OffenderStrand.objects.values_list("strand", flat=True)) == [RR]


def test_two_rows_for_one_person_with_different_strands_are_a_problem(manager):
    result = import_offenders(
        user=manager,
        file=csv_file(
            f"{PNC_A},Ffion,Invented,1990-04-01,catch_convict",
            f"{PNC_A},Ffion,Invented,1990-04-01,catch_convict;prevent_deter",
        ),
    )
    assert not result.ok
    assert "(strands)" in result.problems[0].problem
