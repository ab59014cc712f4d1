from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from .models import CustodyEpisode, Offender
from .services import IDENTITY_FIELDS


class GovukDateInput(forms.DateInput):
    input_type = "date"


class OffenderForm(forms.ModelForm):
    class Meta:
        model = Offender
        fields = IDENTITY_FIELDS
        widgets = {
            "date_of_birth": GovukDateInput(),
            "address": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        staff = (
            get_user_model().objects.filter(is_active=True, memberships__isnull=False).distinct()
        )
        for name in ("key_worker", "offender_manager", "police_officer"):
            self.fields[name].queryset = staff.order_by("last_name", "first_name")
            self.fields[name].label_from_instance = lambda u: u.get_full_name() or u.username


class CustodyEpisodeForm(forms.ModelForm):
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

    def __init__(self, *args: object, offender: Offender | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if offender is not None:
            self.instance.offender = offender
