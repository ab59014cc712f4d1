"""Every write service and every page that shows a person writes its audit row; every
refusal, 404 or 403, is audited too (DPA 2018 s.62: every consultation and alteration,
who, when, which records).

Each test asserts the row a specific call writes (action, record type, the person), so
deleting that call's `audit.*` line makes its test fail.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from access.models import AgencyKind, AuditAction, AuditEvent, Role
from offenders import services
from offenders.models import CustodyKind, EventKind, OffenceCategory
from tests.factories import (
    AgencyFactory,
    CustodyEpisodeFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    sign_in,
    staff,
)


@pytest.fixture
def manager(db):
    return staff(Role.PPO_MANAGER, username="qxmanager")


@pytest.fixture
def ppo(db):
    offender = OffenderFactory(first_name="Qxaudit", date_of_birth=dt.date(1990, 3, 3))
    ProgrammeEpisodeFactory(offender=offender)
    return offender


@pytest.fixture
def prison(db):
    return AgencyFactory(name="HMP Qxaudit", kind=AgencyKind.PRISON)


def only_row(action: str, record_type: str) -> AuditEvent:
    rows = list(AuditEvent.objects.filter(action=action, record_type=record_type))
    assert len(rows) == 1, f"expected one {action} row for {record_type}, found {len(rows)}"
    return rows[0]


WHEN = dt.datetime(2026, 5, 4, 10, 30, tzinfo=dt.UTC)


# --- Every write service -------------------------------------------------------------------


def test_contact_log_is_audited(manager, ppo):
    contact = services.contact_log(
        user=manager, offender_id=ppo.pk, occurred_at=WHEN, kind="office", outcome="attended"
    )
    row = only_row(AuditAction.CREATE, "offenders.contact")
    assert row.record_ids == [contact.pk] and row.offender_ids == [ppo.pk]


def test_drug_test_record_is_audited(manager, ppo):
    test = services.drug_test_record(
        user=manager, offender_id=ppo.pk, tested_at=WHEN, result="negative"
    )
    row = only_row(AuditAction.CREATE, "offenders.drugtest")
    assert row.record_ids == [test.pk] and row.offender_ids == [ppo.pk]


def test_offending_event_record_is_audited(manager, ppo):
    event = services.offending_event_record(
        user=manager,
        offender_id=ppo.pk,
        kind=EventKind.ARREST,
        category=OffenceCategory.objects.get(name="Shoplifting"),
        occurred_on=dt.date(2026, 4, 1),
    )
    row = only_row(AuditAction.CREATE, "offenders.offendingevent")
    assert row.record_ids == [event.pk] and row.offender_ids == [ppo.pk]


def test_custody_episode_create_is_audited(manager, ppo, prison):
    episode = services.custody_episode_create(
        user=manager,
        offender_id=ppo.pk,
        data={
            "kind": CustodyKind.REMAND,
            "establishment": prison,
            "started_on": dt.date(2026, 4, 1),
        },
    )
    row = only_row(AuditAction.CREATE, "offenders.custodyepisode")
    assert row.record_ids == [episode.pk] and row.offender_ids == [ppo.pk]


def test_custody_release_is_audited(manager, ppo, prison):
    episode = CustodyEpisodeFactory(
        offender=ppo, establishment=prison, started_on=dt.date(2026, 1, 1)
    )
    services.custody_release(user=manager, offender_id=ppo.pk, released_on=dt.date(2026, 4, 1))
    row = only_row(AuditAction.UPDATE, "offenders.custodyepisode")
    assert row.record_ids == [episode.pk] and "released_on" in row.detail["fields"]


def test_grade_change_is_audited(manager, ppo):
    services.grade_change(user=manager, offender_id=ppo.pk, to_grade="red", reason="Qx reason")
    row = only_row(AuditAction.UPDATE, "offenders.offender")
    assert row.offender_ids == [ppo.pk] and row.detail == {"fields": ["iom_grade"]}


def test_offender_create_is_audited(manager):
    offender = services.offender_create(
        user=manager,
        data={
            "first_name": "Qxnew",
            "last_name": "Qxperson",
            "date_of_birth": dt.date(1991, 1, 1),
            "pnc_id": "2004/0046583U",
        },
    )
    row = only_row(AuditAction.CREATE, "offenders.offender")
    assert row.offender_ids == [offender.pk]


def test_offender_update_is_audited(manager, ppo):
    data = {name: getattr(ppo, name) for name in services.EDITABLE_IDENTITY_FIELDS}
    data["phone"] = "01632 960002"
    services.offender_update(user=manager, offender_id=ppo.pk, data=data)
    row = only_row(AuditAction.UPDATE, "offenders.offender")
    assert row.detail == {"fields": ["phone"]}


# --- Every page that shows a person ----------------------------------------------------------


@pytest.mark.parametrize(
    "url_name,view",
    [
        ("offenders:detail", None),
        ("offenders:timeline", "timeline"),
        ("offenders:update", "change details"),
        ("offenders:contact-log", "Log a contact"),
        ("offenders:drug-test", "Record a drug test"),
        ("offenders:event-record", "Record an arrest, charge or intelligence"),
        ("offenders:custody-create", "record custody"),
        ("offenders:custody-release", "Record a release from custody"),
        ("offenders:grade-change", "Change the IOM grade"),
    ],
)
def test_every_page_showing_a_person_writes_a_consultation(client, manager, ppo, url_name, view):
    response = sign_in(client, manager).get(reverse(url_name, args=[ppo.pk]))
    assert response.status_code == 200
    assert ppo.first_name in response.content.decode()
    row = only_row(AuditAction.VIEW, "offenders.offender")
    assert row.offender_ids == [ppo.pk] and row.user == manager
    assert row.detail.get("view") == view


def test_the_edit_form_audits_the_fields_it_shows(client, manager, ppo):
    sign_in(client, manager).get(reverse("offenders:update", args=[ppo.pk]))
    shown = only_row(AuditAction.VIEW, "offenders.offender").detail["shown"]
    assert {"pnc_id", "crn", "address", "date_of_birth"} <= set(shown)


def test_the_people_list_and_caseload_audit_what_they_list(client, manager, ppo):
    sign_in(client, manager)
    client.get(reverse("offenders:list"))
    client.get(reverse("home"))
    rows = AuditEvent.objects.filter(action=AuditAction.LIST, record_type="offenders.offender")
    assert rows.count() == 2
    assert all(row.offender_ids == [ppo.pk] for row in rows)


# --- Every refusal ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role,url",
    [
        (Role.KEY_WORKER, "grade"),
        (Role.KEY_WORKER, "update"),
        (Role.KEY_WORKER, "audit-log"),
        (Role.KEY_WORKER, "import"),
        (Role.KEY_WORKER, "create"),
        (Role.PARTNER_WORKER, "compliance"),
    ],
)
def test_a_403_for_a_person_in_scope_is_audited(client, ppo, role, url):
    user = staff(role)
    if role == Role.PARTNER_WORKER:
        from tests.factories import ReferralFactory

        ReferralFactory(offender=ppo, agency=user.memberships.get().agency)
    urls = {
        "grade": reverse("offenders:grade-change", args=[ppo.pk]),
        "update": reverse("offenders:update", args=[ppo.pk]),
        "audit-log": reverse("audit-log"),
        "import": reverse("offenders:import"),
        "create": reverse("offenders:create"),
        "compliance": reverse("offenders:compliance"),
    }
    response = sign_in(client, user).get(urls[url])
    assert response.status_code == 403
    assert b"You do not have permission" in response.content
    denial = AuditEvent.objects.get(action=AuditAction.DENIED)
    assert denial.user == user
    assert denial.path == urls[url]
    if url in ("grade", "update"):
        assert denial.offender_ids == [ppo.pk]
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW).exists()


def test_a_403_on_a_post_changes_nothing_and_is_audited(client, ppo):
    key_worker = staff(Role.KEY_WORKER)
    response = sign_in(client, key_worker).post(
        reverse("offenders:grade-change", args=[ppo.pk]), {"to_grade": "red", "reason": "Qx"}
    )
    assert response.status_code == 403
    ppo.refresh_from_db()
    assert ppo.iom_grade == ""
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, user=key_worker).count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


def test_refusals_are_audited_even_though_the_request_is_rolled_back(client, ppo):
    """The refusal row is written after the request's transaction (which is rolled back
    by the exception): it must still be there."""
    key_worker = staff(Role.KEY_WORKER)
    sign_in(client, key_worker).get(reverse("offenders:grade-change", args=[ppo.pk]))
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).exists()
    assert timezone.now() - AuditEvent.objects.get(action=AuditAction.DENIED).at < (
        dt.timedelta(minutes=1)
    )
