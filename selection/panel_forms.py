"""Forms for the selection panel pages and the risk assessment form.

They parse what was typed (a GOV.UK date in three parts, a whole number) and carry the
one-time token (access.submissions). The rules — a panel is not in the future, a decision
applies to the person's tier, a departure from the ranking has a reason — are the
services' (selection.panel, selection.services), whose messages the pages show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField

from access.submissions import OnceOnlyForm
from offenders.dates import EARLIEST
from offenders.models import DeselectionReason

from .models import DecisionKind, ExitOutcome, RiskTool, RoshLevel

DATE_PARTS = ("day", "month", "year")
NOTES_MAX = 4000
REASON_MAX = 2000


class GovukDateInput(forms.Widget):
    """The GOV.UK date input: day, month and year as three text boxes named
    `<name>-day`, `<name>-month`, `<name>-year` (templates/selection/panel_date_input.html).
    The error summary links to the day box (shared/UI.md "Accessibility")."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> tuple[str, ...]:
        return tuple(str(data.get(f"{name}-{part}", "")).strip() for part in DATE_PARTS)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return all(f"{name}-{part}" not in data for part in DATE_PARTS)

    def id_for_label(self, id_: str) -> str:
        return f"{id_}-day" if id_ else ""


class DateBoundField(BoundField):
    @property
    def parts(self) -> dict[str, str]:
        """The day, month and year to show in the boxes: as typed, or from the initial date."""
        value = self.value()
        if isinstance(value, dt.date):
            return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
        if isinstance(value, tuple | list) and len(value) == len(DATE_PARTS):
            return dict(zip(DATE_PARTS, (str(v) for v in value), strict=True))
        return dict.fromkeys(DATE_PARTS, "")


class GovukDateField(forms.Field):
    """A date typed as day, month and year, with the GOV.UK pattern's messages
    ("Enter the date the panel met", "… must include a month", "… must be a real date")."""

    widget = GovukDateInput

    def __init__(self, *, what: str, hint: str = "For example, 27 3 2026", **kwargs: Any):
        self.what = what
        kwargs.setdefault("help_text", hint)
        super().__init__(**kwargs)
        self.error_messages["required"] = f"Enter {what}"

    def get_bound_field(self, form: Any, field_name: str) -> BoundField:
        return DateBoundField(form, self, field_name)

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.date):
            return value
        parts = tuple(value) if isinstance(value, tuple | list) else ("", "", "")
        if not any(parts):
            return None
        what = self.what[0].upper() + self.what[1:]
        missing = [name for name, part in zip(DATE_PARTS, parts, strict=True) if not part]
        if missing:
            raise ValidationError(f"{what} must include a {' and a '.join(missing)}")
        if not all(part.isdigit() for part in parts):
            raise ValidationError(f"{what} must be a real date")
        day, month, year = (int(part) for part in parts)
        if len(parts[2]) != 4:
            raise ValidationError("Year must include 4 numbers")
        try:
            typed = dt.date(year, month, day)
        except ValueError:
            raise ValidationError(f"{what} must be a real date") from None
        if typed < EARLIEST:
            raise ValidationError(f"{what} must be on or after {EARLIEST.day} {EARLIEST:%B %Y}")
        return typed


def _whole_number(
    *, label: str, what: str, low: int, high: int, hint: str = ""
) -> forms.IntegerField:
    message = f"Enter {what} as a whole number from {low} to {high}"
    return forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        help_text=hint,
        error_messages={
            "required": f"Enter {what}",
            "invalid": message,
            "min_value": message,
            "max_value": message,
        },
    )


class PanelForm(OnceOnlyForm):
    """Record a panel: its date, chair, the agencies attending and notes."""

    held_on = GovukDateField(what="the date the panel met", label="When did the panel meet?")
    chair = forms.TypedChoiceField(
        label="Chair",
        coerce=int,
        help_text="PPO managers are listed first, then other staff who read selection records",
        error_messages={
            "required": "Choose who chaired the panel",
            "invalid_choice": "Choose who chaired the panel from the list",
        },
    )
    agencies = forms.TypedMultipleChoiceField(
        label="Agencies attending",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply",
        error_messages={"invalid_choice": "Choose the agencies attending from the list"},
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": f"Notes must be {NOTES_MAX:,} characters or fewer"},
    )

    def __init__(
        self,
        *args: Any,
        chairs: list[tuple[int, str]],
        agencies: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["chair"].choices = [("", "Choose the chair"), *chairs]  # type: ignore[attr-defined]
        self.fields["agencies"].choices = agencies  # type: ignore[attr-defined]

    def place_field(self, name: str) -> str | None:
        """The form field a service's message about `name` belongs to."""
        name = {"chair_id": "chair", "agency_ids": "agencies"}.get(name, name)
        return name if name in self.fields else None

    def service_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "held_on": data["held_on"],
            "chair_id": data["chair"],
            "agency_ids": list(data.get("agencies") or []),
            "notes": data.get("notes") or "",
        }


# Which exit-outcome field belongs to which kind of decision: each reveal under a radio
# has its own, so that a hidden reveal's answer is not posted under the same name.
EXIT_OUTCOME_FIELDS = {
    DecisionKind.DESELECT: "deselect_exit_outcome",
    DecisionKind.EXIT_DIP: "exit_dip_outcome",
}
EXIT_OUTCOME_CHOICES = [("", "Not recorded"), *ExitOutcome.choices]


def _exit_outcome_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Outcome on leaving the scheme",
        required=False,
        choices=EXIT_OUTCOME_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose an outcome from the list"},
    )


class PanelDecisionForm(OnceOnlyForm):
    """One decision about one person: its kind, with the de-selection reason and exit
    outcome revealed under the kinds they belong to, and a reason."""

    kind = forms.ChoiceField(
        label="Decision",
        choices=DecisionKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a decision",
            "invalid_choice": "Choose a decision from the list",
        },
    )
    deselection_reason = forms.ChoiceField(
        label="Reason for de-selection",
        required=False,
        choices=DeselectionReason.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose the reason for de-selection from the list"},
    )
    # The same question revealed under each decision that ends a tier (one per reveal).
    deselect_exit_outcome = _exit_outcome_field()
    exit_dip_outcome = _exit_outcome_field()
    reason = forms.CharField(
        label="Reason for the decision",
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": f"The reason must be {REASON_MAX:,} characters or fewer"},
    )

    def service_args(self) -> dict[str, Any]:
        """The keyword arguments for selection.panel.panel_decide: only the answers that
        belong to the chosen kind (a reveal left filled in under another kind is ignored)."""
        data = self.cleaned_data
        kind = data["kind"]
        outcome_field = EXIT_OUTCOME_FIELDS.get(kind)
        return {
            "kind": kind,
            "deselection_reason": (
                (data.get("deselection_reason") or "") if kind == DecisionKind.DESELECT else ""
            ),
            "exit_outcome": (data.get(outcome_field) or "") if outcome_field else "",
            "reason": data.get("reason") or "",
        }

    def answers(self) -> list[tuple[str, str]]:
        """The answers the service is given, as hidden fields for the "check" page."""
        data = self.cleaned_data
        kind = data["kind"]
        kept = {"kind", "reason"}
        if kind == DecisionKind.DESELECT:
            kept.add("deselection_reason")
        if kind in EXIT_OUTCOME_FIELDS:
            kept.add(EXIT_OUTCOME_FIELDS[kind])
        return [(name, str(data.get(name) or "")) for name in self.fields if name in kept]

    def place_field(self, name: str) -> str | None:
        """The form field a service's message about `name` belongs to."""
        if name == "exit_outcome":
            return EXIT_OUTCOME_FIELDS.get(self.cleaned_data.get("kind", ""))
        return name if name in self.fields else None


class RiskAssessmentForm(OnceOnlyForm):
    tool = forms.ChoiceField(
        label="Assessment tool",
        choices=RiskTool.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the assessment tool",
            "invalid_choice": "Choose the assessment tool from the list",
        },
    )
    assessed_on = GovukDateField(what="the date of the assessment", label="Date of the assessment")
    likelihood_score = _whole_number(
        label="Likelihood of re-offending score",
        what="the likelihood of re-offending score",
        low=0,
        high=100,
        hint="The percentage the tool gives, from 0 to 100",
    )
    rosh_level = forms.ChoiceField(
        label="Risk of serious harm",
        choices=RoshLevel.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the risk of serious harm level",
            "invalid_choice": "Choose the risk of serious harm level from the list",
        },
    )

    def service_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "assessed_on": data["assessed_on"],
            "tool": data["tool"],
            "likelihood_score": data["likelihood_score"],
            "rosh_level": data["rosh_level"],
        }
