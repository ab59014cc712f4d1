"""Every write to a person's needs, action plan and referrals: checked against the policy,
validated, saved and audited in one transaction, or nothing at all.

ACCESS.md "pathway needs and action plan": the PPO manager, key workers and YOT write
them; police and prison staff read them; a partner reads them all, writes actions its own
agency owns and needs only on the pathways it serves. The conference pages (issue 9)
record needs and actions through these same functions.

Actions and referrals carry a `version` (optimistic concurrency): a save names the
version it was read at, and a save of an older one is refused with who changed the
record since, rather than silently overwriting their change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import Agency, AuditAction, Membership
from access.policy import Actor, RecordKind, as_actor, can_write, may_write_kind
from offenders.selectors import offender_get

from .models import (
    CLOSED_REFERRAL_STATUSES,
    OPEN_ACTION_STATUSES,
    Action,
    ActionStatus,
    Need,
    NeedLevel,
    Pathway,
    Provider,
    Referral,
    ReferralStatus,
)

ACTION_CHANGES = frozenset(
    {"status", "outcome", "due_on", "description", "owner_agency_id", "owner_id"}
)
FINISHED_STATUSES = frozenset({ActionStatus.DONE, ActionStatus.NOT_ACHIEVED})
TEXT_MAX = 2000  # Action.description, Action.outcome, Need.note, Referral.outcome/reason


def _refuse(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, field_errors={field: [message]})


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def person_name_of(user: Any) -> str:
    if user is None:
        return "someone"
    return str(user.get_full_name() or user.username)


def _actor(user: Any, as_of: dt.date | None) -> Actor:
    actor = as_actor(user, as_of)
    if actor.user is None and not actor.system:
        raise NotPermitted("Sign in to record this")
    return actor


def _pathway(pathway_id: Any) -> Pathway:
    try:
        pk = int(pathway_id)
    except (TypeError, ValueError):
        raise _refuse("Choose a pathway", "pathway") from None
    found = Pathway.objects.filter(pk=pk).first()
    if found is None:
        raise _refuse("Choose a pathway", "pathway")
    return found


def _text(value: Any, *, field: str, required: str = "", what: str = "") -> str:
    text = str(value or "").strip()
    if required and not text:
        raise _refuse(required, field)
    if len(text) > TEXT_MAX:
        raise _refuse(f"The {what or field} must be {TEXT_MAX:,} characters or fewer", field)
    return text


# --- needs ------------------------------------------------------------------------------------


def may_set_need(actor: Actor, offender_id: int, pathway_id: int) -> bool:
    """need_set's rule, so a "Set need" form is offered only where it would be accepted."""
    return can_write(
        actor,
        RecordKind.PATHWAYS,
        offender_id,
        record_agency_id=actor.agency_id,
        pathway_id=pathway_id,
    )


def need_set(
    *,
    user: Any,
    offender_id: int,
    pathway_id: int,
    level: str,
    note: str = "",
    as_of: dt.date | None = None,
) -> Need:
    """Record a person's need on one pathway as assessed on `as_of` (default today): a
    new row of the history, never an edit, so each conference's level can be read back
    (distance travelled, 000 §5.1)."""
    actor = _actor(user, as_of)
    if level not in NeedLevel.values:
        raise _refuse("Choose the level of need", "level")
    note = _text(note, field="note")
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        pathway = _pathway(pathway_id)
        if not may_write_kind(actor, RecordKind.PATHWAYS, record_agency_id=actor.agency_id):
            raise NotPermitted("Your role cannot record needs for this person")
        # ACCESS.md: a partner records needs only on the pathways its agency serves.
        if not may_set_need(actor, offender.pk, pathway.pk):
            raise _refuse(
                f"Your agency does not serve the {pathway.name} pathway, so you cannot "
                "record a need on it",
                "pathway",
            )
        need = Need(
            offender=offender,
            pathway=pathway,
            level=level,
            note=note,
            set_on=actor.as_of,
            set_by=actor.user,
            set_by_agency_id=actor.agency_id,
        )
        need.full_clean()
        need.save()
        audit.altered(actor, AuditAction.CREATE, need, changed=["level", "note"])
    return need


# --- actions ----------------------------------------------------------------------------------


def _owner_agency(owner_agency_id: Any) -> Agency:
    if owner_agency_id in (None, ""):
        raise _refuse("Choose the agency that owns the action", "owner_agency")
    try:
        pk = int(owner_agency_id)
    except (TypeError, ValueError):
        raise _refuse("Choose the agency that owns the action", "owner_agency") from None
    agency = Agency.objects.filter(pk=pk, active=True).first()
    if agency is None:
        raise _refuse("Choose the agency that owns the action", "owner_agency")
    return agency


def _owner(owner_id: Any, agency: Agency, day: dt.date) -> Any:
    """The owner person, who must be an active member of the owner agency on `day`."""
    if owner_id in (None, ""):
        return None
    try:
        pk = int(owner_id)
    except (TypeError, ValueError):
        raise _refuse("Choose the person who owns the action", "owner") from None
    membership = (
        Membership.objects.active_on(day)
        .filter(user_id=pk, agency=agency, user__is_active=True)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise _refuse(
            f"The owner must be a current member of {agency.name}: choose someone from "
            "that agency, or leave the owner empty",
            "owner",
        )
    return membership.user


def _due_on(due_on: Any, *, today: dt.date, not_before: dt.date | None) -> dt.date:
    if not isinstance(due_on, dt.date):
        raise _refuse("Enter the date the action is due", "due_on")
    if not_before is not None and due_on < not_before:
        raise _refuse(
            f"The due date must be on or after the conference, {long_date(not_before)}", "due_on"
        )
    if due_on < today:
        raise _refuse("The due date cannot be in the past", "due_on")
    return due_on


def may_own_action(actor: Actor, owner_agency_id: int | None) -> bool:
    """The record-kind half of action_create / action_update: a partner only actions its
    own agency owns (Write.OWN_AGENCY)."""
    return may_write_kind(actor, RecordKind.PATHWAYS, record_agency_id=owner_agency_id)


def action_create(
    *,
    user: Any,
    offender_id: int,
    pathway_id: int,
    description: str,
    owner_agency_id: int | None,
    owner_id: int | None = None,
    due_on: dt.date | None,
    not_before: dt.date | None = None,
    as_of: dt.date | None = None,
) -> Action:
    """Add an action to a person's plan. `not_before` is the conference it is agreed at:
    an action cannot fall due before the meeting that set it."""
    actor = _actor(user, as_of)
    description = _text(
        description, field="description", required="Describe the action", what="description"
    )
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        if not may_write_kind(actor, RecordKind.PATHWAYS, record_agency_id=actor.agency_id):
            raise NotPermitted("Your role cannot add actions for this person")
        pathway = _pathway(pathway_id)
        agency = _owner_agency(owner_agency_id)
        if not may_own_action(actor, agency.pk):
            raise _refuse("You can add only actions that your own agency owns", "owner_agency")
        owner = _owner(owner_id, agency, actor.as_of)
        due = _due_on(due_on, today=actor.as_of, not_before=not_before)
        action = Action(
            offender=offender,
            pathway=pathway,
            description=description,
            owner_agency=agency,
            owner=owner,
            due_on=due,
            created_on=actor.as_of,
            created_by=actor.user,
            updated_at=timezone.now(),
            updated_by=actor.user,
        )
        action.full_clean()
        action.save()
        audit.altered(
            actor,
            AuditAction.CREATE,
            action,
            changed=["pathway", "description", "owner_agency", "owner", "due_on"],
        )
    return action


class StaleAction(ApplicationError):
    """The action changed since the form was opened: nothing was saved."""

    def __init__(self, current: Action):
        when = timezone.localtime(current.updated_at)
        by = person_name_of(current.updated_by)
        super().__init__(
            f"This action was changed by {by} on {long_date(when.date())} at "
            f"{when:%H:%M} since you opened it. Nothing was saved: check its current "
            "values and make your change again."
        )
        self.current = current


def may_update_action(actor: Actor, action: Action) -> bool:
    """action_update's rule for this action, for offering "Update" (the person must also
    be writable: `can_write`)."""
    return can_write(
        actor, RecordKind.PATHWAYS, action.offender_id, record_agency_id=action.owner_agency_id
    )


def action_update(
    *, user: Any, action_id: int, version: int, as_of: dt.date | None = None, **changes: Any
) -> Action:
    """Change an action read at `version`. A status of done or not achieved needs an
    outcome and sets `finished_on`; reopening clears it."""
    actor = _actor(user, as_of)
    unknown = set(changes) - ACTION_CHANGES
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        action = (
            # Lock the action's row only: PostgreSQL refuses FOR UPDATE on the nullable
            # side of an outer join (`updated_by` may be empty).
            Action.objects.select_for_update(of=("self",))
            .select_related("updated_by", "owner_agency")
            .filter(pk=action_id)
            .first()
        )
        if action is None:
            raise ApplicationError("There is no such action")
        offender_get(user=actor, pk=action.offender_id, write=True)
        if not may_update_action(actor, action):
            raise NotPermitted("You can update only actions that your own agency owns")
        if int(version) != action.version:
            raise StaleAction(action)
        changed: list[str] = []

        if "description" in changes:
            description = _text(
                changes["description"],
                field="description",
                required="Describe the action",
                what="description",
            )
            if description != action.description:
                action.description = description
                changed.append("description")
        agency = action.owner_agency
        if "owner_agency_id" in changes and changes["owner_agency_id"] != action.owner_agency_id:
            agency = _owner_agency(changes["owner_agency_id"])
            if agency.pk != action.owner_agency_id:
                if not may_own_action(actor, agency.pk):
                    raise _refuse("You cannot give an action to another agency", "owner_agency")
                action.owner_agency = agency
                changed.append("owner_agency")
        if "owner_id" in changes or "owner_agency" in changed:
            # A new owner agency without a named owner: the action is the agency's.
            kept = action.owner_id if "owner_agency" not in changed else None
            wanted = changes.get("owner_id", kept)
            owner = _owner(wanted, agency, actor.as_of)
            if (owner.pk if owner else None) != action.owner_id:
                action.owner = owner
                changed.append("owner")
        if "due_on" in changes and changes["due_on"] != action.due_on:
            # A due date already past may stay; a new one cannot be in the past.
            action.due_on = _due_on(changes["due_on"], today=actor.as_of, not_before=None)
            changed.append("due_on")
        if "outcome" in changes:
            outcome = _text(changes["outcome"], field="outcome")
            if outcome != action.outcome:
                action.outcome = outcome
                changed.append("outcome")
        if "status" in changes and changes["status"] != action.status:
            status = changes["status"]
            if status not in ActionStatus.values:
                raise _refuse("Choose the status of the action", "status")
            action.status = status
            changed.append("status")
            if status in FINISHED_STATUSES:
                action.finished_on = actor.as_of
            elif status in OPEN_ACTION_STATUSES:
                action.finished_on = None
            changed.append("finished_on")
        if action.status in FINISHED_STATUSES and not action.outcome:
            raise _refuse(
                "Enter the outcome of an action that is "
                f"{ActionStatus(action.status).label.lower()}",
                "outcome",
            )
        if not changed:
            return action
        action.version += 1
        action.updated_at = timezone.now()
        action.updated_by = actor.user
        action.full_clean()
        action.save()
        audit.altered(actor, AuditAction.UPDATE, action, changed=changed)
    return action


# --- referrals --------------------------------------------------------------------------------


def may_refer(actor: Actor, offender_id: int, provider: Provider) -> bool:
    """referral_create's rule: the person writable, and the referral's agency (the
    provider's) one the actor may write for (a partner: its own)."""
    return can_write(actor, RecordKind.PATHWAYS, offender_id, record_agency_id=provider.agency_id)


def referral_create(
    *,
    user: Any,
    offender_id: int,
    provider_id: int,
    pathway_id: int,
    opened_on: dt.date | None = None,
    reason: str = "",
) -> Referral:
    """Refer a person to a provider on one of the pathways it serves. The referral's
    agency is the provider's: an open referral is what gives that agency's staff the
    person (ACCESS.md "Who is in scope", Partner)."""
    actor = _actor(user, None)
    reason = _text(reason, field="reason")
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        try:
            provider = Provider.objects.select_related("agency").get(pk=int(provider_id))
        except (TypeError, ValueError, Provider.DoesNotExist):
            raise _refuse("Choose a provider", "provider") from None
        pathway = _pathway(pathway_id)
        if not provider.active:
            raise _refuse(f"{provider.name} no longer takes referrals", "provider")
        if not provider.pathways.filter(pk=pathway.pk).exists():
            raise _refuse(
                f"{provider.name} does not serve the {pathway.name} pathway: choose a "
                "pathway it serves, or another provider",
                "pathway",
            )
        if not provider.agency.active:
            raise _refuse(f"{provider.agency.name} no longer takes referrals", "provider")
        if not may_refer(actor, offender.pk, provider):
            raise NotPermitted("You can refer people only to your own agency's providers")
        day = opened_on or actor.as_of
        already = (
            Referral.objects.open_on(day)
            .filter(offender=offender, provider=provider, pathway=pathway)
            .exists()
        )
        if already:
            raise _refuse(
                f"This person already has an open referral to {provider.name} on the "
                f"{pathway.name} pathway",
                "provider",
            )
        referral = Referral(
            offender=offender,
            agency=provider.agency,
            provider=provider,
            pathway=pathway,
            opened_on=day,
            reason=reason,
            referred_by=actor.user,
        )
        referral.full_clean()
        referral.save()
        audit.altered(
            actor,
            AuditAction.CREATE,
            referral,
            changed=["provider", "agency", "pathway", "opened_on", "reason"],
        )
    return referral


class StaleReferral(ApplicationError):
    def __init__(self, current: Referral):
        super().__init__(
            "This referral was changed by someone else since you opened it. Nothing was "
            "saved: check its current status and make your change again."
        )
        self.current = current


def may_update_referral(actor: Actor, referral: Referral) -> bool:
    return can_write(
        actor, RecordKind.PATHWAYS, referral.offender_id, record_agency_id=referral.agency_id
    )


def _check_clock_day(
    referral: Referral, day: dt.date, *, field: str, what: str, as_of: dt.date
) -> None:
    if day > as_of:
        raise _refuse(f"The date of the {what} cannot be in the future", field)
    if day < referral.opened_on:
        raise _refuse(
            f"The date of the {what} cannot be before the referral, on "
            f"{long_date(referral.opened_on)}",
            field,
        )
    if referral.closed_on is not None and day > referral.closed_on:
        raise _refuse(
            f"The date of the {what} cannot be after the referral closed, on "
            f"{long_date(referral.closed_on)}",
            field,
        )


def referral_update(
    *,
    user: Any,
    referral_id: int,
    version: int,
    status: str | None = None,
    outcome: str = "",
    closed_on: dt.date | None = None,
    assessed_on: dt.date | None = None,
    first_appointment_on: dt.date | None = None,
) -> Referral:
    """Move a referral on (accepted, declined, completed, withdrawn). A closing status
    needs an outcome and sets `closed_on` (default today), which ends the agency's
    access (after its 3 months of reading, ACCESS.md). A closed referral stays closed:
    a new referral is made instead.

    Treatment on a clock (001 §3.2c, pathways.treatment): `assessed_on` and
    `first_appointment_on` record (or correct) the days the person was assessed and first
    seen; None leaves a date as it is. Neither may be before the referral, in the future,
    or after the referral closed."""
    actor = _actor(user, None)
    outcome = _text(outcome, field="outcome")
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("offender")
            .filter(pk=referral_id)
            .first()
        )
        if referral is None:
            raise ApplicationError("There is no such referral")
        offender_get(user=actor, pk=referral.offender_id, write=True)
        if not may_update_referral(actor, referral):
            raise NotPermitted("You can update only referrals to your own agency")
        if int(version) != referral.version:
            raise StaleReferral(referral)
        if referral.status in CLOSED_REFERRAL_STATUSES or referral.closed_on is not None:
            raise ApplicationError("This referral is closed: make a new referral instead")
        changed: list[str] = []
        if status is not None and status != referral.status:
            if status not in ReferralStatus.values:
                raise _refuse("Choose the status of the referral", "status")
            referral.status = status
            changed.append("status")
        if outcome and outcome != referral.outcome:
            referral.outcome = outcome
            changed.append("outcome")
        if referral.status in CLOSED_REFERRAL_STATUSES:
            if not referral.outcome:
                raise _refuse("Enter the outcome of the referral", "outcome")
            day = closed_on or actor.as_of
            if day > actor.as_of:
                raise _refuse("The closing date cannot be in the future", "closed_on")
            referral.closed_on = day
            changed.append("closed_on")
        elif closed_on is not None:
            raise _refuse("Only a declined, completed or withdrawn referral closes", "closed_on")
        for name, recorded, what in (
            ("assessed_on", assessed_on, "assessment"),
            ("first_appointment_on", first_appointment_on, "first appointment"),
        ):
            if recorded is None or recorded == getattr(referral, name):
                continue
            _check_clock_day(referral, recorded, field=name, what=what, as_of=actor.as_of)
            setattr(referral, name, recorded)
            changed.append(name)
        if not changed:
            return referral
        referral.version += 1
        referral.full_clean()
        referral.save()
        audit.altered(actor, AuditAction.UPDATE, referral, changed=changed)
    return referral
