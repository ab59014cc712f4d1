"""Celery tasks for selection: each calls a service and holds no rule (STYLE.md rule 1).

`sweep_reviews` runs the daily sweep of reviews (issue 8, `selection.reviews.sweep`); beat
runs it every night (settings `CELERY_BEAT_SCHEDULE`), `manage.py run_reviews` runs the
same service in-process.

Delivered more than once, it is harmless, and that is what makes it safe to deliver late:
- the sweep raises each review once, in the database: the `Review` unique constraint
  (`one_review_per_occurrence`) turns a repeated or retried sweep into a no-op;
- so the message is acknowledged only after the sweep has run (`acks_late`), and a worker
  that dies half-way has its message put back for another (`reject_on_worker_lost`): the
  sweep's transaction either committed (the rerun finds every review already raised) or
  rolled back (the rerun raises them);
- a lost database or broker connection is retried with exponential backoff (30 s, 1 min,
  2 min, ... up to 30 min, with jitter; about 1.5 hours in all), so a database restart in
  the night does not cost a day's sweep. A bad date string is not retried, nor is a day
  the sweep refuses.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError

from access.errors import ApplicationError
from selection import reviews

log = logging.getLogger(__name__)

# Errors worth running again later: the connection, not the data.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerOperationalError)

RETRY_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 30,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 8,
}


def _day(as_of: str | None) -> dt.date:
    """`as_of` (YYYY-MM-DD) or, by default, today in the scheme's time zone."""
    if as_of is None:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(as_of)
    except (TypeError, ValueError):
        raise ValueError(f"as_of must be a date as YYYY-MM-DD, not {as_of!r}") from None


EMPTY: dict[str, Any] = {"raised": {}, "already_raised": 0, "total_raised": 0, "resolved": {}}


def summary(result: reviews.SweepResult) -> dict[str, Any]:
    """A sweep's result as JSON (the task's return value, kept by the result backend)."""
    return {
        "as_of": result.as_of.isoformat(),
        "raised": dict(sorted(result.raised.items())),
        "already_raised": result.already_raised,
        "total_raised": result.total_raised,
        "resolved": dict(sorted(result.resolved.items())),
    }


@shared_task(**RETRY_OPTIONS)
def sweep_reviews(as_of: str | None = None) -> dict[str, Any]:
    """Raise every review due on `as_of` (default today): the nightly beat entry.

    A day the sweep refuses (in the future, before the scheme's first selection, or a
    scheme nobody has been selected onto yet) is not retried and not a failure of the
    task: nothing is written, and the refusal is logged and returned as `refused`."""
    day = _day(as_of)
    try:
        result = reviews.sweep(as_of=day, channel="task")
    except ApplicationError as error:
        log.warning("Review sweep for %s refused: %s", day.isoformat(), error.message)
        return {**EMPTY, "as_of": day.isoformat(), "refused": error.message}
    outcome = summary(result)
    log.info("Review sweep for %s: %s", outcome["as_of"], outcome)
    return outcome
