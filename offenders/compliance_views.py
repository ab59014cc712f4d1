"""The premium-service compliance page (001 §3.2): scheme figures and who is below target."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from access import audit
from access.policy import actor_for

from .compliance import can_see_compliance, compliance_summary


@login_required
@require_GET
def compliance_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    if not can_see_compliance(actor):
        audit.denied(actor, "offenders.compliance", "", "role sees only part of the contacts")
        return render(request, "403.html", status=403)
    summary = compliance_summary(user=actor, as_of=actor.as_of)
    return render(request, "offenders/compliance.html", {"summary": summary})
