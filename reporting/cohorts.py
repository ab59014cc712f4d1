"""The NI30 cohort of a financial year: drafted, then confirmed by the PPO manager.

003 §3.2 and Annex A: the cohort is "the offenders that they expected to be managing as
PPOs during the 12 months starting on 1 April" — here, everyone on the PPO tier on 1 April
(a PPO `ProgrammeEpisode` open that day). Once confirmed it is fixed for the year: members
stay tracked after de-selection, and PPOs selected during the year join the caseload, not
the cohort (they can be in next year's). The baseline is 12 months ending before the year
starts; by default 1 October – 30 September before it, as for the 2009 cohort (003 §3.7
footnote 4: 1 October 2007 – 30 September 2008).

`cohort_draft` is idempotent: drafting a year again refreshes a draft's members to the
people on the tier on 1 April as now recorded (so a selection recorded late is taken in),
and a confirmed cohort is refused, never changed. The 1 April task (reporting.tasks) and
the PPO manager call the same service.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction
from access.policy import (
    as_actor,
    may_confirm_ni30_cohort,
    may_draft_ni30_cohort,
    people,
)

from .measures.common import add_months, long_date, year_label
from .models import CohortMember, CohortStatus, Ni30Cohort

# 003 §3.7 footnote 4: the baseline ended six months before the cohort year began.
BASELINE_ENDS_MONTHS_BEFORE_YEAR = 6
BASELINE_MONTHS = 12


def default_baseline(year_starts_on: dt.date) -> tuple[dt.date, dt.date]:
    """1 October – 30 September before the year (003 §3.7 footnote 4)."""
    ends_after = add_months(year_starts_on, -BASELINE_ENDS_MONTHS_BEFORE_YEAR)
    return add_months(ends_after, -BASELINE_MONTHS), ends_after - dt.timedelta(days=1)


def baseline_problem(
    year_starts_on: dt.date, baseline_starts_on: dt.date, baseline_ends_on: dt.date
) -> str | None:
    """Why a baseline cannot be compared with the year, or None. It must be 12 calendar
    months (both days inclusive) ending before the year starts: a baseline overlapping
    the year would count the same convictions on both sides."""
    if baseline_ends_on < baseline_starts_on:
        return "The baseline must end after it starts"
    if baseline_ends_on >= year_starts_on:
        return (
            f"The baseline ({long_date(baseline_starts_on)} to {long_date(baseline_ends_on)}) "
            f"overlaps the cohort year, which starts on {long_date(year_starts_on)}: it must "
            "end before the year starts"
        )
    if add_months(baseline_starts_on, BASELINE_MONTHS) - dt.timedelta(days=1) != baseline_ends_on:
        return (
            "The baseline must be 12 months, for example 1 October to 30 September: "
            f"{long_date(baseline_starts_on)} to {long_date(baseline_ends_on)} is not"
        )
    return None


def _target(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        target = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ApplicationError("The target must be a percentage, such as 5 or 12.5") from None
    if not Decimal("0") <= target <= Decimal("100"):
        raise ApplicationError("The target must be a reduction between 0% and 100%")
    return target


@transaction.atomic
def cohort_draft(
    *,
    user: Any,
    year: int,
    baseline_starts_on: dt.date | None = None,
    baseline_ends_on: dt.date | None = None,
    target_reduction_percent: Decimal | str | None = None,
    as_of: dt.date | None = None,
) -> Ni30Cohort:
    """Draft (or draft again) the NI30 cohort of the financial year starting 1 April
    `year`: its members are the people on the PPO tier on that day."""
    actor = as_actor(user, as_of)
    if not may_draft_ni30_cohort(actor):
        raise NotPermitted("Only the PPO manager drafts the NI30 cohort")
    starts_on = dt.date(year, 4, 1)
    if starts_on > actor.as_of:
        raise ApplicationError(
            f"The {year_label(year)} cohort is the people on the scheme on "
            f"{long_date(starts_on)}: it can be drafted on or after that day"
        )
    if (baseline_starts_on is None) != (baseline_ends_on is None):
        raise ApplicationError("Give both the first and the last day of the baseline, or neither")
    existing = Ni30Cohort.objects.select_for_update().filter(year_starts_on=starts_on).first()
    if existing and existing.status == CohortStatus.CONFIRMED:
        raise ApplicationError(
            f"The {year_label(year)} cohort was confirmed on "
            f"{long_date(existing.confirmed_on or starts_on)} and is fixed for the year"
        )
    if baseline_starts_on is None or baseline_ends_on is None:
        if existing:
            baseline_starts_on, baseline_ends_on = (
                existing.baseline_starts_on,
                existing.baseline_ends_on,
            )
        else:
            baseline_starts_on, baseline_ends_on = default_baseline(starts_on)
    problem = baseline_problem(starts_on, baseline_starts_on, baseline_ends_on)
    if problem:
        raise ApplicationError(problem)
    target = _target(target_reduction_percent)

    from offenders.models import ProgrammeEpisode, ProgrammeKind

    on_the_tier = ProgrammeEpisode.objects.open_on(starts_on).filter(kind=ProgrammeKind.PPO)
    member_ids = set(
        people(actor).filter(pk__in=on_the_tier.values("offender_id")).values_list("pk", flat=True)
    )
    cohort = existing or Ni30Cohort(year_starts_on=starts_on)
    cohort.baseline_starts_on = baseline_starts_on
    cohort.baseline_ends_on = baseline_ends_on
    cohort.drafted_at = timezone.now()
    if target is not None or not existing:
        cohort.target_reduction_percent = target
    cohort.full_clean()
    cohort.save()
    before = set(cohort.members.values_list("offender_id", flat=True))
    if before - member_ids:
        cohort.members.filter(offender_id__in=before - member_ids).delete()
    CohortMember.objects.bulk_create(
        [CohortMember(cohort=cohort, offender_id=pk) for pk in sorted(member_ids - before)]
    )
    audit.record(
        actor,
        AuditAction.UPDATE if existing else AuditAction.CREATE,
        record_type="reporting.ni30cohort",
        records=[cohort.pk],
        offenders=member_ids | before,
        detail={
            "drafted": year_label(year),
            "members": len(member_ids),
            "added": len(member_ids - before),
            "removed": len(before - member_ids),
        },
    )
    return cohort


@transaction.atomic
def cohort_confirm(
    *,
    user: Any,
    year: int,
    target_reduction_percent: Decimal | str | None = None,
    as_of: dt.date | None = None,
) -> Ni30Cohort:
    """The PPO manager confirms the drafted cohort (003 Annex A): fixed from then on.

    Irreversible, so a page asks "are you sure" first; the members confirmed are the
    draft's, so a draft older than the latest selections is drafted again first."""
    actor = as_actor(user, as_of)
    if not may_confirm_ni30_cohort(actor):
        raise NotPermitted("Only the PPO manager confirms the NI30 cohort")
    starts_on = dt.date(year, 4, 1)
    cohort = Ni30Cohort.objects.select_for_update().filter(year_starts_on=starts_on).first()
    if cohort is None:
        raise ApplicationError(f"There is no draft {year_label(year)} cohort to confirm")
    if cohort.status == CohortStatus.CONFIRMED:
        raise ApplicationError(
            f"The {year_label(year)} cohort was already confirmed on "
            f"{long_date(cohort.confirmed_on or starts_on)}"
        )
    if actor.as_of < starts_on:
        raise ApplicationError(
            f"The {year_label(year)} cohort is confirmed at the year's start, on or after "
            f"{long_date(starts_on)}"
        )
    target = _target(target_reduction_percent)
    if target is not None:
        cohort.target_reduction_percent = target
    cohort.status = CohortStatus.CONFIRMED
    cohort.confirmed_on = actor.as_of
    cohort.confirmed_by = actor.user
    cohort.full_clean()
    cohort.save()
    audit.record(
        actor,
        AuditAction.UPDATE,
        record_type="reporting.ni30cohort",
        records=[cohort.pk],
        offenders=cohort.members.values_list("offender_id", flat=True),
        detail={
            "confirmed": year_label(year),
            "members": cohort.members.count(),
            "target_reduction_percent": (
                None
                if cohort.target_reduction_percent is None
                else str(cohort.target_reduction_percent)
            ),
        },
    )
    return cohort
