"""Retention review and erasure (offenders.retention; issue 14 item 5, DPA 2018 Part 3).

Records are written straight onto the models (by label, through the app registry: the
offenders app imports none of the apps above it, its tests included), not through the
code under test. The expected counts are written out by hand from what each test builds.
Runs on SQLite and, with DATABASE_URL, on PostgreSQL, where the audit table itself
refuses DELETE: erasure must not need to delete a single audit row.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access import audit
from access.errors import NotPermitted
from access.models import AgencyKind, AuditAction, AuditEvent, FormSubmission, Role
from access.policy import actor_for
from offenders import retention
from offenders.models import (
    ContactOutcome,
    DeselectionReason,
    Offender,
    RetentionKind,
    RetentionRule,
    Strand,
)
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    CustodyEpisodeFactory,
    DrugTestFactory,
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    sign_in,
    staff,
)

D = dt.date
M = apps.get_model


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)


def left_on(day: dt.date, *, selected: dt.date | None = None, **person: Any) -> Any:
    """A former PPO: one episode ending on `day`, no other record."""
    offender = OffenderFactory(**person)
    ProgrammeEpisodeFactory(
        offender=offender,
        selected_on=selected or D(day.year - 2, 1, 1),
        deselected_on=day,
        deselection_reason=DeselectionReason.STOPPED_OFFENDING,
    )
    return offender


@pytest.fixture
def administrator(db: Any) -> Any:
    user = staff(Role.ADMINISTRATOR, username="rt.admin", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="offenders", content_type__model="retentionrule"
        )
    )
    return user


@pytest.fixture
def manager(db: Any) -> Any:
    return staff(Role.PPO_MANAGER, username="rt.manager")


def everything_of(offender: Any) -> dict[str, int]:
    """Rows of the person in every model erasure covers, counted here by hand-written
    lookups (not retention.PERSON_RECORDS')."""
    pk = offender.pk
    lookups = {
        "offenders.offender": {"pk": pk},
        "offenders.offenderstrand": {"offender_id": pk},
        "offenders.programmeepisode": {"offender_id": pk},
        "offenders.offendingevent": {"offender_id": pk},
        "offenders.custodyepisode": {"offender_id": pk},
        "offenders.receptionassessment": {"custody__offender_id": pk},
        "offenders.releaseplan": {"custody__offender_id": pk},
        "offenders.contact": {"offender_id": pk},
        "offenders.drugtest": {"offender_id": pk},
        "offenders.gradechange": {"offender_id": pk},
        "offenders.contactlevel": {"offender_id": pk},
        "offenders.enforcementcase": {"offender_id": pk},
        "offenders.enforcementstep": {"case__offender_id": pk},
        "offenders.alert": {"offender_id": pk},
        "access.offenderuserobjectpermission": {"content_object_id": pk},
        "selection.riskassessment": {"offender_id": pk},
        "selection.runentry": {"offender_id": pk},
        "selection.paneldecision": {"offender_id": pk},
        "selection.transferrecord": {"decision__offender_id": pk},
        "selection.transferin": {"offender_id": pk},
        "selection.review": {"offender_id": pk},
        "reporting.cohortmember": {"offender_id": pk},
        "conferences.conferenceperson": {"offender_id": pk},
        "conferences.coregroupmeeting": {"offender_id": pk},
        "pathways.referral": {"offender_id": pk},
        "pathways.need": {"offender_id": pk},
        "pathways.action": {"offender_id": pk},
    }
    return {label: M(label).objects.filter(**q).count() for label, q in lookups.items()}


def a_full_record(*, worker: Any, first_name: str = "Quenby", last_name: str = "Ardlow") -> Any:
    """A former PPO (selected 1 January 2018, de-selected 30 June 2019) with records of
    every kind, all dated before they left."""
    police = AgencyFactory(name="Police agency", kind=AgencyKind.POLICE)
    prison = AgencyFactory(name="Prison agency", kind=AgencyKind.PRISON)
    probation = AgencyFactory(name="Probation agency", kind=AgencyKind.PROBATION)
    OffenceCategoryFactory()
    person = OffenderFactory(
        first_name=first_name,
        last_name=last_name,
        pnc_id=None,
        strands=[Strand.CATCH_CONVICT],
        prison_number="A1234BC",
    )
    selected = ProgrammeEpisodeFactory(
        offender=person,
        selected_on=D(2018, 1, 1),
        deselected_on=D(2019, 6, 30),
        deselection_reason=DeselectionReason.STOPPED_OFFENDING,
    )
    OffendingEventFactory(offender=person, occurred_on=D(2019, 3, 1), source_agency=police)
    OffendingEventFactory(offender=person, occurred_on=D(2019, 3, 2), source_agency=police)
    custody = CustodyEpisodeFactory(
        offender=person,
        establishment=prison,
        started_on=D(2018, 6, 1),
        released_on=D(2018, 12, 1),
        sentence_length_months=12,
    )
    M("offenders.receptionassessment").objects.create(
        custody=custody,
        assessed_at=noon(D(2018, 6, 1)),
        needs="n",
        assessed_by=worker,
        agency=prison,
    )
    M("offenders.releaseplan").objects.create(custody=custody, accommodation="hostel")
    failed = ContactFactory(
        offender=person,
        worker=worker,
        agency=probation,
        occurred_at=noon(D(2019, 1, 7)),
        outcome=ContactOutcome.FAILED,
    )
    ContactFactory(
        offender=person, worker=worker, agency=probation, occurred_at=noon(D(2019, 1, 8))
    )
    DrugTestFactory(offender=person, agency=probation, tested_at=noon(D(2019, 1, 9)))
    M("offenders.gradechange").objects.create(offender=person, to_grade="red", reason="r")
    M("offenders.contactlevel").objects.create(
        offender=person,
        contacts_per_week=4,
        drug_tests_per_week=2,
        starts_on=D(2018, 1, 1),
        reason="r",
    )
    case = M("offenders.enforcementcase").objects.create(
        offender=person,
        contact=failed,
        failed_on=D(2019, 1, 7),
        supervision="licence",
        owner=worker,
    )
    M("offenders.enforcementstep").objects.create(
        case=case, kind="warning", taken_on=D(2019, 1, 8), recorded_by=worker
    )
    M("offenders.alert").objects.create(
        offender=person, recipient=worker, kind="release_date", message="Release date set"
    )
    M("access.offenderuserobjectpermission").objects.create(
        user=worker,
        content_object=person,
        permission=Permission.objects.get(codename="view_offender"),
    )
    M("selection.riskassessment").objects.create(
        offender=person,
        assessed_on=D(2018, 1, 1),
        tool="oasys",
        likelihood_score=60,
        rosh_level="medium",
        agency=probation,
    )
    version, _ = M("selection.matrixversion").objects.get_or_create(number=901)
    run = M("selection.selectionrun").objects.create(version=version, as_of=D(2017, 12, 1))
    entry = M("selection.runentry").objects.create(run=run, offender=person, rank=1, score=40)
    panel = M("selection.selectionpanel").objects.create(held_on=D(2018, 1, 1), chair=worker)
    decision = M("selection.paneldecision").objects.create(
        panel=panel,
        offender=person,
        kind="select",
        to_tier="ppo",
        run_entry=entry,
        opened_episode=selected,
    )
    M("selection.transferrecord").objects.create(
        decision=decision,
        receiving_scheme="S",
        receiving_area="A",
        receiving_contact="C",
        as_of=D(2019, 6, 30),
    )
    M("selection.transferin").objects.create(
        offender=person, from_scheme="S", from_area="A", arrived_on=D(2017, 11, 1)
    )
    M("selection.review").objects.create(
        kind="two_years",
        offender=person,
        basis=f"episode:{selected.pk}",
        due_on=D(2019, 1, 1),
        raised_on=D(2019, 1, 1),
        status="closed",
        outcome="decision",
        decision=decision,
        closed_on=D(2019, 6, 30),
    )
    cohort, _ = M("reporting.ni30cohort").objects.get_or_create(
        year_starts_on=D(2018, 4, 1),
        defaults={"baseline_starts_on": D(2016, 10, 1), "baseline_ends_on": D(2017, 9, 30)},
    )
    M("reporting.cohortmember").objects.create(cohort=cohort, offender=person)
    conference = M("conferences.caseconference").objects.create(
        held_on=D(2019, 1, 1), chair=worker, created_by=worker
    )
    M("conferences.conferenceperson").objects.create(
        conference=conference, offender=person, minutes="Discussed the plan."
    )
    M("conferences.coregroupmeeting").objects.create(
        offender=person, held_on=D(2019, 2, 1), notes="n", recorded_by=worker
    )
    referral = ReferralFactory(offender=person, opened_on=D(2018, 2, 1), closed_on=D(2019, 5, 1))
    M("pathways.need").objects.create(
        offender=person, pathway=referral.pathway, level="high", set_on=D(2018, 2, 1)
    )
    M("pathways.action").objects.create(
        offender=person,
        pathway=referral.pathway,
        description="d",
        owner_agency=probation,
        due_on=D(2018, 3, 1),
        updated_at=noon(D(2018, 3, 1)),
    )
    FormSubmission.objects.create(
        token=uuid.uuid4(),
        user=worker,
        result_message=f"Record for {first_name} {last_name} saved",
    )
    return person


FULL_RECORD_COUNTS = {
    "offenders.offender": 1,
    "offenders.offenderstrand": 1,
    "offenders.programmeepisode": 1,
    "offenders.offendingevent": 2,
    "offenders.custodyepisode": 1,
    "offenders.receptionassessment": 1,
    "offenders.releaseplan": 1,
    "offenders.contact": 2,
    "offenders.drugtest": 1,
    "offenders.gradechange": 1,
    "offenders.contactlevel": 1,
    "offenders.enforcementcase": 1,
    "offenders.enforcementstep": 1,
    "offenders.alert": 1,
    "access.offenderuserobjectpermission": 1,
    "selection.riskassessment": 1,
    "selection.runentry": 1,
    "selection.paneldecision": 1,
    "selection.transferrecord": 1,
    "selection.transferin": 1,
    "selection.review": 1,
    "reporting.cohortmember": 1,
    "conferences.conferenceperson": 1,
    "conferences.coregroupmeeting": 1,
    "pathways.referral": 1,
    "pathways.need": 1,
    "pathways.action": 1,
}
# Per kind, from the table above (the form receipt naming the person is a PERSON record).
FULL_RECORD_BY_KIND = {
    "person": 1 + 1 + 1 + 1 + 1 + 1 + 1,  # person, strand, episode, grade, alert, grant, receipt
    "offending": 2,
    "custody": 3,
    "contacts": 2 + 1 + 1 + 1,  # contacts, level, case, step
    "drug_tests": 1,
    "pathways": 3,
    "conferences": 2,
    "selection": 7,
}


def every_table() -> dict[str, int]:
    return {m._meta.label_lower: m._default_manager.count() for m in apps.get_models()}


# --- The rule ---------------------------------------------------------------------------


def test_months_after_keeps_the_day_or_clamps_to_the_month_end() -> None:
    assert retention.months_after(D(2025, 3, 31), 72) == D(2031, 3, 31)
    assert retention.months_after(D(2024, 8, 31), 6) == D(2025, 2, 28)
    assert retention.months_after(D(2023, 8, 31), 6) == D(2024, 2, 29)
    assert retention.months_after(D(2020, 2, 29), 12) == D(2021, 2, 28)


@pytest.mark.parametrize(
    ("as_of", "due"),
    [(D(2031, 3, 30), False), (D(2031, 3, 31), True), (D(2031, 4, 1), True)],
    ids=["the day before", "the day of", "the day after"],
)
def test_retention_falls_due_on_the_day_the_period_ends(administrator, as_of, due) -> None:
    person = left_on(D(2025, 3, 31))
    report = retention.retention_report(user=administrator, as_of=as_of)
    assert [row.offender_id for row in report.rows] == ([person.pk] if due else [])
    if due:
        assert report.rows[0].due.erasure_due_on == D(2031, 3, 31)
        retention.retention_erase(user=administrator, offender_id=person.pk, as_of=as_of)
    else:
        with pytest.raises(retention.NotErasable, match="not due for erasure until 31 March 2031"):
            retention.retention_erase(user=administrator, offender_id=person.pk, as_of=as_of)


def test_each_kind_of_record_has_its_own_review_date(administrator) -> None:
    RetentionRule.objects.create(kind=RetentionKind.CONTACTS, months=24)
    person = left_on(D(2025, 3, 31))
    report = retention.retention_report(user=administrator, as_of=D(2027, 3, 31))
    (row,) = report.rows
    due = {kind.period.kind: kind for kind in row.due.kinds}
    assert due["contacts"].due and due["contacts"].due_on == D(2027, 3, 31)
    assert not due["person"].due and due["person"].due_on == D(2031, 3, 31)
    assert not row.due.erasure_due
    with pytest.raises(retention.NotErasable, match="until 31 March 2031"):
        retention.retention_erase(user=administrator, offender_id=person.pk, as_of=D(2027, 3, 31))
    # The longest period decides erasure: a longer one for one kind moves it.
    RetentionRule.objects.create(kind=RetentionKind.OFFENDING, months=120)
    report = retention.retention_report(user=administrator, as_of=D(2031, 3, 31))
    assert report.rows[0].due.erasure_due_on == D(2035, 3, 31)


def test_someone_never_on_the_scheme_counts_from_their_last_record(administrator) -> None:
    OffenceCategoryFactory()
    pool = OffenderFactory()
    OffendingEventFactory(offender=pool, occurred_on=D(2019, 5, 1), recorded_on=D(2020, 2, 29))
    OffendingEventFactory(offender=pool, occurred_on=D(2018, 1, 1), recorded_on=D(2018, 1, 2))
    assert not retention.retention_report(user=administrator, as_of=D(2026, 2, 27)).rows
    (row,) = retention.retention_report(user=administrator, as_of=D(2026, 2, 28)).rows
    assert row.due.basis.in_words == "last record 29 February 2020 (never on the scheme)"


def test_a_record_written_after_leaving_restarts_the_clock(administrator) -> None:
    person = left_on(D(2025, 3, 31))
    DrugTestFactory(offender=person, tested_at=noon(D(2026, 1, 10)))
    assert not retention.retention_report(user=administrator, as_of=D(2031, 3, 31)).rows
    (row,) = retention.retention_report(user=administrator, as_of=D(2032, 1, 10)).rows
    assert "last record 10 January 2026, after leaving the scheme on 31 March 2025" in (
        row.due.basis.in_words
    )


def test_a_current_ppo_is_never_due_and_is_not_erased(administrator) -> None:
    current = OffenderFactory()
    ProgrammeEpisodeFactory(offender=current, selected_on=D(2010, 1, 1))
    before = every_table()
    assert not retention.retention_report(user=administrator, as_of=D(2040, 1, 1)).rows
    with pytest.raises(retention.NotErasable, match="on the scheme today"):
        retention.retention_erase(
            user=administrator, offender_id=current.pk, dry_run=False, as_of=D(2040, 1, 1)
        )
    after = every_table()
    assert after.pop("access.auditevent") == before.pop("access.auditevent") + 1  # the report
    assert after == before


def test_someone_in_custody_today_is_current(administrator) -> None:
    person = left_on(D(2015, 3, 31))
    CustodyEpisodeFactory(offender=person, started_on=D(2016, 1, 1), released_on=None)
    assert not retention.retention_report(user=administrator, as_of=D(2030, 1, 1)).rows
    with pytest.raises(retention.NotErasable, match="in custody today"):
        retention.retention_erase(user=administrator, offender_id=person.pk, as_of=D(2030, 1, 1))


# --- The periods ----------------------------------------------------------------------------


@pytest.mark.parametrize("months", [0, -3])
def test_a_retention_period_of_0_or_less_is_refused(db, months) -> None:
    with pytest.raises(ValidationError) as refused:
        RetentionRule(kind=RetentionKind.CONTACTS, months=months).full_clean()
    assert refused.value.message_dict["months"] == [
        "Enter a retention period of at least 1 month: 0 or less would make records due "
        "for erasure on the day a person leaves the scheme"
    ]
    # The database refuses it too, whatever writes the row.
    with pytest.raises(IntegrityError), transaction.atomic():
        RetentionRule.objects.create(kind=RetentionKind.CONTACTS, months=months)
    assert not RetentionRule.objects.exists()


@pytest.mark.parametrize("months", ["0", "-3"])
def test_the_admin_refuses_0_or_less_and_changes_nothing(client, administrator, months) -> None:
    sign_in(client, administrator)
    url = reverse("admin:offenders_retentionrule_add")
    audit_rows = AuditEvent.objects.filter(record_type="offenders.retentionrule").count()
    response = client.post(
        url, {"kind": "contacts", "months": months, "change_reason": "ISP review 2026"}
    )
    assert response.status_code == 200
    assert b"Enter a retention period of at least 1 month" in response.content
    assert not RetentionRule.objects.exists()
    assert AuditEvent.objects.filter(record_type="offenders.retentionrule").count() == audit_rows
    periods = retention.retention_periods()
    assert periods["contacts"].months == 72 and periods["contacts"].is_default


def test_the_admin_sets_a_period_with_a_reason_and_it_is_audited(client, administrator) -> None:
    sign_in(client, administrator)
    response = client.post(
        reverse("admin:offenders_retentionrule_add"),
        {"kind": "contacts", "months": "24", "note": "ISP 4.2", "change_reason": "ISP 2026"},
    )
    assert response.status_code == 302
    assert retention.retention_periods()["contacts"].months == 24
    row = AuditEvent.objects.get(record_type="offenders.retentionrule")
    assert row.detail["reason"] == "ISP 2026"
    assert row.detail["fields"]["months"] == {"new": 24}


# --- Erasure ---------------------------------------------------------------------------------


def test_person_records_covers_every_model_that_holds_a_persons_data() -> None:
    """A new model pointing at a person (or at a record deleted with them) must be listed,
    or erasure would leave it behind or be blocked by it."""
    listed = {records.label for records in retention.PERSON_RECORDS}
    pointing = set()
    for label in listed:
        for relation in M(label)._meta.related_objects:
            if not relation.many_to_many:
                pointing.add(relation.related_model._meta.label_lower)
    assert pointing <= listed
    assert set(FULL_RECORD_COUNTS) == listed


def test_the_dry_run_counts_exactly_and_changes_nothing(administrator) -> None:
    worker = staff(Role.KEY_WORKER, username="rt.kw")
    person = a_full_record(worker=worker)
    assert everything_of(person) == FULL_RECORD_COUNTS
    # An arrival check typed the person's prison number: the audit row keeps it.
    AuditEvent.objects.create(
        action=AuditAction.LIST,
        record_type="offenders.arrivalcheck",
        detail={"identifier_kind": "prison_number", "identifier": "A1234BC"},
    )
    AuditEvent.objects.create(action=AuditAction.LIST, detail={"search": "B9999ZZ"})
    before = every_table()
    erasure = retention.retention_erase(user=administrator, offender_id=person.pk)
    assert erasure.audit_rows_with_identifiers == 1
    assert erasure.dry_run
    assert erasure.by_model == FULL_RECORD_COUNTS
    assert erasure.by_kind == FULL_RECORD_BY_KIND
    assert erasure.total == sum(FULL_RECORD_COUNTS.values()) + 1
    after = every_table()
    assert after.pop("access.auditevent") == before.pop("access.auditevent") + 1
    # The dry run's audit row names the person: its link row (access migration 0009).
    assert after.pop("access.auditeventperson") == before.pop("access.auditeventperson") + 1
    assert after == before
    looked = AuditEvent.objects.latest("pk")
    assert looked.action == AuditAction.LIST and looked.offender_ids == [person.pk]


def test_erasure_removes_every_personal_record_and_keeps_the_audit_trail(administrator) -> None:
    worker = staff(Role.KEY_WORKER, username="rt.kw")
    person = a_full_record(worker=worker)
    other = a_full_record(worker=worker, first_name="Brisa", last_name="Tollan")
    other_before = everything_of(other)
    # Earlier audit rows about the person, as casework would have written them.
    audit.viewed(actor_for(worker), person)
    earlier = list(AuditEvent.objects.order_by("pk").values())
    pk = person.pk

    erasure = retention.retention_erase(user=administrator, offender_id=pk, dry_run=False)

    assert not erasure.dry_run and erasure.by_kind == FULL_RECORD_BY_KIND
    assert set(everything_of(person).values()) == {0}
    assert not FormSubmission.objects.filter(result_message__contains="Quenby Ardlow").exists()
    assert everything_of(other) == other_before
    # The conference, panel, run and cohort stay: only the person's part of them goes.
    assert M("conferences.caseconference").objects.count() == 2
    assert M("selection.selectionpanel").objects.count() == 2
    # Every earlier audit row is unchanged, and one more records the erasure.
    assert list(AuditEvent.objects.order_by("pk").values())[: len(earlier)] == earlier
    erased = AuditEvent.objects.latest("pk")
    assert erased.action == AuditAction.DELETE
    assert erased.user == administrator
    assert erased.record_type == "offenders.offender"
    assert erased.record_ids == [pk] and erased.offender_ids == [pk]
    assert erased.detail["erased"] == FULL_RECORD_BY_KIND
    assert erased.detail["retention_due_on"] == "2025-06-30"
    assert erased.at <= timezone.now()
    written = json.dumps(erased.detail) + erased.path + erased.recipient
    for personal in ("Quenby", "Ardlow", "A1234BC"):
        assert personal not in written
    assert AuditEvent.objects.count() == len(earlier) + 1


def test_the_audit_table_itself_refuses_delete_on_postgresql(administrator) -> None:
    """On PostgreSQL the audit table's trigger refuses DELETE: the erasure above could not
    have removed an audit row even by mistake, and this shows the trigger is there."""
    person = left_on(D(2015, 3, 31))
    retention.retention_erase(user=administrator, offender_id=person.pk, dry_run=False)
    row = AuditEvent.objects.latest("pk")
    statement = "UPDATE access_auditevent SET username = 'x' WHERE id = %s"
    if connection.vendor == "postgresql":
        statement = "DELETE FROM access_auditevent WHERE id = %s"
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [row.pk])
    assert AuditEvent.objects.filter(pk=row.pk, action=AuditAction.DELETE).exists()


@pytest.mark.parametrize(
    "role",
    [Role.PPO_MANAGER, Role.KEY_WORKER, Role.POLICE_OFFICER, Role.STEERING_GROUP],
)
def test_only_an_administrator_erases(db, role) -> None:
    person = left_on(D(2015, 3, 31))
    user = staff(role)
    before = every_table()
    for dry_run in (True, False):
        with pytest.raises(NotPermitted, match="Only an administrator"):
            retention.retention_erase(user=user, offender_id=person.pk, dry_run=dry_run)
    assert every_table() == before


def test_erasing_someone_already_erased_says_so(administrator) -> None:
    with pytest.raises(retention.NoSuchPerson, match="no person with record number 999999"):
        retention.retention_erase(user=administrator, offender_id=999999)


# --- The pages -------------------------------------------------------------------------------


def test_the_report_for_the_administrator_names_nobody(client, administrator) -> None:
    person = left_on(D(2015, 3, 31), first_name="Zeldric", last_name="Moonvale")
    sign_in(client, administrator)
    response = client.get(reverse("offenders:retention"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Record {person.pk}" in page
    assert "Left the scheme on 31 March 2015" in page
    for hidden in ("Zeldric", "Moonvale", person.pnc_id):
        assert hidden not in page
    assert reverse("offenders:retention-erase", args=[person.pk]) in page
    listed = AuditEvent.objects.latest("pk")
    assert listed.action == AuditAction.LIST and listed.offender_ids == [person.pk]


def test_the_report_for_the_ppo_manager_names_people_and_offers_no_erasure(client, manager):
    person = left_on(D(2015, 3, 31), first_name="Zeldric", last_name="Moonvale")
    sign_in(client, manager)
    response = client.get(reverse("offenders:retention"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Zeldric Moonvale" in page and person.pnc_id in page
    assert reverse("offenders:retention-erase", args=[person.pk]) not in page


@pytest.mark.parametrize(
    "role",
    [
        Role.KEY_WORKER,
        Role.POLICE_OFFICER,
        Role.PRISON_WORKER,
        Role.YOT_WORKER,
        Role.PARTNER_WORKER,
        Role.STEERING_GROUP,
    ],
)
def test_other_roles_may_not_see_the_report_or_the_erasure(client, db, role) -> None:
    person = left_on(D(2015, 3, 31))
    sign_in(client, staff(role))
    assert client.get(reverse("offenders:retention")).status_code == 403
    erase = reverse("offenders:retention-erase", args=[person.pk])
    assert client.get(erase).status_code == 403
    response = client.post(erase, {"record_number": str(person.pk), "confirm": "on"})
    assert response.status_code == 403
    assert Offender.objects.filter(pk=person.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).count() == 3


def test_the_ppo_manager_may_not_erase(client, manager) -> None:
    person = left_on(D(2015, 3, 31))
    sign_in(client, manager)
    erase = reverse("offenders:retention-erase", args=[person.pk])
    assert client.get(erase).status_code == 403
    client.post(erase, {"record_number": str(person.pk), "confirm": "on"})
    assert Offender.objects.filter(pk=person.pk).exists()


def test_the_erasure_page_shows_the_dry_run_and_needs_both_confirmations(
    client, administrator
) -> None:
    worker = staff(Role.KEY_WORKER, username="rt.kw")
    person = a_full_record(worker=worker)
    sign_in(client, administrator)
    url = reverse("offenders:retention-erase", args=[person.pk])
    page = client.get(url).content.decode()
    assert "nothing has been removed yet" in page
    assert "Contacts: 2" in page and "Case-conference minutes: 1" in page
    assert f"{sum(FULL_RECORD_COUNTS.values()) + 1} records" in page
    assert "govuk-warning-text" in page
    for hidden in ("Quenby", "Ardlow", "A1234BC"):
        assert hidden not in page
    before = every_table()
    for data, problem in [
        ({"record_number": str(person.pk)}, "Confirm that you understand"),
        ({"record_number": str(person.pk + 1), "confirm": "on"}, "does not match"),
        ({"confirm": "on"}, "Type the record number"),
    ]:
        response = client.post(url, data)
        assert response.status_code == 200
        assert problem in response.content.decode()
    after = every_table()
    assert after.pop("access.auditevent") == before.pop("access.auditevent") + 3  # dry runs
    assert after.pop("access.auditeventperson") == before.pop("access.auditeventperson") + 3
    assert after == before
    response = client.post(url, {"record_number": str(person.pk), "confirm": "on"})
    assert response.status_code == 302 and response.url == reverse("offenders:retention")
    assert not Offender.objects.filter(pk=person.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DELETE, record_ids=[person.pk]).exists()
    # Gone: the page is now a 404, as for any record number that does not exist.
    assert client.get(url).status_code == 404


def test_the_erasure_page_explains_a_refusal_and_offers_no_form(client, administrator) -> None:
    current = OffenderFactory()
    ProgrammeEpisodeFactory(offender=current, selected_on=D(2010, 1, 1))
    sign_in(client, administrator)
    url = reverse("offenders:retention-erase", args=[current.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "a person on the scheme is never erased" in response.content.decode()
    assert b'name="confirm"' not in response.content
    response = client.post(url, {"record_number": str(current.pk), "confirm": "on"})
    assert response.status_code == 200
    assert Offender.objects.filter(pk=current.pk).exists()


# --- The command -----------------------------------------------------------------------------


def test_the_command_reports_and_dry_runs_unless_confirmed(administrator) -> None:
    person = left_on(D(2015, 3, 31))
    out = StringIO()
    call_command("retention", "report", "--as", "rt.admin", "--as-of", "2026-01-01", stdout=out)
    assert f"Record {person.pk}: left the scheme on 31 March 2015" in out.getvalue()
    assert "erasure due since 31 March 2021" in out.getvalue()
    out = StringIO()
    call_command("retention", "erase", str(person.pk), "--as", "rt.admin", stdout=out)
    assert "Dry run: would erase" in out.getvalue() and "Nothing was changed" in out.getvalue()
    assert Offender.objects.filter(pk=person.pk).exists()
    call_command(
        "retention", "erase", str(person.pk), "--confirm", "--as", "rt.admin", stdout=StringIO()
    )
    assert not Offender.objects.filter(pk=person.pk).exists()
    assert AuditEvent.objects.latest("pk").channel == "command"


def test_the_command_refuses_with_the_reason(db, manager) -> None:
    person = left_on(D(2015, 3, 31))
    with pytest.raises(CommandError, match="Only an administrator"):
        call_command("retention", "erase", str(person.pk), "--confirm", "--as", "rt.manager")
    with pytest.raises(CommandError, match="--as USERNAME"):
        call_command("retention", "report", "--as", "")
    assert Offender.objects.filter(pk=person.pk).exists()


def test_the_report_costs_the_same_queries_for_one_person_or_many(administrator) -> None:
    OffenceCategoryFactory()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            retention.retention_report(user=administrator, as_of=D(2030, 1, 1))
        return len(captured.captured_queries)

    first = left_on(D(2015, 3, 31))
    DrugTestFactory(offender=first, tested_at=noon(D(2015, 1, 1)))
    one = queries()
    for _ in range(6):
        person = left_on(D(2015, 3, 31))
        DrugTestFactory(offender=person, tested_at=noon(D(2015, 1, 1)))
        OffendingEventFactory(offender=person, occurred_on=D(2014, 1, 1))
    assert len(retention.retention_report(user=administrator, as_of=D(2030, 1, 1)).rows) == 7
    assert queries() == one
