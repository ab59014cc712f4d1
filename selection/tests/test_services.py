"""Matrix drafts, adoption and runs: who may, what is refused, and what is saved."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from access.errors import ApplicationError, NotPermitted
from access.models import AgencyKind, AuditAction, AuditEvent, Role
from offenders.models import EventKind, OffenceCategory, ProgrammeKind
from selection import services
from selection.models import Criterion, MatrixStatus, MatrixVersion, RunEntry, SelectionRun
from tests.factories import (
    AgencyFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db):
    return staff(Role.PPO_MANAGER)


def default_version() -> MatrixVersion:
    return MatrixVersion.objects.get(number=1)


def test_a_draft_copies_the_adopted_version(manager):
    draft = services.matrix_draft_create(user=manager)
    source = default_version()
    assert draft.status == MatrixStatus.DRAFT and draft.number == 2
    assert sorted(draft.criteria.values_list("kind", "event_kind", "weight")) == sorted(
        source.criteria.values_list("kind", "event_kind", "weight")
    )
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="selection.matrixversion"
    ).exists()


@pytest.mark.parametrize(
    "role", [Role.KEY_WORKER, Role.POLICE_OFFICER, Role.YOT_WORKER, Role.STEERING_GROUP]
)
def test_only_the_ppo_manager_changes_the_matrix_or_runs_selection(role):
    user = staff(role)
    with pytest.raises(NotPermitted):
        services.matrix_draft_create(user=user)
    with pytest.raises(NotPermitted):
        services.selection_run(user=user)
    assert MatrixVersion.objects.count() == 1 and not SelectionRun.objects.exists()


@pytest.mark.parametrize(
    "value,message",
    [("-1", "cannot be negative"), ("two", "as a number"), ("nan", "as a number"), ("1e9", "less")],
)
def test_a_bad_weight_is_refused_and_changes_nothing(manager, value, message):
    draft = services.matrix_draft_create(user=manager)
    criterion = draft.criteria.first()
    before = criterion.weight
    with pytest.raises(ApplicationError) as error:
        services.matrix_draft_update(
            user=manager, version_id=draft.pk, weights={criterion.pk: value}
        )
    assert message in error.value.message
    criterion.refresh_from_db()
    assert criterion.weight == before


def test_a_matrix_with_no_criteria_is_refused(manager):
    draft = services.matrix_draft_create(user=manager)
    ids = list(draft.criteria.values_list("pk", flat=True))
    with pytest.raises(ApplicationError, match="at least one criterion"):
        services.matrix_draft_update(user=manager, version_id=draft.pk, weights={}, remove=ids)
    assert draft.criteria.count() == len(ids)


def test_a_threshold_above_every_possible_score_is_refused(manager):
    draft = services.matrix_draft_create(user=manager)
    bounded = {"community_impact": "5", "drug_misuse": "4", "likelihood": "1"}
    weights = {
        c.pk: bounded.get(c.kind, "0") for c in draft.criteria.all()
    }  # highest possible: 5 + 4 + 1 × 10 = 19
    services.matrix_draft_update(
        user=manager, version_id=draft.pk, weights=weights, settings={"threshold": "19"}
    )
    with pytest.raises(ApplicationError, match="above the highest score"):
        services.matrix_draft_update(
            user=manager, version_id=draft.pk, weights={}, settings={"threshold": "19.01"}
        )
    draft.refresh_from_db()
    assert draft.threshold == Decimal("19.00")


def test_an_adopted_version_cannot_be_changed(manager):
    version = default_version()
    criterion = version.criteria.first()
    with pytest.raises(ApplicationError, match="adopted"):
        services.matrix_draft_update(
            user=manager, version_id=version.pk, weights={criterion.pk: "9"}
        )
    with pytest.raises(ValidationError):
        criterion.weight = Decimal("9")
        criterion.save()
    version.threshold = Decimal("1")
    with pytest.raises(ValidationError):
        version.save()
    version.refresh_from_db()
    assert version.threshold == Decimal("10.00")


def test_adopting_a_draft_retires_the_version_before_it(manager):
    draft = services.matrix_draft_create(user=manager)
    services.matrix_adopt(user=manager, version_id=draft.pk)
    assert MatrixVersion.objects.get(pk=draft.pk).status == MatrixStatus.ADOPTED
    assert default_version().status == MatrixStatus.RETIRED
    with pytest.raises(ApplicationError):
        services.matrix_adopt(user=manager, version_id=draft.pk)


def test_adding_a_priority_crime_criterion(manager):
    draft = services.matrix_draft_create(user=manager)
    robbery = OffenceCategory.objects.get(name="Robbery – personal")
    services.matrix_draft_update(
        user=manager,
        version_id=draft.pk,
        weights={},
        add=[{"kind": "priority_crime", "category_id": robbery.pk, "weight": "4"}],
    )
    assert draft.criteria.filter(kind="priority_crime", category=robbery).exists()
    with pytest.raises(ApplicationError, match="already has"):
        services.matrix_draft_update(
            user=manager,
            version_id=draft.pk,
            weights={},
            add=[{"kind": "priority_crime", "category_id": robbery.pk, "weight": "1"}],
        )
    with pytest.raises(ValidationError):
        services.matrix_draft_update(
            user=manager, version_id=draft.pk, weights={}, add=[{"kind": "events", "weight": "1"}]
        )


def test_a_run_saves_those_considered_with_their_explanations(manager):
    active = OffenderFactory(first_name="Qxrunactive")
    for n in range(3):
        OffendingEventFactory(
            offender=active,
            kind=EventKind.CONVICTION,
            occurred_on=dt.date.today().replace(day=1) - dt.timedelta(days=30 * n),
        )
    ppo = OffenderFactory(first_name="Qxrunppo")
    ProgrammeEpisodeFactory(offender=ppo, kind=ProgrammeKind.PPO)
    OffenderFactory(first_name="Qxrunquiet")
    run = services.selection_run(user=manager)
    entries = {e.offender.first_name: e for e in RunEntry.objects.filter(run=run)}
    assert set(entries) == {"Qxrunactive", "Qxrunppo"}
    active_entry = entries["Qxrunactive"]
    assert active_entry.rank == 1 and active_entry.above_threshold
    assert sum(Decimal(part["points"]) for part in active_entry.explanation) == active_entry.score
    assert entries["Qxrunppo"].tier == "ppo" and not entries["Qxrunppo"].above_threshold
    assert run.version == default_version() and run.pool_size == 3
    row = AuditEvent.objects.get(action=AuditAction.CREATE, record_type="selection.selectionrun")
    assert sorted(row.offender_ids) == sorted([active.pk, ppo.pk])


def test_a_run_never_uses_a_draft(manager):
    draft = services.matrix_draft_create(user=manager)
    with pytest.raises(ApplicationError, match="adopted matrix"):
        services.selection_run(user=manager, version_id=draft.pk)


def test_a_risk_assessment_is_bounded_by_the_persons_life(manager):
    person = OffenderFactory(date_of_birth=dt.date(1990, 1, 1))
    AgencyFactory(name="Qx probation", kind=AgencyKind.PROBATION)
    with pytest.raises(ValidationError):
        services.risk_assessment_record(
            user=manager,
            offender_id=person.pk,
            assessed_on=dt.date(1980, 1, 1),
            tool="oasys",
            likelihood_score=50,
            rosh_level="low",
        )
    with pytest.raises(ValidationError):
        services.risk_assessment_record(
            user=manager,
            offender_id=person.pk,
            assessed_on=dt.date(2025, 1, 1),
            tool="oasys",
            likelihood_score=101,
            rosh_level="low",
        )
    assessment = services.risk_assessment_record(
        user=manager,
        offender_id=person.pk,
        assessed_on=dt.date(2025, 1, 1),
        tool="oasys",
        likelihood_score=64,
        rosh_level="high",
    )
    assert assessment.agency_id == manager.memberships.get().agency_id
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="selection.riskassessment"
    ).exists()


def test_criteria_of_an_adopted_version_cannot_be_deleted():
    criterion = Criterion.objects.filter(version__number=1).first()
    with pytest.raises(ValidationError):
        criterion.delete()


def test_recent_months_longer_than_the_window_are_refused(manager):
    draft = services.matrix_draft_create(user=manager)
    with pytest.raises(ValidationError) as error:
        services.matrix_draft_update(
            user=manager,
            version_id=draft.pk,
            weights={},
            settings={"window_months": 12, "recent_months": 13},
        )
    assert "recent_months" in error.value.message_dict
    draft.refresh_from_db()
    assert (draft.window_months, draft.recent_months) == (12, 3)


def test_the_same_criterion_cannot_be_in_a_version_twice(manager):
    """The benchmark found a second "harm" criterion passing the old constraint (an empty
    category is NULL, and NULLs never clash) and being scored twice."""
    from django.db import IntegrityError, transaction

    draft = services.matrix_draft_create(user=manager)
    with pytest.raises(IntegrityError), transaction.atomic():
        Criterion.objects.create(version=draft, kind="harm", weight=Decimal("1"))
    duplicate = Criterion(version=draft, kind="harm", weight=Decimal("1"))
    with pytest.raises(ValidationError, match="already has that criterion"):
        duplicate.full_clean()
