"""The partner API's case conferences (issue 12): read only.

Read through this app's selectors, the conference pages' own rules: the PPO manager, key
workers, police and YOT read every conference; prison and partner clients only those
their agency was invited to (`access.policy.conferences_q`), and within one only the
people in their own scope (`visible_people`: a partner, those referred to it). A role
that reads no conferences (the steering group) is refused (403), as on the pages. A
conference's detail is audited as a consultation of the people shown, as the agenda page
is; each page of the list as a consultation of its conferences.

`updated_since` (ISO 8601 date-time): a conference has no `updated_at`; it finds those
created (`created_at`) or closed (`closed_at`) from that moment on. Minutes recorded on a
planned conference do not move either: read the detail again before the conference closes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import Prefetch, Q
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from access import audit
from access.api import (
    ListView,
    PartnerAPIView,
    PolicyFilterSet,
    SinceFilter,
    error_responses,
    readable_fields,
    record_id_parameter,
    record_number,
)
from access.errors import OutOfScope
from access.policy import RecordKind, grant

from . import selectors
from .models import Attendance, CaseConference, ConferenceStatus
from .serializers import (
    ConferenceDetailSerializer,
    ConferencePersonSerializer,
    ConferenceSerializer,
)

CONFERENCE = selectors.CONFERENCE
LIST_ERRORS = error_responses(400, 401, 403, 429)
READ_ERRORS = error_responses(401, 403, 404, 429)

CONFERENCE_EXAMPLE = {
    "id": 31,
    "held_on": "2026-06-22",
    "location": "Northshire police station, room 2",
    "status": "closed",
    "chair": "Alex Morgan",
    "people": 2,
    "attendances": [
        {"agency": "Northshire CJIT", "attended": True, "attendees": "J. Rees"},
        {"agency": "Northshire Probation", "attended": True, "attendees": "S. Patel"},
    ],
    "created_at": "2026-06-01T09:00:00Z",
    "closed_at": "2026-06-22T12:30:00Z",
}
DETAIL_EXAMPLE = {
    **CONFERENCE_EXAMPLE,
    "reviewed": [
        {
            "person": 4021,
            "order": 1,
            "minutes": "Engaging with treatment; housing application made.",
            "offender_comment": "Wants to stay at the hostel.",
            "contact_level_per_week": 3,
            "next_conference_on": "2026-09-21",
            "frozen_plan": {"as_of": "2026-06-22", "needs": [], "actions": []},
        }
    ],
}


def _attendances() -> Prefetch:
    return Prefetch("attendances", queryset=Attendance.objects.select_related("agency"))


class ConferenceFilter(PolicyFilterSet):
    status = django_filters.ChoiceFilter(choices=ConferenceStatus.choices)
    held_from = django_filters.DateFilter(field_name="held_on", lookup_expr="gte")
    held_to = django_filters.DateFilter(field_name="held_on", lookup_expr="lte")
    updated_since = SinceFilter(
        method="filter_updated_since", help_text="Created or closed from this moment on"
    )

    class Meta:
        model = CaseConference
        fields: list[str] = []

    def filter_updated_since(self, queryset: Any, name: str, value: dt.datetime) -> Any:
        return queryset.filter(Q(created_at__gte=value) | Q(closed_at__gte=value))


class ConferenceList(ListView):
    # For the schema's filter parameters only: rows come from the selectors.
    queryset = CaseConference.objects.none()
    serializer_class = ConferenceSerializer
    filterset_class = ConferenceFilter
    ordering_fields = ["id", "held_on"]

    @extend_schema(
        summary="Case conferences",
        description="The conferences your role may read (prison and partner clients: those "
        "their agency was invited to), with how many of the people on each you may see.",
        responses={200: ConferenceSerializer(many=True), **LIST_ERRORS},
        examples=[OpenApiExample("A conference", value=CONFERENCE_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        actor = self.actor
        conferences = selectors.conference_queryset(user=actor).prefetch_related(_attendances())
        page = self.paginate_queryset(self.filter_queryset(conferences))
        rows = list(page if page is not None else [])
        filters = {k: v[:100] for k, v in request.query_params.items() if k != "cursor"}
        audit.consulted(actor, CONFERENCE, rows, view="api", filters=filters)
        counts = selectors.visible_people_counts(actor, [c.pk for c in rows])
        visible = readable_fields(
            actor, RecordKind.CONFERENCES, list(ConferenceSerializer().fields)
        )
        data = ConferenceSerializer(
            rows, many=True, visible=visible, context={"people_counts": counts}
        ).data
        return self.get_paginated_response(data)


class ConferenceDetail(PartnerAPIView):
    serializer_class = ConferenceDetailSerializer

    @extend_schema(
        summary="One case conference",
        parameters=[record_id_parameter("conference")],
        description="With the people on it you may see and their minutes; the plan frozen "
        "when it closed only for roles that read action plans. 404 for a conference you may "
        "not read, exactly as for one that does not exist.",
        responses={200: ConferenceDetailSerializer, **READ_ERRORS},
        examples=[OpenApiExample("A conference", value=DETAIL_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: str) -> Response:
        actor = selectors.reader(self.actor)
        number = record_number(pk)
        if number is None:
            audit.denied(actor, CONFERENCE, str(pk)[:40], "outside scope")
            raise OutOfScope(CONFERENCE, pk)
        conference = selectors.conference_for_reader(actor, number)
        people = selectors.visible_people(actor, conference)
        fields = set(
            readable_fields(
                actor, RecordKind.CONFERENCES, list(ConferencePersonSerializer().fields)
            )
        )
        if not grant(actor, RecordKind.PATHWAYS).can_read:
            fields.discard("frozen_plan")
        audit.consulted(
            actor,
            selectors.OFFENDER,
            [p.offender_id for p in people],
            view="api conference",
            conference=conference.pk,
        )
        context = {
            "people_counts": {conference.pk: len(people)},
            "reviewed": people,
            "person_fields": frozenset(fields),
        }
        visible = readable_fields(
            actor, RecordKind.CONFERENCES, list(ConferenceDetailSerializer().fields)
        )
        data = ConferenceDetailSerializer(conference, visible=visible, context=context).data
        return Response(data)
