"""The daily sweep: raise every review due on a day, exactly once (selection.reviews).

Idempotent by the database: `Review`'s unique constraint on (kind, person or 0, basis).
The sweep reads the keys already raised, inserts the rest with conflicts ignored (a
concurrent or retried sweep that inserted the same review first wins, and this one skips
it without an error), and audits only the rows it inserted itself. Everything runs in one
transaction: a sweep killed half-way leaves nothing behind, and its retry starts afresh.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from access import audit
from access.context import audit_context
from access.errors import ApplicationError
from access.models import AuditAction, Scheme
from access.policy import Actor, people_q, system_actor
from offenders.models import CustodyEpisode, OffendingEvent, ProgrammeEpisode

from ..models import Review, ReviewKind, ReviewOutcome, ReviewStatus
from . import rules
from .rules import Context, Due

# How the audit trail names the principal of the sweep (access.policy.system_actor).
SWEEP_ACTOR = "review sweep"


@dataclass(frozen=True)
class RaisedReview:
    kind: str
    offender_id: int | None
    basis: str
    due_on: dt.date


@dataclass(frozen=True)
class SweepResult:
    as_of: dt.date
    # Reviews raised by this sweep, by kind.
    raised: dict[str, int] = field(default_factory=dict)
    # Due reviews that had been raised before (left as they are).
    already_raised: int = 0
    # Open reviews the sweep closed because their fact no longer holds, by kind.
    resolved: dict[str, int] = field(default_factory=dict)
    # What was raised, for the command to print.
    reviews: tuple[RaisedReview, ...] = ()

    @property
    def total_raised(self) -> int:
        return sum(self.raised.values())


def scheme_started_on(actor: Actor | None = None) -> dt.date | None:
    """The scheme exists from its first selection onto a tier (the earliest programme
    episode); None while nobody has been selected."""
    actor = actor or system_actor(SWEEP_ACTOR, timezone.localdate())
    found = ProgrammeEpisode.objects.filter(people_q(actor, prefix="offender__")).aggregate(
        first=Min("selected_on")
    )
    return found["first"]


def check_day(as_of: object) -> dt.date:
    """The day a sweep may run for: a date, not after today, not before the scheme."""
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise ApplicationError("The sweep needs a date (YYYY-MM-DD)")
    today = timezone.localdate()
    if as_of > today:
        raise ApplicationError(
            f"{as_of.isoformat()} is in the future: reviews are swept for today or an earlier "
            "day, on the facts recorded"
        )
    started = scheme_started_on(system_actor(SWEEP_ACTOR, as_of))
    if started is None:
        raise ApplicationError(
            "Nobody has been selected onto the scheme yet, so it has no start date: there is "
            "nothing to review"
        )
    if as_of < started:
        raise ApplicationError(
            f"{as_of.isoformat()} is before the scheme existed: its first selection was on "
            f"{started.isoformat()}"
        )
    return as_of


def sweep(*, as_of: dt.date, channel: str = "task") -> SweepResult:
    """Raise every review due on `as_of` that has not been raised before, and close as
    resolved the open ones whose fact no longer holds (module docstring of
    selection.reviews). `channel` is how the audit trail says it ran ("task" for Celery,
    "command" for manage.py run_reviews)."""
    as_of = check_day(as_of)
    actor = system_actor(SWEEP_ACTOR, as_of)
    with audit_context(channel=channel), transaction.atomic():
        _without_jit()
        ctx = Context(actor=actor, scheme=Scheme.current())
        due: dict[tuple[str, int, str], Due] = {}
        for rule in rules.RULES:
            for found in rule(ctx):
                due.setdefault(found.key, found)
        raised_keys = _raised_keys({kind for kind, _, _ in due})
        new = [d for key, d in due.items() if key not in raised_keys]
        rules.no_arrest_signs([d for d in new if d.kind == ReviewKind.NO_ARREST], as_of)
        created = _insert(actor, new)
        resolved = _resolve(actor)
    return SweepResult(
        as_of=as_of,
        raised=dict(Counter(r.kind for r in created)),
        already_raised=len(due) - len(new),
        resolved=dict(resolved),
        reviews=tuple(
            RaisedReview(r.kind, r.offender_id, r.basis, r.due_on)
            for r in sorted(created, key=lambda r: (r.kind, r.due_on, r.offender_id or 0))
        ),
    )


def _without_jit() -> None:
    """The rules' queries are thousands of index look-ups, one per person on a tier, which
    PostgreSQL's JIT compiles for longer than they run (about 0.5 s of a 1 s sweep at a
    force's size, benchmarks/README.md "review_sweep.py"): off for this transaction only."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _raised_keys(kinds: set[str]) -> set[tuple[str, int, str]]:
    rows = Review.objects.filter(kind__in=kinds).values_list("kind", "offender_id", "basis")
    return {(kind, offender_id or 0, basis) for kind, offender_id, basis in rows}


def _insert(actor: Actor, new: list[Due]) -> list[Review]:
    if not new:
        return []
    stamp, token = timezone.now(), uuid.uuid4()
    Review.objects.bulk_create(
        [
            Review(
                kind=d.kind,
                offender_id=d.offender_id,
                basis=d.basis,
                due_on=d.due_on,
                detail=d.detail,
                raised_on=actor.as_of,
                raised_at=stamp,
                sweep_token=token,
            )
            for d in new
        ],
        batch_size=1000,
        # A concurrent sweep that raised the same review first wins: no error here.
        ignore_conflicts=True,
    )
    keys = {d.key for d in new}
    # Only the rows this sweep inserted carry its token; the winner of a race audits its own.
    created = [
        r
        for r in Review.objects.filter(sweep_token=token)
        if (r.kind, r.offender_id or 0, r.basis) in keys
    ]
    audit.created_many(actor, created)
    return created


def _resolve(actor: Actor) -> Counter[str]:
    """Close as resolved the open reviews whose fact no longer holds on the day."""
    as_of = actor.as_of
    kinds = (ReviewKind.NO_ARREST, ReviewKind.LONG_CUSTODY, ReviewKind.RELEASE_DATE_CHASE)
    open_reviews = list(
        Review.objects.filter(
            status=ReviewStatus.OPEN, kind__in=kinds, raised_on__lte=as_of
        ).filter(people_q(actor, prefix="offender__"))
    )
    if not open_reviews:
        return Counter()
    custody_ids = {
        r.detail.get("custody_id") for r in open_reviews if r.kind != ReviewKind.NO_ARREST
    }
    custody = {
        c["pk"]: c
        for c in CustodyEpisode.objects.filter(pk__in=custody_ids - {None}).values(
            "pk", "expected_release_on", "released_on"
        )
    }
    quiet_people = {r.offender_id for r in open_reviews if r.kind == ReviewKind.NO_ARREST}
    last_reset = dict(
        OffendingEvent.objects.filter(
            offender_id__in=quiet_people, kind__in=rules.RESETS, occurred_on__lte=as_of
        )
        .values("offender_id")
        .annotate(last=Max("occurred_on"))
        .values_list("offender_id", "last")
    )
    done: Counter[str] = Counter()
    for review in open_reviews:
        reason = _no_longer(review, custody, last_reset, as_of)
        if reason:
            review.status = ReviewStatus.CLOSED
            review.outcome = ReviewOutcome.RESOLVED
            review.outcome_reason = reason
            review.closed_on = as_of
            review.save(update_fields=["status", "outcome", "outcome_reason", "closed_on"])
            audit.altered(
                actor,
                AuditAction.UPDATE,
                review,
                changed=["status", "outcome", "outcome_reason", "closed_on"],
            )
            done[review.kind] += 1
    return done


def _no_longer(
    review: Review,
    custody: dict[int, Any],
    last_reset: dict[int, dt.date],
    as_of: dt.date,
) -> str:
    if review.kind == ReviewKind.NO_ARREST:
        since = dt.date.fromisoformat(review.detail["quiet_from"])
        last = last_reset.get(review.offender_id or 0)
        if last is not None and last >= since:
            return f"An arrest or intelligence report on {last.isoformat()} ended the quiet period"
        return ""
    spell = custody.get(review.detail.get("custody_id") or 0)
    if spell is None:
        return ""
    released = spell["released_on"]
    if released is not None and released <= as_of:
        return f"Released on {released.isoformat()}"
    if review.kind == ReviewKind.RELEASE_DATE_CHASE and spell["expected_release_on"]:
        return f"Expected release date recorded: {spell['expected_release_on'].isoformat()}"
    return ""
