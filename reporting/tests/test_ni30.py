"""NI30 (003 §2.5, §3.7, Annex A): the cohort drafted from the PPO tier on 1 April and
confirmed by the PPO manager; convictions by offence date in the baseline against the
year; members tracked after de-selection, mid-year selections not members."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings

from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction, AuditEvent, Role
from access.policy import system_actor
from offenders.models import EventKind
from reporting.cohorts import cohort_confirm, cohort_draft, default_baseline
from reporting.measures.ni30 import ni30_figures
from reporting.models import CohortStatus, Ni30Cohort
from reporting.tasks import draft_ni30_cohort
from tests.factories import staff

from .measure_data import confirmed_cohort, events, ppo

YEAR = 2025
APRIL_1 = dt.date(2025, 4, 1)


def member_ids(year: int) -> set[int]:
    cohort = Ni30Cohort.objects.get(year_starts_on=dt.date(year, 4, 1))
    return set(cohort.members.values_list("offender_id", flat=True))


# --- The cohort --------------------------------------------------------------------------


def test_the_cohort_is_the_people_on_the_ppo_tier_on_1_april(db):
    on = ppo(dt.date(2023, 5, 1))
    selected_that_day = ppo(APRIL_1)
    deselected_later = ppo(dt.date(2024, 1, 1), dt.date(2025, 4, 2))
    # De-selected on 1 April: that is their first day off the scheme.
    left_that_day = ppo(dt.date(2024, 1, 1), APRIL_1)
    selected_mid_year = ppo(dt.date(2025, 4, 2))
    from offenders.models import ProgrammeEpisode, ProgrammeKind

    iom = ppo(dt.date(2022, 1, 1), dt.date(2024, 1, 1))
    ProgrammeEpisode.objects.create(
        offender=iom, kind=ProgrammeKind.IOM, selected_on=dt.date(2024, 1, 1)
    )

    cohort = cohort_draft(user=staff(Role.PPO_MANAGER), year=YEAR, as_of=dt.date(2025, 4, 3))
    assert cohort.status == CohortStatus.DRAFT
    assert member_ids(YEAR) == {on.pk, selected_that_day.pk, deselected_later.pk}
    assert left_that_day.pk not in member_ids(YEAR)
    assert selected_mid_year.pk not in member_ids(YEAR)
    # 003 §3.7 footnote 4: 1 October – 30 September before the year.
    assert (cohort.baseline_starts_on, cohort.baseline_ends_on) == (
        dt.date(2023, 10, 1),
        dt.date(2024, 9, 30),
    )
    created = AuditEvent.objects.get(record_type="reporting.ni30cohort")
    assert created.action == AuditAction.CREATE
    assert created.detail["members"] == 3


def test_drafting_again_refreshes_the_draft_and_a_confirmed_cohort_is_fixed(db):
    first = ppo(dt.date(2024, 1, 1))
    manager = staff(Role.PPO_MANAGER)
    cohort_draft(user=manager, year=YEAR, as_of=APRIL_1)
    # A selection on 1 April recorded two days late is taken in by drafting again.
    late = ppo(APRIL_1)
    again = cohort_draft(user=manager, year=YEAR, as_of=dt.date(2025, 4, 3))
    assert member_ids(YEAR) == {first.pk, late.pk}
    assert Ni30Cohort.objects.count() == 1

    confirmed = cohort_confirm(
        user=manager, year=YEAR, target_reduction_percent="10", as_of=dt.date(2025, 4, 3)
    )
    assert confirmed.pk == again.pk
    assert confirmed.status == CohortStatus.CONFIRMED
    assert confirmed.confirmed_on == dt.date(2025, 4, 3)
    assert confirmed.confirmed_by == manager
    assert confirmed.target_reduction_percent == Decimal("10.0")

    ppo(APRIL_1)
    with pytest.raises(ApplicationError, match="confirmed on 3 April 2025 and is fixed"):
        cohort_draft(user=manager, year=YEAR, as_of=dt.date(2025, 5, 1))
    with pytest.raises(ApplicationError, match="already confirmed"):
        cohort_confirm(user=manager, year=YEAR, as_of=dt.date(2025, 5, 1))
    assert member_ids(YEAR) == {first.pk, late.pk}


@pytest.mark.parametrize("role", [Role.KEY_WORKER, Role.STEERING_GROUP, Role.POLICE_OFFICER])
def test_only_the_ppo_manager_drafts_and_confirms(db, role):
    ppo(dt.date(2024, 1, 1))
    with pytest.raises(NotPermitted):
        cohort_draft(user=staff(role), year=YEAR, as_of=APRIL_1)
    cohort_draft(user=staff(Role.PPO_MANAGER), year=YEAR, as_of=APRIL_1)
    with pytest.raises(NotPermitted):
        cohort_confirm(user=staff(role), year=YEAR, as_of=APRIL_1)
    # The scheduled task drafts, but never confirms.
    with pytest.raises(NotPermitted):
        cohort_confirm(user=system_actor("NI30 cohort drafting", APRIL_1), year=YEAR)


@pytest.mark.parametrize(
    ("baseline", "message"),
    [
        ((dt.date(2024, 4, 1), dt.date(2025, 3, 31)), None),
        ((dt.date(2024, 4, 2), dt.date(2025, 4, 1)), "overlaps the cohort year"),
        ((dt.date(2024, 10, 1), dt.date(2025, 9, 30)), "overlaps the cohort year"),
        ((dt.date(2023, 10, 1), dt.date(2024, 8, 31)), "must be 12 months"),
        ((dt.date(2024, 9, 30), dt.date(2024, 9, 1)), "must end after it starts"),
    ],
)
def test_a_baseline_is_12_months_ending_before_the_year(db, baseline, message):
    manager = staff(Role.PPO_MANAGER)
    draft = lambda: cohort_draft(  # noqa: E731
        user=manager,
        year=YEAR,
        baseline_starts_on=baseline[0],
        baseline_ends_on=baseline[1],
        as_of=APRIL_1,
    )
    if message is None:
        assert draft().baseline_ends_on == dt.date(2025, 3, 31)
    else:
        with pytest.raises(ApplicationError, match=message):
            draft()
        assert not Ni30Cohort.objects.exists()


def test_a_cohort_is_drafted_on_or_after_its_1_april_and_confirmed_then(db):
    manager = staff(Role.PPO_MANAGER)
    with pytest.raises(ApplicationError, match="on or after that day"):
        cohort_draft(user=manager, year=YEAR, as_of=dt.date(2025, 3, 31))
    with pytest.raises(ApplicationError, match="no draft 2025/26 cohort"):
        cohort_confirm(user=manager, year=YEAR, as_of=APRIL_1)
    with pytest.raises(ApplicationError, match="target"):
        cohort_draft(user=manager, year=YEAR, as_of=APRIL_1, target_reduction_percent="lots")
    assert not Ni30Cohort.objects.exists()


def test_the_1_april_task_drafts_the_year_once_and_leaves_a_confirmed_cohort(db):
    person = ppo(dt.date(2024, 1, 1))
    result = draft_ni30_cohort("2025-04-01")
    assert result == {"year": "2025/26", "members": 1, "status": "draft"}
    assert draft_ni30_cohort("2025-04-01")["members"] == 1
    assert Ni30Cohort.objects.count() == 1
    audit = AuditEvent.objects.filter(record_type="reporting.ni30cohort").order_by("pk")
    assert [a.username for a in audit] == ["system: NI30 cohort drafting"] * 2
    cohort_confirm(user=staff(Role.PPO_MANAGER), year=YEAR, as_of=dt.date(2025, 4, 2))
    refused = draft_ni30_cohort("2025-04-01")
    assert "fixed for the year" in refused["refused"]
    assert member_ids(YEAR) == {person.pk}


def test_beat_runs_the_drafting_task_on_1_april():
    from ppo_case.celery import app as celery_app

    entry = settings.CELERY_BEAT_SCHEDULE["draft-ni30-cohort"]
    assert entry["task"] == "reporting.tasks.draft_ni30_cohort"
    assert entry["task"] in celery_app.tasks
    schedule = entry["schedule"]
    assert schedule.month_of_year == {4} and schedule.day_of_month == {1}


def test_default_baseline_is_1_october_to_30_september_before():
    assert default_baseline(dt.date(2009, 4, 1)) == (dt.date(2007, 10, 1), dt.date(2008, 9, 30))


# --- The figures -------------------------------------------------------------------------


@pytest.fixture
def cohort_2025(db):
    """Members: one on the scheme all year, one de-selected in August (still tracked).
    A PPO selected in June is on the caseload, not in the cohort."""
    stays = ppo(dt.date(2023, 6, 1))
    leaves = ppo(dt.date(2023, 6, 1), dt.date(2025, 8, 1))
    joins = ppo(dt.date(2025, 6, 1))
    # Baseline 1 October 2023 – 30 September 2024, by offence date: 6 in it.
    events(stays, EventKind.CONVICTION, [dt.date(2023, 10, 1), dt.date(2024, 9, 30)])
    events(leaves, EventKind.CONVICTION, [dt.date(2024, 1, 5)] * 4)
    events(stays, EventKind.CONVICTION, [dt.date(2023, 9, 30), dt.date(2024, 10, 1)])
    events(stays, EventKind.CONVICTION, [dt.date(2025, 3, 31)])  # the day before the year
    # The year from 1 April 2025: 3 so far, one after de-selection.
    events(stays, EventKind.CONVICTION, [APRIL_1])
    events(leaves, EventKind.CONVICTION, [dt.date(2025, 7, 1), dt.date(2025, 9, 1)])
    # Not convictions, not members, or not yet recorded on the day: never counted.
    events(stays, EventKind.ARREST, [dt.date(2025, 5, 1)] * 3)
    events(stays, EventKind.CHARGE, [dt.date(2024, 5, 1)])
    events(joins, EventKind.CONVICTION, [dt.date(2025, 7, 1)] * 5)
    events(stays, EventKind.CONVICTION, [dt.date(2025, 9, 20)], recorded_on=dt.date(2025, 10, 2))
    return confirmed_cohort(2025, [stays, leaves], target="40")


def test_ni30_figures_in_year(cohort_2025):
    figures = ni30_figures(user=staff(Role.STEERING_GROUP), as_of=dt.date(2025, 9, 30), year=2025)
    assert figures.year == "2025/26"
    assert (figures.members, figures.members_on_scheme, figures.members_off_scheme) == (2, 1, 1)
    assert (figures.baseline_convictions, figures.year_convictions) == (6, 3)
    assert figures.change_percent == Decimal("-50.0")
    assert figures.counted_to == dt.date(2025, 9, 30)
    assert figures.year_complete is False
    assert figures.target_reduction_percent == Decimal("40.0")
    assert figures.target_met is None


def test_ni30_figures_after_the_year_count_what_was_recorded_by_then(cohort_2025):
    figures = ni30_figures(user=staff(Role.PPO_MANAGER), as_of=dt.date(2026, 6, 1), year=2025)
    # The conviction recorded on 2 October now counts; nothing after 31 March 2026 would.
    assert (figures.year_convictions, figures.change_percent) == (4, Decimal("-33.3"))
    assert (figures.year_complete, figures.target_met) == (True, False)
    assert figures.counted_to == dt.date(2026, 3, 31)


def test_the_year_defaults_to_the_one_holding_the_day(cohort_2025):
    figures = ni30_figures(user=staff(Role.STEERING_GROUP), as_of=dt.date(2026, 3, 31))
    assert figures.year == "2025/26"
    with pytest.raises(ApplicationError, match="no NI30 cohort for 2026/27"):
        ni30_figures(user=staff(Role.STEERING_GROUP), as_of=dt.date(2026, 4, 1))


def test_a_key_worker_is_refused(cohort_2025):
    with pytest.raises(NotPermitted):
        ni30_figures(user=staff(Role.KEY_WORKER), as_of=dt.date(2025, 9, 30), year=2025)


def test_a_baseline_with_no_convictions_gives_no_percentage(db):
    person = ppo(dt.date(2024, 1, 1))
    events(person, EventKind.CONVICTION, [dt.date(2025, 5, 1)])
    confirmed_cohort(2025, [person])
    figures = ni30_figures(user=staff(Role.STEERING_GROUP), as_of=dt.date(2025, 9, 30))
    assert (figures.baseline_convictions, figures.year_convictions) == (0, 1)
    assert figures.change_percent is None


def test_an_empty_confirmed_cohort_reports_zeros(db):
    confirmed_cohort(2025, [])
    figures = ni30_figures(user=staff(Role.STEERING_GROUP), as_of=dt.date(2025, 9, 30))
    assert (figures.members, figures.year_convictions, figures.change_percent) == (0, 0, None)


@pytest.mark.parametrize(
    ("setup", "as_of", "message"),
    [
        ("none", dt.date(2025, 9, 30), "no NI30 cohort for 2025/26"),
        ("draft", dt.date(2025, 9, 30), "drafted but not confirmed"),
        ("overlap", dt.date(2025, 9, 30), "overlaps the cohort year"),
        ("confirmed", dt.date(2025, 3, 31), "starts on 1 April 2025"),
    ],
)
def test_bad_input_is_a_clear_message(db, setup, as_of, message):
    person = ppo(dt.date(2024, 1, 1))
    if setup == "draft":
        confirmed_cohort(2025, [person], status=CohortStatus.DRAFT)
    elif setup == "overlap":
        confirmed_cohort(2025, [person], baseline=(dt.date(2024, 10, 1), dt.date(2025, 9, 30)))
    elif setup == "confirmed":
        confirmed_cohort(2025, [person])
    with pytest.raises(ApplicationError, match=message):
        ni30_figures(user=staff(Role.STEERING_GROUP), as_of=as_of, year=2025)


def test_a_future_day_is_refused(db):
    with pytest.raises(ApplicationError, match="in the future"):
        ni30_figures(user=staff(Role.STEERING_GROUP), as_of=dt.date.today() + dt.timedelta(days=1))


def test_queries_do_not_grow_with_the_cohort(cohort_2025, django_assert_max_num_queries):
    user = staff(Role.STEERING_GROUP)
    with django_assert_max_num_queries(5):
        ni30_figures(user=user, as_of=dt.date(2025, 9, 30), year=2025)
