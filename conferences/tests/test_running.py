"""Arranging, running and closing a conference, through the pages, with bad input at
each step: a clear message and nothing saved. Today is 12 June 2026 (conftest.py)."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from access.errors import ApplicationError
from access.models import AuditAction, AuditEvent
from conferences import services
from conferences.models import (
    CaseConference,
    ConferencePerson,
    ConferenceStatus,
    CoreGroupMeeting,
)
from pathways import services as pathway_services
from pathways.models import Action, Need, Pathway
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, sign_in

pytestmark = pytest.mark.django_db


def date_parts(name, day):
    return {f"{name}-day": day.day, f"{name}-month": day.month, f"{name}-year": day.year}


def page(response):
    return html.unescape(response.content.decode())


# --- arranging ----------------------------------------------------------------------------


def test_arrange_a_conference(client, world):
    sign_in(client, world.manager)
    response = client.post(
        "/conferences/new/",
        {
            **date_parts("held_on", dt.date(2026, 7, 1)),
            "chair": world.manager.pk,
            "location": "Room 9",
            "people": [world.alpha.pk],
            "agencies": [world.housing.pk, world.treatment.pk],
        },
    )
    assert response.status_code == 302
    made = CaseConference.objects.get(held_on=dt.date(2026, 7, 1))
    assert list(made.people.values_list("offender_id", flat=True)) == [world.alpha.pk]
    assert set(made.attendances.values_list("agency_id", flat=True)) == {
        world.housing.pk,
        world.treatment.pk,
    }
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="conferences.caseconference"
    ).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"people": []}, "Choose at least one PPO to review at the conference"),
        (date_parts("held_on", dt.date(2026, 6, 11)), "The conference date cannot be in the past"),
    ],
)
def test_arranging_refuses_bad_input(client, world, change, message):
    sign_in(client, world.manager)
    before = CaseConference.objects.count()
    data = {
        **date_parts("held_on", dt.date(2026, 7, 1)),
        "chair": world.manager.pk,
        "people": [world.alpha.pk],
    }
    data.update(change)
    response = client.post("/conferences/new/", data)
    assert response.status_code == 200
    text = page(response)
    assert "There is a problem" in text and message in text
    assert CaseConference.objects.count() == before


def test_arranging_refuses_someone_not_on_the_ppo_tier(world):
    pool = OffenderFactory()
    iom = OffenderFactory()
    ProgrammeEpisodeFactory(offender=iom, kind="iom", selected_on=dt.date(2025, 1, 1))
    for person in (pool, iom):
        with pytest.raises(ApplicationError, match="PPOs today"):
            services.conference_create(
                user=world.manager,
                held_on=dt.date(2026, 7, 1),
                chair_id=world.manager.pk,
                people_ids=[world.alpha.pk, person.pk],
                agency_ids=[],
            )
    assert not CaseConference.objects.filter(held_on=dt.date(2026, 7, 1)).exists()


def test_only_the_manager_arranges(client, world):
    sign_in(client, world.key_worker)
    assert client.get("/conferences/new/").status_code == 403


# --- running ------------------------------------------------------------------------------


def _person(world, offender):
    return ConferencePerson.objects.get(conference=world.next, offender=offender)


def _record(client, world, person, **values):
    data = {
        "version": person.version,
        "minutes": "Qxminutes discussed housing",
        "offender_comment": "Wants a flat",
        "contact_level_per_week": 4,
        **date_parts("next_conference_on", dt.date(2026, 9, 15)),
    }
    data.update(values)
    return client.post(f"/conferences/{world.next.pk}/people/{person.pk}/", data)


def test_record_a_review(client, world):
    sign_in(client, world.manager)
    person = _person(world, world.alpha)
    assert _record(client, world, person).status_code == 302
    person.refresh_from_db()
    assert person.minutes == "Qxminutes discussed housing"
    assert person.contact_level_per_week == 4
    assert person.next_conference_on == dt.date(2026, 9, 15)
    assert person.version == 2


def test_the_level_the_conference_sets_becomes_the_persons_own(client, world):
    """001 §3.2b: the conference reviews the level; it is recorded through
    offenders.contact_levels (history, reason, audit) from the conference day."""
    from offenders.models import ContactLevel

    sign_in(client, world.manager)
    person = _person(world, world.alpha)
    assert _record(client, world, person, contact_level_per_week=6).status_code == 302
    level = ContactLevel.objects.get(offender=world.alpha)
    assert (level.contacts_per_week, level.starts_on, level.set_by) == (
        6,
        dt.date(2026, 6, 15),
        world.manager,
    )
    assert level.reason == "Set at the case conference of 15 June 2026"
    # The drug-test level stays as it was (the PPO tier's two).
    assert level.drug_tests_per_week == 2
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="offenders.contactlevel", record_ids=[level.pk]
    ).exists()
    # Saved again unchanged: no second row; changed: a new one in the history.
    person.refresh_from_db()
    assert _record(client, world, person, contact_level_per_week=6).status_code == 302
    assert ContactLevel.objects.filter(offender=world.alpha).count() == 1
    person.refresh_from_db()
    assert _record(client, world, person, contact_level_per_week=5).status_code == 302
    assert list(
        ContactLevel.objects.filter(offender=world.alpha).values_list(
            "contacts_per_week", flat=True
        )
    ) == [5, 6]


def test_a_level_the_contact_level_service_refuses_saves_nothing_of_the_record(world):
    from offenders.models import ContactLevel, ProgrammeEpisode

    ProgrammeEpisode.objects.filter(offender=world.alpha).update(selected_on=dt.date(2026, 6, 16))
    person = _person(world, world.alpha)
    with pytest.raises(ApplicationError) as refused:
        services.conference_person_record(
            user=world.manager,
            conference_person_id=person.pk,
            version=person.version,
            minutes="Qxminutes kept?",
            contact_level_per_week=6,
        )
    assert "contact_level_per_week" in refused.value.field_errors
    person.refresh_from_db()
    assert person.minutes != "Qxminutes kept?" and person.version == 1
    assert not ContactLevel.objects.exists()


def test_the_record_page_opens_with_what_is_saved_and_its_version(client, world):
    """Opened, the form holds the saved record and the version it was read at, so saving
    it again from the page goes through (it once opened empty, and every save was refused)."""
    sign_in(client, world.manager)
    person = _person(world, world.alpha)
    services.conference_person_record(
        user=world.manager,
        conference_person_id=person.pk,
        version=person.version,
        minutes="Qxsaved minutes",
        offender_comment="Qxsaved comment",
    )
    person.refresh_from_db()
    text = page(client.get(f"/conferences/{world.next.pk}/people/{person.pk}/"))
    assert "Qxsaved minutes" in text and "Qxsaved comment" in text
    assert f'name="version" value="{person.version}"' in text


def test_next_conference_before_this_one_is_refused(client, world):
    sign_in(client, world.manager)
    person = _person(world, world.alpha)
    same_day = date_parts("next_conference_on", world.next.held_on)
    response = _record(client, world, person, **same_day)
    assert "The next conference must be after this one, 15 June 2026" in page(response)
    person.refresh_from_db()
    assert person.minutes == "" and person.version == 1


def test_a_stale_save_is_told_and_loses_nothing(client, world):
    sign_in(client, world.manager)
    person = _person(world, world.alpha)
    opened_at = person.version
    # Someone else saves first.
    services.conference_person_record(
        user=world.manager,
        conference_person_id=person.pk,
        version=opened_at,
        minutes="Qxfirst save",
    )
    response = _record(client, world, person, version=opened_at, minutes="Qxsecond save")
    text = page(response)
    assert "Someone else saved this person's record at the conference" in text
    # Both are on the page: what is saved now, and what was typed.
    assert "Qxfirst save" in text and "Qxsecond save" in text
    person.refresh_from_db()
    assert person.minutes == "Qxfirst save"
    # Saved again from that page (now at the current version), it goes through.
    assert f'name="version" value="{person.version}"' in text
    assert _record(client, world, person, minutes="Qxsecond save").status_code == 302


def test_attendance_with_a_stale_version_is_refused(client, world):
    sign_in(client, world.manager)
    services.attendance_record(
        user=world.manager,
        conference_id=world.next.pk,
        version=1,
        attendance={world.treatment.pk: (True, "A Worker")},
    )
    response = client.post(
        f"/conferences/{world.next.pk}/attendance/",
        {"version": 1, f"attended_{world.treatment.pk}": "no"},
    )
    assert "Someone else saved this conference's record" in page(response)
    attendance = world.next.attendances.get()
    assert (attendance.attended, attendance.attendees) == (True, "A Worker")


def test_need_and_action_recorded_through_the_pathways_services(client, world):
    sign_in(client, world.manager)
    person = _person(world, world.beta)
    accommodation = Pathway.objects.get(code="accommodation")
    response = client.post(
        f"/conferences/{world.next.pk}/people/{person.pk}/need/",
        {"pathway": accommodation.pk, "level": "high"},
    )
    assert response.status_code == 302
    assert Need.objects.get(offender=world.beta).level == "high"
    # An action due before the conference (15 June) is refused, nothing saved.
    response = client.post(
        f"/conferences/{world.next.pk}/people/{person.pk}/action/",
        {
            "pathway": accommodation.pk,
            "description": "Qxaction tenancy",
            "owner_agency": world.housing.pk,
            **date_parts("due_on", dt.date(2026, 6, 14)),
        },
    )
    assert "The due date must be on or after the conference, 15 June 2026" in page(response)
    assert not Action.objects.exists()
    response = client.post(
        f"/conferences/{world.next.pk}/people/{person.pk}/action/",
        {
            "pathway": accommodation.pk,
            "description": "Qxaction tenancy",
            "owner_agency": world.housing.pk,
            **date_parts("due_on", dt.date(2026, 7, 14)),
        },
    )
    assert response.status_code == 302
    assert Action.objects.get().owner_agency == world.housing


# --- closing -------------------------------------------------------------------------------


def _close_today(world):
    world.next.held_on = dt.date(2026, 6, 12)
    world.next.save()


def test_close_asks_for_confirmation_first(client, world):
    _close_today(world)
    sign_in(client, world.manager)
    text = page(client.get(f"/conferences/{world.next.pk}/close/"))
    assert "Closing freezes the plans and cannot be undone" in text
    world.next.refresh_from_db()
    assert world.next.status == ConferenceStatus.PLANNED


def test_a_conference_to_come_cannot_be_closed(world):
    with pytest.raises(ApplicationError, match="only on or after the day it is held"):
        services.conference_close(user=world.manager, conference_id=world.next.pk, version=1)


def test_closing_freezes_the_plans(client, world):
    _close_today(world)
    accommodation = Pathway.objects.get(code="accommodation")
    action = pathway_services.action_create(
        user=world.manager,
        offender_id=world.beta.pk,
        pathway_id=accommodation.pk,
        description="Qxaction as agreed",
        owner_agency_id=world.housing.pk,
        due_on=dt.date(2026, 7, 1),
    )
    sign_in(client, world.manager)
    response = client.post(f"/conferences/{world.next.pk}/close/", {"version": 1})
    assert response.status_code == 302
    world.next.refresh_from_db()
    assert world.next.status == ConferenceStatus.CLOSED
    assert world.next.closed_by == world.manager
    # A later change of the action does not change what was agreed.
    pathway_services.action_update(
        user=world.manager,
        action_id=action.pk,
        version=action.version,
        description="Qxaction changed later",
    )
    frozen = _person(world, world.beta).frozen_plan
    assert [a["description"] for a in frozen["actions"]] == ["Qxaction as agreed"]
    text = page(client.get(f"/conferences/{world.next.pk}/"))
    assert "Qxaction as agreed" in text and "Qxaction changed later" not in text
    tab = page(client.get(f"/conferences/person/{world.beta.pk}/"))
    assert "Qxaction as agreed" in tab


def test_a_closed_conference_refuses_every_change(client, world):
    _close_today(world)
    services.conference_close(user=world.manager, conference_id=world.next.pk, version=1)
    sign_in(client, world.manager)
    person = _person(world, world.alpha)
    response = client.get(f"/conferences/{world.next.pk}/people/{person.pk}/")
    assert response.status_code == 409
    assert "can no longer be changed" in page(response)
    response = _record(client, world, person)
    assert "can no longer be changed" in page(response)
    person.refresh_from_db()
    assert person.minutes == ""
    with pytest.raises(services.ClosedConference):
        services.conference_close(user=world.manager, conference_id=world.next.pk, version=2)
    with pytest.raises(services.ClosedConference):
        services.conference_need_set(
            user=world.manager,
            conference_person_id=person.pk,
            pathway_id=Pathway.objects.first().pk,
            level="low",
        )
    assert not Need.objects.exists()


# --- core-group meetings -------------------------------------------------------------------


def test_core_group_meeting(client, world):
    sign_in(client, world.manager)
    url = f"/conferences/person/{world.beta.pk}/core-group/"
    response = client.post(url, {**date_parts("held_on", dt.date(2026, 6, 13)), "notes": "Qxnotes"})
    assert "The meeting date cannot be in the future" in page(response)
    response = client.post(url, {**date_parts("held_on", dt.date(2026, 6, 12)), "notes": ""})
    assert "Enter notes of the meeting" in page(response)
    assert not CoreGroupMeeting.objects.exists()
    response = client.post(
        url,
        {
            **date_parts("held_on", dt.date(2026, 6, 12)),
            "notes": "Qxnotes",
            "agencies": [world.housing.pk],
        },
    )
    assert response.status_code == 302
    meeting = CoreGroupMeeting.objects.get()
    assert list(meeting.agencies.all()) == [world.housing]
    # Shown to the housing agency (present) only when the person is in its scope: not here.
    client.logout()
    sign_in(client, world.housing_worker)
    assert client.get(f"/conferences/person/{world.beta.pk}/").status_code == 404


# --- the caseload and the tab ---------------------------------------------------------------


def test_caseload_next_conference_column(client, world):
    newcomer = OffenderFactory(first_name="Qxconfnew", last_name="Cole")
    ProgrammeEpisodeFactory(offender=newcomer, selected_on=dt.date(2026, 4, 1))
    sign_in(client, world.manager)
    text = page(client.get("/"))
    assert "Next conference" in text
    assert "15 June 2026" in text  # Ashdown and Brennan are booked
    assert "due 1 May 2026" in text  # the newcomer, a month after selection
    assert "Case conferences due" in text and "1 PPO due a conference" in text


def test_person_tab_is_offered_and_scoped(client, world):
    sign_in(client, world.prison_north)
    text = page(client.get(f"/conferences/person/{world.alpha.pk}/"))
    assert "Conference of 2 March 2026" in text
    assert "Conference of 15 June 2026" not in text  # HMP North not invited


def test_due_page_ticks_lead_to_the_arrange_form(client, world):
    newcomer = OffenderFactory(first_name="Qxconfnew", last_name="Cole")
    ProgrammeEpisodeFactory(offender=newcomer, selected_on=dt.date(2026, 4, 1))
    sign_in(client, world.manager)
    due = page(client.get("/conferences/due/"))
    assert f'name="people" type="checkbox" value="{newcomer.pk}" checked' in due
    form = page(client.get(f"/conferences/new/?people={newcomer.pk}"))
    assert f'type="checkbox" value="{newcomer.pk}" checked' in form
    # The world's PPOs are offered too (current PPOs), but not ticked.
    assert f'type="checkbox" value="{world.alpha.pk}">' in form
