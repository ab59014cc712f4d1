"""The pathways pages: a person's "Action plan" tab with its forms, my actions, overdue
actions, the providers directory and the gap view.

Who sees and does what is the selectors' and services' business (pathways.selectors,
pathways.services): the views ask them, show what they return, turn their refusals into
403s and their messages into the error summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from access.errors import ApplicationError, NotPermitted, Refused
from access.policy import RecordKind, actor_for
from access.submissions import Outcome, save_once
from offenders.selectors import offender_for_form, offender_form_shown
from offenders.tabs import tabs_for

from . import selectors, services
from .forms import ActionForm, ActionUpdateForm, NeedForm, ReferralForm, ReferralUpdateForm
from .models import Pathway
from .treatment import clocks_for

OFFENDER = "offenders.offender"


def _place(form: Any, error: Exception) -> None:
    """A service's message beside each field it names, and in the error summary."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(form.place_field(name), errors)
        return
    if isinstance(error, ApplicationError):
        placed = False
        for name, errors in error.field_errors.items():
            if (target := form.place_field(name)) is not None:
                form.add_error(target, errors)
                placed = True
        if not placed:
            form.add_error(None, error.message)
        return
    form.add_error(None, getattr(error, "messages", [str(error)]))


def _save(
    request: HttpRequest,
    form: Any,
    save: Callable[[], Outcome],
    *,
    record_type: str,
    record_id: Any = "",
) -> HttpResponse | None:
    """Save a valid posted form once (access.submissions): the redirect to show, or None
    to show the form again with its errors. A refusal of the role is a 403."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        outcome = save_once(user=request.user, token=form.token, save=save)
    except NotPermitted as refusal:
        raise Refused(record_type, record_id, refusal.message) from None
    except (services.StaleAction, services.StaleReferral) as stale:
        form.stale = stale.current
        form.add_error(None, stale.message)
        return None
    except (ValidationError, ApplicationError) as error:
        _place(form, error)
        return None
    (messages.info if outcome.repeated else messages.success)(request, outcome.message)
    return redirect(outcome.url)


def _bound(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _plan_url(offender_id: int) -> str:
    return reverse("pathways:person", args=[offender_id])


# --- the "Action plan" tab --------------------------------------------------------------------


@login_required
@require_GET
def person_plan_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    page = selectors.person_plan(user=actor, offender_id=offender_id)
    return render(
        request,
        "pathways/plan.html",
        {
            "page": page,
            "offender": page.offender,
            "name": page.name,
            "person_tabs": tabs_for(actor, page.offender.pk),
        },
    )


def _writable_person(request: HttpRequest, offender_id: int, *, form_name: str) -> Any:
    actor = actor_for(request.user)
    offender = offender_for_form(
        user=actor, pk=offender_id, kind=RecordKind.PATHWAYS, record_agency_id=actor.agency_id
    )
    if request.method == "GET":
        offender_form_shown(actor, offender, form=form_name, shown=["identity"])
    return actor, offender


def _chosen_pathway(request: HttpRequest, pathways: list[Pathway]) -> int | None:
    text = request.GET.get("pathway", "")
    return next((p.pk for p in pathways if str(p.pk) == text), None)


@login_required
@require_http_methods(["GET", "POST"])
def need_set_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    actor, offender = _writable_person(request, offender_id, form_name="set a need")
    pathways = selectors.settable_pathways(actor, offender.pk)
    if not pathways:
        raise Refused(OFFENDER, offender.pk, "no pathway this agency may record needs on")
    form = NeedForm(
        _bound(request), pathways=pathways, initial={"pathway": _chosen_pathway(request, pathways)}
    )

    def save() -> Outcome:
        need = services.need_set(
            user=actor,
            offender_id=offender.pk,
            pathway_id=form.cleaned_data["pathway"],
            level=form.cleaned_data["level"],
            note=form.cleaned_data["note"],
        )
        return Outcome(
            _plan_url(offender.pk),
            f"{need.pathway.name} need recorded as {need.get_level_display().lower()}",
        )

    if done := _save(request, form, save, record_type=OFFENDER, record_id=offender.pk):
        return done
    return render(
        request,
        "pathways/need_form.html",
        {"form": form, "offender": offender, "name": selectors.person_name(actor, offender)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_create_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    actor, offender = _writable_person(request, offender_id, form_name="add an action")
    pathways = list(Pathway.objects.order_by("order", "pk"))
    agencies = selectors.owner_agency_choices(actor)
    form = ActionForm(
        _bound(request),
        pathways=pathways,
        agencies=agencies,
        members=selectors.owner_choices(actor, agencies),
        initial={
            "pathway": _chosen_pathway(request, pathways),
            "owner_agency": agencies[0].pk if len(agencies) == 1 else None,
        },
    )

    def save() -> Outcome:
        action = services.action_create(
            user=actor,
            offender_id=offender.pk,
            pathway_id=form.cleaned_data["pathway"],
            description=form.cleaned_data["description"],
            owner_agency_id=form.cleaned_data["owner_agency"],
            owner_id=form.cleaned_data["owner"],
            due_on=form.cleaned_data["due_on"],
        )
        return Outcome(_plan_url(offender.pk), f"{action.pathway.name} action added")

    if done := _save(request, form, save, record_type=OFFENDER, record_id=offender.pk):
        return done
    return render(
        request,
        "pathways/action_form.html",
        {"form": form, "offender": offender, "name": selectors.person_name(actor, offender)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_update_view(request: HttpRequest, action_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    action, name = selectors.action_for_update(user=actor, action_id=action_id)
    agencies = selectors.owner_agency_choices(actor)
    if action.owner_agency not in agencies:
        agencies = [action.owner_agency, *agencies]
    form = ActionUpdateForm(
        _bound(request),
        agencies=agencies,
        members=selectors.owner_choices(actor, agencies),
        initial={
            "version": action.version,
            "status": action.status,
            "outcome": action.outcome,
            "description": action.description,
            "owner_agency": action.owner_agency_id,
            "owner": action.owner_id,
            "due_on": action.due_on,
        },
    )

    def save() -> Outcome:
        updated = services.action_update(
            user=actor,
            action_id=action.pk,
            version=form.cleaned_data["version"],
            **form.changes(),
        )
        return Outcome(
            _plan_url(updated.offender_id),
            f"{updated.pathway.name} action updated: {updated.get_status_display().lower()}",
        )

    if done := _save(request, form, save, record_type=selectors.ACTION, record_id=action.pk):
        return done
    return render(
        request,
        "pathways/action_update.html",
        {
            "form": form,
            "action": action,
            "name": name,
            "stale": getattr(form, "stale", None),
            "back_url": _back_url(request, action.offender_id),
        },
    )


def _back_url(request: HttpRequest, offender_id: int) -> str:
    came_from = request.GET.get("from", "")
    return {
        "mine": reverse("pathways:my-actions"),
        "overdue": reverse("pathways:overdue-actions"),
    }.get(came_from, _plan_url(offender_id))


@login_required
@require_http_methods(["GET", "POST"])
def referral_create_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    offender = offender_for_form(
        user=actor, pk=offender_id, kind=RecordKind.PATHWAYS, record_agency_id=actor.agency_id
    )
    providers = selectors.referral_providers(actor)
    if not providers:
        raise Refused(OFFENDER, offender.pk, "no provider this actor may refer to")
    if request.method == "GET":
        offender_form_shown(actor, offender, form="make a referral", shown=["identity"])
    form = ReferralForm(_bound(request), providers=providers)

    def save() -> Outcome:
        provider_id, pathway_id = form.provider_and_pathway()
        referral = services.referral_create(
            user=actor,
            offender_id=offender.pk,
            provider_id=provider_id,
            pathway_id=pathway_id,
            reason=form.cleaned_data["reason"],
        )
        return Outcome(
            _plan_url(offender.pk),
            f"Referral to {referral.provider.name if referral.provider else referral.agency.name}"
            f" made ({referral.pathway.name})",
        )

    if done := _save(request, form, save, record_type=OFFENDER, record_id=offender.pk):
        return done
    return render(
        request,
        "pathways/referral_form.html",
        {"form": form, "offender": offender, "name": selectors.person_name(actor, offender)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def referral_update_view(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    referral, name = selectors.referral_for_update(user=actor, referral_id=referral_id)
    form = ReferralUpdateForm(
        _bound(request),
        initial={
            "version": referral.version,
            "status": referral.status,
            "outcome": referral.outcome,
            "assessed_on": referral.assessed_on,
            "first_appointment_on": referral.first_appointment_on,
        },
    )

    def save() -> Outcome:
        updated = services.referral_update(
            user=actor,
            referral_id=referral.pk,
            version=form.cleaned_data["version"],
            status=form.cleaned_data["status"],
            outcome=form.cleaned_data["outcome"],
            closed_on=form.cleaned_data["closed_on"],
            assessed_on=form.cleaned_data["assessed_on"],
            first_appointment_on=form.cleaned_data["first_appointment_on"],
        )
        return Outcome(
            _plan_url(updated.offender_id),
            f"Referral updated: {updated.get_status_display().lower()}",
        )

    if done := _save(request, form, save, record_type=selectors.REFERRAL, record_id=referral.pk):
        return done
    return render(
        request,
        "pathways/referral_update.html",
        {
            "form": form,
            "referral": referral,
            "name": name,
            "stale": getattr(form, "stale", None),
            "clock": clocks_for([referral], as_of=actor.as_of).get(referral.pk),
        },
    )


# --- lists ------------------------------------------------------------------------------------


@login_required
@require_GET
def my_actions_view(request: HttpRequest) -> HttpResponse:
    page, rows = selectors.my_actions_page(user=request.user, page_number=request.GET.get("page"))
    return render(
        request,
        "pathways/actions.html",
        {"page": page, "rows": rows, "which": "mine", "title": "My actions"},
    )


@login_required
@require_GET
def overdue_actions_view(request: HttpRequest) -> HttpResponse:
    page, rows = selectors.overdue_actions_page(
        user=request.user, page_number=request.GET.get("page")
    )
    return render(
        request,
        "pathways/actions.html",
        {"page": page, "rows": rows, "which": "overdue", "title": "Overdue actions"},
    )


@login_required
@require_GET
def providers_view(request: HttpRequest) -> HttpResponse:
    rows = selectors.provider_directory(user=request.user)
    return render(request, "pathways/providers.html", {"rows": rows})


@login_required
@require_GET
def gaps_view(request: HttpRequest) -> HttpResponse:
    view = selectors.gap_view(user=request.user)
    return render(request, "pathways/gaps.html", {"view": view})
