"""Working days (offenders.working_days): the boundary every premium-service clock uses.

The dates are worked out by hand from a 2026 calendar (2 March 2026 is a Monday; Good
Friday is 3 April and Easter Monday 6 April, the shipped England and Wales list).
"""

from __future__ import annotations

import datetime as dt

import pytest

from access.models import BankHoliday
from offenders.working_days import (
    add_working_days,
    bank_holidays,
    is_working_day,
    latest_start_overdue,
    working_days_between,
)

D = dt.date
NONE: frozenset[dt.date] = frozenset()
EASTER_2026 = frozenset({D(2026, 4, 3), D(2026, 4, 6)})


def test_the_failure_day_is_day_0_and_the_fifth_working_day_is_the_following_monday():
    # "failure on Monday 2 March, standard 5 working days: the 5th working day is
    # Monday 9 March — a breach laid on 9 March is on time, on 10 March is late"
    failed = D(2026, 3, 2)
    assert failed.weekday() == 0
    assert add_working_days(failed, 0, NONE) == failed
    assert add_working_days(failed, 5, NONE) == D(2026, 3, 9)
    assert working_days_between(failed, D(2026, 3, 9), NONE) == 5
    assert working_days_between(failed, D(2026, 3, 10), NONE) == 6
    assert working_days_between(failed, failed, NONE) == 0


def test_a_weekend_in_between_is_not_counted():
    # Friday 6 March: Mon 9 is day 1 … Fri 13 is day 5.
    assert add_working_days(D(2026, 3, 6), 5, NONE) == D(2026, 3, 13)
    assert working_days_between(D(2026, 3, 6), D(2026, 3, 9), NONE) == 1
    # The Saturday and Sunday after a Friday are still day 0 of a Friday start.
    assert working_days_between(D(2026, 3, 6), D(2026, 3, 8), NONE) == 0


def test_a_failure_on_a_weekend_counts_from_the_monday():
    assert add_working_days(D(2026, 3, 7), 1, NONE) == D(2026, 3, 9)
    assert add_working_days(D(2026, 3, 7), 5, NONE) == D(2026, 3, 13)


def test_easter_moves_the_last_day_on_by_two_working_days():
    # Failure on Wednesday 1 April 2026: Thu 2 (1), [Good Fri 3], [Easter Mon 6],
    # Tue 7 (2), Wed 8 (3), Thu 9 (4), Fri 10 (5).
    failed = D(2026, 4, 1)
    assert add_working_days(failed, 5, NONE) == D(2026, 4, 8)
    assert add_working_days(failed, 5, EASTER_2026) == D(2026, 4, 10)
    assert working_days_between(failed, D(2026, 4, 10), EASTER_2026) == 5
    assert working_days_between(failed, D(2026, 4, 13), EASTER_2026) == 6


@pytest.mark.django_db
def test_the_shipped_bank_holidays_are_loaded_for_a_range_in_one_query(
    django_assert_num_queries,
):
    with django_assert_num_queries(1):
        found = bank_holidays(D(2026, 3, 30), D(2026, 4, 30))
    assert found == EASTER_2026
    # A holiday the administrator adds counts at once.
    BankHoliday.objects.create(day=D(2026, 3, 5), name="A local holiday")
    holidays = bank_holidays(D(2026, 3, 1), D(2026, 3, 31))
    assert add_working_days(D(2026, 3, 2), 5, holidays) == D(2026, 3, 10)
    assert not is_working_day(D(2026, 3, 5), holidays)


@pytest.mark.parametrize(
    "start,end",
    [
        (D(2026, 3, 2), D(2026, 3, 2)),
        (D(2026, 3, 1), D(2026, 5, 31)),
        (D(2025, 12, 20), D(2026, 1, 10)),
    ],
)
def test_counting_and_adding_agree_with_walking_the_calendar(start, end):
    holidays = EASTER_2026 | {D(2025, 12, 25), D(2025, 12, 26), D(2026, 1, 1)}
    walked = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        walked += day.weekday() < 5 and day not in holidays
    assert working_days_between(start, end, holidays) == walked
    assert working_days_between(end, start, holidays) == -walked


@pytest.mark.parametrize("as_of", [D(2026, 3, 9), D(2026, 3, 10), D(2026, 3, 14), D(2026, 4, 9)])
def test_the_latest_overdue_start_is_the_boundary_of_the_overdue_rule(as_of):
    cutoff = latest_start_overdue(as_of, 5, EASTER_2026)
    # Started on the cutoff: the last day on time has passed. The day after: not yet.
    assert add_working_days(cutoff, 5, EASTER_2026) < as_of
    assert add_working_days(cutoff + dt.timedelta(days=1), 5, EASTER_2026) >= as_of


def test_a_monday_failure_is_overdue_from_tuesday_10_march_not_on_the_9th():
    failed = D(2026, 3, 2)
    assert failed > latest_start_overdue(D(2026, 3, 9), 5, NONE)
    assert failed <= latest_start_overdue(D(2026, 3, 10), 5, NONE)
