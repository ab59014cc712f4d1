"""The partner API's representation of a review that fell due (issue 12).

`detail` is what the sweep recorded, in the words the reviews page shows it
(`selection.review_selectors.detail_lines`): a reader who sees intelligence only as counts
(a key worker) does not get the items that date an intelligence report, as on the page.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from offenders.serializers import PolicyFieldsSerializer

from .models import ReviewKind, ReviewOutcome, ReviewStatus


class ReviewSerializer(PolicyFieldsSerializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=ReviewKind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    person = serializers.IntegerField(
        source="offender_id",
        read_only=True,
        allow_null=True,
        help_text="Empty for the review of the whole list against the pool",
    )
    due_on = serializers.DateField(read_only=True)
    overdue = serializers.SerializerMethodField(help_text="Still open and its due date has passed")
    status = serializers.ChoiceField(choices=ReviewStatus.choices, read_only=True)
    raised_on = serializers.DateField(read_only=True)
    raised_at = serializers.DateTimeField(read_only=True)
    detail = serializers.SerializerMethodField()
    outcome = serializers.ChoiceField(choices=[("", ""), *ReviewOutcome.choices], read_only=True)
    outcome_reason = serializers.CharField(read_only=True)
    closed_on = serializers.DateField(read_only=True, allow_null=True)

    def get_overdue(self, obj: Any) -> bool:
        from .review_selectors import is_overdue

        return obj.status == ReviewStatus.OPEN and is_overdue(obj, self.context["as_of"])

    def get_detail(self, obj: Any) -> list[str]:
        from .review_selectors import detail_lines

        return detail_lines(obj.detail, reads_intelligence=self.context["reads_intelligence"])
