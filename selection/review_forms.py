"""The form for recording (or correcting) a PPO transferring in from another area.

It parses what was typed (a GOV.UK date in three parts) and carries the one-time token
(access.submissions). The rules — the scheme and area are given, the day of arrival is
not in the future nor before the person was born — are the service's
(selection.reviews.services.transfer_in_record / transfer_in_correct), whose messages the
page shows beside the field they are about.
"""

from __future__ import annotations

from typing import Any

from django import forms

from access.submissions import OnceOnlyForm

from .models import TransferIn
from .panel_forms import GovukDateField

NOTE_MAX = 2000  # TransferIn.note
NAME_MAX = 200  # TransferIn.from_scheme, from_area


def _name_field(label: str, what: str, hint: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=NAME_MAX,
        help_text=hint,
        error_messages={
            "required": f"Enter {what}",
            "max_length": f"The {what.removeprefix('the ')} must be {NAME_MAX} characters or fewer",
        },
    )


class TransferInForm(OnceOnlyForm):
    """003 §6.2(2): where the person came from and when they arrived."""

    from_scheme = _name_field(
        "Which scheme does the person come from?",
        "the scheme the person comes from",
        "For example, Northtown PPO scheme",
    )
    from_area = _name_field(
        "Which area does the person come from?",
        "the area the person comes from",
        "The police force area or local authority",
    )
    arrived_on = GovukDateField(
        what="the date the person arrived",
        label="When did the person arrive in this area?",
        hint="The date of the transfer. For example, 27 3 2026",
    )
    note = forms.CharField(
        label="Notes",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example, who at the sending scheme to contact, and what they passed on",
        error_messages={"max_length": f"Notes must be {NOTE_MAX:,} characters or fewer"},
    )

    @classmethod
    def for_transfer(cls, transfer: TransferIn, data: Any = None) -> TransferInForm:
        """The correction form, showing what was recorded until something is posted."""
        initial = {
            "from_scheme": transfer.from_scheme,
            "from_area": transfer.from_area,
            "arrived_on": transfer.arrived_on,
            "note": transfer.note,
        }
        return cls(data, initial=initial)

    def service_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "from_scheme": data["from_scheme"],
            "from_area": data["from_area"],
            "arrived_on": data["arrived_on"],
            "note": data.get("note") or "",
        }
