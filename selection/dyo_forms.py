"""Forms for marking and ending a Deter Young Offender (003 §7).

They parse what was typed and carry the one-time token (access.submissions); the rules
(under 18, an Asset score from 0 to 64, an exit strategy with a lead agency from 18) are
selection.panel's, whose messages the pages show beside the fields they name.
"""

from __future__ import annotations

from typing import Any

from django import forms

from access.models import Agency
from access.submissions import OnceOnlyForm
from offenders.forms import GovukDateInput
from offenders.models import ExitRoute, ScaledApproach

from .models import ExitOutcome

DATE_MESSAGES = {
    "required": "Enter the date of the decision",
    "invalid": "Enter the date of the decision as a real date, like 10 6 2026",
}
# 003 §7.5: where a DYO goes after the exit review (selection.panel.DYO_EXIT_ROUTES).
EXIT_ROUTE_CHOICES = [
    (ExitRoute.IOM, "Local IOM arrangements (joins the IOM tier; 18 or over only)"),
    (ExitRoute.TRANSFER, "Moved to another area"),
    (ExitRoute.NONE, "No tier: the lead agency takes the exit strategy forward"),
]


def _decision_date() -> forms.DateField:
    return forms.DateField(
        label="Date of the decision",
        widget=GovukDateInput(),
        error_messages=DATE_MESSAGES,
        help_text="Recorded as a decision of the DYO panel you chair that day",
    )


def _text(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=2000,
        widget=forms.Textarea,
        help_text=help_text,
    )


class MarkDyoForm(OnceOnlyForm):
    held_on = _decision_date()
    asset_score = forms.IntegerField(
        label="Asset score",
        required=False,
        help_text="The total score of the latest Asset assessment, from 0 to 64",
        error_messages={"invalid": "Enter the Asset score as a whole number, like 36"},
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    scaled_approach = forms.ChoiceField(
        label="Scaled Approach level of intervention",
        choices=ScaledApproach.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    reason = _text("Reason", "Needed when the level of intervention is not intensive")


class EndDyoForm(OnceOnlyForm):
    held_on = _decision_date()
    exit_route = forms.ChoiceField(
        label="Where the young person goes next",
        choices=EXIT_ROUTE_CHOICES,
        required=False,
        widget=forms.RadioSelect,
    )
    exit_lead_agency = forms.ChoiceField(
        label="Agency leading the exit strategy",
        required=False,
        help_text="Needed from 18: one agency, statutory or voluntary, oversees the plan",
    )
    exit_strategy = _text(
        "Exit strategy",
        "Needed from 18: the plan for the young person's enduring risks and needs",
    )
    exit_outcome = forms.ChoiceField(
        label="Outcome",
        required=False,
        choices=[("", "Not recorded"), *ExitOutcome.choices],
    )
    reason = _text("Reason", "Needed when the young person is under 18")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agencies = Agency.objects.filter(active=True).order_by("name").values_list("pk", "name")
        lead = self.fields["exit_lead_agency"]
        assert isinstance(lead, forms.ChoiceField)
        lead.choices = [("", "Choose an agency"), *agencies]
