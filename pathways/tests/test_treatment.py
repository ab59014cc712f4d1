"""Treatment on a clock (pathways.treatment; 001 §3.2c–d): working days from the referral
to the assessment (standard 5) and to the first appointment (standard 10).

Worked by hand from the 2026 calendar, with the Spring bank holiday (Monday 25 May 2026,
on the shipped list): a referral on Thursday 21 May 2026 — Fri 22 is day 1, the holiday
does not count, Tue 26 is day 2 … Fri 29 May is day 5 (the assessment's last day on
time), Mon 1 June day 6 … Fri 5 June day 10 (the first appointment's last day).
"Today" is 12 June 2026 (pathways/tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.errors import ApplicationError
from access.models import Scheme
from access.policy import actor_for
from offenders.standards import measures
from pathways import services
from pathways.models import Referral
from pathways.treatment import (
    Clock,
    Standards,
    clocks_for,
    reading,
    treatment_assessment_standard,
)
from tests.factories import ReferralFactory, sign_in

D = dt.date
THURSDAY = D(2026, 5, 21)
NO_HOLIDAYS: frozenset[dt.date] = frozenset()
SPRING = frozenset({D(2026, 5, 25)})
TODAY = D(2026, 6, 12)
STANDARDS = Standards(assessment_days=5, appointment_days=10)


def referral(world: Any, opened_on: dt.date = THURSDAY, **fields: Any) -> Referral:
    return ReferralFactory(
        offender=world.other,
        agency=world.treatment,
        provider=world.treatment_provider,
        pathway=world.drugs,
        opened_on=opened_on,
        **fields,
    )


def one(r: Referral, as_of: dt.date = TODAY) -> Any:
    return clocks_for([r], as_of=as_of, standards=STANDARDS)[r.pk]


def test_the_referral_day_is_day_0_and_the_fifth_working_day_is_on_time():
    # The same boundary as enforcement: Monday 2 March 2026, 5 working days: 9 March.
    on_time = reading(
        D(2026, 3, 2),
        D(2026, 3, 9),
        standard_days=5,
        as_of=D(2026, 6, 1),
        closed_on=None,
        holidays=NO_HOLIDAYS,
    )
    late = reading(
        D(2026, 3, 2),
        D(2026, 3, 10),
        standard_days=5,
        as_of=D(2026, 6, 1),
        closed_on=None,
        holidays=NO_HOLIDAYS,
    )
    assert (on_time.state, on_time.days, late.state, late.days) == (Clock.ON_TIME, 5, Clock.LATE, 6)


@pytest.mark.parametrize(
    "assessed_on,state",
    [(D(2026, 5, 28), Clock.ON_TIME), (D(2026, 5, 29), Clock.ON_TIME), (D(2026, 6, 1), Clock.LATE)],
)
def test_the_assessment_boundary_with_a_bank_holiday(world, assessed_on, state):
    clock = one(referral(world, assessed_on=assessed_on))
    assert clock.assessment.last_day == D(2026, 5, 29)
    assert clock.assessment.state == state


@pytest.mark.parametrize(
    "first_appointment_on,state",
    [(D(2026, 6, 5), Clock.ON_TIME), (D(2026, 6, 8), Clock.LATE)],
)
def test_the_first_appointment_boundary_with_a_bank_holiday(world, first_appointment_on, state):
    clock = one(referral(world, first_appointment_on=first_appointment_on))
    assert clock.first_appointment.last_day == D(2026, 6, 5)
    assert clock.first_appointment.state == state
    assert clock.first_appointment.days == (10 if state == Clock.ON_TIME else 11)


@pytest.mark.parametrize(
    "as_of,state,days",
    [(D(2026, 5, 29), Clock.WAITING, 5), (D(2026, 5, 30), Clock.WAITING_LATE, 5)],
)
def test_still_waiting_within_the_standard_then_already_late(world, as_of, state, days):
    clock = one(referral(world), as_of=as_of)
    assert (clock.assessment.state, clock.assessment.days) == (state, days)


def test_a_referral_closed_with_no_assessment_before_its_last_day_is_not_measured(world):
    # closed_on is the first day the referral no longer applies.
    within = one(referral(world, status="withdrawn", closed_on=D(2026, 5, 29)))
    waited = one(referral(world, status="withdrawn", closed_on=D(2026, 6, 1)))
    assert within.assessment.state == Clock.CLOSED_WITHIN
    assert waited.assessment.state == Clock.LATE


def test_the_clocks_of_many_referrals_take_one_query_for_the_holidays(
    world, django_assert_num_queries
):
    rows = [referral(world, assessed_on=D(2026, 5, 29)) for _ in range(5)]
    with django_assert_num_queries(1):
        found = clocks_for(rows, as_of=D(2026, 6, 12), standards=STANDARDS)
    assert {c.assessment.state for c in found.values()} == {Clock.ON_TIME}


# --- recording the two dates -----------------------------------------------------------------


def update(world: Any, r: Referral, **dates: Any) -> Referral:
    r.refresh_from_db()
    return services.referral_update(
        user=world.treatment_worker, referral_id=r.pk, version=r.version, status=r.status, **dates
    )


def test_the_referral_update_records_the_two_dates(world):
    r = referral(world)
    saved = update(world, r, assessed_on=D(2026, 5, 29), first_appointment_on=D(2026, 6, 8))
    assert (saved.assessed_on, saved.first_appointment_on, saved.version) == (
        D(2026, 5, 29),
        D(2026, 6, 8),
        2,
    )


@pytest.mark.parametrize(
    "dates,message",
    [
        ({"assessed_on": D(2026, 5, 20)}, "cannot be before the referral, on 21 May 2026"),
        ({"first_appointment_on": D(2026, 6, 13)}, "cannot be in the future"),
    ],
)
def test_a_date_before_the_referral_or_in_the_future_is_refused(world, dates, message):
    r = referral(world)
    with pytest.raises(ApplicationError, match=message):
        update(world, r, **dates)
    r.refresh_from_db()
    assert (r.assessed_on, r.first_appointment_on, r.version) == (None, None, 1)


def test_a_date_after_the_referral_closes_is_refused(world):
    r = referral(world)
    r.refresh_from_db()
    with pytest.raises(ApplicationError, match="after the referral closed"):
        services.referral_update(
            user=world.treatment_worker,
            referral_id=r.pk,
            version=r.version,
            status="completed",
            outcome="Done",
            closed_on=D(2026, 6, 1),
            assessed_on=D(2026, 6, 2),
        )
    r.refresh_from_db()
    assert r.closed_on is None and r.assessed_on is None


def test_the_update_page_records_the_dates_and_shows_a_refusal(client, world):
    r = referral(world)
    url = reverse("pathways:referral-update", args=[r.pk])
    sign_in(client, world.treatment_worker)
    bad = client.post(
        url,
        {
            "version": 1,
            "status": "accepted",
            "assessed_on-day": "20",
            "assessed_on-month": "5",
            "assessed_on-year": "2026",
        },
    )
    page = bad.content.decode()
    assert "govuk-error-summary" in page and "cannot be before the referral" in page
    good = client.post(
        url,
        {
            "version": 1,
            "status": "accepted",
            "assessed_on-day": "29",
            "assessed_on-month": "5",
            "assessed_on-year": "2026",
        },
    )
    assert good.status_code == 302
    r.refresh_from_db()
    assert r.assessed_on == D(2026, 5, 29)


def test_the_action_plan_shows_the_clock_on_each_referral_row(client, world):
    on_time = referral(world, assessed_on=D(2026, 5, 29))
    late = referral(world, assessed_on=D(2026, 6, 1))
    sign_in(client, world.key_worker)
    page = client.get(reverse("pathways:person", args=[world.other.pk])).content.decode()
    row = page[page.index(f'data-testid="referral-{on_time.pk}"') :]
    assert 'data-clock="on_time"' in row[: row.index("</tr>")]
    row = page[page.index(f'data-testid="referral-{late.pk}"') :]
    assert 'data-clock="late"' in row[: row.index("</tr>")]
    assert "Waiting, already late" in page  # the first appointments, not recorded


# --- the two standards ---------------------------------------------------------------------


def by_key(user: Any, first: dt.date, last: dt.date) -> dict[str, Any]:
    return {m.key: m for m in measures(user=user, first_day=first, last_day=last)}


def test_the_standards_count_referrals_opened_in_the_period(world):
    referral(world, assessed_on=D(2026, 5, 29), first_appointment_on=D(2026, 6, 5))
    referral(world, assessed_on=D(2026, 6, 1))  # late; still waiting for the appointment
    referral(world, opened_on=D(2026, 6, 11))  # within both standards today: not counted
    referral(world, status="withdrawn", closed_on=D(2026, 5, 26))  # closed within: not counted
    referral(world, opened_on=D(2026, 4, 30), assessed_on=D(2026, 5, 1))  # another period
    found = by_key(world.manager, D(2026, 5, 1), D(2026, 6, 30))
    assessed, seen = found["treatment_assessment"], found["treatment_first_appointment"]
    assert (assessed.met, assessed.total) == (1, 2)
    assert (seen.met, seen.total) == (1, 2)
    assert assessed.label == "Assessed within 5 working days of the referral"
    assert seen.label == "First appointment within 10 working days of the referral"


def test_the_standards_read_only_the_readers_referrals(world, django_assert_num_queries):
    referral(world, assessed_on=D(2026, 5, 29))
    Scheme.current()
    # The housing partner sees none of the treatment agency's referrals.
    housing = treatment_assessment_standard(actor_for(world.housing_worker), THURSDAY, THURSDAY)
    assert housing is not None and housing.total == 0
    assert treatment_assessment_standard(actor_for(world.steering), THURSDAY, THURSDAY) is None
    actor = actor_for(world.treatment_worker)
    with CaptureQueriesContext(connection) as few:
        assert treatment_assessment_standard(actor, THURSDAY, THURSDAY).met == 1
    for _ in range(5):
        referral(world, assessed_on=D(2026, 6, 1))
    with django_assert_num_queries(len(few.captured_queries)):
        assert treatment_assessment_standard(actor, THURSDAY, THURSDAY).total == 6
