"""The partner API's representations of the aggregate reports (issue 12).

Each serializer reads the dataclass a measure returns (reporting.measures, reporting
.profile) — the same figures the pages, CSVs and `manage.py report` show. Nothing here
counts or suppresses: a count hidden by `access.disclosure` arrives as None and is
shown as `{"count": null, "hidden": true, "text": "[c]"}`; percentages are numbers to one
decimal place (null when there is nothing to divide by).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from access.api import StrictSerializer
from access.disclosure import Shown


def _number(**kwargs: Any) -> serializers.FloatField:
    return serializers.FloatField(read_only=True, allow_null=True, **kwargs)


def _count(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(read_only=True, **kwargs)


class ReportQuerySerializer(StrictSerializer):
    """The query parameters every report takes; any other is refused (400), so a typo
    is not taken for "the default"."""

    as_of = serializers.DateField(
        required=False, help_text="The day the figures are for (default today); not in the future"
    )

    def validate_as_of(self, value: dt.date) -> dt.date:
        today = timezone.localdate()
        if value > today:
            raise serializers.ValidationError(
                "This is in the future: reports are for today or an earlier day, on the "
                "facts recorded by then"
            )
        if value.year < 1900:
            raise serializers.ValidationError("Enter a day after 1900, like 2026-03-31")
        return value


class YearQuerySerializer(ReportQuerySerializer):
    year = serializers.IntegerField(
        required=False,
        min_value=1990,
        max_value=2999,
        help_text="The financial year of its 1 April, e.g. 2026 for 2026/27 (default: the "
        "year holding as_of)",
    )


class PeriodQuerySerializer(ReportQuerySerializer):
    date_from = serializers.DateField(
        required=False, help_text="The period's first day (default 1 April of the year)"
    )
    date_to = serializers.DateField(
        required=False, help_text="The period's last day (default the as-at day)"
    )

    def validate_date_from(self, value: dt.date) -> dt.date:
        return _after_1900(value)

    def validate_date_to(self, value: dt.date) -> dt.date:
        return _after_1900(value)


class LocalMeasureQuerySerializer(YearQuerySerializer, PeriodQuerySerializer):
    """A cohort (`year`), or the people selected from `date_from` to `date_to`."""

    target = serializers.DecimalField(
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        help_text="The further reduction a year, in points (default 5)",
    )


def _after_1900(value: dt.date) -> dt.date:
    if value.year < 1900:
        raise serializers.ValidationError("Enter a day after 1900, like 2026-03-31")
    return value


class Ni30Serializer(serializers.Serializer):
    year = serializers.CharField(read_only=True, help_text="The cohort's financial year, 2026/27")
    as_of = serializers.DateField(read_only=True)
    year_starts_on = serializers.DateField(read_only=True)
    year_ends_on = serializers.DateField(read_only=True)
    counted_to = serializers.DateField(read_only=True)
    year_complete = serializers.BooleanField(read_only=True)
    baseline_starts_on = serializers.DateField(read_only=True)
    baseline_ends_on = serializers.DateField(read_only=True)
    confirmed_on = serializers.DateField(read_only=True, allow_null=True)
    members = _count()
    members_on_scheme = _count()
    members_off_scheme = _count()
    baseline_convictions = _count()
    year_convictions = _count()
    change_percent = _number(help_text="Negative is a fall")
    target_reduction_percent = _number()
    target_met = serializers.BooleanField(read_only=True, allow_null=True)


class LocalMeasureSerializer(serializers.Serializer):
    group = serializers.CharField(read_only=True)
    as_of = serializers.DateField(read_only=True)
    people = _count()
    people_measured = _count(help_text="Whose 12 months after entry have ended")
    people_not_yet_12_months = _count()
    charges_before = _count()
    charges_after = _count()
    reduction_percent = _number()
    further_percent_a_year = _number()
    target_years = _count()
    target_reduction_percent = _number()
    projection_year = serializers.CharField(read_only=True)
    months_counted = _count()
    charges_in_year = _count()
    projected_charges = _number()
    projected_reduction_percent = _number()


class YearReoffendingSerializer(serializers.Serializer):
    year = serializers.CharField(read_only=True)
    starts_on = serializers.DateField(read_only=True)
    counted_to = serializers.DateField(read_only=True)
    complete = serializers.BooleanField(read_only=True)
    managed = _count()
    reoffenders = _count()
    rate_percent = _number()
    reoffences = _count()
    offences_per_reoffender = _number()
    all_offenders = _count()
    all_reoffences = _count()
    share_of_offenders_percent = _number()
    share_of_reoffences_percent = _number()


class ProfileAtIdentificationSerializer(serializers.Serializer):
    people = _count()
    average_convictions_before = _number()
    average_age = _number()


class ReoffendingSerializer(serializers.Serializer):
    as_of = serializers.DateField(read_only=True)
    this_year = YearReoffendingSerializer(read_only=True)
    last_year = YearReoffendingSerializer(read_only=True)
    change_points = _number(help_text="This year's rate less last year's, in points")
    profile = ProfileAtIdentificationSerializer(read_only=True)


# --- The profile's tables ----------------------------------------------------------------


class CellSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        allow_null=True, help_text="The count; null when hidden or the cell is a percentage"
    )
    hidden = serializers.BooleanField(help_text="A small number suppressed ([c])")
    text = serializers.CharField(help_text="As the page shows it: 12, [c], 32.7%")


@extend_schema_field(CellSerializer(many=True))
class CellsField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> list[dict[str, Any]]:
        cells = []
        for cell in value:
            if isinstance(cell, Shown):
                cells.append({"count": cell.value, "hidden": cell.hidden, "text": cell.text})
            else:
                cells.append({"count": None, "hidden": False, "text": str(cell)})
        return cells


class LineSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    cells = CellsField()
    is_total = serializers.BooleanField(read_only=True)


class TableSerializer(serializers.Serializer):
    caption = serializers.CharField(read_only=True)
    row_heading = serializers.CharField(read_only=True)
    columns = serializers.ListField(child=serializers.CharField(), read_only=True)
    rows = LineSerializer(many=True, read_only=True)
    protected = serializers.BooleanField(
        read_only=True, help_text="Small numbers suppressed in it (a personal characteristic)"
    )
    any_hidden = serializers.BooleanField(read_only=True)
    note = serializers.CharField(read_only=True)


class FigureSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    text = serializers.CharField(read_only=True)
    note = serializers.CharField(read_only=True)


class PeriodSerializer(serializers.Serializer):
    first_day = serializers.DateField(read_only=True)
    last_day = serializers.DateField(read_only=True)
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]


class SchemeProfileSerializer(serializers.Serializer):
    as_of = serializers.DateField(read_only=True)
    scheme_name = serializers.CharField(read_only=True)
    total = FigureSerializer(read_only=True)
    by_age_and_sex = TableSerializer(read_only=True)
    supervision = TableSerializer(read_only=True)
    adults_in_dip = TableSerializer(read_only=True)
    community_custody = TableSerializer(read_only=True)
    average_age = FigureSerializer(read_only=True)


class EqualitySerializer(serializers.Serializer):
    as_of = serializers.DateField(read_only=True)
    period = PeriodSerializer(read_only=True)
    caseload_by_sex = TableSerializer(read_only=True)
    caseload_by_ethnicity = TableSerializer(read_only=True)
    caseload_by_age = TableSerializer(read_only=True)
    outcomes_by_sex = TableSerializer(read_only=True)
    outcomes_by_ethnicity = TableSerializer(read_only=True)
    outcomes_by_age = TableSerializer(read_only=True)
    needs = TableSerializer(read_only=True)


class MixPeriodSerializer(serializers.Serializer):
    period = PeriodSerializer(read_only=True)
    offences = _count()
    acquisitive = _count()
    priority = _count()
    acquisitive_share = _number()
    priority_share = _number()


class OffendingMixSerializer(serializers.Serializer):
    as_of = serializers.DateField(read_only=True)
    period = PeriodSerializer(read_only=True)
    by_category = TableSerializer(read_only=True)
    quarters = MixPeriodSerializer(many=True, read_only=True)
    whole_period = MixPeriodSerializer(read_only=True)
    priority_crimes = serializers.ListField(child=serializers.CharField(), read_only=True)
    matrix_number = serializers.IntegerField(read_only=True, allow_null=True)


class ArrestFreeSerializer(serializers.Serializer):
    months = _count()
    followed = _count(help_text="Whose window had passed by the as-at day")
    arrest_free = _count()
    not_yet = _count()
    share = _number()


class DeselectionOutcomesSerializer(serializers.Serializer):
    as_of = serializers.DateField(read_only=True)
    period = PeriodSerializer(read_only=True)
    exits = _count()
    arrest_free = ArrestFreeSerializer(many=True, read_only=True)
    reasons = TableSerializer(read_only=True)
    exit_routes = TableSerializer(read_only=True)
    exit_outcomes = TableSerializer(read_only=True)


class ProfileReportSerializer(serializers.Serializer):
    """004's scheme profile, with the equality monitoring, offending mix and outcomes after
    de-selection for the period — the parts `manage.py report profile` gives."""

    profile = SchemeProfileSerializer(read_only=True)
    equality = EqualitySerializer(read_only=True)
    offending_mix = OffendingMixSerializer(read_only=True)
    outcomes_after_deselection = DeselectionOutcomesSerializer(read_only=True)
