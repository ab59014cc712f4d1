"""The partner API's casework endpoints (issue 12): people, offending events, contacts,
drug tests and custody episodes.

Every read goes through this app's selectors (scoped by the policy) and every write
through its services or the events import, so an API write is validated and audited
exactly like a form. The foundation — token authentication, the error shape, cursor
pagination, throttling, Idempotency-Key and ETag — is access.api.

Which timestamp `updated_since` (ISO 8601 date-time) compares with, per resource: the
record's last change (`updated_at`, to the microsecond, from that moment on) for people,
offending events, drug tests and custody episodes; contacts, which are never changed
once logged, by when they were recorded (`created_at`). A partner syncing incrementally
sends the moment it started its previous sync.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import django_filters
import django_filters.fields
from django import forms
from django.db.models import Q, QuerySet
from django.db.models.functions import Upper
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from access import audit
from access.api import (
    IDEMPOTENCY_PARAMETER,
    MAX_ID,
    Conflict,
    ListView,
    PartnerAPIView,
    PersonFilterSet,
    PolicyFilterSet,
    SinceFilter,
    check_if_match,
    error_body,
    error_responses,
    etag_for,
    idempotent_create,
    readable_fields,
)
from access.errors import ApplicationError, NotPermitted, OutOfScope, Refused
from access.policy import Actor, RecordKind, may_check_arrivals, visible_fields

from . import arrival, identifiers, selectors, services
from .importing import EVENT_COLUMNS, import_events
from .models import Contact, CustodyEpisode, DrugTest, EventKind, Offender, OffendingEvent
from .serializers import (
    ArrivalAnswerSerializer,
    ArrivalCheckSerializer,
    ContactCreateSerializer,
    ContactSerializer,
    CustodyEpisodeSerializer,
    DrugTestCreateSerializer,
    DrugTestSerializer,
    OffendingEventCreateSerializer,
    OffendingEventSerializer,
    PersonSerializer,
    PersonUpdateSerializer,
    ReceptionSerializer,
)
from .tiers import TIER_FIELD, with_tier

K = RecordKind
LIST_ERRORS = error_responses(400, 401, 429)
READ_ERRORS = error_responses(401, 404, 429)
CREATE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 429)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before the next request will be answered",
)

PERSON_ID = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description="The person's record number"
)


def _fields_of(serializer_class: type) -> list[str]:
    return list(serializer_class().fields)


def _record(record_type: str, pk: int, queryset: QuerySet[Any]) -> Any:
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise OutOfScope(record_type, pk)
    return found


# --- Filters ------------------------------------------------------------------------------


def _identifier_field(normalise: Any) -> type[forms.CharField]:
    class IdentifierField(forms.CharField):
        def clean(self, value: Any) -> Any:
            value = super().clean(value)
            return normalise(value) if value else value

    return IdentifierField


class _PncFilter(django_filters.CharFilter):
    field_class = _identifier_field(identifiers.normalise_pnc)


class _PrisonNumberFilter(django_filters.CharFilter):
    field_class = _identifier_field(identifiers.normalise_prison_number)


class _CrnFilter(django_filters.CharFilter):
    field_class = _identifier_field(identifiers.normalise_crn)


class PeopleFilter(PolicyFilterSet):
    pnc_id = _PncFilter(field_name="pnc_id", help_text="Only where your role may see PNC IDs")
    prison_number = _PrisonNumberFilter(
        field_name="prison_number", help_text="Only where your role may see prison numbers"
    )
    crn = _CrnFilter(field_name="crn", help_text="Only where your role may see CRNs")
    updated_since = SinceFilter(field_name="updated_at", lookup_expr="gte")

    guarded = {
        "pnc_id": (K.IDENTITY, "pnc_id"),
        "prison_number": (K.IDENTITY, "prison_number"),
        "crn": (K.IDENTITY, "crn"),
    }

    class Meta:
        model = Offender
        fields: list[str] = []


class OffendingEventFilter(PersonFilterSet):
    kind = django_filters.ChoiceFilter(choices=EventKind.choices)
    updated_since = SinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = OffendingEvent
        fields: list[str] = []


class ContactFilter(PersonFilterSet):
    updated_since = SinceFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Contact
        fields: list[str] = []


class DrugTestFilter(PersonFilterSet):
    updated_since = SinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = DrugTest
        fields: list[str] = []


class CustodyEpisodeFilter(PersonFilterSet):
    updated_since = SinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = CustodyEpisode
        fields: list[str] = []


# --- People ---------------------------------------------------------------------------------


def _people(actor: Actor) -> QuerySet[Offender]:
    fields = visible_fields(actor, K.IDENTITY)
    people = selectors.offender_list(user=actor).select_related(
        "offender_manager", "police_officer"
    )
    if "strands" in fields:
        people = people.prefetch_related("strands")
    if TIER_FIELD in fields:
        people = with_tier(people, actor.as_of)
    return people


class PeopleList(ListView):
    # For the schema's filter parameters only: rows come from the selectors.
    queryset = Offender.objects.none()
    serializer_class = PersonSerializer
    filterset_class = PeopleFilter
    ordering_fields = ["id", "updated_at"]
    ordering = ["id"]

    @extend_schema(
        summary="People in your scope",
        description="Everyone your agency's role may see, with the fields it may see. "
        "Filtering by an identifier your role may not see is refused (400).",
        responses={200: PersonSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return self.audited_page(
            _people(self.actor),
            record_type=selectors.OFFENDER,
            serializer_class=PersonSerializer,
            visible=visible_fields(self.actor, K.IDENTITY),
        )


class PersonDetail(PartnerAPIView):
    serializer_class = PersonSerializer

    @extend_schema(
        summary="One person",
        parameters=[PERSON_ID],
        description="404 for anyone outside your scope, exactly as for an id that does not "
        "exist. The ETag changes whenever the record does.",
        responses={200: PersonSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: str) -> Response:
        actor = self.actor
        # One query for a person in scope: the list's own scoped queryset, with what the
        # response shows. Anyone else goes to the selector, which refuses (404, or 403 for
        # a role that sees no one) and audits the refusal exactly as on the pages.
        person = _people(actor).filter(pk=int(pk)).first() if _is_record_number(pk) else None
        if person is None:
            selectors.offender_get(user=actor, pk=pk)
            # Found by the selector only when written other than in ASCII digits ("٣"):
            # not a record number this endpoint answers for.
            audit.denied(actor, selectors.OFFENDER, pk, "not a record number")
            raise OutOfScope(selectors.OFFENDER, pk)
        return self._shown(person, view="api person", loaded=True)

    def _shown(self, offender: Offender, *, view: str, loaded: bool = False) -> Response:
        actor = self.actor
        person = offender if loaded else _people(actor).get(pk=offender.pk)
        fields = visible_fields(actor, K.IDENTITY)
        selectors.offender_form_shown(actor, person, form=view, shown=sorted(fields))
        data = PersonSerializer(person, visible=fields, context={"as_of": actor.as_of}).data
        return Response(data, headers={"ETag": _person_etag(person)})

    @extend_schema(
        summary="Change a person's details",
        parameters=[PERSON_ID],
        description="Send `If-Match` with the ETag of your last read: 412 if the record has "
        "changed since, 428 without it. Only the fields sent are changed, through the same "
        "service and checks as the change-details page.",
        request=PersonUpdateSerializer,
        responses={
            200: PersonSerializer,
            **error_responses(400, 401, 403, 404, 412, 413, 428, 429),
        },
    )
    def patch(self, request: Request, pk: str) -> Response:
        actor = self.actor
        offender = selectors.offender_get(user=actor, pk=pk, write=True)
        # Locked for the rest of the request, so two changes made from the same read
        # cannot both pass the check.
        current = Offender.objects.select_for_update().get(pk=offender.pk)
        check_if_match(request, _person_etag(current))
        body = PersonUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changed = services.offender_update(
            user=actor, offender_id=offender.pk, data=dict(body.validated_data)
        )
        return self._shown(changed, view="api person changed")


def _is_record_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID


def _person_etag(person: Offender) -> str:
    # Offender has no `version`: its `updated_at` moves on every save, and every change
    # of details goes through offender_update, which saves the person.
    return etag_for("offenders.offender", person.pk, person.updated_at.isoformat())


# --- Offending events ------------------------------------------------------------------------

# The import's columns, as this endpoint's fields.
_EVENT_FIELD_OF_COLUMN = {
    "source": "source_reference",
    "source_reference": "source_reference",
    "pnc_id": "pnc_id",
    "event_kind": "kind",
    "offence_category": "category",
    "date_committed": "occurred_on",
    "date_recorded": "recorded_on",
    "summary": "summary",
    "": "non_field_errors",
}
DUPLICATE_REFERENCE = "Duplicate reference with different content"


def _event_create(actor: Actor, data: dict[str, Any]) -> tuple[OffendingEvent, int]:
    """One event through the events import (offenders.importing.events): the same checks
    of the person, kind, category, dates and reference as a file row, keyed by the
    client's agency and its reference, so sending it again changes nothing."""
    agency = actor.agency
    if agency is None:
        raise NotPermitted("Your client has no current agency")
    reference = data["source_reference"].strip()
    values = {
        "source": agency.name,
        "source_reference": reference,
        "pnc_id": data["pnc_id"],
        "event_kind": data["kind"],
        "offence_category": data["category"],
        "date_committed": data["occurred_on"].isoformat(),
        "date_recorded": data["recorded_on"].isoformat(),
        "summary": data["summary"],
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column.name for column in EVENT_COLUMNS])
    writer.writerow([values[column.name] for column in EVENT_COLUMNS])
    result = import_events(user=actor, file=buffer.getvalue().encode("utf-8"), filename="API")
    if result.file_problems:
        raise NotPermitted(result.file_problems[0])
    if result.problems:
        errors: dict[str, list[str]] = {}
        for problem in result.problems:
            field = _EVENT_FIELD_OF_COLUMN.get(problem.column, problem.column)
            errors.setdefault(field, []).append(problem.problem)
        messages = [p.problem for p in result.problems]
        if any(m.startswith("Your role can") for m in messages):
            raise Refused("offenders.offendingevent", "", messages[0])
        if any(m.startswith(DUPLICATE_REFERENCE) for m in messages):
            raise Conflict(
                "Your agency already sent an event with this reference, with different content",
                field_errors=errors,
            )
        raise ApplicationError(messages[0], field_errors=errors)
    event = (
        selectors.offending_event_list(user=actor)
        .filter(source_agency=agency)
        .annotate(reference_upper=Upper("source_reference"))
        .filter(Q(reference_upper=reference.upper()) | Q(source_reference=reference))
        .first()
    )
    if event is None:
        raise OutOfScope("offenders.offendingevent", reference)
    return event, status.HTTP_201_CREATED if result.created else status.HTTP_200_OK


class OffendingEventList(ListView):
    # For the schema's filter parameters only: rows come from the selectors.
    queryset = OffendingEvent.objects.none()
    serializer_class = OffendingEventSerializer
    filterset_class = OffendingEventFilter
    ordering_fields = ["id", "occurred_on", "recorded_on", "updated_at"]

    def _visible(self) -> frozenset[str]:
        fields = _fields_of(OffendingEventSerializer)
        return readable_fields(self.actor, K.OFFENDING, fields) | readable_fields(
            self.actor, K.INTELLIGENCE, fields
        )

    @extend_schema(
        summary="Offending events and intelligence reports",
        description="Intelligence reports only for roles that may read them.",
        responses={200: OffendingEventSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return self.audited_page(
            selectors.offending_event_list(user=self.actor),
            record_type="offenders.offendingevent",
            serializer_class=OffendingEventSerializer,
            visible=self._visible(),
        )

    @extend_schema(
        summary="Record an event from a police system",
        description="Idempotent by your agency and `source_reference` (in any case): sending "
        "the same event again answers 200 with the event on record; the same reference with "
        "different content is refused (409). The same checks as the events import.",
        request=OffendingEventCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: OffendingEventSerializer,
            200: OffendingEventSerializer,
            **CREATE_ERRORS,
        },
        examples=[
            OpenApiExample(
                "An arrest",
                request_only=True,
                value={
                    "pnc_id": "2004/0046583U",
                    "kind": "arrest",
                    "category": "Shoplifting",
                    "occurred_on": "2026-05-01",
                    "recorded_on": "2026-05-02",
                    "source_reference": "NICHE-000123",
                    "summary": "Arrested at the shopping centre",
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        body = OffendingEventCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = self.actor
        events = selectors.offending_event_list(user=actor)
        return idempotent_create(
            self,
            create=lambda: _event_create(actor, dict(body.validated_data)),
            render=lambda event: OffendingEventSerializer(event, visible=self._visible()).data,
            replay=lambda pk: _record("offenders.offendingevent", pk, events),
        )


# --- Contacts ----------------------------------------------------------------------------------


class ContactList(ListView):
    # For the schema's filter parameters only: rows come from the selectors.
    queryset = Contact.objects.none()
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    ordering_fields = ["id", "occurred_at", "created_at"]

    def _visible(self) -> frozenset[str]:
        return readable_fields(self.actor, K.CONTACTS, _fields_of(ContactSerializer))

    @extend_schema(
        summary="Contacts",
        description="A prison or partner client sees its own agency's contacts only.",
        responses={200: ContactSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return self.audited_page(
            selectors.contact_list(user=self.actor),
            record_type="offenders.contact",
            serializer_class=ContactSerializer,
            visible=self._visible(),
        )

    @extend_schema(
        summary="Log a contact",
        description="As the log-contact page: a failed-to-attend on licence or an order is "
        "flagged for fast-track enforcement and opens an enforcement case (001 §3.2e).",
        request=ContactCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: ContactSerializer, **CREATE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = ContactCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        actor = self.actor
        contacts = selectors.contact_list(user=actor)

        def create() -> tuple[Contact, int]:
            contact = services.contact_log(
                user=actor,
                offender_id=data["person"],
                occurred_at=data["occurred_at"],
                kind=data["kind"],
                outcome=data["outcome"],
                face_to_face=data["face_to_face"],
                note=data["note"],
            )
            return _record("offenders.contact", contact.pk, contacts), status.HTTP_201_CREATED

        return idempotent_create(
            self,
            create=create,
            render=lambda c: ContactSerializer(c, visible=self._visible()).data,
            replay=lambda pk: _record("offenders.contact", pk, contacts),
        )


# --- Drug tests ----------------------------------------------------------------------------------


class DrugTestList(ListView):
    # For the schema's filter parameters only: rows come from the selectors.
    queryset = DrugTest.objects.none()
    serializer_class = DrugTestSerializer
    filterset_class = DrugTestFilter
    ordering_fields = ["id", "tested_at", "updated_at"]

    def _visible(self) -> frozenset[str]:
        return readable_fields(self.actor, K.DRUG_TESTS, _fields_of(DrugTestSerializer))

    @extend_schema(
        summary="Drug tests",
        responses={200: DrugTestSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return self.audited_page(
            selectors.drug_test_list(user=self.actor),
            record_type="offenders.drugtest",
            serializer_class=DrugTestSerializer,
            visible=self._visible(),
        )

    @extend_schema(
        summary="Record a drug test",
        request=DrugTestCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: DrugTestSerializer, **CREATE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = DrugTestCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        actor = self.actor
        tests = selectors.drug_test_list(user=actor)

        def create() -> tuple[DrugTest, int]:
            test = services.drug_test_record(
                user=actor,
                offender_id=data["person"],
                tested_at=data["tested_at"],
                result=data["result"],
                substances=data["substances"],
                note=data["note"],
            )
            return _record("offenders.drugtest", test.pk, tests), status.HTTP_201_CREATED

        return idempotent_create(
            self,
            create=create,
            render=lambda t: DrugTestSerializer(t, visible=self._visible()).data,
            replay=lambda pk: _record("offenders.drugtest", pk, tests),
        )


# --- Custody ----------------------------------------------------------------------------------


class CustodyEpisodeList(ListView):
    # For the schema's filter parameters only: rows come from the selectors.
    queryset = CustodyEpisode.objects.none()
    serializer_class = CustodyEpisodeSerializer
    filterset_class = CustodyEpisodeFilter

    @property
    def ordering_fields(self) -> list[str]:  # type: ignore[override]
        # Sorted only by what the reader may see (STYLE.md rule 10).
        return ["id", "updated_at"] + [
            name
            for name in ("started_on", "expected_release_on", "released_on")
            if name in visible_fields(self.actor, K.CUSTODY)
        ]

    def _visible(self) -> frozenset[str]:
        fields = readable_fields(self.actor, K.CUSTODY, _fields_of(CustodyEpisodeSerializer))
        # Which person an episode is of: their record number, which every reader of a
        # person's identity sees.
        if fields and "id" in visible_fields(self.actor, K.IDENTITY):
            fields |= {"person"}
        return fields

    @extend_schema(
        summary="Custody episodes",
        description="A reader who may see only whether a person is in custody and the "
        "release date (a partner) gets each person's latest episode with those fields only.",
        responses={200: CustodyEpisodeSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return self.audited_page(
            selectors.custody_episode_list(user=self.actor),
            record_type="offenders.custodyepisode",
            serializer_class=CustodyEpisodeSerializer,
            visible=self._visible(),
        )

    @extend_schema(
        summary="Record a reception (prisons)",
        description="A prison records the reception of a PPO or former PPO it has "
        "recognised with the arrival check: a custody episode in its establishment, from now. "
        "The key worker and police officer are alerted.",
        request=ReceptionSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: CustodyEpisodeSerializer, **CREATE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        actor = self.actor
        if not may_check_arrivals(actor):
            raise Refused("offenders.custodyepisode", "", "only prisons record receptions")
        body = ReceptionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        label = "offenders.custodyepisode"

        def create() -> tuple[CustodyEpisode, int]:
            episode = arrival.reception_record(
                user=actor,
                identifier=data["identifier"],
                kind=data["kind"],
                sentence_length_months=data["sentence_length_months"],
                expected_release_on=data["expected_release_on"],
            )
            episodes = selectors.custody_episode_list(user=actor)
            return _record(label, episode.pk, episodes), status.HTTP_201_CREATED

        return idempotent_create(
            self,
            create=create,
            render=lambda e: (
                CustodyEpisodeSerializer(
                    e, visible=self._visible(), context={"as_of": actor.as_of}
                ).data
            ),
            replay=lambda pk: _record(label, pk, selectors.custody_episode_list(user=actor)),
        )


class ArrivalCheck(PartnerAPIView):
    serializer_class = ArrivalCheckSerializer

    @extend_schema(
        summary="Arrival check (prisons)",
        description="Whether a PNC ID or prison number is a PPO's, a former PPO's or not "
        "known, and the scheme contact: nothing else of the record. Audited; at most the "
        "scheme's number of checks a minute (`arrival_checks_per_minute`) for the client: "
        "one more is refused with 429 and `Retry-After`.",
        request=ArrivalCheckSerializer,
        parameters=[RETRY_AFTER],
        responses={200: ArrivalAnswerSerializer, **error_responses(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        body = ArrivalCheckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            answer = arrival.arrival_check(
                user=self.actor, identifier=body.validated_data["identifier"]
            )
        except arrival.RateLimited as error:
            # The scheme's own limit on checks (not the client's request rate), answered
            # as any throttle is: 429 with how long to wait; the refusal's audit row kept.
            return Response(
                error_body(error.message),
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(error.retry_after)},
            )
        except ApplicationError as error:
            # Answered directly, not raised: the check's audit row (a malformed identifier,
            # a refusal for the rate limit) must be kept, and raising would roll it back.
            return Response(
                error_body(error.message, error.field_errors), status=status.HTTP_400_BAD_REQUEST
            )
        return Response(ArrivalAnswerSerializer(answer).data)
