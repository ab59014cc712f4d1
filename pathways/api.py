"""The partner API's action-plan endpoints (issue 12): actions and referrals.

The same policy as the pages, by calling the same code: lists come from this app's
selectors (`action_list`, `referral_list`: the people in the client's scope, a partner's
referrals only its own agency's), writes go through the services the update-an-action,
make-a-referral and update-a-referral pages call (`action_update`, `referral_create`,
`referral_update`), so a write is checked, validated and audited exactly as a form's. A
role that reads no plans (the steering group) is refused (403), as on the pages; a
record outside the client's scope is a 404, audited, exactly as one that does not exist;
one the client may read but not change (an action another agency owns) is a 403.

ETag and If-Match: from the record's `version`, which the services move on with every
change (the pages' own optimistic concurrency). A PATCH without If-Match is a 428, with a
stale one a 412, and nothing is written.

`updated_since` (ISO 8601 date-time): actions by `updated_at` (every change through the
service moves it); referrals have no such timestamp, so by the day they were opened or
closed (the London day of the moment given, or later) — a change of status that does not
close a referral is not found by it: read the referral's `version` instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from access import audit
from access.api import (
    IDEMPOTENCY_PARAMETER,
    IF_MATCH,
    ListView,
    PartnerAPIView,
    PersonFilterSet,
    SinceFilter,
    YesNoFilter,
    check_if_match,
    error_responses,
    etag_for,
    idempotent_create,
    local_day,
    readable_fields,
    record_id_parameter,
    record_in_scope,
)
from access.errors import ApplicationError, Refused
from access.policy import Actor, RecordKind

from . import selectors, services
from .models import PATHWAYS, Action, ActionStatus, Pathway, Referral, ReferralStatus
from .serializers import (
    ActionSerializer,
    ActionUpdateSerializer,
    ReferralCreateSerializer,
    ReferralSerializer,
    ReferralUpdateSerializer,
)

ACTION = selectors.ACTION
REFERRAL = selectors.REFERRAL
LIST_ERRORS = error_responses(400, 401, 403, 429)
READ_ERRORS = error_responses(401, 403, 404, 429)
UPDATE_ERRORS = error_responses(400, 401, 403, 404, 412, 413, 428, 429)
CREATE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 429)


def _readable(actor: Actor, serializer_class: type[Any]) -> frozenset[str]:
    # Pathway records are all or nothing in ACCESS.md: the policy says which (rule 10).
    return readable_fields(actor, RecordKind.PATHWAYS, list(serializer_class().fields))


def _as_of(filterset: django_filters.FilterSet) -> dt.date:
    actor = getattr(filterset.request, "ppo_actor", None)
    return actor.as_of if actor is not None else timezone.localdate()


# --- Actions ---------------------------------------------------------------------------------


class ActionFilter(PersonFilterSet):
    status = django_filters.ChoiceFilter(choices=ActionStatus.choices)
    pathway = django_filters.ChoiceFilter(field_name="pathway__code", choices=PATHWAYS)
    mine = YesNoFilter(
        method="filter_mine", help_text="true: only actions your agency owns (false: the others)"
    )
    overdue = YesNoFilter(
        method="filter_overdue",
        help_text="true: still open and due before today, as the overdue-actions page",
    )
    updated_since = SinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Action
        fields: list[str] = []

    def filter_mine(self, queryset: Any, name: str, value: str) -> Any:
        actor = getattr(self.request, "ppo_actor", None)
        agency_id = actor.agency_id if actor is not None else None
        mine = Q(owner_agency_id=agency_id)
        return queryset.filter(mine) if value == "true" else queryset.exclude(mine)

    def filter_overdue(self, queryset: Any, name: str, value: str) -> Any:
        overdue = Q(pk__in=Action.objects.overdue_on(_as_of(self)).values("pk"))
        return queryset.filter(overdue) if value == "true" else queryset.exclude(overdue)


def _action_etag(action: Action) -> str:
    return etag_for(ACTION, action.pk, action.version)


ACTION_EXAMPLE = {
    "id": 812,
    "person": 4021,
    "pathway": "accommodation",
    "description": "Apply for the supported housing place at Riverside House",
    "owner_agency": "Northshire Housing",
    "owner": "Sam Patel",
    "due_on": "2026-07-01",
    "status": "done",
    "outcome": "Place offered and accepted",
    "finished_on": "2026-06-20",
    "overdue": False,
    "created_on": "2026-05-14",
    "updated_at": "2026-06-20T10:12:00Z",
    "version": 3,
}


class ActionList(ListView):
    # For the schema's filter parameters only: rows come from the selectors.
    queryset = Action.objects.none()
    serializer_class = ActionSerializer
    filterset_class = ActionFilter
    ordering_fields = ["id", "due_on", "updated_at"]

    @extend_schema(
        summary="Actions of the plans in your scope",
        description="Every action of the people your agency's role may see, as their plan "
        "tabs show them; `mine=true` for those your agency owns, `overdue=true` for the "
        "overdue ones. Refused (403) to a role that reads no plans.",
        responses={200: ActionSerializer(many=True), **LIST_ERRORS},
        examples=[OpenApiExample("An action", value=ACTION_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        return self.audited_page(
            selectors.action_list(user=self.actor),
            record_type=ACTION,
            serializer_class=ActionSerializer,
            visible=_readable(self.actor, ActionSerializer),
        )


class ActionDetail(PartnerAPIView):
    serializer_class = ActionSerializer

    def _shown(self, action_id: int, *, view: str) -> Response:
        actor = self.actor
        action = selectors.action_list(user=actor).get(pk=action_id)
        audit.consulted(actor, ACTION, [action], view=view)
        data = ActionSerializer(
            action, visible=_readable(actor, ActionSerializer), context={"as_of": actor.as_of}
        ).data
        return Response(data, headers={"ETag": _action_etag(action)})

    @extend_schema(
        summary="One action",
        parameters=[record_id_parameter("action")],
        description="404 for an action outside your scope, exactly as for one that does not "
        "exist. The ETag changes whenever the action does.",
        responses={200: ActionSerializer, **READ_ERRORS},
        examples=[OpenApiExample("An action", value=ACTION_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: str) -> Response:
        action = record_in_scope(self.actor, ACTION, pk, selectors.action_list(user=self.actor))
        return self._shown(action.pk, view="api action")

    @extend_schema(
        summary="Update an action's status and outcome",
        parameters=[record_id_parameter("action"), IF_MATCH],
        description="Through the same service and checks as the update-an-action page: a "
        "partner only actions its own agency owns (403 for another agency's); done or not "
        "achieved needs an outcome. Send `If-Match` with the ETag of your last read.",
        request=ActionUpdateSerializer,
        responses={200: ActionSerializer, **UPDATE_ERRORS},
        examples=[
            OpenApiExample(
                "Done",
                request_only=True,
                value={"status": "done", "outcome": "Place offered and accepted"},
            )
        ],
    )
    def patch(self, request: Request, pk: str) -> Response:
        actor = self.actor
        action = record_in_scope(actor, ACTION, pk, selectors.action_list(user=actor))
        if not services.may_update_action(actor, action):
            raise Refused(ACTION, action.pk, "not an action the client's agency may update")
        # Locked for the rest of the request, so two changes made from the same read
        # cannot both pass the check.
        current = Action.objects.select_for_update(of=("self",)).get(pk=action.pk)
        check_if_match(request, _action_etag(current))
        body = ActionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.action_update(
            user=actor, action_id=current.pk, version=current.version, **body.validated_data
        )
        return self._shown(current.pk, view="api action changed")


# --- Referrals -------------------------------------------------------------------------------


class ReferralFilter(PersonFilterSet):
    status = django_filters.ChoiceFilter(choices=ReferralStatus.choices)
    pathway = django_filters.ChoiceFilter(field_name="pathway__code", choices=PATHWAYS)
    open = YesNoFilter(method="filter_open", help_text="true: open today (false: closed)")
    updated_since = SinceFilter(
        method="filter_updated_since",
        help_text="Opened or closed on the London day of this moment or later",
    )

    class Meta:
        model = Referral
        fields: list[str] = []

    def filter_open(self, queryset: Any, name: str, value: str) -> Any:
        is_open = Q(pk__in=Referral.objects.open_on(_as_of(self)).values("pk"))
        return queryset.filter(is_open) if value == "true" else queryset.exclude(is_open)

    def filter_updated_since(self, queryset: Any, name: str, value: dt.datetime) -> Any:
        day = local_day(value)
        return queryset.filter(Q(opened_on__gte=day) | Q(closed_on__gte=day))


def _referral_etag(referral: Referral) -> str:
    return etag_for(REFERRAL, referral.pk, referral.version)


REFERRAL_EXAMPLE = {
    "id": 233,
    "person": 4021,
    "agency": "Northshire CJIT",
    "provider": 12,
    "provider_name": "Northshire CJIT drug service",
    "pathway": "drugs_alcohol",
    "opened_on": "2026-05-14",
    "closed_on": None,
    "is_open": True,
    "status": "accepted",
    "reason": "Heroin use; wants treatment",
    "outcome": "",
    "assessed_on": "2026-05-16",
    "first_appointment_on": None,
    "version": 2,
}


class ReferralList(ListView):
    # For the schema's filter parameters only: rows come from the selectors.
    queryset = Referral.objects.none()
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter
    ordering_fields = ["id", "opened_on"]

    @extend_schema(
        summary="Referrals",
        description="The referrals of the people in your scope; a partner agency's client "
        "only the referrals to its own agency. Refused (403) to a role that reads no plans.",
        responses={200: ReferralSerializer(many=True), **LIST_ERRORS},
        examples=[OpenApiExample("A referral", value=REFERRAL_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        return self.audited_page(
            selectors.referral_list(user=self.actor),
            record_type=REFERRAL,
            serializer_class=ReferralSerializer,
            visible=_readable(self.actor, ReferralSerializer),
        )

    @extend_schema(
        summary="Make a referral",
        description="As the make-a-referral page: to an active provider on a pathway it "
        "serves, for a person your role may change; a partner only to its own agency's "
        "providers (403 otherwise). The referral's agency is the provider's.",
        request=ReferralCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: ReferralSerializer, **CREATE_ERRORS},
        examples=[
            OpenApiExample(
                "A referral",
                request_only=True,
                value={
                    "person": 4021,
                    "provider": 12,
                    "pathway": "drugs_alcohol",
                    "reason": "Heroin use; wants treatment",
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        actor = self.actor
        body = ReferralCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if not selectors.referral_providers(actor):
            # The page's own check: a role with no provider to refer to is refused.
            raise Refused(REFERRAL, "", "no provider this client may refer to")
        pathway = Pathway.objects.filter(code=data["pathway"]).first()
        if pathway is None:
            raise ApplicationError(
                "Choose a pathway", field_errors={"pathway": ["Choose a pathway"]}
            )

        def create() -> tuple[Referral, int]:
            referral = services.referral_create(
                user=actor,
                offender_id=data["person"],
                provider_id=data["provider"],
                pathway_id=pathway.pk,
                reason=data["reason"],
            )
            return (
                record_in_scope(actor, REFERRAL, referral.pk, selectors.referral_list(user=actor)),
                status.HTTP_201_CREATED,
            )

        return idempotent_create(
            self,
            create=create,
            render=lambda r: (
                ReferralSerializer(
                    r, visible=_readable(actor, ReferralSerializer), context={"as_of": actor.as_of}
                ).data
            ),
            replay=lambda pk: record_in_scope(
                actor, REFERRAL, pk, selectors.referral_list(user=actor)
            ),
        )


class ReferralDetail(PartnerAPIView):
    serializer_class = ReferralSerializer

    def _shown(self, referral_id: int, *, view: str) -> Response:
        actor = self.actor
        referral = selectors.referral_list(user=actor).get(pk=referral_id)
        audit.consulted(actor, REFERRAL, [referral], view=view)
        data = ReferralSerializer(
            referral, visible=_readable(actor, ReferralSerializer), context={"as_of": actor.as_of}
        ).data
        return Response(data, headers={"ETag": _referral_etag(referral)})

    @extend_schema(
        summary="One referral",
        parameters=[record_id_parameter("referral")],
        description="404 for a referral outside your scope, exactly as for one that does "
        "not exist. The ETag changes whenever the referral does.",
        responses={200: ReferralSerializer, **READ_ERRORS},
        examples=[OpenApiExample("A referral", value=REFERRAL_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: str) -> Response:
        actor = self.actor
        referral = record_in_scope(actor, REFERRAL, pk, selectors.referral_list(user=actor))
        return self._shown(referral.pk, view="api referral")

    @extend_schema(
        summary="Move a referral on",
        parameters=[record_id_parameter("referral"), IF_MATCH],
        description="Through the same service and checks as the update-a-referral page: "
        "accepted, declined, completed or withdrawn; a closing status needs an outcome and "
        "closes the referral (a closed one stays closed: 400). The assessment and first "
        "appointment dates start and stop the treatment clock. A partner only referrals to "
        "its own agency (403 otherwise). Send `If-Match` with the ETag of your last read.",
        request=ReferralUpdateSerializer,
        responses={200: ReferralSerializer, **UPDATE_ERRORS},
        examples=[
            OpenApiExample(
                "Assessed and accepted",
                request_only=True,
                value={"status": "accepted", "assessed_on": "2026-05-16"},
            )
        ],
    )
    def patch(self, request: Request, pk: str) -> Response:
        actor = self.actor
        referral = record_in_scope(actor, REFERRAL, pk, selectors.referral_list(user=actor))
        if not services.may_update_referral(actor, referral):
            raise Refused(REFERRAL, referral.pk, "not a referral the client's agency may update")
        current = Referral.objects.select_for_update(of=("self",)).get(pk=referral.pk)
        check_if_match(request, _referral_etag(current))
        body = ReferralUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.referral_update(
            user=actor, referral_id=current.pk, version=current.version, **body.validated_data
        )
        return self._shown(current.pk, view="api referral changed")
