"""Reception needs assessments, release plans, alerts and the "due out, plan incomplete"
list (002 inspection; 004 §4.2; 003 §6.2(3))."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from access.errors import ApplicationError, NotPermitted, OutOfScope
from access.models import AgencyKind, AuditAction, AuditEvent, Membership, Role, Scheme
from access.policy import actor_for
from offenders import custody_release as cr
from offenders.models import CustodyKind
from offenders.premium_models import Alert, AlertKind, ReleasePlan
from offenders.services import custody_episode_create
from tests.factories import (
    AgencyFactory,
    CustodyEpisodeFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    sign_in,
    staff,
)

LONDON = ZoneInfo("Europe/London")


def london(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


@pytest.fixture
def prison(db):
    return AgencyFactory(name="HMP Qxmoor", kind=AgencyKind.PRISON)


@pytest.fixture
def people(db, prison):
    kw = staff(Role.KEY_WORKER, username="kw")
    police = staff(Role.POLICE_OFFICER, username="police")
    manager = staff(Role.PPO_MANAGER, username="manager")
    worker = staff(Role.PRISON_WORKER, agency=prison, username="prisoner_worker")
    return {"kw": kw, "police": police, "manager": manager, "prison": worker}


def ppo_in_custody(people, prison, **episode):
    person = OffenderFactory(key_worker=people["kw"], police_officer=people["police"])
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2024, 1, 1))
    defaults = {"started_on": dt.date(2025, 1, 6), "establishment": prison}
    return CustodyEpisodeFactory(offender=person, **{**defaults, **episode})


# --- The reception assessment's clock (002: within 24 hours) ---------------------------


def test_reception_assessment_at_exactly_24_hours_is_on_time_and_a_minute_later_late(db):
    # Received 10:00 Monday 6 January 2025: 10:00 Tuesday is on time, 10:01 is late.
    episode = CustodyEpisodeFactory(received_at=london(2025, 1, 6, 10, 0))
    assert cr.assessment_due_by(episode, 24) == london(2025, 1, 7, 10, 0)
    assert cr.assessed_on_time(episode, london(2025, 1, 7, 10, 0), 24)
    assert not cr.assessed_on_time(episode, london(2025, 1, 7, 10, 1), 24)


def test_without_a_reception_time_the_clock_starts_at_midnight_in_london_in_real_hours(db):
    # The clocks go forward at 01:00 on Sunday 29 March 2026: 24 real hours from
    # midnight GMT is 01:00 BST on Monday.
    episode = CustodyEpisodeFactory(started_on=dt.date(2026, 3, 29), received_at=None)
    assert cr.assessed_on_time(episode, london(2026, 3, 30, 1, 0), 24)
    assert not cr.assessed_on_time(episode, london(2026, 3, 30, 1, 1), 24)


def test_the_scheme_sets_the_hours(db):
    scheme = Scheme.current()
    scheme.reception_assessment_hours = 48
    scheme.save()
    episode = CustodyEpisodeFactory(received_at=london(2025, 1, 6, 10, 0))
    record_hours = Scheme.current().reception_assessment_hours
    assert cr.assessed_on_time(episode, london(2025, 1, 8, 10, 0), record_hours)
    assert not cr.assessed_on_time(episode, london(2025, 1, 8, 10, 1), record_hours)


def test_prison_worker_records_the_assessment_once_audited(people, prison):
    episode = ppo_in_custody(people, prison, received_at=london(2025, 1, 6, 10, 0))
    assessment = cr.reception_assessment_record(
        user=people["prison"],
        custody_id=episode.pk,
        assessed_at=london(2025, 1, 7, 9, 0),
        needs="  No fixed abode; heroin use  ",
    )
    assert assessment.needs == "No fixed abode; heroin use"
    assert assessment.agency == prison
    row = AuditEvent.objects.get(record_type="offenders.receptionassessment")
    assert row.action == AuditAction.CREATE and row.offender_ids == [episode.offender_id]
    with pytest.raises(ApplicationError, match="already recorded"):
        cr.reception_assessment_record(
            user=people["prison"],
            custody_id=episode.pk,
            assessed_at=london(2025, 1, 7, 9, 30),
            needs="Again",
        )


@pytest.mark.parametrize(
    ("assessed_at", "needs", "message"),
    [
        (london(2025, 1, 6, 9, 59), "Needs", "cannot be before the reception"),
        (timezone.now() + dt.timedelta(hours=1), "Needs", "cannot be in the future"),
        (london(2025, 1, 7, 9, 0), "   ", "Enter the needs"),
    ],
)
def test_a_bad_assessment_is_refused_and_nothing_saved(people, prison, assessed_at, needs, message):
    episode = ppo_in_custody(people, prison, received_at=london(2025, 1, 6, 10, 0))
    with pytest.raises(ApplicationError, match=message):
        cr.reception_assessment_record(
            user=people["prison"], custody_id=episode.pk, assessed_at=assessed_at, needs=needs
        )
    assert not cr.ReceptionAssessment.objects.exists()


def test_police_read_custody_but_cannot_record_an_assessment(people, prison):
    episode = ppo_in_custody(people, prison)
    with pytest.raises(NotPermitted):
        cr.reception_assessment_record(
            user=people["police"],
            custody_id=episode.pk,
            assessed_at=london(2025, 1, 6, 12, 0),
            needs="Needs",
        )


# --- Release plans (004 §4.2) ------------------------------------------------------------


def full_plan(agency):
    return {
        "accommodation": "Approved premises, Qxford Road",
        "accommodation_owner": agency,
        "treatment": "Script with CJIT",
        "treatment_owner": agency,
        "supervision": "Licence; voluntary mentor",
        "supervision_owner": agency,
        "first_appointment_at": timezone.now() + dt.timedelta(days=30),
        "first_appointment_with": "Key worker at Qxford office",
        "first_appointment_owner": agency,
    }


def test_a_plan_is_complete_only_when_every_part_and_owner_is_filled(people, prison):
    episode = ppo_in_custody(people, prison)
    probation = Membership.objects.get(user=people["kw"]).agency
    data = full_plan(probation)
    plan = cr.release_plan_save(
        user=people["kw"],
        custody_id=episode.pk,
        version=0,
        data={**data, "treatment_owner": None},
    )
    assert plan.version == 1 and plan.completed_at is None
    assert cr.missing_parts(plan) == ["who owns the treatment"]
    plan = cr.release_plan_save(
        user=people["kw"], custody_id=episode.pk, version=1, data={"treatment_owner": probation}
    )
    assert plan.version == 2 and cr.plan_is_complete(plan) and plan.completed_at is not None
    completed = plan.completed_at
    # Changing a part of a complete plan keeps when it became complete.
    plan = cr.release_plan_save(
        user=people["kw"], custody_id=episode.pk, version=2, data={"treatment": "Script, CJIT"}
    )
    assert plan.completed_at == completed
    # Emptying a part makes it incomplete again.
    plan = cr.release_plan_save(
        user=people["kw"], custody_id=episode.pk, version=3, data={"accommodation": ""}
    )
    assert plan.completed_at is None and cr.missing_parts(plan) == ["accommodation"]
    assert AuditEvent.objects.filter(record_type="offenders.releaseplan").count() == 4


def test_no_plan_lacks_every_part():
    assert cr.missing_parts(None) == [
        "accommodation",
        "treatment",
        "supervision on release",
        "first appointment",
    ]


def test_a_stale_save_is_refused_and_changes_nothing(people, prison):
    episode = ppo_in_custody(people, prison)
    cr.release_plan_save(
        user=people["kw"], custody_id=episode.pk, version=0, data={"accommodation": "Hostel"}
    )
    with pytest.raises(cr.StalePlan):
        cr.release_plan_save(
            user=people["prison"], custody_id=episode.pk, version=0, data={"accommodation": "Flat"}
        )
    assert ReleasePlan.objects.get(custody=episode).accommodation == "Hostel"


def test_a_plan_for_a_released_episode_is_refused(people, prison):
    episode = ppo_in_custody(people, prison, released_on=dt.date(2025, 3, 1))
    with pytest.raises(ApplicationError, match="release plan is made only while"):
        cr.release_plan_save(
            user=people["kw"], custody_id=episode.pk, version=0, data={"accommodation": "Flat"}
        )
    assert not ReleasePlan.objects.exists()


def test_the_plan_page_refuses_a_released_episode_with_a_message(client, people, prison):
    episode = ppo_in_custody(people, prison, released_on=dt.date(2025, 3, 1))
    sign_in(client, people["kw"])
    url = reverse("offenders:release-plan", args=[episode.offender_id, episode.pk])
    response = client.post(url, {"version": "0", "accommodation": "Flat"})
    assert response.status_code == 200
    assert "release plan is made only while the person is in custody" in response.content.decode()
    assert not ReleasePlan.objects.exists()


def test_the_plan_page_saves_and_the_custody_page_shows_it(client, people, prison):
    episode = ppo_in_custody(people, prison)
    sign_in(client, people["prison"])
    url = reverse("offenders:release-plan", args=[episode.offender_id, episode.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "version": "0",
            "accommodation": "Hostel bed",
            "accommodation_owner": str(prison.pk),
            "appointment_date": "2030-01-02",
            "appointment_hour": "9",
        },
    )
    # Half a time is refused, nothing saved.
    assert response.status_code == 200
    assert "Enter the date, hour and minute" in response.content.decode()
    assert not ReleasePlan.objects.exists()
    response = client.post(
        url, {"version": "0", "accommodation": "Hostel bed", "accommodation_owner": str(prison.pk)}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Hostel bed" in page and "Incomplete" in page


def test_a_partner_cannot_open_the_custody_page(client, people, prison):
    episode = ppo_in_custody(people, prison)
    partner = staff(Role.PARTNER_WORKER, username="partner")
    ReferralFactory(offender=episode.offender)
    sign_in(client, partner)
    url = reverse("offenders:custody", args=[episode.offender_id, episode.pk])
    assert client.get(url).status_code == 404


# --- The release_plans standard: complete N weeks before release ------------------------


@pytest.mark.parametrize(
    ("completed_at", "met"),
    [
        # Released Friday 12 June 2026; 6 weeks before is Friday 1 May.
        (london(2026, 5, 1, 23, 30), 1),
        # 00:10 on 2 May in London is still 1 May in UTC: the day is London's.
        (london(2026, 5, 2, 0, 10), 0),
        (None, 0),
    ],
)
def test_release_plan_standard_at_its_boundary(people, prison, completed_at, met):
    episode = ppo_in_custody(
        people, prison, started_on=dt.date(2025, 6, 1), released_on=dt.date(2026, 6, 12)
    )
    ReleasePlan.objects.create(custody=episode, completed_at=completed_at)
    actor = actor_for(people["manager"], dt.date(2026, 6, 30))
    measure = cr.release_plans(actor, dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    assert measure is not None
    assert (measure.met, measure.total) == (met, 1)
    # A release outside the period is not counted.
    outside = cr.release_plans(actor, dt.date(2026, 6, 13), dt.date(2026, 6, 30))
    assert outside is not None and outside.total == 0


def test_release_without_a_plan_misses_and_non_ppos_are_not_counted(people, prison):
    ppo_in_custody(people, prison, started_on=dt.date(2025, 6, 1), released_on=dt.date(2026, 6, 12))
    pool = OffenderFactory()
    CustodyEpisodeFactory(
        offender=pool, started_on=dt.date(2025, 6, 1), released_on=dt.date(2026, 6, 12)
    )
    actor = actor_for(people["manager"], dt.date(2026, 6, 30))
    measure = cr.release_plans(actor, dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    assert measure is not None and (measure.met, measure.total) == (0, 1)


def test_reception_standard_counts_each_side_of_the_boundary_and_skips_pending(people, prison):
    received = london(2026, 3, 2, 10, 0)
    on_time = ppo_in_custody(people, prison, started_on=dt.date(2026, 3, 2), received_at=received)
    late = ppo_in_custody(people, prison, started_on=dt.date(2026, 3, 2), received_at=received)
    for episode, at in ((on_time, london(2026, 3, 3, 10, 0)), (late, london(2026, 3, 3, 10, 1))):
        cr.ReceptionAssessment.objects.create(
            custody=episode, assessed_at=at, needs="x", assessed_by=people["prison"], agency=prison
        )
    # Not assessed, deadline passed: a miss.
    ppo_in_custody(people, prison, started_on=dt.date(2026, 3, 1), received_at=None)
    with time_machine.travel(london(2026, 3, 3, 12, 0), tick=False):
        # Not assessed, still inside its 24 hours: not yet counted.
        ppo_in_custody(
            people, prison, started_on=dt.date(2026, 3, 3), received_at=london(2026, 3, 3, 11, 0)
        )
        actor = actor_for(people["manager"], dt.date(2026, 3, 3))
        measure = cr.reception_assessments(actor, dt.date(2026, 3, 1), dt.date(2026, 3, 7))
    assert measure is not None
    assert (measure.met, measure.total) == (1, 3)


def test_standards_are_registered_and_not_for_the_steering_group(people):
    from offenders.standards import registered

    assert cr.reception_assessments in registered() and cr.release_plans in registered()
    steering = staff(Role.STEERING_GROUP, username="steer")
    actor = actor_for(steering)
    assert cr.release_plans(actor, dt.date(2026, 1, 1), dt.date(2026, 1, 31)) is None


def test_the_key_workers_standard_counts_only_people_in_their_scope(people, prison):
    ppo_in_custody(people, prison, started_on=dt.date(2025, 6, 1), released_on=dt.date(2026, 6, 12))
    # Never on the scheme: outside a key worker's scope, inside the manager's.
    pool = OffenderFactory()
    ProgrammeEpisodeFactory(offender=pool, kind="iom", selected_on=dt.date(2024, 1, 1))
    CustodyEpisodeFactory(
        offender=pool, started_on=dt.date(2025, 6, 1), released_on=dt.date(2026, 6, 12)
    )
    actor = actor_for(people["kw"], dt.date(2026, 6, 30))
    measure = cr.release_plans(actor, dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    assert measure is not None and measure.total == 1


# --- Alerts (004 §4.2: police and the key worker told) -----------------------------------


def test_setting_a_release_date_alerts_key_worker_and_police_not_the_actor(people, prison):
    person = OffenderFactory(key_worker=people["kw"], police_officer=people["police"])
    ProgrammeEpisodeFactory(offender=person)
    episode = custody_episode_create(
        user=people["manager"],
        offender_id=person.pk,
        data={
            "kind": CustodyKind.REMAND,
            "establishment": prison,
            "started_on": timezone.localdate() - dt.timedelta(days=1),
            "expected_release_on": timezone.localdate() + dt.timedelta(days=20),
        },
    )
    assert set(Alert.objects.values_list("recipient__username", flat=True)) == {"kw", "police"}
    assert all(a.kind == AlertKind.RELEASE_DATE for a in Alert.objects.all())
    # The key worker changes it: only the police officer is told.
    cr.custody_release_date_set(
        user=people["kw"],
        custody_id=episode.pk,
        expected_release_on=timezone.localdate() + dt.timedelta(days=30),
    )
    assert Alert.objects.filter(recipient=people["police"]).count() == 2
    assert Alert.objects.filter(recipient=people["kw"]).count() == 1
    assert "changed from" in Alert.objects.filter(recipient=people["police"]).first().message
    # The same date again: nobody told.
    cr.custody_release_date_set(
        user=people["kw"],
        custody_id=episode.pk,
        expected_release_on=timezone.localdate() + dt.timedelta(days=30),
    )
    assert Alert.objects.count() == 3


def test_alerts_only_to_people_who_may_see_the_person(people, prison):
    # A key worker's scope is current and former PPOs and DYOs: someone only ever on IOM
    # is outside it, so their key worker is not told; a police officer whose membership
    # has ended is not told either.
    person = OffenderFactory(key_worker=people["kw"], police_officer=people["police"])
    ProgrammeEpisodeFactory(offender=person, kind="iom")
    Membership.objects.filter(user=people["police"]).update(
        ended_on=timezone.localdate() - dt.timedelta(days=1)
    )
    episode = CustodyEpisodeFactory(offender=person, establishment=prison)
    episode.expected_release_on = timezone.localdate() + dt.timedelta(days=9)
    episode.save()
    assert cr.release_date_changed(actor_for(people["manager"]), episode, None) == []
    assert not Alert.objects.exists()
    # Back in scope (a PPO again) and a current police officer: both told.
    ProgrammeEpisodeFactory(offender=person, kind="ppo", selected_on=dt.date(2024, 6, 1))
    Membership.objects.filter(user=people["police"]).update(ended_on=None)
    assert len(cr.release_date_changed(actor_for(people["manager"]), episode, None)) == 2


def test_alert_list_unread_first_only_own_and_mark_read(
    client, people, prison, django_assert_max_num_queries
):
    episode = ppo_in_custody(people, prison)
    person = episode.offender
    now = timezone.now()
    old = Alert.objects.create(
        offender=person,
        recipient=people["kw"],
        kind="release_date",
        message="Old",
        created_at=now - dt.timedelta(days=2),
    )
    Alert.objects.create(
        offender=person,
        recipient=people["kw"],
        kind="release_date",
        message="Read one",
        created_at=now,
        read_at=now,
    )
    other = Alert.objects.create(
        offender=person, recipient=people["police"], kind="release_date", message="Police's"
    )
    with django_assert_max_num_queries(6):
        panel = cr.alert_list(user=people["kw"])
    assert panel is not None
    assert [a.message for a in panel.alerts] == ["Old", "Read one"] and panel.unread == 1
    sign_in(client, people["kw"])
    response = client.post(reverse("offenders:alert-read", args=[old.pk]))
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.read_at is not None
    assert client.post(reverse("offenders:alert-read", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_an_alert_about_someone_out_of_scope_is_not_shown(people, prison):
    person = OffenderFactory(key_worker=people["kw"])  # never on the scheme
    Alert.objects.create(offender=person, recipient=people["kw"], kind="release_date", message="x")
    panel = cr.alert_list(user=people["kw"])
    assert panel is not None and panel.alerts == []
    with pytest.raises(OutOfScope):
        cr.alert_mark_read(user=people["kw"], alert_id=Alert.objects.get().pk)


# --- "Due out within N weeks, plan incomplete" on the home pages ------------------------


def test_plans_due_boundary_and_per_role(people, prison, django_assert_max_num_queries):
    today = timezone.localdate()
    inside = ppo_in_custody(people, prison, expected_release_on=today + dt.timedelta(weeks=6))
    ppo_in_custody(people, prison, expected_release_on=today + dt.timedelta(weeks=6, days=1))
    complete = ppo_in_custody(people, prison, expected_release_on=today + dt.timedelta(days=3))
    ReleasePlan.objects.create(custody=complete, completed_at=timezone.now())
    other_kw = staff(Role.KEY_WORKER, username="kw2")
    elsewhere_prison = AgencyFactory(name="HMP Qxdale", kind=AgencyKind.PRISON)
    someone_elses = ppo_in_custody(
        people, elsewhere_prison, expected_release_on=today + dt.timedelta(days=1)
    )
    someone_elses.offender.key_worker = other_kw
    someone_elses.offender.save()

    def listed(user):
        found = cr.release_plans_due(user=user)
        assert found is not None
        return [row.episode.pk for row in found.rows]

    with django_assert_max_num_queries(8):
        manager_sees = listed(people["manager"])
    assert manager_sees == [someone_elses.pk, inside.pk]
    assert listed(people["police"]) == [someone_elses.pk, inside.pk]
    assert listed(people["kw"]) == [inside.pk]
    assert listed(other_kw) == [someone_elses.pk]
    assert listed(people["prison"]) == [inside.pk]
    assert cr.release_plans_due(user=staff(Role.PARTNER_WORKER, username="p")) is None


def test_home_pages_show_the_list_and_the_alerts(client, people, prison):
    episode = ppo_in_custody(
        people, prison, expected_release_on=timezone.localdate() + dt.timedelta(weeks=4)
    )
    Alert.objects.create(
        offender=episode.offender, recipient=people["kw"], kind="release_date", message="Qxalert"
    )
    for who, alerts_panel in (
        ("kw", True),
        ("manager", False),
        ("prison", False),
        ("police", True),
    ):
        sign_in(client, people[who])
        page = client.get("/").content.decode()
        assert 'data-testid="release-plans-due"' in page, who
        assert episode.offender.full_name in page, who
        assert ('data-testid="alerts"' in page) is alerts_panel, who
        assert ("Qxalert" in page) is (who == "kw"), who
