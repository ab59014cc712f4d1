"""The audit trail (DPA 2018 s.62): consultation, alteration, disclosure and sign-in."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from access.models import AuditAction, AuditEvent, AuditTrailIsAppendOnly, Role
from offenders import services
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff


@pytest.fixture
def key_worker(db):
    return staff(Role.KEY_WORKER, username="kw")


@pytest.fixture
def ppo(db, key_worker):
    offender = OffenderFactory(key_worker=key_worker)
    ProgrammeEpisodeFactory(offender=offender)
    return offender


def test_viewing_a_profile_is_audited_with_who_agency_what_and_where(client, key_worker, ppo):
    response = sign_in(client, key_worker).get(
        reverse("offenders:detail", args=[ppo.pk]), REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.VIEW)
    assert event.user == key_worker
    assert event.username == "kw"
    assert event.agency_name == key_worker.memberships.get().agency.name
    assert event.role == Role.KEY_WORKER
    assert event.offender_ids == [ppo.pk]
    assert event.record_type == "offenders.offender"
    assert event.channel == "web"
    assert event.ip_address == "10.1.2.3"
    assert event.path == reverse("offenders:detail", args=[ppo.pk])
    assert "contacts" in event.detail["shown"]


def test_a_list_audits_exactly_the_records_it_returned(client, key_worker, ppo):
    other = OffenderFactory(last_name="Zzyzx")
    ProgrammeEpisodeFactory(offender=other)
    OffenderFactory()  # in the pool: outside a key worker's scope, never listed
    sign_in(client, key_worker).get(reverse("offenders:list"))
    event = AuditEvent.objects.get(action=AuditAction.LIST)
    assert sorted(event.offender_ids) == sorted([ppo.pk, other.pk])
    client.get(reverse("offenders:list"), {"q": "Zzyzx"})
    latest = AuditEvent.objects.filter(action=AuditAction.LIST).first()
    assert latest.offender_ids == [other.pk]
    assert latest.detail["search"] == "Zzyzx"


def test_a_record_outside_scope_is_a_404_and_the_refusal_is_audited(client, key_worker):
    outsider = OffenderFactory(first_name="Zebedee")  # no programme episode: not a key worker's
    response = sign_in(client, key_worker).get(reverse("offenders:detail", args=[outsider.pk]))
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert outsider.first_name.encode() not in response.content
    denial = AuditEvent.objects.get(action=AuditAction.DENIED)
    assert denial.user == key_worker
    assert denial.offender_ids == [outsider.pk]
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW).exists()


def test_a_missing_record_is_a_404_like_one_out_of_scope(client, key_worker):
    response = sign_in(client, key_worker).get(reverse("offenders:detail", args=[999999]))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).count() == 1


def test_changes_are_audited_with_the_fields_changed(client, db):
    manager = staff(Role.PPO_MANAGER)
    offender = OffenderFactory(phone="")
    data = {name: getattr(offender, name) for name in services.EDITABLE_IDENTITY_FIELDS}
    data["phone"] = "01632 960001"
    services.offender_update(user=manager, offender_id=offender.pk, data=data)
    event = AuditEvent.objects.get(action=AuditAction.UPDATE)
    assert event.detail == {"fields": ["phone"]}
    assert event.offender_ids == [offender.pk]
    assert event.channel == "command"  # called outside a request


def test_no_audit_row_no_change(db, monkeypatch):
    manager = staff(Role.PPO_MANAGER)
    offender = OffenderFactory(phone="")
    data = {name: getattr(offender, name) for name in services.EDITABLE_IDENTITY_FIELDS}
    data["phone"] = "01632 960001"

    def broken(*args, **kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr(AuditEvent.objects, "create", broken)
    with pytest.raises(DatabaseError):
        services.offender_update(user=manager, offender_id=offender.pk, data=data)
    offender.refresh_from_db()
    assert offender.phone == ""


def test_no_audit_row_no_read(client, key_worker, ppo, monkeypatch):
    sign_in(client, key_worker)

    def broken(*args, **kwargs):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr(AuditEvent.objects, "create", broken)
    client.raise_request_exception = False
    response = client.get(reverse("offenders:detail", args=[ppo.pk]))
    assert response.status_code == 500
    assert ppo.last_name.encode() not in response.content


def test_the_audit_trail_cannot_be_changed_or_deleted(db):
    event = AuditEvent.objects.create(action=AuditAction.SIGN_IN, username="someone")
    event.username = "someone else"
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(username="x")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_the_database_itself_refuses_to_rewrite_the_audit_trail(db):
    event = AuditEvent.objects.create(action=AuditAction.SIGN_IN, username="someone")
    statements = ["UPDATE access_auditevent SET username = 'x' WHERE id = %s"]
    if connection.vendor == "postgresql":
        statements.append("DELETE FROM access_auditevent WHERE id = %s")
    for sql in statements:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).username == "someone"


def test_sign_in_sign_out_and_failed_sign_in_are_audited(client, key_worker):
    response = client.post(reverse("login"), {"username": "kw", "password": "wrong"})
    assert response.status_code == 200
    assert b"Enter a correct username and password" in response.content
    failed = AuditEvent.objects.get(action=AuditAction.SIGN_IN_FAILED)
    assert failed.detail == {"username": "kw"}
    response = client.post(
        reverse("login"), {"username": "kw", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    signed_in = AuditEvent.objects.get(action=AuditAction.SIGN_IN)
    assert signed_in.user == key_worker
    assert signed_in.agency_name
    client.post(reverse("logout"))
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_OUT, user=key_worker).exists()


def test_repeated_failed_sign_ins_lock_the_account(client, key_worker, settings):
    settings.AXES_ENABLED = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "kw", "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": "kw", "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    assert b"You cannot sign in for now" in response.content


def test_reading_the_audit_log_needs_its_own_permission_and_is_audited(client, key_worker):
    sign_in(client, key_worker)
    assert client.get(reverse("audit-log")).status_code == 403
    manager = staff(Role.PPO_MANAGER)
    sign_in(client, manager)
    response = client.get(reverse("audit-log"))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(
        action=AuditAction.LIST, record_type="access.auditevent", user=manager
    ).exists()
    admin = staff(Role.ADMINISTRATOR)
    sign_in(client, admin)
    assert client.get(reverse("audit-log")).status_code == 200


def test_audit_log_filters_by_person(client, key_worker, ppo):
    sign_in(client, key_worker).get(reverse("offenders:detail", args=[ppo.pk]))
    manager = staff(Role.PPO_MANAGER)
    sign_in(client, manager)
    response = client.get(reverse("audit-log"), {"person": str(ppo.pk), "action": "view"})
    rows = list(response.context["page"].object_list)
    assert [e.user for e in rows] == [key_worker]
    bad = client.get(reverse("audit-log"), {"person": "abc", "from": "31/02/2026"})
    assert bad.status_code == 200
    assert b"Enter a person&#x27;s record number" in bad.content
    assert b"Enter the &#x27;from&#x27; date as YYYY-MM-DD" in bad.content


def test_inactivity_timeout_signs_a_person_out(client, key_worker, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    start = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        sign_in(client, key_worker)
        assert client.get(reverse("home")).status_code == 200
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get(reverse("home")).status_code == 200  # activity renews the session
        traveller.shift(dt.timedelta(minutes=31))
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_membership_ending_removes_access_on_the_next_request(client, key_worker, ppo):
    sign_in(client, key_worker)
    url = reverse("offenders:detail", args=[ppo.pk])
    assert client.get(url).status_code == 200
    key_worker.memberships.update(ended_on=dt.date.today())
    # With no membership the user holds no role, so sees nobody: person pages are refused.
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.5"),  # no proxy configured: the header is ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the left entry could be forged
        (2, "198.51.100.1, 203.0.113.9", "198.51.100.1"),
    ],
)
def test_audit_records_the_client_address_behind_trusted_proxies(
    client, key_worker, ppo, settings, proxies, forwarded, expected
):
    settings.PPO_PROXY_COUNT = proxies
    sign_in(client, key_worker).get(
        reverse("offenders:detail", args=[ppo.pk]),
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    assert AuditEvent.objects.get(action=AuditAction.VIEW).ip_address == expected
