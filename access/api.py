"""The partner API's foundation (issue 12): one error shape, the base view every endpoint
extends, strict request bodies, cursor pagination, Idempotency-Key and ETag/If-Match.

Every error is `{"detail": str, "errors": {field: [message]}}` — 400 with the fields at
fault, and the same shape with `errors: {}` for 401/403/404/409/412/413/428/429 — so a
partner system has one thing to parse. ApplicationError → 400 with its field errors;
OutOfScope → 404 exactly as on the pages (the refusal audited by the selector); a
refusal (Refused, NotPermitted) → 403, audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import django_filters
import django_filters.fields
from django import forms
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ParseError
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from . import audit
from .api_clients import ApiClientRateThrottle, ApiTokenAuthentication, IsApiClient
from .errors import ApplicationError, NotPermitted, OutOfScope, Refused
from .models import ApiClient, IdempotencyKey
from .policy import Actor, actor_for

CHECK_THE_DATA = "Check the data sent"
# A create's body is a few fields of text: anything larger is refused before it is read.
DEFAULT_MAX_BODY_BYTES = 64 * 1024
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 255
# How long a key answers for the request it was first used with; afterwards it is free.
IDEMPOTENCY_KEY_HOURS = 24


def max_body_bytes() -> int:
    return int(getattr(settings, "PPO_API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


# --- The error shape -------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the partner API."""

    detail = serializers.CharField(help_text="What went wrong, in a sentence")
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by field (a body field, query parameter or header); "
        "empty when the problem is not with one field",
    )


def _error_example(detail: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"detail": detail, "errors": errors or {}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {field: [message]}, nested fields as "a.b" / "a[0].b"."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and prefix:
                name = prefix
            for field, messages in _flatten(value, name).items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(m) for m in detail)
        else:
            for index, item in enumerate(detail):
                for field, messages in _flatten(item, f"{prefix}[{index}]").items():
                    out.setdefault(field, []).extend(messages)
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def _request_actor(context: dict[str, Any]) -> Actor | None:
    request = context.get("request")
    user = getattr(request, "user", None) if request is not None else None
    return actor_for(user) if user is not None else None


def error_body(detail: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"detail": detail, "errors": errors or {}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, NotPermitted | Refused):
        actor = _request_actor(context)
        if isinstance(exc, Refused):
            audit.denied(actor, exc.record_type, exc.record_id, exc.reason)
            message = exc.reason or "Not permitted"
        else:
            audit.denied(actor, "", "", exc.message)
            message = exc.message
        set_rollback()
        return Response(error_body(message), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(
            error_body(exc.message, exc.field_errors), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, DjangoValidationError):
        errors = (
            {k: list(v) for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"non_field_errors": list(exc.messages)}
        )
        set_rollback()
        return Response(error_body(CHECK_THE_DATA, errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, DrfValidationError):
        response.data = error_body(CHECK_THE_DATA, _flatten(exc.detail))
    else:
        data = response.data
        detail = data.get("detail", "") if isinstance(data, Mapping) else data
        response.data = error_body(
            str(detail) or "The request could not be completed",
            getattr(exc, "field_errors", None),
        )
    return response


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large"
    default_code = "payload_too_large"


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the record"
    default_code = "conflict"

    def __init__(self, detail: str | None = None, field_errors: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.field_errors = field_errors or {}


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record has changed since you read it: read it again, then retry"
    default_code = "precondition_failed"


class PreconditionRequired(APIException):
    status_code = 428
    default_detail = "Send If-Match with the ETag from your last read of the record"
    default_code = "precondition_required"


_ERRORS: tuple[tuple[int, str, dict[str, Any]], ...] = (
    (
        400,
        "Bad input: wrong types, unknown fields, bad dates, malformed identifiers",
        _error_example(
            CHECK_THE_DATA,
            {"occurred_at": ["Datetime has wrong format."], "colour": ["This field is not known"]},
        ),
    ),
    (
        401,
        "No token, or a token that is not valid, has expired or has been revoked",
        _error_example("The token is not valid, has expired or has been revoked"),
    ),
    (
        403,
        "The client's role may not do this",
        _error_example("Your role cannot record drug tests for this person"),
    ),
    (
        404,
        "Not found, or outside the client's scope (the same answer)",
        _error_example("Not found"),
    ),
    (
        409,
        "The Idempotency-Key was used for a different request, or the event's reference was "
        "sent before with different content",
        _error_example("This Idempotency-Key was used for a different request"),
    ),
    (
        412,
        "If-Match does not match the record's current ETag: read it again",
        _error_example(PreconditionFailed.default_detail),
    ),
    (
        413,
        "The request body is too large",
        _error_example("The request body is over the limit of 65,536 bytes"),
    ),
    (428, "If-Match is required on updates", _error_example(PreconditionRequired.default_detail)),
    (
        429,
        "Too many requests from this client: wait for Retry-After seconds",
        _error_example("Request was throttled. Expected available in 30 seconds."),
    ),
)


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error responses for an endpoint (extend_schema(responses=...))."""
    return {
        code: OpenApiResponse(
            ErrorSerializer,
            description=text,
            examples=[OpenApiExample(f"{code}", value=example, response_only=True)],
        )
        for code, text, example in _ERRORS
        if code in codes
    }


# --- Request bodies --------------------------------------------------------------------------


class LimitedJSONParser(JSONParser):
    """JSON, read no further than the limit: a huge body is refused (413), never held."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = max_body_bytes()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is over the limit of {limit:,} bytes")
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise ParseError(f"The body is not valid JSON: {error}") from None


class StrictSerializer(serializers.Serializer):
    """A request body: unknown fields are refused (400), not silently dropped, so a typo
    in a field name is not taken for "no value"."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(name) for name in data if name not in writable)
            if unknown:
                raise DrfValidationError({name: ["This field is not known"] for name in unknown})
        return super().to_internal_value(data)


# --- Pagination, ordering ----------------------------------------------------------------


class ApiCursorPagination(CursorPagination):
    """Cursor pagination: a page costs one query of page_size + 1 rows, never a COUNT(*)
    of everyone in scope; a cursor is stable while records are added."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def get_page_size(self, request: Request) -> int:
        """A page_size that is not a whole number from 1 to the maximum is bad input (400),
        not silently replaced by the default."""
        text = request.query_params.get(self.page_size_query_param)
        if text is None:
            return self.page_size
        if not text.isdigit() or not 1 <= int(text) <= self.max_page_size:
            message = f"Enter a whole number from 1 to {self.max_page_size}"
            raise DrfValidationError({self.page_size_query_param: [message]})
        return int(text)

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:
            message = "This cursor is not one this list gave: start again from the first page"
            raise DrfValidationError({self.cursor_query_param: [message]}) from None


class ApiOrderingFilter(OrderingFilter):
    """`ordering=` over the fields an endpoint names (`ordering_fields`), with the record
    number added last so that cursors never tie."""

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> Any:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        params = request.query_params.get(self.ordering_param)
        if params:
            context = {"request": request}
            allowed = {str(item[0]) for item in self.get_valid_fields(queryset, view, context)}
            asked = [term.strip() for term in params.split(",") if term.strip()]
            bad = [term for term in asked if term.lstrip("-") not in allowed or term == "-"]
            if bad:
                choices = ", ".join(sorted(allowed))
                message = f"Cannot order by {', '.join(bad)}: order by one of {choices}"
                raise DrfValidationError({self.ordering_param: [message]})
        if not any(str(o).lstrip("-") == "id" for o in ordering):
            descending = bool(ordering) and str(ordering[0]).startswith("-")
            ordering.append("-id" if descending else "id")
        return ordering


# --- The base view ---------------------------------------------------------------------------


class PartnerAPIView(GenericAPIView):
    """Every endpoint of the partner API: token authentication only (no session, so no
    CSRF), the client's agency as the actor, throttled per client, JSON in and out."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [IsApiClient]
    throttle_classes = [ApiClientRateThrottle]
    parser_classes = [LimitedJSONParser]
    renderer_classes = [JSONRenderer]
    pagination_class = ApiCursorPagination

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # For the filter sets, which are given the request (access.api.PolicyFilterSet).
        request.ppo_actor = self.actor  # type: ignore[attr-defined]
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            too_large = int(length) > max_body_bytes()
        except ValueError:
            too_large = False
        if too_large:
            raise PayloadTooLarge(
                f"The request body is over the limit of {max_body_bytes():,} bytes"
            )

    @property
    def actor(self) -> Actor:
        cached = getattr(self, "_actor", None)
        if cached is None:
            cached = actor_for(self.request.user)
            self._actor = cached
        return cached

    def audited_page(
        self,
        queryset: Any,
        *,
        record_type: str,
        serializer_class: type[Any],
        visible: frozenset[str],
        context: dict[str, Any] | None = None,
    ) -> Response:
        """Filter, order and paginate `queryset` (already scoped by a selector), audit
        the rows of the page as a consultation, and answer with the fields `visible`."""
        queryset = self.filter_queryset(queryset)
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        filters = {k: v[:100] for k, v in self.request.query_params.items() if k != "cursor"}
        audit.consulted(self.actor, record_type, rows, view="api", filters=filters)
        data = serializer_class(
            rows, many=True, visible=visible, context={"as_of": self.actor.as_of, **(context or {})}
        ).data
        return self.get_paginated_response(data)

    @property
    def client(self) -> ApiClient:
        auth = self.request.auth
        assert isinstance(auth, ApiClient)
        return auth


# --- Idempotency-Key on creates ------------------------------------------------------------


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def idempotent_create(
    view: PartnerAPIView,
    *,
    create: Callable[[], tuple[models.Model, int]],
    render: Callable[[models.Model], Any],
    replay: Callable[[int], models.Model],
) -> Response:
    """Run `create` (the record and its status) and answer with `render(record)`.

    With an Idempotency-Key header, the key, the client, the request's digest and the
    response's digest are kept (never the body: no copy of personal data): a repeat of
    the same request answers with the same status and the record as the client may see
    it now (`replay`, through the selectors), marked `Idempotent-Replayed: true`; the same
    key with a different request is refused (409). A request that fails stores nothing,
    so it can be retried with the same key.
    """
    request = view.request
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        record, code = create()
        return Response(render(record), status=code)
    key = key.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable() or not key.isascii():
        message = (
            f"An {IDEMPOTENCY_HEADER} is 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters"
        )
        raise DrfValidationError({IDEMPOTENCY_HEADER: [message]})
    client = view.client
    request_digest = _digest([request.method, request.path, request.data])
    expired_before = timezone.now() - dt.timedelta(hours=IDEMPOTENCY_KEY_HOURS)
    IdempotencyKey.objects.filter(client=client, key=key, created_at__lt=expired_before).delete()
    found = IdempotencyKey.objects.filter(client=client, key=key).first()
    if found is not None:
        if found.request_digest != request_digest:
            raise Conflict(
                f"This {IDEMPOTENCY_HEADER} was used for a different request: use a new key "
                "for a new request"
            )
        record = replay(found.record_id)
        # The replayed answer shows the record again: a consultation, like any read.
        audit.consulted(view.actor, found.record_type, [record], view="api idempotent replay")
        return Response(
            render(record), status=found.status_code, headers={"Idempotent-Replayed": "true"}
        )
    record, code = create()
    data = render(record)
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                client=client,
                key=key,
                request_digest=request_digest,
                status_code=code,
                response_digest=_digest(data),
                record_type=record._meta.label_lower,
                record_id=record.pk,
            )
    except IntegrityError:
        # The same key in two requests at once: the other one made the record.
        raise Conflict(f"This {IDEMPOTENCY_HEADER} is being used by another request") from None
    return Response(data, status=code)


# --- ETag / If-Match ---------------------------------------------------------------------------


def etag_for(*parts: Any) -> str:
    """A strong ETag from what identifies a record's state: its `version` where it has
    one, otherwise its `updated_at` (with the record number)."""
    return '"' + hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:32] + '"'


def check_if_match(request: Request, current_etag: str) -> None:
    """An update must name the state it changes: 428 without If-Match, 412 when stale."""
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired()
    offered = {tag.strip() for tag in header.split(",")}
    if "*" not in offered and current_etag not in offered:
        raise PreconditionFailed()


# --- Which fields a reader gets ------------------------------------------------------------


def readable_fields(actor: Actor, kind: Any, every: Any) -> frozenset[str]:
    """The fields of a record kind this reader gets in a response: the policy's field set
    (`visible_fields`) for kinds the policy lists fields of (identity, custody); for the
    others the grant is all or nothing, so every field of the record if they may read it.
    Never a list per role (STYLE.md rule 10)."""
    from .policy import FIELDS, grant, visible_fields

    if kind in FIELDS:
        return visible_fields(actor, kind) & frozenset(every)
    return frozenset(every) if grant(actor, kind).can_read else frozenset()


class PolicyFilterSet(django_filters.FilterSet):
    """Filters a reader may use only if they may see the field filtered on: asked by a
    reader who may not, the filter is refused (400), never silently ignored, so it cannot
    be used to probe for a hidden identifier (STYLE.md rule 10)."""

    # Filter name -> (record kind, policy field) it reveals.
    guarded: dict[str, tuple[Any, str]] = {}

    def is_valid(self) -> bool:
        from .policy import visible_fields

        valid = super().is_valid()
        request = self.request
        actor = getattr(request, "ppo_actor", None) or actor_for(getattr(request, "user", None))
        for name, (kind, field) in self.guarded.items():
            if name in self.data and field not in visible_fields(actor, kind):
                self.form.add_error(name, "You cannot filter by this field")
                valid = False
        return valid


# --- Shared by every app's endpoints ---------------------------------------------------------
# (offenders, pathways, selection, conferences and reporting serve their own api.py; what
# they have in common is here, not imported from one another.)

# The largest record number (a 64-bit key): beyond it a number is bad input, not a query.
MAX_ID = 2**63 - 1

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID): a repeat with the same key and body returns the "
    "first response; the same key with a different body is refused (409). Kept 24 hours.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag of your last read of the record: 412 if it has changed since, "
    "428 without it",
)


def record_id_parameter(what: str) -> OpenApiParameter:
    return OpenApiParameter(
        "id", int, OpenApiParameter.PATH, description=f"The {what}'s record number"
    )


def record_number(text: Any) -> int | None:
    """A record number from a path: a whole number from 1 to the largest key, else None
    (so a huge or malformed id is a 404, never a query the database cannot run)."""
    text = str(text)
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def record_in_scope(actor: Actor, record_type: str, pk: Any, records: models.QuerySet[Any]) -> Any:
    """One record of `records` (a queryset a selector scoped to the actor) by number; a
    404, audited, for a number outside it, exactly as for one that does not exist."""
    number = record_number(pk)
    found = records.filter(pk=number).first() if number is not None else None
    if found is None:
        audit.denied(actor, record_type, number or str(pk)[:40], "outside scope")
        raise OutOfScope(record_type, pk)
    return found


def local_day(moment: dt.datetime) -> dt.date:
    """The scheme's calendar day of a moment (the moment's own date at the calendar's ends,
    where no local day exists)."""
    try:
        return timezone.localdate(moment)
    except (OverflowError, ValueError):
        return moment.date()


class YesNoFilter(django_filters.ChoiceFilter):
    """`true` or `false`; anything else is bad input (400), never silently ignored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        super().__init__(*args, **kwargs)


# updated_since beyond these is taken as these: nothing was recorded before 1900, and a
# moment at the very ends of the calendar cannot be converted to UTC to be compared.
_EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


class _MomentField(django_filters.fields.IsoDateTimeField):
    def clean(self, value: Any) -> Any:
        moment = super().clean(value)
        if moment is None:
            return None
        try:
            moment = moment.astimezone(dt.UTC)
        except OverflowError:
            return _EARLIEST if moment.year < 5000 else _LATEST
        return min(max(moment, _EARLIEST), _LATEST)


class SinceFilter(django_filters.IsoDateTimeFilter):
    """`updated_since`: an ISO 8601 date-time."""

    field_class = _MomentField


class RecordNumberFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class PersonFilterSet(PolicyFilterSet):
    """A list of people's records: `person=<id>` keeps one person's."""

    person = RecordNumberFilter(
        field_name="offender_id", min_value=1, max_value=MAX_ID, help_text="A person's id"
    )


class ListView(PartnerAPIView):
    """A scoped list: django-filter's filters, then the allowed orderings."""

    filter_backends = [DjangoFilterBackend, ApiOrderingFilter]
    ordering = ["-id"]


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The schema's description of ApiTokenAuthentication."""

    target_class = "access.api_clients.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from the scheme's PPO manager: Authorization: Bearer <token>",
        }
