"""Every selection read that names people writes its audit row (DPA 2018 s.62).

Each test asserts the row its selector writes, so deleting that `audit.*` call fails it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from access.models import AuditAction, AuditEvent, Role
from offenders.models import EventKind
from selection import selectors, services
from tests.factories import OffenderFactory, OffendingEventFactory, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return staff(Role.PPO_MANAGER)


@pytest.fixture
def run(manager):
    person = OffenderFactory(first_name="Qxaudited")
    for months in range(4):
        OffendingEventFactory(
            offender=person,
            kind=EventKind.CONVICTION,
            occurred_on=dt.date.today() - dt.timedelta(days=20 + 30 * months),
        )
    return services.selection_run(user=manager), person


def test_reading_a_ranking_is_audited_with_the_people_shown(manager, run):
    selection_run, person = run
    ranking = selectors.run_ranking(user=manager, run_id=selection_run.pk)
    row = AuditEvent.objects.get(action=AuditAction.LIST, record_type="selection.runentry")
    assert row.offender_ids == [person.pk] == [e.offender_id for e in ranking.entries]
    assert row.detail["run"] == selection_run.pk


def test_reading_a_score_explanation_is_audited(manager, run):
    selection_run, person = run
    selectors.run_entry(user=manager, run_id=selection_run.pk, offender_id=person.pk)
    row = AuditEvent.objects.get(action=AuditAction.VIEW)
    assert row.offender_ids == [person.pk] and row.detail["view"] == "score explanation"


def test_a_what_if_is_audited_with_the_people_it_names(manager, run):
    _, person = run
    draft = services.matrix_draft_create(user=manager)
    result = selectors.what_if(user=manager, draft_id=draft.pk)
    assert [s.offender_id for s in result.draft_top] == [person.pk]
    row = AuditEvent.objects.get(action=AuditAction.LIST, record_type="offenders.offender")
    assert row.offender_ids == [person.pk] and row.detail["view"] == "matrix what-if"


def test_a_run_or_person_that_is_not_there_is_a_refusal_on_the_record(manager, run):
    from access.errors import OutOfScope

    selection_run, _ = run
    for kwargs in (
        {"run_id": 10**30, "offender_id": 1},
        {"run_id": selection_run.pk, "offender_id": 0},
    ):
        with pytest.raises(OutOfScope):
            selectors.run_entry(user=manager, **kwargs)
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).count() == 2
