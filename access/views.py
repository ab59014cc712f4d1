from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import audit, selectors
from .errors import NotPermitted, Refused
from .models import AuditAction, AuditEvent
from .policy import Actor, RecordKind, actor_for, people, visible_fields

# What a record type is called in words; an unknown type is named by its model's name.
RECORD_WORDS = {
    "offenders.offender": "person record",
    "offenders.contact": "contact",
    "offenders.drugtest": "drug test",
    "offenders.offendingevent": "offending record",
    "offenders.custodyepisode": "custody record",
    "offenders.programmeepisode": "scheme selection record",
    "offenders.gradechange": "IOM grade change",
    "access.auditevent": "audit event",
}
SHOWN_IDS = 5  # record numbers written out in a row; the rest counted


def _person_names(actor: Actor, events: list[AuditEvent]) -> dict[int, str]:
    """The names of the people these events are about, for a reader who may see names and
    only of the people that reader may see (one query); audited as a consultation."""
    if "full_name" not in visible_fields(actor, RecordKind.IDENTITY):
        return {}
    ids = {i for e in events for i in e.offender_ids}
    if not ids:
        return {}
    found = list(people(actor).filter(pk__in=ids).only("pk", "first_name", "last_name"))
    if found:
        audit.consulted(actor, "offenders.offender", found, view="audit log")
    return {p.pk: p.full_name for p in found}


def _numbered(noun: str, ids: list[int]) -> str:
    if not ids:
        return ""
    shown = ", ".join(str(i) for i in ids[:SHOWN_IDS])
    more = f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
    return f"{noun}{'s' if len(ids) > 1 else ''} {shown}{more}"


def _person(pk: int, names: dict[int, str]) -> str:
    return f"{names[pk]} (person {pk})" if pk in names else f"person {pk}"


def describe(event: AuditEvent, names: dict[int, str]) -> tuple[str, str]:
    """The event's records and people in words: ("contact 345", "person 12"), or with the
    person's name where the reader may see it: ("contact 345", "Ann Bell (person 12)")."""
    noun = RECORD_WORDS.get(event.record_type, event.record_type.rpartition(".")[2] or "record")
    people_ids = event.offender_ids
    records = _numbered(noun, event.all_record_ids) or (noun if event.record_type else "")
    shown = [_person(pk, names) for pk in people_ids[:SHOWN_IDS]]
    more = f" and {len(people_ids) - SHOWN_IDS} more" if len(people_ids) > SHOWN_IDS else ""
    return records, (", ".join(shown) + more)


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
    events = list(page.object_list)
    names = _person_names(actor_for(request.user), events)
    rows = [(event, *describe(event, names)) for event in events]
    return render(
        request,
        "access/audit_log.html",
        {
            "page": page,
            "rows": rows,
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
