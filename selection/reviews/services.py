"""Closing a review: "no change, reviewed" with a reason, or by a panel decision; and
recording (or correcting) a PPO transferring in, whose selection review then falls due.

ACCESS.md "selection scores, panel decisions, reviews": the PPO manager writes them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction, Scheme
from access.policy import Actor, as_actor, can_see_person, people_q
from offenders.dates import life_date_problem
from offenders.selectors import offender_get

from ..models import (
    DecisionKind,
    PanelDecision,
    Review,
    ReviewKind,
    ReviewOutcome,
    ReviewStatus,
    TransferIn,
)
from ..services import may_change_selection
from . import rules
from .rules import Context

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


# `TransferIn`'s facts a correction may change (not the person: a review about the
# wrong person is not corrected by moving it to another one).
TRANSFER_FIELDS = ("from_scheme", "from_area", "arrived_on", "note")


def _transfer_facts(
    *, from_scheme: str, from_area: str, arrived_on: Any, note: str
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The facts of an arrival as they will be stored, and what is wrong with them apart
    from the date's place in the person's life (`_arrival_problem`, which needs them)."""
    facts = {
        "from_scheme": (from_scheme or "").strip(),
        "from_area": (from_area or "").strip(),
        "arrived_on": arrived_on,
        "note": (note or "").strip(),
    }
    errors: dict[str, list[str]] = {}
    if not facts["from_scheme"]:
        errors["from_scheme"] = ["Enter the scheme the person comes from"]
    if not facts["from_area"]:
        errors["from_area"] = ["Enter the area the person comes from"]
    if not isinstance(arrived_on, dt.date) or isinstance(arrived_on, dt.datetime):
        errors["arrived_on"] = ["Enter the date the person arrived"]
    return facts, errors


def _arrival_problem(actor: Actor, arrived_on: Any, date_of_birth: dt.date | None) -> str | None:
    """An arrival has happened: not after today, not before the person was born
    (offenders.dates, the one rule for dates in a person's life)."""
    if not isinstance(arrived_on, dt.date) or isinstance(arrived_on, dt.datetime):
        return None
    return life_date_problem(
        arrived_on, what="the date of arrival", date_of_birth=date_of_birth, today=actor.as_of
    )


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], field_errors=errors)


def transfer_basis(transfer: TransferIn) -> str:
    """The fact a transfer-in review is about (`Review.basis`): the sweep's rule
    (selection.reviews.rules.transfer_in) names it the same way, so a review raised here
    is one the sweep finds already raised, and the unique constraint refuses a second."""
    return f"transfer:{transfer.pk}"


def _transfer_review(transfer: TransferIn) -> Review | None:
    return (
        Review.objects.select_for_update()
        .filter(
            kind=ReviewKind.TRANSFER_IN,
            offender_id=transfer.offender_id,
            basis=transfer_basis(transfer),
        )
        .first()
    )


def _raise_transfer_review(actor: Actor, transfer: TransferIn) -> Review | None:
    """Raise the selection review of this arrival now, if the sweep's own rule says it is
    due today (003 §6.2(2): due on the day of arrival, unless a panel has selected the
    person as a PPO since). The rule is asked, not copied, so the page and the daily
    sweep cannot disagree about whether it is due or what it records."""
    if _transfer_review(transfer) is not None:
        return None
    basis = transfer_basis(transfer)
    ctx = Context(actor=actor, scheme=Scheme.current())
    due = next((d for d in rules.transfer_in(ctx) if d.basis == basis), None)
    if due is None:
        return None
    review = Review(
        kind=due.kind,
        offender_id=due.offender_id,
        basis=due.basis,
        due_on=due.due_on,
        detail=due.detail,
        raised_on=actor.as_of,
    )
    review.full_clean()
    review.save()
    audit.altered(actor, AuditAction.CREATE, review)
    return review


def transfer_in_record(
    *,
    user: Any,
    offender_id: int,
    from_scheme: str,
    from_area: str,
    arrived_on: dt.date,
    note: str = "",
    raise_review: bool = False,
) -> TransferIn:
    """Record a PPO arriving from another area's scheme (003 §6.2(2)). The daily sweep
    raises their selection review (selection.reviews.rules.transfer_in); with
    `raise_review` (the page that records it) the review is raised now, in the same
    transaction, and the sweep then finds it already raised."""
    actor = as_actor(user)
    if actor.user is None or not may_change_selection(actor):
        raise NotPermitted("Only the PPO manager records a transfer in")
    facts, errors = _transfer_facts(
        from_scheme=from_scheme, from_area=from_area, arrived_on=arrived_on, note=note
    )
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        if problem := _arrival_problem(actor, arrived_on, offender.date_of_birth):
            errors["arrived_on"] = [problem]
        _raise(errors)
        transfer = TransferIn(offender=offender, recorded_by=actor.user, **facts)
        transfer.full_clean()
        transfer.save()
        audit.altered(actor, AuditAction.CREATE, transfer)
        if raise_review:
            _raise_transfer_review(actor, transfer)
    return transfer


def transfer_in_correct(
    *,
    user: Any,
    transfer_id: int,
    from_scheme: str,
    from_area: str,
    arrived_on: dt.date,
    note: str = "",
) -> TransferIn:
    """Correct what was recorded about an arrival: the sending scheme, the area, the day
    or the note (a typing mistake; the person stays the same). Its review moves with it:
    an open review takes the corrected day as its due date and the corrected scheme and
    area in what it shows the panel; a closed review keeps what it was closed on. An
    arrival with no review yet (recorded before a sweep) gets it now if it is due.
    Audited with the fields changed, for the transfer and for the review."""
    actor = as_actor(user)
    if actor.user is None or not may_change_selection(actor):
        raise NotPermitted("Only the PPO manager corrects a transfer in")
    facts, errors = _transfer_facts(
        from_scheme=from_scheme, from_area=from_area, arrived_on=arrived_on, note=note
    )
    with transaction.atomic():
        transfer = (
            TransferIn.objects.select_for_update()
            .filter(pk=transfer_id)
            .filter(people_q(actor, write=True, prefix="offender__"))
            .select_related("offender")
            .first()
        )
        if transfer is None:
            raise ApplicationError("There is no such transfer")
        if problem := _arrival_problem(actor, arrived_on, transfer.offender.date_of_birth):
            errors["arrived_on"] = [problem]
        _raise(errors)
        changed = [name for name in TRANSFER_FIELDS if getattr(transfer, name) != facts[name]]
        if not changed:
            raise ApplicationError("Nothing was changed: change a detail to correct it, or cancel")
        for name in changed:
            setattr(transfer, name, facts[name])
        transfer.full_clean()
        transfer.save(update_fields=changed)
        audit.altered(actor, AuditAction.UPDATE, transfer, changed=changed)
        review = _transfer_review(transfer)
        if review is None:
            _raise_transfer_review(actor, transfer)
        elif review.status == ReviewStatus.OPEN:
            _follow_correction(actor, review, transfer)
    return transfer


def _follow_correction(actor: Actor, review: Review, transfer: TransferIn) -> None:
    detail = {**review.detail, "from_scheme": transfer.from_scheme, "from_area": transfer.from_area}
    moved = [
        name
        for name, value in (("due_on", transfer.arrived_on), ("detail", detail))
        if getattr(review, name) != value
    ]
    if not moved:
        return
    review.due_on = transfer.arrived_on
    review.detail = detail
    review.full_clean()
    review.save(update_fields=moved)
    audit.altered(actor, AuditAction.UPDATE, review, changed=moved)
