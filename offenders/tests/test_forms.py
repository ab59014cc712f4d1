"""Bad input on the person and custody forms: a clear message, nothing saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from access.models import AgencyKind, AuditAction, AuditEvent, Role
from offenders.models import CustodyEpisode, Offender
from tests.factories import AgencyFactory, OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff


def valid_person(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Ffion",
        "last_name": "Invented",
        "date_of_birth": "1990-04-01",
        "sex": "F",
        "ethnicity": "not_stated",
        "supervision": "none",
        "pnc_id": "2004/0046583U",
    }
    data.update(overrides)
    return data


@pytest.fixture
def police(client, db):
    user = staff(Role.POLICE_OFFICER)
    sign_in(client, user)
    return client


def test_a_valid_person_is_saved_and_audited(police):
    response = police.post(reverse("offenders:create"), valid_person(pnc_id="04/46583u"))
    assert response.status_code == 302
    person = Offender.objects.get()
    assert person.pnc_id == "2004/0046583U"
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, offender_refs=f",{person.pk},"
    ).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pnc_id", "2004/0046583A", "check letter does not match"),
        ("pnc_id", "46583U", "Enter a PNC ID as year, slash, serial number and check letter"),
        ("crn", "12345", "Enter a probation CRN as a letter followed by six digits"),
        (
            "prison_number",
            "A12BC",
            "Enter a prison number as a letter, four digits and two letters",
        ),
        ("date_of_birth", "2999-01-01", "Date of birth must be in the past"),
        ("date_of_birth", "2001-02-30", "Enter a valid date"),
        ("sex", "Q", "Select a valid choice"),
        ("supervision", "parole", "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_message_and_saves_nothing(police, field, value, message):
    response = police.post(reverse("offenders:create"), valid_person(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert b"There is a problem" in response.content
    assert response.content.decode().count(f'href="#id_{field}"') == 1
    assert Offender.objects.count() == 0
    assert not AuditEvent.objects.filter(action=AuditAction.CREATE).exists()


def test_a_duplicate_pnc_id_is_refused(police):
    OffenderFactory(pnc_id="2004/0046583U")
    response = police.post(reverse("offenders:create"), valid_person())
    assert "already exists" in response.content.decode()
    assert Offender.objects.count() == 1


def test_a_yot_worker_cannot_add_an_adult_they_would_then_not_see(client, db):
    sign_in(client, staff(Role.YOT_WORKER))
    response = client.post(reverse("offenders:create"), valid_person())
    assert "outside the people you work with" in response.content.decode()
    assert Offender.objects.count() == 0
    teen = valid_person(date_of_birth=str(timezone.localdate() - dt.timedelta(days=15 * 365)))
    assert client.post(reverse("offenders:create"), teen).status_code == 302


def test_a_key_worker_cannot_add_or_edit_identity(client, db):
    kw = staff(Role.KEY_WORKER)
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person)
    sign_in(client, kw)
    assert client.get(reverse("offenders:create")).status_code == 403
    assert (
        client.post(reverse("offenders:update", args=[person.pk]), valid_person()).status_code
        == 403
    )
    person.refresh_from_db()
    assert person.first_name != "Ffion"


@pytest.fixture
def prison_and_ppo(db):
    prison = AgencyFactory(name="HMP Invented", kind=AgencyKind.PRISON)
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person)
    return prison, person


def custody(prison, **overrides):
    data = {
        "kind": "sentence",
        "establishment": str(prison.pk),
        "started_on": "2026-01-10",
        "sentence_length_months": "18",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"released_on": "2026-01-09"}, "Release cannot be before the start of custody"),
        (
            {"expected_release_on": "2025-12-01"},
            "Expected release cannot be before the start of custody",
        ),
        ({"sentence_length_months": ""}, "Enter the sentence length in months"),
        ({"kind": "remand"}, "A remand has no sentence length"),
        ({"started_on": "2999-01-01"}, "The start date cannot be in the future"),
        ({"kind": "holiday"}, "Select a valid choice"),
    ],
)
def test_impossible_custody_dates_are_refused(client, prison_and_ppo, overrides, message):
    prison, person = prison_and_ppo
    sign_in(client, staff(Role.KEY_WORKER))
    response = client.post(
        reverse("offenders:custody-create", args=[person.pk]), custody(prison, **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert CustodyEpisode.objects.count() == 0


def test_a_valid_custody_episode_is_saved_and_changes_status(client, prison_and_ppo):
    prison, person = prison_and_ppo
    sign_in(client, staff(Role.KEY_WORKER))
    response = client.post(reverse("offenders:custody-create", args=[person.pk]), custody(prison))
    assert response.status_code == 302
    assert Offender.objects.with_status().get(pk=person.pk).current_status == "custody"


def test_a_custody_episode_for_someone_outside_scope_is_a_404_and_saves_nothing(client, db):
    prison = AgencyFactory(name="HMP Invented", kind=AgencyKind.PRISON)
    outsider = OffenderFactory()
    sign_in(client, staff(Role.KEY_WORKER))
    response = client.post(reverse("offenders:custody-create", args=[outsider.pk]), custody(prison))
    assert response.status_code == 404
    assert CustodyEpisode.objects.count() == 0
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).count() == 1
