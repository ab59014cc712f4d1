"""The partner API's reviews (issue 12): the reviews that fell due, read only.

Read through `selection.review_selectors.review_list` (the reviews page's own rule,
`visible_q`): a review about a person only for a reader who may see that person, the
review of the whole list against the pool only for those whose scope holds the pool (the
PPO manager and police), nothing for a role that reads no selection records (prison,
partners, the steering group: 403, as on the pages). Each page served is audited as a
consultation of its reviews.

`updated_since` (ISO 8601 date-time): a review has no `updated_at`; it is raised once
(`raised_at`) and changes once more, when it is closed (`closed_on`, a day). So it finds
the reviews raised from that moment on or closed on its London day or later.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from access import audit
from access.api import (
    ListView,
    PartnerAPIView,
    PersonFilterSet,
    SinceFilter,
    YesNoFilter,
    error_responses,
    local_day,
    readable_fields,
    record_id_parameter,
    record_in_scope,
)
from access.policy import Read, RecordKind, grant

from . import review_selectors
from .models import Review, ReviewKind, ReviewStatus
from .serializers import ReviewSerializer

REVIEW = review_selectors.REVIEW
LIST_ERRORS = error_responses(400, 401, 403, 429)
READ_ERRORS = error_responses(401, 403, 404, 429)

REVIEW_EXAMPLE = {
    "id": 57,
    "kind": "no_arrest",
    "kind_label": "No arrest or intelligence for 6 months at liberty",
    "person": 4021,
    "due_on": "2026-07-03",
    "overdue": False,
    "status": "open",
    "raised_on": "2026-07-03",
    "raised_at": "2026-07-03T02:00:00Z",
    "detail": ["Days at liberty: 183", "Positive drug tests: 2"],
    "outcome": "",
    "outcome_reason": "",
    "closed_on": None,
}


class ReviewFilter(PersonFilterSet):
    kind = django_filters.ChoiceFilter(choices=ReviewKind.choices)
    status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)
    overdue = YesNoFilter(
        method="filter_overdue", help_text="true: open and past its due date, as on the page"
    )
    updated_since = SinceFilter(
        method="filter_updated_since",
        help_text="Raised from this moment on, or closed on its London day or later",
    )

    class Meta:
        model = Review
        fields: list[str] = []

    def filter_overdue(self, queryset: Any, name: str, value: str) -> Any:
        actor = getattr(self.request, "ppo_actor", None)
        as_of = actor.as_of if actor is not None else timezone.localdate()
        overdue = Q(status=ReviewStatus.OPEN) & review_selectors.overdue_q(as_of)
        return queryset.filter(overdue) if value == "true" else queryset.exclude(overdue)

    def filter_updated_since(self, queryset: Any, name: str, value: dt.datetime) -> Any:
        return queryset.filter(Q(raised_at__gte=value) | Q(closed_on__gte=local_day(value)))


def _context(view: PartnerAPIView) -> dict[str, Any]:
    actor = view.actor
    return {"reads_intelligence": grant(actor, RecordKind.INTELLIGENCE).read is Read.FULL}


def _readable(view: PartnerAPIView) -> frozenset[str]:
    # Selection records are all or nothing in ACCESS.md: the policy says which (rule 10).
    return readable_fields(view.actor, RecordKind.SELECTION, list(ReviewSerializer().fields))


class ReviewList(ListView):
    # For the schema's filter parameters only: rows come from the selectors.
    queryset = Review.objects.none()
    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    ordering_fields = ["id", "due_on", "raised_at"]

    @extend_schema(
        summary="Reviews",
        description="The reviews that fell due (open and closed) that your role may read. "
        "Refused (403) to a role that reads no selection records.",
        responses={200: ReviewSerializer(many=True), **LIST_ERRORS},
        examples=[OpenApiExample("A review", value=REVIEW_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        return self.audited_page(
            review_selectors.review_list(user=self.actor),
            record_type=REVIEW,
            serializer_class=ReviewSerializer,
            visible=_readable(self),
            context=_context(self),
        )


class ReviewDetail(PartnerAPIView):
    serializer_class = ReviewSerializer

    @extend_schema(
        summary="One review",
        parameters=[record_id_parameter("review")],
        description="404 for a review you may not read, exactly as for one that does not exist.",
        responses={200: ReviewSerializer, **READ_ERRORS},
        examples=[OpenApiExample("A review", value=REVIEW_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: str) -> Response:
        actor = self.actor
        review = record_in_scope(actor, REVIEW, pk, review_selectors.review_list(user=actor))
        audit.consulted(actor, REVIEW, [review], view="api review")
        data = ReviewSerializer(
            review, visible=_readable(self), context={"as_of": actor.as_of, **_context(self)}
        ).data
        return Response(data)
