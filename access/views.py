from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import audit, selectors
from .errors import NotPermitted, Refused
from .models import AuditAction
from .policy import actor_for


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    params = request.GET
    errors: dict[str, str] = {}
    date_from, date_to = _date(params.get("from")), _date(params.get("to"))
    if params.get("from") and date_from is None:
        errors["from"] = "Enter the 'from' date as YYYY-MM-DD"
    if params.get("to") and date_to is None:
        errors["to"] = "Enter the 'to' date as YYYY-MM-DD"
    offender_text = params.get("person", "").strip()
    offender_id = int(offender_text) if offender_text.isdigit() else None
    if offender_text and offender_id is None:
        errors["person"] = "Enter a person's record number, like 42"
    try:
        page = selectors.audit_event_page(
            user=request.user,
            username=params.get("user", "").strip(),
            action=params.get("action", "") if params.get("action") in AuditAction.values else "",
            offender_id=offender_id,
            date_from=date_from,
            date_to=date_to,
            page_number=params.get("page"),
        )
    except NotPermitted as error:
        raise Refused("access.auditevent", "", error.message) from None
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "access/audit_log.html",
        {
            "page": page,
            "errors": errors,
            "params": params,
            "actions": AuditAction.choices,
            "query": query.urlencode(),
        },
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Every 403 comes through here, and every one is audited (DPA 2018 s.62): a refusal
    of a person in scope is as much a record of access as a view."""
    actor = actor_for(getattr(request, "user", None))
    if isinstance(exception, Refused):
        audit.denied(actor, exception.record_type, exception.record_id, exception.reason)
    else:
        audit.denied(actor, "", "", str(exception or "") or "permission denied")
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django's own handler renders 500.html without context; so do we, so that
    # an error in a context processor cannot hide the error page.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
