"""Reads of the audit trail: only for those the policy lets read it, and themselves audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Page, Paginator

from . import audit
from .errors import NotPermitted
from .models import AuditEvent
from .policy import as_actor, can_read_audit_log


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
        qs = qs.filter(offender_refs__contains=f",{offender_id},")
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
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
