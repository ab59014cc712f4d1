"""The partner API's representations of people and their records (issue 12).

Each response serializer is built with the fields this reader may see
(`access.api.readable_fields`, from the policy) and drops the rest: the classes list
every field a record kind has, never which role sees which. Request serializers are
strict (`access.api.StrictSerializer`): unknown fields are refused. Nothing here holds a
rule; the services called with the validated values do.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from access.api import StrictSerializer

from .models import (
    ContactKind,
    ContactOutcome,
    CustodyKind,
    DrugTestResult,
    Ethnicity,
    EventKind,
    MappaLevel,
    ScaledApproach,
    Sex,
    Supervision,
)


class PolicyFieldsSerializer(serializers.Serializer):
    """A response whose fields are cut down to `visible` (the policy's field set)."""

    def __init__(self, *args: Any, visible: Collection[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if visible is not None:
            for name in [str(name) for name in list(self.fields) if name not in visible]:
                self.fields.pop(name)


class PolicyFieldsSchema(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """In the schema, no field of a policy-cut response is required: a reader gets only
    the fields their role may see, and the others are absent (not null), so a partner
    system must not expect any one of them (drf-spectacular would list every read-only
    field as required)."""

    target_class = PolicyFieldsSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema.pop("required", None)
        note = "Only the fields your role may see are present; the others are left out."
        description = schema.get("description")
        schema["description"] = f"{description}\n\n{note}" if description else note
        return schema


def _staff_name(user: Any) -> str | None:
    return (user.get_full_name() or user.get_username()) if user else None


@extend_schema_field(OpenApiTypes.STR)
class StaffNameField(serializers.Field):
    """A member of staff by name, as the pages show them."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return _staff_name(value)


# --- People ------------------------------------------------------------------------------


class PersonSerializer(PolicyFieldsSerializer):
    """A person, as the client's role may see them: a partner gets name, date of birth
    and contact details only (ACCESS.md); fields it may not see are absent, not null."""

    id = serializers.IntegerField(read_only=True)
    first_name = serializers.CharField(read_only=True)
    last_name = serializers.CharField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    date_of_birth = serializers.DateField(read_only=True)
    age = serializers.SerializerMethodField()
    address = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True)
    aliases = serializers.CharField(read_only=True)
    sex = serializers.CharField(read_only=True)
    ethnicity = serializers.CharField(read_only=True)
    pnc_id = serializers.CharField(read_only=True, allow_null=True)
    cro_number = serializers.CharField(read_only=True)
    prison_number = serializers.CharField(read_only=True)
    crn = serializers.CharField(read_only=True)
    local_ref = serializers.CharField(read_only=True)
    status = serializers.CharField(source="current_status", read_only=True)
    supervision = serializers.CharField(read_only=True)
    dip_client = serializers.BooleanField(read_only=True)
    crasbo = serializers.BooleanField(read_only=True)
    mappa_level = serializers.IntegerField(read_only=True, allow_null=True)
    iom_grade = serializers.CharField(read_only=True)
    strands = serializers.ListField(
        source="strand_values", child=serializers.CharField(), read_only=True
    )
    tier = serializers.CharField(source="current_tier", read_only=True)
    asset_score = serializers.IntegerField(read_only=True, allow_null=True)
    scaled_approach = serializers.CharField(read_only=True)
    key_worker = StaffNameField()
    offender_manager = StaffNameField()
    police_officer = StaffNameField()

    def get_age(self, obj: Any) -> int:
        return int(obj.age_on(self.context["as_of"]))


# --- Offending events ----------------------------------------------------------------------


class OffendingEventSerializer(PolicyFieldsSerializer):
    id = serializers.IntegerField(read_only=True)
    person = serializers.IntegerField(source="offender_id", read_only=True)
    kind = serializers.CharField(read_only=True)
    category = serializers.CharField(source="category.name", read_only=True, allow_null=True)
    occurred_on = serializers.DateField(read_only=True)
    recorded_on = serializers.DateField(read_only=True)
    source = serializers.CharField(source="source_agency.name", read_only=True)  # type: ignore[assignment]
    source_reference = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)


def _one_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise serializers.ValidationError("This cannot have a line break in it")
    return value


class OffendingEventCreateSerializer(StrictSerializer):
    """An event from a police system, checked by the import's own rules (one row of an
    events import, offenders.importing.events): the person by PNC ID, the event keyed by
    the client's agency and its reference, in any case."""

    pnc_id = serializers.CharField(max_length=30, help_text="The person's PNC ID")
    kind = serializers.ChoiceField(choices=EventKind.choices)
    category = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="The offence category's name; may be empty for intelligence, breach, recall",
    )
    occurred_on = serializers.DateField(help_text="When it happened")
    recorded_on = serializers.DateField(help_text="When your agency recorded it")
    source_reference = serializers.CharField(
        max_length=200, help_text="Your system's reference: with your agency, the key"
    )
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)

    def validate_source_reference(self, value: str) -> str:
        return _one_line(value)

    def validate_category(self, value: str) -> str:
        return _one_line(value)

    def validate_summary(self, value: str) -> str:
        return _one_line(value)

    def validate_pnc_id(self, value: str) -> str:
        return _one_line(value)


# --- Contacts and drug tests -------------------------------------------------------------------


class ContactSerializer(PolicyFieldsSerializer):
    id = serializers.IntegerField(read_only=True)
    person = serializers.IntegerField(source="offender_id", read_only=True)
    occurred_at = serializers.DateTimeField(read_only=True)
    kind = serializers.CharField(read_only=True)
    outcome = serializers.CharField(read_only=True)
    face_to_face = serializers.BooleanField(read_only=True)
    note = serializers.CharField(read_only=True)
    agency = serializers.CharField(source="agency.name", read_only=True)
    worker = StaffNameField()
    enforcement_flagged = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ContactCreateSerializer(StrictSerializer):
    person = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The person's record number"
    )
    occurred_at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=ContactKind.choices)
    outcome = serializers.ChoiceField(choices=ContactOutcome.choices)
    face_to_face = serializers.BooleanField(required=False, default=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class DrugTestSerializer(PolicyFieldsSerializer):
    id = serializers.IntegerField(read_only=True)
    person = serializers.IntegerField(source="offender_id", read_only=True)
    tested_at = serializers.DateTimeField(read_only=True)
    result = serializers.CharField(read_only=True)
    substances = serializers.CharField(read_only=True)
    note = serializers.CharField(read_only=True)
    agency = serializers.CharField(source="agency.name", read_only=True)
    tester = StaffNameField()


class DrugTestCreateSerializer(StrictSerializer):
    person = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The person's record number"
    )
    tested_at = serializers.DateTimeField()
    result = serializers.ChoiceField(choices=DrugTestResult.choices)
    substances = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


# --- Custody ----------------------------------------------------------------------------------


class CustodyEpisodeSerializer(PolicyFieldsSerializer):
    id = serializers.IntegerField(read_only=True)
    person = serializers.IntegerField(source="offender_id", read_only=True)
    in_custody = serializers.SerializerMethodField()
    kind = serializers.CharField(read_only=True)
    establishment = serializers.CharField(source="establishment.name", read_only=True)
    started_on = serializers.DateField(read_only=True)
    sentence_length_months = serializers.IntegerField(read_only=True, allow_null=True)
    expected_release_on = serializers.DateField(read_only=True, allow_null=True)
    released_on = serializers.DateField(read_only=True, allow_null=True)
    supervision_on_release = serializers.CharField(read_only=True)

    def get_in_custody(self, obj: Any) -> bool:
        as_of = self.context["as_of"]
        return bool(
            obj.started_on <= as_of and (obj.released_on is None or obj.released_on > as_of)
        )


class ReceptionSerializer(StrictSerializer):
    """A prison's reception of a PPO or former PPO (offenders.arrival.reception_record)."""

    identifier = serializers.CharField(
        max_length=30, help_text="The PNC ID or prison number the arrival check matched"
    )
    kind = serializers.ChoiceField(choices=CustodyKind.choices)
    sentence_length_months = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=1200
    )
    expected_release_on = serializers.DateField(required=False, allow_null=True, default=None)


class ArrivalCheckSerializer(StrictSerializer):
    identifier = serializers.CharField(max_length=30, help_text="A PNC ID or a prison number")


class SchemeContactSerializer(serializers.Serializer):
    scheme = serializers.CharField()
    name = serializers.CharField()
    agency = serializers.CharField()
    email = serializers.CharField()


class ArrivalAnswerSerializer(serializers.Serializer):
    """Only the answer and whom to call: never a name or anything else of the record."""

    identifier_kind = serializers.CharField(source="identifier.kind.value")
    identifier = serializers.CharField(source="identifier.value")
    answer = serializers.CharField(source="answer.value")
    contact = SchemeContactSerializer()


class PersonUpdateSerializer(StrictSerializer):
    """A change to a person's details (offenders.services.offender_update), any subset.

    The IOM grade is changed with its own reason and history (grade_change), strands and
    the allocated staff on the pages: none of them is a field here."""

    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    aliases = serializers.CharField(max_length=300, allow_blank=True)
    date_of_birth = serializers.DateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    ethnicity = serializers.ChoiceField(choices=Ethnicity.choices)
    address = serializers.CharField(max_length=500, allow_blank=True)
    phone = serializers.CharField(max_length=40, allow_blank=True)
    pnc_id = serializers.CharField(max_length=20, allow_blank=True, allow_null=True)
    cro_number = serializers.CharField(max_length=20, allow_blank=True)
    prison_number = serializers.CharField(max_length=10, allow_blank=True)
    crn = serializers.CharField(max_length=10, allow_blank=True)
    local_ref = serializers.CharField(max_length=40, allow_blank=True)
    supervision = serializers.ChoiceField(choices=Supervision.choices)
    dip_client = serializers.BooleanField()
    crasbo = serializers.BooleanField()
    mappa_level = serializers.ChoiceField(choices=MappaLevel.choices, allow_null=True)
    asset_score = serializers.IntegerField(min_value=0, max_value=64, allow_null=True)
    scaled_approach = serializers.ChoiceField(choices=ScaledApproach.choices, allow_blank=True)
