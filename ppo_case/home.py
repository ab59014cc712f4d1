"""Each role's starting point: a screen that gathers from several apps, so it lives here,
above them (STYLE.md rule 11), not in `access` or `offenders`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from access.models import Role
from access.policy import actor_for, can_read_audit_log, may_use_admin_site
from offenders.caseload import caseload_page
from reporting.selectors import scheme_by_age_and_sex, scheme_headline


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's own starting point (shared/UI.md "Home per role")."""
    actor = actor_for(request.user)
    context: dict[str, Any] = {"actor": actor}
    if actor.membership is None:
        template = "home/no_role.html"
    elif actor.role == Role.STEERING_GROUP:
        template = "home/steering.html"
        context["headline"] = scheme_headline(user=actor)
        context["by_age_and_sex"] = scheme_by_age_and_sex(user=actor)
    elif actor.role == Role.ADMINISTRATOR:
        template = "home/administrator.html"
        context["can_read_audit"] = can_read_audit_log(actor)
        context["can_use_admin"] = may_use_admin_site(actor.user)
    else:
        template = "home/caseload.html"
        context["caseload"] = caseload_page(user=actor, params=request.GET)
        context["rows"] = context["caseload"].rows
        if actor.role == Role.PPO_MANAGER:
            context["headline"] = scheme_headline(user=actor)
    return render(request, template, context)
