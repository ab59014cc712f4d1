from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from access.errors import ApplicationError
from access.policy import RecordKind, actor_for, can_write, grant

from . import selectors, services
from .forms import CustodyEpisodeForm, OffenderForm


def _apply_errors(form: OffenderForm | CustodyEpisodeForm, error: Exception) -> None:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    elif isinstance(error, ApplicationError):
        form.add_error(None, error.message)
    else:
        form.add_error(None, getattr(error, "messages", [str(error)]))


@login_required
def offender_list_view(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")
    page = selectors.offender_page(
        user=request.user, search=search, page_number=request.GET.get("page")
    )
    actor = actor_for(request.user)
    return render(
        request,
        "offenders/list.html",
        {
            "page": page,
            "search": search,
            "can_add": grant(actor, RecordKind.IDENTITY).write > 0,
        },
    )


@login_required
def offender_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    profile = selectors.offender_profile(user=request.user, pk=pk)
    actor = actor_for(request.user)
    return render(
        request,
        "offenders/detail.html",
        {
            "profile": profile,
            "offender": profile.offender,
            "can_edit": can_write(actor, RecordKind.IDENTITY, profile.offender.pk),
            "can_add_custody": can_write(actor, RecordKind.CUSTODY, profile.offender.pk),
            "as_of": actor.as_of,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def offender_create_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    if grant(actor, RecordKind.IDENTITY).write == 0:
        return render(request, "403.html", status=403)
    form = OffenderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            offender = services.offender_create(user=request.user, data=form.cleaned_data)
        except (ValidationError, ApplicationError) as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"{offender.full_name} has been added")
            return redirect("offenders:detail", pk=offender.pk)
    return render(request, "offenders/form.html", {"form": form, "title": "Add a person"})


@login_required
@require_http_methods(["GET", "POST"])
def offender_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    offender = selectors.offender_get(user=request.user, pk=pk, write=True)
    actor = actor_for(request.user)
    if not can_write(actor, RecordKind.IDENTITY, offender.pk):
        return render(request, "403.html", status=403)
    form = OffenderForm(request.POST or None, instance=offender)
    if request.method == "POST" and form.is_valid():
        try:
            services.offender_update(
                user=request.user, offender_id=offender.pk, data=form.cleaned_data
            )
        except (ValidationError, ApplicationError) as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "The details have been saved")
            return redirect("offenders:detail", pk=offender.pk)
    return render(
        request,
        "offenders/form.html",
        {"form": form, "title": f"Change details – {offender.full_name}", "offender": offender},
    )


@login_required
@require_http_methods(["GET", "POST"])
def custody_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    offender = selectors.offender_get(user=request.user, pk=pk, write=True)
    actor = actor_for(request.user)
    if not can_write(actor, RecordKind.CUSTODY, offender.pk):
        return render(request, "403.html", status=403)
    form = CustodyEpisodeForm(request.POST or None, offender=offender)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.custody_episode_create(user=request.user, offender_id=offender.pk, data=data)
        except (ValidationError, ApplicationError) as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "The custody episode has been recorded")
            return redirect("offenders:detail", pk=offender.pk)
    return render(
        request,
        "offenders/form.html",
        {"form": form, "title": f"Record custody – {offender.full_name}", "offender": offender},
    )
