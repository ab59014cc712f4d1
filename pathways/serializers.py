"""The partner API's representations of actions and referrals (issue 12).

Response serializers list every field of the record; the reader gets them all or none
(`access.api.readable_fields`: pathway records have no field-level rule in ACCESS.md).
Request serializers are strict (`access.api.StrictSerializer`): unknown fields are
refused. Nothing here holds a rule; pathways.services, called with the validated
values, does.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from access.api import StrictSerializer
from offenders.serializers import PolicyFieldsSerializer, StaffNameField

from .models import PATHWAYS, ActionStatus, ReferralStatus
from .services import TEXT_MAX

MAX_ID = 2**63 - 1


class ActionSerializer(PolicyFieldsSerializer):
    id = serializers.IntegerField(read_only=True)
    person = serializers.IntegerField(source="offender_id", read_only=True)
    pathway = serializers.CharField(source="pathway.code", read_only=True)
    description = serializers.CharField(read_only=True)
    owner_agency = serializers.CharField(source="owner_agency.name", read_only=True)
    owner = StaffNameField()
    due_on = serializers.DateField(read_only=True)
    status = serializers.ChoiceField(choices=ActionStatus.choices, read_only=True)
    outcome = serializers.CharField(read_only=True)
    finished_on = serializers.DateField(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField(
        help_text="Still open and due before today (due today is not yet overdue)"
    )
    created_on = serializers.DateField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    version = serializers.IntegerField(read_only=True)

    def get_overdue(self, obj: Any) -> bool:
        from .selectors import is_overdue

        return is_overdue(obj, self.context["as_of"])


class ActionUpdateSerializer(StrictSerializer):
    """A change of an action's status and outcome (pathways.services.action_update, as
    the update-an-action page): done or not achieved needs an outcome."""

    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": ["Send the status, the outcome, or both"]}
            )
        return attrs


class ReferralSerializer(PolicyFieldsSerializer):
    id = serializers.IntegerField(read_only=True)
    person = serializers.IntegerField(source="offender_id", read_only=True)
    agency = serializers.CharField(source="agency.name", read_only=True)
    provider = serializers.IntegerField(source="provider_id", read_only=True, allow_null=True)
    provider_name = serializers.CharField(
        source="provider.name", read_only=True, allow_null=True, default=None
    )
    pathway = serializers.CharField(source="pathway.code", read_only=True)
    opened_on = serializers.DateField(read_only=True)
    closed_on = serializers.DateField(read_only=True, allow_null=True)
    is_open = serializers.SerializerMethodField(help_text="Open on today's date")
    status = serializers.ChoiceField(choices=ReferralStatus.choices, read_only=True)
    reason = serializers.CharField(read_only=True)
    outcome = serializers.CharField(read_only=True)
    assessed_on = serializers.DateField(read_only=True, allow_null=True)
    first_appointment_on = serializers.DateField(read_only=True, allow_null=True)
    version = serializers.IntegerField(read_only=True)

    def get_is_open(self, obj: Any) -> bool:
        as_of = self.context["as_of"]
        return bool(obj.opened_on <= as_of and (obj.closed_on is None or obj.closed_on > as_of))


class ReferralCreateSerializer(StrictSerializer):
    """A referral to a provider on a pathway it serves (pathways.services.referral_create,
    as the make-a-referral page): a partner only to its own agency's providers."""

    person = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The person's record number"
    )
    provider = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The provider's record number"
    )
    pathway = serializers.ChoiceField(
        choices=[code for code, _ in PATHWAYS], help_text="The pathway's code"
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=TEXT_MAX
    )


class ReferralUpdateSerializer(StrictSerializer):
    """A referral moved on (pathways.services.referral_update, as the update-a-referral
    page): declined, completed or withdrawn closes it and needs an outcome."""

    status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX)
    closed_on = serializers.DateField(required=False, help_text="Default today, when closing")
    assessed_on = serializers.DateField(required=False)
    first_appointment_on = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": ["Send at least one field to change"]}
            )
        return attrs
