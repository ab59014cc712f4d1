from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from access.submissions import OnceOnlyForm, OnceOnlyModelForm

from .dates import life_date_problem
from .models import (
    ContactKind,
    ContactOutcome,
    CustodyEpisode,
    DrugTestResult,
    EventKind,
    IomGrade,
    OffenceCategory,
    Offender,
    Strand,
    Supervision,
)
from .premium_models import MAX_CONTACTS_PER_WEEK, MAX_DRUG_TESTS_PER_WEEK
from .services import EDITABLE_IDENTITY_FIELDS, STRANDS


class GovukDateInput(forms.DateInput):
    input_type = "date"


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.username)


class OffenderForm(OnceOnlyModelForm):
    """A person's details. The IOM grade is not here: it changes only through the grade
    form, which keeps its history (GradeChange). Strands are checkboxes: a person can be
    on more than one (000 §2.2)."""

    strands = forms.MultipleChoiceField(
        label="Strands",
        choices=Strand.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply: the strands are not mutually exclusive",
    )
    # Where the one strand used to be: after the flags, before the Asset score.
    field_order = [
        *EDITABLE_IDENTITY_FIELDS[: EDITABLE_IDENTITY_FIELDS.index("asset_score")],
        STRANDS,
    ]

    class Meta:
        model = Offender
        fields = EDITABLE_IDENTITY_FIELDS
        field_classes = {
            "key_worker": StaffChoiceField,
            "offender_manager": StaffChoiceField,
            "police_officer": StaffChoiceField,
        }
        widgets = {
            "date_of_birth": GovukDateInput(),
            "address": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, confirm_duplicate: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial.setdefault(STRANDS, self.instance.strand_values)
        staff = (
            get_user_model().objects.filter(is_active=True, memberships__isnull=False).distinct()
        )
        for name in ("key_worker", "offender_manager", "police_officer"):
            cast(forms.ModelChoiceField, self.fields[name]).queryset = staff.order_by(
                "last_name", "first_name"
            )
        # Asked only once a person with the same name and date of birth has been found.
        if confirm_duplicate or (self.is_bound and DIFFERENT_PERSON in self.data):
            self.fields[DIFFERENT_PERSON] = forms.BooleanField(
                label="This is a different person: add them anyway", required=False
            )


DIFFERENT_PERSON = "different_person"


class CustodyEpisodeForm(OnceOnlyModelForm):
    class Meta:
        model = CustodyEpisode
        fields = [
            "kind",
            "establishment",
            "started_on",
            "sentence_length_months",
            "expected_release_on",
            "released_on",
            "supervision_on_release",
        ]
        widgets = {
            "started_on": GovukDateInput(),
            "expected_release_on": GovukDateInput(),
            "released_on": GovukDateInput(),
        }

    def __init__(self, *args: Any, offender: Offender | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if offender is not None:
            self.instance.offender = offender


def _now_local() -> dt.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


class CaseworkForm(OnceOnlyForm):
    """A short form recording something about one person (`offender`)."""

    def __init__(self, *args: Any, offender: Offender | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offender = offender


class WhenFields(CaseworkForm):
    """A date plus hour and minute (GOV.UK has no time component: two small inputs).

    The date must fall within the person's life (offenders.dates, the rule the model and
    the imports use too); checked before the time is attached, so a date in year 1
    is refused rather than overflowing when it is made time-zone aware.
    """

    date = forms.DateField(label="Date", widget=GovukDateInput())
    hour = forms.IntegerField(label="Hour", min_value=0, max_value=23)
    minute = forms.IntegerField(label="Minute", min_value=0, max_value=59)
    # How the date is named in a message: "the date of the contact".
    date_what = "the date"

    def initial_now(self) -> None:
        now = _now_local()
        self.initial.setdefault("date", now.date())
        self.initial.setdefault("hour", now.hour)
        self.initial.setdefault("minute", now.minute)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        day = data.get("date")
        if day is not None:
            problem = life_date_problem(
                day,
                what=self.date_what,
                date_of_birth=self.offender.date_of_birth if self.offender else None,
            )
            if problem:
                self.add_error("date", problem)
                return data
        if all(data.get(k) is not None for k in ("date", "hour", "minute")):
            when = timezone.make_aware(
                dt.datetime.combine(data["date"], dt.time(data["hour"], data["minute"]))
            )
            if when > timezone.now():
                self.add_error("date", "The date and time cannot be in the future")
            data["when"] = when
        return data


class ContactForm(WhenFields):
    date_what = "the date of the contact"
    kind = forms.ChoiceField(
        label="Type of contact",
        choices=ContactKind.choices,
        initial=ContactKind.OFFICE,
        widget=forms.RadioSelect,
    )
    face_to_face = forms.BooleanField(label="Face to face", required=False, initial=True)
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=ContactOutcome.choices,
        initial=ContactOutcome.ATTENDED,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label="Notes", required=False, max_length=4000, widget=forms.Textarea)


class DrugTestForm(WhenFields):
    date_what = "the date of the test"
    result = forms.ChoiceField(
        label="Result", choices=DrugTestResult.choices, widget=forms.RadioSelect
    )
    substances = forms.CharField(label="Substances found", required=False, max_length=200)
    note = forms.CharField(label="Notes", required=False, max_length=4000, widget=forms.Textarea)


class OffendingEventForm(CaseworkForm):
    kind = forms.ChoiceField(
        label="What happened", choices=EventKind.choices, widget=forms.RadioSelect
    )
    category = forms.ModelChoiceField(
        label="Offence category", queryset=OffenceCategory.objects.all(), required=False
    )
    occurred_on = forms.DateField(label="Date it happened", widget=GovukDateInput())
    source_reference = forms.CharField(
        label="Police reference",
        required=False,
        max_length=60,
        help_text="Leave blank if there is none: PPO Case will give it one",
    )
    summary = forms.CharField(
        label="Summary", required=False, max_length=4000, widget=forms.Textarea
    )

    def __init__(
        self,
        *args: Any,
        kinds: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if kinds is not None:
            cast(forms.ChoiceField, self.fields["kind"]).choices = kinds


class ReleaseForm(CaseworkForm):
    released_on = forms.DateField(label="Date of release", widget=GovukDateInput())
    supervision_on_release = forms.ChoiceField(
        label="Supervision on release",
        choices=[("", "Not known"), *Supervision.choices],
        required=False,
    )


class GradeForm(CaseworkForm):
    to_grade = forms.ChoiceField(
        label="New IOM grade", choices=IomGrade.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(label="Reason for the change", max_length=2000, widget=forms.Textarea)


class TimelineFilterForm(forms.Form):
    """The timeline's period. Kinds are read separately: unknown kinds are ignored."""

    date_from = forms.DateField(label="From", required=False, widget=GovukDateInput())
    date_to = forms.DateField(label="To", required=False, widget=GovukDateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The 'to' date must be the same as or after the 'from' date")
        return data


class ContactLevelForm(CaseworkForm):
    """A person's own contact and drug-test level (001 §3.2b); the limits are the model's,
    and offenders.contact_levels.contact_level_set checks everything again."""

    contacts_per_week = forms.IntegerField(
        label="Attended contacts a week",
        min_value=0,
        max_value=MAX_CONTACTS_PER_WEEK,
        error_messages={
            "required": "Enter the contacts a week",
            "invalid": f"Enter the contacts a week as a whole number from 0 to "
            f"{MAX_CONTACTS_PER_WEEK}",
            "min_value": "The contacts a week cannot be below 0",
            "max_value": f"The contacts a week cannot be more than {MAX_CONTACTS_PER_WEEK}",
        },
    )
    drug_tests_per_week = forms.IntegerField(
        label="Drug tests a week",
        help_text="Applies to people on licence (001 §3.2f)",
        min_value=0,
        max_value=MAX_DRUG_TESTS_PER_WEEK,
        error_messages={
            "required": "Enter the drug tests a week",
            "invalid": f"Enter the drug tests a week as a whole number from 0 to "
            f"{MAX_DRUG_TESTS_PER_WEEK}",
            "min_value": "The drug tests a week cannot be below 0",
            "max_value": f"The drug tests a week cannot be more than {MAX_DRUG_TESTS_PER_WEEK}",
        },
    )
    starts_on = forms.DateField(
        label="Starts on",
        help_text="It is measured from the first Monday on or after this day",
        error_messages={
            "required": "Enter the date the level starts",
            "invalid": "Enter the date the level starts as a real date",
        },
        widget=GovukDateInput(),
    )
    reason = forms.CharField(
        label="Why the level is changing",
        max_length=2000,
        error_messages={"required": "Enter why the level is being set"},
        widget=forms.Textarea,
    )
