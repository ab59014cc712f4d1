"""Reports pages: the scheme profile (tables; charts come with the annual report) and the
004 self-assessment. The selectors and services decide who sees and records what; a role
that may not is refused with a 403 (access.errors.Refused, audited by the handler)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from access.errors import ApplicationError, NotPermitted, Refused
from access.policy import actor_for
from access.submissions import Outcome, save_once

from . import profile, self_assessment
from .forms import SelfAssessmentForm
from .measures.common import aggregate_reader

REPORTS = "reporting.reports"


def _refuse(error: NotPermitted) -> Refused:
    return Refused(REPORTS, "", error.message)


def _day(request: HttpRequest, name: str, problems: list[str]) -> dt.date | None:
    text = request.GET.get(name, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(f"Enter the date as YYYY-MM-DD, such as 2026-04-01: “{text[:20]}”")
        return None


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        aggregate_reader(actor, actor.as_of)
    except NotPermitted as error:
        raise _refuse(error) from None
    return render(request, "reporting/index.html", {})


@login_required
@require_GET
def scheme_profile_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        aggregate_reader(actor, actor.as_of)
    except NotPermitted as error:
        raise _refuse(error) from None
    problems: list[str] = []
    as_of = _day(request, "as_of", problems) or actor.as_of
    date_from = _day(request, "from", problems)
    date_to = _day(request, "to", problems)
    context: dict[str, Any] = {
        "as_of": as_of,
        "date_from": request.GET.get("from", ""),
        "date_to": request.GET.get("to", ""),
        "problems": problems,
    }
    if not problems:
        try:
            kwargs: dict[str, Any] = {"user": actor, "as_of": as_of}
            period: dict[str, Any] = {"date_from": date_from, "date_to": date_to}
            context["profile"] = profile.scheme_profile(**kwargs)
            context["refresh"] = profile.refresh_indicators(**kwargs)
            context["equality"] = profile.equality_monitoring(**kwargs, **period)
            context["mix"] = profile.offending_mix(**kwargs, **period)
            context["outcomes"] = profile.deselection_outcomes(**kwargs, **period)
        except NotPermitted as error:
            raise _refuse(error) from None
        except ApplicationError as error:
            problems.append(error.message)
    return render(request, "reporting/profile.html", context)


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
