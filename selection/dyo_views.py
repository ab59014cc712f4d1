"""The Deter Young Offender pages (003 §7): who is a DYO today, and the forms that mark a
young person as a DYO and end a DYO at the exit review.

The rules are selection.panel's (`panel_decide`, its module docstring) and the reads
selection.dyo_selectors': these views ask them, show what they return, and turn their
refusals into 403s and their messages into the error summary. Each decision is recorded
at the DYO panel its recorder chairs on the decision's date (`dyo_panel_for`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from access.errors import Refused
from access.policy import Actor, RecordKind, actor_for, visible_fields
from access.submissions import Outcome

from . import dyo_selectors
from . import panel as panels
from .dyo_forms import EndDyoForm, MarkDyoForm
from .models import DecisionKind
from .views import _bound, _save

DECISION = dyo_selectors.DECISION


def _recorder(actor: Actor) -> None:
    if not panels.may_record_dyo_decisions(actor):
        raise Refused(DECISION, "", "role does not record DYO decisions")


def _long(day: Any) -> str:
    return f"{day.day} {day:%B %Y}"


def _name(person: dyo_selectors.YoungPerson, identity: frozenset[str]) -> str:
    # STYLE.md rule 10: the policy says whether this reader sees a name.
    return person.offender.full_name if "full_name" in identity else "This young person"


@login_required
def dyo_index_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    overview = dyo_selectors.dyo_overview(user=actor, page_number=request.GET.get("page"))
    return render(
        request,
        "selection/dyo_index.html",
        {
            "overview": overview,
            "fields": overview.identity_fields,
            "page": overview.candidates,
            "can_record": panels.may_record_dyo_decisions(actor),
        },
    )


def _form_page(
    request: HttpRequest,
    *,
    offender_id: int,
    form_class: type[MarkDyoForm] | type[EndDyoForm],
    kind: str,
    template: str,
) -> HttpResponse:
    actor = actor_for(request.user)
    _recorder(actor)
    page = "dyo-mark" if kind == DecisionKind.MARK_DYO else "dyo-end"
    identity = visible_fields(actor, RecordKind.IDENTITY)

    def young_person() -> dyo_selectors.YoungPerson:
        return dyo_selectors.dyo_person(user=actor, offender_id=offender_id, page=page)

    form = form_class(_bound(request))

    def save() -> Outcome:
        # Read inside the saving transaction: a repeated post of a saved form is shown
        # what the first did, even when the exit review has since taken the person out
        # of a YOT worker's scope.
        person = young_person()
        data = form.cleaned_data
        panel = panels.dyo_panel_for(user=actor, held_on=data["held_on"])
        options: dict[str, Any] = {"reason": data["reason"]}
        if kind == DecisionKind.MARK_DYO:
            options |= {
                "asset_score": data["asset_score"],
                "scaled_approach": data["scaled_approach"],
            }
        else:
            options |= {
                "exit_route": data["exit_route"],
                "exit_lead_agency_id": data["exit_lead_agency"] or None,
                "exit_strategy": data["exit_strategy"],
                "exit_outcome": data["exit_outcome"],
            }
        panels.panel_decide(
            user=actor, panel_id=panel.pk, offender_id=person.offender.pk, kind=kind, **options
        )
        done = (
            "marked as a Deter Young Offender from"
            if kind == DecisionKind.MARK_DYO
            else "is no longer a Deter Young Offender from"
        )
        name = _name(person, identity)
        # Back to the DYO list: after the exit review an adult leaves a YOT worker's scope.
        return Outcome(reverse("selection:dyo"), f"{name} {done} {_long(data['held_on'])}")

    if done := _save(request, form, save, record_type=DECISION):
        return done
    person = young_person()
    if request.method == "GET":
        initial: dict[str, Any] = {"held_on": actor.as_of}
        if kind == DecisionKind.MARK_DYO:
            # The latest assessment on the record, to confirm or correct.
            for field in ("asset_score", "scaled_approach"):
                if field in identity:
                    initial[field] = getattr(person.offender, field)
        form = form_class(initial=initial)
    # The form is offered when the decision applies today; a decision dated earlier is
    # the service's to judge (it reads the tier on the decision's date).
    applies = (
        person.tier == "" and person.age < panels.ADULT_AGE
        if kind == DecisionKind.MARK_DYO
        else person.tier == panels.DYO
    )
    return render(
        request,
        template,
        {
            "person": person,
            "name": _name(person, identity),
            "fields": identity,
            "form": form,
            "applies": applies or request.method == "POST",
            "today": actor.as_of,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def dyo_mark_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    return _form_page(
        request,
        offender_id=offender_id,
        form_class=MarkDyoForm,
        kind=DecisionKind.MARK_DYO,
        template="selection/dyo_mark.html",
    )


@login_required
@require_http_methods(["GET", "POST"])
def dyo_end_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    return _form_page(
        request,
        offender_id=offender_id,
        form_class=EndDyoForm,
        kind=DecisionKind.END_DYO,
        template="selection/dyo_end.html",
    )
