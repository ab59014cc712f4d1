"""Trends for the reports pages' charts: 13 weeks (PPOs on the scheme per week, charges per
week by the NI30 cohort) and years (NI30 change and proven re-offending by year).

Reads only, for an aggregate reader (reporting.measures.common.aggregate_reader), scoped by
access.policy.people_for_counting like the measures. Each weekly trend is one aggregate
query whatever the size of the caseload (13 filtered counts); each yearly trend asks the
measure once per year shown, so the queries grow with the years asked, never with the data.

Counts of the scheme's own caseload and its events over time are headline counts (ACCESS.md
"Aggregates and small numbers": exact), not breakdowns by a personal characteristic, so
they are shown exactly; they are passed to the charts as `Shown` all the same, so a
publication version can hide them through access.disclosure without changing the charts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q

from access.disclosure import Shown
from access.errors import ApplicationError
from access.policy import people_for_counting

from . import charts
from .measures.common import aggregate_reader, financial_year_of, year_label
from .measures.ni30 import ni30_figures
from .measures.reoffending import proven_reoffending
from .models import CohortStatus, Ni30Cohort

WEEKS = 13
YEARS = 5


@dataclass(frozen=True)
class Week:
    starts_on: dt.date
    ends_on: dt.date

    @property
    def label(self) -> str:
        return f"{self.ends_on.day} {self.ends_on:%b}"


def weeks_to(as_of: dt.date, count: int = WEEKS) -> list[Week]:
    """`count` whole weeks of 7 days, the last ending on `as_of` (oldest first)."""
    return [
        Week(as_of - dt.timedelta(days=7 * i + 6), as_of - dt.timedelta(days=7 * i))
        for i in reversed(range(count))
    ]


def ppos_per_week(*, user: Any, as_of: dt.date) -> charts.Chart:
    """PPOs on the scheme at the end of each of the 13 weeks to `as_of`: one query."""
    from offenders.models import ProgrammeEpisode, ProgrammeKind

    actor = aggregate_reader(user, as_of)
    weeks = weeks_to(actor.as_of)
    open_at = {
        f"w{i}": Count(
            "offender",
            distinct=True,
            filter=Q(selected_on__lte=w.ends_on)
            & (Q(deselected_on__isnull=True) | Q(deselected_on__gt=w.ends_on)),
        )
        for i, w in enumerate(weeks)
    }
    counts = ProgrammeEpisode.objects.filter(
        kind=ProgrammeKind.PPO,
        selected_on__lte=actor.as_of,
        offender__in=people_for_counting(actor).values("pk"),
    ).aggregate(**open_at)
    return charts.line_chart(
        chart_id="ppos-per-week",
        title="PPOs on the scheme, week by week",
        description=(
            f"The number of PPOs on the scheme at the end of each of the {WEEKS} weeks "
            f"to {actor.as_of:%-d %B %Y}"
        ),
        labels=[w.label for w in weeks],
        series=[charts.Series("PPOs", tuple(Shown(counts[f"w{i}"]) for i in range(WEEKS)))],
        label_heading="Week ending",
        y_label="PPOs",
    )


def cohort_charges_per_week(*, user: Any, as_of: dt.date) -> charts.Chart | None:
    """Charges per week for offences by the members of the NI30 cohort of the year holding
    `as_of` (members stay counted after de-selection, 003 §2.5), known by `as_of`: one
    query for the cohort and one for the counts. None when the year has no confirmed cohort."""
    from offenders.models import EventKind, OffendingEvent

    actor = aggregate_reader(user, as_of)
    year = financial_year_of(actor.as_of)
    cohort = Ni30Cohort.objects.filter(
        year_starts_on=dt.date(year, 4, 1), status=CohortStatus.CONFIRMED
    ).first()
    if cohort is None:
        return None
    weeks = weeks_to(actor.as_of)
    per_week = {
        f"w{i}": Count("pk", filter=Q(occurred_on__gte=w.starts_on, occurred_on__lte=w.ends_on))
        for i, w in enumerate(weeks)
    }
    counts = OffendingEvent.objects.filter(
        kind=EventKind.CHARGE,
        recorded_on__lte=actor.as_of,
        occurred_on__gte=weeks[0].starts_on,
        occurred_on__lte=actor.as_of,
        offender__in=people_for_counting(actor)
        .filter(ni30_memberships__cohort=cohort)
        .values("pk"),
    ).aggregate(**per_week)
    return charts.line_chart(
        chart_id="cohort-charges-per-week",
        title=f"Charges per week, {year_label(year)} NI30 cohort",
        description=(
            f"Offences charged to members of the {year_label(year)} NI30 cohort in each of "
            f"the {WEEKS} weeks to {actor.as_of:%-d %B %Y}, by the day of the offence"
        ),
        labels=[w.label for w in weeks],
        series=[charts.Series("Charges", tuple(Shown(counts[f"w{i}"]) for i in range(WEEKS)))],
        label_heading="Week ending",
        y_label="Charges",
    )


def ni30_by_year(*, user: Any, as_of: dt.date) -> charts.Chart | None:
    """Convictions of each confirmed cohort, baseline against cohort year, for up to the
    last five cohort years started by `as_of`. None when there is none."""
    actor = aggregate_reader(user, as_of)
    starts = list(
        Ni30Cohort.objects.filter(status=CohortStatus.CONFIRMED, year_starts_on__lte=actor.as_of)
        .order_by("-year_starts_on")
        .values_list("year_starts_on", flat=True)[:YEARS]
    )
    figures = []
    for day in reversed(starts):
        try:
            figures.append(ni30_figures(user=actor, as_of=actor.as_of, year=day.year))
        except ApplicationError:
            continue  # a cohort whose baseline is wrong is reported on its own page
    if not figures:
        return None
    return charts.bar_chart(
        chart_id="ni30-by-year",
        title="NI30: convictions of each cohort, baseline and cohort year",
        description=(
            "Convictions of each year's NI30 cohort for offences in the 12-month baseline "
            "and in the cohort year (the current year so far)"
        ),
        categories=[f.year for f in figures],
        series=[
            charts.Series("Baseline", tuple(Shown(f.baseline_convictions) for f in figures)),
            charts.Series("Cohort year", tuple(Shown(f.year_convictions) for f in figures)),
        ],
        label_heading="Cohort year",
        y_label="Convictions",
    )


def reoffending_by_year(*, user: Any, as_of: dt.date, years: int = 4) -> charts.Chart:
    """004's proven re-offending rate of everyone managed as a PPO in each of the last
    `years` financial years to `as_of` (a year not yet complete is marked in its label)."""
    actor = aggregate_reader(user, as_of)
    last = financial_year_of(actor.as_of)
    rows = []
    for year in range(last - years + 1, last + 1):
        found = proven_reoffending(user=actor, as_of=actor.as_of, year=year).this_year
        label = found.year if found.complete else f"{found.year} (so far)"
        rows.append((label, found.rate_percent))
    rates: tuple[Decimal | None, ...] = tuple(rate for _, rate in rows)
    return charts.line_chart(
        chart_id="reoffending-by-year",
        title="Proven re-offending of PPOs, year by year",
        description=(
            "The share of everyone managed as a PPO in each financial year with a proven "
            "re-offence (004); a year is complete six months after it ends"
        ),
        labels=[label for label, _ in rows],
        series=[charts.Series("Re-offending rate", rates)],
        label_heading="Financial year",
        unit="%",
        y_label="Per cent",
    )
