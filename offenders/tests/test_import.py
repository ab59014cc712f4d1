"""Importing people and offending events from partner systems' CSV files.

All or nothing, idempotent, and every kind of bad input answered with a clear
message (never a 500): the rules of the issue "import from police and other
partner systems".
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from access.errors import NotPermitted
from access.models import AgencyKind, AuditAction, AuditEvent, Role
from offenders import importing
from offenders.identifiers import format_pnc
from offenders.importing import RowProblem, import_events, import_offenders
from offenders.models import EventKind, Offender, OffendingEvent
from tests.factories import (
    AgencyFactory,
    OffenderFactory,
    OffendingEventFactory,
    sign_in,
    staff,
)

TODAY = dt.date(2025, 9, 1)

PEOPLE_HEADER = "pnc_id,first_name,last_name,date_of_birth,sex,ethnicity,cro_number,crn"
EVENTS_HEADER = (
    "source,source_reference,pnc_id,event_kind,offence_category,date_committed,date_recorded,"
    "summary"
)
PNC_A = format_pnc(2004, 46583)
PNC_B = format_pnc(2010, 1234)
PNC_C = format_pnc(1999, 777)


def csv_file(header: str, *rows: str, newline: str = "\n") -> bytes:
    return newline.join([header, *rows, ""]).encode()


def event_row(
    ref: str = "CR-1",
    pnc: str = PNC_A,
    kind: str = "arrest",
    category: str = "Shoplifting",
    committed: str = "2025-06-01",
    recorded: str = "2025-06-02",
    summary: str = "",
    source: str = "North Police",
) -> str:
    return ",".join([source, ref, pnc, kind, category, committed, recorded, summary])


@pytest.fixture
def police_force(db):
    return AgencyFactory(name="North Police", kind=AgencyKind.POLICE)


@pytest.fixture
def police(police_force):
    return staff(Role.POLICE_OFFICER, agency=police_force, username="pc")


@pytest.fixture
def manager(db):
    return staff(Role.PPO_MANAGER, username="manager")


@pytest.fixture
def people(db):
    """Three people on the record, none on the scheme: the known-offender pool."""
    return [
        OffenderFactory(pnc_id=pnc, date_of_birth=dt.date(1990, 1, 1))
        for pnc in (PNC_A, PNC_B, PNC_C)
    ]


def events(user, data: bytes, **kwargs):
    return import_events(user=user, file=data, filename="events.csv", as_of=TODAY, **kwargs)


def offenders(user, data: bytes, **kwargs):
    return import_offenders(user=user, file=data, filename="people.csv", as_of=TODAY, **kwargs)


def problems_by_row(result) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for problem in result.problems:
        found.setdefault(problem.row, []).append((problem.column, problem.problem))
    return found


# --- People ---------------------------------------------------------------------------


def test_new_people_join_the_known_offender_pool_and_the_import_is_audited(manager):
    data = csv_file(
        PEOPLE_HEADER,
        f"{PNC_A},Ffion,Invented,1990-04-01,F,white,,X123456",
        "10/1234t,Dai,Madeup,02/03/1985,m,Not stated,123456/08t,",
    )
    result = offenders(manager, data)
    assert result.ok, result.problems
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert result.summary == "2 rows imported: 2 new, 0 updated, 0 unchanged"
    ffion = Offender.objects.get(pnc_id=PNC_A)
    assert (ffion.first_name, ffion.sex, ffion.ethnicity, ffion.crn) == (
        "Ffion",
        "F",
        "white",
        "X123456",
    )
    dai = Offender.objects.get(pnc_id=PNC_B)  # the short form, normalised
    assert dai.date_of_birth == dt.date(1985, 3, 2)  # DD/MM/YYYY
    assert (dai.sex, dai.ethnicity, dai.cro_number) == ("M", "not_stated", "123456/08T")
    assert not ffion.episodes.exists() and not dai.episodes.exists()  # in the pool
    ffion.full_clean()  # the importer's checks agree with the model's
    dai.full_clean()
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.CREATE
    assert event.user == manager
    assert event.record_type == "offenders.offender"
    assert sorted(event.offender_ids) == sorted([ffion.pk, dai.pk])
    assert event.detail == {
        "import": "people.csv",
        "kind": "offenders",
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }


def test_known_people_are_updated_and_an_empty_optional_cell_leaves_the_record_alone(manager):
    person = OffenderFactory(
        pnc_id=PNC_A, first_name="Old", last_name="Name", crn="X654321", sex="U"
    )
    person.refresh_from_db()
    updated_at = person.updated_at
    same = OffenderFactory(
        pnc_id=PNC_B, first_name="Same", last_name="Person", date_of_birth=dt.date(1980, 1, 1)
    )
    data = csv_file(
        PEOPLE_HEADER,
        f"{PNC_A},New,Name,{person.date_of_birth:%Y-%m-%d},F,,,",
        f"{PNC_B},Same,Person,1980-01-01,,,,",
    )
    result = offenders(manager, data)
    assert result.ok, result.problems
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    person.refresh_from_db()
    assert (person.first_name, person.sex) == ("New", "F")
    assert person.crn == "X654321"  # not in the partner's extract: kept
    assert person.updated_at > updated_at
    assert AuditEvent.objects.get().action == AuditAction.UPDATE
    assert AuditEvent.objects.get().offender_ids == sorted([person.pk, same.pk])


def test_people_import_is_all_or_nothing_with_every_problem_listed(manager):
    data = csv_file(
        PEOPLE_HEADER,
        f"{PNC_A},Ffion,Invented,1990-04-01,F,white,,",
        "2004/0046583A,Bad,Check,1990-04-01,,,,",  # wrong check letter
        f"{PNC_C},,Noname,31/02/1990,Q,purple,123/08Z,12345",
        f"{PNC_B},Future,Born,2030-01-01,,,,",
    )
    result = offenders(manager, data)
    assert not result.ok
    assert Offender.objects.count() == 0
    assert AuditEvent.objects.count() == 0
    rows = problems_by_row(result)
    assert set(rows) == {3, 4, 5}
    assert rows[3] == [
        (
            "pnc_id",
            "The PNC ID's check letter does not match its number: check it was copied exactly",
        )
    ]
    assert [column for column, _ in rows[4]] == [
        "first_name",
        "date_of_birth",
        "sex",
        "ethnicity",
        "cro_number",
        "crn",
    ]
    assert ("date_of_birth", importing.BAD_DATE) in rows[4]
    # The shared rule's words (offenders.dates), as the person's own form says them.
    assert rows[5] == [("date_of_birth", "Date of birth must be in the past")]
    assert result.problems[1] == RowProblem(4, "first_name", "", "Enter the first name")


def test_the_same_person_twice_with_different_details_is_a_problem_on_the_second_row(manager):
    data = csv_file(
        PEOPLE_HEADER,
        f"{PNC_A},Ffion,Invented,1990-04-01,F,,,",
        "04/46583U,Ffion,Invented,1990-04-01,F,,,",  # the same, in the short form
        f"{PNC_A},Ffion,Invented,1991-04-01,F,,,",
    )
    result = offenders(manager, data)
    assert result.problems == [
        RowProblem(
            4,
            "pnc_id",
            PNC_A,
            "This PNC ID is already on row 2 with different details (date_of_birth): "
            "keep one row per person",
        )
    ]
    assert Offender.objects.count() == 0


def test_reimporting_a_people_file_changes_nothing(manager):
    data = csv_file(PEOPLE_HEADER, f"{PNC_A},Ffion,Invented,1990-04-01,F,white,,X123456")
    assert offenders(manager, data).created == 1
    person = Offender.objects.get()
    again = offenders(manager, data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert Offender.objects.get().updated_at == person.updated_at
    assert list(AuditEvent.objects.order_by("pk").values_list("action", flat=True)) == [
        AuditAction.CREATE,
        AuditAction.LIST,
    ]


def test_a_yot_worker_cannot_import_a_person_outside_the_people_they_work_with(db):
    yot = staff(Role.YOT_WORKER)
    adult = OffenderFactory(pnc_id=PNC_B, date_of_birth=dt.date(1980, 1, 1))
    data = csv_file(PEOPLE_HEADER, f"{PNC_A},Adult,Person,1990-04-01,,,,")
    result = offenders(yot, data)
    assert result.problems == [
        RowProblem(
            2,
            "pnc_id",
            PNC_A,
            "This person would be outside the people you work with, so you cannot add them",
        )
    ]
    assert not Offender.objects.filter(pnc_id=PNC_A).exists()
    assert AuditEvent.objects.count() == 0
    update = offenders(yot, csv_file(PEOPLE_HEADER, f"{PNC_B},Adult,Renamed,1980-01-01,,,,"))
    assert update.problems[0].column == "pnc_id"
    adult.refresh_from_db()
    assert adult.last_name != "Renamed"
    youth = offenders(yot, csv_file(PEOPLE_HEADER, f"{PNC_C},Young,Person,2010-01-01,,,,"))
    assert youth.ok and youth.created == 1


def test_roles_that_cannot_write_identity_cannot_import_people(db):
    with pytest.raises(NotPermitted):
        offenders(staff(Role.KEY_WORKER), csv_file(PEOPLE_HEADER, f"{PNC_A},A,B,1990-01-01,,,,"))


# --- Events ---------------------------------------------------------------------------


def test_an_events_file_is_imported_by_police(police, people):
    data = csv_file(
        EVENTS_HEADER,
        event_row("CR-1", summary="Took razor blades"),
        event_row(
            "CR-2",
            PNC_B,
            kind="Intelligence report",
            category="",
            committed="01/07/2025",
            recorded="2025-07-02",
        ),
        event_row("CR-3", PNC_C, kind="BREACH", category="", recorded="2025-06-01"),
        event_row("CR-4", kind="charge", category="burglary – residential"),
    )
    result = events(police, data)
    assert result.ok, result.problems
    assert result.summary == "4 rows imported: 4 new, 0 updated, 0 unchanged"
    first = OffendingEvent.objects.get(source_reference="CR-1")
    assert first.offender == people[0]
    assert (first.kind, first.category.name, first.summary) == (
        "arrest",
        "Shoplifting",
        "Took razor blades",
    )
    assert (first.occurred_on, first.recorded_on) == (dt.date(2025, 6, 1), dt.date(2025, 6, 2))
    assert first.source_agency.name == "North Police"
    assert first.recorded_by == police
    intelligence = OffendingEvent.objects.get(source_reference="CR-2")
    assert (intelligence.kind, intelligence.category, intelligence.occurred_on) == (
        EventKind.INTELLIGENCE,
        None,
        dt.date(2025, 7, 1),
    )
    assert OffendingEvent.objects.get(source_reference="CR-4").category.name == (
        "Burglary – residential"
    )
    audit = AuditEvent.objects.get()
    assert audit.action == AuditAction.CREATE
    assert audit.record_type == "offenders.offendingevent"
    assert sorted(audit.record_ids) == sorted(OffendingEvent.objects.values_list("pk", flat=True))
    assert sorted(audit.offender_ids) == sorted(p.pk for p in people)
    assert audit.detail["created"] == 4


@pytest.mark.parametrize(
    "kind,category",
    [("arrest", "Shoplifting"), ("intelligence", ""), ("recall", ""), ("conviction", "Fraud")],
)
def test_a_row_the_importer_accepts_passes_the_models_own_validation(
    police, people, kind, category, time_machine
):
    # The importer re-implements OffendingEvent.clean for speed; the two must agree.
    time_machine.move_to(dt.datetime(2025, 9, 1, 12, tzinfo=dt.UTC))
    result = events(police, csv_file(EVENTS_HEADER, event_row(kind=kind, category=category)))
    assert result.ok, result.problems
    event = OffendingEvent.objects.get()
    event.full_clean()
    event.offender.full_clean()


def test_events_import_is_all_or_nothing_with_every_problem_listed(police, people):
    data = csv_file(
        EVENTS_HEADER,
        event_row("CR-1"),
        event_row("CR-2", pnc=format_pnc(2020, 999)),  # nobody on the record
        event_row("CR-3", committed="2025-13-01", recorded="yesterday"),
        event_row("CR-4", committed="2025-10-01", recorded="2025-10-02"),  # after TODAY
        event_row("CR-5", committed="2025-06-05", recorded="2025-06-04"),
        event_row("CR-6", category="Shoplfiting"),
        event_row("CR-7", kind="caution", category=""),
        event_row("CR-8", kind="mugging"),
        event_row("CR-9", source="South Police"),
        event_row(""),
        event_row("CR-11"),
    )
    result = events(police, data)
    assert not result.ok
    assert OffendingEvent.objects.count() == 0
    assert AuditEvent.objects.count() == 0
    rows = problems_by_row(result)
    assert rows == {
        3: [
            (
                "pnc_id",
                "Unknown PNC ID: nobody with this PNC ID is on the record you can change; "
                "import them in a file of people first",
            )
        ],
        4: [("date_committed", importing.BAD_DATE), ("date_recorded", importing.BAD_DATE)],
        5: [
            ("date_committed", "The date it happened cannot be in the future"),
            ("date_recorded", "The date recorded cannot be in the future"),
        ],
        6: [("date_recorded", "The date recorded cannot be before the date it happened")],
        7: [
            (
                "offence_category",
                "Unknown offence category: use the category's name as it is in PPO Case: "
                'did you mean "Shoplifting"?',
            )
        ],
        8: [("offence_category", "Enter the offence category")],
        9: [
            (
                "event_kind",
                "Unknown event kind: use one of arrest, intelligence, charge, conviction, "
                "caution, breach, recall",
            )
        ],
        10: [
            (
                "source",
                "Unknown source agency: use the agency's name as it is in PPO Case: "
                'did you mean "North Police"?',
            )
        ],
        11: [("source_reference", "Enter the source system's reference")],
    }
    assert RowProblem(4, "date_committed", "2025-13-01", importing.BAD_DATE) in result.problems
    assert result.rows_with_problems == 9


def test_a_person_outside_the_importers_scope_reads_as_an_unknown_pnc_id(db, people):
    yot = staff(Role.YOT_WORKER)
    AgencyFactory(name="North Police", kind=AgencyKind.POLICE)
    youth = OffenderFactory(pnc_id=format_pnc(2021, 5), date_of_birth=dt.date(2010, 1, 1))
    data = csv_file(
        EVENTS_HEADER,
        event_row("CR-1", pnc=PNC_A),  # an adult: outside a YOT worker's scope
        event_row("CR-2", pnc=format_pnc(2020, 999)),  # nobody
        event_row("CR-3", pnc=youth.pnc_id),
    )
    result = events(yot, data)
    assert [(p.row, p.column) for p in result.problems] == [(2, "pnc_id"), (3, "pnc_id")]
    assert result.problems[0].problem == result.problems[1].problem
    assert OffendingEvent.objects.count() == 0
    assert events(yot, csv_file(EVENTS_HEADER, event_row("CR-3", pnc=youth.pnc_id))).created == 1


def test_intelligence_rows_need_the_right_to_record_intelligence(db, people):
    yot = staff(Role.YOT_WORKER)  # writes offending, only counts intelligence
    AgencyFactory(name="North Police", kind=AgencyKind.POLICE)
    people[0].date_of_birth = dt.date(2010, 1, 1)
    people[0].save()
    result = events(yot, csv_file(EVENTS_HEADER, event_row(kind="intelligence", category="")))
    assert result.problems == [
        RowProblem(2, "event_kind", "intelligence", "Your role cannot record intelligence reports")
    ]


def test_roles_that_cannot_record_offending_cannot_import_events(police_force, people):
    for role in (Role.KEY_WORKER, Role.PARTNER_WORKER, Role.STEERING_GROUP):
        with pytest.raises(NotPermitted):
            events(staff(role), csv_file(EVENTS_HEADER, event_row()))


def test_reimporting_an_events_file_changes_nothing(police, people):
    data = csv_file(EVENTS_HEADER, *(event_row(f"CR-{n}", summary=f"Event {n}") for n in range(20)))
    first = events(police, data)
    assert (first.created, first.unchanged) == (20, 0)
    ids = sorted(OffendingEvent.objects.values_list("pk", flat=True))
    second = events(police, data)
    assert second.ok
    assert (second.created, second.updated, second.unchanged) == (0, 0, 20)
    assert sorted(OffendingEvent.objects.values_list("pk", flat=True)) == ids
    # One audit row per successful run: the creation, then a run that only matched.
    assert list(AuditEvent.objects.order_by("pk").values_list("action", flat=True)) == [
        AuditAction.CREATE,
        AuditAction.LIST,
    ]
    assert AuditEvent.objects.order_by("pk").last().detail["unchanged"] == 20


def test_a_reference_already_recorded_with_different_content_is_a_problem(police, people):
    OffendingEventFactory(
        offender=people[0],
        source_agency=police.memberships.get().agency,
        source_reference="CR-1",
        occurred_on=dt.date(2025, 5, 1),
        recorded_on=dt.date(2025, 5, 2),
    )
    OffendingEventFactory(
        offender=people[1],
        source_agency=police.memberships.get().agency,
        source_reference="CR-2",
        occurred_on=dt.date(2025, 6, 1),
        recorded_on=dt.date(2025, 6, 2),
    )
    result = events(police, csv_file(EVENTS_HEADER, event_row("CR-1"), event_row("CR-2")))
    assert result.problems == [
        RowProblem(
            2,
            "source_reference",
            "CR-1",
            "Duplicate reference with different content: already recorded from North Police as "
            "an arrest on 1 May 2025, with a different date_committed, date_recorded",
        ),
        RowProblem(
            3,
            "source_reference",
            "CR-2",
            "Duplicate reference with different content: already recorded from North Police as "
            "an arrest for a different person on 1 June 2025, with a different pnc_id",
        ),
    ]
    assert OffendingEvent.objects.count() == 2


def test_a_reference_repeated_in_the_file_counts_once_if_identical_and_is_a_problem_if_not(
    police, people
):
    identical = csv_file(EVENTS_HEADER, event_row("CR-1"), event_row("CR-1"), event_row("CR-2"))
    result = events(police, identical)
    assert (result.created, result.repeated) == (2, 1)
    assert (
        result.summary
        == "2 rows imported: 2 new, 0 updated, 0 unchanged (1 repeated row counted once)"
    )
    different = csv_file(EVENTS_HEADER, event_row("CR-3"), event_row("CR-3", kind="charge"))
    result = events(police, different)
    assert result.problems == [
        RowProblem(
            3,
            "source_reference",
            "CR-3",
            "Duplicate reference with different content: row 2 has the same source and "
            "reference with a different event_kind",
        )
    ]


# References are not case-sensitive, for any source (issue "Trust first"): "FZ-R3" and
# "fz-r3" from one source are one event, as the constraint
# unique_event_source_reference_any_case says. The reference is kept as first given.


def test_references_differing_only_in_case_are_one_event_within_a_file(police, people):
    same = csv_file(EVENTS_HEADER, event_row("FZ-R3"), event_row("fz-r3"), event_row("Fz-R3"))
    result = events(police, same)
    assert result.ok, result.problems
    assert (result.created, result.repeated) == (1, 2)
    assert list(OffendingEvent.objects.values_list("source_reference", flat=True)) == ["FZ-R3"]

    different = csv_file(EVENTS_HEADER, event_row("QX-9"), event_row("qx-9", kind="charge"))
    result = events(police, different)
    assert result.problems == [
        RowProblem(
            3,
            "source_reference",
            "qx-9",
            "Duplicate reference with different content: row 2 has the same source and "
            "reference (as QX-9: references are not case-sensitive) with a different event_kind",
        )
    ]
    assert not OffendingEvent.objects.filter(source_reference__iexact="qx-9").exists()


def test_a_reference_on_the_record_is_matched_in_any_case_not_duplicated(police, people):
    agency = police.memberships.get().agency
    OffendingEventFactory(
        offender=people[0],
        source_agency=agency,
        source_reference="FZ-R3",
        occurred_on=dt.date(2025, 6, 1),
        recorded_on=dt.date(2025, 6, 2),
        summary="",
    )
    result = events(police, csv_file(EVENTS_HEADER, event_row("fz-r3"), event_row("CR-NEW")))
    assert result.ok, (result.file_problems, result.problems)
    assert (result.created, result.unchanged) == (1, 1)
    assert sorted(OffendingEvent.objects.values_list("source_reference", flat=True)) == [
        "CR-NEW",
        "FZ-R3",  # as first given
    ]

    changed = events(police, csv_file(EVENTS_HEADER, event_row("fz-R3", kind="charge")))
    assert changed.problems == [
        RowProblem(
            2,
            "source_reference",
            "fz-R3",
            "Duplicate reference with different content: already recorded from North Police "
            "(as FZ-R3: references are not case-sensitive) as an arrest on 1 June 2025, with "
            "a different event_kind",
        )
    ]
    assert OffendingEvent.objects.count() == 2


def test_a_reference_with_letters_beyond_a_to_z_imports_again_unchanged(police, people):
    # SQLite's UPPER leaves "é" alone: the reference must still be found as given.
    data = csv_file(EVENTS_HEADER, event_row("réf-qx1"), event_row("RÉF-Qx1"))
    first = events(police, data)
    assert (first.created, first.repeated) == (1, 1)
    again = events(police, data)
    assert again.ok, (again.file_problems, again.problems)
    assert (again.created, again.unchanged, again.repeated) == (0, 1, 1)
    assert OffendingEvent.objects.get().source_reference == "réf-qx1"


def test_a_clash_with_an_import_running_at_the_same_time_writes_nothing(
    police, people, monkeypatch
):
    OffendingEventFactory(
        offender=people[0], source_agency=police.memberships.get().agency, source_reference="CR-2"
    )
    # As if another import added CR-2 between this one's checks and its writes.
    monkeypatch.setattr(importing.events, "_recorded_events", lambda rows: {})
    result = events(police, csv_file(EVENTS_HEADER, event_row("CR-1"), event_row("CR-2")))
    assert result.file_problems == [importing.CHANGED_MEANWHILE]
    assert (result.created, result.unchanged) == (0, 0)
    assert list(OffendingEvent.objects.values_list("source_reference", flat=True)) == ["CR-2"]
    assert AuditEvent.objects.count() == 0


def test_the_examples_in_the_documentation_import(manager, police_force):
    text = (Path(__file__).resolve().parents[2] / "docs" / "import-formats.md").read_text()
    examples = re.findall(r"```csv\n(.*?)```", text, flags=re.DOTALL)
    assert len(examples) == 2
    people_file, events_file = (example.encode() for example in examples)
    assert offenders(manager, people_file).created == 2
    result = events(manager, events_file)
    assert result.ok, result.problems
    assert result.created == 3


def test_queries_grow_with_batches_of_rows_not_with_rows(
    police, people, django_assert_max_num_queries
):
    small = csv_file(EVENTS_HEADER, *(event_row(f"S-{n}") for n in range(10)))
    pncs = (PNC_A, PNC_B, PNC_C)
    large = csv_file(EVENTS_HEADER, *(event_row(f"L-{n}", pnc=pncs[n % 3]) for n in range(1200)))
    with django_assert_max_num_queries(10):
        assert events(police, small).created == 10
    # SQLite inserts at most 999 parameters at a time (99 events); PostgreSQL 5,000 events.
    with django_assert_max_num_queries(30):
        assert events(police, large).created == 1200


# --- Dates in a person's life and the length of text (issue "Trust first") -------------
# The importers ask offenders.dates, as the models' clean() does: one rule, one message.


@pytest.mark.parametrize(
    "born,message",
    [
        ("1850-06-01", "Date of birth must be on or after 1 January 1900"),
        (
            "2024-09-01",  # last year
            "The person must be at least 10 years old (the age of criminal responsibility): "
            "check the date of birth",
        ),
        ("2025-09-02", "Date of birth must be in the past"),
    ],
)
def test_an_implausible_date_of_birth_is_refused_as_the_record_refuses_it(manager, born, message):
    data = csv_file(PEOPLE_HEADER, f"{PNC_A},Qxffion,Zzinvented,{born},F,,,")
    result = offenders(manager, data)
    assert result.problems == [RowProblem(2, "date_of_birth", born, message)]
    assert not Offender.objects.exists()


def test_a_person_turning_ten_today_can_be_imported(manager):
    data = csv_file(PEOPLE_HEADER, f"{PNC_A},Qxffion,Zzinvented,2015-09-01,F,,,")
    assert offenders(manager, data).created == 1


def test_an_event_before_the_persons_tenth_birthday_is_refused(police, people):
    people[0].date_of_birth = dt.date(2010, 1, 1)
    people[0].save()
    data = csv_file(
        EVENTS_HEADER,
        event_row("CR-1", committed="2019-12-31", recorded="2020-01-02"),
        event_row("CR-2", committed="2020-01-01", recorded="2020-01-02"),  # the birthday
        event_row("CR-3", pnc=PNC_B, committed="2019-12-31", recorded="2020-01-02"),  # born 1990
    )
    result = events(police, data)
    assert result.problems == [
        RowProblem(
            2,
            "date_committed",
            "2019-12-31",
            "The date it happened cannot be before the person's 10th birthday "
            "(1 January 2020), the age of criminal responsibility",
        )
    ]
    assert OffendingEvent.objects.count() == 0
    accepted = events(police, csv_file(EVENTS_HEADER, *data.decode().splitlines()[2:]))
    assert accepted.created == 2


@pytest.mark.parametrize("day", ["0001-01-01", "01/01/0001", "1899-12-31"])
def test_an_event_dated_before_1900_is_refused(police, people, day):
    data = csv_file(EVENTS_HEADER, event_row(committed=day, recorded=day))
    result = events(police, data)
    assert result.problems == [
        RowProblem(
            2, "date_committed", day, "The date it happened must be on or after 1 January 1900"
        ),
        RowProblem(2, "date_recorded", day, "The date recorded must be on or after 1 January 1900"),
    ]
    assert OffendingEvent.objects.count() == 0


def test_a_summary_over_the_records_limit_is_refused_naming_the_limit(police, people):
    limit = OffendingEvent._meta.get_field("summary").max_length
    assert limit == 4000
    data = csv_file(
        EVENTS_HEADER, event_row("CR-1", summary="q" * 4001), event_row("CR-2", summary="q" * 4000)
    )
    result = events(police, data)
    assert result.problems == [
        RowProblem(
            2, "summary", "q" * 79 + "…", "Must be 4,000 characters or fewer: this has 4,001"
        )
    ]
    assert OffendingEvent.objects.count() == 0
    data = csv_file(EVENTS_HEADER, event_row("CR-2", summary="q" * 4000))
    assert events(police, data).created == 1


def test_a_reference_over_the_records_limit_is_refused_naming_the_limit(police, people):
    assert OffendingEvent._meta.get_field("source_reference").max_length == 60
    result = events(police, csv_file(EVENTS_HEADER, event_row("R" * 61)))
    assert [(p.column, p.problem) for p in result.problems] == [
        ("source_reference", "Must be 60 characters or fewer: this has 61")
    ]


def test_names_and_local_references_over_the_records_limits_are_refused(manager):
    header = "pnc_id,first_name,last_name,date_of_birth,local_ref"
    data = csv_file(header, f"{PNC_A},{'Q' * 101},{'Z' * 100},1990-04-01,{'L' * 41}")
    result = offenders(manager, data)
    assert [(p.column, p.problem) for p in result.problems] == [
        ("first_name", "Must be 100 characters or fewer: this has 101"),
        ("local_ref", "Must be 40 characters or fewer: this has 41"),
    ]
    assert not Offender.objects.exists()


# --- Bad files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "delimiter,words",
    [(";", "';'"), ("\t", "tabs"), ("|", "'|'")],
)
def test_a_wrong_delimiter_is_named(police, people, delimiter, words):
    data = csv_file(EVENTS_HEADER.replace(",", delimiter), event_row().replace(",", delimiter))
    result = events(police, data)
    assert result.file_problems == [
        f"The file uses {words} between columns: save it as comma-separated (CSV)"
    ]
    assert OffendingEvent.objects.count() == 0


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf", b"  \r\n"])
def test_an_empty_file_says_so(police, data):
    assert events(police, data).file_problems == [importing.EMPTY_FILE]


def test_a_header_only_file_says_so(police):
    result = events(police, csv_file(EVENTS_HEADER, ",,,,,,,", ""))
    assert result.file_problems == [
        "The file has a header row but no rows to import: check it is the right file"
    ]


def test_missing_and_unknown_columns_are_named(police, manager):
    header = "source,source_reference,pnc_id,event_kind,date_committed,colour"
    result = events(police, csv_file(header, "a,b,c,d,e,f"))
    assert result.file_problems == [
        "The header row is missing these columns: offence_category, date_recorded; the header "
        "row has columns this import does not use: colour. The columns are: source, "
        "source_reference, pnc_id, event_kind, offence_category, date_committed, date_recorded, "
        "summary"
    ]
    wrong_kind = offenders(manager, csv_file(EVENTS_HEADER, event_row()))
    assert "this looks like a file of offending events" in wrong_kind.file_problems[0]
    no_header = events(police, csv_file(event_row(), event_row("CR-2")))
    assert no_header.file_problems[0].startswith("The first row must be the header row")


def test_a_file_with_a_byte_order_mark_and_windows_line_endings_imports(police, people):
    data = b"\xef\xbb\xbf" + csv_file(
        " Source ,Source Reference,PNC ID,event_kind,offence_category,date_committed,"
        "date_recorded,summary",
        event_row("CR-1", summary='"One line, with a comma and a ""quote"""'),
        event_row("CR-2"),
        "",
        newline="\r\n",
    )
    result = events(police, data)
    assert result.ok, (result.file_problems, result.problems)
    assert result.created == 2
    assert OffendingEvent.objects.get(source_reference="CR-1").summary == (
        'One line, with a comma and a "quote"'
    )
    assert events(police, data).unchanged == 2


def test_a_row_with_the_wrong_number_of_values_is_a_whole_row_problem(police, people):
    result = events(police, csv_file(EVENTS_HEADER, event_row() + ",extra"))
    assert result.problems == [
        RowProblem(
            2,
            "",
            "",
            "This row has 9 values but the header row has 8 columns: a value with a comma in it "
            "must be in double quotes",
        )
    ]


@pytest.mark.parametrize(
    "data,message",
    [
        (
            "source,café\n".encode("latin-1"),
            "The file is not saved as UTF-8 text (line 1 has a character that cannot be read): "
            'save it as "CSV UTF-8 (comma delimited)" and upload it again',
        ),
        (
            EVENTS_HEADER.encode("utf-16"),
            'The file is saved as UTF-16 (Unicode text): save it as "CSV UTF-8 (comma '
            'delimited)" and upload it again',
        ),
        (
            b"PK\x03\x04\x14\x00\x06\x00",
            'The file is an Excel workbook, not a CSV file: save it as "CSV UTF-8 (comma '
            'delimited)" and upload it again',
        ),
        (
            b"source\x00,x\n",
            'The file holds binary data, not CSV text: save it as "CSV UTF-8 (comma '
            'delimited)" and upload it again',
        ),
    ],
)
def test_a_file_that_is_not_utf8_csv_text_says_how_to_save_it(police, data, message):
    assert events(police, data).file_problems == [message]


def test_a_file_over_the_limit_is_refused_before_it_is_read(police):
    too_big = b"x" * (importing.MAX_IMPORT_BYTES + 1)
    assert events(police, too_big).file_problems == [
        "The file is 20.1 MB: the limit is 20 MB; split it into smaller files"
    ]
    assert importing.too_large_message(50 * importing.MB) == (
        "The file is 50 MB: the limit is 20 MB; split it into smaller files"
    )

    class Unreadable(io.BytesIO):
        size = 50 * importing.MB

        def read(self, *args):
            raise AssertionError("an oversized file must not be read")

    assert events(police, Unreadable()).file_problems == [
        "The file is 50 MB: the limit is 20 MB; split it into smaller files"
    ]

    # A stream that does not say its size is read only up to the limit.
    class Stream:
        def read(self, size):
            return b"y" * min(size, 3000)

    assert events(police, Stream(), max_bytes=1024).file_problems == [
        "The file is too large: the limit is 1 KB; split it into smaller files"
    ]


def test_a_larger_limit_can_be_passed_for_the_command_line(police, people):
    data = csv_file(EVENTS_HEADER, event_row())
    assert events(police, data, max_bytes=10).file_problems
    assert events(police, data, max_bytes=10 * importing.MB).ok


# --- The page -------------------------------------------------------------------------


def upload(client, data: bytes, kind: str = "events", name: str = "events.csv"):
    return client.post(
        reverse("offenders:import"),
        {"kind": kind, "file": SimpleUploadedFile(name, data, content_type="text/csv")},
        follow=True,
    )


def test_police_upload_a_file_and_see_what_was_imported(client, police, people):
    sign_in(client, police)
    page = client.get(reverse("offenders:import"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert "govuk-file-upload" in html and "CSV, up to 20MB" in html
    assert "How to format your file" in html and "date_committed" in html
    response = upload(
        client,
        csv_file(EVENTS_HEADER, event_row("CR-1", committed="2025-01-01"), event_row("CR-2")),
    )
    assert response.redirect_chain == [(reverse("offenders:import"), 302)]
    html = response.content.decode()
    assert "govuk-notification-banner--success" in html
    assert "2 rows imported: 2 new, 0 updated, 0 unchanged" in html
    assert OffendingEvent.objects.count() == 2
    assert AuditEvent.objects.get(action=AuditAction.CREATE).channel == "web"


def test_a_ppo_manager_imports_people_on_the_page(client, manager):
    sign_in(client, manager)
    response = upload(
        client,
        csv_file(PEOPLE_HEADER, f"{PNC_A},Ffion,Invented,1990-04-01,F,white,,"),
        kind="offenders",
        name="people.csv",
    )
    assert "1 row imported: 1 new, 0 updated, 0 unchanged" in response.content.decode()
    assert Offender.objects.filter(pnc_id=PNC_A).exists()


def test_row_problems_are_listed_in_a_table_and_nothing_is_imported(client, police, people):
    sign_in(client, police)
    response = upload(
        client, csv_file(EVENTS_HEADER, event_row("CR-1"), event_row("CR-2", kind="x"))
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Error: " in html
    assert "govuk-error-summary" in html
    assert "1 problem in 1 row: nothing has been imported" in html
    assert 'id="rows-not-imported"' in html and "moj-scrollable-pane" in html
    assert '<th scope="row" class="govuk-table__header govuk-table__header--numeric">3</th>' in html
    assert "Unknown event kind" in html
    assert 'value="events" checked' in html
    assert OffendingEvent.objects.count() == 0


def test_the_page_shows_the_first_500_problems_and_counts_the_rest(client, police, people):
    sign_in(client, police)
    rows = [event_row(f"CR-{n}", kind="nonsense") for n in range(600)]
    html = upload(client, csv_file(EVENTS_HEADER, *rows)).content.decode()
    assert "600 problems in 600 rows" in html
    assert (
        html.count('<th scope="row" class="govuk-table__header govuk-table__header--numeric"')
        == 500
    )
    assert "The first 500 problems are shown; 100 more are not" in html


def test_whole_file_problems_are_shown_against_the_file_input(client, police):
    sign_in(client, police)
    html = upload(client, csv_file(EVENTS_HEADER.replace(",", ";"))).content.decode()
    assert '<a href="#file">The file uses &#x27;;&#x27; between columns' in html
    assert 'id="file-error"' in html
    assert "govuk-file-upload--error" in html


def test_no_file_chosen(client, police):
    sign_in(client, police)
    response = client.post(reverse("offenders:import"), {"kind": "events"})
    assert response.status_code == 200
    assert "Select a CSV file" in response.content.decode()
    response = client.post(reverse("offenders:import"), {})
    assert "Select what the file holds" in response.content.decode()


def test_the_page_refuses_an_upload_over_the_limit(client, police, monkeypatch):
    sign_in(client, police)
    monkeypatch.setattr(importing, "MAX_IMPORT_BYTES", 1024)

    def never(*args, **kwargs):
        raise AssertionError("an oversized upload must not be imported")

    monkeypatch.setitem(importing.IMPORTERS, "events", never)
    response = upload(client, b"x" * 3 * 1024 * 1024)
    assert response.status_code == 200
    assert "The file is 3 MB: the limit is 1 KB; split it into smaller files" in (
        response.content.decode()
    )


@pytest.mark.parametrize("seed", range(5))
def test_the_page_never_fails_on_garbage(client, police, people, seed):
    sign_in(client, police)
    noise = random.Random(seed).randbytes(4000)
    for kind in ("events", "offenders"):
        response = upload(client, noise, kind=kind, name="garbage.csv")
        assert response.status_code == 200
        assert "There is a problem" in response.content.decode()
    assert OffendingEvent.objects.count() == 0


def test_a_garbled_request_body_is_not_a_server_error(client, police):
    sign_in(client, police)
    client.raise_request_exception = False
    response = client.generic(
        "POST",
        reverse("offenders:import"),
        random.Random(1).randbytes(2000),
        content_type="multipart/form-data; boundary=zzz",
    )
    assert response.status_code < 500


@pytest.mark.parametrize("role", [Role.KEY_WORKER, Role.PARTNER_WORKER, Role.YOT_WORKER])
def test_other_roles_get_a_403(client, db, role):
    sign_in(client, staff(role))
    assert client.get(reverse("offenders:import")).status_code == 403
    response = upload(client, csv_file(EVENTS_HEADER, event_row()))
    assert response.status_code == 403
    assert b"You do not have permission" in response.content
    template = reverse("offenders:import-template", args=["events"])
    assert client.get(template).status_code == 403


def test_a_template_file_can_be_downloaded_and_fills_in_cleanly(client, police):
    sign_in(client, police)
    response = client.get(reverse("offenders:import-template", args=["offenders"]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header = response.content.decode().splitlines()[0]
    assert header == ",".join(column.name for column in importing.OFFENDER_COLUMNS)
    assert client.get(reverse("offenders:import-template", args=["nonsense"])).status_code == 404


# --- The commands ---------------------------------------------------------------------


def test_the_events_command_imports_a_file_as_the_given_user(tmp_path, police, people):
    path = tmp_path / "extract.csv"
    path.write_bytes(csv_file(EVENTS_HEADER, event_row("CR-1"), event_row("CR-2")))
    out = io.StringIO()
    call_command("import_events", str(path), "--as", "pc", stdout=out)
    assert "extract.csv: 2 rows imported: 2 new, 0 updated, 0 unchanged" in out.getvalue()
    audit = AuditEvent.objects.get()
    assert (audit.channel, audit.user, audit.detail["import"]) == ("command", police, "extract.csv")
    call_command("import_events", str(path), "--as", "pc", stdout=out)
    assert "0 new, 0 updated, 2 unchanged" in out.getvalue()
    assert OffendingEvent.objects.count() == 2


def test_import_events_file_alone_runs_as_the_configured_import_user(
    tmp_path, police, people, monkeypatch
):
    """DESIGN.md names the command `import_events FILE`: scheduled jobs name the account once."""
    path = tmp_path / "extract.csv"
    path.write_bytes(csv_file(EVENTS_HEADER, event_row("CR-1")))
    monkeypatch.delenv("PPO_IMPORT_USER", raising=False)
    with pytest.raises(CommandError, match="Say who is importing"):
        call_command("import_events", str(path))
    assert OffendingEvent.objects.count() == 0
    monkeypatch.setenv("PPO_IMPORT_USER", "pc")
    call_command("import_events", str(path), stdout=io.StringIO())
    assert OffendingEvent.objects.get().recorded_by == police
    assert AuditEvent.objects.get().user == police


def test_the_command_prints_every_problem_and_fails(tmp_path, police, people):
    path = tmp_path / "extract.csv"
    path.write_bytes(
        csv_file(EVENTS_HEADER, event_row("CR-1"), event_row("CR-2", committed="2025-02-30"))
    )
    err = io.StringIO()
    failed = r"Nothing imported from extract\.csv: 1 problem in 1 row"
    with pytest.raises(CommandError, match=failed):
        call_command("import_events", str(path), "--as", "pc", stderr=err)
    assert f"row 3, date_committed '2025-02-30': {importing.BAD_DATE}" in err.getvalue()
    assert OffendingEvent.objects.count() == 0


def test_the_people_command_and_its_refusals(tmp_path, manager, police, monkeypatch):
    monkeypatch.delenv("PPO_IMPORT_USER", raising=False)
    path = tmp_path / "people.csv"
    path.write_bytes(csv_file(PEOPLE_HEADER, f"{PNC_A},Ffion,Invented,1990-04-01,,,,"))
    out = io.StringIO()
    call_command("import_offenders", str(path), "--as", "manager", stdout=out)
    assert "1 new" in out.getvalue()
    staff(Role.KEY_WORKER, username="kw")
    with pytest.raises(CommandError, match="kw: Your role cannot add people"):
        call_command("import_offenders", str(path), "--as", "kw")
    with pytest.raises(CommandError, match="no active user with the username 'nobody'"):
        call_command("import_offenders", str(path), "--as", "nobody")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_offenders", str(tmp_path / "missing.csv"), "--as", "manager")
    with pytest.raises(CommandError, match="Say who is importing"):
        call_command("import_offenders", str(path))
    big = tmp_path / "big.csv"
    big.write_bytes(csv_file(PEOPLE_HEADER, *[f"{PNC_A},Ffion,Invented,1990-04-01,,,,"] * 30000))
    with pytest.raises(CommandError, match="the limit is 1 MB"):
        call_command("import_offenders", str(big), "--as", "manager", "--max-mb", "1")
    call_command("import_offenders", str(big), "--as", "manager", "--max-mb", "2", stdout=out)
    assert "(29,999 repeated rows counted once)" in out.getvalue()
