"""The premium-service compliance page (001 §3.2): scheme figures and who is below target."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from access.errors import Refused
from access.policy import actor_for

from .compliance import can_see_compliance, compliance_summary, standards_summary


@login_required
@require_GET
def compliance_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    if not can_see_compliance(actor):
        raise Refused("offenders.compliance", "", "role sees only part of the contacts")
    summary = compliance_summary(user=actor, as_of=actor.as_of)
    measured = standards_summary(user=actor, as_of=actor.as_of)
    return render(request, "offenders/compliance.html", {"summary": summary, "standards": measured})
