"""manage.py run_reviews [--as-of YYYY-MM-DD]: the daily sweep of reviews, in-process.

The same sweep the Celery task runs (selection.reviews.sweep); `--as-of` back-dates it.
A day that is not a date, is in the future or is before the scheme's first selection is
refused with a message and a non-zero exit, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from access.errors import ApplicationError
from selection.models import ReviewKind
from selection.reviews import sweep


class Command(BaseCommand):
    help = "Raise the reviews that are due (003 §5.7, §6.2, §7.5), as of today or a given day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of", dest="as_of", default="", help="The day to sweep for, as YYYY-MM-DD"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = (options.get("as_of") or "").strip()
        if text:
            try:
                as_of = dt.date.fromisoformat(text)
            except ValueError:
                raise CommandError(
                    f"--as-of must be a date written YYYY-MM-DD, such as 2026-04-01: "
                    f"“{text[:40]}” is not one. Nothing was written."
                ) from None
        else:
            as_of = timezone.localdate()
        try:
            result = sweep(as_of=as_of, channel="command")
        except ApplicationError as error:
            raise CommandError(f"{error.message}. Nothing was written.") from None
        self.stdout.write(
            f"Reviews as of {result.as_of.isoformat()}: {result.total_raised} raised, "
            f"{result.already_raised} already raised, "
            f"{sum(result.resolved.values())} resolved."
        )
        for review in result.reviews:
            who = f"person {review.offender_id}" if review.offender_id else "the whole list"
            label = ReviewKind(review.kind).label
            self.stdout.write(f"  {label}: {who}, due {review.due_on.isoformat()}")
        for kind, count in sorted(result.resolved.items()):
            self.stdout.write(f"  Resolved: {ReviewKind(kind).label} × {count}")
