"""Working days: the premium service's clocks (001 §3.2c–e, 002 "speedy enforcement").

The standards are counted in working days: Monday to Friday, less the bank holidays the
administrator keeps (`access.BankHoliday`; the England and Wales ones ship with the app).

The boundary, stated once: **the day the clock starts is day 0**, and a standard of N
working days runs to the N-th working day after it, which is still on time. A failure to
attend on Monday 2 March 2026 with a standard of 5 working days: Tuesday 3 is day 1, …,
Friday 6 is day 4, Monday 9 March is day 5, the last day on time; a breach laid on
9 March is on time, one laid on 10 March is late. A bank holiday or a weekend in between
moves the last day on; a clock that starts on a weekend or a holiday counts from the next
working day (Saturday's failure: Monday is day 1).

The functions take the holidays as a set of dates, so they are plain arithmetic, testable
with any list; `bank_holidays` reads the list for a range of days in one query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from access.models import BankHoliday

ONE_DAY = dt.timedelta(days=1)
SATURDAY = 5


def is_working_day(day: dt.date, holidays: Collection[dt.date]) -> bool:
    return day.weekday() < SATURDAY and day not in holidays


def _weekdays_after(start: dt.date, end: dt.date) -> int:
    """Monday-to-Friday days in (start, end], for start <= end."""
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    weekday = start.weekday()
    for step in range(1, rest + 1):
        if (weekday + step) % 7 < SATURDAY:
            count += 1
    return count


def working_days_between(start: dt.date, end: dt.date, holidays: Collection[dt.date]) -> int:
    """The working days after `start` up to and including `end`: how many working days
    `end` is after `start` (`start` is day 0). Negative when `end` is before `start`."""
    if end < start:
        return -working_days_between(end, start, holidays)
    holidays_in_range = sum(
        1 for day in set(holidays) if start < day <= end and day.weekday() < SATURDAY
    )
    return _weekdays_after(start, end) - holidays_in_range


def add_working_days(day: dt.date, n: int, holidays: Collection[dt.date]) -> dt.date:
    """The n-th working day after `day` (`day` itself is day 0; n = 0 gives `day`): the
    last day on time for a standard of n working days."""
    if n < 0:
        raise ValueError("count working days forwards")
    current = day
    left = n
    while left:
        current += ONE_DAY
        if is_working_day(current, holidays):
            left -= 1
    return current


def span_for(day: dt.date, n: int) -> dt.date:
    """A day safely past the n-th working day after `day`, to bound the holidays to load:
    every 5 working days take at most a week, and the longest run of holidays on a
    weekday (Christmas to New Year) is a few days."""
    return day + dt.timedelta(days=(n // 5 + 1) * 7 + 14)


def latest_start_overdue(as_of: dt.date, n: int, holidays: Collection[dt.date]) -> dt.date:
    """The latest day a clock of n working days can have started and be past its last
    day on `as_of` (the last day on time is before `as_of`). A clock that started on it or
    earlier is overdue; one that started later is not yet. Lets a query filter overdue
    cases by their start date, set-based."""
    start = as_of - ONE_DAY
    while add_working_days(start, n, holidays) >= as_of:
        start -= ONE_DAY
    return start


def bank_holidays(first: dt.date, last: dt.date) -> frozenset[dt.date]:
    """The bank holidays from `first` to `last` inclusive (one query)."""
    return frozenset(
        BankHoliday.objects.filter(day__gte=first, day__lte=last).values_list("day", flat=True)
    )


def working_day_words(n: int) -> str:
    return f"{n} working day{'' if n == 1 else 's'}"
