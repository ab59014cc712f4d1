"""One rule for every date recorded about a person: it must fall within their life.

Forms, services (through the models' `clean()`) and the CSV imports all ask here, so a
contact in year 0001, custody in 1950 for someone born in 1984 or an expected release in
9999 is refused the same way wherever it is typed or imported.

- Nothing before 1 January 1900: no one on the record was born earlier.
- Nothing before the person was born; offending and custody nothing before their 10th
  birthday, the age of criminal responsibility in England and Wales (Children and Young
  Persons Act 1933 s.50): no arrest, charge, conviction or custody can come earlier.
- Nothing in the future for what has happened; what is expected (a release date) no
  further ahead than the scheme's horizon (`Scheme.date_horizon_years`).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

EARLIEST = dt.date(1900, 1, 1)
# Children and Young Persons Act 1933 s.50.
AGE_OF_CRIMINAL_RESPONSIBILITY = 10


def birthday(date_of_birth: dt.date, age: int) -> dt.date:
    """The day a person born on `date_of_birth` turns `age` (29 February: 1 March)."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + age)
    except ValueError:
        return dt.date(date_of_birth.year + age, 3, 1)


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def date_of_birth_problem(day: dt.date, *, today: dt.date | None = None) -> str | None:
    today = today or timezone.localdate()
    if day < EARLIEST:
        return "Date of birth must be on or after 1 January 1900"
    if day > today:
        return "Date of birth must be in the past"
    if birthday(day, AGE_OF_CRIMINAL_RESPONSIBILITY) > today:
        return (
            "The person must be at least 10 years old (the age of criminal responsibility): "
            "check the date of birth"
        )
    return None


def life_date_problem(
    day: dt.date,
    *,
    what: str,
    date_of_birth: dt.date | None,
    from_age: int = 0,
    expected: bool = False,
    horizon_years: int | None = None,
    today: dt.date | None = None,
) -> str | None:
    """What is wrong with `day` as the date of `what` in this person's life, or None.

    `from_age`: the earliest age at which it can happen (AGE_OF_CRIMINAL_RESPONSIBILITY
    for offending and custody). `expected`: a date still to come is allowed, up to
    `horizon_years` from today; otherwise the date cannot be in the future.
    """
    today = today or timezone.localdate()
    what_cap = what[0].upper() + what[1:]
    if day < EARLIEST:
        return f"{what_cap} must be on or after 1 January 1900"
    if date_of_birth is not None:
        earliest = birthday(date_of_birth, from_age) if from_age else date_of_birth
        if day < earliest:
            if from_age:
                return (
                    f"{what_cap} cannot be before the person's {from_age}th birthday "
                    f"({_long(earliest)}), the age of criminal responsibility"
                )
            return f"{what_cap} cannot be before the person's date of birth ({_long(earliest)})"
    if not expected:
        if day > today:
            return f"{what_cap} cannot be in the future"
    elif horizon_years is not None:
        latest = birthday(today, horizon_years)
        if day > latest:
            return (
                f"{what_cap} is more than {horizon_years} years from now ({_long(latest)} "
                "at the latest): check the date, or leave it blank if it is not known"
            )
    return None
