"""Writes for selection: matrix drafts and their adoption, risk assessments, runs.

Every write checks the policy (ACCESS.md "selection scores, panel decisions, reviews":
the PPO manager writes; others read), validates, saves and audits in one transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction, Scheme
from access.policy import RecordKind, Scope, Write, as_actor, grant, people
from offenders.selectors import offender_get

from .models import (
    Criterion,
    CriterionKind,
    MatrixStatus,
    MatrixVersion,
    RiskAssessment,
    RunEntry,
    SelectionRun,
)
from .scoring import considered, score_pool

# Criteria whose measure has no upper bound: with a positive weight, any threshold can be
# reached. The others are at most 1 (a flag) or 10 (likelihood: 100% / 10).
UNBOUNDED = frozenset(
    {
        CriterionKind.EVENTS,
        CriterionKind.HARM,
        CriterionKind.PRIORITY_CRIME,
        CriterionKind.POSITIVE_TESTS,
    }
)
LIKELIHOOD_MAX = Decimal(10)


def may_change_selection(actor: Any) -> bool:
    """Selection is written by those who write selection records for everyone in the
    scheme: the PPO manager (ACCESS.md)."""
    return (
        grant(actor, RecordKind.SELECTION).write is not Write.NONE and actor.scope is Scope.EVERYONE
    )


def _manager(user: Any) -> Any:
    actor = as_actor(user)
    if not may_change_selection(actor):
        raise NotPermitted("Only the PPO manager runs selection and changes the matrix")
    return actor


def highest_possible_score(criteria: list[Criterion]) -> Decimal | None:
    """The most anyone could score with these criteria, or None if there is no limit."""
    total = Decimal(0)
    for c in criteria:
        if c.weight <= 0:
            continue
        if c.kind in UNBOUNDED:
            return None
        total += c.weight * (LIKELIHOOD_MAX if c.kind == CriterionKind.LIKELIHOOD else 1)
    return total


def check_matrix(version: MatrixVersion, criteria: list[Criterion]) -> None:
    """What makes a matrix unusable, as errors a manager can act on."""
    if not criteria:
        raise ApplicationError("A matrix needs at least one criterion")
    if all(c.weight == 0 for c in criteria):
        raise ApplicationError("Give at least one criterion a weight above 0")
    highest = highest_possible_score(criteria)
    if highest is not None and version.threshold > highest:
        raise ApplicationError(
            f"The threshold ({version.threshold}) is above the highest score anyone could "
            f"get with these criteria ({highest}): nobody would be considered",
            field_errors={"threshold": ["The threshold is above every possible score"]},
        )


def matrix_draft_create(*, user: Any, from_version_id: int | None = None) -> MatrixVersion:
    """A new draft, a copy of `from_version_id` (by default the adopted version)."""
    actor = _manager(user)
    with transaction.atomic():
        source = (
            MatrixVersion.objects.filter(pk=from_version_id).first()
            if from_version_id
            else MatrixVersion.objects.filter(status=MatrixStatus.ADOPTED).first()
        )
        if from_version_id and source is None:
            raise ApplicationError("There is no such matrix version to copy")
        number = (MatrixVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        draft = MatrixVersion.objects.create(
            number=number,
            status=MatrixStatus.DRAFT,
            description=f"Draft copied from version {source.number}" if source else "",
            window_months=source.window_months if source else 12,
            recent_months=source.recent_months if source else 3,
            release_window_days=source.release_window_days if source else 90,
            threshold=source.threshold if source else Decimal("10"),
            created_by=actor.user,
        )
        if source is not None:
            for c in source.criteria.all():
                Criterion.objects.create(
                    version=draft,
                    kind=c.kind,
                    event_kind=c.event_kind,
                    category_id=c.category_id,
                    weight=c.weight,
                )
        audit.altered(actor, AuditAction.CREATE, draft)
    return draft


def _decimal(value: Any, what: str, field: str) -> Decimal:
    """A weight or threshold: a number from 0 to under 10,000, to the penny. Errors name
    the `field` they belong to (e.g. "weight_12"), for the form to show them there."""

    def problem(text: str) -> ApplicationError:
        return ApplicationError(text, field_errors={field: [text]})

    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise problem(f"Enter {what} as a number, like 2 or 1.5") from None
    if not number.is_finite():
        raise problem(f"Enter {what} as a number, like 2 or 1.5")
    if number < 0:
        raise problem(f"{what[0].upper()}{what[1:]} cannot be negative")
    if number >= Decimal("10000"):
        raise problem(f"{what[0].upper()}{what[1:]} must be less than 10,000")
    return number.quantize(Decimal("0.01"))


def matrix_draft_update(
    *,
    user: Any,
    version_id: int,
    weights: dict[int, Any],
    settings: dict[str, Any] | None = None,
    add: list[dict[str, Any]] | None = None,
    remove: list[int] | None = None,
) -> MatrixVersion:
    """Change a draft: weights by criterion id, its settings (threshold, windows), and
    criteria added or removed. All or nothing; an adopted version is never changed."""
    actor = _manager(user)
    with transaction.atomic():
        version = MatrixVersion.objects.select_for_update().filter(pk=version_id).first()
        if version is None:
            raise ApplicationError("There is no such matrix version")
        if not version.editable:
            raise ApplicationError(
                "This version has been adopted and cannot be changed: make a new draft"
            )
        criteria = {c.pk: c for c in version.criteria.select_related("category")}
        for pk in remove or []:
            if pk in criteria:
                criteria.pop(pk).delete()
        for pk, value in weights.items():
            criterion = criteria.get(int(pk))
            if criterion is None:
                raise ApplicationError("A weight was given for a criterion not in this draft")
            criterion.weight = _decimal(
                value, f"the weight of “{criterion.label}”", f"weight_{criterion.pk}"
            )
        for spec in add or []:
            criterion = Criterion(
                version=version,
                kind=spec.get("kind", ""),
                event_kind=spec.get("event_kind", "") or "",
                category_id=spec.get("category_id"),
                weight=_decimal(spec.get("weight", ""), "the new criterion's weight", "add_weight"),
            )
            criterion.full_clean(exclude=["version"], validate_unique=False)
            if any(
                (c.kind, c.event_kind, c.category_id)
                == (criterion.kind, criterion.event_kind, criterion.category_id)
                for c in criteria.values()
            ):
                message = "This draft already has that criterion"
                raise ApplicationError(message, field_errors={"add_kind": [message]})
            criteria[id(criterion)] = criterion
        for name, value in (settings or {}).items():
            if name == "threshold":
                version.threshold = _decimal(value, "the threshold", "threshold")
            elif name in ("window_months", "recent_months", "release_window_days"):
                setattr(version, name, value)
            elif name == "description":
                version.description = str(value)
            else:
                raise ApplicationError(f"Unknown setting: {name}")
        version.full_clean()
        check_matrix(version, list(criteria.values()))
        version.save()
        for criterion in criteria.values():
            criterion.save()
        audit.altered(
            actor,
            AuditAction.UPDATE,
            version,
            changed=[
                *(settings or {}).keys(),
                *(f"weight:{pk}" for pk in weights),
                *(f"removed:{pk}" for pk in remove or []),
                *(f"added:{spec.get('kind', '')}" for spec in add or []),
            ],
        )
    return version


def matrix_adopt(*, user: Any, version_id: int) -> MatrixVersion:
    """Adopt a draft: it becomes the matrix every run uses; the one before is retired."""
    actor = _manager(user)
    with transaction.atomic():
        version = MatrixVersion.objects.select_for_update().filter(pk=version_id).first()
        if version is None or not version.editable:
            raise ApplicationError("Only a draft can be adopted")
        check_matrix(version, list(version.criteria.all()))
        for previous in MatrixVersion.objects.select_for_update().filter(
            status=MatrixStatus.ADOPTED
        ):
            previous.status = MatrixStatus.RETIRED
            previous.save(update_fields=["status"])
        version.status = MatrixStatus.ADOPTED
        version.adopted_by = actor.user
        version.adopted_at = timezone.now()
        version.save()
        audit.altered(actor, AuditAction.UPDATE, version, changed=["status"])
    return version


def adopted_version() -> MatrixVersion:
    version = MatrixVersion.objects.filter(status=MatrixStatus.ADOPTED).first()
    if version is None:
        raise ApplicationError("No selection matrix has been adopted: adopt one first")
    return version


def selection_run(
    *, user: Any, as_of: dt.date | None = None, version_id: int | None = None
) -> SelectionRun:
    """Score the pool with the adopted matrix (or a given adopted or retired version) and
    save the ranking: those at or above the threshold, and everyone on a tier today."""
    actor = _manager(user)
    as_of = as_of or actor.as_of
    with transaction.atomic():
        version = (
            MatrixVersion.objects.filter(pk=version_id).first() if version_id else None
        ) or adopted_version()
        if version.editable:
            raise ApplicationError("A run uses an adopted matrix: try a draft with “What if”")
        scores = score_pool(people=people(actor), version=version, as_of=as_of)
        run = SelectionRun.objects.create(
            version=version,
            as_of=as_of,
            run_by=actor.user,
            pool_size=len(scores),
            capacity=Scheme.current().capacity_max,
        )
        listed = considered(scores)
        RunEntry.objects.bulk_create(
            RunEntry(
                run=run,
                offender_id=s.offender_id,
                rank=rank,
                score=s.score,
                above_threshold=s.above_threshold,
                tier=s.tier,
                in_custody=s.in_custody,
                due_out_on=s.due_out_on,
                explanation=[part.as_json() for part in s.parts],
            )
            for rank, s in enumerate(listed, start=1)
        )
        audit.record(
            actor,
            AuditAction.CREATE,
            record_type="selection.selectionrun",
            records=[run.pk],
            offenders=[s.offender_id for s in listed],
            detail={"version": version.number, "as_of": str(as_of), "pool": len(scores)},
        )
    return run


def risk_assessment_record(
    *,
    user: Any,
    offender_id: int,
    assessed_on: dt.date,
    tool: str,
    likelihood_score: int,
    rosh_level: str,
) -> RiskAssessment:
    actor = as_actor(user)
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        if grant(actor, RecordKind.SELECTION).write is Write.NONE:
            raise NotPermitted("Your role cannot record risk assessments")
        if actor.agency_id is None:
            raise NotPermitted("You have no current agency, so you cannot record this")
        assessment = RiskAssessment(
            offender=offender,
            assessed_on=assessed_on,
            tool=tool,
            likelihood_score=likelihood_score,
            rosh_level=rosh_level,
            agency_id=actor.agency_id,
            assessed_by=actor.user,
        )
        assessment.full_clean()
        assessment.save()
        audit.altered(actor, AuditAction.CREATE, assessment)
    return assessment
