"""IOM grade pages (003 §5.6, offenders.grades): the grades custody has made stale, and
the "Red-graded now" list for the tasking meeting."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from access.errors import Refused
from access.policy import Actor, RecordKind, Write, actor_for, grant, visible_fields

from .grades import grade_prompts, may_see_grades, red_graded
from .selectors import OFFENDER


def _grade_reader(request: HttpRequest) -> Actor:
    actor = actor_for(request.user)
    if not may_see_grades(actor):
        raise Refused(OFFENDER, "", "role may not see IOM grades")
    return actor


@login_required
@require_GET
def red_graded_view(request: HttpRequest) -> HttpResponse:
    actor = _grade_reader(request)
    return render(
        request,
        "offenders/grades_red.html",
        {
            "rows": red_graded(user=actor),
            "as_of": actor.as_of,
            "fields": visible_fields(actor, RecordKind.IDENTITY),
        },
    )


@login_required
@require_GET
def grade_prompts_view(request: HttpRequest) -> HttpResponse:
    actor = _grade_reader(request)
    return render(
        request,
        "offenders/grades_to_change.html",
        {
            "prompts": grade_prompts(user=actor),
            "can_change": grant(actor, RecordKind.IDENTITY).write is not Write.NONE,
        },
    )
