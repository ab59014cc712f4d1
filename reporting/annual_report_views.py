"""Pages of the annual report: ask for one and see the earlier ones, follow its progress
(a page that refreshes itself every 2 seconds, no JavaScript), download it. The rules are
reporting.annual_report's; a role that may not is refused with a 403 (access.errors.Refused,
audited by the handler), an unknown report is a 404."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from access.errors import ApplicationError, NotPermitted, Refused
from access.policy import actor_for
from access.submissions import OnceOnlyForm, Outcome, save_once

from . import annual_report as reports
from .measures.common import year_label

REPORTS = "reporting.annualreport"
REFRESH_SECONDS = 2


def _refuse(error: NotPermitted) -> Refused:
    return Refused(REPORTS, "", error.message)


class AnnualReportForm(OnceOnlyForm):
    year = forms.TypedChoiceField(
        label="Financial year",
        coerce=int,
        error_messages={
            "required": "Choose a financial year",
            "invalid_choice": "Choose a financial year from the list",
        },
    )
    for_publication = forms.BooleanField(
        label="For publication: hide every small number",
        required=False,
        help_text="Counts of 1 to 4 are shown as [c] throughout, and no case is described",
    )

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, year_label(y)) for y in years]  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET", "POST"])
def annual_reports(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        years = reports.years_offered(user=actor)
        earlier = reports.annual_report_list(user=actor)
    except NotPermitted as error:
        raise _refuse(error) from None
    form = AnnualReportForm(
        request.POST if request.method == "POST" else None,
        years=years,
        initial={"year": years[1] if len(years) > 1 else years[0]},
    )
    if request.method == "POST" and form.is_valid():

        def save() -> Outcome:
            report = reports.annual_report_request(
                user=actor,
                year=form.cleaned_data["year"],
                for_publication=form.cleaned_data["for_publication"],
            )
            return Outcome(
                reverse("reporting:annual-report", args=[report.pk]),
                f"{report} asked for",
            )

        try:
            assert form.token is not None  # a valid form has its token
            outcome = save_once(user=request.user, token=form.token, save=save)
        except NotPermitted as error:
            raise _refuse(error) from None
        except ApplicationError as error:
            if "year" in error.field_errors:
                form.add_error("year", error.field_errors["year"])
            else:
                form.add_error(None, error.message)
        else:
            if outcome.repeated:
                messages.info(request, outcome.message)
            return redirect(outcome.url)
    return render(request, "reporting/annual_reports.html", {"form": form, "reports": earlier})


@login_required
@require_GET
def annual_report_progress(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        report = reports.annual_report_get(user=actor_for(request.user), report_id=report_id)
    except NotPermitted as error:
        raise _refuse(error) from None
    return render(
        request,
        "reporting/annual_report_progress.html",
        {"report": report, "refresh_seconds": REFRESH_SECONDS},
    )


@login_required
@require_GET
def annual_report_download(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        report, pdf = reports.annual_report_download(
            user=actor_for(request.user), report_id=report_id
        )
    except NotPermitted as error:
        raise _refuse(error) from None
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{reports.filename(report)}"'
    return response
