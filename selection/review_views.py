"""The reviews pages: the open reviews (issue 8), and closing one as "no change, reviewed".

Who sees and does what is the selectors' and services' business (`review_selectors`,
`selection.reviews.review_close`): these views show what they return, turn refusals into
403s and a service's messages into the error summary.
"""

from __future__ import annotations

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
from . import reviews
from .models import ReviewOutcome, ReviewStatus

REVIEW = selectors.REVIEW
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
