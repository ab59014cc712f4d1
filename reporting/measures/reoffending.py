"""Proven re-offending of the people managed as PPOs in a financial year, as 004 reports it.

004: "between April 2009 and March 2010 ... around 8,000 offenders ... were being managed
under local PPO arrangements at some point during this period. Of these under 6,000
committed a proven re-offence within a year, giving a one-year proven re-offending rate of
74.9 per cent. PPOs who re-offended committed an average of 4.70 offences each ... These
offenders represented 1.2 per cent of all offenders but were responsible for 5.6 per cent
of all proven re-offences committed. Compared to the previous twelve months, the
proportion ... has decreased by 2.3 percentage points (from 77.3 per cent to 74.9 per
cent)." And "at the point of identification, PPOs have an average 47 convictions, are
predominantly young (average age at identification was 25)".

Definitions (README "Reports"):
- managed as a PPO in the year: a PPO `ProgrammeEpisode` open on at least one day of the
  financial year (1 April – 31 March) up to the "as at" day;
- a proven re-offence: an offence committed in the year (`occurred_on`) that led to a
  conviction or a caution (an `OffendingEvent` of kind conviction or caution), recorded by
  the "as at" day. This is the Ministry of Justice's proven re-offending measure, the "new
  measure of re-offending" 004 quotes: "any offence committed in a one year follow-up
  period that leads to a court conviction, caution, reprimand or warning" (reprimands and
  warnings of young people are recorded as cautions here). Its follow-up is the financial
  year, as 004's figures are; convictions for the year's offences keep arriving after it
  ends (the measure waits six months), so a year is reported as complete six months after;
- one event is one offence: offences per re-offender = proven re-offences ÷ re-offenders;
- all offenders: everyone on the record proven to have offended (a conviction or caution,
  for an offence committed by the end of the year), and everyone managed as a PPO in it —
  the scheme's counterpart of 004's 680,000 offenders; all proven re-offences: every
  proven offence committed in the year by anyone on the record;
- the change on last year, in percentage points, from the two exact rates (so 77.25% →
  74.91% is −2.3 points, as 004 prints it, though the rounded rates differ by 2.4);
- the profile at identification: per person, their first selection onto the PPO tier;
  convictions for offences committed before that day, and age in whole years on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, Subquery, Sum

from access.errors import ApplicationError
from access.policy import Actor, counted_records, people_for_counting

from .common import (
    TWO_DECIMALS,
    add_months,
    aggregate_reader,
    financial_year_of,
    rounded,
    share,
    year_ends_on,
    year_label,
    year_starts_on,
)

# The Ministry of Justice's proven re-offending measure waits six months after the
# follow-up year for convictions to be recorded.
WAITING_MONTHS = 6


@dataclass(frozen=True)
class YearReoffending:
    year: str
    starts_on: dt.date
    counted_to: dt.date
    # Six months after the year's end: late convictions for its offences are in.
    complete: bool
    managed: int
    reoffenders: int
    rate_percent: Decimal | None
    reoffences: int
    offences_per_reoffender: Decimal | None
    all_offenders: int
    all_reoffences: int
    share_of_offenders_percent: Decimal | None
    share_of_reoffences_percent: Decimal | None
    exact_rate: Fraction | None


@dataclass(frozen=True)
class ProfileAtIdentification:
    people: int
    average_convictions_before: Decimal | None
    average_age: Decimal | None


@dataclass(frozen=True)
class Reoffending:
    as_of: dt.date
    this_year: YearReoffending
    last_year: YearReoffending
    # This year's rate − last year's, in percentage points, from the exact rates.
    change_points: Decimal | None
    profile: ProfileAtIdentification


def _proven(starts_on: dt.date, counted_to: dt.date, as_of: dt.date, prefix: str = "") -> Q:
    from offenders.models import EventKind

    return Q(
        **{
            f"{prefix}kind__in": [EventKind.CONVICTION, EventKind.CAUTION],
            f"{prefix}occurred_on__gte": starts_on,
            f"{prefix}occurred_on__lte": counted_to,
            f"{prefix}recorded_on__lte": as_of,
        }
    )


def _managed_q(starts_on: dt.date, counted_to: dt.date) -> Q:
    from offenders.models import ProgrammeEpisode, ProgrammeKind

    spell = ProgrammeEpisode.objects.filter(
        offender=OuterRef("pk"), kind=ProgrammeKind.PPO, selected_on__lte=counted_to
    ).filter(Q(deselected_on__isnull=True) | Q(deselected_on__gt=starts_on))
    return Q(Exists(spell))


def _managed_ids(counted: Any, starts_on: dt.date, counted_to: dt.date) -> Any:
    """The people managed as PPOs in the year (one row per PPO spell open in it), from
    the programme episodes: a few thousand rows, where asking each of the 680,000 people
    on the record whether they had one costs seconds (benchmarks/reporting.py)."""
    from offenders.models import ProgrammeEpisode, ProgrammeKind

    return (
        ProgrammeEpisode.objects.filter(
            kind=ProgrammeKind.PPO, selected_on__lte=counted_to, offender__in=counted.values("pk")
        )
        .filter(Q(deselected_on__isnull=True) | Q(deselected_on__gt=starts_on))
        .order_by()
        .values("offender")
    )


@dataclass(frozen=True)
class _ForceWide:
    # People proven to have offended by the year's end (a conviction or caution for an
    # offence committed by then, recorded by the "as at" day).
    proven_by_end: int
    # Proven offences committed in the year, by anyone on the record.
    offences_in_year: int


def _force_wide(actor: Actor, years: tuple[int, ...]) -> dict[int, _ForceWide]:
    """Both years' force-wide figures from one pass over the proven offences, grouped
    by person: the whole record is read once, not once per figure and year
    (benchmarks/annual_report.py)."""
    from offenders.models import EventKind, OffendingEvent

    as_of = actor.as_of
    ends = {year: min(as_of, year_ends_on(year)) for year in years}
    per_person = (
        OffendingEvent.objects.filter(
            kind__in=[EventKind.CONVICTION, EventKind.CAUTION],
            occurred_on__lte=max(ends.values()),
            recorded_on__lte=as_of,
        )
        .filter(counted_records(actor))
        .order_by()
        .values("offender")
        .annotate(
            first=Min("occurred_on"),
            **{
                f"in_{year}": Count(
                    "pk", filter=Q(occurred_on__gte=year_starts_on(year), occurred_on__lte=end)
                )
                for year, end in ends.items()
            },
        )
    )
    totals = per_person.aggregate(
        **{f"people_{y}": Count("offender", filter=Q(first__lte=end)) for y, end in ends.items()},
        **{f"offences_{y}": Sum(f"in_{y}", default=0) for y in ends},
    )
    return {y: _ForceWide(totals[f"people_{y}"], totals[f"offences_{y}"]) for y in ends}


def _year(actor: Actor, year: int, force_wide: _ForceWide) -> YearReoffending:
    from offenders.models import EventKind, OffendingEvent

    as_of = actor.as_of
    starts_on = year_starts_on(year)
    counted_to = min(as_of, year_ends_on(year))
    counted = people_for_counting(actor)
    managed = _managed_ids(counted, starts_on, counted_to)
    proven = _proven(starts_on, counted_to, as_of)
    by_them = OffendingEvent.objects.filter(proven, offender__in=managed).aggregate(
        offences=Count("offender"), people=Count("offender", distinct=True)
    )
    # All offenders: everyone proven to have offended by the year's end, and everyone
    # managed in it who had not been (a few thousand people, asked one by one).
    proven_by_end = OffendingEvent.objects.filter(
        offender=OuterRef("offender"),
        kind__in=[EventKind.CONVICTION, EventKind.CAUTION],
        occurred_on__lte=counted_to,
        recorded_on__lte=as_of,
    )
    never_proven = managed.filter(~Exists(proven_by_end)).values("offender").distinct().count()
    everyone = {"offences": force_wide.offences_in_year}
    people = {
        "managed": managed.distinct().count(),
        "offenders": force_wide.proven_by_end + never_proven,
    }
    rate = share(by_them["people"], people["managed"])
    per = Fraction(by_them["offences"], by_them["people"]) if by_them["people"] else None
    return YearReoffending(
        year=year_label(year),
        starts_on=starts_on,
        counted_to=counted_to,
        complete=as_of >= add_months(year_ends_on(year), WAITING_MONTHS),
        managed=people["managed"],
        reoffenders=by_them["people"],
        rate_percent=rounded(rate),
        reoffences=by_them["offences"],
        offences_per_reoffender=rounded(per, TWO_DECIMALS),
        all_offenders=people["offenders"],
        all_reoffences=everyone["offences"],
        share_of_offenders_percent=rounded(share(people["managed"], people["offenders"])),
        share_of_reoffences_percent=rounded(share(by_them["offences"], everyone["offences"])),
        exact_rate=rate,
    )


def _profile(actor: Actor, year: int) -> ProfileAtIdentification:
    from offenders.models import EventKind, OffendingEvent, ProgrammeEpisode, ProgrammeKind

    starts_on = year_starts_on(year)
    counted_to = min(actor.as_of, year_ends_on(year))
    first_selected = (
        ProgrammeEpisode.objects.filter(
            offender=OuterRef("pk"), kind=ProgrammeKind.PPO, selected_on__lte=counted_to
        )
        .order_by("selected_on")
        .values("selected_on")[:1]
    )
    before = (
        OffendingEvent.objects.filter(
            offender=OuterRef("pk"),
            kind=EventKind.CONVICTION,
            occurred_on__lt=OuterRef("identified_on"),
            recorded_on__lte=actor.as_of,
        )
        .order_by()
        .values("offender")
        .annotate(n=Count("offender"))
        .values("n")
    )
    rows = list(
        people_for_counting(actor)
        .filter(_managed_q(starts_on, counted_to))
        .annotate(identified_on=Subquery(first_selected))
        .annotate(convictions=Subquery(before))
        .values_list("date_of_birth", "identified_on", "convictions")
    )
    if not rows:
        return ProfileAtIdentification(0, None, None)

    def age(born: dt.date, on: dt.date) -> int:
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    convictions = sum(n or 0 for _, _, n in rows)
    ages = sum(age(born, on) for born, on, _ in rows)
    return ProfileAtIdentification(
        people=len(rows),
        average_convictions_before=rounded(Fraction(convictions, len(rows))),
        average_age=rounded(Fraction(ages, len(rows))),
    )


def proven_reoffending(*, user: Any, as_of: dt.date, year: int | None = None) -> Reoffending:
    """004's figures for the financial year starting 1 April `year` (default: the year
    holding `as_of`) and the year before it."""
    actor = aggregate_reader(user, as_of)
    year = financial_year_of(actor.as_of) if year is None else year
    if year_starts_on(year) > actor.as_of:
        raise ApplicationError(
            f"The {year_label(year)} year starts on 1 April {year}: there are no figures for it yet"
        )
    force_wide = _force_wide(actor, (year, year - 1))
    this_year = _year(actor, year, force_wide[year])
    last_year = _year(actor, year - 1, force_wide[year - 1])
    points = (
        None
        if this_year.exact_rate is None or last_year.exact_rate is None
        else rounded(this_year.exact_rate - last_year.exact_rate)
    )
    return Reoffending(
        as_of=actor.as_of,
        this_year=this_year,
        last_year=last_year,
        change_points=points,
        profile=_profile(actor, year),
    )
