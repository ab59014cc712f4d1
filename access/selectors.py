"""Reads of the audit trail: only for those the policy lets read it, and themselves audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Page, Paginator
from django.utils import timezone

from . import audit
from .errors import NotPermitted
from .models import AuditEvent, AuditEventPerson
from .policy import as_actor, can_read_audit_log


def _local_midnight(day: dt.date) -> dt.datetime:
    """The start of a local day (the time zone `__date` would use), as an aware datetime:
    a range of these an index on the moment serves, where `at__date` reads every row."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_event_page(
    *,
    user: Any,
    username: str = "",
    action: str = "",
    offender_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page_number: Any = 1,
    per_page: int = 50,
) -> Page[AuditEvent]:
    actor = as_actor(user)
    if not can_read_audit_log(actor):
        raise NotPermitted("Only PPO managers and administrators can read the audit log")
    qs = AuditEvent.objects.select_related("user")
    if username:
        qs = qs.filter(username__iexact=username)
    if action:
        qs = qs.filter(action=action)
    if offender_id is not None:
        # The events' link rows, by the index on (person, event).
        qs = qs.filter(
            pk__in=AuditEventPerson.objects.filter(offender_id=offender_id).values("event_id")
        )
    if date_from:
        qs = qs.filter(at__gte=_local_midnight(date_from))
    if date_to and date_to < dt.date.max:
        qs = qs.filter(at__lt=_local_midnight(date_to + dt.timedelta(days=1)))
    page = Paginator(qs, per_page).get_page(page_number)
    audit.consulted(
        actor,
        "access.auditevent",
        page.object_list,
        username=username,
        action=action,
        offender_id=offender_id,
    )
    return page
