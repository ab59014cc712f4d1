"""NI30: convictions of the year's fixed cohort, against its 12-month baseline.

003 §2.5: National Indicator 30 "measures the re-conviction rate of identified PPOs";
003 §3.7–3.8 and Annex A: the cohort confirmed for the year (reporting.cohorts), and the
convictions for offences committed in a 12-month baseline against those committed in the
cohort year. Here:

- a conviction is an `OffendingEvent` of kind conviction; it counts in the period in which
  the offence was committed (`occurred_on`, both ends inclusive), not when it was
  convicted or recorded (003 §3.8 "convictions for offences committed in the relevant
  12-month period");
- only what is recorded by the end of the "as at" day counts (`recorded_on` ≤ as_of), so
  a report run again for a past day gives the same figures;
- every member counts for the whole year, on the scheme or not: de-selected members are
  still tracked (Annex A), and people selected during the year are not members;
- during the year the year's convictions are those so far (1 April to the "as at" day),
  against the whole baseline: in-year tracking, complete once the year has ended.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction
from access.policy import Actor, RecordKind, counted_records, visible_fields

from ..cohorts import baseline_problem
from ..models import CohortMember, CohortStatus, Ni30Cohort
from .common import (
    aggregate_reader,
    change,
    financial_year_of,
    long_date,
    rounded,
    year_ends_on,
    year_label,
)

# Who the national return is sent to unless the command names another (002: the
# national cohort returns, collected through JTrack).
NATIONAL_RECIPIENT = "National PPO cohort return (JTrack)"


@dataclass(frozen=True)
class Ni30Figures:
    year: str
    as_of: dt.date
    year_starts_on: dt.date
    year_ends_on: dt.date
    counted_to: dt.date
    year_complete: bool
    baseline_starts_on: dt.date
    baseline_ends_on: dt.date
    confirmed_on: dt.date | None
    members: int
    members_on_scheme: int
    members_off_scheme: int
    baseline_convictions: int
    year_convictions: int
    # (year − baseline) / baseline × 100 to one decimal: negative is a fall. None when
    # the baseline has no convictions (no percentage of nothing).
    change_percent: Decimal | None
    # 003 §2.5: the year's improvement target, a reduction in percent, if one is set.
    target_reduction_percent: Decimal | None
    target_met: bool | None


def confirmed_cohort(year: int | None, as_of: dt.date) -> Ni30Cohort:
    """The confirmed cohort of the financial year starting 1 April `year` (default: the
    year holding `as_of`), checked for a report as at `as_of`."""
    year = financial_year_of(as_of) if year is None else year
    cohort = Ni30Cohort.objects.filter(year_starts_on=dt.date(year, 4, 1)).first()
    if cohort is None:
        raise ApplicationError(
            f"There is no NI30 cohort for {year_label(year)}: the PPO manager drafts and "
            "confirms it at the year's start"
        )
    if cohort.status != CohortStatus.CONFIRMED:
        raise ApplicationError(
            f"The {year_label(year)} NI30 cohort is drafted but not confirmed: its figures "
            "are reported once the PPO manager confirms it"
        )
    if as_of < cohort.year_starts_on:
        raise ApplicationError(
            f"The {year_label(year)} cohort year starts on {long_date(cohort.year_starts_on)}: "
            f"there are no figures for it as at {long_date(as_of)}"
        )
    problem = baseline_problem(
        cohort.year_starts_on, cohort.baseline_starts_on, cohort.baseline_ends_on
    )
    if problem:
        raise ApplicationError(problem)
    return cohort


def _periods(cohort: Ni30Cohort, as_of: dt.date) -> tuple[Q, Q, dt.date]:
    """Filters on an event for the baseline and for the year so far, and the last day
    counted (the "as at" day, or the year's end once it has passed)."""
    counted_to = min(as_of, year_ends_on(cohort.year_starts_on.year))
    baseline = Q(
        occurred_on__gte=cohort.baseline_starts_on, occurred_on__lte=cohort.baseline_ends_on
    )
    in_year = Q(occurred_on__gte=cohort.year_starts_on, occurred_on__lte=counted_to)
    return baseline, in_year, counted_to


def _convictions(actor: Actor, cohort: Ni30Cohort) -> Any:
    """Convictions of the cohort's members known on the day, in either period."""
    from offenders.models import EventKind, OffendingEvent

    baseline, in_year, _ = _periods(cohort, actor.as_of)
    return OffendingEvent.objects.filter(
        baseline | in_year,
        counted_records(actor),
        kind=EventKind.CONVICTION,
        recorded_on__lte=actor.as_of,
        offender__in=CohortMember.objects.filter(cohort=cohort).values("offender"),
    )


def ni30_figures(*, user: Any, as_of: dt.date, year: int | None = None) -> Ni30Figures:
    """The NI30 figures of the cohort of `year` (default: the year holding `as_of`)."""
    from offenders.models import ProgrammeEpisode, ProgrammeKind

    actor = aggregate_reader(user, as_of)
    cohort = confirmed_cohort(year, actor.as_of)
    baseline, in_year, counted_to = _periods(cohort, actor.as_of)
    # Counted by the person (never empty), not the record number, so that the events'
    # window index answers alone (offenders.models.OffendingEvent.Meta.indexes).
    counts = _convictions(actor, cohort).aggregate(
        baseline=Count("offender", filter=baseline), in_year=Count("offender", filter=in_year)
    )
    on_tier = ProgrammeEpisode.objects.open_on(actor.as_of).filter(
        kind=ProgrammeKind.PPO, offender=OuterRef("offender_id")
    )
    members = (
        CohortMember.objects.filter(counted_records(actor), cohort=cohort)
        .annotate(on_tier=Exists(on_tier))
        .aggregate(every=Count("pk"), on=Count("pk", filter=Q(on_tier=True)))
    )
    ends_on = year_ends_on(cohort.year_starts_on.year)
    change_exact = change(counts["baseline"], counts["in_year"])
    target = cohort.target_reduction_percent
    complete = actor.as_of >= ends_on
    return Ni30Figures(
        year=year_label(cohort.year_starts_on.year),
        as_of=actor.as_of,
        year_starts_on=cohort.year_starts_on,
        year_ends_on=ends_on,
        counted_to=counted_to,
        year_complete=complete,
        baseline_starts_on=cohort.baseline_starts_on,
        baseline_ends_on=cohort.baseline_ends_on,
        confirmed_on=cohort.confirmed_on,
        members=members["every"],
        members_on_scheme=members["on"],
        members_off_scheme=members["every"] - members["on"],
        baseline_convictions=counts["baseline"],
        year_convictions=counts["in_year"],
        change_percent=rounded(change_exact),
        target_reduction_percent=target,
        # Judged on the whole year only: part of a year against a whole baseline would
        # look like a fall every April.
        target_met=(
            None
            if target is None or change_exact is None or not complete
            else -change_exact >= target
        ),
    )


# --- The national return: one row per member, no names ----------------------------------

# 002 (national returns, JTrack): what a national collector matches and counts by. The
# PNC ID is how a national body finds the person's convictions; the local reference is
# how it asks the scheme about a row. Never a name, alias, date of birth, address or any
# personal characteristic: the collector needs none of them to count.
RETURN_FIELDS = (
    "cohort_year",
    "pnc_id",
    "local_ref",
    "selected_on",
    "deselected_on",
    "on_scheme_on_as_of",
    "baseline_convictions",
    "year_convictions",
)


@transaction.atomic
def ni30_national_return(
    *, user: Any, as_of: dt.date, year: int | None = None, recipient: str = NATIONAL_RECIPIENT
) -> list[dict[str, Any]]:
    """One row per cohort member for the national return: identifiers and counts, no names.

    A disclosure of identifiers to another body (ACCESS.md: aggregates carry none), so
    only for someone who may read identities and see aggregates — the PPO manager, not
    the steering group — and audited as a disclosure, with its recipient, in the same
    transaction as the read."""
    from offenders.models import EventKind, OffendingEvent, ProgrammeEpisode, ProgrammeKind

    actor = aggregate_reader(user, as_of)
    if "pnc_id" not in visible_fields(actor, RecordKind.IDENTITY):
        raise NotPermitted(
            "The national return identifies people by PNC ID: only the PPO manager sends it"
        )
    recipient = recipient.strip()
    if not recipient:
        raise ApplicationError("Name who the national return is sent to")
    cohort = confirmed_cohort(year, actor.as_of)
    baseline, in_year, _ = _periods(cohort, actor.as_of)
    convictions = OffendingEvent.objects.filter(
        offender=OuterRef("offender_id"),
        kind=EventKind.CONVICTION,
        recorded_on__lte=actor.as_of,
    )

    def counted(period: Q) -> Subquery:
        return Subquery(
            convictions.filter(period)
            .order_by()
            .values("offender")
            .annotate(n=Count("pk"))
            .values("n")
        )

    # The spell on the PPO tier that made them a member: the one open on 1 April.
    spell = ProgrammeEpisode.objects.open_on(cohort.year_starts_on).filter(
        kind=ProgrammeKind.PPO, offender=OuterRef("offender_id")
    )
    on_tier = ProgrammeEpisode.objects.open_on(actor.as_of).filter(
        kind=ProgrammeKind.PPO, offender=OuterRef("offender_id")
    )
    members = list(
        CohortMember.objects.filter(counted_records(actor), cohort=cohort)
        .annotate(
            selected_on=Subquery(spell.values("selected_on")[:1]),
            deselected_on=Subquery(spell.values("deselected_on")[:1]),
            on_tier=Exists(on_tier),
            baseline=counted(baseline),
            in_year=counted(in_year),
        )
        .order_by("offender__pnc_id", "offender__local_ref", "offender_id")
        .values(
            "offender_id",
            "offender__pnc_id",
            "offender__local_ref",
            "selected_on",
            "deselected_on",
            "on_tier",
            "baseline",
            "in_year",
        )
    )
    label = year_label(cohort.year_starts_on.year)
    rows = [
        {
            "cohort_year": label,
            "pnc_id": m["offender__pnc_id"] or "",
            "local_ref": m["offender__local_ref"],
            "selected_on": m["selected_on"].isoformat() if m["selected_on"] else "",
            "deselected_on": m["deselected_on"].isoformat() if m["deselected_on"] else "",
            "on_scheme_on_as_of": "yes" if m["on_tier"] else "no",
            "baseline_convictions": m["baseline"] or 0,
            "year_convictions": m["in_year"] or 0,
        }
        for m in members
    ]
    audit.record(
        actor,
        AuditAction.DISCLOSE,
        record_type="offenders.offender",
        records=[m["offender_id"] for m in members],
        offenders=[m["offender_id"] for m in members],
        recipient=recipient,
        detail={
            "report": "ni30 national return",
            "cohort": label,
            "as_of": actor.as_of.isoformat(),
            "fields": list(RETURN_FIELDS),
            "rows": len(rows),
        },
    )
    return rows
