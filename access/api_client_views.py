"""Pages where a PPO manager or an administrator creates, lists and revokes the partner
API's clients (issue 12). A page of the service rather than the admin, because the PPO
manager does not use the admin (ACCESS.md "Administration"). A token is shown once, on
the page that answers the form that created it, and never again: it is not kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .api_clients import (
    API_ROLES,
    MAX_LIFETIME,
    RECORD_TYPE,
    api_client_create,
    api_client_list,
    api_client_revoke,
    may_manage_api_clients,
)
from .errors import ApplicationError, Refused
from .models import Agency, ApiClient
from .policy import Actor, actor_for
from .submissions import OnceOnlyForm, Outcome, save_once


def _manager(request: HttpRequest) -> Actor:
    actor = actor_for(request.user)
    if not may_manage_api_clients(actor):
        raise Refused(RECORD_TYPE, "", "only a PPO manager or an administrator manages API clients")
    return actor


class ApiClientForm(OnceOnlyForm):
    name = forms.CharField(
        label="Name of the partner system", max_length=200, help_text="For example, Niche RMS"
    )
    agency = forms.ModelChoiceField(
        label="Agency it belongs to", queryset=Agency.objects.filter(active=True)
    )
    role = forms.ChoiceField(
        label="Role it acts in",
        choices=[(role.value, role.label) for role in API_ROLES],
        help_text="It sees and changes exactly what the agency's staff in this role may",
    )
    expires_on = forms.DateField(
        label="Token expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="At most a year from today",
    )
    reason = forms.CharField(
        label="Why this system needs access",
        widget=forms.Textarea,
        max_length=500,
        help_text="Recorded in the audit log",
    )


class RevokeForm(OnceOnlyForm):
    reason = forms.CharField(
        label="Why are you revoking this client's access?",
        widget=forms.Textarea,
        max_length=500,
        help_text="Recorded in the audit log",
    )


def _end_of(day: dt.date) -> dt.datetime:
    """A token expiring "on" a day works to the end of it."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


@login_required
def api_client_index(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    return render(
        request, "access/api_clients.html", {"clients": list(api_client_list(actor=actor))}
    )


def _apply_errors(form: forms.Form, error: ApplicationError) -> None:
    if not error.field_errors:
        form.add_error(None, error.message)
    for field, problems in error.field_errors.items():
        target = "expires_on" if field == "expires_at" else field
        for problem in problems:
            form.add_error(target if target in form.fields else None, problem)


@login_required
@require_http_methods(["GET", "POST"])
def api_client_new(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    latest = timezone.localdate() + MAX_LIFETIME - dt.timedelta(days=1)
    form = ApiClientForm(request.POST or None, initial={"expires_on": latest})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        made: dict[str, Any] = {}

        def save() -> Outcome:
            client, token = api_client_create(
                actor=actor,
                name=data["name"],
                agency=data["agency"],
                role=data["role"],
                expires_at=_end_of(data["expires_on"]),
                reason=data["reason"],
            )
            made.update(client=client, token=token)
            return Outcome(url="/api-clients/", message=f"API client {client.name} created")

        try:
            outcome = save_once(user=request.user, token=form.token, save=save)  # type: ignore[arg-type]
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            if outcome.repeated:
                messages.info(
                    request,
                    "This client was already created. Its token was shown once and cannot be "
                    "shown again: revoke it and create another if it was not copied.",
                )
                return redirect("api-clients")
            return render(request, "access/api_client_created.html", made)
    return render(request, "access/api_client_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def api_client_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    client = get_object_or_404(ApiClient.objects.select_related("agency"), pk=pk)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def save() -> Outcome:
            api_client_revoke(actor=actor, client=client, reason=form.cleaned_data["reason"])
            return Outcome(url="/api-clients/", message=f"Access revoked for {client.name}")

        try:
            outcome = save_once(user=request.user, token=form.token, save=save)  # type: ignore[arg-type]
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, outcome.message)
            return redirect("api-clients")
    return render(request, "access/api_client_revoke.html", {"form": form, "client": client})
