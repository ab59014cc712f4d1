"""The audit trail's link from events to people (issue 15): an indexed row per person for
"who looked at this person?", local-midnight date filters, an event of many ids listed
apart in batches (exactly recoverable), and the links as append-only as the trail."""

from __future__ import annotations

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access import audit
from access.models import (
    AUDIT_IDS_IN_ROW,
    AuditAction,
    AuditEvent,
    AuditEventPerson,
    AuditEventRecord,
    AuditTrailIsAppendOnly,
    Role,
)
from access.policy import actor_for
from access.selectors import audit_event_page
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def manager(db):
    return staff(Role.PPO_MANAGER, username="pm")


def people_of(event: AuditEvent) -> list[int]:
    return sorted(
        AuditEventPerson.objects.filter(event=event).values_list("offender_id", flat=True)
    )


def test_every_event_with_people_links_each_of_them(client, manager):
    key_worker = staff(Role.KEY_WORKER, username="kw")
    person = OffenderFactory(key_worker=key_worker)
    ProgrammeEpisodeFactory(offender=person)
    other = OffenderFactory(key_worker=key_worker)
    ProgrammeEpisodeFactory(offender=other)
    sign_in(client, key_worker).get(reverse("offenders:detail", args=[person.pk]))
    viewed = AuditEvent.objects.get(action=AuditAction.VIEW)
    assert people_of(viewed) == [person.pk] == viewed.offender_ids
    listed = audit.consulted(actor_for(manager), "offenders.offender", [other, person])
    assert people_of(listed) == sorted([person.pk, other.pk]) == listed.offender_ids
    signed_in = audit.record(actor_for(manager), AuditAction.SIGN_IN)
    assert people_of(signed_in) == []
    # One "created" row per record, each with its person (the review sweep's bulk path).
    made = audit.created_many(actor_for(manager), [ProgrammeEpisodeFactory(offender=other)])
    assert [people_of(event) for event in made] == [[other.pk]]


def test_the_person_filter_finds_exactly_that_persons_events(manager):
    actor = actor_for(manager)
    twelve, one_hundred_and_twelve = 12, 112  # "%,12,%" must not match ",112,"
    about_twelve = audit.record(actor, AuditAction.VIEW, offenders=[twelve])
    audit.record(actor, AuditAction.VIEW, offenders=[one_hundred_and_twelve])
    with_others = audit.record(actor, AuditAction.LIST, offenders=[3, twelve, 400])
    audit.record(actor, AuditAction.LIST, offenders=[1, 2, 120])
    page = audit_event_page(user=manager, offender_id=twelve)
    assert {e.pk for e in page.object_list} == {about_twelve.pk, with_others.pk}


def test_an_event_of_many_ids_lists_them_apart_in_batches_and_exactly(manager):
    actor = actor_for(manager)
    people = list(range(1, AUDIT_IDS_IN_ROW + 2))  # one more than a row holds
    records = list(range(10_000, 10_000 + 5 * AUDIT_IDS_IN_ROW))
    with CaptureQueriesContext(connection) as queries:
        event = audit.record(
            actor,
            AuditAction.CREATE,
            record_type="offenders.offendingevent",
            records=reversed(records),
            offenders=people,
            detail={"import": "events.csv"},
        )
    # A handful of INSERTs of link rows, not one per id.
    assert len(queries.captured_queries) < len(records) / 50
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.ids_listed_apart
    assert stored.offender_refs == "" and stored.record_ids == []
    assert stored.offender_ids == people
    assert stored.all_record_ids == records
    assert AuditEventRecord.objects.filter(event=stored).count() == len(records)
    # Still found by the person filter, like any other event.
    page = audit_event_page(user=manager, offender_id=AUDIT_IDS_IN_ROW + 1)
    assert [e.pk for e in page.object_list] == [event.pk]


def test_an_event_up_to_the_limit_keeps_its_ids_in_the_row(manager):
    people = list(range(1, AUDIT_IDS_IN_ROW + 1))
    event = audit.record(actor_for(manager), AuditAction.LIST, records=people, offenders=people)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert not stored.ids_listed_apart
    assert stored.record_ids == people == stored.all_record_ids == stored.offender_ids
    assert stored.offender_refs == AuditEvent.refs_for(people)
    assert not AuditEventRecord.objects.filter(event=stored).exists()
    assert people_of(stored) == people


def test_the_date_filters_are_local_days(manager, time_machine):
    actor = actor_for(manager)
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
    time_machine.move_to(dt.datetime(2025, 6, 30, 23, 30, tzinfo=dt.UTC), tick=False)
    first_of_july = audit.record(actor, AuditAction.VIEW, offenders=[5])
    time_machine.move_to(dt.datetime(2025, 6, 30, 22, 59, tzinfo=dt.UTC), tick=False)
    last_of_june = audit.record(actor, AuditAction.VIEW, offenders=[5])

    def shown(date_from: dt.date | None = None, date_to: dt.date | None = None) -> set[int]:
        page = audit_event_page(user=manager, offender_id=5, date_from=date_from, date_to=date_to)
        return {e.pk for e in page.object_list}

    assert shown(date_from=dt.date(2025, 7, 1)) == {first_of_july.pk}
    assert shown(date_to=dt.date(2025, 6, 30)) == {last_of_june.pk}
    assert shown(date_from=dt.date(2025, 6, 30), date_to=dt.date(2025, 7, 1)) == {
        first_of_july.pk,
        last_of_june.pk,
    }
    assert shown(date_from=dt.date(2025, 7, 2)) == set()


def test_the_links_are_append_only_in_the_model_and_the_database(manager):
    event = audit.record(
        actor_for(manager),
        AuditAction.VIEW,
        records=range(AUDIT_IDS_IN_ROW + 1),
        offenders=[7],
    )
    person = AuditEventPerson.objects.get(event=event)
    record = AuditEventRecord.objects.filter(event=event).first()
    for link, model in ((person, AuditEventPerson), (record, AuditEventRecord)):
        with pytest.raises(AuditTrailIsAppendOnly):
            link.save()
        with pytest.raises(AuditTrailIsAppendOnly):
            link.delete()
        with pytest.raises(AuditTrailIsAppendOnly):
            model.objects.filter(pk=link.pk).update(event=event)
        with pytest.raises(AuditTrailIsAppendOnly):
            model.objects.filter(pk=link.pk).delete()
    statements = [
        "UPDATE access_auditeventperson SET offender_id = 8 WHERE id = %s",
        "UPDATE access_auditeventrecord SET record_id = 8 WHERE event_id = %s",
    ]
    params = [person.pk, event.pk]
    if connection.vendor == "postgresql":
        statements += [
            "DELETE FROM access_auditeventperson WHERE id = %s",
            "DELETE FROM access_auditeventrecord WHERE event_id = %s",
        ]
        params += [person.pk, event.pk]
    for sql, param in zip(statements, params, strict=True):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [param])
    assert people_of(event) == [7]
    assert AuditEvent.objects.get(pk=event.pk).all_record_ids == list(range(AUDIT_IDS_IN_ROW + 1))


def test_the_audit_row_itself_is_still_append_only_in_the_database(manager):
    # SQLite rebuilds the audit table to add a column, dropping its trigger: made again.
    event = audit.record(actor_for(manager), AuditAction.SIGN_IN)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE access_auditevent SET username = 'x' WHERE id = %s", [event.pk])


def test_the_database_links_a_row_however_it_is_written(manager):
    event = AuditEvent.objects.create(action=AuditAction.LIST, offender_refs=",4,40,400,")
    assert people_of(event) == [4, 40, 400]
    assert people_of(AuditEvent.objects.create(action=AuditAction.SIGN_IN)) == []


def test_the_migration_links_the_events_written_before_it_as_the_trigger_does(manager):
    actor = actor_for(manager)
    audit.record(actor, AuditAction.LIST, offenders=[4, 40, 400])
    audit.record(actor, AuditAction.VIEW, offenders=[40])
    audit.record(actor, AuditAction.SIGN_IN)
    migration = importlib.import_module("access.migrations.0009_audit_event_links")
    select = (
        migration.POSTGRES_PEOPLE_OF_EVENTS
        if connection.vendor == "postgresql"
        else migration.SQLITE_PEOPLE_OF_EVENTS
    )
    with connection.cursor() as cursor:
        cursor.execute(select)
        copied = [tuple(row) for row in cursor.fetchall()]
    linked = list(
        AuditEventPerson.objects.order_by("event_id", "offender_id").values_list(
            "event_id", "offender_id"
        )
    )
    assert copied == linked
    assert [person for _, person in copied] == [4, 40, 400, 40]


def test_the_admin_finds_a_persons_events_by_record_number_exactly(manager, rf):
    from django.contrib import admin

    actor = actor_for(manager)
    about_twelve = audit.record(actor, AuditAction.VIEW, offenders=[12])
    audit.record(actor, AuditAction.VIEW, offenders=[112])
    many = audit.record(actor, AuditAction.LIST, offenders=range(1, AUDIT_IDS_IN_ROW + 20))
    model_admin = admin.site._registry[AuditEvent]
    request = rf.get("/admin/access/auditevent/", {"q": "12"})
    request.user = manager
    found, _ = model_admin.get_search_results(request, AuditEvent.objects.all(), "12")
    assert {e.pk for e in found} == {about_twelve.pk, many.pk}


@pytest.mark.django_db
def test_a_refused_record_number_too_large_to_exist_is_kept_as_asked_for_naming_no_one():
    """A partner system asking for person 10**30 (tests/test_api_foundation.py's hostile
    reads) is refused and audited; the number fits no record column, so the row keeps it
    as text and links no one. The largest possible number is linked as usual."""
    from access.models import AuditAction, AuditEvent, AuditEventPerson

    audit.write_denial(None, record_type="offenders.offender", record_id=10**30, reason="x")
    event = AuditEvent.objects.get(action=AuditAction.DENIED)
    assert event.detail == {"reason": "x", "asked_for": str(10**30)}
    assert event.offender_ids == [] and event.record_ids == []
    assert not AuditEventPerson.objects.filter(event=event).exists()

    largest = 2**63 - 1
    audit.write_denial(None, record_type="offenders.offender", record_id=largest, reason="y")
    event = AuditEvent.objects.filter(action=AuditAction.DENIED).latest("pk")
    assert event.offender_ids == [largest] and event.detail == {"reason": "y"}
    assert AuditEventPerson.objects.filter(event=event, offender_id=largest).exists()
