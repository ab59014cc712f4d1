"""Closing a review: "no change, reviewed" with a reason, or by a panel decision.

ACCESS.md "selection scores, panel decisions, reviews": the PPO manager writes them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction
from access.policy import Actor, as_actor, can_see_person
from offenders.dates import life_date_problem
from offenders.selectors import offender_get

from ..models import (
    DecisionKind,
    PanelDecision,
    Review,
    ReviewOutcome,
    ReviewStatus,
    TransferIn,
)
from ..services import may_change_selection

CLOSED_FIELDS = ["status", "outcome", "outcome_reason", "closed_on", "closed_by", "decision"]


def review_close(*, user: Any, review_id: int, outcome: str, reason: str) -> Review:
    """Record that a due review was looked at and nothing changes, with the reason."""
    actor = as_actor(user)
    if actor.user is None or not may_change_selection(actor):
        raise NotPermitted("Only the PPO manager closes reviews")
    reason = (reason or "").strip()
    if outcome == ReviewOutcome.DECISION:
        message = "A review closes with a decision by recording the decision at a panel"
        raise ApplicationError(message, field_errors={"outcome": [message]})
    if outcome != ReviewOutcome.NO_CHANGE:
        message = "Choose the outcome of the review"
        raise ApplicationError(message, field_errors={"outcome": [message]})
    if not reason:
        message = "Say why nothing changes"
        raise ApplicationError(message, field_errors={"reason": [message]})
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(pk=review_id).first()
        if review is None or (
            review.offender_id is not None and not can_see_person(actor, review.offender_id)
        ):
            raise ApplicationError("There is no such review")
        if review.status != ReviewStatus.OPEN:
            raise ApplicationError("This review has already been closed")
        review.status = ReviewStatus.CLOSED
        review.outcome = ReviewOutcome.NO_CHANGE
        review.outcome_reason = reason
        review.closed_on = actor.as_of
        review.closed_by = actor.user
        review.full_clean()
        review.save(update_fields=CLOSED_FIELDS)
        audit.altered(actor, AuditAction.UPDATE, review, changed=CLOSED_FIELDS)
    return review


def close_for_decision(*, actor: Actor, decision: PanelDecision) -> list[Review]:
    """Close the person's open reviews that were due by the panel's date with the decision
    (called by selection.panel.panel_decide, in its transaction). A deferral decides
    nothing: the reviews stay open for the next panel."""
    if decision.kind == DecisionKind.DEFER:
        return []
    day = decision.panel.held_on
    closed = list(
        Review.objects.select_for_update().filter(
            offender_id=decision.offender_id, status=ReviewStatus.OPEN, due_on__lte=day
        )
    )
    for review in closed:
        review.status = ReviewStatus.CLOSED
        review.outcome = ReviewOutcome.DECISION
        review.decision = decision
        review.closed_on = day
        review.closed_by = actor.user
        review.save(update_fields=CLOSED_FIELDS)
        audit.altered(actor, AuditAction.UPDATE, review, changed=CLOSED_FIELDS)
    return closed


def transfer_in_record(
    *,
    user: Any,
    offender_id: int,
    from_scheme: str,
    from_area: str,
    arrived_on: dt.date,
    note: str = "",
) -> TransferIn:
    """Record a PPO arriving from another area's scheme (003 §6.2(2)); the next sweep
    raises a selection review for them (selection.reviews.rules.transfer_in)."""
    actor = as_actor(user)
    if actor.user is None or not may_change_selection(actor):
        raise NotPermitted("Only the PPO manager records a transfer in")
    from_scheme, from_area = (from_scheme or "").strip(), (from_area or "").strip()
    errors: dict[str, list[str]] = {}
    if not from_scheme:
        errors["from_scheme"] = ["Enter the scheme the person comes from"]
    if not from_area:
        errors["from_area"] = ["Enter the area the person comes from"]
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        if not isinstance(arrived_on, dt.date):
            errors["arrived_on"] = ["Enter the date the person arrived"]
        else:
            problem = life_date_problem(
                arrived_on, what="the date of arrival", date_of_birth=offender.date_of_birth
            )
            if problem:
                errors["arrived_on"] = [problem]
        if errors:
            raise ApplicationError(next(iter(errors.values()))[0], field_errors=errors)
        transfer = TransferIn(
            offender=offender,
            from_scheme=from_scheme,
            from_area=from_area,
            arrived_on=arrived_on,
            note=(note or "").strip(),
            recorded_by=actor.user,
        )
        transfer.full_clean()
        transfer.save()
        audit.altered(actor, AuditAction.CREATE, transfer)
    return transfer
