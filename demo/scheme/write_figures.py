"""Writing the reporting year (demo/scheme/figures.py, issue 11): the offending before entry
through `offenders.services.offending_event_record` as the police login (today, each
event with the day it was recorded); the NI30 cohorts of last year and this year drafted and
confirmed by the PPO manager as of their 1 April (`reporting.cohorts`); and last year's
self-assessment, every subsection rated by the manager with evidence citing the scheme's
own figures (`reporting.self_assessment.self_assessment_record`).

The figures the evidence cites are read with the measures' own functions
(reporting.measures, reporting.profile), which count without consulting anybody's
record, so seeding still audits only what it writes. What the services cannot back-date,
and so is stamped with the seeding time: a cohort's `drafted_at`, a rating's
`updated_at`, the events' audit rows.

Only in the run that creates the people, and a cohort or rating already there is left
as it is, so a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db.models import QuerySet

from access.errors import ApplicationError, NotPermitted, OutOfScope
from access.policy import actor_for
from offenders.models import (
    CustodyEpisode,
    EventKind,
    OffenceCategory,
    Offender,
    OffendingEvent,
    ProgrammeEpisode,
    ProgrammeKind,
    years_before,
)
from offenders.services import offending_event_record
from reporting.cohorts import cohort_confirm, cohort_draft, default_baseline
from reporting.measures.common import financial_year_of, long_date, year_ends_on, year_label
from reporting.measures.local_measure import local_measure
from reporting.measures.ni30 import ni30_figures
from reporting.measures.reoffending import proven_reoffending
from reporting.models import CohortStatus, Ni30Cohort, Rag, SelfAssessment
from reporting.profile import refresh_indicators, scheme_profile
from reporting.self_assessment import SUBSECTIONS, self_assessment_record
from selection.models import PanelKind, SelectionPanel

from .figures import CohortYear, Member, plan_figures
from .plan import DemoPlan, PersonPlan
from .specs import DemoSeedError

# 003 §2.5: the improvement target the manager sets each cohort, a reduction in percent.
COHORT_TARGET_PERCENT = "10"
# Last year's ratings (004): mostly green on governance, amber where the record shows a
# gap or cannot yet show the standard, one red.
RATINGS = {
    "1.1": Rag.GREEN,
    "2.1": Rag.GREEN,
    "2.2": Rag.GREEN,
    "2.3": Rag.GREEN,
    "2.4": Rag.AMBER,
    "3.1": Rag.GREEN,
    "3.2": Rag.AMBER,
    "4.1": Rag.AMBER,
    "4.2": Rag.AMBER,
    "5.1": Rag.GREEN,
    "5.2": Rag.RED,
}


def cohort_years(today: dt.date) -> tuple[int, int]:
    """Last financial year and this one (the years starting 1 April)."""
    this_year = financial_year_of(today)
    return this_year - 1, this_year


def _guard(what: str, run: Callable[[], Any]) -> Any:
    try:
        return run()
    except (ApplicationError, NotPermitted, OutOfScope) as error:
        raise DemoSeedError(f"The demo's reporting year was refused at {what}: {error}") from error


def _members_and_cohorts(
    by_id: dict[int, PersonPlan], today: dt.date
) -> tuple[list[Member], list[CohortYear]]:
    """What figures.py plans from: each cohort's members with their entry, and their
    custody, charges and convictions as written."""
    cohorts = []
    for year in cohort_years(today):
        starts_on = dt.date(year, 4, 1)
        entries = (
            ProgrammeEpisode.objects.open_on(starts_on)
            .filter(kind=ProgrammeKind.PPO, offender_id__in=list(by_id))
            .order_by("offender_id")
            .values_list("offender_id", "selected_on")
        )
        cohorts.append(
            CohortYear(
                year,
                default_baseline(starts_on),
                tuple((by_id[pk].index, selected_on) for pk, selected_on in entries),
            )
        )
    ids = sorted(
        {pk for pk, p in by_id.items() if any(p.index == m for c in cohorts for m, _ in c.members)}
    )
    custody: dict[int, list[tuple[dt.date, dt.date | None]]] = {pk: [] for pk in ids}
    for pk, started, released in CustodyEpisode.objects.filter(offender_id__in=ids).values_list(
        "offender_id", "started_on", "released_on"
    ):
        custody[pk].append((started, released))
    events: dict[int, dict[str, list[dt.date]]] = {
        pk: {"charge": [], "conviction": []} for pk in ids
    }
    categories: dict[int, set[int]] = {pk: set() for pk in ids}
    for pk, kind, day, category in OffendingEvent.objects.filter(
        offender_id__in=ids, kind__in=[EventKind.CHARGE, EventKind.CONVICTION]
    ).values_list("offender_id", "kind", "occurred_on", "category_id"):
        events[pk][kind].append(day)
        if kind == EventKind.CHARGE and category is not None:
            categories[pk].add(category)
    born = dict(Offender.objects.filter(pk__in=ids).values_list("pk", "date_of_birth"))
    members = [
        Member(
            person=by_id[pk].index,
            born=born[pk],
            custody=tuple(sorted(custody[pk], key=lambda c: c[0])),
            charges=tuple(sorted(events[pk]["charge"])),
            convictions=tuple(sorted(events[pk]["conviction"])),
            categories=tuple(sorted(categories[pk])),
        )
        for pk in ids
    ]
    return members, cohorts


def _offending(plan: DemoPlan, by_id: dict[int, PersonPlan], today: dt.date, police: Any) -> int:
    members, cohorts = _members_and_cohorts(by_id, today)
    figures = plan_figures(plan.seed, today, members, cohorts)
    ids = {p.index: pk for pk, p in by_id.items()}
    refs = {p.index: p.local_ref(plan.seed) for p in by_id.values()}
    categories = {c.pk: c for c in OffenceCategory.objects.all()}
    # The police enter their past records today, each with the day it was recorded.
    actor = actor_for(police, today)
    written = 0
    for n, incident in enumerate(figures.incidents):
        category = None if incident.category is None else categories[incident.category]
        steps = [
            (EventKind.ARREST, incident.occurred_on),
            (EventKind.CHARGE, incident.charged_on),
        ]
        if incident.convicted_on is not None:
            steps.append((EventKind.CONVICTION, incident.convicted_on))
        for kind, recorded_on in steps:
            _guard(
                f"an offence of {long_date(incident.occurred_on)}",
                partial(
                    offending_event_record,
                    user=actor,
                    offender_id=ids[incident.person],
                    kind=kind,
                    occurred_on=incident.occurred_on,
                    recorded_on=recorded_on,
                    category=category,
                    source_reference=f"{refs[incident.person]}-F{n:03d}{kind[:2].upper()}",
                ),
            )
            written += 1
    return written


def _cohorts(manager: Any, today: dt.date) -> int:
    confirmed = 0
    for year in cohort_years(today):
        if Ni30Cohort.objects.filter(year_starts_on=dt.date(year, 4, 1)).exists():
            continue
        # 003 Annex A: drafted and confirmed by the manager at the year's start.
        starts_on = dt.date(year, 4, 1)
        _guard(
            f"the {year_label(year)} cohort",
            partial(
                cohort_draft,
                user=manager,
                year=year,
                target_reduction_percent=COHORT_TARGET_PERCENT,
                as_of=starts_on,
            ),
        )
        _guard(
            f"confirming the {year_label(year)} cohort",
            partial(cohort_confirm, user=manager, year=year, as_of=starts_on),
        )
        confirmed += 1
    return confirmed


def _sentence(before: int, after: int, percent: Any, fall: str, rise: str) -> str:
    if percent is None:
        return "no change can be worked out from a baseline of none"
    return f"{fall} of {abs(percent)}%" if after <= before else f"{rise} of {abs(percent)}%"


def evidence(manager: Any, today: dt.date) -> dict[str, str]:
    """Last year's evidence per subsection, in the manager's words, citing the figures
    the reports give for the demo (read as the manager, as of today)."""
    year, _ = cohort_years(today)
    label, ends_on = year_label(year), year_ends_on(year)
    end = long_date(ends_on)
    ni30 = ni30_figures(user=manager, as_of=today, year=year)
    local = local_measure(user=manager, as_of=today, cohort=year)
    reoffending = proven_reoffending(user=manager, as_of=today, year=year).this_year
    profile = scheme_profile(user=manager, as_of=ends_on)
    refresh = refresh_indicators(user=manager, as_of=ends_on)
    dip = profile.adults_in_dip
    on_iom = ProgrammeEpisode.objects.open_on(ends_on).filter(kind=ProgrammeKind.IOM).count()
    panels = SelectionPanel.objects.filter(
        kind=PanelKind.SELECTION, held_on__gte=dt.date(year, 4, 1), held_on__lte=ends_on
    ).count()
    dyo = Offender.objects.filter(
        pk__in=ProgrammeEpisode.objects.open_on(ends_on)
        .filter(kind=ProgrammeKind.DYO)
        .values("offender")
    )
    turning_18 = dyo.filter(
        date_of_birth__lte=years_before(ends_on + dt.timedelta(days=365), 18)
    ).count()
    ni30_change = _sentence(
        ni30.baseline_convictions, ni30.year_convictions, ni30.change_percent, "a fall", "a rise"
    )
    local_change = _sentence(
        local.charges_before, local.charges_after, local.reduction_percent, "a reduction", "a rise"
    )
    return {
        "1.1": (
            f"The PPO scheme is the top tier of Northfield's IOM arrangements: on {end} "
            f"{refresh.on_scheme} PPOs were on the scheme and {on_iom} former PPOs were managed "
            "on the IOM tier, stepped down at the panel and able to be stepped up again. "
            f"Selection shares the DIP assessment: {dip.rows[0].cells[0]} of the "
            f"{dip.rows[-1].cells[0]} adults on the scheme were also DIP clients."
        ),
        "2.1": (
            "The steering group agreed the scheme's purpose and the eight pathways in its "
            f"terms of reference. Capacity is set locally at {refresh.capacity.capacity_min} to "
            f"{refresh.capacity.capacity_max}; on {end} {refresh.on_scheme} PPOs were on the "
            f"scheme, {refresh.capacity.in_community} of them in the community."
        ),
        "2.2": (
            "The steering group meets quarterly and receives this tool, the NI30 figures and "
            f"the local measure. The monthly selection panel met {panels} times in {label}, "
            "chaired by the PPO manager, with police, probation, prisons, the council, "
            "housing and treatment attending."
        ),
        "2.3": (
            f"Success is agreed as NI30 and the local measure (001 §5.1). The {label} cohort "
            f"of {ni30.members} was convicted of {ni30.year_convictions} offences committed "
            f"in the year against {ni30.baseline_convictions} in the baseline "
            f"({long_date(ni30.baseline_starts_on)} to {long_date(ni30.baseline_ends_on)}), "
            f"{ni30_change}, against a target reduction of {ni30.target_reduction_percent}%. "
            f"Charges in the 12 months on the scheme: {local.charges_after} against "
            f"{local.charges_before} in the 12 months before entry, {local_change} "
            f"({local.people_measured} people measured); the target is a further "
            f"{local.further_percent_a_year} points a year."
        ),
        "2.4": (
            "The information sharing protocol is signed by police, probation, the prisons, "
            "the YOT and treatment; housing and the voluntary sector signed the previous "
            "version only, and the annual review of the protocol is overdue."
        ),
        "3.1": (
            f"Of the {reoffending.managed} people managed as PPOs in {label}, "
            f"{reoffending.reoffenders} had a proven re-offence ({reoffending.rate_percent}%), "
            f"{reoffending.offences_per_reoffender} offences each. On {end}, "
            f"{refresh.custody_share or 0}% of those on the scheme were in custody. The list "
            "is reviewed against all known offenders at the monthly panel."
        ),
        "3.2": (
            "Contact, drug-test and enforcement records moved into PPO Case late in the "
            "year, so the Premium Service standards (001 §3.2) cannot be shown for the whole "
            f"of {label}. Of the {refresh.capacity.in_community} PPOs in the community on "
            f"{end}, those without statutory supervision were seen four times a week by "
            "agreement; compliance is reported from this year."
        ),
        "4.1": (
            "Needs are set on all eight pathways at conference and the providers directory "
            "holds reserved places (four dwellings for DIP and PPO clients). The Victims of "
            "Crime pathway has had no provider since the Restorative Justice Project closed; "
            "the needs of women and young people are reported in the scheme profile."
        ),
        "4.2": (
            f"On {end} {refresh.on_scheme - refresh.capacity.in_community} PPOs were in "
            f"custody; of the {refresh.sentences.rows[-1].cells[0]} serving sentences, "
            f"{refresh.sentences.rows[0].cells[0]} were under 12 months, which end with no "
            "statutory supervision (003 §4.5). Release plans are agreed with the "
            "CARAT teams at both prisons, but were not all complete six weeks before release."
        ),
        "5.1": (
            f"The YOT's DYO panel selects Deter Young Offenders on the Scaled Approach: "
            f"{dyo.count()} were on the scheme on {end}, each with an Asset score and a "
            "package of interventions reviewed at the panel."
        ),
        "5.2": (
            "There is no agreed protocol for the move from Deter to the adult scheme "
            f"(003 §7.5): each exit strategy is arranged case by case between the YOT and "
            f"probation. On {end} {dyo.count()} DYOs were on the scheme, "
            f"{turning_18 or 'none'} of them due to turn 18 within a year."
        ),
    }


def _self_assessment(manager: Any, today: dt.date) -> int:
    year, _ = cohort_years(today)
    rated = set(
        SelfAssessment.objects.filter(year_starts_on=dt.date(year, 4, 1)).values_list(
            "subsection", flat=True
        )
    )
    if len(rated) == len(SUBSECTIONS):
        return 0
    texts = _guard("the figures for the self-assessment", lambda: evidence(manager, today))
    written = 0
    for subsection in SUBSECTIONS:
        number = subsection.number
        if number in rated:
            continue
        _guard(
            f"self-assessment {number}",
            partial(
                self_assessment_record,
                user=manager,
                year=year,
                subsection=number,
                rag=RATINGS[number],
                evidence=texts[number],
                version=0,
            ),
        )
        written += 1
    return written


def write_figures(
    plan: DemoPlan,
    new: list[PersonPlan],
    ids: dict[str, int],
    today: dt.date,
    users: dict[str, Any],
) -> dict[str, int]:
    """The new people's offending before entry, then the cohorts and last year's
    self-assessment; returns what was created."""
    by_id = {ids[p.local_ref(plan.seed)]: p for p in new}
    manager = actor_for(users["manager"], today)
    counts = {
        "offending events before entry (reporting)": _offending(
            plan, by_id, today, users["police"]
        ),
        "NI30 cohorts confirmed": _cohorts(users["manager"], today),
        "self-assessment ratings": _self_assessment(manager, today),
    }
    return {label: n for label, n in counts.items() if n}


# --- the summary -------------------------------------------------------------------------


def figures_lines(demo: QuerySet[Offender], today: dt.date) -> list[str]:
    """What the summary says of the cohorts and the self-assessment."""
    lines = []
    for cohort in Ni30Cohort.objects.filter(
        year_starts_on__in=[dt.date(y, 4, 1) for y in cohort_years(today)]
    ).order_by("year_starts_on"):
        year = cohort.year_starts_on.year
        members = cohort.members.filter(offender__in=demo).count()
        state = (
            f"confirmed on {long_date(cohort.confirmed_on)}"
            if cohort.status == CohortStatus.CONFIRMED and cohort.confirmed_on
            else "drafted, not confirmed"
        )
        lines.append(
            f"NI30 cohort {year_label(year)}: {state}, {members} members, baseline "
            f"{long_date(cohort.baseline_starts_on)} to {long_date(cohort.baseline_ends_on)}."
        )
    year, _ = cohort_years(today)
    ratings = list(
        SelfAssessment.objects.filter(year_starts_on=dt.date(year, 4, 1)).values_list(
            "rag", flat=True
        )
    )
    if ratings:
        by_rag = ", ".join(f"{ratings.count(rag)} {label.lower()}" for rag, label in Rag.choices)
        lines.append(
            f"Self-assessment {year_label(year)}: {len(ratings)} of {len(SUBSECTIONS)} "
            f"subsections rated ({by_rag}) (/reports/self-assessment/; the reports at "
            "/reports/ and `manage.py report`)."
        )
    return lines
