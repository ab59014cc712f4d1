"""The enforcement pages (001 §3.2e): a person's cases (their "Enforcement" tab), one case
with its steps and clock, recording a step, closing a case with its outcome, and the open
and overdue cases.

Who sees and does what is offenders.enforcement's business: these views show what its
selectors return, turn its refusals into 403s and its messages into the error summary.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from access.errors import ApplicationError, NotPermitted, Refused
from access.policy import actor_for
from access.submissions import OnceOnlyForm, Outcome, save_once

from . import enforcement
from .forms import GovukDateInput
from .models import EnforcementOutcome, EnforcementStepKind
from .tabs import tabs_for

NOTE_MAX = enforcement.NOTE_MAX


def _note(label: str, hint: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=NOTE_MAX,
        help_text=hint,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": f"The note must be {NOTE_MAX:,} characters or fewer"},
    )


class StepForm(OnceOnlyForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label="Step taken",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the step taken",
            "invalid_choice": "Choose the step taken from the list",
        },
    )
    taken_on = forms.DateField(
        label="Date of the step",
        widget=GovukDateInput(),
        error_messages={
            "required": "Enter the date of the step",
            "invalid": "The date of the step must be a real date",
        },
    )
    note = _note("Note")

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["kind"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(kind, EnforcementStepKind(kind).label) for kind in kinds]


class CloseForm(OnceOnlyForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=EnforcementOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the outcome",
            "invalid_choice": "Choose the outcome from the list",
        },
    )
    closed_on = forms.DateField(
        label="Date closed",
        required=False,
        help_text="Leave empty for today",
        widget=GovukDateInput(),
        error_messages={"invalid": "The date closed must be a real date"},
    )
    note = _note(
        "Note", hint="Needed when the absence was found acceptable or the case withdrawn: why"
    )
    # Closing cannot be undone: the person confirms it.
    confirm = forms.BooleanField(
        label="I understand that a closed case cannot be reopened", required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("confirm"):
            self.add_error(
                "confirm", "Confirm that you want to close the case: it cannot be reopened"
            )
        return data


def _place(form: Any, error: Exception) -> None:
    if isinstance(error, ApplicationError):
        placed = False
        for name, errors in error.field_errors.items():
            if name in form.fields:
                form.add_error(name, errors)
                placed = True
        if not placed:
            form.add_error(None, error.message)
        return
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return
    form.add_error(None, getattr(error, "messages", [str(error)]))


def _save(request: HttpRequest, form: Any, save: Any, *, case_id: int) -> HttpResponse | None:
    """Save a valid posted form once (access.submissions): the redirect, or None to show
    the form again with its errors (a stale version told, with the case as it is now)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        outcome = save_once(user=request.user, token=form.token, save=save)
    except NotPermitted as refusal:
        raise Refused(enforcement.ENFORCEMENT_CASE, case_id, refusal.message) from None
    except enforcement.StaleCase as stale:
        form.stale = stale.current
        form.add_error(None, stale.message)
        return None
    except (ValidationError, ApplicationError) as error:
        _place(form, error)
        return None
    (messages.info if outcome.repeated else messages.success)(request, outcome.message)
    return redirect(outcome.url)


def _case_context(request: HttpRequest, view: enforcement.CaseView) -> dict[str, Any]:
    actor = actor_for(request.user)
    return {
        "view": view,
        "clock": view.clock,
        "case": view.case,
        "offender": view.offender,
        "person_tabs": tabs_for(actor, view.offender.pk),
    }


@login_required
@require_GET
def enforcement_person_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_for(request.user)
    found = enforcement.person_enforcement(user=actor, offender_id=pk)
    return render(
        request,
        "offenders/enforcement_person.html",
        {
            "found": found,
            "offender": found.offender,
            "person_tabs": tabs_for(actor, found.offender.pk),
        },
    )


@login_required
@require_GET
def enforcement_case_view(request: HttpRequest, case_id: int) -> HttpResponse:
    view = enforcement.enforcement_case(user=request.user, case_id=case_id)
    return render(request, "offenders/enforcement_case.html", _case_context(request, view))


@login_required
@require_http_methods(["GET", "POST"])
def enforcement_step_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    view = enforcement.enforcement_case(user=actor, case_id=case_id)
    if not view.may_write:
        raise Refused(enforcement.ENFORCEMENT_CASE, view.case.pk, "may not record steps")
    form = StepForm(
        request.POST if request.method == "POST" else None,
        kinds=view.step_kinds,
        initial={"version": view.case.version, "taken_on": actor.as_of},
    )

    def save() -> Outcome:
        step = enforcement.enforcement_step_record(
            user=actor,
            case_id=view.case.pk,
            version=form.cleaned_data["version"],
            kind=form.cleaned_data["kind"],
            taken_on=form.cleaned_data["taken_on"],
            note=form.cleaned_data["note"],
        )
        return Outcome(
            enforcement.case_url(view.case),
            f"{step.get_kind_display()} recorded on {enforcement.long_date(step.taken_on)}",
        )

    if done := _save(request, form, save, case_id=view.case.pk):
        return done
    context = _case_context(request, view)
    context.update(form=form, stale=getattr(form, "stale", None))
    return render(request, "offenders/enforcement_step.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def enforcement_close_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    view = enforcement.enforcement_case(user=actor, case_id=case_id)
    if not view.may_write:
        raise Refused(enforcement.ENFORCEMENT_CASE, view.case.pk, "may not close the case")
    form = CloseForm(
        request.POST if request.method == "POST" else None,
        initial={"version": view.case.version},
    )

    def save() -> Outcome:
        case = enforcement.enforcement_close(
            user=actor,
            case_id=view.case.pk,
            version=form.cleaned_data["version"],
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            closed_on=form.cleaned_data["closed_on"],
        )
        return Outcome(
            enforcement.case_url(case),
            f"Enforcement case closed: {case.get_outcome_display().lower()}",
        )

    if done := _save(request, form, save, case_id=view.case.pk):
        return done
    context = _case_context(request, view)
    context.update(form=form, stale=getattr(form, "stale", None))
    return render(request, "offenders/enforcement_close.html", context)


@login_required
@require_GET
def enforcement_list_view(request: HttpRequest) -> HttpResponse:
    overdue_only = request.GET.get("overdue") == "yes"
    found = enforcement.open_cases_page(
        user=request.user, overdue_only=overdue_only, page_number=request.GET.get("page")
    )
    return render(
        request,
        "offenders/enforcement_list.html",
        {
            "found": found,
            "page": found.page,
            "query": "overdue=yes" if overdue_only else "",
            "list_url": reverse("offenders:enforcement-list"),
        },
    )
