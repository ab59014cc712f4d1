"""Forms that account for every submission and refuse what cannot be true.

- A form posted twice (double click, "resubmit", back and save again) saves once.
- A person without a PNC ID who matches someone by name and date of birth is flagged.
- Every date is bounded by the person's life (offenders.dates), in forms as in imports.
- Free text has a limit in the model, not only in the form.
- The IOM grade changes only through the grade form, which keeps its history.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import AgencyKind, AuditAction, AuditEvent, FormSubmission, Role
from offenders import services
from offenders.dates import birthday, date_of_birth_problem, life_date_problem
from offenders.models import (
    Contact,
    CustodyEpisode,
    DrugTest,
    GradeChange,
    Offender,
    OffendingEvent,
)
from tests.factories import (
    AgencyFactory,
    CustodyEpisodeFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    sign_in,
    staff,
)

BORN = dt.date(1984, 6, 12)


@pytest.fixture
def ppo(db):
    offender = OffenderFactory(first_name="Qxdouble", date_of_birth=BORN)
    ProgrammeEpisodeFactory(offender=offender)
    return offender


@pytest.fixture
def manager(db):
    return staff(Role.PPO_MANAGER)


def contact(**overrides):
    when = timezone.localtime() - dt.timedelta(hours=2)
    data = {
        "date": when.date().isoformat(),
        "hour": str(when.hour),
        "minute": str(when.minute),
        "kind": "office",
        "outcome": "attended",
        "note": "Qx note",
    }
    data.update(overrides)
    return data


# --- 14. The same form posted twice ---------------------------------------------------------

POSTS = [
    ("offenders:contact-log", Contact, lambda ppo: contact()),
    (
        "offenders:drug-test",
        DrugTest,
        lambda ppo: {**contact(), "result": "negative", "substances": ""},
    ),
    (
        "offenders:event-record",
        OffendingEvent,
        lambda ppo: {"kind": "intelligence", "occurred_on": "2026-03-01", "summary": "Qx"},
    ),
]


@pytest.mark.parametrize("url_name,model,data", POSTS)
def test_the_same_form_posted_twice_saves_once(client, manager, ppo, url_name, model, data):
    url = reverse(url_name, args=[ppo.pk])
    posted = {**data(ppo), "form_token": str(uuid.uuid4())}
    first = sign_in(client, manager).post(url, posted)
    second = client.post(url, posted, follow=True)
    assert first.status_code == 302
    assert model.objects.filter(offender=ppo).count() == 1
    assert "already saved" in second.content.decode()
    # The repeat lands where the first post did.
    assert second.redirect_chain[-1][0] == first.url
    assert FormSubmission.objects.count() == 1
    creates = AuditEvent.objects.filter(action=AuditAction.CREATE, offender_refs=f",{ppo.pk},")
    assert creates.count() == 1


def test_two_posts_with_different_tokens_are_two_records(client, manager, ppo):
    url = reverse("offenders:contact-log", args=[ppo.pk])
    sign_in(client, manager)
    client.post(url, {**contact(), "form_token": str(uuid.uuid4())})
    client.post(url, {**contact(), "form_token": str(uuid.uuid4())})
    assert Contact.objects.filter(offender=ppo).count() == 2


def test_a_refused_post_does_not_use_up_its_token(client, manager, ppo):
    """The token is claimed in the same transaction as the record: a post with an error
    claims nothing, so the corrected form (same page, same token) saves."""
    url = reverse("offenders:contact-log", args=[ppo.pk])
    token = str(uuid.uuid4())
    sign_in(client, manager)
    bad = client.post(url, {**contact(date="1850-01-01"), "form_token": token})
    assert bad.status_code == 200
    assert f'value="{token}"' in bad.content.decode()
    good = client.post(url, {**contact(), "form_token": token})
    assert good.status_code == 302
    assert Contact.objects.filter(offender=ppo).count() == 1


def test_a_post_without_its_token_is_refused_with_a_fresh_one(manager, ppo):
    client = Client()  # posts exactly what it is given: no token
    sign_in(client, manager)
    url = reverse("offenders:contact-log", args=[ppo.pk])
    response = client.post(url, contact())
    assert response.status_code == 200
    assert "page was out of date" in response.content.decode()
    assert not Contact.objects.exists()
    token = response.context["form"].issued_token
    assert client.post(url, {**contact(), "form_token": str(token)}).status_code == 302


def test_someone_elses_token_is_not_theirs_to_replay(client, manager, ppo):
    url = reverse("offenders:contact-log", args=[ppo.pk])
    token = str(uuid.uuid4())
    sign_in(client, manager).post(url, {**contact(), "form_token": token})
    other = staff(Role.PPO_MANAGER)
    client.raise_request_exception = False
    response = sign_in(client, other).post(url, {**contact(), "form_token": token})
    assert response.status_code != 302
    assert Contact.objects.count() == 1


def test_a_new_person_posted_twice_is_added_once(client, db):
    police = staff(Role.POLICE_OFFICER)
    data = {
        "first_name": "Qxonce",
        "last_name": "Qxonly",
        "date_of_birth": "1990-04-01",
        "sex": "F",
        "ethnicity": "not_stated",
        "supervision": "none",
        "pnc_id": "",
        "form_token": str(uuid.uuid4()),
    }
    sign_in(client, police)
    assert client.post(reverse("offenders:create"), data).status_code == 302
    assert client.post(reverse("offenders:create"), data).status_code == 302
    assert Offender.objects.filter(first_name="Qxonce").count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs a database that serves two connections at once: the tests' in-memory "
    "SQLite shares one cache between threads, with table locks (CI runs on PostgreSQL)",
)
@pytest.mark.django_db(transaction=True)
def test_two_posts_at_the_same_moment_save_once(manager, ppo):
    """A double click: two requests in flight together with one token. The database's
    unique token settles it (PostgreSQL: the second insert waits for the first)."""
    url = reverse("offenders:contact-log", args=[ppo.pk])
    posted = {**contact(), "form_token": str(uuid.uuid4())}
    statuses: list[int] = []
    barrier = threading.Barrier(2, timeout=20)

    def post() -> None:
        from django.db import connections

        c = Client()
        sign_in(c, manager)
        barrier.wait()
        statuses.append(c.post(url, posted).status_code)
        connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert statuses == [302, 302]
    assert Contact.objects.filter(offender=ppo).count() == 1


# --- 14. A person without a PNC ID who may already be on the record -------------------------


def _person(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Qxtwin",
        "last_name": "Qxsame",
        "date_of_birth": "1991-02-03",
        "sex": "M",
        "ethnicity": "not_stated",
        "supervision": "none",
        "pnc_id": "",
    }
    data.update(overrides)
    return data


def test_a_person_matching_by_name_and_birth_is_flagged_before_saving(client, db):
    existing = OffenderFactory(
        first_name="Qxtwin", last_name="QXSAME", date_of_birth=dt.date(1991, 2, 3), pnc_id=None
    )
    ProgrammeEpisodeFactory(offender=existing)
    sign_in(client, staff(Role.POLICE_OFFICER))
    response = client.post(reverse("offenders:create"), _person(first_name=" qxtwin "))
    page = response.content.decode()
    assert response.status_code == 200
    assert "already on PPO Case" in page
    assert reverse("offenders:detail", args=[existing.pk]) in page
    assert Offender.objects.count() == 1
    # The person who was shown is a consultation.
    assert AuditEvent.objects.filter(
        action=AuditAction.LIST, offender_refs=f",{existing.pk},"
    ).exists()
    confirmed = client.post(
        reverse("offenders:create"), _person(first_name="Qxtwin", different_person="on")
    )
    assert confirmed.status_code == 302
    assert Offender.objects.count() == 2


def test_a_different_date_of_birth_or_a_pnc_id_is_not_a_duplicate(client, db):
    OffenderFactory(
        first_name="Qxtwin", last_name="Qxsame", date_of_birth=dt.date(1991, 2, 3), pnc_id=None
    )
    sign_in(client, staff(Role.POLICE_OFFICER))
    other_day = client.post(reverse("offenders:create"), _person(date_of_birth="1991-02-04"))
    assert other_day.status_code == 302
    with_pnc = client.post(reverse("offenders:create"), _person(pnc_id="2004/0046583U"))
    assert with_pnc.status_code == 302


def test_a_duplicate_the_user_cannot_see_is_flagged_without_naming_them(client, db):
    """A YOT worker adding an 18-year-old who is already on the record (out of their
    scope): flagged, but not named or linked."""
    OffenderFactory(
        first_name="Qxtwin", last_name="Qxsame", date_of_birth=dt.date(2007, 2, 3), pnc_id=None
    )
    sign_in(client, staff(Role.YOT_WORKER))
    response = client.post(reverse("offenders:create"), _person(date_of_birth="2007-02-03"))
    page = response.content.decode()
    assert "ask the PPO manager" in page
    assert (
        "/people/" not in page.split("possible-duplicates")[1].split("</form>")[0].split("<form")[0]
    )


# --- 15. Dates within the person's life -----------------------------------------------------


@pytest.mark.parametrize(
    "day,expected",
    [
        (dt.date(1899, 12, 31), "on or after 1 January 1900"),
        (dt.date(1984, 6, 11), "before the person's date of birth (12 June 1984)"),
        (dt.date(1984, 6, 12), None),  # the day they were born: possible for a contact
        (dt.date(2099, 1, 1), "cannot be in the future"),
    ],
)
def test_a_date_in_a_life_at_its_boundaries(day, expected):
    problem = life_date_problem(
        day, what="the date", date_of_birth=BORN, today=dt.date(2026, 12, 1)
    )
    assert (problem is None) if expected is None else (expected in problem)


@pytest.mark.parametrize(
    "day,refused",
    [(dt.date(1994, 6, 11), True), (dt.date(1994, 6, 12), False)],  # 10th birthday
)
def test_offending_cannot_come_before_the_age_of_criminal_responsibility(day, refused):
    problem = life_date_problem(
        day, what="the date", date_of_birth=BORN, from_age=10, today=dt.date(2026, 12, 1)
    )
    assert (problem is not None) == refused
    if refused:
        assert "10th birthday (12 June 1994)" in problem


@pytest.mark.parametrize(
    "day,refused",
    [(dt.date(2076, 12, 1), False), (dt.date(2076, 12, 2), True), (dt.date(9999, 1, 1), True)],
)
def test_an_expected_date_no_further_ahead_than_the_horizon(day, refused):
    problem = life_date_problem(
        day,
        what="the expected release date",
        date_of_birth=BORN,
        expected=True,
        horizon_years=50,
        today=dt.date(2026, 12, 1),
    )
    assert (problem is not None) == refused


def test_a_leap_day_birthday_turns_ten_on_the_first_of_march():
    assert birthday(dt.date(2016, 2, 29), 10) == dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    "born,refused",
    [
        (dt.date(1899, 12, 31), True),
        (dt.date(1900, 1, 1), False),
        (dt.date(2016, 12, 1), False),  # 10 today
        (dt.date(2016, 12, 2), True),  # 10 tomorrow
        (dt.date(2026, 12, 2), True),
    ],
)
def test_a_date_of_birth_at_its_boundaries(born, refused):
    assert (date_of_birth_problem(born, today=dt.date(2026, 12, 1)) is not None) == refused


@pytest.mark.parametrize("day", ["0001-01-01", "1850-03-03", "1984-06-11"])
def test_a_contact_before_the_person_was_born_is_refused(client, manager, ppo, day):
    url = reverse("offenders:contact-log", args=[ppo.pk])
    response = sign_in(client, manager).post(url, contact(date=day))
    assert response.status_code == 200
    assert "govuk-error-summary" in response.content.decode()
    assert not Contact.objects.exists()


def test_custody_in_1950_for_someone_born_in_1984_is_refused(client, manager, ppo):
    prison = AgencyFactory(name="HMP Qxdates", kind=AgencyKind.PRISON)
    url = reverse("offenders:custody-create", args=[ppo.pk])
    response = sign_in(client, manager).post(
        url,
        {
            "kind": "sentence",
            "establishment": prison.pk,
            "started_on": "1950-01-01",
            "sentence_length_months": "12",
        },
    )
    assert "10th birthday" in response.content.decode()
    assert not CustodyEpisode.objects.exists()


def test_an_expected_release_in_9999_is_refused(client, manager, ppo):
    prison = AgencyFactory(name="HMP Qxdates", kind=AgencyKind.PRISON)
    url = reverse("offenders:custody-create", args=[ppo.pk])
    response = sign_in(client, manager).post(
        url,
        {
            "kind": "sentence",
            "establishment": prison.pk,
            "started_on": "2026-01-01",
            "sentence_length_months": "12",
            "expected_release_on": "9999-12-31",
        },
    )
    assert "years from now" in response.content.decode()
    assert not CustodyEpisode.objects.exists()


def test_an_event_before_the_tenth_birthday_is_refused_by_the_service(manager, ppo):
    with pytest.raises(ValidationError) as error:
        services.offending_event_record(
            user=manager, offender_id=ppo.pk, kind="intelligence", occurred_on=dt.date(1990, 1, 1)
        )
    assert "occurred_on" in error.value.message_dict
    assert not OffendingEvent.objects.exists()


def test_a_release_before_birth_is_refused(manager, ppo):
    CustodyEpisodeFactory(offender=ppo, started_on=dt.date(2026, 1, 1))
    with pytest.raises(ValidationError):
        services.custody_release(user=manager, offender_id=ppo.pk, released_on=dt.date(1970, 1, 1))


# --- 16. Free text has a limit in the model --------------------------------------------------


def test_an_address_of_a_million_characters_is_refused_by_the_form(client, manager, ppo):
    data = {
        "first_name": ppo.first_name,
        "last_name": ppo.last_name,
        "date_of_birth": ppo.date_of_birth.isoformat(),
        "sex": "U",
        "ethnicity": "not_stated",
        "supervision": "none",
        "address": "x" * 1_000_000,
    }
    response = sign_in(client, manager).post(reverse("offenders:update", args=[ppo.pk]), data)
    assert response.status_code == 200
    assert "at most 500 characters" in response.content.decode()
    ppo.refresh_from_db()
    assert ppo.address == ""


def test_an_address_of_a_million_characters_is_refused_by_the_service(manager, ppo):
    data = {name: getattr(ppo, name) for name in services.EDITABLE_IDENTITY_FIELDS}
    data["address"] = "x" * 1_000_000
    with pytest.raises(ValidationError) as error:
        services.offender_update(user=manager, offender_id=ppo.pk, data=data)
    assert "address" in error.value.message_dict
    ppo.refresh_from_db()
    assert ppo.address == ""


def test_every_free_text_field_has_a_limit_in_the_model():
    from django.apps import apps
    from django.core.validators import MaxLengthValidator
    from django.db import models

    # Written by the system, never typed: the audit trail's list of people.
    system_written = {("access", "auditevent", "offender_refs")}
    unbounded = []
    for app in ("access", "offenders", "pathways", "selection", "conferences", "reporting"):
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.get_fields():
                if not isinstance(field, models.CharField | models.TextField):
                    continue
                key = (app, model._meta.model_name, field.name)
                limited = any(isinstance(v, MaxLengthValidator) for v in field.validators)
                if not limited and key not in system_written:
                    unbounded.append(".".join(key))
    assert unbounded == []


def test_a_long_contact_note_is_refused_by_the_model(manager, ppo):
    with pytest.raises(ValidationError) as error:
        services.contact_log(
            user=manager,
            offender_id=ppo.pk,
            occurred_at=timezone.now() - dt.timedelta(hours=1),
            kind="office",
            outcome="attended",
            note="n" * 4001,
        )
    assert "note" in error.value.message_dict


# --- 17. The grade changes only with its history --------------------------------------------


def test_change_details_cannot_change_the_grade(client, manager, ppo):
    data = {
        "first_name": ppo.first_name,
        "last_name": ppo.last_name,
        "date_of_birth": ppo.date_of_birth.isoformat(),
        "sex": "U",
        "ethnicity": "not_stated",
        "supervision": "none",
        "iom_grade": "red",
    }
    page = sign_in(client, manager).get(reverse("offenders:update", args=[ppo.pk]))
    assert 'name="iom_grade"' not in page.content.decode()
    client.post(reverse("offenders:update", args=[ppo.pk]), data)
    ppo.refresh_from_db()
    assert ppo.iom_grade == ""
    assert not GradeChange.objects.exists()


def test_the_update_service_refuses_a_grade(manager, ppo):
    data = {name: getattr(ppo, name) for name in services.EDITABLE_IDENTITY_FIELDS}
    data["iom_grade"] = "red"
    with pytest.raises(services.ApplicationError) as error:
        services.offender_update(user=manager, offender_id=ppo.pk, data=data)
    assert "Change the IOM grade" in error.value.message
    ppo.refresh_from_db()
    assert ppo.iom_grade == ""


def test_a_grade_given_when_a_person_is_added_starts_their_history(manager):
    offender = services.offender_create(
        user=manager,
        data={
            "first_name": "Qxgraded",
            "last_name": "Qxperson",
            "date_of_birth": dt.date(1990, 1, 1),
            "iom_grade": "amber",
        },
    )
    change = GradeChange.objects.get(offender=offender)
    assert (change.from_grade, change.to_grade, change.changed_by) == ("", "amber", manager)
