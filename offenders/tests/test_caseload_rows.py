"""The caseload's rows and choices built for speed (issue 15): the manager's worker
choices from one small query, and each row's display text worked out once in Python."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.models import Role
from access.policy import actor_for
from offenders.caseload import _worker_choices, caseload_page, caseload_people, sort_rows
from offenders.models import ProgrammeKind, Strand
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, staff

pytestmark = pytest.mark.django_db


def on_a_tier(**fields):
    person = OffenderFactory(**fields)
    ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.PPO)
    return person


@pytest.fixture
def workers():
    made = {
        name: staff(Role.KEY_WORKER, username=name, first_name=first, last_name=last)
        for name, first, last in (
            ("kw_b", "Bea", "Brook"),
            ("kw_a", "Abe", "Ash"),
            ("om_c", "Cal", "Crane"),
            ("kw_idle", "Ida", "Idle"),
        )
    }
    for _ in range(3):
        on_a_tier(key_worker=made["kw_b"])
    on_a_tier(key_worker=made["kw_a"], offender_manager=made["om_c"])
    # Allocated only to someone on no tier today: not a worker on the caseload.
    OffenderFactory(key_worker=made["kw_idle"])
    former = OffenderFactory(key_worker=made["kw_idle"])
    ProgrammeEpisodeFactory(
        offender=former,
        kind=ProgrammeKind.PPO,
        selected_on=dt.date(2020, 1, 1),
        deselected_on=dt.date(2021, 1, 1),
        deselection_reason="moved_area",
    )
    return made


def test_worker_choices_are_each_allocated_worker_once_by_name(workers):
    manager = actor_for(staff(Role.PPO_MANAGER))
    people = caseload_people(manager)
    with CaptureQueriesContext(connection) as captured:
        choices = _worker_choices(people)
    assert len(captured.captured_queries) == 1
    assert choices == [
        (workers["kw_a"].pk, "Abe Ash"),
        (workers["kw_b"].pk, "Bea Brook"),
        (workers["om_c"].pk, "Cal Crane"),
    ]


def test_a_worker_with_no_name_is_offered_by_username(db):
    nameless = staff(Role.KEY_WORKER, username="no-name", first_name="", last_name="")
    on_a_tier(key_worker=nameless)
    manager = actor_for(staff(Role.PPO_MANAGER))
    assert _worker_choices(caseload_people(manager)) == [(nameless.pk, "no-name")]


def test_rows_carry_their_display_text(db):
    worker = staff(Role.KEY_WORKER, username="kw", first_name="Kim", last_name="Walker")
    on_a_tier(
        last_name="Allocated",
        key_worker=worker,
        date_of_birth=dt.date(1990, 1, 3),
        strands=[Strand.REHABILITATE_RESETTLE, Strand.CATCH_CONVICT],
    )
    on_a_tier(last_name="Unallocated", date_of_birth=dt.date(1985, 12, 25), strands=[])
    caseload = caseload_page(user=staff(Role.PPO_MANAGER), params={"sort": "name"})
    rows = {row.offender.last_name: row for row in caseload.rows}
    allocated, unallocated = rows["Allocated"], rows["Unallocated"]
    assert allocated.key_worker_name == "Kim Walker"
    assert allocated.date_of_birth_shown == "3 Jan 1990"
    # In the order Strand lists them, as the labels the column shows.
    assert allocated.strand_labels == ["Catch and Convict", "Rehabilitate and Resettle"]
    assert unallocated.key_worker_name == ""
    assert unallocated.date_of_birth_shown == "25 Dec 1985"
    assert unallocated.strand_labels == []
    # Sorting by strands reads the same text; nobody on a strand comes last.
    by_strand = sort_rows(caseload.rows, "strand", "desc")
    assert [row.offender.last_name for row in by_strand] == ["Allocated", "Unallocated"]
