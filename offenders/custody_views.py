"""Pages for custody on the premium service: one custody episode (reception assessment and
release plan), their forms, the expected release date, the arrival check and reception,
and marking an alert read. Each page only calls offenders.custody_release / arrival."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from access.errors import ApplicationError, Refused
from access.models import Agency
from access.policy import RecordKind, actor_for, may_check_arrivals
from access.submissions import OnceOnlyForm, Outcome

from . import arrival, custody_release, selectors
from .forms import GovukDateInput, WhenFields
from .models import CustodyKind
from .views import _apply_errors, _save


def _record(request: HttpRequest, pk: int, custody_pk: int) -> custody_release.CustodyRecord:
    return custody_release.custody_record(user=request.user, offender_id=pk, custody_id=custody_pk)


def _for_change(request: HttpRequest, pk: int, custody_pk: int) -> custody_release.CustodyRecord:
    """The episode for a form that changes it: 404 out of scope, 403 in scope but not
    allowed (a police officer reads custody), as every other casework form."""
    selectors.offender_for_form(user=request.user, pk=pk, kind=RecordKind.CUSTODY)
    return _record(request, pk, custody_pk)


def _custody_url(record: custody_release.CustodyRecord) -> str:
    return reverse("offenders:custody", args=[record.episode.offender_id, record.episode.pk])


@login_required
def custody_view(request: HttpRequest, pk: int, custody_pk: int) -> HttpResponse:
    record = _record(request, pk, custody_pk)
    return render(
        request,
        "offenders/custody_detail.html",
        {"record": record, "offender": record.episode.offender, "episode": record.episode},
    )


class AssessmentForm(WhenFields):
    date_what = "the date of the assessment"
    needs = forms.CharField(
        label="Needs found",
        max_length=custody_release.NEEDS_MAX,
        widget=forms.Textarea,
        help_text="Across the pathways: accommodation, health, drugs and alcohol, and so on",
    )


def _form_page(
    request: HttpRequest, record: custody_release.CustodyRecord, form: Any, **context: Any
) -> HttpResponse:
    offender = record.episode.offender
    return render(
        request,
        "offenders/custody_form.html",
        {
            "form": form,
            "record": record,
            "offender": offender,
            "title": f"{context['heading']} – {offender.full_name}",
            **context,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def reception_assessment_view(request: HttpRequest, pk: int, custody_pk: int) -> HttpResponse:
    record = _for_change(request, pk, custody_pk)
    form = AssessmentForm(request.POST or None, offender=record.episode.offender)
    if request.method == "GET":
        form.initial_now()

    def save(data: dict[str, Any]) -> Outcome:
        assessment = custody_release.reception_assessment_record(
            user=request.user,
            custody_id=record.episode.pk,
            assessed_at=data["when"],
            needs=data["needs"],
        )
        on_time = custody_release.assessed_on_time(
            record.episode, assessment.assessed_at, record.hours
        )
        timing = "within" if on_time else "later than"
        return Outcome(
            _custody_url(record),
            f"Reception assessment recorded, {timing} {record.hours} hours of the reception",
        )

    if done := _save(request, form, save):
        return done
    return _form_page(
        request, record, form, heading="Record the reception needs assessment", submit="Save"
    )


class AgencyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


def _agency_field(label: str) -> AgencyChoiceField:
    return AgencyChoiceField(
        label=label,
        queryset=Agency.objects.filter(active=True).order_by("name"),
        required=False,
        empty_label="Not decided yet",
    )


class ReleasePlanForm(OnceOnlyForm):
    """Every part optional: a plan is built up over the sentence; it is complete when every
    part and its owner are filled in (offenders.custody_release.missing_parts)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    accommodation = forms.CharField(
        label="Accommodation",
        required=False,
        max_length=custody_release.PART_MAX,
        widget=forms.Textarea,
    )
    accommodation_owner = _agency_field("Agency that owns the accommodation")
    treatment = forms.CharField(
        label="Treatment",
        required=False,
        max_length=custody_release.PART_MAX,
        widget=forms.Textarea,
    )
    treatment_owner = _agency_field("Agency that owns the treatment")
    supervision = forms.CharField(
        label="Supervision on release",
        required=False,
        max_length=custody_release.PART_MAX,
        widget=forms.Textarea,
        help_text="Licence or order conditions, or the voluntary "
        "arrangement for someone released without statutory supervision",
    )
    supervision_owner = _agency_field("Agency that owns the supervision")
    appointment_date = forms.DateField(
        label="Date of the first appointment", required=False, widget=GovukDateInput()
    )
    appointment_hour = forms.IntegerField(label="Hour", min_value=0, max_value=23, required=False)
    appointment_minute = forms.IntegerField(
        label="Minute", min_value=0, max_value=59, required=False
    )
    first_appointment_with = forms.CharField(
        label="First appointment with",
        required=False,
        max_length=200,
        help_text="Who and where, for example the key worker at the probation office",
    )
    first_appointment_owner = _agency_field("Agency that owns the first appointment")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        parts = [
            data.get(k) for k in ("appointment_date", "appointment_hour", "appointment_minute")
        ]
        if all(p is None for p in parts):
            data["first_appointment_at"] = None
        elif any(p is None for p in parts):
            if not self.has_error("appointment_date"):
                self.add_error(
                    "appointment_date", "Enter the date, hour and minute of the first appointment"
                )
        else:
            day, hour, minute = cast(tuple[dt.date, int, int], tuple(parts))
            data["first_appointment_at"] = timezone.make_aware(
                dt.datetime.combine(day, dt.time(hour, minute))
            )
        return data

    @staticmethod
    def initial_for(plan: Any) -> dict[str, Any]:
        if plan is None:
            return {"version": 0}
        when = timezone.localtime(plan.first_appointment_at) if plan.first_appointment_at else None
        return {
            "version": plan.version,
            **{name: getattr(plan, name) for name in ("accommodation", "treatment", "supervision")},
            **{name: getattr(plan, f"{name}_id") for name in custody_release.OWNER_FIELDS},
            "appointment_date": when.date() if when else None,
            "appointment_hour": when.hour if when else None,
            "appointment_minute": when.minute if when else None,
            "first_appointment_with": plan.first_appointment_with,
        }


@login_required
@require_http_methods(["GET", "POST"])
def release_plan_view(request: HttpRequest, pk: int, custody_pk: int) -> HttpResponse:
    record = _for_change(request, pk, custody_pk)
    form = ReleasePlanForm(request.POST or None, initial=ReleasePlanForm.initial_for(record.plan))
    stale = False

    def save(data: dict[str, Any]) -> Outcome:
        plan = custody_release.release_plan_save(
            user=request.user,
            custody_id=record.episode.pk,
            version=data["version"],
            data={name: data[name] for name in custody_release.PLAN_FIELDS},
        )
        missing = custody_release.missing_parts(plan)
        message = (
            "Release plan saved: it is complete"
            if not missing
            else f"Release plan saved. Still to do: {', '.join(missing)}"
        )
        return Outcome(_custody_url(record), message)

    try:
        if done := _save(request, form, save, let_through=(custody_release.StalePlan,)):
            return done
    except custody_release.StalePlan as error:
        # The user's input is kept beside the plan as saved now (shown above the form),
        # with the current version, so saving again is a choice made knowingly.
        stale = True
        record = _record(request, pk, custody_pk)
        data = request.POST.copy()
        data["version"] = str(record.plan.version if record.plan else 0)
        form = ReleasePlanForm(data)
        form.is_valid()
        _apply_errors(form, error)
    return _form_page(
        request,
        record,
        form,
        heading="Release plan",
        submit="Save release plan",
        stale=stale,
        plan_form=True,
    )


class ReleaseDateForm(OnceOnlyForm):
    expected_release_on = forms.DateField(
        label="Expected release date",
        widget=GovukDateInput(),
        required=False,
        help_text="Leave blank if it is not known",
    )


@login_required
@require_http_methods(["GET", "POST"])
def release_date_view(request: HttpRequest, pk: int, custody_pk: int) -> HttpResponse:
    record = _for_change(request, pk, custody_pk)
    form = ReleaseDateForm(
        request.POST or None, initial={"expected_release_on": record.episode.expected_release_on}
    )

    def save(data: dict[str, Any]) -> Outcome:
        custody_release.custody_release_date_set(
            user=request.user,
            custody_id=record.episode.pk,
            expected_release_on=data["expected_release_on"],
        )
        return Outcome(_custody_url(record), "Expected release date saved")

    if done := _save(request, form, save):
        return done
    return _form_page(request, record, form, heading="Set the expected release date", submit="Save")


@login_required
@require_POST
def alert_read_view(request: HttpRequest, alert_pk: int) -> HttpResponse:
    # Idempotent: a second post finds the alert already read and changes nothing.
    custody_release.alert_mark_read(user=request.user, alert_id=alert_pk)
    messages.success(request, "Alert marked as read")
    return redirect(reverse("home") + "#alerts-title")


# --- The arrival check (002) --------------------------------------------------------------


class ArrivalCheckForm(forms.Form):
    identifier = forms.CharField(
        label="PNC ID or prison number",
        max_length=40,
        help_text="For example 2004/0046583U or A1234BC",
        error_messages={"required": "Enter a PNC ID or a prison number"},
    )


class ReceptionForm(OnceOnlyForm):
    identifier = forms.CharField(widget=forms.HiddenInput, max_length=40)
    kind = forms.ChoiceField(
        label="Received on", choices=CustodyKind.choices, widget=forms.RadioSelect
    )
    sentence_length_months = forms.IntegerField(
        label="Sentence length in months",
        required=False,
        min_value=1,
        max_value=1200,
        help_text="For a sentence only",
    )
    expected_release_on = forms.DateField(
        label="Expected release date",
        required=False,
        widget=GovukDateInput(),
        help_text="Leave blank if it is not known yet",
    )


def _arrivals_only(request: HttpRequest) -> None:
    if not may_check_arrivals(actor_for(request.user)):
        raise Refused(arrival.ARRIVAL_CHECK, "", "only prison staff check arrivals")


@login_required
@require_http_methods(["GET", "POST"])
def arrival_check_view(request: HttpRequest) -> HttpResponse:
    """Check a new arrival: the answer only, and the reception form on a match. A check
    saves nothing but its audit row, so it needs no one-time token: posting again is
    another check, counted against the limit."""
    _arrivals_only(request)
    form = ArrivalCheckForm(request.POST or None)
    answer: arrival.ArrivalAnswer | None = None
    reception: ReceptionForm | None = None
    if request.method == "POST" and form.is_valid():
        try:
            answer = arrival.arrival_check(
                user=request.user, identifier=form.cleaned_data["identifier"]
            )
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            if answer.matched:
                reception = ReceptionForm(initial={"identifier": answer.identifier.value})
    return render(
        request,
        "offenders/arrival_check.html",
        {"form": form, "answer": answer, "reception": reception},
    )


@login_required
@require_POST
def arrival_reception_view(request: HttpRequest) -> HttpResponse:
    _arrivals_only(request)
    form = ReceptionForm(request.POST)

    def save(data: dict[str, Any]) -> Outcome:
        try:
            episode = arrival.reception_record(
                user=request.user,
                identifier=data["identifier"],
                kind=data["kind"],
                sentence_length_months=data["sentence_length_months"],
                expected_release_on=data["expected_release_on"],
            )
        except ApplicationError as error:
            if arrival.IDENTIFIER_FIELD in error.field_errors:
                # The identifier is not typed on this page: say it above the form.
                raise ApplicationError(error.message) from None
            raise
        return Outcome(
            reverse("offenders:custody", args=[episode.offender_id, episode.pk]),
            "Reception recorded. The key worker and police officer have been told",
        )

    if done := _save(request, form, save):
        return done
    return render(request, "offenders/arrival_reception.html", {"reception": form})
