"""The premium-service compliance page (001 §3.2): scheme figures and who is below target."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from access.errors import Refused
from access.policy import actor_for
from ppo_case import charts

from .compliance import (
    SCHEME_PERIODS_WEEKS,
    ComplianceSummary,
    can_see_compliance,
    compliance_summary,
    sharing_weeks,
    standard_periods,
    standards_summary,
    weeks_back_to,
)
from .log_another import FROM, next_to_log


def weekly_chart(summary: ComplianceSummary) -> charts.Chart:
    """The week-by-week shares (the complete weeks, oldest first) as a line chart whose
    data table holds the same figures (issue 13.9); "–" for a week with none assessed."""
    weeks = list(reversed(summary.by_week))
    return charts.line_chart(
        chart_id="weekly-compliance-chart",
        title=f"Share of person-weeks meeting their level, last {len(weeks)} weeks",
        description=(
            "The percentage of people assessed each week whose attended contacts, and whose "
            "drug tests if on licence, met their weekly level"
        ),
        labels=[f"{week.first_day.day} {week.first_day:%b %Y}" for week in weeks],
        series=[
            charts.Series("Contacts target met", tuple(w.contacts.share for w in weeks)),
            charts.Series("Drug test target met", tuple(w.drug_tests.share for w in weeks)),
        ],
        label_heading="Week starting",
        unit="%",
        y_label="Person-weeks meeting their level",
    )


@login_required
@require_GET
def compliance_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    if not can_see_compliance(actor):
        raise Refused("offenders.compliance", "", "role sees only part of the contacts")
    # One table of person-weeks for the page: its own 13 weeks and the standards' quarters.
    earliest = min(period.first_day for period in standard_periods(actor.as_of))
    weeks = max(max(SCHEME_PERIODS_WEEKS), weeks_back_to(actor.as_of, earliest))
    with sharing_weeks(actor, weeks):
        summary = compliance_summary(user=actor, as_of=actor.as_of)
        measured = standards_summary(user=actor, as_of=actor.as_of)
    # Issue 13.9: after "Save and log another" from this list, the next person's link focused.
    focus = next_to_log(summary.below_target, request.GET)
    return render(
        request,
        "offenders/compliance.html",
        {
            "summary": summary,
            "standards": measured,
            "chart": weekly_chart(summary) if summary.by_week else None,
            "focus_log_contact": focus,
            # The success banner then does not take the focus (templates/base.html).
            "page_sets_focus": focus is not None,
            "log_contact_from": FROM,
        },
    )
