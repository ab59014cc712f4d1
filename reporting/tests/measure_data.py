"""Data for the measure tests, written straight to the tables (not through the services
under test): people on the PPO tier, their offending events in bulk, and cohorts."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable

from access.models import AgencyKind
from offenders.models import (
    EventKind,
    OffenceCategory,
    Offender,
    OffendingEvent,
    ProgrammeEpisode,
    ProgrammeKind,
)
from reporting.models import CohortMember, CohortStatus, Ni30Cohort
from tests.factories import AgencyFactory, OffenderFactory

_reference = itertools.count(1)


def ppo(selected_on: dt.date, deselected_on: dt.date | None = None, **fields: object) -> Offender:
    person = OffenderFactory(**fields)
    ProgrammeEpisode.objects.create(
        offender=person,
        kind=ProgrammeKind.PPO,
        selected_on=selected_on,
        deselected_on=deselected_on,
        deselection_reason="stopped_offending" if deselected_on else "",
    )
    return person


def events(
    person: Offender,
    kind: str,
    days: Iterable[dt.date],
    *,
    recorded_on: dt.date | None = None,
) -> list[OffendingEvent]:
    """One event of `kind` on each day (a day given twice is two events)."""
    police = AgencyFactory(name="Police agency", kind=AgencyKind.POLICE)
    category = OffenceCategory.objects.get(name="Shoplifting")
    return OffendingEvent.objects.bulk_create(
        [
            OffendingEvent(
                offender=person,
                kind=kind,
                category=None if kind == EventKind.INTELLIGENCE else category,
                occurred_on=day,
                recorded_on=recorded_on or day,
                source_agency=police,
                source_reference=f"T{next(_reference):07d}",
            )
            for day in days
        ]
    )


def spread(first: dt.date, last: dt.date, n: int) -> list[dt.date]:
    """`n` days from `first` to `last`, both included when n ≥ 2, spread evenly."""
    if n == 1:
        return [first]
    span = (last - first).days
    return [first + dt.timedelta(days=span * i // (n - 1)) for i in range(n)]


def share_out(total: int, people: int) -> list[int]:
    """`total` split among `people` as evenly as whole numbers allow."""
    return [total // people + (1 if i < total % people else 0) for i in range(people)]


def confirmed_cohort(
    year: int,
    members: Iterable[Offender],
    *,
    baseline: tuple[dt.date, dt.date] | None = None,
    status: str = CohortStatus.CONFIRMED,
    target: str | None = None,
) -> Ni30Cohort:
    starts, ends = baseline or (dt.date(year - 2, 10, 1), dt.date(year - 1, 9, 30))
    cohort = Ni30Cohort.objects.create(
        year_starts_on=dt.date(year, 4, 1),
        baseline_starts_on=starts,
        baseline_ends_on=ends,
        status=status,
        confirmed_on=dt.date(year, 4, 2) if status == CohortStatus.CONFIRMED else None,
        target_reduction_percent=target,
    )
    CohortMember.objects.bulk_create(
        [CohortMember(cohort=cohort, offender=person) for person in members]
    )
    return cohort
