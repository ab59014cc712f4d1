"""Forms for the selection pages.

The forms parse what was typed and carry the one-time token (access.submissions); the
rules (a weight is not negative, a matrix keeps a criterion, the threshold can be
reached) are the services', whose messages the pages show.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from access.submissions import OnceOnlyForm
from offenders.models import EventKind, OffenceCategory

from .models import Criterion, CriterionKind, MatrixVersion

# Each version setting the draft form edits, as the service names it.
SETTINGS = ("threshold", "window_months", "recent_months", "release_window_days", "description")
# The draft form's fields for the parts of a new criterion, by the model's field names.
ADD_FIELDS = {
    "kind": "add_kind",
    "event_kind": "add_event_kind",
    "category": "add_category",
    "category_id": "add_category",
    "weight": "add_weight",
}


class RunSelectionForm(OnceOnlyForm):
    """ "Run selection now": no fields, only the one-time token, so a double click or a
    resubmitted page makes one run, not two."""


class AdoptForm(OnceOnlyForm):
    pass


class NewDraftForm(OnceOnlyForm):
    pass


def _whole_number(label: str) -> forms.IntegerField:
    message = f"Enter {label} as a whole number, like 12"
    return forms.IntegerField(
        label=label[0].upper() + label[1:],
        error_messages={"required": message, "invalid": message},
    )


def weight_field_name(criterion: Criterion) -> str:
    return f"weight_{criterion.pk}"


def remove_field_name(criterion: Criterion) -> str:
    return f"remove_{criterion.pk}"


def criterion_hint(kind: str) -> str:
    """What a point of weight buys, from the kind's description: "points each"."""
    label = str(CriterionKind(kind).label)
    return label.split(" (", 1)[1].rstrip(")").capitalize() if " (" in label else ""


class MatrixDraftForm(OnceOnlyForm):
    """A draft's weights, settings, criteria to remove and one criterion to add.

    Weights and the threshold are text: the service reads them as numbers and says
    what is wrong ("cannot be negative") in its own words.
    """

    threshold = forms.CharField(
        label="Threshold",
        required=False,
        help_text="Below this score someone not on the scheme is not listed",
    )
    window_months = _whole_number("the offending window in months")
    recent_months = _whole_number("the recent offending window in months")
    release_window_days = _whole_number("the release window in days")
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    add_kind = forms.ChoiceField(
        label="Kind of criterion",
        required=False,
        choices=[("", "Do not add a criterion"), *CriterionKind.choices],
    )
    add_event_kind = forms.ChoiceField(
        label="Kind of offending event",
        required=False,
        choices=[("", "Not needed"), *EventKind.choices],
        help_text="Only for “Offending events of a kind in the window”",
    )
    add_category = forms.ModelChoiceField(
        label="Offence category",
        required=False,
        queryset=OffenceCategory.objects.order_by("name"),
        empty_label="Not needed",
        help_text="Only for “Local priority crime in the window”",
    )
    add_weight = forms.CharField(label="Weight of the new criterion", required=False)

    def __init__(
        self, *args: Any, version: MatrixVersion, criteria: list[Criterion], **kwargs: Any
    ) -> None:
        initial: dict[str, Any] = {name: getattr(version, name) for name in SETTINGS}
        initial["threshold"] = plain_number(version.threshold)
        initial.update({weight_field_name(c): plain_number(c.weight) for c in criteria})
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.version = version
        self.criteria = criteria
        for c in criteria:
            self.fields[weight_field_name(c)] = forms.CharField(
                label=f"Weight for {c.label}", required=False, help_text=criterion_hint(c.kind)
            )
            self.fields[remove_field_name(c)] = forms.BooleanField(
                label=f"Remove {c.label}", required=False
            )

    def criterion_rows(self) -> list[tuple[Criterion, Any, Any]]:
        """(criterion, weight field, remove field) for each criterion, for the template."""
        return [(c, self[weight_field_name(c)], self[remove_field_name(c)]) for c in self.criteria]

    def update(self) -> dict[str, Any]:
        """The keyword arguments for services.matrix_draft_update: what was changed.

        Only changed weights and settings are passed, so the audit row names what
        changed; a criterion being removed gets no weight.
        """
        data = self.cleaned_data
        remove = [c.pk for c in self.criteria if data.get(remove_field_name(c))]
        weights = {
            c.pk: data.get(weight_field_name(c), "")
            for c in self.criteria
            if c.pk not in remove and _differs(data.get(weight_field_name(c), ""), c.weight)
        }
        settings: dict[str, Any] = {}
        for name in SETTINGS:
            value, current = data.get(name), getattr(self.version, name)
            if name == "threshold":
                if _differs(value or "", current):
                    settings[name] = value or ""
            elif name == "description":
                if (value or "") != current:
                    settings[name] = value or ""
            elif value != current:
                settings[name] = value
        add = []
        if data.get("add_kind"):
            category = data.get("add_category")
            add.append(
                {
                    "kind": data["add_kind"],
                    "event_kind": data.get("add_event_kind") or "",
                    "category_id": category.pk if category else None,
                    "weight": data.get("add_weight") or "",
                }
            )
        return {"weights": weights, "settings": settings, "add": add, "remove": remove}


def plain_number(value: Any) -> str:
    """2.00 -> "2", 1.50 -> "1.5": a figure as a person writes it."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _differs(typed: Any, current: Decimal) -> bool:
    try:
        return Decimal(str(typed).strip()) != current
    except (InvalidOperation, ValueError):
        return True
