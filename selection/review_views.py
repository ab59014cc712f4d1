"""The reviews pages: the open reviews (issue 8), closing one as "no change, reviewed", and
recording or correcting a PPO transferring in, whose selection review falls due at once.

Who sees and does what is the selectors' and services' business (`review_selectors`,
`selection.reviews.review_close`): these views show what they return, turn refusals into
403s and a service's messages into the error summary.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from access.errors import ApplicationError, NotPermitted, Refused
from access.policy import actor_for
from access.submissions import OnceOnlyForm, Outcome, save_once

from . import review_selectors as selectors
from . import reviews, transfer_in_selectors
from .models import ReviewOutcome, ReviewStatus, TransferIn
from .review_forms import TransferInForm
from .reviews import services as review_services
from .views import _save, place_service_error

REVIEW = selectors.REVIEW
TRANSFER_IN = transfer_in_selectors.TRANSFER_IN
REASON_MAX = 2000  # Review.outcome_reason


class ReviewCloseForm(OnceOnlyForm):
    """A review looked at and left as it is: why (required; recorded with the review)."""

    reason = forms.CharField(
        label="Why does nothing need to change?",
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter why nothing needs to change",
            "max_length": f"The reason must be {REASON_MAX:,} characters or fewer",
        },
    )

    def clean_reason(self) -> str:
        reason = str(self.cleaned_data.get("reason") or "").strip()
        if not reason:
            raise ValidationError("Enter why nothing needs to change", code="required")
        return reason


def _place(form: ReviewCloseForm, error: Exception) -> None:
    """A service's message beside the reason when it is about the reason or the outcome
    (the only answer on the page), otherwise in the error summary."""
    if isinstance(error, ApplicationError):
        about = [m for name in ("reason", "outcome") for m in error.field_errors.get(name, [])]
        if about:
            form.add_error("reason", about)
        else:
            form.add_error(None, error.message)
        return
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error("reason" if name in ("reason", "outcome_reason") else None, errors)
        return
    form.add_error(None, getattr(error, "messages", [str(error)]))


@login_required
@require_GET
def review_list_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    page = selectors.review_list_page(user=actor, params=request.GET)
    return render(request, "selection/review_list.html", {"page": page, "rows": page.rows})


@login_required
@require_http_methods(["GET", "POST"])
def review_close_view(request: HttpRequest, review_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    row = selectors.review_for_closing(user=actor, review_id=review_id)
    review = row.review
    form = ReviewCloseForm(request.POST if request.method == "POST" else None)

    def save() -> Outcome:
        reviews.review_close(
            user=actor,
            review_id=review.pk,
            outcome=ReviewOutcome.NO_CHANGE,
            reason=form.cleaned_data["reason"],
        )
        return Outcome(
            reverse("selection:reviews"),
            f"Review closed: no change, reviewed – {row.kind}, {row.name}",
        )

    # A valid form has its token (OnceOnly.clean refuses a post without one).
    if request.method == "POST" and form.is_valid() and form.token is not None:
        try:
            outcome = save_once(user=request.user, token=form.token, save=save)
        except NotPermitted as refusal:
            raise Refused(REVIEW, review.pk, refusal.message) from None
        except (ValidationError, ApplicationError) as error:
            _place(form, error)
        else:
            (messages.info if outcome.repeated else messages.success)(request, outcome.message)
            return redirect(outcome.url)
    context: dict[str, Any] = {
        "row": row,
        "review": review,
        "form": form,
        "closed": review.status == ReviewStatus.CLOSED,
    }
    return render(request, "selection/review_close.html", context)


# --- a PPO transferring in from another area (003 §6.2(2)) -----------------------------------


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _arrival_words(transfer: TransferIn) -> str:
    return (
        f"from {transfer.from_scheme} ({transfer.from_area}), arrived {_long(transfer.arrived_on)}"
    )


def _review_words(transfer: TransferIn) -> str:
    review = transfer_in_selectors.review_of_transfer(transfer)
    if review is None:
        return "no selection review is due: a panel has selected them as a PPO since they arrived"
    if review.status == ReviewStatus.OPEN:
        return f"a selection review is due from {_long(review.due_on)}"
    return "its selection review has already been closed"


@login_required
@require_GET
def transfer_in_list_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    found = transfer_in_selectors.person_transfers_in(user=request.user, offender_id=offender_id)
    return render(
        request,
        "selection/transfer_in_list.html",
        {
            "page": found,
            "offender": found.offender,
            "reviews_url": selectors.person_reviews_url(found.offender.pk),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def transfer_in_create_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    actor, offender, name = transfer_in_selectors.transfer_in_person(
        user=request.user, offender_id=offender_id
    )
    form = TransferInForm(request.POST if request.method == "POST" else None)

    def save() -> Outcome:
        transfer = review_services.transfer_in_record(
            user=actor, offender_id=offender.pk, raise_review=True, **form.service_args()
        )
        return Outcome(
            reverse("selection:transfers-in", args=[offender.pk]),
            f"Transfer in recorded for {name} {_arrival_words(transfer)}: "
            f"{_review_words(transfer)}",
        )

    if done := _save(
        request,
        form,
        save,
        record_type=TRANSFER_IN,
        record_id=offender.pk,
        place=place_service_error,
    ):
        return done
    return render(
        request,
        "selection/transfer_in_form.html",
        {"form": form, "offender": offender, "name": name, "transfer": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def transfer_in_correct_view(request: HttpRequest, transfer_id: int) -> HttpResponse:
    actor, transfer, name = transfer_in_selectors.transfer_in_for_correcting(
        user=request.user, transfer_id=transfer_id
    )
    form = TransferInForm.for_transfer(transfer, request.POST if request.method == "POST" else None)

    def save() -> Outcome:
        corrected = review_services.transfer_in_correct(
            user=actor, transfer_id=transfer.pk, **form.service_args()
        )
        return Outcome(
            reverse("selection:transfers-in", args=[corrected.offender_id]),
            f"Transfer in corrected for {name}: {_arrival_words(corrected)}; "
            f"{_review_words(corrected)}",
        )

    if done := _save(
        request,
        form,
        save,
        record_type=TRANSFER_IN,
        record_id=transfer.pk,
        place=place_service_error,
    ):
        return done
    return render(
        request,
        "selection/transfer_in_form.html",
        {"form": form, "offender": transfer.offender, "name": name, "transfer": transfer},
    )
