"""The self-assessment form: it parses what was typed and carries the one-time token and
the version read; the rules are reporting.self_assessment's."""

from __future__ import annotations

from django import forms

from access.submissions import OnceOnlyForm

from .models import Rag
from .self_assessment import EVIDENCE_MAX


class SelfAssessmentForm(OnceOnlyForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    rag = forms.ChoiceField(
        label="Rating",
        choices=Rag.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a rating", "invalid_choice": "Choose a rating"},
    )
    evidence = forms.CharField(
        label="Evidence",
        max_length=EVIDENCE_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What shows the criteria are met, or what is missing",
        error_messages={
            "required": "Enter the evidence for the rating",
            "max_length": f"The evidence must be {EVIDENCE_MAX:,} characters or fewer",
        },
    )

    def place_field(self, name: str) -> str | None:
        return name if name in self.fields else None
