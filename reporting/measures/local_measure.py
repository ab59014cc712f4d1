"""The local re-offending measure: charges in the 12 months before each person's own entry
to the scheme against the 12 months after it (001 §5.1–5.2).

001 §5.1: "those crimes with which they were charged 12 months prior to entry on the
scheme and those offences with which they were charged 12 months whilst on the scheme ...
153 crimes against 103 crimes, a reduction of 32%. The target was to reduce crime by
this cohort by a further 15% over three years (5% per annum). This year's target is
therefore a reduction of 37%." 001 §5.2: "From April to September the actual number of
crimes ... is 30 which using a simple multiplication equation would equate to a full year
total of 60 ... Set against the baseline of 153 offences this would relate to a reduction
of 60.8%."

The rules (README "Reports"):
- the group is a confirmed NI30 cohort (each member's entry is the start of the spell on
  the PPO tier that made them a member) or the people selected onto the PPO tier in a
  period (each person's first selection in it);
- a charge is an `OffendingEvent` of kind charge, placed by the day of the offence
  (`occurred_on`), counted only if recorded by the "as at" day;
- "before" is the 12 calendar months up to the day before entry; "after" starts on the
  entry day itself and runs 12 calendar months (1 March 2024: before is 1 March 2023 –
  29 February 2024, after is 1 March 2024 – 28 February 2025);
- only people whose 12 months after entry have ended by the "as at" day are measured,
  on both sides, so the two totals are of the same people over the same length of time;
  the others are counted as "not yet 12 months on" and wait. Nobody is annualised
  one by one: a few weeks scaled to a year would swing the total on one arrest;
- the "after" months count whether or not the person is still on the scheme (a person
  de-selected after four months who offends again counts: leaving does not hide it);
- the target is a further N points a year on the reduction achieved (default 5: 32.7%
  becomes 37.7%);
- the in-year projection annualises the measured people's charges in the whole calendar
  months of the financial year that have ended by the "as at" day (30 in April–September,
  6 months → 60) and compares it with their "before" total.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Subquery, Sum
from django.db.models.lookups import LessThanOrEqual

from access.errors import ApplicationError
from access.policy import Actor, counted_records

from ..models import CohortMember
from .common import (
    AddMonths,
    add_months,
    aggregate_reader,
    complete_months,
    financial_year_of,
    long_date,
    reduction,
    rounded,
    year_label,
    year_starts_on,
)
from .ni30 import confirmed_cohort

MONTHS = 12
# 001 §5.1: "a further 15% over three years (5% per annum)".
DEFAULT_FURTHER_PERCENT_A_YEAR = Decimal("5")


@dataclass(frozen=True)
class LocalMeasure:
    group: str
    as_of: dt.date
    people: int
    # Whose 12 months after entry have ended by `as_of`: the people measured.
    people_measured: int
    people_not_yet_12_months: int
    charges_before: int
    charges_after: int
    reduction_percent: Decimal | None
    further_percent_a_year: Decimal
    target_years: int
    target_reduction_percent: Decimal | None
    # The in-year projection (001 §5.2).
    projection_year: str
    months_counted: int
    charges_in_year: int
    projected_charges: Decimal | None
    projected_reduction_percent: Decimal | None


def _group(
    actor: Actor, *, cohort: int | None, date_from: dt.date | None, date_to: dt.date | None
) -> tuple[Any, str, int]:
    """Each person's entry, as the PPO `ProgrammeEpisode` that began it; the group's
    description; the financial year of the in-year projection."""
    from offenders.models import ProgrammeEpisode, ProgrammeKind

    counted = counted_records(actor)
    if cohort is not None and (date_from or date_to):
        raise ApplicationError("Choose a cohort or a period of selection, not both")
    if date_from or date_to:
        if date_from is None or date_to is None:
            raise ApplicationError("Give both the first and the last day of the period")
        if date_to < date_from:
            raise ApplicationError("The period must end on or after the day it starts")
        if date_to > actor.as_of:
            raise ApplicationError(
                f"The period ends after the “as at” day ({long_date(actor.as_of)}): "
                "selections after it are not known yet"
            )
        # Only the first selection in the period: a person selected twice in it is one
        # person with one entry.
        earlier_in_period = ProgrammeEpisode.objects.filter(
            offender=OuterRef("offender"),
            kind=ProgrammeKind.PPO,
            selected_on__gte=date_from,
            selected_on__lt=OuterRef("selected_on"),
        )
        entries = ProgrammeEpisode.objects.filter(
            ~Exists(earlier_in_period),
            counted,
            kind=ProgrammeKind.PPO,
            selected_on__gte=date_from,
            selected_on__lte=date_to,
        ).order_by()
        description = f"People selected as PPOs from {long_date(date_from)} to {long_date(date_to)}"
        return entries, description, financial_year_of(actor.as_of)
    found = confirmed_cohort(cohort, actor.as_of)
    year = found.year_starts_on.year
    entries = (
        ProgrammeEpisode.objects.open_on(found.year_starts_on)
        .filter(
            counted,
            kind=ProgrammeKind.PPO,
            offender__in=CohortMember.objects.filter(cohort=found).values("offender"),
        )
        .order_by()
    )
    return entries, f"The {year_label(year)} NI30 cohort", year


def local_measure(
    *,
    user: Any,
    as_of: dt.date,
    cohort: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    further_percent_a_year: Decimal | int | str = DEFAULT_FURTHER_PERCENT_A_YEAR,
    target_years: int = 1,
) -> LocalMeasure:
    """001 §5.1–5.2 for a cohort (default: the one of the year holding `as_of`) or for
    the people selected from `date_from` to `date_to`."""
    from offenders.models import EventKind, OffendingEvent

    actor = aggregate_reader(user, as_of)
    try:
        further = Decimal(str(further_percent_a_year))
    except ArithmeticError:
        raise ApplicationError("The further target must be a percentage, such as 5") from None
    if not further.is_finite() or not Decimal("0") <= further <= Decimal("100"):
        raise ApplicationError("The further target must be between 0 and 100 points a year")
    if target_years < 1:
        raise ApplicationError("The target is for one year on or more")
    entries, description, year = _group(actor, cohort=cohort, date_from=date_from, date_to=date_to)
    starts = year_starts_on(year)
    months = complete_months(starts, actor.as_of) if actor.as_of >= starts else 0
    charges = OffendingEvent.objects.filter(
        offender=OuterRef("offender_id"), kind=EventKind.CHARGE, recorded_on__lte=actor.as_of
    )

    def counted(from_day: Any, before_day: Any) -> Any:
        """Each person's charges from `from_day` up to the day before `before_day`: one
        index range per person, read from the index alone (so counted by the person, not
        the record number: offenders.models.OffendingEvent.Meta.indexes)."""
        found = charges.filter(occurred_on__gte=from_day, occurred_on__lt=before_day)
        return Subquery(
            found.order_by().values("offender").annotate(n=Count("offender")).values("n"),
            output_field=IntegerField(),
        )

    entry = OuterRef("selected_on")
    # The 12 months after entry have ended when entry + 12 months is the day after
    # `as_of` or earlier (after: entry to entry + 12 months − 1 day, inclusive).
    full_year: Any = LessThanOrEqual(
        AddMonths(F("selected_on"), MONTHS), actor.as_of + dt.timedelta(days=1)
    )
    # Each count is written inside its aggregate (not as an annotation it refers to): a
    # Sum over a subquery annotation is taken from a wrapping query that Django builds
    # without the annotation's column, and SQLite reads the missing column as a string.
    figures = entries.aggregate(
        every=Count("pk"),
        measured=Count("pk", filter=full_year),
        before=Sum(counted(AddMonths(entry, -MONTHS), entry), filter=full_year, default=0),
        after=Sum(counted(entry, AddMonths(entry, MONTHS)), filter=full_year, default=0),
        in_year=Sum(counted(starts, add_months(starts, months)), filter=full_year, default=0),
    )
    people = {"every": figures["every"], "measured": figures["measured"]}
    windows = {"before": figures["before"], "after": figures["after"]}
    in_year = figures["in_year"] if months else 0

    before, after = windows["before"], windows["after"]
    achieved = reduction(before, after)
    projected = Fraction(in_year * MONTHS, months) if months else None
    return LocalMeasure(
        group=description,
        as_of=actor.as_of,
        people=people["every"],
        people_measured=people["measured"],
        people_not_yet_12_months=people["every"] - people["measured"],
        charges_before=before,
        charges_after=after,
        reduction_percent=rounded(achieved),
        further_percent_a_year=further,
        target_years=target_years,
        target_reduction_percent=(
            None if achieved is None else rounded(achieved + Fraction(further) * target_years)
        ),
        projection_year=year_label(year),
        months_counted=months,
        charges_in_year=in_year,
        projected_charges=rounded(projected),
        projected_reduction_percent=(
            None if projected is None else rounded(reduction(before, projected))
        ),
    )
