"""Who is due a case conference (001 §3.2a; conferences.due), at the boundary dates.

Each rule is tested on both sides of its boundary, with dates worked out by hand here:

* last closed conference 2 March 2026, interval 3 months: due on 2 June, not on 1 June;
* a new PPO selected on 10 March 2026 (no conference): due on 10 April, not 9 April;
* a sentence with expected release exactly 24 months after today is not long (still due);
  a day later it is (not due);
* a planned conference on or after today books the person (not due).
"""

from __future__ import annotations

import datetime as dt

import pytest

from access.models import Role, Scheme
from access.policy import actor_for
from conferences.due import due_lines
from conferences.models import CaseConference, ConferencePerson, ConferenceStatus
from offenders.models import CustodyKind
from tests.factories import (
    CustodyEpisodeFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return staff(Role.PPO_MANAGER)


def closed_conference(user, held_on, person):
    conference = CaseConference.objects.create(
        held_on=held_on, chair=user, created_by=user, status=ConferenceStatus.CLOSED
    )
    ConferencePerson.objects.create(conference=conference, offender=person)
    return conference


def line(manager, person, as_of):
    return due_lines(actor_for(manager, as_of), as_of=as_of).get(person.pk)


def test_due_interval_months_after_the_last_closed_conference(manager):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    closed_conference(manager, dt.date(2026, 3, 2), person)
    assert line(manager, person, dt.date(2026, 6, 1)).is_due is False
    on_the_day = line(manager, person, dt.date(2026, 6, 2))
    assert on_the_day.is_due is True
    assert on_the_day.due_on == dt.date(2026, 6, 2)
    assert on_the_day.overdue is False
    assert line(manager, person, dt.date(2026, 6, 3)).overdue is True


def test_the_interval_is_the_schemes(manager):
    scheme = Scheme.current()
    scheme.conference_interval_months = 6
    scheme.save()
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    closed_conference(manager, dt.date(2026, 3, 2), person)
    assert line(manager, person, dt.date(2026, 9, 1)).is_due is False
    assert line(manager, person, dt.date(2026, 9, 2)).is_due is True


def test_a_planned_conference_does_not_count_as_the_last_one(manager):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    closed_conference(manager, dt.date(2026, 3, 2), person)
    planned = CaseConference.objects.create(
        held_on=dt.date(2026, 5, 1), chair=manager, created_by=manager
    )
    ConferencePerson.objects.create(conference=planned, offender=person)
    # Held in the past but never closed: neither the last conference nor a booking.
    found = line(manager, person, dt.date(2026, 6, 2))
    assert found.last_conference_on == dt.date(2026, 3, 2)
    assert found.is_due is True


def test_a_new_ppo_is_due_a_month_after_selection(manager):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2026, 3, 10))
    assert line(manager, person, dt.date(2026, 4, 9)).is_due is False
    assert line(manager, person, dt.date(2026, 4, 10)).is_due is True


def test_a_conference_before_the_current_selection_does_not_count(manager):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(
        offender=person,
        selected_on=dt.date(2024, 1, 1),
        deselected_on=dt.date(2025, 1, 1),
        deselection_reason="no_offending",
    )
    closed_conference(manager, dt.date(2024, 6, 1), person)
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2026, 3, 10))
    found = line(manager, person, dt.date(2026, 4, 10))
    assert found.last_conference_on is None
    assert found.is_due is True


def test_not_a_ppo_is_never_due(manager):
    iom = OffenderFactory()
    ProgrammeEpisodeFactory(offender=iom, kind="iom", selected_on=dt.date(2025, 1, 1))
    pool = OffenderFactory()
    assert line(manager, iom, dt.date(2026, 6, 12)) is None
    assert line(manager, pool, dt.date(2026, 6, 12)) is None


@pytest.mark.parametrize(
    ("expected_release", "due"),
    [
        # Today 12 June 2026, 24 months: the horizon is 12 June 2028.
        (dt.date(2028, 6, 12), True),
        (dt.date(2028, 6, 13), False),
        (None, True),  # no expected release date: not excluded (the conference chases it)
    ],
)
def test_not_while_serving_a_long_sentence(manager, expected_release, due):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    closed_conference(manager, dt.date(2026, 1, 5), person)
    CustodyEpisodeFactory(
        offender=person,
        kind=CustodyKind.SENTENCE,
        started_on=dt.date(2026, 2, 1),
        sentence_length_months=60,
        expected_release_on=expected_release,
    )
    assert line(manager, person, dt.date(2026, 6, 12)).is_due is due


def test_remand_is_not_a_long_sentence(manager):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    closed_conference(manager, dt.date(2026, 1, 5), person)
    CustodyEpisodeFactory(
        offender=person,
        kind=CustodyKind.REMAND,
        started_on=dt.date(2026, 2, 1),
        sentence_length_months=None,
        expected_release_on=dt.date(2030, 1, 1),
    )
    assert line(manager, person, dt.date(2026, 6, 12)).is_due is True


def test_booked_on_a_planned_conference_is_not_due(manager):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    closed_conference(manager, dt.date(2026, 1, 5), person)
    planned = CaseConference.objects.create(
        held_on=dt.date(2026, 6, 12), chair=manager, created_by=manager
    )
    ConferencePerson.objects.create(conference=planned, offender=person)
    on_the_day = line(manager, person, dt.date(2026, 6, 12))
    assert on_the_day.booked_on == dt.date(2026, 6, 12)
    assert on_the_day.is_due is False
    # The day after the (unclosed) conference, nothing books them any more.
    assert line(manager, person, dt.date(2026, 6, 13)).is_due is True


def test_due_page_lists_only_the_due_and_audits_them(client, world):
    from access.models import AuditEvent
    from tests.factories import sign_in

    newcomer = OffenderFactory(first_name="Qxconfnew", last_name="Cole")
    ProgrammeEpisodeFactory(offender=newcomer, selected_on=dt.date(2026, 4, 1))
    sign_in(client, world.manager)
    page = client.get("/conferences/due/").content.decode()
    assert "Qxconfnew Cole" in page
    # Both of the world's PPOs are booked on the conference of 15 June.
    assert "Qxconfalpha" not in page and "Qxconfbeta" not in page
    event = AuditEvent.objects.filter(action="list", detail__view="due a conference").get()
    assert event.offender_ids == [newcomer.pk]


def test_due_page_refused_to_readers_of_attended_conferences_only(client, world):
    from tests.factories import sign_in

    sign_in(client, world.partner)
    assert client.get("/conferences/due/").status_code == 403
