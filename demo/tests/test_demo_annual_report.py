"""The annual report PDF of the demo scheme (issue 11 "Done when"): every section and
chart, the key figures as the demo data gives them, and no person identifiable in it.

The expected figures are counted here straight from the demo's records with the ORM, not
through reporting/: a cohort's members and their convictions in the baseline and the
year, the PPOs on the scheme at the year's end, and everyone managed as a PPO in it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from offenders.models import EventKind, Offender, OffendingEvent, ProgrammeEpisode, ProgrammeKind
from reporting import annual_report as service
from reporting.models import AnnualReportStatus, CohortMember, Ni30Cohort
from reporting.tests.test_annual_report import SECTION_HEADINGS, pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_demo")]

REPO = Path(__file__).resolve().parents[2]
CHART_TITLES = (
    "Reasons for de-selection",
    "Proven re-offending rate, this year beside last",
    "The local measure: charges before and after entry",
    "PPOs by time on the programme",
    "People with a gap in provision, per pathway",
)


def last_complete_year(today: dt.date) -> int:
    """The financial year before the one holding today (1 April – 31 March)."""
    starts = today.year if today >= dt.date(today.year, 4, 1) else today.year - 1
    return starts - 1


def percent(part: int, whole: int) -> str:
    value = (Decimal(part - whole) / Decimal(whole) * 100).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    return f"{value}%"


def people_on_scheme(day: dt.date) -> int:
    return (
        ProgrammeEpisode.objects.filter(kind=ProgrammeKind.PPO, selected_on__lte=day)
        .filter(Q(deselected_on__isnull=True) | Q(deselected_on__gt=day))
        .values("offender")
        .distinct()
        .count()
    )


def managed_in(first: dt.date, last: dt.date) -> int:
    return (
        ProgrammeEpisode.objects.filter(kind=ProgrammeKind.PPO, selected_on__lte=last)
        .filter(Q(deselected_on__isnull=True) | Q(deselected_on__gt=first))
        .values("offender")
        .distinct()
        .count()
    )


def convictions(members: list[int], first: dt.date, last: dt.date, as_of: dt.date) -> int:
    return OffendingEvent.objects.filter(
        offender__in=members,
        kind=EventKind.CONVICTION,
        occurred_on__gte=first,
        occurred_on__lte=last,
        recorded_on__lte=as_of,
    ).count()


def report_vocabulary() -> set[str]:
    """Every word the report's own code and templates could print by themselves."""
    words: set[str] = set()
    sources = [*(REPO / "reporting").rglob("*.py"), *(REPO / "templates/reporting").glob("*")]
    sources += [REPO / "access/disclosure.py", REPO / "offenders/models.py"]
    # The page footer ("Page 2 of 15") comes from the letters' shared styles.
    sources += [REPO / "templates/selection/letter_styles.html"]
    sources += [REPO / "pathways/models.py", REPO / "selection/models.py"]
    for source in sources:
        if "tests" not in source.parts:
            words |= set(re.findall(r"[A-Za-z][A-Za-z'-]+", source.read_text()))
    return words


def identifying_strings(vocabulary: set[str]) -> list[str]:
    """Every demo person's full name, identifiers and date of birth; a single first or
    last name too, unless the report's own wording uses that word (a surname such as
    "Young" is also in "Young people")."""
    found: list[str] = []
    for p in Offender.objects.all():
        found += [f"{p.first_name} {p.last_name}", f"{p.last_name}, {p.first_name}"]
        found += [p.first_name, p.last_name]
        found += [p.pnc_id or "", p.prison_number, p.crn, p.cro_number, p.local_ref]
        born = p.date_of_birth
        found += [born.isoformat(), f"{born:%d/%m/%Y}", f"{born.day} {born:%B %Y}"]
    for user in get_user_model().objects.exclude(first_name=""):
        found += [f"{user.first_name} {user.last_name}", user.first_name, user.last_name]
    return sorted({s for s in found if s and (" " in s or not s.isalpha() or s not in vocabulary)})


def test_the_demo_schemes_annual_report_has_every_section_its_figures_and_no_one_in_it():
    year = last_complete_year(timezone.localdate())
    first, last = dt.date(year, 4, 1), dt.date(year + 1, 3, 31)
    steering = get_user_model().objects.get(username="steering")

    requested = service.annual_report_request(user=steering, year=year, for_publication=False)
    report = service.annual_report_build(report_id=requested.pk)
    assert report.status == AnnualReportStatus.READY, report.error
    text = pdf_text(bytes(report.pdf))

    for heading in (*SECTION_HEADINGS, *CHART_TITLES):
        assert heading in text, heading
    assert f"Annual report {year}/{str(year + 1)[2:]}" in text

    cohort = Ni30Cohort.objects.get(year_starts_on=first)
    members = list(CohortMember.objects.filter(cohort=cohort).values_list("offender", flat=True))
    baseline = convictions(members, cohort.baseline_starts_on, cohort.baseline_ends_on, last)
    in_year = convictions(members, first, last, last)
    assert len(members) > 5 and baseline > 0
    assert f"Cohort members {len(members)} " in text
    since, until = (
        f"{d.day} {d:%B %Y}" for d in (cohort.baseline_starts_on, cohort.baseline_ends_on)
    )
    assert f"Convictions, baseline {since} to {until} {baseline} " in text
    assert f"Convictions, 1 April {year} to 31 March {year + 1} {in_year} " in text
    assert f"Change {percent(in_year, baseline)}" in text
    assert f"PPOs on the scheme on 31 March {year + 1} {people_on_scheme(last)} " in text
    assert f"Managed as a PPO at some point in the year {managed_in(first, last)} " in text

    leaks = [
        s
        for s in identifying_strings(report_vocabulary())
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(s)}(?![A-Za-z0-9])", text)
    ]
    assert leaks == []
