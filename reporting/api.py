"""The partner API's aggregate reports (issue 12): NI30, the local measure, proven
re-offending and the scheme profile — the reports `manage.py report` offers as JSON, from
the same functions the reports pages call (reporting.measures, reporting.profile).

Aggregates only (ACCESS.md "Aggregates and small numbers"): no row names or identifies a
person; breakdowns by a personal characteristic arrive with the counts of 1–4 suppressed
complementarily by the same function the pages, CSVs and PDF use (access.disclosure),
hidden counts as null. Who may read them is the measures' own rule
(`reporting.measures.common.aggregate_reader`: the steering group and the PPO manager);
any other client is refused (403, audited). Each answer is audited as a disclosure to
the client's agency, as a CSV download of the same figures is. NI30's national return
(one row per cohort member) is not offered here: it is `manage.py report ni30 --format
csv`, a PPO manager's disclosure to the national collection.

Not lists: no pagination, ordering or `updated_since`; `as_of` (default today, never in
the future) re-runs a report for a past day on the facts recorded by then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from access import audit
from access.api import PartnerAPIView, error_responses
from access.errors import ApplicationError
from access.models import AuditAction
from access.policy import Actor

from . import profile
from .csv_export import RECORD_TYPE
from .measures.common import aggregate_reader
from .measures.local_measure import DEFAULT_FURTHER_PERCENT_A_YEAR, local_measure
from .measures.ni30 import ni30_figures
from .measures.reoffending import proven_reoffending
from .serializers import (
    LocalMeasureQuerySerializer,
    LocalMeasureSerializer,
    Ni30Serializer,
    PeriodQuerySerializer,
    ProfileReportSerializer,
    ReoffendingSerializer,
    YearQuerySerializer,
)

REPORT_ERRORS = error_responses(400, 401, 403, 429)


class _Report(PartnerAPIView):
    """One report: its query parameters, the figures, and their disclosure audited."""

    pagination_class = None  # type: ignore[assignment]
    report = ""
    query_class: type[Any] = YearQuerySerializer
    # The parameter a measure's own refusal (no confirmed cohort, a bad period) is about.
    problem_field = "year"

    def answer(self, compute: Callable[[Actor, dict[str, Any]], Any]) -> Response:
        # The role first: a client that may not read reports is told so whatever it sent.
        aggregate_reader(self.actor, self.actor.as_of)
        query = self.query_class(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        reader = aggregate_reader(self.actor, params.pop("as_of", self.actor.as_of))
        try:
            data = compute(reader, params)
        except ApplicationError as error:
            if error.field_errors:
                raise
            raise ApplicationError(
                error.message, field_errors={self.problem_field: [error.message]}
            ) from None
        audit.record(
            reader,
            AuditAction.DISCLOSE,
            record_type=RECORD_TYPE,
            recipient=reader.agency.name if reader.agency else "",
            detail={
                "report": self.report,
                "as_of": reader.as_of.isoformat(),
                "format": "api",
                **{key: str(value) for key, value in params.items()},
            },
        )
        return Response(data)


NI30_EXAMPLE = {
    "year": "2026/27",
    "as_of": "2026-09-30",
    "year_starts_on": "2026-04-01",
    "year_ends_on": "2027-03-31",
    "counted_to": "2026-09-30",
    "year_complete": False,
    "baseline_starts_on": "2025-04-01",
    "baseline_ends_on": "2026-03-31",
    "confirmed_on": "2026-04-03",
    "members": 48,
    "members_on_scheme": 41,
    "members_off_scheme": 7,
    "baseline_convictions": 150,
    "year_convictions": 51,
    "change_percent": -66.0,
    "target_reduction_percent": 10.0,
    "target_met": True,
}


class Ni30Report(_Report):
    report = "ni30"

    @extend_schema(
        summary="NI30: the cohort's convictions against its baseline",
        parameters=[YearQuerySerializer],
        description="The confirmed NI30 cohort of `year` (default: the year holding `as_of`): "
        "convictions for offences committed in the year so far against the 12-month baseline. "
        "400 (on `year`) when that year's cohort is not confirmed.",
        responses={200: Ni30Serializer, **REPORT_ERRORS},
        examples=[OpenApiExample("NI30", value=NI30_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        return self.answer(
            lambda actor, p: (
                Ni30Serializer(ni30_figures(user=actor, as_of=actor.as_of, year=p.get("year"))).data
            )
        )


class LocalMeasureReport(_Report):
    report = "local-measure"
    query_class = LocalMeasureQuerySerializer

    @extend_schema(
        summary="The local measure: charges before and after entry",
        parameters=[LocalMeasureQuerySerializer],
        description="001 §5.1–5.2 for a cohort (`year`, default the one of the year holding "
        "`as_of`) or the people selected from `date_from` to `date_to` (both, not with "
        "`year`); `target` is the further reduction a year in points (default 5).",
        responses={200: LocalMeasureSerializer, **REPORT_ERRORS},
    )
    def get(self, request: Request) -> Response:
        if "date_from" in request.query_params or "date_to" in request.query_params:
            self.problem_field = "date_from"
        return self.answer(
            lambda actor, p: (
                LocalMeasureSerializer(
                    local_measure(
                        user=actor,
                        as_of=actor.as_of,
                        cohort=p.get("year"),
                        date_from=p.get("date_from"),
                        date_to=p.get("date_to"),
                        further_percent_a_year=p.get("target", DEFAULT_FURTHER_PERCENT_A_YEAR),
                    )
                ).data
            )
        )


class ReoffendingReport(_Report):
    report = "reoffending"

    @extend_schema(
        summary="Proven re-offending",
        parameters=[YearQuerySerializer],
        description="004's figures for the financial year starting 1 April `year` (default: "
        "the year holding `as_of`) and the year before, with the profile at identification.",
        responses={200: ReoffendingSerializer, **REPORT_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return self.answer(
            lambda actor, p: (
                ReoffendingSerializer(
                    proven_reoffending(user=actor, as_of=actor.as_of, year=p.get("year"))
                ).data
            )
        )


class ProfileReport(_Report):
    report = "profile"
    query_class = PeriodQuerySerializer
    problem_field = "date_from"

    @extend_schema(
        summary="The scheme profile, equality monitoring, offending mix and outcomes",
        parameters=[PeriodQuerySerializer],
        description="004's scheme profile on `as_of`, and for the period `date_from` to "
        "`date_to` (default: 1 April of the year to `as_of`) the equality monitoring, the "
        "offending mix and the outcomes after de-selection. Breakdowns by a personal "
        "characteristic have small counts suppressed (`hidden`, count null).",
        responses={200: ProfileReportSerializer, **REPORT_ERRORS},
    )
    def get(self, request: Request) -> Response:
        def compute(actor: Actor, p: dict[str, Any]) -> Any:
            period: dict[str, Any] = {"date_from": p.get("date_from"), "date_to": p.get("date_to")}
            kwargs: dict[str, Any] = {"user": actor, "as_of": actor.as_of}
            figures = {
                "profile": profile.scheme_profile(**kwargs),
                "equality": profile.equality_monitoring(**kwargs, **period),
                "offending_mix": profile.offending_mix(**kwargs, **period),
                "outcomes_after_deselection": profile.deselection_outcomes(**kwargs, **period),
            }
            return ProfileReportSerializer(figures).data

        return self.answer(compute)
