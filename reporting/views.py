"""Reports pages (issue 11 item 6): an index, NI30, the local measure, proven re-offending,
the scheme profile and refresh indicators, equality monitoring, the offending mix and
outcomes after de-selection — each with its "as at" date (a GOV.UK date input), SVG charts
drawn on the server (reporting.charts) with their data tables, and a CSV of the same
aggregates (reporting.csv_export, audited as a disclosure) — and the 004 self-assessment.
The selectors and services decide who sees and records what; a role that
may not is refused with a 403 (access.errors.Refused, audited by the handler)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from access.errors import ApplicationError, NotPermitted, Refused
from access.policy import Actor, actor_for
from access.submissions import Outcome, save_once

from . import charts, csv_export, profile, self_assessment, trends
from .csv_export import Section
from .forms import SelfAssessmentForm
from .measures.common import aggregate_reader, percent_text
from .measures.local_measure import local_measure
from .measures.ni30 import ni30_figures
from .measures.reoffending import proven_reoffending
from .profile import Table

REPORTS = "reporting.reports"


def _refuse(error: NotPermitted) -> Refused:
    return Refused(REPORTS, "", error.message)


@dataclass(frozen=True)
class Problem:
    """One line of the error summary: the field it links to and the message."""

    field: str
    message: str


@dataclass
class DateInput:
    """A GOV.UK date input (day, month, year) as typed, for showing it again."""

    name: str
    legend: str
    hint: str
    day: str = ""
    month: str = ""
    year: str = ""
    error: str = ""


def _date_input(
    request: HttpRequest,
    name: str,
    legend: str,
    problems: list[Problem],
    *,
    hint: str = "For example, 31 3 2026",
    default: dt.date | None = None,
    not_after: dt.date | None = None,
) -> tuple[dt.date | None, DateInput]:
    """Read `name-day`, `name-month`, `name-year` (or `name` as YYYY-MM-DD, for links);
    a bad or future date is a problem for the error summary, never a 500."""
    field = DateInput(name, legend, hint)
    parts = [request.GET.get(f"{name}-{p}", "").strip() for p in ("day", "month", "year")]
    iso = request.GET.get(name, "").strip()
    day: dt.date | None = None
    if any(parts):
        field.day, field.month, field.year = parts
        if not all(parts):
            missing = [p for p, v in zip(("day", "month", "year"), parts, strict=True) if not v]
            field.error = f"{legend} must include a {' and a '.join(missing)}"
        else:
            try:
                day = dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
            except ValueError:
                field.error = f"{legend} must be a real date"
            else:
                if day.year < 1900:
                    field.error, day = f"{legend} must be a year after 1900, like 2026", None
    elif iso:
        try:
            day = dt.date.fromisoformat(iso)
        except ValueError:
            field.error = f"{legend} must be a real date, such as 31 3 2026"
    else:
        day = default
    if day is not None and not field.error and not_after is not None and day > not_after:
        field.error = (
            f"{legend} is in the future: reports are for today or an earlier day, "
            "on the facts recorded by then"
        )
    if field.error:
        problems.append(Problem(f"{name}-day", field.error))
        day = None
    if day is not None and not any(parts):
        field.day, field.month, field.year = str(day.day), str(day.month), str(day.year)
    return day, field


def _typed(request: HttpRequest, name: str, legend: str) -> DateInput:
    parts = [request.GET.get(f"{name}-{p}", "").strip() for p in ("day", "month", "year")]
    return DateInput(name, legend, "Optional", *parts)


def _year_input(request: HttpRequest, problems: list[Problem], legend: str) -> int | None:
    text = request.GET.get("year", "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1990 <= int(text) <= 2999:
        problems.append(Problem("year", f"{legend} must be a year, like 2025"))
        return None
    return int(text)


def _reader(request: HttpRequest) -> Actor:
    actor = actor_for(request.user)
    try:
        aggregate_reader(actor, actor.as_of)
    except NotPermitted as error:
        raise _refuse(error) from None
    return actor


Build = Callable[[Actor, HttpRequest, list[Problem], dict[str, Any]], list[Section]]


def _report_page(
    request: HttpRequest, *, report: str, title: str, template: str, build: Build
) -> HttpResponse:
    """A reports page: the "as at" picker, the page's own inputs and figures, and the same
    figures as a CSV (`?format=csv`) once the inputs are good."""
    actor = _reader(request)
    problems: list[Problem] = []
    as_of, as_of_input = _date_input(
        request, "as_of", "As at", problems, default=actor.as_of, not_after=actor.as_of
    )
    query = request.GET.copy()
    query["format"] = "csv"
    context: dict[str, Any] = {
        "title": title,
        "as_of": as_of,
        "as_of_input": as_of_input,
        "problems": problems,
        "csv_query": query.urlencode(),
        # Shown again as typed if the "as at" day is wrong (the page's own code replaces them).
        "from_input": _typed(request, "from", "Period from"),
        "to_input": _typed(request, "to", "Period to"),
    }
    sections: list[Section] = []
    reader: Actor | None = None
    if as_of is not None:
        try:
            reader = aggregate_reader(actor, as_of)
            sections = build(reader, request, problems, context)
        except NotPermitted as error:
            raise _refuse(error) from None
        except ApplicationError as error:
            problems.append(Problem(context.get("problem_field", "as_of-day"), error.message))
    context["has_figures"] = bool(sections) and not problems
    if request.GET.get("format") == "csv" and reader is not None and context["has_figures"]:
        return csv_export.csv_download(
            actor=reader,
            report=report,
            title=f"{title}, {reader.as_of:%-d %B %Y}",
            sections=sections,
            detail={k: str(v) for k, v in request.GET.items() if k != "format"},
        )
    return render(request, template, context)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    def build(
        actor: Actor, request: HttpRequest, problems: list[Problem], context: dict[str, Any]
    ) -> list[Section]:
        headline: list[tuple[str, str, str]] = []
        found = profile.scheme_profile(user=actor, as_of=actor.as_of)
        headline.append(("PPOs on the scheme", found.total.text, "profile"))
        try:
            ni30 = ni30_figures(user=actor, as_of=actor.as_of)
        except ApplicationError as error:
            headline.append(("NI30 cohort convictions, change on the baseline", error.message, ""))
        else:
            change = percent_text(ni30.change_percent)
            headline.append(
                (f"NI30 {ni30.year} convictions, change on the baseline", change, "ni30")
            )
        again = proven_reoffending(user=actor, as_of=actor.as_of).this_year
        rate = percent_text(again.rate_percent)
        headline.append((f"Proven re-offending {again.year}", rate, "reoffending"))
        context["headline"] = headline
        context["ppos_chart"] = trends.ppos_per_week(user=actor, as_of=actor.as_of)
        return [
            csv_export.from_figures("Headline figures", [(h[0], h[1]) for h in headline]),
            csv_export.from_chart(context["ppos_chart"]),
        ]

    return _report_page(
        request, report="summary", title="Reports", template="reporting/index.html", build=build
    )


@login_required
@require_GET
def ni30_view(request: HttpRequest) -> HttpResponse:
    def build(
        actor: Actor, request: HttpRequest, problems: list[Problem], context: dict[str, Any]
    ) -> list[Section]:
        year = _year_input(request, problems, "The cohort year")
        context["year"] = request.GET.get("year", "")
        if problems:
            return []
        context["problem_field"] = "year"
        figures = ni30_figures(user=actor, as_of=actor.as_of, year=year)
        context["ni30"] = figures
        by_year = trends.ni30_by_year(user=actor, as_of=actor.as_of)
        charges = trends.cohort_charges_per_week(user=actor, as_of=actor.as_of)
        context["charts"] = [c for c in (by_year, charges) if c is not None]
        change = percent_text(figures.change_percent)
        rows: list[tuple[str, object]] = [
            ("Cohort year", figures.year),
            ("Counted to", figures.counted_to.isoformat()),
            ("Baseline", f"{figures.baseline_starts_on} to {figures.baseline_ends_on}"),
            ("Members", figures.members),
            ("Members on the scheme", figures.members_on_scheme),
            ("Members de-selected (still tracked)", figures.members_off_scheme),
            ("Convictions in the baseline", figures.baseline_convictions),
            ("Convictions in the cohort year", figures.year_convictions),
            ("Change", change),
        ]
        if figures.target_reduction_percent is not None:
            rows.append(("Target reduction", f"{figures.target_reduction_percent}%"))
        return [
            csv_export.from_figures(f"NI30 {figures.year}", rows),
            *(csv_export.from_chart(c) for c in context["charts"]),
        ]

    return _report_page(
        request, report="ni30", title="NI30 cohort", template="reporting/ni30.html", build=build
    )


@login_required
@require_GET
def local_measure_view(request: HttpRequest) -> HttpResponse:
    def build(
        actor: Actor, request: HttpRequest, problems: list[Problem], context: dict[str, Any]
    ) -> list[Section]:
        group = request.GET.get("group", "cohort")
        if group not in ("cohort", "period"):
            group = "cohort"
        context["group"] = group
        context["year"] = request.GET.get("year", "")
        year = _year_input(request, problems, "The cohort year") if group == "cohort" else None
        date_from, from_input = _date_input(
            request, "from", "Selected from", problems, hint="For example, 1 4 2025"
        )
        date_to, to_input = _date_input(
            request, "to", "Selected to", problems, hint="For example, 31 3 2026"
        )
        context["from_input"], context["to_input"] = from_input, to_input
        if group == "period" and not problems and (date_from is None or date_to is None):
            problems.append(Problem("from-day", "Enter the first and the last day of selection"))
        if problems:
            return []
        context["problem_field"] = "year" if group == "cohort" else "from-day"
        period: dict[str, Any] = (
            {"date_from": date_from, "date_to": date_to} if group == "period" else {}
        )
        found = local_measure(user=actor, as_of=actor.as_of, cohort=year, **period)
        context["measure"] = found

        return [
            csv_export.from_figures(
                found.group,
                [
                    ("People in the group", found.people),
                    ("People measured (12 months after entry ended)", found.people_measured),
                    ("People with less than 12 months", found.people_not_yet_12_months),
                    ("Charges in the 12 months before entry", found.charges_before),
                    ("Charges in the 12 months after entry", found.charges_after),
                    ("Reduction", percent_text(found.reduction_percent)),
                    (
                        f"Target after {found.target_years} year(s)",
                        percent_text(found.target_reduction_percent),
                    ),
                    (f"Charges in {found.projection_year} so far", found.charges_in_year),
                    ("Months counted", found.months_counted),
                    (
                        "Projected charges for the year",
                        "–" if found.projected_charges is None else found.projected_charges,
                    ),
                    ("Projected reduction", percent_text(found.projected_reduction_percent)),
                ],
            )
        ]

    return _report_page(
        request,
        report="local-measure",
        title="The local measure",
        template="reporting/local_measure.html",
        build=build,
    )


@login_required
@require_GET
def reoffending_view(request: HttpRequest) -> HttpResponse:
    def build(
        actor: Actor, request: HttpRequest, problems: list[Problem], context: dict[str, Any]
    ) -> list[Section]:
        year = _year_input(request, problems, "The financial year")
        context["year"] = request.GET.get("year", "")
        if problems:
            return []
        context["problem_field"] = "year"
        found = proven_reoffending(user=actor, as_of=actor.as_of, year=year)
        context["reoffending"] = found
        context["chart"] = trends.reoffending_by_year(user=actor, as_of=actor.as_of)

        def rows(y: Any) -> list[tuple[str, object]]:

            return [
                ("Complete (six months after the year)", "yes" if y.complete else "no"),
                ("Managed as a PPO in the year", y.managed),
                ("With a proven re-offence", y.reoffenders),
                ("Re-offending rate", percent_text(y.rate_percent)),
                ("Proven re-offences", y.reoffences),
                ("Offences per re-offender", y.offences_per_reoffender or "–"),
                ("Share of all offenders", percent_text(y.share_of_offenders_percent)),
                ("Share of all proven re-offences", percent_text(y.share_of_reoffences_percent)),
            ]

        points = "–" if found.change_points is None else f"{found.change_points} points"
        return [
            csv_export.from_figures(
                f"Proven re-offending {found.this_year.year}", rows(found.this_year)
            ),
            csv_export.from_figures(
                f"Proven re-offending {found.last_year.year}", rows(found.last_year)
            ),
            csv_export.from_figures(
                "Change and profile at identification",
                [
                    ("Change in the rate on last year", points),
                    ("People identified in the year", found.profile.people),
                    (
                        "Average convictions before identification",
                        found.profile.average_convictions_before or "–",
                    ),
                    ("Average age at identification", found.profile.average_age or "–"),
                ],
            ),
            csv_export.from_chart(context["chart"]),
        ]

    return _report_page(
        request,
        report="reoffending",
        title="Proven re-offending",
        template="reporting/reoffending.html",
        build=build,
    )


def _period_inputs(
    request: HttpRequest, problems: list[Problem], context: dict[str, Any]
) -> dict[str, Any]:
    date_from, from_input = _date_input(
        request, "from", "Period from", problems, hint="Optional. Default: 1 April of the year"
    )
    date_to, to_input = _date_input(
        request, "to", "Period to", problems, hint="Optional. Default: the “as at” day"
    )
    context["from_input"], context["to_input"] = from_input, to_input
    return {"date_from": date_from, "date_to": date_to}


def _tables(*tables: Table) -> list[Section]:
    return [csv_export.from_table(t) for t in tables]


@login_required
@require_GET
def scheme_profile_view(request: HttpRequest) -> HttpResponse:
    def build(
        actor: Actor, request: HttpRequest, problems: list[Problem], context: dict[str, Any]
    ) -> list[Section]:
        kwargs: dict[str, Any] = {"user": actor, "as_of": actor.as_of}
        found = context["profile"] = profile.scheme_profile(**kwargs)
        refresh = context["refresh"] = profile.refresh_indicators(**kwargs)
        chart = context["ppos_chart"] = trends.ppos_per_week(**kwargs)
        return [
            csv_export.from_figures(
                "The caseload",
                [
                    (found.total.label, found.total.text),
                    (found.average_age.label, found.average_age.text),
                ],
            ),
            *_tables(
                found.by_age_and_sex,
                found.supervision,
                found.adults_in_dip,
                found.community_custody,
                refresh.time_on_programme,
                refresh.convictions_last_12_months,
                refresh.sentences,
            ),
            csv_export.from_figures(
                "Custody and capacity",
                [
                    (
                        "Share in custody",
                        percent_text(refresh.custody_share),
                    ),
                    ("On the scheme", refresh.capacity.on_scheme),
                    ("In the community", refresh.capacity.in_community),
                ],
            ),
            csv_export.from_chart(chart),
        ]

    return _report_page(
        request,
        report="profile",
        title="Scheme profile and refresh indicators",
        template="reporting/profile.html",
        build=build,
    )


@login_required
@require_GET
def equality_view(request: HttpRequest) -> HttpResponse:
    def build(
        actor: Actor, request: HttpRequest, problems: list[Problem], context: dict[str, Any]
    ) -> list[Section]:
        period = _period_inputs(request, problems, context)
        if problems:
            return []
        found = context["equality"] = profile.equality_monitoring(
            user=actor, as_of=actor.as_of, **period
        )
        return _tables(
            found.caseload_by_sex,
            found.caseload_by_ethnicity,
            found.caseload_by_age,
            found.outcomes_by_sex,
            found.outcomes_by_ethnicity,
            found.outcomes_by_age,
            found.needs,
        )

    return _report_page(
        request,
        report="equality",
        title="Equality monitoring",
        template="reporting/equality.html",
        build=build,
    )


@login_required
@require_GET
def offending_mix_view(request: HttpRequest) -> HttpResponse:
    def build(
        actor: Actor, request: HttpRequest, problems: list[Problem], context: dict[str, Any]
    ) -> list[Section]:
        period = _period_inputs(request, problems, context)
        if problems:
            return []
        mix = context["mix"] = profile.offending_mix(user=actor, as_of=actor.as_of, **period)
        lines = [*mix.quarters, mix.whole_period]

        context["mix_chart"] = charts.bar_chart(
            chart_id="acquisitive-share",
            title="Serious acquisitive crime, share of offences charged",
            description=(
                "The share of offences charged to PPOs that were serious acquisitive crime, "
                f"each quarter of {mix.period.label}"
            ),
            categories=[q.period.label for q in mix.quarters],
            series=[
                charts.Series(
                    "Serious acquisitive", tuple(q.acquisitive_share for q in mix.quarters)
                )
            ],
            label_heading="Quarter",
            unit="%",
            y_label="Per cent",
        )
        quarters = Section(
            title="Serious acquisitive crime and local priority crimes",
            header=(
                "Period",
                "Offences charged",
                "Serious acquisitive",
                "Share",
                "Local priority crimes",
                "Share",
            ),
            rows=tuple(
                (
                    "Whole period" if line is mix.whole_period else line.period.label,
                    str(line.offences),
                    str(line.acquisitive),
                    percent_text(line.acquisitive_share),
                    str(line.priority),
                    percent_text(line.priority_share),
                )
                for line in lines
            ),
        )
        return [*_tables(mix.by_category), quarters]

    return _report_page(
        request,
        report="offending-mix",
        title="Offending mix",
        template="reporting/offending_mix.html",
        build=build,
    )


@login_required
@require_GET
def outcomes_view(request: HttpRequest) -> HttpResponse:
    def build(
        actor: Actor, request: HttpRequest, problems: list[Problem], context: dict[str, Any]
    ) -> list[Section]:
        period = _period_inputs(request, problems, context)
        if problems:
            return []
        found = context["outcomes"] = profile.deselection_outcomes(
            user=actor, as_of=actor.as_of, **period
        )
        arrest_free = Section(
            title="No arrest after de-selection",
            header=("Within", "Followed that long", "Not arrested", "Share", "Not yet that long"),
            rows=tuple(
                (
                    f"{row.months} months",
                    str(row.followed),
                    str(row.arrest_free),
                    percent_text(row.share),
                    str(row.not_yet),
                )
                for row in found.arrest_free
            ),
        )
        return [
            csv_export.from_figures(
                "De-selected in the period", [("PPOs de-selected", found.exits)]
            ),
            arrest_free,
            *_tables(found.reasons, found.exit_routes, found.exit_outcomes),
        ]

    return _report_page(
        request,
        report="deselection-outcomes",
        title="Outcomes after de-selection",
        template="reporting/outcomes.html",
        build=build,
    )


@login_required
@require_GET
def self_assessment_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        page = self_assessment.self_assessment_year(user=actor, year=request.GET.get("year"))
    except NotPermitted as error:
        raise _refuse(error) from None
    except ApplicationError as error:
        page = self_assessment.self_assessment_year(user=actor)
        return render(
            request, "reporting/self_assessment.html", {"page": page, "problem": error.message}
        )
    return render(request, "reporting/self_assessment.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def self_assessment_edit(request: HttpRequest, year: int, subsection: str) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        row = self_assessment.self_assessment_subsection(
            user=actor, year=year, subsection=subsection
        )
    except NotPermitted as error:
        raise _refuse(error) from None
    except ApplicationError:
        from access.errors import OutOfScope

        raise OutOfScope("reporting.selfassessment", f"{year}/{subsection}") from None
    current = row.this_year
    form = SelfAssessmentForm(
        request.POST if request.method == "POST" else None,
        initial={
            "version": current.version if current else 0,
            "rag": current.rag if current else "",
            "evidence": current.evidence if current else "",
        },
    )
    stale = None
    list_url = f"{reverse('reporting:self-assessment')}?year={year}"
    if request.method == "POST" and form.is_valid():

        def save() -> Outcome:
            saved = self_assessment.self_assessment_record(
                user=actor,
                year=year,
                subsection=subsection,
                rag=form.cleaned_data["rag"],
                evidence=form.cleaned_data["evidence"],
                version=form.cleaned_data["version"],
            )
            return Outcome(
                f"{list_url}#subsection-{subsection}",
                f"{subsection} rated {saved.get_rag_display().lower()}",
            )

        try:
            assert form.token is not None  # a valid form has its token
            outcome = save_once(user=request.user, token=form.token, save=save)
        except NotPermitted as error:
            raise _refuse(error) from None
        except self_assessment.StaleAssessment as error:
            stale = error.current
            form.add_error(None, error.message)
        except ApplicationError as error:
            placed = False
            for name, errors in error.field_errors.items():
                if form.place_field(name):
                    form.add_error(name, errors)
                    placed = True
            if not placed:
                form.add_error(None, error.message)
        else:
            (messages.info if outcome.repeated else messages.success)(request, outcome.message)
            return redirect(outcome.url)
    return render(
        request,
        "reporting/self_assessment_edit.html",
        {
            "form": form,
            "row": row,
            "year": year,
            "year_label": self_assessment.year_label(year),
            "stale": stale,
            "list_url": list_url,
        },
    )
