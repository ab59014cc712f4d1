"""Celery tasks for reporting: each calls a service and holds no rule (STYLE.md rule 1).

`draft_ni30_cohort` drafts the financial year's NI30 cohort on 1 April for the PPO manager
to confirm (003 Annex A; beat: settings `CELERY_BEAT_SCHEDULE`). It only calls
`reporting.cohorts.cohort_draft` as the scheme itself (`access.policy.system_actor`), so it
is as idempotent as the service: delivered twice, the second run drafts the same members
again; once the manager has confirmed the cohort, it is refused and left as it is. A
refusal is logged and returned, not retried; a lost connection is retried as the review
sweep's is (selection.tasks.RETRY_OPTIONS).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from access.context import audit_context
from access.errors import ApplicationError
from access.policy import system_actor
from selection.tasks import RETRY_OPTIONS, _day

from .annual_report import annual_report_build
from .cohorts import cohort_draft
from .measures.common import financial_year_of, year_label

log = logging.getLogger(__name__)

DRAFT_ACTOR = "NI30 cohort drafting"


@shared_task(**RETRY_OPTIONS)
def draft_ni30_cohort(as_of: str | None = None) -> dict[str, Any]:
    """Draft the cohort of the financial year holding `as_of` (default today: 1 April
    when beat runs it)."""
    day = _day(as_of)
    year = financial_year_of(day)
    with audit_context(channel="task", path="NI30 cohort drafting"):
        try:
            cohort = cohort_draft(user=system_actor(DRAFT_ACTOR, day), year=year)
        except ApplicationError as error:
            log.warning("NI30 cohort %s not drafted: %s", year_label(year), error.message)
            return {"year": year_label(year), "refused": error.message}
    members = cohort.members.count()
    log.info("NI30 cohort %s drafted with %s members", year_label(year), members)
    return {"year": year_label(year), "members": members, "status": cohort.status}


@shared_task(**RETRY_OPTIONS)
def build_annual_report(report_id: int) -> dict[str, Any]:
    """Make the annual report asked for (reporting.annual_report.annual_report_build).

    Safe to deliver twice or late (acks_late): a report already made is left as it is,
    one half-made when a worker died is made again; a lost database connection is retried
    as the review sweep's is. Everything else ends with the report marked ready or failed
    with a message, which the progress page shows."""
    with audit_context(channel="task", path="Annual report"):
        report = annual_report_build(report_id=int(report_id))
    log.info("Annual report %s: %s", report.pk, report.status)
    return {"report": report.pk, "status": report.status, "progress": report.progress}
