"""The steering group's PDF annual report (issue 11 item 7): requested on a page, made by a
Celery task section by section with visible progress, kept, and downloaded again later.

**Who**: the roles that see the scheme's figures (access.policy.can_see_aggregates: the
steering group and PPO managers). The report is made with the requester's role as it is
when it is made, for the facts recorded by its "as at" day (the year's last day, or the
day it was asked for while the year runs): the reader's role is today's, the figures'
day is the report's (an `Actor` built with that day, so every measure keeps it).

**What it says** (sections, in order): the scheme and its team; caseload and flows;
performance (NI30, the local measure, proven re-offending); refresh indicators; pathway
needs and gaps; the premium service's standards; the self-assessment. Every figure comes
from the same functions the reports pages and `manage.py report` use; none is worked out
here. A section that cannot be worked out (no confirmed NI30 cohort for the year, say)
says why and the rest of the report is made.

**Nobody identifiable** (ACCESS.md "Aggregates and small numbers"): no person's name,
initials, identifier or date of birth appears, and no member of staff is named either —
the team is its agencies and a count of staff per role, the self-assessment its ratings
without the evidence text (free text that may name someone). De-registrations are told
as age band, time on the scheme, reason, exit route and outcome, never a date, ordered
by those and not by when. The report "for publication" passes `for_publication=True` to
the profile functions, suppresses every count of 1 to 4 of its own figures through
`access.disclosure.protect` (complementarily where counts add up), hides a percentage
whenever a count it is worked from is hidden, and leaves the de-registration stories out.

**Kept** in the database (reporting.models.AnnualReport.pdf). Downloading is audited as a
disclosure to the downloader's agency (access.audit, `AuditAction.DISCLOSE`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Count, Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone

from access import audit
from access.disclosure import CONFIDENTIAL, CONFIDENTIAL_NOTE, Relation, Shown, protect
from access.errors import ApplicationError, NotPermitted, OutOfScope
from access.models import AuditAction, Membership, Role, Scheme
from access.policy import (
    Actor,
    as_actor,
    can_see_aggregates,
    people_for_counting,
    system_actor,
)
from ppo_case.pdf import render_pdf

from . import profile
from .charts import Chart, Series, bar_chart
from .measures.common import (
    financial_year_of,
    long_date,
    percent_text,
    year_ends_on,
    year_label,
    year_starts_on,
)
from .models import AnnualReport, AnnualReportStatus
from .profile import Line, Table

log = logging.getLogger(__name__)

REPORT = "reporting.annualreport"
# The earliest year offered: ten years back (the scheme keeps records that long).
YEARS_OFFERED = 10


# --- Who may ----------------------------------------------------------------------------------


def may_use_annual_reports(actor: Actor) -> bool:
    return can_see_aggregates(actor)


def _reader(user: Any) -> Actor:
    actor = as_actor(user)
    if not may_use_annual_reports(actor):
        raise NotPermitted("Only the steering group and PPO managers get the annual report")
    return actor


def years_offered(*, user: Any) -> list[int]:
    """The financial years a report can be asked for: this one and the ten before it."""
    actor = _reader(user)
    this_year = financial_year_of(actor.as_of)
    return list(range(this_year, this_year - YEARS_OFFERED - 1, -1))


# --- Reads ------------------------------------------------------------------------------------


def annual_report_list(*, user: Any) -> list[AnnualReport]:
    """Every report asked for, newest first, without their bytes (one query)."""
    _reader(user)
    return list(AnnualReport.objects.defer("pdf").select_related("requested_by"))


def annual_report_get(*, user: Any, report_id: Any) -> AnnualReport:
    """One report for its progress page, without its bytes; 404 (audited) if none."""
    actor = _reader(user)
    report = AnnualReport.objects.defer("pdf").filter(pk=_pk(report_id)).first()
    if report is None:
        audit.denied(actor, REPORT, report_id, "no such annual report")
        raise OutOfScope(REPORT, report_id)
    return report


def _pk(value: Any) -> int:
    """A record number, or 0 (which no row has) for anything else."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return 0
    return max(pk, 0)


def filename(report: AnnualReport) -> str:
    kind = "-for-publication" if report.for_publication else ""
    year = report.year_starts_on.year
    return f"ppo-annual-report-{year}-{(year + 1) % 100:02d}{kind}-as-at-{report.as_of}.pdf"


def annual_report_download(*, user: Any, report_id: Any) -> tuple[AnnualReport, bytes]:
    """A ready report's PDF, audited as a disclosure to the reader's agency."""
    actor = _reader(user)
    report = (
        AnnualReport.objects.filter(pk=_pk(report_id), status=AnnualReportStatus.READY)
        .exclude(pdf=None)
        .first()
    )
    if report is None:
        audit.denied(actor, REPORT, report_id, "no such annual report ready to download")
        raise OutOfScope(REPORT, report_id)
    audit.record(
        actor,
        AuditAction.DISCLOSE,
        record_type=REPORT,
        records=[report],
        recipient=actor.agency.name if actor.agency else "",
        detail={
            "document": "annual report",
            "year": report.year_label,
            "for_publication": report.for_publication,
            "as_of": report.as_of.isoformat(),
            "format": "pdf",
        },
    )
    return report, bytes(report.pdf or b"")


# --- Asking for one ---------------------------------------------------------------------------


def annual_report_request(*, user: Any, year: Any, for_publication: bool) -> AnnualReport:
    """Ask for the annual report of the financial year starting 1 April `year`; it is
    queued, and made by `reporting.tasks.build_annual_report` once this commits (in
    process when no broker is configured)."""
    actor = _reader(user)
    try:
        number = int(year)
    except (TypeError, ValueError):
        number = None
    if number is None or number not in years_offered(user=actor):
        message = "Choose a financial year from the list"
        raise ApplicationError(message, field_errors={"year": [message]})
    as_of = min(actor.as_of, year_ends_on(number))
    with transaction.atomic():
        report = AnnualReport(
            year_starts_on=year_starts_on(number),
            for_publication=bool(for_publication),
            as_of=as_of,
            requested_by=actor.user,
            step="Waiting to start",
        )
        report.full_clean(exclude=["pdf"])
        report.save()
        audit.altered(actor, AuditAction.CREATE, report)
        transaction.on_commit(lambda: _enqueue(report.pk))
    return report


def _enqueue(report_id: int) -> None:
    from .tasks import build_annual_report

    try:
        build_annual_report.delay(report_id)
    except Exception:  # the broker is down: say so on the progress page, not with a 500
        log.exception("Annual report %s could not be queued", report_id)
        _fail(
            report_id,
            "The report could not be queued: the task queue is not answering. Ask again later.",
        )


# --- Making it --------------------------------------------------------------------------------


def _save(report_id: int, **values: Any) -> None:
    """Progress written at once, outside any caller's transaction, so the progress page
    sees it while the rest is still being worked out."""
    AnnualReport.objects.filter(pk=report_id).update(**values)


def _fail(report_id: int, message: str) -> None:
    _save(
        report_id,
        status=AnnualReportStatus.FAILED,
        error=message[:500],
        step="Stopped",
        finished_at=timezone.now(),
    )


@dataclass
class Section:
    key: str
    title: str
    # Why the section, or a part of it, has no figures (e.g. no confirmed cohort).
    problems: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    stories: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass(frozen=True)
class Build:
    actor: Actor
    year: int
    as_of: dt.date
    first_day: dt.date
    for_publication: bool


def annual_report_build(
    *, report_id: int, on_step: Callable[[int, str], None] | None = None
) -> AnnualReport:
    """Make the report: each section in turn, its progress saved as it goes, then the PDF.

    A report already made is left as it is (a task delivered twice makes it once); one
    that was being made when its worker died is made again from the start. A refusal
    (the requester's role no longer sees figures) or an unexpected error marks it failed
    with a message; only a lost database connection is raised, for the task to retry."""
    report = AnnualReport.objects.defer("pdf").select_related("requested_by").get(pk=report_id)
    if report.status == AnnualReportStatus.READY:
        return report
    _save(
        report_id,
        status=AnnualReportStatus.RUNNING,
        progress=0,
        step="Starting",
        error="",
        started_at=timezone.now(),
        finished_at=None,
    )
    try:
        today = as_actor(report.requested_by)
        if not may_use_annual_reports(today):
            raise NotPermitted("The requester's role no longer sees the scheme's figures")
        # Today's role, the report's day (module docstring).
        actor = Actor(user=today.user, membership=today.membership, as_of=report.as_of)
        build = Build(
            actor=actor,
            year=report.year_starts_on.year,
            as_of=report.as_of,
            first_day=report.year_starts_on,
            for_publication=report.for_publication,
        )
        steps = len(SECTIONS) + 1
        sections = []
        for index, (title, make) in enumerate(SECTIONS):
            _save(report_id, progress=round(90 * index / steps), step=f"Working out: {title}")
            if on_step:
                on_step(index, title)
            sections.append(make(build))
        _save(report_id, progress=90, step="Making the PDF")
        html = annual_report_html(report, sections)
        pdf = render_pdf(html)
    except NotPermitted as error:
        _fail(report_id, error.message)
    except ApplicationError as error:
        _fail(report_id, error.message)
    except (OperationalError, InterfaceError):
        raise  # the connection, not the report: the task retries (selection.tasks)
    except Exception as error:
        log.exception("Annual report %s failed", report_id)
        _fail(
            report_id,
            f"The report could not be made because of an error in the system "
            f"({type(error).__name__}). It has been logged; ask again later.",
        )
    else:
        _save(
            report_id,
            status=AnnualReportStatus.READY,
            progress=100,
            step="Ready",
            pdf=pdf,
            pdf_size=len(pdf),
            finished_at=timezone.now(),
        )
    report.refresh_from_db()
    return report


def annual_report_html(report: AnnualReport, sections: Sequence[Section]) -> str:
    scheme = Scheme.current()
    return render_to_string(
        "reporting/annual_report_pdf.html",
        {
            "report": report,
            "scheme": scheme,
            "sections": sections,
            "year_label": report.year_label,
            "as_of_text": long_date(report.as_of),
            "year_first_day": long_date(report.year_starts_on),
            "generated_on": long_date(timezone.localdate()),
            "confidential_note": CONFIDENTIAL_NOTE,
        },
    )


# --- Small numbers in the report's own figures --------------------------------------------


class Counts:
    """The report's own counts, as they may be shown: exact, or for publication through
    access.disclosure.protect with the sums that link them (so none can be worked out)."""

    def __init__(
        self,
        for_publication: bool,
        counts: dict[str, int],
        relations: Sequence[tuple[str, Sequence[str]]] = (),
    ) -> None:
        items: dict[Hashable, int] = {}
        items.update(counts)
        if for_publication:
            linked = [Relation[Hashable](total, tuple(parts)) for total, parts in relations]
            shown = protect(items, linked)
            self.shown = {key: shown[key] for key in counts}
        else:
            self.shown = {key: Shown(n) for key, n in counts.items()}

    def __getitem__(self, key: str) -> Shown:
        return self.shown[key]

    def hidden(self, *keys: str) -> bool:
        return any(self.shown[key].hidden for key in keys)

    def percent(self, value: Decimal | None, *keys: str) -> str:
        """A percentage worked out from these counts: hidden with any of them."""
        if self.hidden(*keys):
            return CONFIDENTIAL
        return percent_text(value)

    def number(self, value: Decimal | None, *keys: str) -> str:
        if self.hidden(*keys):
            return CONFIDENTIAL
        return "–" if value is None else f"{value}"


def _figure_table(caption: str, rows: Sequence[tuple[str, Shown | str]], note: str = "") -> Table:
    lines = tuple(Line(label, (cell,)) for label, cell in rows)
    hidden = any(
        (isinstance(cell, Shown) and cell.hidden) or cell == CONFIDENTIAL for _, cell in rows
    )
    return Table(
        caption=caption,
        row_heading="Measure",
        columns=("Figure",),
        rows=lines,
        protected=True,
        any_hidden=hidden,
        note=" ".join(x for x in (note, CONFIDENTIAL_NOTE if hidden else "") if x),
    )


def _bar_from_table(
    table: Table, chart_id: str, title: str, description: str, column: int = 0
) -> Chart:
    """A bar chart of one column of a table the report shows (its data table is that table:
    charts.py, WCAG 1.1.1). Hidden counts stay hidden ("[c]", no bar)."""
    rows = [line for line in table.rows if not line.is_total]
    return bar_chart(
        chart_id=chart_id,
        title=title,
        description=description,
        categories=[line.label for line in rows],
        series=[
            Series(
                table.columns[column],
                tuple(_count_cell(line.cells[column]) for line in rows),
            )
        ],
        label_heading=table.row_heading,
    )


def _count_cell(cell: Shown | str) -> Shown | None:
    return cell if isinstance(cell, Shown) else None


def _try(section: Section, what: str, make: Callable[[], Any]) -> Any:
    """A part of a section, or None and the reason it has no figures."""
    try:
        return make()
    except NotPermitted:
        raise
    except ApplicationError as error:
        section.problems.append(f"{what}: {error.message}")
        return None


# --- The sections ---------------------------------------------------------------------------


def scheme_and_team(build: Build) -> Section:
    """The scheme, its capacity and its team: the agencies and how many staff each has in
    each role on the day. No one is named (module docstring)."""
    section = Section("scheme", "The scheme and its team")
    scheme = Scheme.current()
    section.paragraphs.append(
        f"{scheme.name} covers {scheme.area}. Its capacity is {scheme.capacity_min} to "
        f"{scheme.capacity_max} PPOs; guidance asks at least 15 to 20 in smaller areas and "
        "60 to 100 in larger ones to be tackled in the community (003 §4.3)."
    )
    rows = list(
        Membership.objects.active_on(build.as_of)
        .filter(agency__active=True)
        .exclude(role=Role.ADMINISTRATOR)
        .values_list("agency__name", "role")
        .annotate(n=Count("pk"))
        .order_by("agency__name", "role")
    )
    roles = [(value, str(label)) for value, label in Role.choices if value != Role.ADMINISTRATOR]
    agencies = sorted({name for name, _, _ in rows})
    if build.for_publication:
        # Published: per role across the agencies, small counts suppressed.
        per_role = {value: 0 for value, _ in roles}
        for _, role, n in rows:
            per_role[role] += n
        section.tables.append(
            profile.breakdown(
                caption=f"Staff of the scheme's agencies on {long_date(build.as_of)}, by role",
                row_heading="Role",
                labels=[label for _, label in roles],
                counts=[per_role[value] for value, _ in roles],
                protected=True,
                total_label="All staff",
                total_fixed=False,
                with_share=False,
            )
        )
        section.paragraphs.append("The agencies: " + (", ".join(agencies) or "none") + ".")
        return section
    found = {(name, role): n for name, role, n in rows}
    used = [(value, label) for value, label in roles if any(r == value for _, r, _ in rows)]
    lines = [
        Line(name, tuple(Shown(found.get((name, value), 0)) for value, _ in used))
        for name in agencies
    ]
    lines.append(
        Line(
            "All agencies",
            tuple(Shown(sum(n for _, r, n in rows if r == value)) for value, _ in used),
            is_total=True,
        )
    )
    section.tables.append(
        Table(
            caption=f"Staff of each agency on {long_date(build.as_of)}, by role",
            row_heading="Agency",
            columns=tuple(label for _, label in used),
            rows=tuple(lines),
            protected=False,
            any_hidden=False,
            note="Staff with access to the case management system; no one is named.",
        )
    )
    return section


def caseload_and_flows(build: Build) -> Section:
    """The caseload on the day, who was selected and de-selected in the year, why and how
    they left, and the de-registrations told so that no one can be recognised."""
    from offenders.models import ProgrammeEpisode, ProgrammeKind

    section = Section("caseload", "Caseload and flows")
    actor, publication = build.actor, build.for_publication
    scheme = profile.scheme_profile(user=actor, as_of=build.as_of, for_publication=publication)
    section.figures.append(("PPOs on the scheme on " + long_date(build.as_of), scheme.total.text))
    section.tables += [scheme.by_age_and_sex, scheme.community_custody, scheme.supervision]
    section.figures.append((scheme.average_age.label, scheme.average_age.text))
    people = people_for_counting(actor)
    episodes = ProgrammeEpisode.objects.filter(kind=ProgrammeKind.PPO, offender__in=people)
    selected = episodes.filter(
        selected_on__gte=build.first_day, selected_on__lte=build.as_of
    ).count()
    outcomes = profile.deselection_outcomes(
        user=actor, as_of=build.as_of, date_from=build.first_day, for_publication=publication
    )
    flows = Counts(publication, {"selected": selected, "deselected": outcomes.exits})
    period = f"{long_date(build.first_day)} to {long_date(build.as_of)}"
    section.tables.append(
        _figure_table(
            f"Flows on and off the scheme, {period}",
            [
                ("Selected onto the PPO scheme", flows["selected"]),
                ("De-selected from the PPO scheme", flows["deselected"]),
            ],
        )
    )
    section.tables += [outcomes.reasons, outcomes.exit_routes, outcomes.exit_outcomes]
    for free in outcomes.arrest_free:
        shown = Counts(
            publication,
            {
                "followed": free.followed,
                "free": free.arrest_free,
                "not": free.followed - free.arrest_free,
            },
            [("followed", ("free", "not"))],
        )
        section.figures.append(
            (
                f"Arrest-free for {free.months} months after leaving (of those whose "
                f"{free.months} months have passed)",
                f"{shown['free']} of {shown['followed']} "
                f"({shown.percent(free.share, 'free', 'followed')})",
            )
        )
    section.charts.append(
        _bar_from_table(
            outcomes.reasons,
            "chart-deselection-reasons",
            "Reasons for de-selection",
            f"How many PPOs were de-selected for each reason, {period}.",
        )
    )
    if publication:
        section.paragraphs.append(
            "Individual de-registrations are not described in the version for publication."
        )
    elif outcomes.exits > STORIES_AT_MOST:
        section.paragraphs.append(
            f"{outcomes.exits:,} PPOs were de-registered in the year: too many to describe "
            "one by one (a story each is given for up to "
            f"{STORIES_AT_MOST}); the tables above give them by reason, exit route and "
            "outcome."
        )
    else:
        section.stories = deregistration_stories(build)
    return section


# A local scheme de-registers a few dozen people a year (001 §5.4: 40 to 60 PPOs); a
# force-wide caseload thousands, which would fill scores of pages one line each.
STORIES_AT_MOST = 40


def deregistration_stories(build: Build) -> list[str]:
    """Each de-registration in the year as age band, time on the scheme, reason, exit route
    and outcome: no name, initials, identifier or date (issue 11 item 7). Ordered by those
    words, so the order says nothing about when. One query."""
    from offenders.models import (
        DeselectionReason,
        EventKind,
        ExitRoute,
        OffendingEvent,
        ProgrammeEpisode,
        ProgrammeKind,
    )

    from .measures.common import AddMonths

    rows = (
        ProgrammeEpisode.objects.filter(
            kind=ProgrammeKind.PPO,
            deselected_on__gte=build.first_day,
            deselected_on__lte=build.as_of,
            offender__in=people_for_counting(build.actor),
        )
        .annotate(
            arrested=Exists(
                OffendingEvent.objects.filter(
                    offender_id=OuterRef("offender_id"),
                    kind=EventKind.ARREST,
                    occurred_on__gte=OuterRef("deselected_on"),
                    occurred_on__lt=AddMonths(OuterRef("deselected_on"), 6),
                    recorded_on__lte=build.as_of,
                )
            )
        )
        .values_list(
            "selected_on",
            "deselected_on",
            "deselection_reason",
            "exit_route",
            "arrested",
            "offender__date_of_birth",
        )
    )
    reasons, routes = dict(DeselectionReason.choices), dict(ExitRoute.choices)
    stories = []
    for selected_on, deselected_on, reason, route, arrested, born in rows:
        assert deselected_on is not None  # filtered on it above
        band = profile.AGE_BANDS[profile.age_band(profile.age_on(born, deselected_on))][0]
        years = (deselected_on - selected_on).days // 365
        time_on = "under a year" if years < 1 else f"about {years} year{'s' if years > 1 else ''}"
        if profile.arrest_window_ends(deselected_on, 6) > build.as_of:
            outcome = "the six months since are not over yet"
        elif arrested:
            outcome = "arrested again within six months"
        else:
            outcome = "not arrested in the six months after"
        stories.append(
            f"A person aged {band.lower()} at the time, on the scheme for {time_on}: "
            f"{str(reasons.get(reason, 'reason not recorded')).lower()}; exit route "
            f"{routes.get(route, 'not recorded')!s}; {outcome}."
        )
    return sorted(stories)


def performance(build: Build) -> Section:
    """NI30 (003 §2.5), the local measure (001 §5.1–5.2) and proven re-offending (004)."""
    from .measures.local_measure import local_measure
    from .measures.ni30 import ni30_figures
    from .measures.reoffending import proven_reoffending

    section = Section("performance", "Performance")
    actor, publication, year = build.actor, build.for_publication, build.year
    ni30 = _try(section, "NI30", lambda: ni30_figures(user=actor, as_of=build.as_of, year=year))
    if ni30 is not None:
        c = Counts(
            publication,
            {
                "members": ni30.members,
                "on": ni30.members_on_scheme,
                "off": ni30.members_off_scheme,
                "baseline": ni30.baseline_convictions,
                "year": ni30.year_convictions,
            },
            [("members", ("on", "off"))],
        )
        target = ni30.target_reduction_percent
        section.tables.append(
            _figure_table(
                f"NI30: the {ni30.year} cohort's convictions against its baseline",
                [
                    ("Cohort members", c["members"]),
                    ("Members on the scheme on the day", c["on"]),
                    ("Members de-selected, still tracked", c["off"]),
                    (
                        f"Convictions, baseline {long_date(ni30.baseline_starts_on)} to "
                        f"{long_date(ni30.baseline_ends_on)}",
                        c["baseline"],
                    ),
                    (
                        f"Convictions, {long_date(ni30.year_starts_on)} to "
                        f"{long_date(ni30.counted_to)}",
                        c["year"],
                    ),
                    ("Change", c.percent(ni30.change_percent, "baseline", "year")),
                    ("Target reduction", f"{target}%" if target is not None else "None set"),
                    (
                        "Target met",
                        "Not applicable"
                        if ni30.target_met is None
                        else (
                            CONFIDENTIAL
                            if c.hidden("baseline", "year")
                            else ("Yes" if ni30.target_met else "No")
                        ),
                    ),
                ],
                note="" if ni30.year_complete else "The year is not over: its figures so far.",
            )
        )
    local = _try(
        section,
        "The local measure",
        lambda: local_measure(user=actor, as_of=build.as_of, cohort=year),
    )
    if local is not None:
        c = Counts(
            publication,
            {
                "people": local.people,
                "measured": local.people_measured,
                "waiting": local.people_not_yet_12_months,
                "before": local.charges_before,
                "after": local.charges_after,
                "in_year": local.charges_in_year,
            },
            [("people", ("measured", "waiting"))],
        )
        section.tables.append(
            _figure_table(
                f"The local measure (001 §5.1–5.2): {local.group}",
                [
                    ("People in the group", c["people"]),
                    ("Measured (12 months on the scheme ended)", c["measured"]),
                    ("Not yet 12 months on", c["waiting"]),
                    ("Charges in the 12 months before entry", c["before"]),
                    ("Charges in the 12 months after entry", c["after"]),
                    ("Reduction", c.percent(local.reduction_percent, "before", "after")),
                    (
                        f"Target (a further {local.further_percent_a_year}% a year)",
                        c.percent(local.target_reduction_percent, "before", "after"),
                    ),
                    (
                        f"Charges in {local.projection_year} so far "
                        f"({local.months_counted} whole months)",
                        c["in_year"],
                    ),
                    (
                        "Projected for the whole year",
                        c.number(local.projected_charges, "in_year"),
                    ),
                    (
                        "Projected reduction on the baseline",
                        c.percent(local.projected_reduction_percent, "in_year", "before"),
                    ),
                ],
            )
        )
    reoffending = _try(
        section,
        "Proven re-offending",
        lambda: proven_reoffending(user=actor, as_of=build.as_of, year=year),
    )
    if reoffending is not None:
        this, last = reoffending.this_year, reoffending.last_year
        c = Counts(
            publication,
            {
                "managed": this.managed,
                "re": this.reoffenders,
                "not": this.managed - this.reoffenders,
                "offences": this.reoffences,
                "last_managed": last.managed,
                "last_re": last.reoffenders,
                "last_not": last.managed - last.reoffenders,
                "profiled": reoffending.profile.people,
            },
            [("managed", ("re", "not")), ("last_managed", ("last_re", "last_not"))],
        )
        profiled_hidden = publication and reoffending.profile.people < 5
        section.tables.append(
            _figure_table(
                f"Proven re-offending (004), {this.year}",
                [
                    ("Managed as a PPO at some point in the year", c["managed"]),
                    ("With a proven re-offence", c["re"]),
                    ("Proven re-offending rate", c.percent(this.rate_percent, "re", "managed")),
                    (
                        f"Last year ({last.year})",
                        c.percent(last.rate_percent, "last_re", "last_managed"),
                    ),
                    (
                        "Change on last year (percentage points)",
                        c.number(reoffending.change_points, "re", "managed", "last_re"),
                    ),
                    ("Proven re-offences", c["offences"]),
                    (
                        "Offences per re-offender",
                        c.number(this.offences_per_reoffender, "offences", "re"),
                    ),
                    (
                        "Share of all offenders",
                        c.percent(this.share_of_offenders_percent, "managed"),
                    ),
                    (
                        "Share of all proven re-offences",
                        c.percent(this.share_of_reoffences_percent, "offences"),
                    ),
                    (
                        "Average convictions at identification",
                        CONFIDENTIAL
                        if profiled_hidden
                        else c.number(reoffending.profile.average_convictions_before),
                    ),
                    (
                        "Average age at identification",
                        CONFIDENTIAL
                        if profiled_hidden
                        else c.number(reoffending.profile.average_age),
                    ),
                ],
                note="" if this.complete else "The year's convictions are still arriving.",
            )
        )
        if not c.hidden("re", "managed", "last_re", "last_managed"):
            section.charts.append(
                bar_chart(
                    chart_id="chart-reoffending",
                    title="Proven re-offending rate, this year beside last",
                    description=(
                        "The share of people managed as PPOs with a proven re-offence, "
                        f"{last.year} and {this.year}."
                    ),
                    categories=[last.year, this.year],
                    series=[Series("Rate", (last.rate_percent, this.rate_percent))],
                    label_heading="Year",
                    unit="%",
                )
            )
    if local is not None:
        c = Counts(publication, {"before": local.charges_before, "after": local.charges_after})
        section.charts.append(
            bar_chart(
                chart_id="chart-local-measure",
                title="The local measure: charges before and after entry",
                description=(
                    "Charges in the 12 months before each measured person's entry to the "
                    "scheme and in the 12 months after it (001 §5.1)."
                ),
                categories=["12 months before entry", "12 months after entry"],
                series=[Series("Charges", (c["before"], c["after"]))],
                label_heading="Period",
            )
        )
    return section


def refresh(build: Build) -> Section:
    """003 §3's refresh indicators on the day."""
    section = Section("refresh", "Refresh indicators")
    indicators = profile.refresh_indicators(
        user=build.actor, as_of=build.as_of, for_publication=build.for_publication
    )
    section.tables += [
        indicators.time_on_programme,
        indicators.convictions_last_12_months,
        indicators.custody,
        indicators.sentences,
    ]
    section.charts.append(
        _bar_from_table(
            indicators.time_on_programme,
            "chart-time-on-programme",
            "PPOs by time on the programme",
            f"How long the PPOs on the scheme on {long_date(build.as_of)} have been on it "
            "(003 §3.5).",
        )
    )
    capacity = indicators.capacity
    section.figures.append(("Capacity", capacity.against_local))
    section.figures.append(
        (
            "Guidance (003 §4.3), in the community",
            "Meets the larger-area ambition (60 to 100)"
            if capacity.meets_large_area_ambition
            else "Meets the smaller-area ambition (15 to 20)"
            if capacity.meets_small_area_ambition
            else "Below the smaller-area ambition (15 to 20)",
        )
    )
    return section


def pathway_needs(build: Build) -> Section:
    """004 §4.1: needs per pathway and the gaps in provision, as counts."""
    from pathways.selectors import gap_view

    section = Section("pathways", "Pathway needs and gaps")
    equality = profile.equality_monitoring(
        user=build.actor, as_of=build.as_of, date_from=build.first_day
    )
    section.tables.append(equality.needs)
    gaps = gap_view(user=build.actor, as_of=build.as_of)
    counts = Counts(build.for_publication, {gap.pathway.code: gap.count for gap in gaps.pathways})
    section.tables.append(
        Table(
            caption=(
                f"Gaps in provision on {long_date(build.as_of)}: PPOs with a medium or high "
                "need and no provider or no open referral on the pathway"
            ),
            row_heading="Pathway",
            columns=("Active providers", "People with a gap"),
            rows=tuple(
                Line(
                    gap.pathway.name,
                    (str(gap.providers), counts[gap.pathway.code]),
                )
                for gap in gaps.pathways
            ),
            protected=build.for_publication,
            any_hidden=counts.hidden(*(g.pathway.code for g in gaps.pathways)),
            note="Counts of people, naming no one.",
        )
    )
    section.charts.append(
        _bar_from_table(
            section.tables[-1],
            "chart-pathway-gaps",
            "People with a gap in provision, per pathway",
            f"PPOs with a medium or high need and no provider or open referral on each "
            f"pathway on {long_date(build.as_of)} (004 §4.1).",
            column=1,
        )
    )
    return section


def standards(build: Build) -> Section:
    """The premium service's standards over the year so far (offenders.standards)."""
    from offenders.standards import measures

    section = Section("standards", "The premium service's standards")
    # Counted as the scheme itself (access.policy.system_actor, whose scope is the whole
    # scheme): each standard is a count of cases, and the report's readers see counts of
    # the whole scheme, though their own roles read no contacts or custody records.
    counter = system_actor("annual report standards", build.as_of)
    found = measures(user=counter, first_day=build.first_day, last_day=build.as_of)
    lines = []
    any_hidden = False
    for measure in found:
        c = Counts(
            build.for_publication,
            {"met": measure.met, "missed": measure.total - measure.met, "all": measure.total},
            [("all", ("met", "missed"))],
        )
        any_hidden = any_hidden or c.hidden("met", "all")
        share = measure.percentage
        lines.append(
            Line(
                f"{measure.label} ({measure.citation})",
                (
                    c["met"],
                    c["all"],
                    c.percent(Decimal(f"{share:.1f}") if share is not None else None, "met", "all"),
                ),
            )
        )
    if not lines:
        section.problems.append("No standard is measured.")
    section.tables.append(
        Table(
            caption=(f"Standards met, {long_date(build.first_day)} to {long_date(build.as_of)}"),
            row_heading="Standard",
            columns=("Met", "Cases", "Share met"),
            rows=tuple(lines),
            protected=build.for_publication,
            any_hidden=any_hidden,
            note=CONFIDENTIAL_NOTE if any_hidden else "",
        )
    )
    return section


def self_assessment_summary(build: Build) -> Section:
    """Each 004 subsection's rating this year beside last year's; not the evidence text."""
    from .self_assessment import self_assessment_year

    section = Section("self-assessment", "Self-assessment")
    page = self_assessment_year(
        user=build.actor, year=build.year, as_of=build.as_of, measured=False
    )
    section.tables.append(
        Table(
            caption=f"Self-assessment ratings, {page.label} beside {page.last_year_label}",
            row_heading="Subsection",
            columns=(page.label, page.last_year_label),
            rows=tuple(
                Line(
                    f"{row.subsection.number} {row.subsection.title}",
                    (
                        row.this_year.label if row.this_year else "Not rated",
                        row.last_year.label if row.last_year else "Not rated",
                    ),
                )
                for row in page.rows
            ),
            protected=False,
            any_hidden=False,
            note="Ratings only: the evidence is on the self-assessment pages.",
        )
    )
    return section


SECTIONS: tuple[tuple[str, Callable[[Build], Section]], ...] = (
    ("The scheme and its team", scheme_and_team),
    ("Caseload and flows", caseload_and_flows),
    ("Performance", performance),
    ("Refresh indicators", refresh),
    ("Pathway needs and gaps", pathway_needs),
    ("The premium service's standards", standards),
    ("Self-assessment", self_assessment_summary),
)


def annual_report_sections(
    *, user: Any, year: int, as_of: dt.date, for_publication: bool
) -> list[Section]:
    """Every section for a reader on a day, without a stored report (tests, benchmark)."""
    actor = _reader(user)
    actor = Actor(user=actor.user, membership=actor.membership, as_of=as_of)
    build = Build(actor, year, as_of, year_starts_on(year), for_publication)
    return [make(build) for _, make in SECTIONS]


__all__ = [
    "annual_report_build",
    "annual_report_download",
    "annual_report_get",
    "annual_report_list",
    "annual_report_request",
    "year_label",
]
