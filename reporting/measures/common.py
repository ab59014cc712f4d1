"""What every measure shares: the reporting day, financial years, calendar months (in
Python and in the database), and percentages to one decimal place.

Percentages (README "Reports"): worked out exactly from the whole numbers counted, then
rounded once, to one decimal place, half away from zero (32.65 → 32.7, −2.35 → −2.4). A
figure derived from other percentages (a target, a change in percentage points) is worked
out from their exact values and rounded once at the end, never from their rounded text:
004's 77.3% → 74.9% is a fall of 2.3 points, as 004 prints it, not 2.4.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.db import NotSupportedError
from django.db.models import DateField, Func
from django.utils import timezone

from access.errors import ApplicationError, NotPermitted
from access.policy import Actor, as_actor, can_see_aggregates, months_before

ONE_DECIMAL = Decimal("0.1")
TWO_DECIMALS = Decimal("0.01")


def rounded(value: Fraction | int | None, places: Decimal = ONE_DECIMAL) -> Decimal | None:
    """An exact value to `places`, half away from zero; None stays None (nothing to show)."""
    if value is None:
        return None
    value = Fraction(value)
    # A fraction whose exact value ends in a 5 at the rounding place has a finite decimal
    # expansion, so 28 significant digits decide every tie exactly.
    decimal = Decimal(value.numerator) / Decimal(value.denominator)
    result = decimal.quantize(places, rounding=ROUND_HALF_UP)
    # A small fall rounded to nothing is 0.0, not "-0.0".
    return result if result else abs(result)


def share(part: int | Fraction, whole: int | Fraction) -> Fraction | None:
    """`part` as a percentage of `whole`, exactly; None when `whole` is 0 (no division)."""
    if not whole:
        return None
    return Fraction(part) * 100 / Fraction(whole)


def reduction(before: int | Fraction, after: int | Fraction) -> Fraction | None:
    """The fall from `before` to `after` as a percentage of `before` (negative: a rise)."""
    if not before:
        return None
    return (Fraction(before) - Fraction(after)) * 100 / Fraction(before)


def change(before: int | Fraction, after: int | Fraction) -> Fraction | None:
    """The change from `before` to `after` as a percentage of `before` (negative: a fall)."""
    fall = reduction(before, after)
    return None if fall is None else -fall


# --- Days, months and financial years ---------------------------------------------------


def percent_text(value: Decimal | None) -> str:
    """A percentage as the pages, CSVs and the PDF write it: "32.7%", or "–" for none."""
    return "–" if value is None else f"{value}%"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later (earlier if negative), clamped to the
    month's last day: 29 February 2024 + 12 months is 28 February 2025. The same rule as
    `access.policy.months_before` and as `AddMonths` in the database."""
    return months_before(day, -months)


def financial_year_of(day: dt.date) -> int:
    """The calendar year in which the financial year holding `day` starts (1 April)."""
    return day.year if day >= dt.date(day.year, 4, 1) else day.year - 1


def year_starts_on(year: int) -> dt.date:
    return dt.date(year, 4, 1)


def year_ends_on(year: int) -> dt.date:
    return dt.date(year + 1, 3, 31)


def year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def complete_months(starts_on: dt.date, as_of: dt.date, *, at_most: int = 12) -> int:
    """Whole calendar months from `starts_on` (the first of a month) that have ended by
    the end of `as_of`: 1 April to 30 September is 6; to 29 September, 5."""
    months = 0
    while months < at_most and add_months(starts_on, months + 1) - dt.timedelta(days=1) <= as_of:
        months += 1
    return months


def reporting_day(as_of: object) -> dt.date:
    """A report's "as at" day: a date, not in the future (the figures are the facts
    recorded by the end of that day, so a past day's report can be run again)."""
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise ApplicationError("A report needs an “as at” date, written YYYY-MM-DD")
    today = timezone.localdate()
    if as_of > today:
        raise ApplicationError(
            f"{long_date(as_of)} is in the future: reports are for today or an earlier day, "
            "on the facts recorded by then"
        )
    return as_of


def aggregate_reader(user: Any, as_of: dt.date) -> Actor:
    """The actor for a report, refused unless their role sees aggregates (ACCESS.md:
    the steering group and PPO managers)."""
    actor = as_actor(user, reporting_day(as_of))
    if not can_see_aggregates(actor):
        raise NotPermitted("Only the steering group and PPO managers see the scheme's figures")
    return actor


class AddMonths(Func):
    """`expression` + `months` calendar months in the database, clamped to the month's
    last day like `add_months` (PostgreSQL's interval arithmetic clamps; SQLite's date()
    rolls 29 February + 12 months on to 1 March, so it is capped by the month's end)."""

    output_field = DateField()

    def __init__(self, expression: Any, months: int) -> None:
        super().__init__(expression)
        self.months = int(months)

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        raise NotSupportedError("AddMonths is written for PostgreSQL and SQLite")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql}) + make_interval(months => %s))::date", [*params, self.months]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        later = f"{self.months:+d} months"
        month_end = f"{self.months + 1:+d} months"
        return (
            f"MIN(date({sql}, %s), date({sql}, 'start of month', %s, '-1 day'))",
            [*params, later, *params, month_end],
        )
