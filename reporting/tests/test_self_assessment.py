"""The 004 self-assessment: every subsection with the tool's words, ratings recorded by a
PPO manager only, versioned against concurrent edits, audited, bad input refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction, AuditEvent, Role
from reporting.models import SelfAssessment
from reporting.self_assessment import (
    SUBSECTIONS,
    StaleAssessment,
    self_assessment_record,
    self_assessment_year,
)
from tests.factories import staff

AS_OF = dt.date(2025, 6, 3)
# A copy of the source document (shared/seeds/004_*.txt, the self-assessment tool) kept with
# the tests, so a clean checkout can check the tool's wording against it.
SEED = Path(__file__).resolve().parent / "data" / "004_self_assessment_tool.txt"


@pytest.fixture
def manager(db):
    return staff(Role.PPO_MANAGER)


def record(user, **changes):  # type: ignore[no-untyped-def]
    fields = {"year": 2025, "subsection": "3.2", "rag": "amber", "evidence": "Weekly checks"}
    fields.update(changes)
    fields.setdefault("version", 0)
    return self_assessment_record(user=user, as_of=AS_OF, **fields)


def test_every_subsection_of_the_tool_in_order_with_its_words():
    assert [s.number for s in SUBSECTIONS] == [
        "1.1", "2.1", "2.2", "2.3", "2.4", "3.1", "3.2", "4.1", "4.2", "5.1", "5.2",
    ]  # fmt: skip
    seed = " ".join(SEED.read_text().split())
    for criterion in (
        "IOM and PPO governance structures are interlinked.",
        "Key stakeholders are fully committed to delivering the PPO Premium Service.",
        "Intelligence sharing is included in information sharing protocols.",
    ):
        assert criterion in seed
        assert any(criterion in s.criteria for s in SUBSECTIONS)


def test_a_manager_records_a_rating_audited_then_updates_it_at_its_version(manager):
    row = record(manager)
    assert (row.rag, row.version, row.year_starts_on) == ("amber", 1, dt.date(2025, 4, 1))
    updated = record(manager, rag="green", evidence="All standards met", version=1)
    assert updated.version == 2
    actions = list(
        AuditEvent.objects.filter(record_type="reporting.selfassessment")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [AuditAction.CREATE, AuditAction.UPDATE]


def test_a_concurrent_edit_is_refused_and_nothing_saved(manager):
    record(manager)
    record(manager, rag="red", evidence="First", version=1)
    with pytest.raises(StaleAssessment) as stale:
        record(manager, rag="green", evidence="Second, from an old page", version=1)
    assert stale.value.current.evidence == "First"
    assert SelfAssessment.objects.get().rag == "red"
    with pytest.raises(StaleAssessment):  # a first rating that someone else already made
        record(manager, version=0)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"rag": "purple"}, "Choose a rating"),
        ({"rag": ""}, "Choose a rating"),
        ({"rag": "red", "evidence": "   "}, "Enter the evidence"),
        ({"rag": "amber", "evidence": ""}, "Enter the evidence"),
        ({"rag": "green", "evidence": ""}, "Enter the evidence"),
        ({"subsection": "9.9"}, "no subsection"),
        ({"year": 2026}, "choose this financial year"),
        ({"evidence": "x" * 8001}, "8,000 characters"),
    ],
)
def test_bad_input_is_a_message_and_nothing_is_saved(manager, changes, message):
    with pytest.raises(ApplicationError, match=message):
        record(manager, **changes)
    assert not SelfAssessment.objects.exists()


@pytest.mark.parametrize("role", [Role.STEERING_GROUP, Role.KEY_WORKER, Role.POLICE_OFFICER])
def test_only_a_ppo_manager_records(db, role):
    with pytest.raises(NotPermitted):
        record(staff(role))


def test_last_years_rating_beside_this_years_and_the_steering_group_reads(manager):
    record(manager, year=2024, rag="red", evidence="No premium service yet")
    record(manager, rag="green", evidence="Premium service in place")
    page = self_assessment_year(user=staff(Role.STEERING_GROUP), year=2025, as_of=AS_OF)
    row = page.row("3.2")
    assert (row.this_year.rag, row.last_year.rag) == ("green", "red")
    assert page.row("1.1").this_year is None
    assert not page.may_record
    with pytest.raises(NotPermitted):
        self_assessment_year(user=staff(Role.KEY_WORKER), as_of=AS_OF)


def test_measured_evidence_is_offered_where_a_criterion_can_be_measured(manager):
    page = self_assessment_year(user=manager, year=2025, as_of=AS_OF)
    assert page.row("3.1").measured and page.row("4.1").measured
    assert page.row("2.2").measured == ()


def test_queries_do_not_grow_with_the_ratings(manager, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    self_assessment_year(user=manager, year=2025, as_of=AS_OF)
    with CaptureQueriesContext(connection) as few:
        self_assessment_year(user=manager, year=2025, as_of=AS_OF)
    for s in SUBSECTIONS:
        record(manager, subsection=s.number)
        record(manager, subsection=s.number, year=2024)
    with django_assert_max_num_queries(len(few.captured_queries)):
        self_assessment_year(user=manager, year=2025, as_of=AS_OF)
