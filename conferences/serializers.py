"""The partner API's representations of case conferences (issue 12).

A conference is shown with the agencies invited and, in its detail, the people on it that
the reader may see (`conferences.selectors.visible_people`) with their minutes; the plan
frozen when it closed only for a reader of plans, as on the pages (absent otherwise).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from offenders.serializers import PolicyFieldsSerializer, StaffNameField

from .models import ConferenceStatus


class AttendanceSerializer(serializers.Serializer):
    agency = serializers.CharField(source="agency.name", read_only=True)
    attended = serializers.BooleanField(
        read_only=True, allow_null=True, help_text="Empty until the attendance is recorded"
    )
    attendees = serializers.CharField(read_only=True)


class ConferenceSerializer(PolicyFieldsSerializer):
    id = serializers.IntegerField(read_only=True)
    held_on = serializers.DateField(read_only=True)
    location = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=ConferenceStatus.choices, read_only=True)
    chair = StaffNameField()
    people = serializers.SerializerMethodField(
        help_text="How many of the people reviewed at it you may see"
    )
    attendances = AttendanceSerializer(many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_people(self, obj: Any) -> int:
        return int(self.context["people_counts"].get(obj.pk, 0))


@extend_schema_field(OpenApiTypes.OBJECT)
class FrozenPlanField(serializers.JSONField):
    """The needs and actions as agreed when the conference closed (empty while planned)."""


class ConferencePersonSerializer(PolicyFieldsSerializer):
    person = serializers.IntegerField(source="offender_id", read_only=True)
    order = serializers.IntegerField(read_only=True)
    minutes = serializers.CharField(read_only=True)
    offender_comment = serializers.CharField(read_only=True)
    contact_level_per_week = serializers.IntegerField(read_only=True, allow_null=True)
    next_conference_on = serializers.DateField(read_only=True, allow_null=True)
    frozen_plan = FrozenPlanField(
        read_only=True,
        allow_null=True,
        help_text="Only for readers of action plans; absent otherwise",
    )


class ConferenceDetailSerializer(ConferenceSerializer):
    reviewed = serializers.SerializerMethodField(
        help_text="The people on it you may see, in the conference's order"
    )

    @extend_schema_field(ConferencePersonSerializer(many=True))
    def get_reviewed(self, obj: Any) -> list[dict[str, Any]]:
        people = self.context["reviewed"]
        return list(
            ConferencePersonSerializer(
                people, many=True, visible=self.context["person_fields"]
            ).data
        )
