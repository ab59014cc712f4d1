"""Forms for needs, actions and referrals. They parse what was typed and carry the
one-time token (access.submissions) and, for changes, the version the record was read at;
the rules (who may, due dates, providers serving a pathway) are the services'
(pathways.services), whose messages the pages show."""

from __future__ import annotations

from typing import Any

from django import forms

from access.models import Agency, Membership
from access.submissions import OnceOnlyForm
from selection.panel_forms import GovukDateField

from .models import (
    CLOSED_REFERRAL_STATUSES,
    ActionStatus,
    NeedLevel,
    Pathway,
    Provider,
    ReferralStatus,
)

TEXT_MAX = 2000


def _text(label: str, *, required: bool, what: str, hint: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_MAX,
        help_text=hint,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": f"Enter {what}",
            "max_length": (
                f"The {what.removeprefix('the ')} must be {TEXT_MAX:,} characters or fewer"
            ),
        },
    )


def _choice(label: str, choices: list[tuple[Any, str]], *, what: str, required: bool = True) -> Any:
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=int,
        required=required,
        empty_value=None,
        error_messages={
            "required": f"Choose {what}",
            "invalid_choice": f"Choose {what} from the list",
        },
    )


def owner_choice_list(members: list[Membership]) -> list[tuple[Any, str]]:
    seen: set[int] = set()
    choices: list[tuple[Any, str]] = [("", "No one in particular (the agency)")]
    for membership in members:
        if membership.user_id in seen:
            continue
        seen.add(membership.user_id)
        user = membership.user
        choices.append(
            (user.pk, f"{user.get_full_name() or user.username} – {membership.agency.name}")
        )
    return choices


class PlaceFields:
    """Where a service's field name (pathways.services) shows on this form."""

    service_fields: dict[str, str] = {}
    fields: dict[str, Any]

    def place_field(self, name: str) -> str | None:
        name = self.service_fields.get(name, name)
        return name if name in self.fields else None


class NeedForm(PlaceFields, OnceOnlyForm):
    pathway = _choice("Pathway", [], what="a pathway")
    level = forms.ChoiceField(
        label="Level of need",
        choices=NeedLevel.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the level of need",
            "invalid_choice": "Choose the level of need",
        },
    )
    note = _text("Note", required=False, what="the note", hint="Why this level: what was assessed")

    def __init__(self, *args: Any, pathways: list[Pathway], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["pathway"].choices = [("", "Choose a pathway")] + [
            (p.pk, p.name) for p in pathways
        ]


class ActionForm(PlaceFields, OnceOnlyForm):
    pathway = _choice("Pathway", [], what="a pathway")
    description = _text("What is to be done?", required=True, what="what is to be done")
    owner_agency = _choice("Owner agency", [], what="the agency that owns the action")
    owner = _choice("Owner (optional)", [], what="the person who owns the action", required=False)
    due_on = GovukDateField(what="the date the action is due", label="Due date")

    def __init__(
        self,
        *args: Any,
        pathways: list[Pathway],
        agencies: list[Agency],
        members: list[Membership],
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["pathway"].choices = [("", "Choose a pathway")] + [
            (p.pk, p.name) for p in pathways
        ]
        self.fields["owner_agency"].choices = [("", "Choose an agency")] + [
            (a.pk, a.name) for a in agencies
        ]
        self.fields["owner"].choices = owner_choice_list(members)
        self.fields["owner"].help_text = "Someone in the owner agency"


class ActionUpdateForm(PlaceFields, OnceOnlyForm):
    service_fields = {"owner_agency_id": "owner_agency", "owner_id": "owner"}

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    status = forms.ChoiceField(
        label="Status",
        choices=ActionStatus.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the status", "invalid_choice": "Choose the status"},
    )
    outcome = _text(
        "Outcome",
        required=False,
        what="the outcome",
        hint="Needed when the action is done or not achieved",
    )
    description = _text("What is to be done?", required=True, what="what is to be done")
    owner_agency = _choice("Owner agency", [], what="the agency that owns the action")
    owner = _choice("Owner (optional)", [], what="the person who owns the action", required=False)
    due_on = GovukDateField(what="the date the action is due", label="Due date")

    def __init__(
        self, *args: Any, agencies: list[Agency], members: list[Membership], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.fields["owner_agency"].choices = [("", "Choose an agency")] + [
            (a.pk, a.name) for a in agencies
        ]
        self.fields["owner"].choices = owner_choice_list(members)

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "status": data["status"],
            "outcome": data["outcome"],
            "description": data["description"],
            "owner_agency_id": data["owner_agency"],
            "owner_id": data["owner"],
            "due_on": data["due_on"],
        }


class ReferralForm(PlaceFields, OnceOnlyForm):
    """A provider and one of the pathways it serves, chosen together (no script needed):
    one list grouped by provider."""

    service_fields = {"provider": "choice", "pathway": "choice", "opened_on": "choice"}

    choice = forms.ChoiceField(
        label="Provider and pathway",
        choices=[],
        error_messages={
            "required": "Choose a provider and the pathway of the referral",
            "invalid_choice": "Choose a provider and the pathway of the referral from the list",
        },
    )
    reason = _text("Reason for the referral (optional)", required=False, what="the reason")

    def __init__(self, *args: Any, providers: list[Provider], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.groups = [
            (
                f"{provider.name} ({provider.agency.name})",
                [(f"{provider.pk}:{p.pk}", p.name) for p in provider.pathways.all()],
            )
            for provider in providers
        ]
        self.fields["choice"].choices = [("", "Choose a provider and pathway"), *self.groups]

    def provider_and_pathway(self) -> tuple[int, int]:
        provider, _, pathway = str(self.cleaned_data["choice"]).partition(":")
        return int(provider), int(pathway)


class ReferralUpdateForm(PlaceFields, OnceOnlyForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    status = forms.ChoiceField(
        label="Status",
        choices=ReferralStatus.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the status", "invalid_choice": "Choose the status"},
    )
    outcome = _text(
        "Outcome",
        required=False,
        what="the outcome",
        hint="Needed when the referral is declined, completed or withdrawn",
    )
    closed_on = GovukDateField(
        what="the date the referral closed",
        label="Date closed (optional)",
        hint="Leave empty for today. For example, 27 3 2026",
        required=False,
    )
    # Treatment on a clock (001 §3.2c, pathways.treatment).
    assessed_on = GovukDateField(
        what="the date of the assessment",
        label="Date assessed (optional)",
        hint="The day the provider assessed the person. For example, 27 3 2026",
        required=False,
    )
    first_appointment_on = GovukDateField(
        what="the date of the first appointment",
        label="Date of the first appointment (optional)",
        hint="The day the person was first seen for treatment or support. For example, 27 3 2026",
        required=False,
    )
    # Closing cannot be undone (a new referral is made instead): the person confirms it.
    confirm_close = forms.BooleanField(
        label="I understand that a declined, completed or withdrawn referral is closed and "
        "cannot be reopened",
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        closing = data.get("status") in CLOSED_REFERRAL_STATUSES
        if closing and not data.get("confirm_close"):
            self.add_error(
                "confirm_close",
                "Confirm that you want to close the referral: it cannot be reopened",
            )
        return data
