from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple, cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
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


FUTURE_TIME = "The date and time cannot be in the future"


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

    # The box a time later than now is refused on.
    future_time_field = "date"

    def future_time_message(self) -> str:
        return FUTURE_TIME

    def date_problem(self, day: dt.date) -> str | None:
        return life_date_problem(
            day,
            what=self.date_what,
            date_of_birth=self.offender.date_of_birth if self.offender else None,
        )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        day = data.get("date")
        if day is not None:
            problem = self.date_problem(day)
            if problem:
                self.add_error("date", problem)
                return data
        if all(data.get(k) is not None for k in ("date", "hour", "minute")):
            when = timezone.make_aware(
                dt.datetime.combine(data["date"], dt.time(data["hour"], data["minute"]))
            )
            if when > timezone.now():
                self.add_error(self.future_time_field, self.future_time_message())
            data["when"] = when
        return data


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# The GOV.UK date input: day, month and year in three boxes, `<name>-day` and so on.
DATE_PARTS = ("day", "month", "year")


class DayMonthYearInput(forms.Widget):
    """The GOV.UK date input's three boxes (templates/offenders/_when_inputs.html).

    A client that posts the date as one ISO value under the field's own name (a script,
    the tests written before the boxes) is still understood; the page posts the parts.
    The error summary links to the day box (shared/UI.md "Accessibility").
    """

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if any(f"{name}-{part}" in data for part in DATE_PARTS):
            return tuple(str(data.get(f"{name}-{part}", "")).strip() for part in DATE_PARTS)
        return data.get(name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and all(f"{name}-{part}" not in data for part in DATE_PARTS)

    def id_for_label(self, id_: str) -> str:
        return f"{id_}-day" if id_ else ""


class DayMonthYearBoundField(BoundField):
    @property
    def parts(self) -> dict[str, str]:
        """What the three boxes show: as typed, or the day, month and year of the date."""
        value = self.value()
        if isinstance(value, str) and value:
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                return {"day": value, "month": "", "year": ""}
        if isinstance(value, dt.date):
            return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
        if isinstance(value, tuple | list) and len(value) == len(DATE_PARTS):
            return dict(zip(DATE_PARTS, (str(v) for v in value), strict=True))
        return dict.fromkeys(DATE_PARTS, "")

    @property
    def error_part(self) -> str:
        """The box the error is about, for the summary's link and the red border: the
        first part left empty, otherwise the day (GOV.UK date input "Error messages")."""
        value = self.value()
        if isinstance(value, tuple | list) and any(value):
            for part, typed in zip(DATE_PARTS, value, strict=False):
                if not typed:
                    return part
        return "day"


class DayMonthYearField(forms.Field):
    """A date typed as day, month and year, with the GOV.UK date input's messages:
    "Enter the date of the contact", "… must include a month", "… must be a real date"."""

    widget = DayMonthYearInput

    def __init__(self, *, what: str, **kwargs: Any) -> None:
        self.what = what
        kwargs.setdefault("help_text", "For example, 27 3 2026")
        super().__init__(**kwargs)
        self.error_messages["required"] = f"Enter {what}"

    def get_bound_field(self, form: Any, field_name: str) -> BoundField:
        return DayMonthYearBoundField(form, self, field_name)

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.date):
            return value
        what = _capital(self.what)
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                raise ValidationError(f"{what} must be a real date", code="invalid") from None
        parts = tuple(value) if isinstance(value, tuple | list) else ("", "", "")
        if not any(parts):
            return None
        missing = [name for name, part in zip(DATE_PARTS, parts, strict=True) if not part]
        if missing:
            raise ValidationError(
                f"{what} must include a {' and a '.join(missing)}", code="incomplete"
            )
        if not all(part.isdigit() for part in parts):
            raise ValidationError(f"{what} must be a real date", code="invalid")
        if len(parts[2]) != 4:
            raise ValidationError("Year must include 4 numbers", code="invalid")
        day, month, year = (int(part) for part in parts)
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise ValidationError(f"{what} must be a real date", code="invalid") from None


def _time_part(what: str, part: str, high: int) -> forms.IntegerField:
    whole = f"The {part} must be a whole number from 0 to {high}"
    return forms.IntegerField(
        label=part.capitalize(),
        min_value=0,
        max_value=high,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": f"{what} must include {'an' if part == 'hour' else 'a'} {part}",
            "invalid": whole,
            "min_value": whole,
            "max_value": whole,
        },
    )


class DayMonthYearWhen(WhenFields):
    """WhenFields with the GOV.UK date input and the time in two boxes, each with a
    message that says what to fix (issue 13.1: never "This field is required.")."""

    date_what = "the date"
    time_what = "the time"
    future_time_field = "hour"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date"] = DayMonthYearField(what=self.date_what, label="Date")
        self.fields["hour"] = _time_part(_capital(self.time_what), "hour", 23)
        self.fields["minute"] = _time_part(_capital(self.time_what), "minute", 59)

    def initial_now(self) -> None:
        super().initial_now()
        # "14 05", as a clock shows it, not "14 5".
        self.initial["minute"] = f"{int(self.initial['minute']):02d}"

    def date_problem(self, day: dt.date) -> str | None:
        # The GOV.UK date input's wording for a date still to come.
        if day > timezone.localdate():
            return f"{_capital(self.date_what)} must be today or in the past"
        return super().date_problem(day)

    def future_time_message(self) -> str:
        return f"{_capital(self.time_what)} must be now or in the past"


class ContactType(NamedTuple):
    kind: str
    label: str
    face_to_face: bool


# Issue 13.1: "face to face" is part of the type of contact, not a box of its own. The one
# place where a contact's face_to_face follows from its kind (the service takes it as
# given, so the API, which asks for it separately, keeps working).
CONTACT_TYPES = (
    ContactType(ContactKind.OFFICE, "Office visit – face to face", True),
    ContactType(ContactKind.HOME_VISIT, "Home visit – face to face", True),
    ContactType(ContactKind.PRISON_VISIT, "Prison visit – face to face", True),
    ContactType(ContactKind.REPORT_CENTRE, "Report centre – face to face", True),
    ContactType(ContactKind.OUTREACH, "Outreach – face to face", True),
    ContactType(ContactKind.PHONE, "Phone or video call – not face to face", False),
)
FACE_TO_FACE = {t.kind: t.face_to_face for t in CONTACT_TYPES}


class ContactForm(DayMonthYearWhen):
    """Log a contact. Nothing is chosen for the person: the type and whether they
    attended are asked with nothing pre-selected (GOV.UK radios: a pre-selected answer is
    saved by someone who did not read it), only the date and time default to now."""

    date_what = "the date of the contact"
    time_what = "the time of the contact"
    field_order = ["kind", "outcome", "date", "hour", "minute", "note"]
    kind = forms.ChoiceField(
        label="Type of contact",
        choices=[(t.kind, t.label) for t in CONTACT_TYPES],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the type of contact",
            "invalid_choice": "Select the type of contact from the list",
        },
    )
    outcome = forms.ChoiceField(
        label="Did the person attend?",
        choices=ContactOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select whether the person attended",
            "invalid_choice": "Select whether the person attended from the list",
        },
    )
    note = forms.CharField(
        label="Notes",
        required=False,
        max_length=4000,
        widget=forms.Textarea,
        error_messages={"max_length": "Notes must be 4,000 characters or fewer"},
    )

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if data.get("kind") in FACE_TO_FACE:
            data["face_to_face"] = FACE_TO_FACE[str(data["kind"])]
        return data


class DrugTestForm(DayMonthYearWhen):
    date_what = "the date of the test"
    time_what = "the time of the test"
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
