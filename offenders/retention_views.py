"""The retention pages: who is due for review (the administrator and the PPO manager) and
the erasure of one person past retention, dry run first, then a confirmed real run (the
administrator only). The rules are offenders.retention's; these views show what it
returns, turn its refusals into 403s and 404s and its messages into the error summary."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from access.errors import NotPermitted, Refused
from access.policy import actor_for
from access.submissions import OnceOnlyForm, Outcome, save_once

from . import retention

RETENTION = "offenders.retention"


class EraseForm(OnceOnlyForm):
    record_number = forms.CharField(
        label="Type the record number to confirm",
        max_length=20,
        error_messages={"required": "Type the record number of the person to erase"},
    )
    confirm = forms.BooleanField(
        label="I understand that erasure removes this person's records for good and "
        "cannot be undone",
        required=False,
    )

    def __init__(self, *args: Any, offender_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offender_id = offender_id

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        typed = (data.get("record_number") or "").strip()
        if typed and typed != str(self.offender_id):
            self.add_error(
                "record_number",
                f"The record number typed does not match: type {self.offender_id} to erase "
                "this person",
            )
        if not data.get("confirm"):
            self.add_error("confirm", "Confirm that you understand erasure cannot be undone")
        return data


@login_required
@require_GET
def retention_report_view(request: HttpRequest) -> HttpResponse:
    try:
        report = retention.retention_report(user=request.user)
    except NotPermitted as refusal:
        raise Refused(RETENTION, "", refusal.message) from None
    return render(request, "offenders/retention_report.html", {"report": report})


@login_required
@require_http_methods(["GET", "POST"])
def retention_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_for(request.user)
    form = EraseForm(request.POST if request.method == "POST" else None, offender_id=pk)
    try:
        if request.method == "POST" and form.is_valid():

            def save() -> Outcome:
                done = retention.retention_erase(user=actor, offender_id=pk, dry_run=False)
                return Outcome(
                    reverse("offenders:retention"),
                    f"Record {pk} erased: {done.total} record{'s' if done.total != 1 else ''} "
                    "removed. The audit trail keeps that it existed and who erased it.",
                )

            try:
                outcome = save_once(user=request.user, token=form.token, save=save)  # type: ignore[arg-type]
            except retention.NotErasable as error:
                form.add_error(None, error.message)
            else:
                (messages.info if outcome.repeated else messages.success)(request, outcome.message)
                return redirect(outcome.url)
        # The page shows the dry run: exactly what the real run would remove.
        erasure, refusal = retention.retention_erase(user=actor, offender_id=pk), ""
    except NotPermitted as error:
        raise Refused(RETENTION, pk, error.message) from None
    except retention.NoSuchPerson:
        raise Http404("No such person") from None
    except retention.NotErasable as error:
        erasure, refusal = None, error.message
    return render(
        request,
        "offenders/retention_erase.html",
        {"offender_id": pk, "erasure": erasure, "refusal": refusal, "form": form},
    )
