"""Forms for the conference pages: they parse what was typed (a GOV.UK date in three
parts, whole numbers, choices) and carry the one-time token (access.submissions) and the
version a record was read at. The rules — a date not in the past, at least one PPO, a next
conference after this one, a closed conference unchanged — are the services'
(conferences.services), whose messages the pages show."""

from __future__ import annotations

from typing import Any

from django import forms

from access.submissions import OnceOnlyForm
from pathways.models import NeedLevel
from selection.panel_forms import GovukDateField

from .services import ATTENDEES_MAX, CONTACT_LEVEL_MAX, LOCATION_MAX, MINUTES_MAX, NOTES_MAX

ATTENDED_CHOICES = [("", "Not recorded"), ("yes", "Attended"), ("no", "Did not attend")]


def _choices(form: forms.Form, name: str, choices: list[tuple[Any, str]]) -> None:
    form.fields[name].choices = choices  # type: ignore[attr-defined]


class ConferenceForm(OnceOnlyForm):
    held_on = GovukDateField(
        what="the date of the conference", label="When is the conference?", required=True
    )
    chair = forms.TypedChoiceField(
        label="Chair",
        coerce=int,
        help_text="PPO managers are listed first (001 §3.1: the PPO manager chairs)",
        error_messages={"required": "Choose who chairs the conference"},
    )
    location = forms.CharField(
        label="Where", max_length=LOCATION_MAX, required=False, help_text="A room or a call link"
    )
    people = forms.TypedMultipleChoiceField(
        label="PPOs to review",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Current PPOs. Those due a conference are ticked.",
    )
    agencies = forms.TypedMultipleChoiceField(
        label="Agencies invited",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Prison and partner staff read the agendas of conferences their agency is "
        "invited to, for the people in their scope",
    )

    def __init__(
        self,
        *args: Any,
        chairs: list[tuple[int, str]],
        people: list[tuple[int, str]],
        agencies: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "chair", [("", "Choose the chair"), *chairs])
        # String values, so that the boxes ticked are found again in what was posted.
        _choices(self, "people", [(str(pk), label) for pk, label in people])
        _choices(self, "agencies", [(str(pk), label) for pk, label in agencies])

    def service_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "held_on": data["held_on"],
            "chair_id": data["chair"],
            "location": data["location"],
            "people_ids": list(data["people"]),
            "agency_ids": list(data["agencies"]),
        }


class AttendanceForm(OnceOnlyForm):
    """One pair of fields per agency invited: whether it attended, and who came."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, attendances: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = []
        for row in attendances:
            attended = f"attended_{row.agency_id}"
            names = f"attendees_{row.agency_id}"
            self.fields[attended] = forms.ChoiceField(
                label=f"Did {row.agency.name} attend?", choices=ATTENDED_CHOICES, required=False
            )
            self.fields[names] = forms.CharField(
                label=f"Who attended for {row.agency.name}",
                max_length=ATTENDEES_MAX,
                required=False,
                help_text="Names and roles",
            )
            if not self.is_bound:
                self.initial[attended] = {True: "yes", False: "no"}.get(row.attended, "")
                self.initial[names] = row.attendees
            self.rows.append((row, attended, names))

    def bound_rows(self) -> list[tuple[Any, Any, Any]]:
        return [(row, self[attended], self[names]) for row, attended, names in self.rows]

    def place_field(self, name: str) -> str | None:
        return name if name in self.fields else None

    def attendance(self) -> dict[int, tuple[bool | None, str]]:
        data = self.cleaned_data
        return {
            row.agency_id: ({"yes": True, "no": False}.get(data[attended]), data[names])
            for row, attended, names in self.rows
        }


class PersonRecordForm(OnceOnlyForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    minutes = forms.CharField(
        label="Minutes", max_length=MINUTES_MAX, required=False, widget=forms.Textarea
    )
    offender_comment = forms.CharField(
        label="The person's own comment on the plan",
        max_length=NOTES_MAX,
        required=False,
        widget=forms.Textarea,
        help_text="001 §3.1: the offender attends the final part of the conference",
    )
    contact_level_per_week = forms.IntegerField(
        label="Contacts a week",
        min_value=0,
        max_value=CONTACT_LEVEL_MAX,
        required=False,
        help_text="The contact level the conference sets (001 §3.2b: four a week is the "
        "premium service)",
        error_messages={
            "invalid": f"Enter the contact level as a whole number from 0 to {CONTACT_LEVEL_MAX}",
            "min_value": f"Enter the contact level as a whole number from 0 to {CONTACT_LEVEL_MAX}",
            "max_value": f"Enter the contact level as a whole number from 0 to {CONTACT_LEVEL_MAX}",
        },
    )
    next_conference_on = GovukDateField(
        what="the date of the next conference",
        label="Next conference",
        required=False,
        hint="After this conference. For example, 27 9 2026",
    )

    def service_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "version": data["version"],
            "minutes": data["minutes"],
            "offender_comment": data["offender_comment"],
            "contact_level_per_week": data["contact_level_per_week"],
            "next_conference_on": data["next_conference_on"],
        }


class NeedForm(OnceOnlyForm):
    pathway = forms.TypedChoiceField(
        label="Pathway", coerce=int, error_messages={"required": "Choose the pathway"}
    )
    level = forms.ChoiceField(
        label="Level of need",
        choices=NeedLevel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the level of need"},
    )
    note = forms.CharField(label="Note", max_length=2000, required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, pathways: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "pathway", [("", "Choose the pathway")] + [(p.pk, p.name) for p in pathways])


class ActionForm(OnceOnlyForm):
    pathway = forms.TypedChoiceField(
        label="Pathway", coerce=int, error_messages={"required": "Choose the pathway"}
    )
    description = forms.CharField(
        label="Action", max_length=2000, widget=forms.Textarea, required=False
    )
    owner_agency = forms.TypedChoiceField(
        label="Owner agency", coerce=int, required=False, empty_value=None
    )
    owner = forms.TypedChoiceField(
        label="Owner", coerce=int, required=False, empty_value=None, help_text="Optional"
    )
    due_on = GovukDateField(what="the date the action is due", label="Due", required=False)

    def __init__(
        self, *args: Any, pathways: list[Any], agencies: list[Any], owners: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "pathway", [("", "Choose the pathway")] + [(p.pk, p.name) for p in pathways])
        _choices(
            self, "owner_agency", [("", "Choose the agency")] + [(a.pk, a.name) for a in agencies]
        )
        _choices(
            self,
            "owner",
            [("", "No one named")]
            + [
                (m.user_id, f"{m.user.get_full_name() or m.user.username} – {m.agency.name}")
                for m in owners
            ],
        )

    def service_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "pathway_id": data["pathway"],
            "description": data["description"],
            "owner_agency_id": data["owner_agency"],
            "owner_id": data["owner"],
            "due_on": data["due_on"],
        }

    def place_field(self, name: str) -> str | None:
        name = {"owner_agency_id": "owner_agency", "owner_id": "owner"}.get(name, name)
        return name if name in self.fields else None


class CloseForm(OnceOnlyForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class CoreGroupForm(OnceOnlyForm):
    held_on = GovukDateField(what="the date of the meeting", label="When did the group meet?")
    notes = forms.CharField(
        label="Notes", max_length=NOTES_MAX, widget=forms.Textarea, required=False
    )
    agencies = forms.TypedMultipleChoiceField(
        label="Agencies present", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, agencies: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "agencies", [(str(pk), label) for pk, label in agencies])
