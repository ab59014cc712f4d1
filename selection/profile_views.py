"""The person's "Selection & panel" tab, and the documents its decisions produce.

Who sees what is the selectors' business (selection.profile, selection.letters): the views
show what they return, turn a role's refusal into a 403 (audited by the 403 handler) and a
service's message into the error summary.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from access.errors import NotPermitted, Refused
from access.policy import actor_for
from access.submissions import OnceOnlyForm, Outcome
from offenders.tabs import tabs_for

from . import letters, profile
from .forms import plain_number
from .views import _save, place_service_error

# The other engineer's risk assessment form (issue 7 item 5), when it is there.
RISK_ASSESSMENT_CREATE = "selection:risk-assessment-create"


def _optional_url(name: str, *args: Any) -> str:
    """A page that may not be built yet: no link rather than an error."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@login_required
def person_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    selection = profile.person_selection(user=actor, offender_id=offender_id)
    offender = selection.offender
    decisions = [
        {
            "decision": d,
            "move": profile.tier_move(d.from_tier, d.to_tier),
            "deselection_reason": profile.deselection_reason_label(d.deselection_reason),
            "letter": selection.manages and letters.letter_applies(d),
            "transfer_applies": selection.manages and letters.transfer_applies(d),
            "transfer": selection.transfers.get(d.pk),
        }
        for d in selection.decisions
    ]
    return render(
        request,
        "selection/person.html",
        {
            "selection": selection,
            "offender": offender,
            "name": selection.name,
            "person_tabs": tabs_for(actor, offender.pk),
            "scores": [(entry, plain_number(entry.score)) for entry in selection.scores],
            "decisions": decisions,
            "risk_assessment_url": (
                _optional_url(RISK_ASSESSMENT_CREATE, offender.pk) if selection.manages else ""
            ),
        },
    )


def _pdf(document: letters.Document) -> HttpResponse:
    response = HttpResponse(document.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    # A named person's document: not kept by the browser or any proxy.
    response["Cache-Control"] = "no-store"
    return response


@login_required
def letter_view(request: HttpRequest, decision_id: int) -> HttpResponse:
    try:
        document = letters.selection_letter(user=request.user, decision_id=decision_id)
    except NotPermitted as refusal:
        raise Refused(letters.DECISION, decision_id, refusal.message) from None
    return _pdf(document)


class TransferForm(OnceOnlyForm):
    """The receiving scheme (003 §6.2(2)). Kept beside its one view: selection.forms
    holds the matrix's forms."""

    receiving_scheme = forms.CharField(
        label="Receiving scheme",
        max_length=200,
        required=False,
        help_text="For example, Northtown PPO scheme",
    )
    receiving_area = forms.CharField(label="Area", max_length=200, required=False)
    receiving_contact = forms.CharField(
        label="Contact at the receiving scheme",
        max_length=500,
        required=False,
        widget=forms.Textarea,
        help_text="Who the summary goes to: name, role, and an email address or phone number",
    )


@login_required
@require_http_methods(["GET", "POST"])
def transfer_view(request: HttpRequest, decision_id: int) -> HttpResponse:
    try:
        decision, sent = letters.transfer_decision(user=request.user, decision_id=decision_id)
    except NotPermitted as refusal:
        raise Refused(letters.DECISION, decision_id, refusal.message) from None
    form = TransferForm(request.POST if request.method == "POST" else None)

    def save() -> Outcome:
        record = letters.transfer_record_create(
            user=request.user,
            decision_id=decision.pk,
            receiving_scheme=form.cleaned_data["receiving_scheme"],
            receiving_area=form.cleaned_data["receiving_area"],
            receiving_contact=form.cleaned_data["receiving_contact"],
        )
        return Outcome(
            reverse("selection:transfer", args=[decision.pk]),
            f"Transfer summary recorded as sent to {record.receiving_scheme}",
        )

    done = _save(
        request,
        form,
        save,
        record_type=letters.DECISION,
        record_id=decision.pk,
        place=place_service_error,
    )
    if done:
        return done
    return render(
        request,
        "selection/transfer.html",
        {
            "decision": decision,
            "offender": decision.offender,
            "sent": sent,
            "form": form,
        },
    )


@login_required
def transfer_pdf_view(request: HttpRequest, transfer_id: int) -> HttpResponse:
    try:
        _, document = letters.transfer_summary(user=request.user, transfer_id=transfer_id)
    except NotPermitted as refusal:
        raise Refused(letters.TRANSFER, transfer_id, refusal.message) from None
    return _pdf(document)
